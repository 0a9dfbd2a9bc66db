"""The README's ten-line consumer ("Consuming events") runs as written, against moto."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

from tests.consumer.messages import Fact, fact_record
from tests.consumer.test_dynamodb_store import ledger

README = Path(__file__).resolve().parents[2] / "README.md"


def test_the_readme_consumer_applies_each_fact_once_and_adds_up(client) -> None:
    section = README.read_text().split("## Consuming events", 1)[1]
    [code] = re.findall(r"```python\n(.*?)```", section.split("\n## ", 1)[0], flags=re.DOTALL)
    assert len([line for line in code.splitlines() if line.strip()]) <= 10
    code = code.replace('TABLE = "my-ledger"', 'TABLE = "example-ledger-test"')
    namespace: dict = {}
    exec(compile(code, "README.md", "exec"), namespace)
    opened = Fact("psp:d1", "dispute", "opened", "dp_1", 1, Decimal("7.00"))
    lost = Fact("psp:d2", "dispute", "lost", "dp_1", 2, Decimal("7.00"))
    paid = Fact("psp:p1", "payment", "succeeded", "py_1", 1, Decimal("10.00"))
    records = [fact_record(f, f"m-{i}") for i, f in enumerate([lost, paid, opened, lost, paid])]
    assert namespace["handler"]({"Records": records}, None) == {"batchItemFailures": []}
    assert ledger(client) == Decimal("3.00")
