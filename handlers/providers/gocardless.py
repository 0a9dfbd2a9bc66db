"""GoCardless webhooks: `Webhook-Signature` = hex HMAC-SHA256 of the raw body, keyed with the endpoint secret.

A delivery is a batch, `{"events": [...]}`; the signature covers the whole body, so verifying it verifies
every event. There is no signed timestamp: deduplication on the event id is the defence against replays.
GoCardless events carry no amounts (`links` point to the resource): `amount` and `currency` stay absent.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping, Sequence
from typing import Any

from canonical_json import dumps
from providers import ProviderEvent, WebhookRequest, common
from webhook_event import InvalidEventError
from webhook_signature import SignatureError  # noqa: F401 - what verify raises, as module.SignatureError

SECRET_FORMAT = "the webhook endpoint secret, as text"  # noqa: S105
OPTIONS: frozenset[str] = frozenset()
EXPONENT_OVERRIDES: Mapping[str, int] = {}
SIGNATURE_HEADER = "webhook-signature"

DEFAULT_MAPPING: Mapping[str, str] = {
    "payments.confirmed": "payment",
    "payments.paid_out": "payment",
    "refunds.paid": "refund",
    "payments.charged_back": "dispute",
}


def parse_secret(text: str, options: Mapping[str, Any]) -> bytes:
    """The endpoint secret as text -> its UTF-8 bytes (the HMAC key). Raises ValueError when empty."""
    if not text or text != text.strip():
        raise ValueError("a GoCardless webhook secret is non-empty text without surrounding spaces")
    common.strong_enough(text, rule="a GoCardless webhook secret is 16 or more generated characters")
    return text.encode("utf-8")


def sign(key: bytes, body: bytes) -> str:
    """The `Webhook-Signature` value GoCardless sends for `body`."""
    return hmac.new(key, body, hashlib.sha256).hexdigest()


def verify(headers: Mapping[str, str], body: bytes, keys: Sequence[bytes]) -> None:
    """Raise `SignatureError` unless `Webhook-Signature` is the HMAC of `body` under one of `keys`."""
    common.verify_body_hex(
        headers, body, keys, header=SIGNATURE_HEADER, key_name="webhook secret", standard_reasons=True
    )


def receive(
    request: WebhookRequest, keys: Sequence[bytes], options: Mapping[str, Any], now: int
) -> list[ProviderEvent]:
    """Verify the delivery, then read one event per entry of `events`."""
    verify(request.headers, request.body, keys)
    document = common.parse_json(request.text)
    events = document.get("events") if isinstance(document, dict) else None
    if not isinstance(events, list) or not events:
        raise InvalidEventError(
            "not_provider_shape", 'body must be {"events": [...]} with at least one event', "events"
        )
    return [_event(item, index) for index, item in enumerate(events)]


def _event(item: Any, index: int) -> ProviderEvent:
    prefix = f"events[{index}]"
    if not isinstance(item, dict):
        raise InvalidEventError("not_provider_shape", f"{prefix} must be an object", prefix)
    resource_type = common.event_type(item.get("resource_type"), f"{prefix}.resource_type")
    action = common.event_type(item.get("action"), f"{prefix}.action")
    return ProviderEvent(
        provider_event_id=common.event_id(item.get("id"), f"{prefix}.id"),
        provider_event_type=common.event_type(f"{resource_type}.{action}", f"{prefix}.action"),
        timestamp=common.iso_timestamp(item.get("created_at"), f"{prefix}.created_at"),
        # The event's own JSON, written canonically (compact, sorted keys, exact decimals).
        payload=dumps(item, ascii_keys=False),
    )


def default_transaction_type(event: ProviderEvent) -> str:
    """GoCardless's default mapping (`DEFAULT_MAPPING`); anything else is `other`."""
    return DEFAULT_MAPPING.get(event.provider_event_type, "other")
