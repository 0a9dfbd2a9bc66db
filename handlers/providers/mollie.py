"""Mollie next-gen (signed) webhooks: `X-Mollie-Signature: sha256=<hex HMAC-SHA256 of the raw body>`.

The key is the webhook's signing secret as text. While a secret is being rotated Mollie signs with both
the old and the new one (the header then holds several `sha256=` values, comma-separated once proxies
join repeated headers); any of them may match any configured secret. There is no signed timestamp:
deduplication on the event id is the defence against replays. Classic Mollie webhooks (an unsigned
`id=tr_...` form post that must be fetched back from the API) are not supported.

One delivery is one event: `id`, `type`, `createdAt`; the amount is the embedded entity's
`amount.value`/`amount.currency` (major units as a decimal string, e.g. `"24.95"`), absent when the
delivery is a "simple" one (no `_embedded`) or the entity has no amount (a payment link with a
variable amount).

Money facts (`FACTS`; docs/providers/mollie.md links each row): a payment by `payment.paid` (what was
captured: `amountCaptured` where the payment supports captures, else `amount`), a refund by
`refund.refunded`, a chargeback by `chargeback.received` and its reversal by `chargeback.reversed`.
`payment-link.paid` (a snapshot of the link, naming no payment) and `capture.*` (part of a payment that
`payment.paid` books whole) are known lifecycle facts. The payment, refund and chargeback kinds follow the statuses of
Mollie's Payments, Refunds and Chargebacks APIs; the other statuses are known facts that move no
money, and so are sales invoices. Object id: the event's `entityId`; a refund's, chargeback's or
capture's parent: its `paymentId`. Mollie objects carry no version: `object_version`
is the event's `createdAt` in microseconds.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping, Sequence
from typing import Any

import money
from errors import INVALID_AMOUNT, NOT_PROVIDER_SHAPE
from providers import ProviderEvent, WebhookRequest, common, spec
from providers.facts import microseconds
from webhook_event import InvalidEventError
from webhook_signature import SignatureError  # noqa: F401 - what verify raises, as module.SignatureError

EXPONENT_OVERRIDES: Mapping[str, int] = money.provider_exponents("mollie")  # provider_exponents/mollie.json
SIGNATURE_HEADER = "x-mollie-signature"
SIGNATURE_PREFIX = "sha256="

# kind -> (transaction_type, outcome): https://docs.mollie.com/reference/webhooks-new (event types), and the
# statuses of https://docs.mollie.com/reference/payment-statuses, /reference/refund-statuses (Refunds
# API) and /reference/chargebacks-api.
FACTS: Mapping[str, tuple[str, str]] = {
    # The link's snapshot names no payment (https://docs.mollie.com/reference/payment-links-api-webhooks):
    # the payment it produced is booked by that payment's own `payment.paid`, under its `tr_` id.
    "payment-link.paid": ("other", "succeeded"),
    "payment.created": ("payment", "pending"),
    "payment.pending": ("payment", "pending"),
    "payment.authorized": ("payment", "authorized"),
    "payment.paid": ("payment", "succeeded"),
    "payment.failed": ("payment", "failed"),
    "payment.canceled": ("payment", "canceled"),
    "payment.expired": ("payment", "canceled"),
    "refund.created": ("refund", "pending"),
    "refund.queued": ("refund", "pending"),
    "refund.pending": ("refund", "pending"),
    "refund.processing": ("refund", "pending"),
    "refund.refunded": ("refund", "succeeded"),
    "refund.failed": ("refund", "failed"),
    "refund.canceled": ("refund", "canceled"),
    "chargeback.received": ("dispute", "opened"),
    "chargeback.reversed": ("dispute", "reversed"),
    # A capture of a held payment (https://docs.mollie.com/changelog/add-chargeback-and-capture-webhook-event-types,
    # https://docs.mollie.com/reference/get-capture): the payment's `payment.paid` books the captured total
    # (`amountCaptured`), so a capture only describes part of it and never counts on its own.
    "capture.succeeded": ("other", "succeeded"),
    "capture.failed": ("other", "failed"),
    "sales-invoice.created": ("other", "pending"),
    "sales-invoice.issued": ("other", "pending"),
    "sales-invoice.canceled": ("other", "canceled"),
    "sales-invoice.paid": ("other", "succeeded"),  # its payment is the money fact
}
DEFAULT_MAPPING: Mapping[str, str] = {kind: fact[0] for kind, fact in FACTS.items()}
# kind -> the embedded entity's amount members, first present wins (default: `amount`). A paid payment is
# what was captured: `amountCaptured`, "the total amount that is already captured for this payment. Only
# available when this payment supports captures" (the Payments API's payment object; mollie-api-php
# `Payment::$amountCaptured`); with `captureMode: manual` it may be less than the requested `amount`
# (a partial capture; https://docs.mollie.com/docs/place-a-hold-for-a-payment). Where it is absent the
# payment was captured whole: `amount`.
AMOUNT_FIELDS: Mapping[str, tuple[str, ...]] = {"payment.paid": ("amountCaptured", "amount")}


def parse_secret(text: str, options: Mapping[str, Any]) -> bytes:
    """The signing secret as text -> its UTF-8 bytes (the HMAC key). Raises ValueError when empty."""
    if not text or text != text.strip():
        raise ValueError("a Mollie signing secret is non-empty text without surrounding spaces")
    common.strong_enough(text, rule="a Mollie signing secret is 16 or more generated characters")
    return text.encode("utf-8")


def sign(key: bytes, body: bytes) -> str:
    """The `X-Mollie-Signature` value Mollie sends for `body`."""
    return SIGNATURE_PREFIX + hmac.new(key, body, hashlib.sha256).hexdigest()


def verify(headers: Mapping[str, str], body: bytes, keys: Sequence[bytes]) -> None:
    """Raise `SignatureError` unless one `sha256=` value of the header is the HMAC of `body` under a key."""
    common.verify_body_hex(
        headers,
        body,
        keys,
        header=SIGNATURE_HEADER,
        key_name="signing secret",
        prefix=SIGNATURE_PREFIX,
        several=True,
        standard_reasons=True,
    )


def receive(
    request: WebhookRequest, keys: Sequence[bytes], options: Mapping[str, Any], now: int
) -> list[ProviderEvent]:
    """Verify the delivery, then read its one event."""
    verify(request.headers, request.body, keys)
    document = common.parse_json(request.text)
    if not isinstance(document, dict):
        raise InvalidEventError(NOT_PROVIDER_SHAPE, "body must be a Mollie event object")
    event_type = common.event_type(document.get("type"), "type")
    value, code, entity = _amount(document, AMOUNT_FIELDS.get(event_type, ("amount",)))
    event_id = common.event_id(document.get("id"), "id")
    timestamp = common.iso_timestamp(document.get("createdAt"), "createdAt")
    fact = FACTS.get(event_type)
    return [
        ProviderEvent(
            provider_event_id=event_id,
            provider_event_type=event_type,
            timestamp=timestamp,
            payload=request.text,
            amount=value,
            amount_unit="major" if value is not None else None,
            currency=code,
            outcome=fact[1] if fact else None,
            object_id=_text(document.get("entityId")) or _text(entity.get("id")),
            parent_object_id=_text(entity.get("paymentId"))
            if event_type.startswith(("refund.", "chargeback.", "capture."))
            else None,
            object_version=microseconds(timestamp),
        )
    ]


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _amount(document: Mapping[str, Any], names: Sequence[str]) -> tuple[Any, str | None, Mapping[str, Any]]:
    """The embedded entity's amount: the first of `names` it carries (`amount` unless `AMOUNT_FIELDS` says
    otherwise) in `_embedded.entity`, or in the one entity embedded under its resource name
    (`_embedded.payment-link.amount`, as in Mollie's own fixtures)."""
    embedded = document.get("_embedded")
    if embedded is None:
        return None, None, {}
    if not isinstance(embedded, dict):
        raise InvalidEventError(NOT_PROVIDER_SHAPE, "_embedded must be an object", "_embedded")
    if isinstance(embedded.get("entity"), dict):
        name, entity = "entity", embedded["entity"]
    else:
        entities = [(name, entity) for name, entity in embedded.items() if isinstance(entity, dict)]
        if len(entities) != 1:
            return None, None, {}
        name, entity = entities[0]
    member = next((member for member in names if entity.get(member) is not None), names[-1])
    amount = entity.get(member)
    if amount is None:
        return None, None, entity
    field = f"_embedded.{name}.{member}"
    if not isinstance(amount, dict):
        raise InvalidEventError(INVALID_AMOUNT, f"{field} must be an object", field)
    value = common.major_amount(amount.get("value"), f"{field}.value")
    return value, common.currency(amount.get("currency"), f"{field}.currency"), entity


def default_transaction_type(event: ProviderEvent) -> str:
    """The kind's row of `FACTS`; a kind not in it is `other` (parked in unrouted-events, alarmed)."""
    return DEFAULT_MAPPING.get(event.provider_event_type, "other")


# Everything about mollie that is data (handlers/providers/spec.py; docs/providers/README.md).
SPEC = spec.ProviderSpec(
    provider_id="mollie",
    signature_header="X-Mollie-Signature",
    secret_format="the webhook's signing secret, as text",  # noqa: S106
    secret_help="the next-gen webhook's signing secret, text (Dashboard → Developers → Webhooks)",  # noqa: S106
    signer="sign_mollie",
    secret_shape="text",  # noqa: S106
    exponent_overrides=EXPONENT_OVERRIDES,
    options={},
    default_mapping=DEFAULT_MAPPING,
    facts=FACTS,
)
