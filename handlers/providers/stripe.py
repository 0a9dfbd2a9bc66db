"""Stripe: `Stripe-Signature: t=<ts>,v1=<hex>[,v1=<hex>...]`, HMAC-SHA256 over `"{t}.{body}"`.

The key is the whole `whsec_...` string as UTF-8 text: unlike Standard Webhooks' `whsec_<base64>`, Stripe
never base64-decodes it (https://docs.stripe.com/webhooks#verify-manually; the official library's
`WebhookSignature._compute_signature` keys the HMAC with `secret.encode("utf-8")`).
The signed timestamp `t` must lie within `tolerance_seconds` of now, in both directions (Stripe's
libraries check only the past; a future `t` beyond the tolerance is a clock fault or a forgery).
Snapshot events: id `id`, type `type`, time `created` (epoch seconds), amount `data.object.amount`
(`amount_refunded` for `charge.refunded`) in minor units of `data.object.currency`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from providers import ProviderEvent, WebhookRequest, common
from webhook_signature import SignatureError  # noqa: F401 - what verify raises, as module.SignatureError

SECRET_FORMAT = "the whole whsec_... signing secret of the endpoint, used as text (not base64-decoded)"  # noqa: S105
OPTIONS = frozenset({"tolerance_seconds"})
DEFAULT_TOLERANCE_SECONDS = 300  # Stripe's libraries' DEFAULT_TOLERANCE
HEADER = "stripe-signature"
SCHEME = "v1"

# How Stripe's API writes amounts, where that differs from (or must not follow changes of) ISO 4217.
# Source: https://docs.stripe.com/currencies ("Zero-decimal currencies", "Three-decimal currencies",
# "Special cases"), and https://support.stripe.com/questions/deprecation-of-fractional-isk-charges-and-refunds
# - zero-decimal: the amount is whole units. MGA differs from ISO (ISO: 2).
# - three-decimal: same as ISO (the last digit must be 0, which does not change the meaning).
# - ISK: ISO says 0, but "ISK will remain a two-decimal currency in the Stripe API, and an ISK amount
#   of 100 will continue to represent 1 krona" (amounts must be divisible by 100): 2.
# - HUF, TWD: zero-decimal for payouts only; charges, refunds and disputes carry two-decimal amounts: 2.
_ZERO_DECIMAL = ("BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA", "PYG", "RWF", "UGX", "VND", "VUV", "XAF",
                 "XOF", "XPF")  # fmt: skip
_THREE_DECIMAL = ("BHD", "JOD", "KWD", "OMR", "TND")
EXPONENT_OVERRIDES: Mapping[str, int] = {
    **dict.fromkeys(_ZERO_DECIMAL, 0),
    **dict.fromkeys(_THREE_DECIMAL, 3),
    "ISK": 2,
    "HUF": 2,
    "TWD": 2,
}

# The money facts (handlers/money_facts.py; docs/providers/stripe.md has every row with its Stripe doc link).
# One kind carries each fact, so it reaches its queue once: a PaymentIntent's capture by
# `payment_intent.succeeded` (`amount_received`: what was captured, never the requested `amount`); a
# charge outside any PaymentIntent (the legacy Charges API) by `charge.succeeded` when `captured` is true,
# else by `charge.captured` (`amount_captured`); a refund by `refund.created` when it is created
# succeeded, else by the `charge.refund.updated` whose `previous_attributes` show the status changing
# (`refund.updated` fires only for some payment methods, beside `charge.refund.updated`, so it never
# counts); a dispute by `charge.dispute.created` (funds withdrawn unless it is an inquiry,
# `warning_*`) and `charge.dispute.closed` (`won`: reinstated; `lost`). `charge.refunded` carries the
# charge's running total `amount_refunded`: it is delivered to the lifecycle queue without an amount.
# Kinds that describe a fact another kind carries are `other` with an outcome: known, never money.
# kind -> (transaction_type, amount field of data.object, object status -> outcome, or a fixed outcome)
_REFUND_STATUS = {"succeeded": "succeeded", "pending": "pending", "requires_action": "pending",
                  "failed": "failed", "canceled": "canceled"}  # fmt: skip
_PAYMENT_INTENT = {
    "payment_intent.succeeded": ("payment", "amount_received", "succeeded"),
    "payment_intent.amount_capturable_updated": ("payment", "amount_capturable", "authorized"),
    "payment_intent.payment_failed": ("payment", "amount", "failed"),
    "payment_intent.canceled": ("payment", "amount", "canceled"),
    "payment_intent.processing": ("payment", "amount", "pending"),
    "payment_intent.created": ("payment", "amount", "pending"),
    "payment_intent.requires_action": ("payment", "amount", "pending"),
    "payment_intent.partially_funded": ("payment", "amount_received", "pending"),
}
_CHARGE_FIXED = {
    "charge.failed": ("payment", "amount", "failed"),
    "charge.pending": ("payment", "amount", "pending"),
    "charge.expired": ("payment", "amount", "canceled"),
    "charge.updated": ("other", "amount", None),
    "charge.refunded": ("other", None, "succeeded"),
    "refund.updated": ("other", "amount", None),
    "refund.failed": ("refund", "amount", "failed"),
    "charge.dispute.updated": ("dispute", "amount", "pending"),
    "charge.dispute.funds_withdrawn": ("other", "amount", "succeeded"),
    "charge.dispute.funds_reinstated": ("other", "amount", "succeeded"),
}
_CHARGE_STATUS = {"succeeded": "succeeded", "pending": "pending", "failed": "failed"}
_DISPUTE_CLOSED = {"won": "won", "lost": "lost", "warning_closed": "canceled"}
# The kinds this module maps (the docs' table and the tests read it); anything else is `other`, parked.
MAPPED_KINDS: frozenset[str] = frozenset({*_PAYMENT_INTENT, *_CHARGE_FIXED, "charge.succeeded", "charge.captured",
    "refund.created", "charge.refund.updated", "charge.dispute.created", "charge.dispute.closed"})  # fmt: skip


def money_fact(kind: str, obj: Mapping[str, Any], previous: Mapping[str, Any]) -> tuple[str, str | None, str | None]:
    """(transaction_type, outcome, amount field of `data.object`) of one Stripe event kind.

    `obj` is `data.object`, `previous` is `data.previous_attributes` (update events). Pure data rules;
    see the comment above and docs/providers/stripe.md. Unknown kinds: ("other", None, None).
    """
    if kind in _PAYMENT_INTENT:
        transaction_type, field, outcome = _PAYMENT_INTENT[kind]
        return transaction_type, outcome, field
    if kind in _CHARGE_FIXED:
        transaction_type, field, outcome = _CHARGE_FIXED[kind]
        if outcome is None:
            outcome = (_REFUND_STATUS if kind.startswith("refund.") else _CHARGE_STATUS).get(str(obj.get("status")))
            outcome = outcome or "pending"
        return transaction_type, outcome, field
    if kind in ("charge.succeeded", "charge.captured"):
        if obj.get("captured") is not True:
            return "payment", "authorized", "amount"  # held, not captured (`captured: false`)
        if obj.get("payment_intent") is not None:
            return "other", "succeeded", "amount_captured"  # payment_intent.succeeded carries it
        return "payment", "succeeded", "amount_captured"
    if kind == "refund.created":
        return "refund", _REFUND_STATUS.get(str(obj.get("status")), "pending"), "amount"
    if kind == "charge.refund.updated":
        status = _REFUND_STATUS.get(str(obj.get("status")), "pending")
        was = previous.get("status") if "status" in previous else None
        if was is None:
            return "other", status, "amount"  # no status change: a fact already carried
        if status == "failed" and was == "succeeded":
            return "refund", "reversed", "amount"
        return "refund", status, "amount"
    if kind == "charge.dispute.created":
        inquiry = str(obj.get("status", "")).startswith("warning_")
        return "dispute", "pending" if inquiry else "opened", "amount"
    if kind == "charge.dispute.closed":
        return "dispute", _DISPUTE_CLOSED.get(str(obj.get("status")), "pending"), "amount"
    return "other", None, None


def _object_ids(obj: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """(object id, parent id): the object's `id`; its payment: `payment_intent`, else `charge`."""
    object_id = obj.get("id") if isinstance(obj.get("id"), str) else None
    for name in ("payment_intent", "charge"):
        parent = obj.get(name)
        if isinstance(parent, dict):
            parent = parent.get("id")
        if isinstance(parent, str) and parent != object_id:
            return object_id, parent
    return object_id, None


