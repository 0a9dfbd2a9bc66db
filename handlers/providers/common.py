"""What the provider modules share: signature checks, then the reading of a verified body.

Two halves, kept apart on purpose:

- the signature path (`signature_header`, `decode_hex`, `decode_base64`, `any_match`, `epoch_text`,
  `check_freshness`, and the two verifiers of the schemes several providers use: `verify_timestamped`,
  a `t=`/`v1=` header signing `"{timestamp}{joiner}{body}"` (Stripe, Paddle), and `verify_body_hex`, a
  hex HMAC-SHA256 of the raw body in one header (Checkout.com, Razorpay, GoCardless, Mollie)): every
  failure is a `SignatureError` (401) with a stable reason code, whatever the header holds;
- the reading path (`parse_json`, `parse_object`, `get`, `event_id`, `event_type`, `minor_amount`,
  `major_amount`, `currency`, `amount_and_currency`, `epoch_seconds`, `iso_timestamp`): every failure is
  an `InvalidEventError` (400) naming the field. It runs only after the signature matched, so the body is
  the provider's own and only its shape can be wrong.

Pure stdlib, no state. Reason codes are written as literals where they are raised (the dashboard test
finds them there: tests/handlers/test_dashboard_metrics.py).
"""

from __future__ import annotations

import base64
import binascii
import datetime
import hashlib
import hmac
import re
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any

import strict_json
from errors import (
    INVALID_AMOUNT,
    INVALID_CURRENCY,
    INVALID_EVENT_ID,
    INVALID_EVENT_TYPE,
    INVALID_SIGNATURE,
    INVALID_TIMESTAMP,
    MALFORMED_SIGNATURE,
    MALFORMED_SIGNATURE_HEADER,
    MALFORMED_TIMESTAMP,
    MISSING_CURRENCY,
    MISSING_SIGNATURE_HEADER,
    MISSING_SIGNATURE_HEADERS,
    NO_SIGNATURE,
    NOT_AN_OBJECT,
    OVERSIZED_SIGNATURE_HEADER,
    TIMESTAMP_IN_FUTURE,
    TIMESTAMP_TOO_OLD,
)
from webhook_event import InvalidEventError
from webhook_signature import SignatureError, note_signature_matched

# Far above any real signature header (Stripe sends one `t` and one or two `v1`, ~150 characters), far
# below what would cost CPU to split: a longer value is refused before it is parsed.
MAX_SIGNATURE_HEADER_LENGTH = 4096
# Integer seconds since the epoch, at most 12 digits (year 33658): `int()` never sees anything else.
_EPOCH_DIGITS = re.compile(r"[0-9]{1,12}")
# Event ids become SQS message attributes and DynamoDB keys: a conservative character set.
EVENT_ID_PATTERN = re.compile(r"[A-Za-z0-9_.:-]{1,200}")
EVENT_TYPE_PATTERN = re.compile(r"[A-Za-z0-9_.:-]{1,128}")
# One part of an event id joined from several values with `:` (Adyen, Braintree, Razorpay): no `:` inside,
# so the joined id splits back into exactly its parts (two different tuples never give one id), and at
# least one letter or digit, so no part can pose as the `-` that marks an absent value.
ID_PART_PATTERN = re.compile(r"[A-Za-z0-9_.-]{0,99}[A-Za-z0-9][A-Za-z0-9_.-]{0,99}")
_HEX = re.compile(r"[0-9a-fA-F]+")
_CURRENCY_PATTERN = re.compile(r"[A-Za-z]{3}")
_MINOR_UNITS_TEXT = re.compile(r"-?[0-9]{1,30}")
_MAJOR_AMOUNT = re.compile(r"-?[0-9]{1,30}(?:\.[0-9]{1,18})?")
_ISO_TIMESTAMP = re.compile(
    r"(?P<base>[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2})"
    r"(?:\.(?P<fraction>[0-9]{1,9}))?"
    r"(?P<zone>Z|[+-][0-9]{2}:[0-9]{2})"
)
_MAX_EPOCH = 253402300799  # 9999-12-31T23:59:59Z, the last instant `datetime` can hold


