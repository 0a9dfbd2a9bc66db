"""The quarantine and the signing secrets in the cost model (pipeline_tools/cost_model.py): every item the
stack keeps and every secret it creates is priced, at the size the handler writes it.

Before this change the quarantine's storage and the per-source signing secrets were left out: an
environment of 10 sources paid $4.00 a month of secrets the model did not show (these tests failed).
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import re
import sys
from pathlib import Path
from typing import Any

import pytest

from benchmarks.payload_dictionary import item_bytes
from modules.config import load_settings
from modules.stored_item import DYNAMODB_ITEM_STORAGE_OVERHEAD_BYTES
from pipeline_tools.cost_model import QUARANTINE_RETENTION_DAYS, Assumptions, Line, estimate, load_prices

ROOT = Path(__file__).resolve().parents[2]
HANDLERS_DIR = ROOT / "handlers"
if str(HANDLERS_DIR) not in sys.path:
    sys.path.insert(0, str(HANDLERS_DIR))

import quarantine  # noqa: E402 - handlers/ on the path first, as the Lambda runtime has it

SETTINGS = load_settings("test", declared=True)
STRIPE_BODY = (ROOT / "tests/fixtures/providers/stripe/payment_intent.succeeded.json").read_bytes()
# What API Gateway (REST, regional) passes the validator for a Stripe delivery: Stripe's own headers and
# the ones the gateway adds (https://docs.stripe.com/webhooks, API Gateway's proxy integration event).
STRIPE_HEADERS = {
    "Accept": "*/*; q=0.5, application/xml",
    "Cache-Control": "no-cache",
    "Content-Type": "application/json; charset=utf-8",
    "Host": "abcdef1234.execute-api.us-east-1.amazonaws.com",
    "Stripe-Signature": "t=1733500000,v1=" + "a" * 64,
    "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
    "X-Amzn-Trace-Id": "Root=1-67530000-0123456789abcdef01234567",
    "X-Forwarded-For": "54.187.174.169",
    "X-Forwarded-Port": "443",
    "X-Forwarded-Proto": "https",
}


class _Capture:
    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def update_item(self, **kwargs: Any) -> None:
        self.calls.append(kwargs)


def _kept_item(monkeypatch: pytest.MonkeyPatch) -> dict[str, dict[str, Any]]:
    monkeypatch.setenv(quarantine.TABLE_VARIABLE, "webhook-quarantine-test")
    dynamodb = _Capture()
    event = {
        "resource": "/webhook/{source}",
        "headers": STRIPE_HEADERS,
        "multiValueHeaders": {name: [value] for name, value in STRIPE_HEADERS.items()},
        "requestContext": {"domainName": STRIPE_HEADERS["Host"], "path": "/prod/webhook/shop", "stage": "prod",
                           "resourcePath": "/webhook/{source}"},
    }  # fmt: skip
    key = quarantine.keep(
        dynamodb, event=event, source="shop", body=STRIPE_BODY, status=409, reason="conflict",
        message="event evt_1 was stored with a different payload", field=None, event_ids=["stripe:shop:evt_1"],
        verified_at=1_733_500_000, now=datetime.datetime(2026, 12, 6, tzinfo=datetime.UTC),
    )  # fmt: skip
    [call] = dynamodb.calls
    values = call["ExpressionAttributeValues"]
    names = {f"#{n}": n for n in ("source", "resource", "status", "field")}
    # The item as stored: each SET target with its value (ADD refusals :one, the key).
    item: dict[str, dict[str, Any]] = {"quarantine_id": {"S": key}, "refusals": values[":one"]}
    for target, placeholder in re.findall(r"(#?\w+) = (?:if_not_exists\(\w+, )?(:\w+)", call["UpdateExpression"]):
        item[names.get(target, target)] = values[placeholder]
    return item


def test_the_quarantine_items_extra_bytes_are_what_the_handler_writes(monkeypatch: pytest.MonkeyPatch) -> None:
    item = _kept_item(monkeypatch)
    measured = item_bytes(item) - len(STRIPE_BODY)
    assert json.loads(item["headers"]["S"])["stripe-signature"].startswith("t=")
    assert measured == pytest.approx(Assumptions().quarantine_item_extra_bytes, rel=0.25)


def test_quarantine_storage_is_priced_for_its_retention() -> None:
    assert QUARANTINE_RETENTION_DAYS == quarantine.RETENTION_DAYS
    prices = load_prices()
    assume = dataclasses.replace(Assumptions(), quarantined_fraction=0.01)
    result = estimate(10_000_000, 2048, SETTINGS, assume, prices)
    [writes] = [line for line in result.lines if line.item.startswith("quarantine:")]
    [storage] = [line for line in result.lines if line.item.startswith("quarantine storage")]
    item = 2048 + assume.quarantine_item_extra_bytes  # 3,648 B: 4 write units
    assert writes.usd == pytest.approx(100_000 * 4 / 1e6 * prices["dynamodb_on_demand_per_million_write_units"])
    gb = 100_000 * 3 * (item + DYNAMODB_ITEM_STORAGE_OVERHEAD_BYTES) / 1e9  # 90 days: three months' refusals
    assert storage.usd == pytest.approx(
        gb * (prices["dynamodb_storage_per_gb_month"] + prices["dynamodb_pitr_per_gb_month"])
    )
    none = estimate(10_000_000, 2048, SETTINGS, Assumptions(), prices)
    assert sum(line.usd for line in none.lines if line.item.startswith("quarantine")) == 0


def _secrets_line(lines: list[Line]) -> Line:
    [line] = [line for line in lines if line.service == "Secrets Manager" and "signing secrets" in line.item]
    return line


def test_every_signing_secret_is_priced_and_re_read_each_cache_period() -> None:
    prices = load_prices()
    settings = load_settings("sandbox")  # one source per provider
    sources = len(settings.sources)
    assert sources > 1
    line = _secrets_line(estimate(1_000_000, 2048, settings, Assumptions(), prices).lines)
    reads = (1 + sources) * 30 * 86_400 / Assumptions().secret_cache_seconds
    assert line.item.startswith(f"{1 + sources} signing secrets")
    assert line.usd == pytest.approx(
        (1 + sources) * prices["secrets_manager_per_secret_month"]
        + reads / 1e4 * prices["secrets_manager_per_10k_calls"]
    )
    fewer = dataclasses.replace(settings, sources=settings.sources[:1])
    assert _secrets_line(estimate(1_000_000, 2048, fewer, Assumptions(), prices).lines).usd < line.usd
