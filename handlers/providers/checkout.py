"""Checkout.com: `Cko-Signature` = hex HMAC-SHA256 of the raw body, keyed with the webhook's signature key.

https://www.checkout.com/docs/developer-resources/webhooks/manage-webhooks/set-up-your-webhook-receiver
Nothing else is signed: there is no signed timestamp, so a captured delivery can be replayed at any time;
its signed `id` makes the replay a duplicate of the stored event (the table's TTL must outlive Checkout's
retries: up to 8 attempts over about 30 hours). An `Authorization` header configured on the webhook is
not checked here (the HMAC is the stronger proof).

Events: id `id`, type `type`, time `created_on` (legacy webhooks) or `timestamp` (workflow webhooks),
amount `data.amount` in minor units of `data.currency`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import money
from providers import ProviderEvent, WebhookRequest, common
from webhook_signature import SignatureError  # noqa: F401 - what verify raises, as module.SignatureError

SECRET_FORMAT = "the webhook's signature key (the key of the workflow's webhook action), used as text"  # noqa: S105
OPTIONS: frozenset[str] = frozenset()
HEADER = "cko-signature"

# How Checkout.com's API writes amounts, where it differs from ISO 4217.
# https://www.checkout.com/docs/payments/accept-payments/format-the-amount-value: whole units, thousandths,
# hundredths for "all other currencies" (so CLP and CLF are 2 at Checkout.com): the rows and why in the file.
EXPONENT_OVERRIDES: Mapping[str, int] = money.provider_exponents("checkout")  # provider_exponents/checkout.json

DEFAULT_MAPPING: Mapping[str, str] = {
    "payment_captured": "payment",
    "payment_approved": "payment",
    "payment_refunded": "refund",
}
PREFIX_MAPPING: Mapping[str, str] = {"dispute_": "dispute"}


def parse_secret(text: str, options: Mapping[str, Any]) -> bytes:
    return common.text_secret(text, rule="a Checkout.com signature key is 16 or more generated characters")


def verify(request: WebhookRequest, keys: Sequence[bytes]) -> None:
    common.verify_body_hex(request.headers, request.body, keys, header=HEADER, key_name="signature key")


def read(request: WebhookRequest) -> ProviderEvent:
    body = common.parse_object(request.text)
    if "created_on" in body:
        timestamp = common.iso_timestamp(body.get("created_on"), "created_on")
    else:
        timestamp = common.iso_timestamp(body.get("timestamp"), "timestamp")
    data = body.get("data")
    amount, currency = (None, None)
    if isinstance(data, dict):
        amount, currency = common.amount_and_currency(
            data.get("amount"), data.get("currency"), amount_field="data.amount", currency_field="data.currency"
        )
    return ProviderEvent(
        provider_event_id=common.event_id(body.get("id"), "id"),
        provider_event_type=common.event_type(body.get("type"), "type"),
        timestamp=timestamp,
        payload=request.text,
        amount=amount,
        amount_unit="minor" if amount is not None else None,
        currency=currency,
    )


def receive(
    request: WebhookRequest, keys: Sequence[bytes], options: Mapping[str, Any], now: int
) -> list[ProviderEvent]:
    verify(request, keys)
    return [read(request)]


def default_transaction_type(event: ProviderEvent) -> str:
    """The default mapping (`DEFAULT_MAPPING`, then `PREFIX_MAPPING`); anything else is `other`."""
    return common.mapped_type(event.provider_event_type, DEFAULT_MAPPING, PREFIX_MAPPING)
