"""Standard Webhooks v1 senders with their own body shape (Svix-based senders included).

Verification is `webhook_signature.verify`, the same code as `POST /webhook`: HMAC-SHA256 over
`{webhook-id}.{webhook-timestamp}.{raw body}`, `whsec_<base64>` secrets, any `v1,` signature of the header
against any secret, and the signed timestamp within `tolerance_seconds` in both directions (default 300,
the spec's recommendation). Svix's `svix-id`/`svix-timestamp`/`svix-signature` header names are accepted
when none of the `webhook-*` names is present.

Reading: event id = the `webhook-id` header (signed); type = the body's `type`; time = the body's
`timestamp` (ISO-8601 with an offset), else the signed `webhook-timestamp`. The amount, when the source
sets `amount_field` (a dotted path into the body, e.g. `data.amount`), is a JSON number or a numeric
string in `amount_unit` units (`major`, the default, or `minor`, which must be integral); the currency is
read from `currency_field`. An event without a value at `amount_field` carries no amount.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from errors import INVALID_AMOUNT, MISSING_CURRENCY, NOT_PROVIDER_SHAPE
from providers import ProviderEvent, WebhookRequest, common
from webhook_event import InvalidEventError
from webhook_signature import SignatureError, decode_secret, verify, with_svix_aliases

SECRET_FORMAT = "whsec_<base64>, as the sender shows it"  # noqa: S105
__all__ = ["InvalidEventError", "SignatureError", "default_transaction_type", "parse_secret", "receive"]
OPTIONS: frozenset[str] = frozenset({"tolerance_seconds", "amount_field", "currency_field", "amount_unit"})
EXPONENT_OVERRIDES: Mapping[str, int] = {}
DEFAULT_TOLERANCE_SECONDS = 300
# A sender's own event types mean nothing here by default: the source's `type_map` maps them.
DEFAULT_MAPPING: Mapping[str, str] = {}

_NUMERIC = re.compile(r"-?\d{1,30}(?:\.\d{1,18})?", re.ASCII)
_MISSING = object()


def parse_secret(text: str, options: Mapping[str, Any]) -> bytes:
    """`whsec_<base64>` -> key bytes. Raises ValueError for anything else."""
    key = decode_secret(text)
    common.strong_enough(key, rule="a Standard Webhooks secret is whsec_ and the base64 of 24-64 random bytes")
    return key


def receive(
    request: WebhookRequest, keys: Sequence[bytes], options: Mapping[str, Any], now: int
) -> list[ProviderEvent]:
    """Verify the Standard Webhooks signature and timestamp, then read the one event of the body."""
    tolerance = options.get("tolerance_seconds", DEFAULT_TOLERANCE_SECONDS)
    headers = with_svix_aliases(request.headers)
    webhook_id = verify(headers, request.body, keys, now=now, tolerance_seconds=tolerance)
    signed_time = int(headers["webhook-timestamp"].strip())
    document = common.parse_json(request.text)
    if not isinstance(document, dict):
        raise InvalidEventError(NOT_PROVIDER_SHAPE, "body must be a JSON object")
    body_time = document.get("timestamp")
    timestamp = (
        common.iso_timestamp(body_time, "timestamp")
        if body_time is not None
        else common.epoch_seconds(signed_time, "webhook-timestamp")
    )
    amount, unit, code = _amount(document, options)
    return [
        ProviderEvent(
            provider_event_id=common.event_id(webhook_id, "webhook-id"),
            provider_event_type=common.event_type(document.get("type"), "type"),
            timestamp=timestamp,
            payload=request.text,
            amount=amount,
            amount_unit=unit,
            currency=code,
        )
    ]


def _at(document: Any, path: str) -> Any:
    """The value at a dotted path, or `_MISSING`."""
    value = document
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return _MISSING
        value = value[part]
    return value


def _amount(document: Mapping[str, Any], options: Mapping[str, Any]) -> tuple[Decimal | None, Any, str | None]:
    amount_field = options.get("amount_field")
    if not amount_field:
        return None, None, None
    raw = _at(document, amount_field)
    if raw is _MISSING or raw is None:
        return None, None, None
    unit = options.get("amount_unit", "major")
    if isinstance(raw, bool) or not isinstance(raw, int | Decimal | str):
        raise InvalidEventError(INVALID_AMOUNT, f"{amount_field} must be a number", amount_field)
    if isinstance(raw, str):
        if not _NUMERIC.fullmatch(raw):
            raise InvalidEventError(INVALID_AMOUNT, f"{amount_field} must be a number", amount_field)
        raw = Decimal(raw)
    value = Decimal(raw)
    if unit == "minor" and value != value.to_integral_value():
        raise InvalidEventError(INVALID_AMOUNT, f"{amount_field} must be an integer count of minor units", amount_field)
    currency_field = options.get("currency_field")
    raw_currency = _at(document, currency_field) if currency_field else _MISSING
    if raw_currency is _MISSING or raw_currency is None:
        if unit == "minor":
            field = currency_field or "currency_field"
            raise InvalidEventError(MISSING_CURRENCY, f"{field}: a minor-unit amount needs its currency", field)
        return value, unit, None
    return value, unit, common.currency(raw_currency, currency_field)


def default_transaction_type(event: ProviderEvent) -> str:
    """No default mapping: a sender's own types are mapped by the source's `type_map`; else `other`."""
    return DEFAULT_MAPPING.get(event.provider_event_type, "other")
