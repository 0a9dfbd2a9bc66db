"""Each provider's mapping table (issue 17) is documented row by row in docs/providers/<id>.md: every event
kind of the module's table appears there with its transaction type and outcome."""

from __future__ import annotations

from pathlib import Path

import pytest

import providers

DOCS = Path(__file__).resolve().parents[2] / "docs" / "providers"


def _rows(provider_id: str) -> list[tuple[str, str, str]]:
    module = providers.load(provider_id)
    if provider_id == "razorpay":
        return [(kind, fact.transaction_type, fact.outcome or "") for kind, fact in module.FACTS.items()]
    if provider_id == "paddle":
        return [
            *((kind, t, o) for kind, (t, o) in module.TRANSACTION_FACTS.items()),
            *((kind, "other", o) for kind, o in module.SUBSCRIPTION_OUTCOMES.items()),
            *((action, t, o) for action, (t, statuses) in module.ADJUSTMENT_FACTS.items() for o in statuses.values()),
            *((action, t, o) for (action, _status), (t, o) in module.STATUS_FACTS.items()),
        ]
    if provider_id == "checkout":
        return [(kind, fact.transaction_type, fact.outcome or "") for kind, fact in module.FACTS.items()]
    if provider_id == "square":
        rows = []
        for kind, (object_type, transaction_type, fixed) in module.FACTS.items():
            outcomes = [fixed] if fixed else list(module._STATUS_TABLES[object_type][1].values())
            rows += [(kind, transaction_type, outcome) for outcome in outcomes]
        return rows
    return [(kind, t, o) for kind, (t, o) in module.FACTS.items()]


@pytest.mark.parametrize(
    "provider_id", ["razorpay", "paddle", "gocardless", "braintree", "mollie", "mollie-classic", "square", "checkout"]
)
def test_every_mapping_row_is_in_the_provider_doc(provider_id: str) -> None:
    lines = [
        line for line in (DOCS / f"{provider_id}.md").read_text(encoding="utf-8").splitlines() if line.startswith("| ")
    ]
    for kind, transaction_type, outcome in _rows(provider_id):
        matching = [line for line in lines if f"`{kind}`" in line or f" {kind}," in line]
        assert any(f"| {transaction_type} | {outcome}" in line for line in matching), (provider_id, kind)
        assert all("](https://" in line for line in matching), (provider_id, kind)
