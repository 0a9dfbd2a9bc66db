"""Paddle Billing: `Paddle-Signature: ts=<ts>;h1=<hex>[;h1=<hex>...]`, HMAC-SHA256 over `"{ts}:{body}"`.

The key is the notification destination's secret key (`pdl_ntfset_...`) as text
(https://developer.paddle.com/webhooks/about/signature-verification). Several `h1` appear while a secret
is being rotated. The signed `ts` must lie within `tolerance_seconds` of now, in both directions.

Tolerance: default 300 s, not the 5 s of Paddle's SDKs. The window only bounds how long a captured
delivery can be replayed, and a replay inside it carries the same signed `event_id`, so it is stored
once (a duplicate, 200) whatever the window. 5 s, by contrast, refuses authentic deliveries for
ordinary reasons: a Lambda cold start plus the Secrets Manager read, API Gateway latency, clock skew,
and possibly retries that keep the first attempt's `ts`. Set `tolerance_seconds: 5` on the source to
match the SDKs exactly.

Events: id `event_id`, type `event_type`, time `occurred_at` (RFC 3339, microseconds). Amounts are strings
in the currency's lowest denomination: `transaction.*` -> `data.details.totals.grand_total` (the total
after discounts, tax and credits: what the customer is charged), `adjustment.*` -> `data.totals.total`
(the adjustment's total including tax); currency `data.currency_code`. Adjustments also carry their
`action` (`refund`, `credit`, `chargeback`, ...) for the mapping.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from providers import ProviderEvent, WebhookRequest, common
from webhook_signature import SignatureError  # noqa: F401 - what verify raises, as module.SignatureError

SECRET_FORMAT = "the notification destination's secret key (pdl_ntfset_...), used as text"  # noqa: S105
OPTIONS = frozenset({"tolerance_seconds"})
DEFAULT_TOLERANCE_SECONDS = 300
HEADER = "paddle-signature"
SCHEME = "h1"
# Paddle writes amounts in the lowest denomination of the currency as ISO 4217 defines it
# (https://developer.paddle.com/concepts/sell/supported-currencies): no override.
EXPONENT_OVERRIDES: Mapping[str, int] = {}

_ADJUSTMENT_TYPES = frozenset({"adjustment.created", "adjustment.updated"})


def parse_secret(text: str, options: Mapping[str, Any]) -> bytes:
    return common.text_secret(text, rule="a Paddle secret key is 16 or more generated characters")


def verify(request: WebhookRequest, keys: Sequence[bytes], *, now: int, tolerance_seconds: int) -> None:
    """Raise `SignatureError` unless an `h1` signature of the header matches a key, with a fresh `ts`."""
    common.verify_timestamped(
        request.headers,
        request.body,
        keys,
        now=now,
        tolerance_seconds=tolerance_seconds,
        header=HEADER,
        separator=";",
        timestamp_name="ts",
        scheme=SCHEME,
        joiner=b":",
        key_name="secret key",
    )


def read(request: WebhookRequest) -> ProviderEvent:
    body = common.parse_object(request.text)
    event_type = common.event_type(body.get("event_type"), "event_type")
    data = body.get("data")
    amount, currency, fields = None, None, {}
    if isinstance(data, dict):
        if event_type.startswith("transaction."):
            amount, currency = common.amount_and_currency(
                common.get(data, "details.totals.grand_total"),
                data.get("currency_code"),
                amount_field="data.details.totals.grand_total",
                currency_field="data.currency_code",
                as_text=True,
            )
        elif event_type.startswith("adjustment."):
            amount, currency = common.amount_and_currency(
                common.get(data, "totals.total"),
                data.get("currency_code"),
                amount_field="data.totals.total",
                currency_field="data.currency_code",
                as_text=True,
            )
            action = data.get("action")
            if isinstance(action, str):
                fields = {"action": action}
    return ProviderEvent(
        provider_event_id=common.event_id(body.get("event_id"), "event_id"),
        provider_event_type=event_type,
        timestamp=common.iso_timestamp(body.get("occurred_at"), "occurred_at"),
        payload=request.text,
        amount=amount,
        amount_unit="minor" if amount is not None else None,
        currency=currency,
        fields=fields,
    )


def receive(
    request: WebhookRequest, keys: Sequence[bytes], options: Mapping[str, Any], now: int
) -> list[ProviderEvent]:
    tolerance_seconds = common.tolerance(options, DEFAULT_TOLERANCE_SECONDS)
    verify(request, keys, now=now, tolerance_seconds=tolerance_seconds)
    return [read(request)]


def default_transaction_type(event: ProviderEvent) -> str:
    if event.provider_event_type == "transaction.completed":
        return "payment"
    if event.provider_event_type in _ADJUSTMENT_TYPES:
        action = event.fields.get("action", "")
        if action == "refund":
            return "refund"
        if action.startswith("chargeback"):
            return "dispute"
    return "other"
