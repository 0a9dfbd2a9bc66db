"""Exact amounts in major units with the currency's exponent; the shipped table is the locked ISO 4217 one."""

from __future__ import annotations

import sys
import time
from decimal import Decimal, localcontext

import pytest
from hypothesis import given
from hypothesis import strategies as st

from modules.currency_table import TABLE_PATH, render
from tests.handlers.helpers import HANDLERS_DIR

sys.path.insert(0, str(HANDLERS_DIR))
import money


def test_the_shipped_table_is_the_locked_iso4217_table() -> None:
    assert TABLE_PATH.read_text(encoding="utf-8") == render(), (
        "handlers/currency_exponents.json is stale: run .venv/bin/python -m modules.currency_table"
    )


@pytest.mark.parametrize(
    ("minor", "currency", "overrides", "major"),
    [
        (1099, "USD", None, "10.99"),
        (1000, "USD", None, "10.00"),
        (2000, "JPY", None, "2000"),
        (1000, "KWD", None, "1.000"),
        (10100, "EUR", None, "101.00"),
        (100, "CLP", {"CLP": 2}, "1.00"),  # Adyen's CLP
        (100, "CLP", None, "100"),  # ISO's CLP
        (0, "USD", None, "0.00"),
        (-250, "USD", None, "-2.50"),
    ],
)
def test_minor_units_become_major_units_written_with_the_exponent(
    minor: int, currency: str, overrides: dict[str, int] | None, major: str
) -> None:
    assert money.text(money.from_minor_units(minor, currency, overrides)) == major


@pytest.mark.parametrize("currency", ["XAU", "XXX", "ABC", "usd", ""])
def test_an_exponent_is_never_guessed(currency: str) -> None:
    with pytest.raises(money.UnknownCurrencyError):
        money.exponent(currency)


def test_a_fractional_minor_amount_is_refused() -> None:
    with pytest.raises(ValueError, match="not an integer"):
        money.from_minor_units(Decimal("10.5"), "USD")


@pytest.mark.parametrize(
    ("minor", "written"),
    [("1E+3", "10.00"), ("100.00", "1.00"), ("1.0E+2", "1.00"), ("-0", "0.00"), ("-0.0", "0.00"), ("0E+5", "0.00"),
     ("-25", "-0.25")],
)  # fmt: skip
def test_integral_decimals_in_any_spelling_convert_like_their_integer(minor: str, written: str) -> None:
    assert money.text(money.from_minor_units(Decimal(minor), "USD")) == written


def test_a_huge_exponent_converts_without_a_quadratic_integer() -> None:
    # `int(Decimal("1e999999"))` takes over a minute; a signed Standard Webhooks body can hold that number.
    started = time.perf_counter()
    major = money.from_minor_units(Decimal("1e999999"), "USD")
    assert time.perf_counter() - started < 5
    assert major.adjusted() == 999_997


@pytest.mark.parametrize(
    ("amount", "currency", "written"),
    [("10", "USD", "10.00"), ("12.5", "USD", "12.50"), ("12.50", "USD", "12.50"), ("10.005", "USD", "10.005"),
     ("2000", "JPY", "2000"), ("1E+3", "JPY", "1000"), ("7", None, "7"), ("7", "XYZ", "7")],
)  # fmt: skip
def test_major_amounts_are_padded_to_the_exponent_and_never_rounded(
    amount: str, currency: str | None, written: str
) -> None:
    assert money.text(money.with_exponent(Decimal(amount), currency)) == written


@given(st.integers(min_value=-(10**30), max_value=10**30), st.sampled_from(sorted(money.ISO_EXPONENTS)))
def test_conversion_is_exact_for_every_currency(minor: int, currency: str) -> None:
    major = money.from_minor_units(minor, currency)
    with localcontext(prec=100):  # the default 28 digits would round the check itself
        assert major.scaleb(money.exponent(currency)) == minor
    assert -major.as_tuple().exponent == money.exponent(currency)