# --- signature path: SignatureError only ----------------------------------------------------------


def signature_header(headers: Mapping[str, str], name: str) -> str:
    """The stripped value of header `name` (lower case), checked to be present, ASCII and of sane size."""
    value = headers.get(name)
    if not isinstance(value, str) or not value.strip():
        raise SignatureError(MISSING_SIGNATURE_HEADER, f"missing header {name}")
    if len(value) > MAX_SIGNATURE_HEADER_LENGTH:
        raise SignatureError(OVERSIZED_SIGNATURE_HEADER, f"{name} is longer than {MAX_SIGNATURE_HEADER_LENGTH}")
    if not value.isascii():
        raise SignatureError(MALFORMED_SIGNATURE_HEADER, f"{name} holds non-ASCII characters")
    return value.strip()


def decode_hex(text: str, *, size: int) -> bytes | None:
    """Hex digits (either case) -> `size` bytes, or None for anything else."""
    if not _HEX.fullmatch(text) or len(text) != 2 * size:
        return None
    return bytes.fromhex(text)


def decode_base64(text: str, *, size: int) -> bytes | None:
    """Standard base64 -> `size` bytes, or None for anything else."""
    try:
        value = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None
    return value if len(value) == size else None


def any_match(
    keys: Sequence[bytes],
    message: bytes,
    candidates: Sequence[bytes],
    digest: Callable[..., Any] = hashlib.sha256,
) -> bool:
    """True when an HMAC of `message` under any key equals any candidate.

    Every (key, candidate) pair is compared in constant time, with no early exit: the time taken does not
    tell which key or which signature matched.
    """
    matched = False
    for key in keys:
        expected = hmac.new(key, message, digest).digest()
        for candidate in candidates:
            matched |= hmac.compare_digest(expected, candidate)
    if matched:
        note_signature_matched()  # what the quarantine keeps is only ever signed (webhook_signature.py)
    return matched


def epoch_text(text: str, header_name: str) -> int:
    """A signed timestamp as written in a signature header: ASCII digits only, at most 12."""
    if not _EPOCH_DIGITS.fullmatch(text):
        raise SignatureError(MALFORMED_TIMESTAMP, f"the timestamp in {header_name} must be integer epoch seconds")
    return int(text)


def check_freshness(timestamp: int, *, now: int, tolerance_seconds: int, header_name: str) -> None:
    """Refuse a signed timestamp more than `tolerance_seconds` away from `now`, in either direction."""
    if timestamp < now - tolerance_seconds:
        raise SignatureError(
            TIMESTAMP_TOO_OLD, f"the timestamp in {header_name} is more than {tolerance_seconds} s in the past"
        )
    if timestamp > now + tolerance_seconds:
        raise SignatureError(
            TIMESTAMP_IN_FUTURE, f"the timestamp in {header_name} is more than {tolerance_seconds} s in the future"
        )


def verify_timestamped(
    headers: Mapping[str, str],
    body: bytes,
    keys: Sequence[bytes],
    *,
    now: int,
    tolerance_seconds: int,
    header: str,
    separator: str,
    timestamp_name: str,
    scheme: str,
    joiner: bytes,
    key_name: str,
) -> None:
    """A header of `name=value` items split by `separator`: exactly one `timestamp_name` (integer epoch
    seconds) and one or more `scheme` (hex HMAC-SHA256 over `"{timestamp}{joiner}{body}"`).

    Stripe: `t=<ts>,v1=<hex>...` joined with `.`; Paddle: `ts=<ts>;h1=<hex>...` joined with `:`. Items
    without `=`, other names and signatures that are not 64 hex digits are ignored. The timestamp must be
    within `tolerance_seconds` of `now`, checked after the signature (a forged timestamp is an invalid
    signature, not a stale one).
    """
    text = signature_header(headers, header)
    timestamps: list[str] = []
    candidates: list[bytes] = []
    for item in text.split(separator):
        name, equals, value = item.strip().partition("=")
        if not equals:
            continue
        if name == timestamp_name:
            timestamps.append(value)
        elif name == scheme:
            signature = decode_hex(value, size=32)
            if signature is not None:
                candidates.append(signature)
    if len(timestamps) != 1:
        raise SignatureError(MALFORMED_SIGNATURE_HEADER, f"{header} must hold exactly one {timestamp_name}=<timestamp>")
    timestamp = epoch_text(timestamps[0], header)
    if not candidates:
        raise SignatureError(NO_SIGNATURE, f"{header} holds no {scheme}=<64 hex digits> signature")
    if not any_match(keys, timestamps[0].encode() + joiner + body, candidates):
        raise SignatureError(INVALID_SIGNATURE, f"no {scheme} signature matches an active {key_name}")
    check_freshness(timestamp, now=now, tolerance_seconds=tolerance_seconds, header_name=header)


