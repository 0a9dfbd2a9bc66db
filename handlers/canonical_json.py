"""Canonical JSON: sorted keys, no spaces, decimals written exactly and without exponent.

The standard `json` module cannot write `Decimal` as a number, and going through `float` would turn
19.99 into 19.989999999999998: money must never pass through a binary float.
"""

from __future__ import annotations

from decimal import Context, Decimal
from json.encoder import encode_basestring, encode_basestring_ascii
from typing import Any

# The C string encoders `json.dumps` itself uses, without building an encoder per string (the hot
# path of the validator). Keys are ASCII-escaped and values are not, as `json.dumps` wrote them
# before: stored `payload_sha256` values must stay comparable.
_LITERALS = {True: "true", False: "false", None: "null"}


def exact_normalize(value: Decimal) -> Decimal:
    """Strip trailing zeros without rounding: the default context would round to 28 digits."""
    return value.normalize(Context(prec=max(len(value.as_tuple().digits), 1)))


def decimal_text(value: Decimal) -> str:
    """`Decimal('1.50')` -> `1.5`, `Decimal('1e2')` -> `100`: one spelling per value."""
    if not value.is_finite():
        raise ValueError(f"{value} is not a JSON number")
    text = format(exact_normalize(value), "f")
    return "0" if text in ("-0", "0") else text


def dumps(value: Any) -> str:
    """Serialize `value` (dict, list, str, int, Decimal, bool, None) canonically."""
    if isinstance(value, str):
        return encode_basestring(value)
    if isinstance(value, dict):
        items = sorted(value.items())
        return "{" + ",".join(f"{encode_basestring_ascii(str(k))}:{dumps(v)}" for k, v in items) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(dumps(item) for item in value) + "]"
    if isinstance(value, Decimal):
        return decimal_text(value)
    if value is None or isinstance(value, bool):
        return _LITERALS[value]
    if isinstance(value, int):
        return int.__repr__(value)
    if isinstance(value, float):
        raise TypeError("floats are not allowed in canonical JSON; parse with parse_float=Decimal")
    raise TypeError(f"{type(value).__name__} is not a JSON value")
