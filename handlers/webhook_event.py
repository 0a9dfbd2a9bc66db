"""The standard source's body (`POST /webhook`): strictly decoded, checked against `event_schema.json`.

The same schema file is the API Gateway model. Everything that cannot be stored and routed is refused
here with a 4xx naming the reason (README, "The admission contract").
"""

from __future__ import annotations

import datetime
import json
import unicodedata
from decimal import Decimal
from pathlib import Path
from typing import Any

import fastjsonschema
import money_facts

import money
import strict_json
from canonical_event import CanonicalEvent, payload_sha256, utc_text
from errors import (
    INVALID_AMOUNT,
    MISSING_OBJECT_ID,
    PAYLOAD_TOO_LARGE,
    SCHEMA_VIOLATION,
    UNKNOWN_CURRENCY_EXPONENT,
    UNMAPPED_TRANSACTION_TYPE,
    PipelineError,
)

# The outcome of a body that names none (README, "The money contract"); other types get none.
DEFAULT_OUTCOMES = {"payment": "succeeded", "refund": "succeeded", "dispute": "opened"}

# Characters that draw something although Unicode files them as letters or symbols: the Hangul fillers
# (U+115F, U+1160, U+3164, U+FFA0) and the braille blank (U+2800). `blank` treats them as nothing.
_BLANK_GRAPHEMES = frozenset("\u115f\u1160\u3164\uffa0\u2800")

SCHEMA_PATH = Path(__file__).with_name("event_schema.json")
# Compiled once per cold start; the same file is the API Gateway model.
_validate = fastjsonschema.compile(json.loads(SCHEMA_PATH.read_text(encoding="utf-8")))
# Keeps every accepted event storable in one item (400 KB) with its routed message (at most about twice
# the body: see routed_message.py), and the message within SQS's 256 KiB.
MAX_BODY_BYTES = 100 * 1024
STANDARD_SOURCE = "standard"
# Why `POST /webhook` needs no message check at the door: its routed message is legal and fits by
# construction. Strings are written through `routed_message.json_text`, which escapes everything SQS
# refuses; the attributes match the schema's patterns (`event_id`, `transaction_type`) or are "standard";
# and escaping at most doubles the payload (`"` and `\\` become two characters, U+FFFE/U+FFFF three bytes
# become six), while the other members take under 2 KiB. tests/handlers/test_admission_contract.py holds
# this bound against the queue's limit and measures the worst body.
MESSAGE_BOUND = 2 * MAX_BODY_BYTES + 2048


class InvalidEventError(PipelineError):
    """The body is not an acceptable event; `field` names the offending field when there is one. Its
    status is the reason's (errors.REASONS: 413 for the size limits, else 400)."""

    def __init__(self, reason: str, message: str, field: str | None = None) -> None:
        super().__init__(reason, message, field)


def _field_of(error: fastjsonschema.JsonSchemaValueException) -> str | None:
    path = [str(part) for part in (error.path or [])[1:]]
    if error.rule == "required":
        missing = [name for name in error.rule_definition if name not in (error.value or {})]
        path += missing[:1]
    return ".".join(path) or None


def decode_body(body: bytes) -> tuple[str, Any]:
    """Size check and strict decoding: (text, value). Raises `InvalidEventError` (reason `payload_too_large`
    for bodies over `MAX_BODY_BYTES`, else the `strict_json` reason)."""
    if len(body) > MAX_BODY_BYTES:
        raise InvalidEventError(PAYLOAD_TOO_LARGE, f"body is larger than {MAX_BODY_BYTES} bytes")
    try:
        return strict_json.decode(body)
    except strict_json.JsonDecodeError as error:
        raise InvalidEventError(error.reason, error.message) from None