def parse_secret(text: str, options: Mapping[str, Any]) -> bytes:
    return common.text_secret(text, prefix="whsec_")


def verify(request: WebhookRequest, keys: Sequence[bytes], *, now: int, tolerance_seconds: int) -> None:
    """Raise `SignatureError` unless a `v1` signature of the header matches a key, with a fresh `t`."""
    common.verify_timestamped(
        request.headers,
        request.body,
        keys,
        now=now,
        tolerance_seconds=tolerance_seconds,
        header=HEADER,
        separator=",",
        timestamp_name="t",
        scheme=SCHEME,
        joiner=b".",
        key_name="signing secret",
    )


def read(request: WebhookRequest) -> ProviderEvent:
    body = common.parse_object(request.text)
    event_type = common.event_type(body.get("type"), "type")
    created = body.get("created")
    # Snapshot events write `created` as epoch seconds; thin (v2) events as an ISO 8601 string.
    timestamp = (
        common.iso_timestamp(created, "created")
        if isinstance(created, str)
        else common.epoch_seconds(created, "created")
    )
    obj = common.get(body, "data.object")
    obj = obj if isinstance(obj, dict) else {}
    previous = common.get(body, "data.previous_attributes")
    transaction_type, outcome, amount_field = money_fact(
        event_type, obj, previous if isinstance(previous, dict) else {}
    )
    amount, currency = (None, None)
    if amount_field is not None:
        amount, currency = common.amount_and_currency(
            obj.get(amount_field),
            obj.get("currency"),
            amount_field=f"data.object.{amount_field}",
            currency_field="data.object.currency",
        )
    object_id, parent_object_id = _object_ids(obj)
    return ProviderEvent(
        provider_event_id=common.event_id(body.get("id"), "id"),
        provider_event_type=event_type,
        timestamp=timestamp,
        payload=request.text,
        amount=amount,
        amount_unit="minor" if amount is not None else None,
        currency=currency,
        fields={"transaction_type": transaction_type},
        outcome=outcome,
        object_id=object_id,
        parent_object_id=parent_object_id,
        # Stripe objects carry no version: the event's `created` (whole seconds) in microseconds.
        object_version=int(timestamp.timestamp()) * 1_000_000,
    )


def receive(
    request: WebhookRequest, keys: Sequence[bytes], options: Mapping[str, Any], now: int
) -> list[ProviderEvent]:
    tolerance_seconds = common.tolerance(options, DEFAULT_TOLERANCE_SECONDS)
    verify(request, keys, now=now, tolerance_seconds=tolerance_seconds)
    return [read(request)]


def default_transaction_type(event: ProviderEvent) -> str:
    """The type `money_fact` gave the event when it was read; anything unmapped is `other`."""
    return event.fields.get("transaction_type", "other")
