"""Razorpay: `X-Razorpay-Signature` = hex HMAC-SHA256 of the raw body, keyed with the webhook secret.

https://razorpay.com/docs/webhooks/validate-test/; the official SDK's
`razorpay.Utility.verify_webhook_signature` does the same. The key is the secret chosen when the webhook
was set up in the Dashboard, as text (not the API key secret).

Event id, from signed content only: `<entity id>:<event>:<created_at>` (e.g.
`pay_DESp9bgForNoUd:payment.captured:1691735748`), all three read from the signed body. Razorpay's own
event id travels only in the `x-razorpay-event-id` header, which the signature does NOT cover, so it is
not used at all: whoever captured one delivery could otherwise replay it under fresh ids, each stored as
a new event. Trade-off, documented: a retry of a delivery carries the same body, so it dedupes; two
genuinely different events of the same kind about the same entity within the same second would share an
id (the second is a 409 and is kept in quarantine, README "Quarantine"); Razorpay sends one event per
state change of an entity, so this is not expected. A body without the entity's id is a 400
(`invalid_event_id`, field `payload.<entity>.entity.id`). Razorpay retries a non-2xx delivery for 24
hours, then disables the webhook and e-mails the alert address.

Events: type `event`, time `created_at` (epoch seconds). The money facts (`FACTS`, every row with its
Razorpay link in docs/providers/razorpay.md): a payment's capture by `payment.captured` (the payment
entity's `amount`: Razorpay captures the authorized amount whole), a refund by `refund.processed` (the
refund entity's own `amount`), a dispute by `payment.dispute.created` (withdrawn) and
`payment.dispute.won`/`.lost`; a dispute whose `phase` is `retrieval` is an inquiry, `pending` in every
kind. Authorizations, failures, created (pending) refunds, dispute reviews, and the order/invoice/payment-link/subscription kinds that repeat a
captured payment are known facts that move no money (lifecycle queue). Amounts are in minor units of the
entity named in the row; a kind not in `FACTS` is `other` (parked, alarmed). Razorpay objects carry no
version: `object_version` is the event's `created_at` in microseconds.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import money
from providers import ProviderEvent, WebhookRequest, common, spec
from providers.facts import Fact, microseconds
from webhook_signature import SignatureError  # noqa: F401 - what verify raises, as module.SignatureError

HEADER = "x-razorpay-signature"
# Sent by Razorpay but not signed: never read (see above).
EVENT_ID_HEADER = "x-razorpay-event-id"
# Razorpay's amounts are "in the smallest currency sub-unit" (ISO 4217 minor units; three-decimal
# currencies in thousandths): no override.
EXPONENT_OVERRIDES: Mapping[str, int] = money.provider_exponents("razorpay")  # provider_exponents/razorpay.json

_PAYMENT = "payload.payment.entity"
_REFUND = "payload.refund.entity"
_DISPUTE = "payload.dispute.entity"


def _payment(outcome: str, transaction_type: str = "payment") -> Fact:
    return Fact(transaction_type, outcome, f"{_PAYMENT}.amount", f"{_PAYMENT}.id")


def _refund(outcome: str) -> Fact:
    return Fact("refund", outcome, f"{_REFUND}.amount", f"{_REFUND}.id", f"{_REFUND}.payment_id")


def _dispute(outcome: str, transaction_type: str = "dispute") -> Fact:
    return Fact(transaction_type, outcome, f"{_DISPUTE}.amount", f"{_DISPUTE}.id", f"{_DISPUTE}.payment_id")


def _entity(name: str, outcome: str) -> Fact:
    """A kind about another entity (order, invoice, link, subscription) that repeats a payment's fact."""
    return Fact("other", outcome, f"{_PAYMENT}.amount", f"payload.{name}.entity.id", f"{_PAYMENT}.id")


# kind -> fact (https://razorpay.com/docs/webhooks/payloads/ and the per-product event lists).
FACTS: Mapping[str, Fact] = {
    "payment.authorized": _payment("authorized"),
    "payment.captured": _payment("succeeded"),
    "payment.failed": _payment("failed"),
    "payment.pending": _payment("pending"),
    "refund.created": _refund("pending"),
    "refund.speed_changed": _refund("pending"),
    "refund.processed": _refund("succeeded"),
    "refund.failed": _refund("failed"),
    # Every dispute kind is `pending` when the dispute's phase is `retrieval` (an inquiry; see read).
    "payment.dispute.created": _dispute("opened"),
    "payment.dispute.under_review": _dispute("pending"),
    "payment.dispute.action_required": _dispute("pending"),
    "payment.dispute.won": _dispute("won"),
    "payment.dispute.lost": _dispute("lost"),
    "payment.dispute.closed": _dispute("canceled", "other"),  # after won/lost, which carry the fact
    "order.paid": _entity("order", "succeeded"),
    "invoice.paid": _entity("invoice", "succeeded"),
    "invoice.partially_paid": _entity("invoice", "succeeded"),
    "invoice.expired": _entity("invoice", "canceled"),
    "payment_link.paid": _entity("payment_link", "succeeded"),
    "payment_link.partially_paid": _entity("payment_link", "succeeded"),
    "payment_link.expired": _entity("payment_link", "canceled"),
    "payment_link.cancelled": _entity("payment_link", "canceled"),
    "subscription.authenticated": _entity("subscription", "pending"),
    "subscription.activated": _entity("subscription", "pending"),
    "subscription.charged": _entity("subscription", "succeeded"),  # its payment: payment.captured
    "subscription.pending": _entity("subscription", "pending"),
    "subscription.halted": _entity("subscription", "failed"),
    "subscription.paused": _entity("subscription", "pending"),
    "subscription.resumed": _entity("subscription", "pending"),
    "subscription.updated": _entity("subscription", "pending"),
    "subscription.cancelled": _entity("subscription", "canceled"),
    "subscription.completed": _entity("subscription", "succeeded"),
}
# Kept for callers of the old names: the transaction type of each kind.
DEFAULT_MAPPING: Mapping[str, str] = {kind: fact.transaction_type for kind, fact in FACTS.items()}