def verify_body_hex(
    headers: Mapping[str, str],
    body: bytes,
    keys: Sequence[bytes],
    *,
    header: str,
    key_name: str,
    prefix: str = "",
    several: bool = False,
    standard_reasons: bool = False,
) -> None:
    """Header `header` holds `prefix` + the hex HMAC-SHA256 (either case) of the raw body under one of `keys`.

    `several`: the header may hold several comma-separated values (Mollie while a secret rotates; a proxy
    joins repeated headers with commas): any of them may match any key, values of another form are skipped.
    Reason codes: by default (Checkout.com, Razorpay) the header is checked by `signature_header`
    (`missing_`/`oversized_`/`malformed_signature_header`) and a value that is not 64 hex digits is
    `malformed_signature_header`. `standard_reasons` (GoCardless, Mollie) uses the names of
    `webhook_signature.py` instead: a blank or absent header is `missing_signature_headers`, no usable
    value `malformed_signature`, and the header's length and characters are not checked beforehand.
    """
    if standard_reasons:
        text = headers.get(header, "").strip()
        if not text:
            raise SignatureError(MISSING_SIGNATURE_HEADERS, f"missing header: {header}")
    else:
        text = signature_header(headers, header)
    values = [value.strip() for value in text.split(",")] if several else [text]
    candidates = [
        signature
        for value in values
        if value.startswith(prefix) and (signature := decode_hex(value[len(prefix) :], size=32)) is not None
    ]
    if not candidates:
        if standard_reasons:
            raise SignatureError(MALFORMED_SIGNATURE, f"{header} holds no '{prefix}<64 hex digits>' value")
        raise SignatureError(MALFORMED_SIGNATURE_HEADER, f"{header} must be {prefix}64 hex digits")
    if not any_match(keys, body, candidates):
        raise SignatureError(INVALID_SIGNATURE, f"no signature matches an active {key_name}")


def tolerance(options: Mapping[str, Any], default: int) -> int:
    value = options.get("tolerance_seconds", default)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError("tolerance_seconds must be a non-negative integer")
    return value


# A secret shorter than this, or with fewer distinct characters, is a placeholder (`x`, `changeme`,
# `whsec_x`, `aaaa...`), not a provider's generated key: every supported provider generates 16 or more
# random characters (Stripe 32 after `whsec_`, Adyen 64 hex digits, Square 22, Braintree 32 hex, ...:
# docs/providers/). Refused at run time (the entry is skipped and logged by index) and by
# `python -m pipeline_tools check-secrets` before traffic arrives.
MIN_SECRET_CHARACTERS = 16
MIN_DISTINCT_CHARACTERS = 8


def strong_enough(material: str | bytes, *, rule: str, minimum: int = MIN_SECRET_CHARACTERS) -> None:
    """Raise ValueError naming `rule` (never the value) when `material` is too short or too regular.

    `material` is what carries the entropy: the text after a fixed prefix, or the decoded key bytes.
    """
    if len(material) < minimum:
        raise ValueError(f"too short to be a real secret: {rule} (at least {minimum}, this one has {len(material)})")
    if len(set(material)) < MIN_DISTINCT_CHARACTERS:
        raise ValueError(
            f"too regular to be a real secret: {rule} (at least {MIN_DISTINCT_CHARACTERS} distinct characters)"
        )


