"""Canonical JSON: sorted keys, no spaces, decimals written exactly (the input of `payload_sha256`).

The standard `json` module cannot write `Decimal` as a number, and going through `float` would turn
19.99 into 19.989999999999998: money must never pass through a binary float.
"""

from __future__ import annotations

import json
from decimal import Decimal
from json.encoder import encode_basestring, encode_basestring_ascii
from typing import Any

# The C string encoders `json.dumps` itself uses, without building an encoder per string (the hot
# path of the validator). Keys are ASCII-escaped and values are not, as `json.dumps` wrote them
# before: stored `payload_sha256` values must stay comparable.
_LITERALS = {True: "true", False: "false", None: "null"}


# Up to this many zeros are written out (`1E+20` -> `100000000000000000000`), as every earlier version
# did; beyond, the exponent is written (`1E+21`), so `1e300000` stays 9 characters instead of 300,001.
_MAX_PADDING_ZEROS = 20


def exact_normalize(value: Decimal) -> Decimal:
    """Strip trailing zeros without rounding and without a context (no overflow, no underflow)."""
    sign, digits, exponent = value.as_tuple()
    if not isinstance(exponent, int):
        raise ValueError(f"{value} is not a JSON number")
    count = len(digits)
    while count > 1 and digits[count - 1] == 0:
        count -= 1
    stripped = digits[:count]
    if stripped == (0,):
        return Decimal(0)
    return Decimal((sign, stripped, exponent + len(digits) - count))


def decimal_text(value: Decimal) -> str:
    """One spelling per value: `Decimal('1.50')` -> `1.5`, `Decimal('1e2')` -> `100`, `-0` -> `0`.

    Fixed point while that pads with at most 20 zeros (byte-identical to what stored hashes were made
    with); beyond, `<digits>E<exponent>` with a plain coefficient (`1E+21`, `1.5E-30`), so the text is
    never longer than the digits plus a few characters. Raises ValueError for NaN and infinities.
    """
    sign, digits, exponent = value.as_tuple()
    if (
        isinstance(exponent, int)
        and -_MAX_PADDING_ZEROS <= exponent < 0
        and digits[-1] != 0
        and len(digits) > -exponent
    ):
        return format(value, "f")  # the common case (19.99): already in its one spelling, C speed
    sign, digits, exponent = exact_normalize(value).as_tuple()
    assert isinstance(exponent, int)  # exact_normalize refused the specials
    coefficient = "".join(map(str, digits))
    prefix = "-" if sign and coefficient != "0" else ""
    if exponent >= 0:
        if exponent <= _MAX_PADDING_ZEROS:
            return prefix + coefficient + "0" * exponent
    else:
        point = len(coefficient) + exponent
        if point > 0:
            return prefix + coefficient[:point] + "." + coefficient[point:]
        if -point <= _MAX_PADDING_ZEROS:
            return prefix + "0." + "0" * -point + coefficient
    adjusted = len(coefficient) - 1 + exponent
    mantissa = coefficient[0] + ("." + coefficient[1:] if len(coefficient) > 1 else "")
    return f"{prefix}{mantissa}E{adjusted:+d}"


# A decimal goes through the C encoder as this marker around its text (`"\u0000<text>\u0000"` once
# encoded), then the quotes and markers are removed. A NUL in the payload's own strings would be
# written the same way, so the marker count is checked before the fast result is used.
_MARK = "\x00"
_ENCODED_MARK = "\\u0000"


def _fast_dumps(value: Any, *, ascii_keys: bool = True) -> str | None:
    """`dumps(value, ascii_keys=ascii_keys)` through the C encoder, or None where its output could differ.

    Only for values from `strict_json`: the C encoder writes floats instead of refusing them. Equal
    whenever the payload holds no NUL character and, with `ascii_keys`, the output is ASCII without DEL
    (then keys need no `\\u` escapes, which `dumps` writes for keys only): `json.dumps` sorts and separates as
    `dumps` does and writes strings with the same encoder, ints with `int.__repr__`, literals alike.
    """
    decimals = 0

    def decimal(item: Any) -> str:
        nonlocal decimals
        if not isinstance(item, Decimal):
            raise TypeError(f"{type(item).__name__} is not a JSON value")
        decimals += 1
        return _MARK + decimal_text(item) + _MARK

    try:
        text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=decimal)
    except (TypeError, ValueError):
        return None  # floats, NaN, a non-JSON value: the slow path says what is wrong
    # With ASCII keys, `dumps` escapes U+007F in keys (`\\u007f`, as `json.dumps` did), the C encoder here not.
    if (ascii_keys and (not text.isascii() or "\x7f" in text)) or text.count(_ENCODED_MARK) != 2 * decimals:
        return None
    if decimals:
        text = text.replace('"' + _ENCODED_MARK, "").replace(_ENCODED_MARK + '"', "")
    return text


def dumps(value: Any, *, ascii_keys: bool = True, parsed: bool = False) -> str:
    """Serialize `value` (dict, list, str, int, Decimal, bool, None) canonically.

    `ascii_keys=False` writes keys like values (non-ASCII kept as is): the compact form a batch item's
    own JSON is stored in, no longer than its text in the delivery but for numbers' spelling; the hash
    keeps the default, the spelling every stored `payload_sha256` was made with. `parsed=True` says the
    value came from `strict_json` (no floats, nothing but JSON values): the C encoder may then write it.
    """
    if parsed and isinstance(value, dict):
        fast = _fast_dumps(value, ascii_keys=ascii_keys)  # the whole document at C speed, when provably the same
        if fast is not None:
            return fast
    return _dumps(value, ascii_keys=ascii_keys)


class CanonicalText(str):
    """Text `dumps` wrote with its defaults (ASCII keys): parsed again by `strict_json` and written again, it
    is the same text (`tests/handlers/test_canonical_json.py` holds it), so its payload hash is the SHA-256
    of the text itself. A provider module whose duplicate-check content is such text (Paddle without its
    `notification_id`, Adyen without its `hmacSignature`) returns it in this type: the hash then skips a
    second strict parse and a second serialization (on Paddle's 11 KB body, ~130 us of the validator's CPU)."""

    __slots__ = ()


def canonical_text(value: Any) -> CanonicalText:
    """`dumps(value, parsed=True)` as `CanonicalText`: only for values from `strict_json` (see `dumps`)."""
    return CanonicalText(dumps(value, parsed=True))


def _dumps(value: Any, *, ascii_keys: bool) -> str:
    if isinstance(value, str):
        return encode_basestring(value)
    if isinstance(value, dict):
        key_text = encode_basestring_ascii if ascii_keys else encode_basestring
        items = sorted(value.items())
        return "{" + ",".join(f"{key_text(str(k))}:{_dumps(v, ascii_keys=ascii_keys)}" for k, v in items) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(_dumps(item, ascii_keys=ascii_keys) for item in value) + "]"
    if isinstance(value, Decimal):
        return decimal_text(value)
    if value is None or isinstance(value, bool):
        return _LITERALS[value]
    if isinstance(value, int):
        return int.__repr__(value)
    if isinstance(value, float):
        raise TypeError("floats are not allowed in canonical JSON; parse with parse_float=Decimal")
    raise TypeError(f"{type(value).__name__} is not a JSON value")
