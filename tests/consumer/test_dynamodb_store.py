"""`DynamoDBStore` against moto: one transaction per applied fact, conditions that refuse duplicates and
changes under our feet, nothing half-done when the business code's own write is refused."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ledger_consumer import apply_fact
from webhook_consumer import Change, ConcurrentChangeError, Decision, DuplicateEventError, apply_once, parse
from webhook_consumer.dynamodb_store import DynamoDBStore

from tests.consumer.conftest import TABLE
from tests.consumer.lifecycle import deliveries, lifecycles, net
from tests.consumer.messages import Fact, fact_record

PAYMENT = Fact("psp:e1", "payment", "succeeded", "py_1", 5, Decimal("10.00"))


def ledger(client: Any) -> Decimal:
    items = client.scan(TableName=TABLE)["Items"]
    return sum((Decimal(i["amount"]["N"]) for i in items if i["pk"]["S"].startswith("ledger#")), Decimal(0))


def apply(event: Any, current: Any) -> Change | None:
    return apply_fact(event, current, table_name=TABLE)


def test_apply_then_duplicate_then_stale(client: Any) -> None:
    store = DynamoDBStore(TABLE, client=client, clock=lambda: 1_000)
    event = parse(fact_record(PAYMENT, "m"))
    assert apply_once(event, apply, store).decision is Decision.APPLIED
    assert apply_once(event, apply, store).decision is Decision.DUPLICATE
    older = parse(fact_record(Fact("psp:e0", "payment", "reversed", "py_1", 4, Decimal("10.00")), "m"))
    result = apply_once(older, apply, store)
    assert (result.decision, result.current_version) == (Decision.STALE, 5)
    assert apply_once(older, apply, store).decision is Decision.DUPLICATE
    assert ledger(client) == Decimal("10.00")
    item = client.get_item(TableName=TABLE, Key={"pk": {"S": "event#psp:e1"}})["Item"]
    assert item["status"] == {"S": "applied"} and item["expires_at"] == {"N": str(1_000 + 14 * 86_400)}
    assert store.object_state("payment:py_1").state == {"effect": Decimal("10.00"), "outcome": "succeeded"}


def test_the_commit_refuses_a_duplicate_and_a_concurrent_change(client: Any) -> None:
    store = DynamoDBStore(TABLE, client=client)
    event = parse(fact_record(PAYMENT, "m"))
    store.commit(event, None, None)
    with pytest.raises(DuplicateEventError):
        store.commit(event, None, None)
    newer = parse(fact_record(Fact("psp:e2", "payment", "reversed", "py_1", 9, Decimal("10.00")), "m"))
    with pytest.raises(ConcurrentChangeError):
        store.commit(newer, None, None)  # we read "no object", another consumer had written version 5
    assert store.object_state("payment:py_1").version == 5


def test_nothing_is_recorded_when_the_business_write_is_refused(client: Any) -> None:
    store = DynamoDBStore(TABLE, client=client)
    client.put_item(TableName=TABLE, Item={"pk": {"S": "ledger#psp:e1"}, "amount": {"N": "1"}})
    with pytest.raises(client.exceptions.TransactionCanceledException):
        apply_once(parse(fact_record(PAYMENT, "m")), apply, store)
    assert not store.seen("psp:e1") and store.object_state("payment:py_1") is None  # all or nothing


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), facts=lifecycles())
def test_a_shuffled_duplicated_lifecycle_through_dynamodb_adds_up(
    client: Any, data: st.DataObject, facts: list
) -> None:
    client.delete_table(TableName=TABLE)
    client.create_table(TableName=TABLE, KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                        BillingMode="PAY_PER_REQUEST")  # fmt: skip
    store = DynamoDBStore(TABLE, client=client)
    for index, fact in enumerate(data.draw(deliveries(facts))):
        apply_once(parse(fact_record(fact, f"m-{index}")), apply, store)
    assert ledger(client) == net(facts)