def parse_secret(text: str, options: Mapping[str, Any]) -> bytes:
    return common.text_secret(text, rule="a Razorpay webhook secret must be 16 or more random characters")


def verify(request: WebhookRequest, keys: Sequence[bytes]) -> None:
    common.verify_body_hex(request.headers, request.body, keys, header=HEADER, key_name="webhook secret")


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _entity_id(body: dict[str, Any], name: str) -> tuple[Any, str]:
    """(id, field) of the entity the event is about: `payload.<name>.entity.id`, else the first entity of
    the signed `contains` list that has one (`payment.downtime.*` events carry `payload["payment.downtime"]`)."""
    payload = body.get("payload")
    contains = body.get("contains")
    names = [name, *(c for c in contains if isinstance(c, str))] if isinstance(contains, list) else [name]
    for candidate in names:
        part = payload.get(candidate) if isinstance(payload, dict) else None
        entity = part.get("entity") if isinstance(part, dict) else None
        if isinstance(entity, dict) and "id" in entity:
            return entity["id"], f"payload.{candidate}.entity.id"
    return None, f"payload.{name}.entity.id"


def read(request: WebhookRequest) -> ProviderEvent:
    body = common.parse_object(request.text)
    event_type = common.event_type(body.get("event"), "event")
    timestamp = common.epoch_seconds(body.get("created_at"), "created_at")
    fact = FACTS.get(event_type)
    amount, currency, outcome = None, None, None
    if fact is not None:
        outcome = fact.outcome
        if fact.transaction_type == "dispute" and common.get(body, f"{_DISPUTE}.phase") == "retrieval":
            outcome = "pending"  # a retrieval request (inquiry): nothing withdrawn, nothing reinstated
        if event_type == "payment.dispute.closed":
            outcome = {"won": "won", "lost": "lost"}.get(str(common.get(body, f"{_DISPUTE}.status")), "canceled")
        entity = fact.amount.rsplit(".", 1)[0] if fact.amount else None
        if entity and isinstance(common.get(body, entity), dict):
            amount, currency = common.amount_and_currency(
                common.get(body, fact.amount),
                common.get(body, f"{entity}.currency"),
                amount_field=fact.amount,
                currency_field=f"{entity}.currency",
            )
    name = "dispute" if event_type.startswith("payment.dispute.") else event_type.split(".", 1)[0]
    entity_id, entity_field = _entity_id(body, name)
    event_id = common.joined_id(
        [(entity_id, entity_field), (event_type, "event"), (str(body["created_at"]), "created_at")]
    )
    return ProviderEvent(
        provider_event_id=event_id,
        provider_event_type=event_type,
        timestamp=timestamp,
        payload=request.text,
        amount=amount,
        amount_unit="minor" if amount is not None else None,
        currency=currency,
        outcome=outcome,
        object_id=_text(common.get(body, fact.object_id)) if fact and fact.object_id else None,
        parent_object_id=_text(common.get(body, fact.parent_id)) if fact and fact.parent_id else None,
        object_version=microseconds(timestamp),
    )


def receive(
    request: WebhookRequest, keys: Sequence[bytes], options: Mapping[str, Any], now: int
) -> list[ProviderEvent]:
    verify(request, keys)
    return [read(request)]


def default_transaction_type(event: ProviderEvent) -> str:
    """The kind's row of `FACTS`; a kind not in it is `other` (parked in unrouted-events, alarmed)."""
    fact = FACTS.get(event.provider_event_type)
    return fact.transaction_type if fact is not None else "other"


# Everything about razorpay that is data (handlers/providers/spec.py; docs/providers/README.md).
SPEC = spec.ProviderSpec(
    provider_id="razorpay",
    signature_header="X-Razorpay-Signature",
    secret_format="the webhook secret entered when creating the webhook in the Dashboard, used as text",  # noqa: S106
    secret_help="the webhook secret you chose, text (Dashboard → Accounts & Settings → Webhooks)",  # noqa: S106
    signer="sign_razorpay",
    secret_shape="text",  # noqa: S106
    exponent_overrides=EXPONENT_OVERRIDES,
    options={},
    event_id_header=EVENT_ID_HEADER,
    # The stored id is made of the signed entity id, event and time: a load run rewrites the entity id.
    load_id_field="payload.payment.entity.id",
    load_sample="razorpay/payment.captured.json",
    default_mapping=DEFAULT_MAPPING,
    facts=FACTS,
)
