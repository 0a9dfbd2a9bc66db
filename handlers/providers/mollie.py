"""Mollie next-gen (signed) webhooks: `X-Mollie-Signature: sha256=<hex HMAC-SHA256 of the raw body>`.

The key is the webhook's signing secret as text. While a secret is being rotated Mollie signs with both
the old and the new one (the header then holds several `sha256=` values, comma-separated once proxies
join repeated headers); any of them may match any configured secret. There is no signed timestamp:
deduplication on the event id is the defence against replays. Classic Mollie webhooks (an unsigned
`id=tr_...` form post that must be fetched back from the API) are not supported.

One delivery is one event: `id`, `type`, `createdAt`; the amount is the embedded entity's
`amount.value`/`amount.currency` (major units as a decimal string, e.g. `"24.95"`), absent when the
delivery is a "simple" one (no `_embedded`) or the entity has no amount.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping, Sequence
from typing import Any

from providers import ProviderEvent, WebhookRequest, common
from webhook_event import InvalidEventError
from webhook_signature import SignatureError  # noqa: F401 - what verify raises, as module.SignatureError

SECRET_FORMAT = "the webhook's signing secret, as text"  # noqa: S105
OPTIONS: frozenset[str] = frozenset()
EXPONENT_OVERRIDES: Mapping[str, int] = {}
SIGNATURE_HEADER = "x-mollie-signature"
SIGNATURE_PREFIX = "sha256="

DEFAULT_MAPPING: Mapping[str, str] = {
    "payment.paid": "payment",
    "payment-link.paid": "payment",
    "refund.refunded": "refund",
    "chargeback.received": "dispute",
}


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
        raise InvalidEventError("not_provider_shape", "body must be a Mollie event object")
    value, code = _amount(document)
    return [
        ProviderEvent(
            provider_event_id=common.event_id(document.get("id"), "id"),
            provider_event_type=common.event_type(document.get("type"), "type"),
            timestamp=common.iso_timestamp(document.get("createdAt"), "createdAt"),
            payload=request.text,
            amount=value,
            amount_unit="major" if value is not None else None,
            currency=code,
        )
    ]


def _amount(document: Mapping[str, Any]) -> tuple[Any, str | None]:
    """The embedded entity's amount: `_embedded.entity.amount`, or that of the one entity embedded under its
    resource name (`_embedded.payment-link.amount`, as in Mollie's own fixtures)."""
    embedded = document.get("_embedded")
    if embedded is None:
        return None, None
    if not isinstance(embedded, dict):
        raise InvalidEventError("not_provider_shape", "_embedded must be an object", "_embedded")
    if isinstance(embedded.get("entity"), dict):
        name, entity = "entity", embedded["entity"]
    else:
        entities = [(name, entity) for name, entity in embedded.items() if isinstance(entity, dict)]
        if len(entities) != 1:
            return None, None
        name, entity = entities[0]
    amount = entity.get("amount")
    if amount is None:
        return None, None
    field = f"_embedded.{name}.amount"
    if not isinstance(amount, dict):
        raise InvalidEventError("invalid_amount", f"{field} must be an object", field)
    return common.major_amount(amount.get("value"), f"{field}.value"), common.currency(
        amount.get("currency"), f"{field}.currency"
    )


def default_transaction_type(event: ProviderEvent) -> str:
    """Mollie's default mapping (`DEFAULT_MAPPING`); anything else is `other`."""
    return DEFAULT_MAPPING.get(event.provider_event_type, "other")