def text_secret(text: str, *, prefix: str = "", rule: str = "", minimum: int = MIN_SECRET_CHARACTERS) -> bytes:
    """A signing secret used as text: its UTF-8 bytes are the HMAC key. Raises ValueError when malformed,
    or too short or regular after `prefix` (`strong_enough`, with `rule` saying what the provider issues)."""
    if not isinstance(text, str) or not text:
        raise ValueError("the secret is empty")
    if text != text.strip() or any(character.isspace() for character in text):
        raise ValueError("the secret holds whitespace (copied with a line break?)")
    if not text.isascii() or not text.isprintable():
        raise ValueError("the secret holds non-ASCII or control characters")
    if prefix and (not text.startswith(prefix) or len(text) == len(prefix)):
        raise ValueError(f"the secret must start with {prefix!r}")
    strong_enough(text[len(prefix) :], rule=rule or f"at least {minimum} generated characters", minimum=minimum)
    return text.encode("utf-8")


# --- reading path: InvalidEventError only ---------------------------------------------------------


def parse_json(text: str) -> Any:
    """The body as JSON, decoded strictly (see strict_json)."""
    try:
        return strict_json.loads(text)
    except strict_json.JsonDecodeError as error:
        raise InvalidEventError(error.reason, error.message) from None


def parse_object(text: str) -> dict[str, Any]:
    """The body as a JSON object, decoded strictly (see strict_json)."""
    value = parse_json(text)
    if not isinstance(value, dict):
        raise InvalidEventError(NOT_AN_OBJECT, "the body must be a JSON object")
    return value


def get(value: Any, path: str) -> Any:
    """The value at dotted `path`, or None when any step is missing or not an object."""
    for step in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(step)
    return value


def event_id(value: Any, field: str) -> str:
    if not isinstance(value, str) or not EVENT_ID_PATTERN.fullmatch(value):
        raise InvalidEventError(INVALID_EVENT_ID, f"{field} must match {EVENT_ID_PATTERN.pattern}", field)
    return value


def id_part(value: Any, field: str) -> str:
    """One value an event id is joined from: matches `ID_PART_PATTERN` (no `:`), else 400 naming `field`.

    Why: an id joined with `:` from values that may hold `:` is ambiguous (`a:b` + `c` = `a` + `b:c`), and
    where the provider's signature joins the same values with `:` (Adyen) a shifted split keeps the
    signature valid; refusing `:` in every part makes the id a function of the signed values only.
    """
    if not isinstance(value, str) or not ID_PART_PATTERN.fullmatch(value):
        raise InvalidEventError(
            INVALID_EVENT_ID,
            f"{field} must match {ID_PART_PATTERN.pattern} (no ':') to be part of an event id",
            field,
        )
    return value


def joined_id(parts: Sequence[tuple[Any, str]]) -> str:
    """An event id joined with `:` from (value, field) pairs, each checked by `id_part`; the result is
    checked against `EVENT_ID_PATTERN` too (its length)."""
    text = ":".join(id_part(value, field) for value, field in parts)
    return event_id(text, parts[0][1])


def event_type(value: Any, field: str) -> str:
    if not isinstance(value, str) or not EVENT_TYPE_PATTERN.fullmatch(value):
        raise InvalidEventError(INVALID_EVENT_TYPE, f"{field} must match {EVENT_TYPE_PATTERN.pattern}", field)
    return value