def parse_event(body: bytes) -> CanonicalEvent:
    """Raw body of `POST /webhook` -> the canonical event. Raises `InvalidEventError`."""
    text, event = decode_body(body)
    try:
        _validate(event)
    except fastjsonschema.JsonSchemaValueException as error:
        raise InvalidEventError(SCHEMA_VIOLATION, error.message, _field_of(error)) from None
    amount = Decimal(event["amount"])  # its DynamoDB range is checked once, where the item is built
    places = money.decimal_places_beyond_exponent(amount, event.get("currency"))
    if places is not None:  # money cannot move in fractions of the minor unit (`12.5` JPY, `0.001` USD)
        raise InvalidEventError(
            INVALID_AMOUNT,
            f"amount {event['amount']} has more decimal places than {event['currency']}'s exponent ({places})",
            "amount",
        )
    try:
        moment = datetime.datetime.fromisoformat(event["timestamp"])
        # An offset can move a time at the edge of `datetime`'s range (years 1 and 9999) out of it.
        timestamp = event["timestamp"] if event["timestamp"].endswith("Z") else utc_text(moment)
    except (ValueError, OverflowError) as error:
        raise InvalidEventError(SCHEMA_VIOLATION, f"timestamp is not a valid date-time: {error}", "timestamp") from None
    transaction_type = event["transaction_type"]
    version = event.get("object_version")
    # Absent: what every sender meant before outcomes existed (payment/refund succeeded, dispute opened).
    outcome = event.get("outcome") or DEFAULT_OUTCOMES.get(transaction_type)
    currency = event.get("currency")
    object_id = event.get("object_id")
    return CanonicalEvent(
        event_id=event["event_id"],
        source=STANDARD_SOURCE,
        provider_event_type=transaction_type,
        transaction_type=transaction_type,
        # Kept as written (`12.50` stays `12.50`), padded to the currency's exponent, never rounded.
        amount=money.with_exponent(amount, currency),
        currency=currency,
        unrouted_reason=parked_reason(transaction_type, outcome, amount, currency, object_id),
        # A `Z` time is kept as written (sub-second digits included); an offset is converted to UTC.
        timestamp=timestamp,
        payload=text,
        payload_sha256=payload_sha256(event),
        outcome=outcome,
        object_id=object_id,
        parent_object_id=event.get("parent_object_id"),
        object_version=int(version) if version is not None else None,
    )


def blank(text: str) -> bool:
    """True when `text` shows nothing: no letter, number, punctuation or symbol (Unicode general categories
    L, N, P, S), the blank fillers `_BLANK_GRAPHEMES` not counting. `" "`, a tab, U+200B (zero-width
    space, a format character), U+2060, U+FEFF, U+3000, lone combining marks: blank. `"pay 1"`: not."""
    return not any(
        unicodedata.category(character)[0] in "LNPS" and character not in _BLANK_GRAPHEMES for character in text
    )


def parked_reason(
    transaction_type: str, outcome: str | None, amount: Decimal, currency: str | None, object_id: str | None
) -> str | None:
    """Why a schema-valid body is stored but parked in unrouted-events (2xx, alarmed), else None.

    - `unmapped_transaction_type`: `payment`, `refund` or `dispute` in another case (`PAYMENT`, `Refund`),
      with or without an `outcome`. Types are exact (the router routes only the three lower-case names);
      a miscased one is a sender's money fact spelled wrong, so it is parked as an unmapped type is without
      an outcome, never a quiet lifecycle fact (README, "The webhook contract"; red-team R2-5).

    README, "The money contract": every money fact on a money queue carries an `object_id` (consumers
    dedupe and order by it) and a `currency` whose exponent the provider or ISO 4217 documents (an amount
    means nothing without one). A money fact that moves money (`money_facts.moves_money`:
    payment/refund/dispute with a money outcome; the schema makes every amount positive) without them is
    parked as a provider source parks it (`sources.canonical`):
    - `unknown_currency_exponent`: no `currency`, or one `money.exponent` does not know (`ABC`, no such
      code; `XXX`/`XTS`, which ISO 4217 gives no minor unit); ISO's withdrawn codes (HRK) are known;
    - `missing_object_id`: no `object_id`, or a `blank` one (`" "`, a tab, U+200B): one blank id for
      every payment would make a consumer keep one of them and drop the others as stale (R2-4).
    Never refused: the body is signed and complete for the sender, and `replay` can route it once the cause
    is fixed.
    """
    lowered = transaction_type.lower()  # the schema's pattern makes it ASCII
    if lowered != transaction_type and lowered in money_facts.MONEY_OUTCOMES:
        return UNMAPPED_TRANSACTION_TYPE
    if not money_facts.moves_money(transaction_type, outcome, amount):
        return None
    if currency is None:
        return UNKNOWN_CURRENCY_EXPONENT
    try:
        money.exponent(currency)
    except money.UnknownCurrencyError:
        return UNKNOWN_CURRENCY_EXPONENT
    if object_id is None or blank(object_id):
        return MISSING_OBJECT_ID
    return None
