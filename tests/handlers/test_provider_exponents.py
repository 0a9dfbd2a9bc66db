"""Per-provider exponent tables (handlers/provider_exponents/<id>.json) and ISO 4217 withdrawn codes.

Table-driven over every row: each converts a minor-unit amount with exactly its exponent, through the
provider module's `EXPONENT_OVERRIDES` (the lookup the canonical event uses). Regressions of issue 17:
Adyen ISK (2 decimals at Adyen, 0 in ISO), Checkout.com CLF (2 there, 4 in ISO), Stripe MGA/ISK/HUF/TWD.
"""

from __future__ import annotations

import datetime
import json
from decimal import Decimal
from pathlib import Path

import pytest

from modules import currency_table

import money
import providers
from providers import ProviderEvent
from sources import Source, canonical

EXPONENT_FILES = Path(money.__file__).with_name("provider_exponents")
PAYMENT_PROVIDERS = sorted(set(providers.REGISTRY) - {"standard-webhooks"})


def _document(provider_id: str) -> dict:
    return json.loads((EXPONENT_FILES / f"{provider_id}.json").read_text(encoding="utf-8"))


ROWS = [(provider_id, row) for provider_id in PAYMENT_PROVIDERS for row in _document(provider_id)["rows"]]


def test_every_payment_provider_has_a_documented_table_and_its_module_uses_it() -> None:
    assert sorted(path.stem for path in EXPONENT_FILES.glob("*.json")) == PAYMENT_PROVIDERS
    for provider_id in PAYMENT_PROVIDERS:
        document = _document(provider_id)
        assert document["provider"] == provider_id
        assert document["policy"] and document["source"].startswith("https://")
        assert money.provider_exponents(provider_id) == providers.load(provider_id).EXPONENT_OVERRIDES


@pytest.mark.parametrize(("provider_id", "row"), ROWS, ids=[f"{p}-{r['currency']}" for p, r in ROWS])
def test_every_row_converts_with_its_exponent_and_names_its_source(provider_id: str, row: dict) -> None:
    currency, digits = row["currency"], row["exponent"]
    assert len(currency) == 3 and currency.isupper() and digits in (0, 2, 3, 4)
    # Each row links to the provider's own documentation (same site as the file's source).
    assert row["source"].split("#")[0].startswith(_document(provider_id)["source"].split("#")[0].rsplit("/", 1)[0])
    overrides = providers.load(provider_id).EXPONENT_OVERRIDES
    assert money.exponent(currency, overrides) == digits
    written = money.text(money.from_minor_units(12345, currency, overrides))
    assert written == ("12345" if digits == 0 else f"{str(12345).zfill(digits + 1)[:-digits]}.{str(12345)[-digits:]}")


def _canonical(provider_id: str, minor: int, currency: str) -> str:
    source = Source(name="src", provider_id=provider_id, secret_arn="arn", options={}, type_map={}, route_unmapped=True)
    event = ProviderEvent(
        provider_event_id="evt_1",
        provider_event_type="x",
        timestamp=datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC),
        payload="{}",
        amount=Decimal(minor),
        amount_unit="minor",
        currency=currency,
    )
    stored = canonical(source, event)
    assert stored.amount is not None, stored.unrouted_reason
    return money.text(stored.amount)


@pytest.mark.parametrize(
    ("provider_id", "minor", "currency", "major"),
    [
        ("adyen", 10000, "ISK", "100.00"),  # Adyen writes ISK with 2 decimals: ISK 100 is value 10000
        ("adyen", 10000, "CLP", "100.00"),
        ("adyen", 100, "CVE", "100"),
        ("checkout", 10000, "CLF", "100.00"),  # "divide by 100 for all other currencies"; ISO says 4
        ("checkout", 10000, "CLP", "100.00"),
        ("checkout", 100, "ISK", "100"),
        ("stripe", 5000, "MGA", "5000"),  # zero-decimal at Stripe, 2 in ISO
        ("stripe", 50000, "ISK", "500.00"),  # Stripe's special case: two-decimal in the API
        ("stripe", 100050, "HUF", "1000.50"),
        ("stripe", 100050, "TWD", "1000.50"),
        ("square", 100, "JPY", "100"),
        ("razorpay", 295990, "KWD", "295.990"),
    ],
)
def test_regressions_through_the_canonical_event(provider_id: str, minor: int, currency: str, major: str) -> None:
    assert _canonical(provider_id, minor, currency) == major


HISTORIC = json.loads(currency_table.HISTORIC_PATH.read_text(encoding="utf-8"))["rows"]


@pytest.mark.parametrize("row", HISTORIC, ids=[row["currency"] for row in HISTORIC])
def test_withdrawn_codes_convert_with_their_last_exponent(row: dict) -> None:
    currency, digits = row["currency"], row["exponent"]
    assert currency not in money.ISO_EXPONENTS  # withdrawn: list one no longer holds it
    assert money.HISTORIC_EXPONENTS[currency] == digits
    assert money.from_minor_units(10**digits, currency) == Decimal(1)
    assert row["source"].startswith("https://") and row["withdrawn"] and row["replaced_by"]


def test_hrk_refund_of_an_old_payment_converts_and_an_unknown_code_is_parked() -> None:
    assert _canonical("stripe", 1050, "HRK") == "10.50"
    source = Source(name="src", provider_id="adyen", secret_arn="arn", options={}, type_map={}, route_unmapped=True)
    event = ProviderEvent(
        provider_event_id="e",
        provider_event_type="x",
        timestamp=datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC),
        payload="{}",
        amount=Decimal(100),
        amount_unit="minor",
        currency="ZZZ",
    )
    stored = canonical(source, event)
    assert stored.amount is None and stored.unrouted_reason == "unknown_currency_exponent"
