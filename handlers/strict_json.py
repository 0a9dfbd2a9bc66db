"""Strict JSON decoding of webhook bodies: one reading of the bytes for the door, the hash and the router.

What `json.loads(bytes)` lets through and what is refused here instead (each a 400 with a reason):

- anything but UTF-8 (RFC 8259 §8.1): `json.loads(bytes)` silently accepts UTF-16/32, so the body is
  decoded explicitly, strictly, before parsing (`invalid_utf8`);
- a byte order mark (`byte_order_mark`): RFC 8259 §8.1 lets a parser ignore it, but the stored payload
  is the exact signed text and every consumer's `json.loads(str)` refuses a BOM, so it is refused at
  the door rather than stripped in one place and not another;
- duplicate object keys (`duplicate_key`): `json.loads` keeps the last one, a consumer's parser may keep
  the first, so the signed text could mean two things;
- lone surrogate escapes such as `"\\ud800"` (`lone_surrogate`): they parse, then fail every encoder;
- nesting deeper than `MAX_DEPTH` (`too_deep`): far below the ~1,000 levels where `json.loads` itself
  stops and the ~330 where a recursive serializer overflows;
- numbers outside the default `decimal` context (`number_out_of_range`): `1e1000000` overflows and
  `1e-1000000` underflows to 0 in every consumer using Python's `Decimal`; integers longer than
  Python's 4,300-digit limit; `NaN` and `Infinity` (not JSON).

Numbers with a fraction or exponent are `Decimal`, never `float`: money never passes a binary float.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

from errors import (
    BYTE_ORDER_MARK,
    DUPLICATE_KEY,
    INVALID_UTF8,
    LONE_SURROGATE,
    MALFORMED_JSON,
    NUMBER_OUT_OF_RANGE,
    TOO_DEEP,
    PipelineError,
)

MAX_DEPTH = 64
# The default decimal context's exponent range (decimal.DefaultContext.Emin / Emax).
MIN_ADJUSTED_EXPONENT, MAX_ADJUSTED_EXPONENT = -999_999, 999_999
BOM = "\ufeff"
# A surrogate can only come from a \uD800-\uDFFF escape: the text itself is valid UTF-8.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


class JsonDecodeError(PipelineError, ValueError):
    """The body is not acceptable JSON; `reason` is a stable code for the 400 response and metrics."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(reason, message)


def decode_utf8(body: bytes) -> str:
    """Raw body bytes -> text, strictly UTF-8 and without a BOM. Raises `JsonDecodeError`."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise JsonDecodeError(INVALID_UTF8, f"body is not UTF-8 (RFC 8259 §8.1): byte {error.start}") from None
    if text.startswith(BOM):
        raise JsonDecodeError(BYTE_ORDER_MARK, "body starts with a byte order mark; send UTF-8 without one")
    return text


def _decimal(text: str) -> Decimal:
    value = Decimal(text)
    if not MIN_ADJUSTED_EXPONENT <= value.adjusted() <= MAX_ADJUSTED_EXPONENT:
        raise JsonDecodeError(NUMBER_OUT_OF_RANGE, f"number {text[:32]} is outside the range 1e±999999")
    return value


def _constant(name: str) -> Any:
    raise JsonDecodeError(MALFORMED_JSON, f"{name} is not a JSON number")


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    value = dict(pairs)
    if len(value) != len(pairs):
        seen: set[str] = set()
        duplicate = next(key for key, _ in pairs if key in seen or seen.add(key))  # type: ignore[func-returns-value]
        raise JsonDecodeError(DUPLICATE_KEY, f"object key {duplicate[:64]!r} appears more than once")
    return value


def _check_tree(value: Any, *, surrogates: bool) -> None:
    """Iterative walk: depth always, lone surrogates in keys and strings when the text had such escapes."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            if depth > MAX_DEPTH:
                raise JsonDecodeError(TOO_DEEP, f"nesting deeper than {MAX_DEPTH} levels")
            if surrogates:
                _check_text("".join(node))
            stack.extend((child, depth + 1) for child in node.values())
        elif isinstance(node, list):
            if depth > MAX_DEPTH:
                raise JsonDecodeError(TOO_DEEP, f"nesting deeper than {MAX_DEPTH} levels")
            stack.extend((child, depth + 1) for child in node)
        elif surrogates and isinstance(node, str):
            _check_text(node)


def _check_text(text: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise JsonDecodeError(LONE_SURROGATE, "a string holds an unpaired surrogate escape (\\ud800-\\udfff)") from None


# The last text parsed and its value: the provider module parses the body to read it, and the payload
# hash reads the same text again (sources.canonical); the second reading is free (`loads`).
_last: tuple[str, Any] | None = None


def loads(text: str) -> Any:
    """Parse decoded body text strictly (see the module docstring). Raises `JsonDecodeError`.

    The same text object asked again (the provider's reading, then the payload hash) returns the value
    of the first parse: callers only read the value, never change it.
    """
    global _last
    last = _last
    if last is not None and last[0] is text:
        return last[1]
    value = _parse(text)
    _last = (text, value)
    return value


def _parse(text: str) -> Any:
    try:
        value = json.loads(text, parse_float=_decimal, parse_constant=_constant, object_pairs_hook=_unique_keys)
    except JsonDecodeError:
        raise
    except RecursionError:
        raise JsonDecodeError(TOO_DEEP, f"nesting deeper than {MAX_DEPTH} levels") from None
    except ValueError as error:  # json.JSONDecodeError, int digit limit
        raise JsonDecodeError(MALFORMED_JSON, f"body is not valid JSON: {error}") from None
    # Counting brackets is cheaper than a walk and bounds the depth: most bodies skip the walk.
    # Substring tests first (C speed); the pattern only where a \\uD escape may be.
    surrogates = ("\\ud" in text or "\\uD" in text) and _SURROGATE_ESCAPE.search(text) is not None
    if surrogates or text.count("{") + text.count("[") > MAX_DEPTH:
        _check_tree(value, surrogates=surrogates)
    return value


def decode(body: bytes) -> tuple[str, Any]:
    """`decode_utf8` then `loads`: (text, value). Raises `JsonDecodeError`."""
    text = decode_utf8(body)
    return text, loads(text)
