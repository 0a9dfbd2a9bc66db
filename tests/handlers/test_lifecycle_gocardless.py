"""GoCardless lifecycles through the door and the router: each money fact once; amounts only when fetched.

GoCardless events carry no amounts. Without enrichment the property is the identity of the facts: every
money fact (payment confirmed, refund paid, chargeback, chargeback cancelled, late failure) reaches its
queue exactly once whatever the order and repeats, without an amount; every other known event reaches the
lifecycle queue, none raises the unknown-type alarm. With `"enrich": true` the door fetches each money
fact's object (handlers/enrichment.py, here from an in-memory API holding the story's payment and refunds)
and the ledger property holds: each money queue's signed sum equals the story's amounts. Event bodies follow the official SDK's fixture
(`../shared/providers/gocardless/`) and are parsed by the SDK's own `webhooks.parse` as the oracle.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import enrichment
import money_facts
from gocardless_pro import webhooks as gocardless_webhooks
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.handlers import lifecycle
from tests.handlers.lifecycle import Delivery
from tests.handlers.providers.signing import NOW
from tests.handlers.providers.signing_b import fixture_text, gocardless_signature, request

SECRET = "gc-webhook-secret-0123456789"
SOURCE = lifecycle.source("gocardless")
TEMPLATE = json.loads(fixture_text("gocardless/sdk_fixture_webhook_body.json"))["events"][0]


def event(number: int, resource_type: str, action: str, links: dict[str, str]) -> dict[str, Any]:
    return TEMPLATE | {"id": f"EV{number:012d}", "created_at": f"2026-11-20T10:00:{number:02d}.000Z",
                       "resource_type": resource_type, "action": action, "links": links,
                       "details": {"origin": "gocardless", "cause": action, "description": action}}  # fmt: skip


def delivery(*events: dict[str, Any], facts: tuple[tuple[str, str, str], ...] = ()) -> Delivery:
    """One signed batch; `facts` are (transaction_type, object_id, outcome) of its money facts."""
    body = json.dumps({"events": list(events)})
    signature = gocardless_signature(body.encode(), SECRET)
    assert len(gocardless_webhooks.parse(body, SECRET, signature)) == len(events)  # the SDK's oracle
    return Delivery(request({"Webhook-Signature": signature}, body), facts)  # type: ignore[arg-type]


PM, RF1, RF2 = (
    {"payment": "PM1", "mandate": "MD1"},
    {"refund": "RF1", "payment": "PM1"},
    {"refund": "RF2", "payment": "PM1"},
)


def story(chargeback_cancelled: bool) -> list[Delivery]:
    return [
        delivery(event(1, "mandates", "created", {"mandate": "MD1"}), event(2, "mandates", "active", {"mandate": "MD1"})),
        delivery(event(3, "payments", "created", PM), event(4, "payments", "submitted", PM)),
        delivery(event(5, "payments", "confirmed", PM), facts=(("payment", "PM1", "succeeded"),)),
        delivery(event(6, "payments", "paid_out", PM), event(7, "payouts", "paid", {"payout": "PO1"})),
        delivery(event(8, "refunds", "created", RF1)),
        delivery(event(9, "refunds", "paid", RF1), facts=(("refund", "RF1", "succeeded"),)),
        delivery(event(10, "refunds", "created", RF2), event(11, "refunds", "failed", RF2)),
        delivery(event(12, "payments", "charged_back", PM), facts=(("dispute", "PM1", "opened"),)),
        delivery(event(13, "payments", "chargeback_settled", PM)),
        *([delivery(event(14, "payments", "chargeback_cancelled", PM), facts=(("dispute", "PM1", "won"),))]
          if chargeback_cancelled else []),
    ]  # fmt: skip


def assert_facts_once(result: lifecycle.Result, deliveries: list[Delivery]) -> None:
    wanted = sorted({fact for delivery in deliveries for fact in delivery.facts})
    seen = sorted(
        (body["transaction_type"], body["object_id"], body["outcome"])
        for queue in lifecycle.MONEY_QUEUES
        for body in result.money[queue]
    )
    assert seen == wanted
    for queue in lifecycle.MONEY_QUEUES:
        for body in result.money[queue]:
            assert body["transaction_type"] == queue and body["outcome"] in money_facts.MONEY_OUTCOMES[queue]
            assert "amount" not in body and "currency" not in body  # GoCardless sends none
    assert "unrouted" not in result.messages


def test_confirmed_payment_refund_and_chargeback_once_each() -> None:
    deliveries = story(True)
    result = lifecycle.run(SOURCE, deliveries, secrets=[SECRET], now=NOW)
    assert_facts_once(result, deliveries)
    assert len(result.messages["lifecycle"]) == 10  # 14 events, 4 money facts


@settings(max_examples=40, deadline=None)
@given(cancelled=st.booleans(), data=st.data())
def test_any_order_and_any_repeats_keep_each_fact_once(cancelled: bool, data: st.DataObject) -> None:
    deliveries = story(cancelled)
    order = data.draw(lifecycle.orderings(len(deliveries)))
    result = lifecycle.run(SOURCE, [deliveries[index] for index in order], secrets=[SECRET], now=NOW)
    assert_facts_once(result, deliveries)


# --- with enrichment: the amounts the API holds, summed against the ledger -------------------------------

API = {  # what GET /payments/{id} and GET /refunds/{id} answer for the story's objects (minor units)
    "/payments/PM1": {"payments": {"id": "PM1", "amount": 2500, "currency": "GBP"}},
    "/refunds/RF1": {"refunds": {"id": "RF1", "amount": "1000", "currency": "GBP"}},
    "/refunds/RF2": {"refunds": {"id": "RF2", "amount": 700, "currency": "GBP"}},
}
ENRICHED = lifecycle.source("gocardless", options={"enrich": {"api_secret": "x", "api_base_url": "https://api.test"}})


class FakeApi:
    """The client's interface as enrichment uses it; counts the calls."""

    provider = "gocardless"
    base_url = "https://api.test"

    def __init__(self) -> None:
        self.calls: list[str] = []

    def request(self, method: str, path: str) -> dict[str, Any]:
        self.calls.append(path)
        return json.loads(json.dumps(API[path]))


