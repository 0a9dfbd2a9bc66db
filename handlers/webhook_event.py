"""The event body: parsed with exact decimals, checked against `event_schema.json`, turned into an item."""

from __future__ import annotations

import datetime
import hashlib
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import fastjsonschema

from canonical_json import decimal_text, dumps, exact_normalize

SCHEMA_PATH = Path(__file__).with_name("event_schema.json")
# Compiled once per cold start; the same file is the API Gateway model.
_validate = fastjsonschema.compile(json.loads(SCHEMA_PATH.read_text(encoding="utf-8")))
# DynamoDB numbers: up to 38 significant digits, magnitude 1E-130 .. 9.99E+125.
_MAX_DIGITS, _MIN_EXPONENT, _MAX_EXPONENT = 38, -130, 125
# Leaves the item (payload plus attributes) well under DynamoDB's 400 KB and the router's message under
# SQS's 256 KiB, so an accepted event can always be stored and routed.
MAX_BODY_BYTES = 100 * 1024


class InvalidEventError(Exception):
    """The body is not an acceptable event; `field` names the offending field when there is one."""

    def __init__(self, reason: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.field = field


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _field_of(error: fastjsonschema.JsonSchemaValueException) -> str | None:
    path = [str(part) for part in (error.path or [])[1:]]
    if error.rule == "required":
        missing = [name for name in error.rule_definition if name not in (error.value or {})]
        path += missing[:1]
    return ".".join(path) or None


def _check_dynamodb_number(field: str, value: Decimal) -> None:
    _sign, digits, exponent = exact_normalize(value).as_tuple()
    magnitude = len(digits) + int(exponent) - 1
    if len(digits) > _MAX_DIGITS or not _MIN_EXPONENT <= magnitude <= _MAX_EXPONENT:
        raise InvalidEventError(
            "schema_violation", f"{field} has more than {_MAX_DIGITS} digits or is out of range", field
        )


def parse_event(body: bytes) -> dict[str, Any]:
    """Parse and validate a raw body; extra fields are kept. Raises `InvalidEventError`."""
    if len(body) > MAX_BODY_BYTES:
        raise InvalidEventError("payload_too_large", f"body is larger than {MAX_BODY_BYTES} bytes")
    try:
        event = json.loads(body, parse_float=Decimal, parse_constant=_reject_constant)
    except (ValueError, UnicodeDecodeError) as error:
        raise InvalidEventError("malformed_json", f"body is not valid JSON: {error}") from error
    try:
        _validate(event)
    except fastjsonschema.JsonSchemaValueException as error:
        field = _field_of(error)
        raise InvalidEventError("schema_violation", error.message, field) from error
    amount = event["amount"]
    _check_dynamodb_number("amount", Decimal(amount))
    try:
        datetime.datetime.fromisoformat(event["timestamp"])
    except ValueError as error:
        raise InvalidEventError(
            "schema_violation", f"timestamp is not a valid date-time: {error}", "timestamp"
        ) from error
    return event


def payload_sha256(event: dict[str, Any]) -> str:
    """Hash of the canonical event, so a re-delivery with other whitespace or key order is a duplicate."""
    return hashlib.sha256(dumps(event).encode()).hexdigest()


def build_item(
    event: dict[str, Any], *, raw_body: bytes, webhook_id: str, now: datetime.datetime, ttl_days: int
) -> dict[str, dict[str, str]]:
    """The DynamoDB item (low-level attribute values) that records this event.

    The payload is stored as the exact text that was signed: DynamoDB maps would reject empty keys,
    deep nesting and numbers beyond its range that a provider's extra fields may contain.
    """
    item = {
        "event_id": {"S": event["event_id"]},
        "transaction_type": {"S": event["transaction_type"]},
        "amount": {"N": decimal_text(Decimal(event["amount"]))},
        "timestamp": {"S": event["timestamp"]},
        "payload": {"S": raw_body.decode("utf-8")},
        "payload_sha256": {"S": payload_sha256(event)},
        "received_at": {"S": now.isoformat(timespec="milliseconds").replace("+00:00", "Z")},
        "webhook_id": {"S": webhook_id},
        "ttl": {"N": str(int(now.timestamp()) + ttl_days * 86400)},
    }
    if "currency" in event:
        item["currency"] = {"S": event["currency"]}
    return item