def minor_amount(value: Any, field: str, *, as_text: bool = False, negative: bool = False) -> Decimal:
    """An integer count of minor units: a JSON integer, or (as_text, Paddle) a string of digits.

    Negative counts are refused (400 `invalid_amount`) unless `negative` says the provider documents them
    for this field: every money fact states what moved as a positive amount, its direction is the
    (type, outcome) (money_facts.LEDGER_SIGN), so a negative one would book the opposite way. Zero is
    read (a zero-value fact is routed to the lifecycle queue); the size is bounded in sources.canonical.
    """
    if as_text:
        if not (isinstance(value, str) and _MINOR_UNITS_TEXT.fullmatch(value)):
            raise InvalidEventError(INVALID_AMOUNT, f"{field} must be a string of digits (minor units)", field)
        amount = Decimal(value)
    elif isinstance(value, int) and not isinstance(value, bool):
        amount = Decimal(value)
    else:
        raise InvalidEventError(INVALID_AMOUNT, f"{field} must be an integer (minor units)", field)
    return _not_negative(amount, field, negative)


def major_amount(value: Any, field: str, *, negative: bool = False) -> Decimal:
    """A major-unit amount written as a decimal string (`"24.95"`), taken exactly as written; negative
    ones refused as in `minor_amount`."""
    if not isinstance(value, str) or not _MAJOR_AMOUNT.fullmatch(value):
        raise InvalidEventError(INVALID_AMOUNT, f"{field} must be a decimal amount such as 10.00", field)
    return _not_negative(Decimal(value), field, negative)


def _not_negative(amount: Decimal, field: str, negative: bool) -> Decimal:
    if amount < 0 and not negative:
        raise InvalidEventError(INVALID_AMOUNT, f"{field} must not be negative", field)
    return amount


def currency(value: Any, field: str) -> str:
    if not isinstance(value, str) or not _CURRENCY_PATTERN.fullmatch(value):
        raise InvalidEventError(INVALID_CURRENCY, f"{field} must be a three-letter ISO 4217 code", field)
    return value.upper()


def amount_and_currency(
    amount_value: Any, currency_value: Any, *, amount_field: str, currency_field: str, as_text: bool = False
) -> tuple[Decimal | None, str | None]:
    """Both or neither: an event without an amount has none; an amount without its currency is refused."""
    if amount_value is None and currency_value is None:
        return None, None
    if amount_value is None:
        return None, None  # a currency alone (e.g. an object without an amount) carries no money
    if currency_value is None:
        raise InvalidEventError(MISSING_CURRENCY, f"{currency_field} is required with {amount_field}", currency_field)
    return minor_amount(amount_value, amount_field, as_text=as_text), currency(currency_value, currency_field)


def epoch_seconds(value: Any, field: str) -> datetime.datetime:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= _MAX_EPOCH:
        raise InvalidEventError(INVALID_TIMESTAMP, f"{field} must be integer seconds since the epoch", field)
    return datetime.datetime.fromtimestamp(value, tz=datetime.UTC)


def iso_timestamp(value: Any, field: str) -> datetime.datetime:
    """ISO 8601 with a zone (`Z` or `±hh:mm`) and up to 9 fractional digits -> aware UTC datetime.

    `datetime` holds microseconds: digits 7-9 (.NET writes 7) are truncated, never rounded, so the
    instant never moves past the one written. The stored payload keeps the provider's exact text.
    """
    match = _ISO_TIMESTAMP.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise InvalidEventError(
            INVALID_TIMESTAMP, f"{field} must be an ISO 8601 date-time with a time zone (e.g. ...Z)", field
        )
    fraction = match["fraction"]
    text = match["base"] + (f".{fraction[:6].ljust(6, '0')}" if fraction else "") + match["zone"]
    try:
        return datetime.datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(datetime.UTC)
    except (ValueError, OverflowError):
        raise InvalidEventError(INVALID_TIMESTAMP, f"{field} is not a valid date-time", field) from None


def mapped_type(event_type: str, exact: Mapping[str, str], prefixes: Mapping[str, str] = {}) -> str:
    """A provider's default mapping as data: `exact` event types first, then the first matching prefix
    (`{"dispute_": "dispute"}`); anything else is `other`."""
    if event_type in exact:
        return exact[event_type]
    return next((kind for prefix, kind in prefixes.items() if event_type.startswith(prefix)), "other")
