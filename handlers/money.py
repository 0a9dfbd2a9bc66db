"""Exact amounts in major units, written with the currency's exponent (ISO 4217 "minor units").

`12.50` stays `12.50`: the scale is part of the written amount, so reconciliation can compare text.
Exponents come from the ISO 4217 maintenance agency's table (the `iso4217` package) plus per-provider
overrides where a provider differs from ISO (e.g. Adyen CLP 2, CVE 0). Never through a float, and an
exponent is never guessed: an unknown currency raises `UnknownCurrencyError`, and the caller parks the
event with that reason instead of refusing it (a 4xx makes the provider retry for days).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

import iso4217


class UnknownCurrencyError(LookupError):
    """Neither the provider's overrides nor ISO 4217 give this currency an exponent."""


def exponent(currency: str, overrides: Mapping[str, int] | None = None) -> int:
    """Number of digits after the decimal point in major units: USD 2, JPY 0, KWD 3.

    Raises `UnknownCurrencyError` for a code in neither table, or one ISO gives no minor unit (XAU).
    """
    if overrides and currency in overrides:
        return overrides[currency]
    try:
        value = iso4217.Currency(currency).exponent
    except ValueError:
        raise UnknownCurrencyError(f"currency {currency[:8]!r} is not in ISO 4217") from None
    if value is None:
        raise UnknownCurrencyError(f"currency {currency} has no minor unit in ISO 4217")
    return value


def from_minor_units(amount: int | Decimal, currency: str, overrides: Mapping[str, int] | None = None) -> Decimal:
    """`1099`, `USD` -> `Decimal('10.99')`; `2000`, `JPY` -> `Decimal('2000')`. Exact (a scaleb, no division).

    Raises ValueError when `amount` is not an integral count of minor units, `UnknownCurrencyError`
    as `exponent` does.
    """
    value = Decimal(amount)
    if value != value.to_integral_value():
        raise ValueError(f"minor-unit amount {amount} is not an integer")
    return Decimal(int(value)).scaleb(-exponent(currency, overrides))


def with_exponent(amount: Decimal, currency: str | None, overrides: Mapping[str, int] | None = None) -> Decimal:
    """A major-unit amount written with at least the currency's exponent: `10`, USD -> `10.00`.

    Never rounds: an amount with more digits than the exponent keeps them (`10.005` stays `10.005`).
    Without a currency (or with an unknown one) the amount is returned as written.
    """
    if currency is None:
        return amount
    try:
        digits = exponent(currency, overrides)
    except UnknownCurrencyError:
        return amount
    current = -int(amount.as_tuple().exponent) if isinstance(amount.as_tuple().exponent, int) else 0
    return amount if current >= digits else amount.quantize(Decimal(1).scaleb(-digits))


def text(amount: Decimal) -> str:
    """The amount as written (fixed point, its own scale): `Decimal('10.00')` -> `10.00`."""
    return format(amount, "f")
