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

DEFAULT_MAPPING: Mapping[str, str] = {
    "payment_intent.succeeded": "payment",
    "charge.succeeded": "payment",
    "charge.refunded": "refund",
    "refund.created": "refund",
    "refund.updated": "refund",
    "charge.refund.updated": "refund",
}
PREFIX_MAPPING: Mapping[str, str] = {"charge.dispute.": "dispute"}


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
    amount_field = "amount_refunded" if event_type == "charge.refunded" else "amount"
    amount, currency = (None, None)
    if isinstance(obj, dict):
        amount, currency = common.amount_and_currency(
            obj.get(amount_field),
            obj.get("currency"),
            amount_field=f"data.object.{amount_field}",
            currency_field="data.object.currency",
        )
    return ProviderEvent(
        provider_event_id=common.event_id(body.get("id"), "id"),
        provider_event_type=event_type,
        timestamp=timestamp,
        payload=request.text,
        amount=amount,
        amount_unit="minor" if amount is not None else None,
        currency=currency,
    )


def receive(
    request: WebhookRequest, keys: Sequence[bytes], options: Mapping[str, Any], now: int
) -> list[ProviderEvent]:
    tolerance_seconds = common.tolerance(options, DEFAULT_TOLERANCE_SECONDS)
    verify(request, keys, now=now, tolerance_seconds=tolerance_seconds)
    return [read(request)]


def default_transaction_type(event: ProviderEvent) -> str:
    """The default mapping (`DEFAULT_MAPPING`, then `PREFIX_MAPPING`); anything else is `other`."""
    return common.mapped_type(event.provider_event_type, DEFAULT_MAPPING, PREFIX_MAPPING)
