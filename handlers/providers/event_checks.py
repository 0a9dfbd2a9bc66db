"""Checks shared by provider modules: identifiers that become SQS attributes, provider times, amounts.

Pure stdlib, no state. Every failure is an `InvalidEventError` naming the field: these run after the
signature is verified, so the body is the provider's own and only its shape can be wrong (400).
"""

from __future__ import annotations

import datetime
import hmac
import re
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from webhook_event import InvalidEventError

# Provider event ids and types travel as SQS message attributes and DynamoDB keys.
_EVENT_ID = re.compile(r"[A-Za-z0-9_.:-]{1,200}")
_EVENT_TYPE = re.compile(r"[A-Za-z0-9_.:-]{1,128}")
# ISO-8601 extended format with an explicit offset; fractions of any length (providers write 1 to 9 digits).
_TIMESTAMP = re.compile(
    r"(\d{4}-\d{2}-\d{2})[Tt](\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?([Zz]|[+-]\d{2}:\d{2})",
    re.ASCII,
)
_MAJOR_AMOUNT = re.compile(r"-?\d{1,30}(?:\.\d{1,18})?", re.ASCII)
_CURRENCY = re.compile(r"[A-Za-z]{3}", re.ASCII)


def event_id(value: Any, field: str) -> str:
    """A provider event id as an SQS attribute accepts it. Raises `InvalidEventError` naming `field`."""
    if not isinstance(value, str) or not _EVENT_ID.fullmatch(value):
        raise InvalidEventError("invalid_event_id", f"{field} must match [A-Za-z0-9_.:-]{{1,200}}", field)
    return value


def event_type(value: Any, field: str) -> str:
    """A provider event type as an SQS attribute accepts it. Raises `InvalidEventError` naming `field`."""
    if not isinstance(value, str) or not _EVENT_TYPE.fullmatch(value):
        raise InvalidEventError("invalid_event_type", f"{field} must match [A-Za-z0-9_.:-]{{1,128}}", field)
    return value


def utc_timestamp(value: Any, field: str) -> datetime.datetime:
    """`2024-12-16T15:57:04.0Z`, `2017-01-19T16:42:03+01:00` -> an aware datetime in UTC.

    An offset is required (a time without one is ambiguous); sub-microsecond digits are truncated.
    """
    match = _TIMESTAMP.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise InvalidEventError(
            "invalid_timestamp", f"{field} must be an ISO-8601 date-time with a time zone offset", field
        )
    date, time, fraction, offset = match.groups()
    text = f"{date}T{time}{'.' + (fraction + '00000')[:6] if fraction else ''}"
    text += "+00:00" if offset in ("Z", "z") else offset
    try:
        # An offset can move a time at the edge of `datetime`'s range (years 1 and 9999) out of it.
        return datetime.datetime.fromisoformat(text).astimezone(datetime.UTC)
    except (ValueError, OverflowError):
        raise InvalidEventError("invalid_timestamp", f"{field} is not a valid date-time", field) from None


def epoch_timestamp(seconds: int) -> datetime.datetime:
    """Integer seconds since the epoch -> an aware datetime in UTC."""
    return datetime.datetime.fromtimestamp(seconds, tz=datetime.UTC)


def currency(value: Any, field: str) -> str:
    """A three-letter currency code, upper-cased. Raises `InvalidEventError` naming `field`."""
    if not isinstance(value, str) or not _CURRENCY.fullmatch(value):
        raise InvalidEventError("invalid_currency", f"{field} must be a three-letter ISO 4217 code", field)
    return value.upper()


def major_amount(value: Any, field: str) -> Decimal:
    """A major-unit amount written as a decimal string (`"24.95"`), taken exactly as written."""
    if not isinstance(value, str) or not _MAJOR_AMOUNT.fullmatch(value):
        raise InvalidEventError("invalid_amount", f"{field} must be a decimal amount such as 10.00", field)
    return Decimal(value)


def minor_amount(value: Any, field: str) -> Decimal:
    """A minor-unit amount: a JSON integer (never a boolean). Raises `InvalidEventError` naming `field`."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidEventError("invalid_amount", f"{field} must be an integer count of minor units", field)
    return Decimal(value)


def any_match(expected: Iterable[bytes], candidates: Iterable[bytes]) -> bool:
    """True when any expected digest equals any candidate; every pair is compared in constant time.

    No early exit: the time taken does not tell which key or which signature matched.
    """
    candidates = list(candidates)
    matched = False
    for digest in expected:
        for candidate in candidates:
            matched |= hmac.compare_digest(digest, candidate)
    return matched
