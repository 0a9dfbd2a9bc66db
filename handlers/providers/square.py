"""Square: `x-square-hmacsha256-signature` = base64 HMAC-SHA256 over `notification_url + body`.

https://developer.squareup.com/docs/webhooks/step3validate; the official SDK's
`square.utils.webhooks_helper.verify_signature` does the same. The key is the subscription's signature key
as text. The URL is part of the signed text, so it must be the URL registered with Square byte for byte:
`request.url` (the source's `notification_url` option, else this stage's URL of the route).

The older `x-square-signature` header (HMAC-SHA1 over the same text) is not accepted: Square sends the
SHA-256 header on every current delivery, and accepting either would let whoever can forge the weaker
one choose it. A delivery with only the SHA-1 header is refused (`missing_signature_header`).
Nothing signs a time: a captured delivery can be replayed; its signed `event_id` makes it a duplicate.

Events: id `event_id`, type `type`, time `created_at`; the object is `data.object.<data.type>`, its money
`amount_money.amount` (minor units) and `amount_money.currency` for payments, refunds and disputes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import money
from errors import INVALID_SIGNATURE, MALFORMED_SIGNATURE_HEADER, MISSING_SIGNATURE_HEADER
from providers import ProviderEvent, WebhookRequest, common
from webhook_signature import SignatureError

SECRET_FORMAT = "the webhook subscription's signature key, used as text"  # noqa: S105
OPTIONS = frozenset({"notification_url"})
HEADER = "x-square-hmacsha256-signature"
LEGACY_HEADER = "x-square-signature"
# Square's Money.amount is "in the smallest denomination of the currency" (ISO 4217 minor units): no override.
EXPONENT_OVERRIDES: Mapping[str, int] = money.provider_exponents("square")  # provider_exponents/square.json

DEFAULT_MAPPING: Mapping[str, str] = {"payment.created": "payment", "payment.updated": "payment"}
PREFIX_MAPPING: Mapping[str, str] = {"refund.": "refund", "dispute.": "dispute"}
_MONEY_OBJECTS = frozenset({"payment", "refund", "dispute"})


def parse_secret(text: str, options: Mapping[str, Any]) -> bytes:
    return common.text_secret(text, rule="a Square signature key is 16 or more generated characters")


def verify(request: WebhookRequest, keys: Sequence[bytes]) -> None:
    if not request.headers.get(HEADER) and request.headers.get(LEGACY_HEADER):
        raise SignatureError(
            MISSING_SIGNATURE_HEADER, f"missing header {HEADER} ({LEGACY_HEADER}, HMAC-SHA1, is not accepted)"
        )
    header = common.signature_header(request.headers, HEADER)
    signature = common.decode_base64(header, size=32)
    if signature is None:
        raise SignatureError(MALFORMED_SIGNATURE_HEADER, f"{HEADER} must be a base64 HMAC-SHA256")
    # surrogatepass: a URL that is not valid UTF-8 simply matches nothing, it never raises.
    signed = request.url.encode("utf-8", "surrogatepass") + request.body
    if not common.any_match(keys, signed, [signature]):
        raise SignatureError(
            INVALID_SIGNATURE, "the signature matches no active signature key for this notification URL"
        )


def read(request: WebhookRequest) -> ProviderEvent:
    body = common.parse_object(request.text)
    object_type = common.get(body, "data.type")
    amount, currency = (None, None)
    if isinstance(object_type, str) and object_type in _MONEY_OBJECTS:  # a list here is unhashable: no 500
        money = common.get(body, f"data.object.{object_type}.amount_money")
        if isinstance(money, dict):
            field = f"data.object.{object_type}.amount_money"
            amount, currency = common.amount_and_currency(
                money.get("amount"),
                money.get("currency"),
                amount_field=f"{field}.amount",
                currency_field=f"{field}.currency",
            )
    return ProviderEvent(
        provider_event_id=common.event_id(body.get("event_id"), "event_id"),
        provider_event_type=common.event_type(body.get("type"), "type"),
        timestamp=common.iso_timestamp(body.get("created_at"), "created_at"),
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
