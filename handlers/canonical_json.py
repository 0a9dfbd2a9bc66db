"""Canonical JSON: sorted keys, no spaces, decimals written exactly and without exponent.

The standard `json` module cannot write `Decimal` as a number, and going through `float` would turn
19.99 into 19.989999999999998: money must never pass through a binary float.
"""

from __future__ import annotations

import json
from decimal import Context, Decimal
from typing import Any


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
    if isinstance(value, dict):
        items = sorted(value.items())
        return "{" + ",".join(f"{json.dumps(str(k))}:{dumps(v)}" for k, v in items) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(dumps(item) for item in value) + "]"
    if isinstance(value, Decimal):
        return decimal_text(value)
    if isinstance(value, float):
        raise TypeError("floats are not allowed in canonical JSON; parse with parse_float=Decimal")
    return json.dumps(value, ensure_ascii=False)
