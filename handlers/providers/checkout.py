"""Checkout.com: `Cko-Signature` = hex HMAC-SHA256 of the raw body, keyed with the webhook's signature key.

https://www.checkout.com/docs/developer-resources/webhooks/manage-webhooks/set-up-your-webhook-receiver
Nothing else is signed: there is no signed timestamp, so a captured delivery can be replayed at any time;
its signed `id` makes the replay a duplicate of the stored event (the table's TTL must outlive Checkout's
retries: up to 8 attempts over about 30 hours). An `Authorization` header configured on the webhook is
not checked here (the HMAC is the stronger proof).

Events: id `id`, type `type`, time `created_on` (legacy webhooks) or `timestamp` (workflow webhooks),
amount `data.amount` in minor units of `data.currency`.

Money facts (`FACTS`; docs/providers/checkout.md links every row to Checkout.com's page of the kind).
Checkout.com sends one event per action, each with that action's own `data.amount` (a capture's captured
amount, a refund's own amount; `data.balances` holds the running totals and is never read): a payment's
money by `payment_captured` (each capture, partial ones included; `payment_approved` is the
authorization and moves no money), a refund by `payment_refunded`, a dispute by
`dispute_evidence_required` ("your account has been debited the disputed amount": `opened`),
`dispute_won` (credited back), `dispute_lost`, `dispute_canceled` (canceled by the issuer and credited
back: `reversed`) and `dispute_arbitration_won` (credited back after a lost dispute: `won`). Kinds that
state an outcome another kind carries (`dispute_accepted`, `dispute_expired`,
`dispute_arbitration_lost`: the withdrawal stands, `dispute_lost` says so) are `other` with an outcome,
delivered to the lifecycle queue. Objects: a capture or refund is its action (`data.action_id`, parent
the payment `data.id`; without `action_id` it has no object: a money fact is then parked
`missing_object_id`, never named by its payment); a payment-level kind is the payment (`data.id`); a dispute is `data.id` (parent
`data.payment_id`). Checkout.com sends no version or sequence for these objects: `object_version` is the
event's time in microseconds.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import money
from providers import ProviderEvent, WebhookRequest, common, spec
from providers.facts import Fact, microseconds
from webhook_signature import SignatureError  # noqa: F401 - what verify raises, as module.SignatureError

HEADER = "cko-signature"

# How Checkout.com's API writes amounts, where it differs from ISO 4217.
# https://www.checkout.com/docs/payments/accept-payments/format-the-amount-value: whole units, thousandths,
# hundredths for "all other currencies" (so CLP and CLF are 2 at Checkout.com): the rows and why in the file.
# A closed table (`money.ClosedExponents`): a code Checkout.com does not document (withdrawn, fund codes)
# has no exponent here and its event is parked, never divided by a guessed 100.
EXPONENT_OVERRIDES: Mapping[str, int] = money.provider_exponents("checkout")  # provider_exponents/checkout.json


def _payment(outcome: str, transaction_type: str = "payment") -> Fact:
    """A kind about the payment as a whole (its id `data.id`)."""
    return Fact(transaction_type, outcome, "amount", "id")


def _action(transaction_type: str, outcome: str) -> Fact:
    """A kind about one action of a payment (a capture, a refund): the action, parent the payment."""
    return Fact(transaction_type, outcome, "amount", "action_id", "id")


def _dispute(outcome: str, transaction_type: str = "dispute") -> Fact:
    return Fact(transaction_type, outcome, "amount", "id", "payment_id")


# kind -> fact; paths inside `data` (https://www.checkout.com/docs/reporting-and-insights/events-api/event-types
# and each kind's page https://www.checkout.com/docs/workflows/webhook-event-types/<kind>).
FACTS: Mapping[str, Fact] = {
    "payment_approved": _payment("authorized"),
    "payment_pending": _payment("pending"),
    "payment_declined": _payment("failed"),
    "payment_expired": _payment("canceled"),
    "payment_canceled": _payment("canceled"),
    "payment_voided": _payment("canceled"),
    "payment_void_declined": _payment("failed", "other"),  # the void failed: the authorization stands
    "payment_captured": _action("payment", "succeeded"),
    "payment_capture_pending": _action("payment", "pending"),
    "payment_capture_declined": _action("payment", "failed"),
    "payment_refunded": _action("refund", "succeeded"),
    "payment_refund_pending": _action("refund", "pending"),
    "payment_refund_declined": _action("refund", "failed"),
    "card_verified": _payment("succeeded", "other"),  # a verification: no money
    "card_verification_declined": _payment("failed", "other"),
    "dispute_received": _dispute("pending"),
    "dispute_evidence_required": _dispute("opened"),
    "dispute_evidence_submitted": _dispute("pending"),
    "dispute_evidence_acknowledged_by_scheme": _dispute("pending"),
    "dispute_won": _dispute("won"),
    "dispute_lost": _dispute("lost"),
    "dispute_canceled": _dispute("reversed"),
    "dispute_resolved": _dispute("canceled"),  # resolved because already refunded: nothing withdrawn
    "dispute_accepted": _dispute("lost", "other"),
    "dispute_expired": _dispute("lost", "other"),
    "dispute_arbitration_sent_to_scheme": _dispute("pending"),
    "dispute_arbitration_won": _dispute("won"),
    "dispute_arbitration_lost": _dispute("lost", "other"),
}
DEFAULT_MAPPING: Mapping[str, str] = {kind: fact.transaction_type for kind, fact in FACTS.items()}


def parse_secret(text: str, options: Mapping[str, Any]) -> bytes:
    return common.text_secret(text, rule="a Checkout.com signature key is 16 or more generated characters")


def verify(request: WebhookRequest, keys: Sequence[bytes]) -> None:
    common.verify_body_hex(request.headers, request.body, keys, header=HEADER, key_name="signature key")


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def read(request: WebhookRequest) -> ProviderEvent:
    body = common.parse_object(request.text)
    kind = common.event_type(body.get("type"), "type")
    if "created_on" in body:
        timestamp = common.iso_timestamp(body.get("created_on"), "created_on")
    else:
        timestamp = common.iso_timestamp(body.get("timestamp"), "timestamp")
    data = body.get("data")
    data = data if isinstance(data, dict) else {}
    amount, currency = common.amount_and_currency(
        data.get("amount"), data.get("currency"), amount_field="data.amount", currency_field="data.currency"
    )
    fact = FACTS.get(kind)
    object_id = parent = None
    if fact is not None:
        # Only the kind's own id names the object: an action-level fact (a capture, a refund) without
        # `data.action_id` has no object and is parked `missing_object_id` (sources.canonical), never
        # named by its payment `data.id` - two partial captures would become two states of one object
        # and a consumer keeping each object's latest state would book only one of them (RT-2).
        object_id = _text(data.get(fact.object_id or ""))
        parent = _text(data.get(fact.parent_id)) if fact.parent_id else None
    return ProviderEvent(
        provider_event_id=common.event_id(body.get("id"), "id"),
        provider_event_type=kind,
        timestamp=timestamp,
        payload=request.text,
        amount=amount,
        amount_unit="minor" if amount is not None else None,
        currency=currency,
        fields={"transaction_type": fact.transaction_type if fact else "other"},
        outcome=fact.outcome if fact else None,
        object_id=object_id,
        parent_object_id=parent if parent != object_id else None,
        object_version=microseconds(timestamp),
    )


def receive(
    request: WebhookRequest, keys: Sequence[bytes], options: Mapping[str, Any], now: int
) -> list[ProviderEvent]:
    verify(request, keys)
    return [read(request)]


def default_transaction_type(event: ProviderEvent) -> str:
    """The kind's row of `FACTS`; a kind not in it is `other` (parked in unrouted-events, alarmed)."""
    return event.fields.get("transaction_type", "other")


# Everything about checkout that is data (handlers/providers/spec.py; docs/providers/README.md).
SPEC = spec.ProviderSpec(
    provider_id="checkout",
    signature_header="Cko-Signature",
    secret_format="the webhook's signature key (the key of the workflow's webhook action), used as text",  # noqa: S106
    secret_help="the webhook's signature key, text (Dashboard → Developers → Webhooks → Signature key)",  # noqa: S106
    signer="sign_checkout",
    secret_shape="text",  # noqa: S106
    exponent_overrides=EXPONENT_OVERRIDES,
    options={},
    default_mapping=DEFAULT_MAPPING,
    facts=FACTS,
)