def enriched_story(chargeback_cancelled: bool) -> list[Delivery]:
    """`story` with each money fact's amount: the payment's for it and its chargebacks, the refund's for it."""
    pounds = {"PM1": Decimal("25.00"), "RF1": Decimal("10.00")}
    return [
        Delivery(
            delivery.request,
            tuple(lifecycle.Fact(kind, object_id, pounds[object_id], outcome) for kind, object_id, outcome in delivery.facts),
        )
        for delivery in story(chargeback_cancelled)
    ]  # fmt: skip


def run_enriched(deliveries: list[Delivery]) -> tuple[lifecycle.Result, FakeApi]:
    api, cache = FakeApi(), enrichment.AmountCache()
    result = lifecycle.run(
        ENRICHED, deliveries, secrets=[SECRET], now=NOW,
        enrich=lambda events: enrichment.enrich(ENRICHED, events, api, cache),  # type: ignore[arg-type]
    )  # fmt: skip
    return result, api


def test_enriched_money_facts_carry_the_api_amounts_and_sum_to_the_ledger() -> None:
    deliveries = enriched_story(True)
    result, api = run_enriched(deliveries)
    lifecycle.assert_ledger(result, deliveries)
    assert result.net("payment") == Decimal("25.00") and result.net("refund") == Decimal(
        "-10.00"
    )  # a refund counts against
    assert sorted(api.calls) == ["/payments/PM1", "/refunds/RF1"]  # money facts only, each object once
    assert all("amount" not in body for body in result.messages["lifecycle"])
    assert "unrouted" not in result.messages


@settings(max_examples=40, deadline=None)
@given(cancelled=st.booleans(), data=st.data())
def test_enriched_any_order_and_any_repeats_sum_to_the_ledger(cancelled: bool, data: st.DataObject) -> None:
    deliveries = enriched_story(cancelled)
    order = data.draw(lifecycle.orderings(len(deliveries)))
    result, _ = run_enriched([deliveries[index] for index in order])
    lifecycle.assert_ledger(result, deliveries)


def test_a_type_map_money_fact_without_an_object_to_fetch_is_refused_not_guessed() -> None:
    """`type_map` can make a kind a money fact whose resource has no amount (a mandate): `amount_not_found`,
    no call; and a kind mapped away from money is not fetched."""
    import pytest

    settings = {"api_secret": "x", "api_base_url": "https://api.test"}
    mapped = lifecycle.source(
        "gocardless", options={"enrich": settings},
        type_map={"mandates.active": "payment", "payments.confirmed": "other"},
    )  # fmt: skip
    mandate = delivery(event(2, "mandates", "active", {"mandate": "MD1"}))
    confirmed = delivery(event(5, "payments", "confirmed", PM))
    api = FakeApi()
    # Matched by class name: another test's cold re-import of the handlers may have replaced the class.
    with pytest.raises(Exception) as refused:
        lifecycle.run(mapped, [mandate], secrets=[SECRET], now=NOW,
                      enrich=lambda events: enrichment.enrich(mapped, events, api, enrichment.AmountCache()))  # type: ignore[arg-type]  # fmt: skip
    assert type(refused.value).__name__ == "InvalidEventError"
    assert refused.value.reason == "amount_not_found" and api.calls == []
    result = lifecycle.run(mapped, [confirmed], secrets=[SECRET], now=NOW,
                           enrich=lambda events: enrichment.enrich(mapped, events, api, enrichment.AmountCache()))  # type: ignore[arg-type]  # fmt: skip
    assert api.calls == [] and all(not result.money[queue] for queue in lifecycle.MONEY_QUEUES)
