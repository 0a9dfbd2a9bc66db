"""Writes `handlers/currency_exponents.json` from the locked `iso4217` package (the ISO 4217 maintenance
agency's table): `{"currencies": {"USD": 2, ...}, "no_minor_unit": [...], "historic": {"HRK": 2, ...},
"source": "..."}`.

`historic`: codes withdrawn from ISO 4217 (list three) with their last exponent, from the sourced data
file `modules/iso4217_historic.json` (the `iso4217` package holds list one only, and list three gives no
minor units). Old payments and their refunds keep arriving in them. A code back in list one wins.

Why a generated file and not the package at run time: importing `iso4217` parses its XML table and
builds an enum of every currency, 140-260 ms measured here, which every validator cold start would
pay. The JSON file loads in well under a millisecond; `tests/handlers/test_money.py` fails when it no
longer matches the locked package, naming the command to run:

    .venv/bin/python -m modules.currency_table
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

TABLE_PATH = Path(__file__).resolve().parent.parent / "handlers" / "currency_exponents.json"
HISTORIC_PATH = Path(__file__).resolve().with_name("iso4217_historic.json")


def historic() -> dict[str, int]:
    """Withdrawn code -> its last exponent (`modules/iso4217_historic.json`)."""
    rows = json.loads(HISTORIC_PATH.read_text(encoding="utf-8"))["rows"]
    return {row["currency"]: row["exponent"] for row in rows}


def table() -> dict[str, Any]:
    """The table as the locked `iso4217` package has it (sorted, so the file is deterministic)."""
    import iso4217

    currencies = sorted(iso4217.Currency, key=lambda currency: currency.code)
    current = {c.code for c in currencies}
    return {
        "historic": {code: digits for code, digits in sorted(historic().items()) if code not in current},
        "source": f"iso4217 {iso4217.__version__} (ISO 4217 list one, published {iso4217.__published__})",
        "currencies": {c.code: c.exponent for c in currencies if c.exponent is not None},
        "no_minor_unit": [c.code for c in currencies if c.exponent is None],
    }


def render() -> str:
    return json.dumps(table(), indent=1, sort_keys=True) + "\n"


if __name__ == "__main__":
    TABLE_PATH.write_text(render(), encoding="utf-8")
    print(f"wrote {TABLE_PATH}")
