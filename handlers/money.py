"""Exact amounts in major units, written with the currency's exponent (ISO 4217 "minor units").

`12.50` stays `12.50`: the scale is part of the written amount, so reconciliation can compare text.
Exponents come from the ISO 4217 maintenance agency's table (`currency_exponents.json`, generated from
the locked `iso4217` package by `modules/currency_table.py`: importing the package costs every cold
start 140-260 ms, the file under 1 ms), then the codes ISO has withdrawn (list three) with their last
exponent (`historic` in the same file: old payments and their refunds keep arriving in HRK or LTL), and
before both the provider's own table (`provider_exponents/<provider id>.json`, `provider_exponents`),
where a provider writes a currency unlike ISO (Adyen ISK 2, CLP 2, CVE 0). Never through a float, and an
exponent is never guessed: an unknown currency raises `UnknownCurrencyError`, and the caller parks the
event with that reason instead of refusing it (a 4xx makes the provider retry for days).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path

_TABLE = json.loads(Path(__file__).with_name("currency_exponents.json").read_text(encoding="utf-8"))
ISO_EXPONENTS: Mapping[str, int] = _TABLE["currencies"]
NO_MINOR_UNIT = frozenset(_TABLE["no_minor_unit"])  # e.g. XAU: ISO gives no minor unit
HISTORIC_EXPONENTS: Mapping[str, int] = _TABLE["historic"]  # withdrawn codes, their last exponent
PROVIDER_EXPONENTS_DIR = Path(__file__).with_name("provider_exponents")


# The largest amount a fact may carry, in major units: below 10^18 (a quintillion units of any currency,
# far beyond any payment; VND and IRR stay below 10^15 even for the largest transfers). With an exponent of
# at most 4 (CLF, UYW) that is 22 significant digits: exact in Python's default `Decimal` context (28
# digits, what consumers sum with), in DynamoDB numbers (38) and in the routed message. The published
# schema's `amount` is a JSON number with no bound of its own; `POST /webhook` requires `amount > 0`.
MAX_MAJOR_AMOUNT = Decimal(10) ** 18


class UnknownCurrencyError(LookupError):
    """Neither the provider's overrides nor ISO 4217 give this currency an exponent."""


class ClosedExponents(dict[str, int]):
    """A provider's complete table: a currency not in it has no exponent at that provider (never ISO's).

    For a provider that documents which currencies it writes and how (Checkout.com), a code outside its
    table (a withdrawn one such as ITL, a fund code such as UYI) is parked as unknown, never guessed.
    """

    closed = True


def provider_exponents(provider_id: str) -> Mapping[str, int]:
    """Currency -> exponent as provider `provider_id` writes it, from `provider_exponents/<id>.json`.

    Each file holds `{"provider", "policy", "source", "rows": [{"currency", "exponent", "source"}]}`: the
    rows are the provider's own currency documentation (each with its link), only where the provider
    differs from ISO 4217 or must not follow a change of ISO; `policy` says which. Raises
    FileNotFoundError for a provider without a file (every registered provider has one, tested).
    A file with `all_other` (`{"exponent", "excluding", "source"}`) is a complete table
    (`ClosedExponents`): its rows, then every ISO 4217 list-one currency not in `excluding` with that
    exponent (the provider's "all other currencies" rule), and nothing else.
    """
    document = json.loads((PROVIDER_EXPONENTS_DIR / f"{provider_id}.json").read_text(encoding="utf-8"))
    rows = {row["currency"]: row["exponent"] for row in document["rows"]}
    other = document.get("all_other")
    if other is None:
        return rows
    excluded = set(other["excluding"])
    return ClosedExponents({code: other["exponent"] for code in ISO_EXPONENTS if code not in excluded} | rows)


