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

import money
from providers import ProviderEvent, WebhookRequest, common, spec
from webhook_signature import SignatureError  # noqa: F401 - what verify raises, as module.SignatureError

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
EXPONENT_OVERRIDES: Mapping[str, int] = money.provider_exponents("stripe")  # provider_exponents/stripe.json

# The money facts (handlers/money_facts.py; docs/providers/stripe.md has every row with its Stripe doc link).
# One kind carries each fact, so it reaches its queue once: a PaymentIntent's capture by
# `payment_intent.succeeded` (`amount_received`: what was captured, never the requested `amount`); a
# charge outside any PaymentIntent (the legacy Charges API) by `charge.succeeded` when `captured` is true,
# else by `charge.captured` (`amount_captured`); a refund by `refund.created` when it is created
# succeeded, else by the refund update whose `previous_attributes` show the status changing: since API
# version 2024-10-28.acacia `refund.*` events cover every refund
# (https://docs.stripe.com/changelog/acacia/2024-10-28/refund-webhook-update) and that update is
# `refund.updated`; for events of older versions it is `charge.refund.updated`. The other of the two
# describes the same change again and never counts. A dispute's withdrawal by
# `charge.dispute.funds_withdrawn` (`opened`): Stripe sends it when the funds leave the balance, at once for
# a chargeback and at the escalation for an inquiry (`warning_*`, created with nothing withdrawn), so one
# kind carries it whichever way the dispute began and a Stripe retry is a duplicate of its event id;
# `charge.dispute.created` only describes it (lifecycle). Then `charge.dispute.closed` (`won`: reinstated;
# `lost`: nothing more moves; `warning_closed`: an inquiry that ended, nothing moved).
# `charge.refunded` carries the charge's running total `amount_refunded`: it is delivered to the lifecycle
# queue without an amount. Kinds that describe a fact another kind carries are `other` with an outcome:
# known, so delivered to the lifecycle queue, never money.
REFUND_EVENTS_FOR_ALL_REFUNDS = "2024-10-28"
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
    "refund.failed": ("refund", "amount", "failed"),
    "charge.dispute.updated": ("dispute", "amount", "pending"),
    # The withdrawal: the one kind that carries it, for a dispute created as a chargeback and for an inquiry
    # (`warning_*`) that escalates alike. `charge.dispute.created` never does (see money_fact).
    "charge.dispute.funds_withdrawn": ("dispute", "amount", "opened"),
    "charge.dispute.funds_reinstated": ("other", "amount", "succeeded"),  # charge.dispute.closed carries it
}
_CHARGE_STATUS = {"succeeded": "succeeded", "pending": "pending", "failed": "failed"}
_DISPUTE_CLOSED = {"won": "won", "lost": "lost", "warning_closed": "canceled"}
# The kinds this module maps (the docs' table and the tests read it); anything else is `other`, parked.
MAPPED_KINDS: frozenset[str] = frozenset({*_PAYMENT_INTENT, *_CHARGE_FIXED, "charge.succeeded", "charge.captured",
    "refund.created", "refund.updated", "charge.refund.updated", "charge.dispute.created", "charge.dispute.closed"})  # fmt: skip


def money_fact(
    kind: str, obj: Mapping[str, Any], previous: Mapping[str, Any], api_version: str = REFUND_EVENTS_FOR_ALL_REFUNDS
) -> tuple[str, str | None, str | None]:
    """(transaction_type, outcome, amount field of `data.object`) of one Stripe event kind.

    `obj` is `data.object`, `previous` is `data.previous_attributes` (update events), `api_version` the
    event's (`YYYY-MM-DD.name`). Pure data rules; see the comment above and docs/providers/stripe.md.
    Unknown kinds: ("other", None, None).
    """
    if kind in _PAYMENT_INTENT:
        transaction_type, field, outcome = _PAYMENT_INTENT[kind]
        return transaction_type, outcome, field
    if kind == "charge.refunded" and api_version[:10] < REFUND_EVENTS_FOR_ALL_REFUNDS:
        # Before 2024-10-28.acacia Stripe sends no refund.created for a charge's refunds: this event is
        # then the only one about the refund, and it carries the charge's running total, not the refund.
        # Parked (unknown: unrouted-events, alarmed) rather than guessed or lost as a lifecycle fact
        # (https://docs.stripe.com/changelog/acacia/2024-10-28/refund-webhook-update).
        return "other", None, None
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
    if kind in ("refund.updated", "charge.refund.updated"):
        status = _REFUND_STATUS.get(str(obj.get("status")), "pending")
        was = previous.get("status") if "status" in previous else None
        carrier = "refund.updated" if api_version[:10] >= REFUND_EVENTS_FOR_ALL_REFUNDS else "charge.refund.updated"
        if was is None or kind != carrier:
            return "other", status, "amount"  # no status change, or the other kind carries it
        if status == "failed" and was == "succeeded":
            return "refund", "reversed", "amount"
        return "refund", status, "amount"
    if kind == "charge.dispute.created":
        # An inquiry (`warning_*`) withdraws nothing yet; a chargeback's withdrawal is carried by
        # `charge.dispute.funds_withdrawn`, which Stripe sends for it as for an escalated inquiry, so this
        # kind only describes it (lifecycle): one carrier, whichever way the dispute began.
        inquiry = str(obj.get("status", "")).startswith("warning_")
        return ("dispute", "pending", "amount") if inquiry else ("other", "opened", "amount")
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
    return common.text_secret(
        text, prefix="whsec_", minimum=24, rule="a Stripe endpoint secret is whsec_ and 24 or more generated characters"
    )


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
    api_version = body.get("api_version")
    transaction_type, outcome, amount_field = money_fact(
        event_type,
        obj,
        previous if isinstance(previous, dict) else {},
        api_version if isinstance(api_version, str) else REFUND_EVENTS_FOR_ALL_REFUNDS,
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


# Everything about stripe that is data (handlers/providers/spec.py; docs/providers/README.md).
SPEC = spec.ProviderSpec(
    provider_id="stripe",
    signature_header="Stripe-Signature",
    secret_format="the whole whsec_... signing secret of the endpoint, used as text (not base64-decoded)",  # noqa: S106
    secret_help="the endpoint's whole signing secret, `whsec_…`, used as text (Dashboard → Webhooks → endpoint → "  # noqa: S106
    "Signing secret → Reveal)",
    signer="sign_stripe",
    secret_shape="whsec_hex",  # noqa: S106
    exponent_overrides=EXPONENT_OVERRIDES,
    options={"tolerance_seconds": spec.tolerance_seconds},
    secret_lookalike=(r"whsec_[0-9a-f]{16,}", "a Stripe signing secret (whsec_ + hex, used as text)"),
    load_id_field="id",  # the event id travels in the body
    load_sample="stripe/payment_intent.succeeded.json",
    facts=spec.frozen({**_PAYMENT_INTENT, **_CHARGE_FIXED}),
)