def exponent(currency: str, overrides: Mapping[str, int] | None = None) -> int:
    """Number of digits after the decimal point in major units: USD 2, JPY 0, KWD 3, HRK 2 (withdrawn).

    Order: the provider's `overrides`, ISO 4217 list one, then withdrawn codes (list three, their last
    exponent). Raises `UnknownCurrencyError` for a code in none of them, or one ISO gives no minor unit (XAU).
    """
    if overrides and currency in overrides:
        return overrides[currency]
    if getattr(overrides, "closed", False):  # not isinstance: a cold re-import of this module makes a new class
        raise UnknownCurrencyError(f"currency {currency[:8]!r} is not in the provider's documented table")
    if currency in ISO_EXPONENTS:
        return ISO_EXPONENTS[currency]
    if currency in HISTORIC_EXPONENTS:
        return HISTORIC_EXPONENTS[currency]
    if currency in NO_MINOR_UNIT:
        raise UnknownCurrencyError(f"currency {currency} has no minor unit in ISO 4217")
    raise UnknownCurrencyError(f"currency {currency[:8]!r} is not in ISO 4217")


def from_minor_units(amount: int | Decimal, currency: str, overrides: Mapping[str, int] | None = None) -> Decimal:
    """`1099`, `USD` -> `Decimal('10.99')`; `2000`, `JPY` -> `Decimal('2000')`. Exact (a scaleb, no division).

    Raises ValueError when `amount` is not an integral count of minor units, `UnknownCurrencyError`
    as `exponent` does.
    """
    value = Decimal(amount)
    if not value.is_finite() or value != value.to_integral_value():
        raise ValueError(f"minor-unit amount {amount} is not an integer")
    sign, digits, places = value.as_tuple()
    assert isinstance(places, int)  # finite, checked above
    # The integer's digits, from the tuple: `int(value)` takes minutes for `1e999999` (quadratic), and
    # an integral value's digits after the point are all zeros.
    digits = (*digits, *(0,) * places) if places > 0 else (digits[: len(digits) + places] or (0,))
    sign = sign if any(digits) else 0  # `-0` is 0, as `int` made it
    # Built from its digits: `scaleb` would round to the context's 28 digits.
    return Decimal((sign, digits, -exponent(currency, overrides)))


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
    sign, coefficient, current = amount.as_tuple()
    if not isinstance(current, int) or -current >= digits:
        return amount
    # Pad with zeros from the digits themselves: `quantize` would round to the context's 28 digits.
    padding = current + digits
    return Decimal((sign, (*coefficient, *(0,) * padding), -digits))


def decimal_places_beyond_exponent(
    amount: Decimal, currency: str | None, overrides: Mapping[str, int] | None = None
) -> int | None:
    """The currency's exponent (the provider's `overrides`, else ISO 4217) when `amount` (major units) has
    more decimal places than it, else None (also for an absent or unknown currency: that is parked
    elsewhere, never guessed). `12.5` JPY -> 0 (JPY has no minor unit); `10.005` USD -> 2; `10.50` USD -> None."""
    if currency is None:
        return None
    try:
        digits = exponent(currency, overrides)
    except UnknownCurrencyError:
        return None
    _sign, coefficient, power = amount.as_tuple()
    if not isinstance(power, int) or not any(coefficient):  # zero has no places; NaN/inf: the schema refuses
        return None
    zeros = len(coefficient) - len("".join(map(str, coefficient)).rstrip("0"))  # trailing zeros say nothing
    places = max(0, -power - zeros)
    return digits if places > digits else None


def text(amount: Decimal) -> str:
    """The amount as written (fixed point, its own scale): `Decimal('10.00')` -> `10.00`."""
    return format(amount, "f")


def beyond_bounds(amount: Decimal) -> str | None:
    """Why a major-unit `amount` cannot be a fact's amount, or None: negative, not finite, or not below
    `MAX_MAJOR_AMOUNT`. Cheap for any exponent (`1E+999999` is compared, never expanded)."""
    if not amount.is_finite():
        return "is not a finite number"
    if amount < 0:
        return "is negative"
    if amount >= MAX_MAJOR_AMOUNT:
        return f"is not below {MAX_MAJOR_AMOUNT:.0E} major units"
    return None
