"""The guard's property: any interleaving and duplication of a lifecycle's deliveries -> each money fact is
applied exactly once, no stale fact is ever applied, and the final state is the in-order state; the
example ledger then adds up to the provider's net amount."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from ledger_consumer import apply_fact
from webhook_consumer import Change, MemoryStore, ObjectState, RoutedEvent, process_batch
from webhook_consumer.vocabulary import MONEY_OUTCOMES as MONEY

from tests.consumer.lifecycle import deliveries, lifecycles, net
from tests.consumer.messages import Fact, fact_record

TABLE = "example-ledger-test"


class Recorder:
    """The business code, watched: every call that was committed, in order."""

    def __init__(self) -> None:
        self.calls: list[RoutedEvent] = []

    def __call__(self, event: RoutedEvent, current: ObjectState | None) -> Change | None:
        change = apply_fact(event, current, table_name=TABLE)
        # The apply itself is only committed when the guard commits; it records the event in its writes.
        return Change(state=(change or Change()).state, writes=[*(change or Change()).writes, ("applied", event)])


def run(store: MemoryStore, order: list[Fact], batch_sizes: list[int]) -> dict[str, Any]:
    recorder = Recorder()
    records = [fact_record(fact, f"m-{index}") for index, fact in enumerate(order)]
    report: dict[str, Any] = {"stale": [], "duplicates": 0, "failed": []}
    start, sizes = 0, iter(batch_sizes)
    while start < len(records):
        size = next(sizes, 10)
        result = process_batch({"Records": records[start : start + size]}, recorder, store=store)
        report["stale"] += result.stale
        report["duplicates"] += len(result.duplicates)
        report["failed"] += result.failed
        start += size
    return report


def applied(store: MemoryStore) -> list[RoutedEvent]:
    return [write[1] for write in store.writes if isinstance(write, tuple)]


def ledger_total(store: MemoryStore) -> Decimal:
    rows = [w["Put"]["Item"] for w in store.writes if isinstance(w, dict)]
    return sum((Decimal(row["amount"]["N"]) for row in rows), Decimal(0))


@settings(max_examples=300, deadline=None)
@given(data=st.data(), facts=lifecycles())
def test_any_interleaving_and_duplication_applies_each_fact_once_never_stale_and_ends_in_order(
    data: st.DataObject, facts: list[Fact]
) -> None:
    order = data.draw(deliveries(facts), label="deliveries")
    batch_sizes = data.draw(st.lists(st.integers(1, 10), max_size=len(order)), label="batch sizes")
    store = MemoryStore()
    report = run(store, order, batch_sizes)
    assert report["failed"] == []

    in_order = MemoryStore()
    run(in_order, facts, [])

    done = applied(store)
    ids = [event.event_id for event in done]
    assert len(ids) == len(set(ids)), "a fact applied twice"
    last: dict[str, int] = {}
    for event in done:  # in commit order: a money fact's version only ever goes up per object
        if event.ordered:  # lifecycle facts are deduplicated, never ordered: they move no money
            assert event.object_version > last.get(event.object_key, -1), f"stale {event.event_id} applied"
            last[event.object_key] = event.object_version
    # Every fact is decided exactly once as applied or stale; every other delivery is a duplicate.
    stale_ids = [result.event.event_id for result in report["stale"]]
    assert sorted(ids + stale_ids) == sorted(fact.event_id for fact in facts)
    assert report["duplicates"] == len(order) - len(facts)
    # The newest fact of each object is always applied: the final state is the in-order state.
    assert store.objects == in_order.objects
    newest = {}
    for fact in facts:
        if fact.outcome in MONEY.get(fact.transaction_type, ()):
            key = f"{fact.transaction_type}:{fact.object_id}"
            newest[key] = max(newest.get(key, 0), fact.version)
    assert {k: v.version for k, v in store.objects.items()} == newest
    # The ledger adds up to the provider's net amount, in any order, as it does in order.
    assert ledger_total(store) == ledger_total(in_order) == net(facts)


def test_in_order_each_money_fact_gets_its_own_movement() -> None:
    facts = [
        Fact("e1", "payment", "succeeded", "py", 1, Decimal("10.00")),
        Fact("e2", "refund", "succeeded", "re", 1, Decimal("3.00"), parent_object_id="py"),
        Fact("e3", "dispute", "opened", "dp", 1, Decimal("7.00"), parent_object_id="py"),
        Fact("e4", "dispute", "won", "dp", 2, Decimal("7.00"), parent_object_id="py"),
    ]
    store = MemoryStore()
    run(store, facts, [])
    rows = [(w["Put"]["Item"]["pk"]["S"], w["Put"]["Item"]["amount"]["N"]) for w in store.writes if isinstance(w, dict)]
    assert rows == [("ledger#e1", "10.00"), ("ledger#e2", "-3.00"), ("ledger#e3", "-7.00"), ("ledger#e4", "7.00")]


def test_a_stale_fact_is_reported_and_the_newer_row_carries_the_difference() -> None:
    opened = Fact("e3", "dispute", "opened", "dp", 1, Decimal("7.00"))
    lost = Fact("e4", "dispute", "lost", "dp", 2, Decimal("7.00"))
    store = MemoryStore()
    report = run(store, [lost, opened, lost], [])
    assert [r.event.event_id for r in report["stale"]] == ["e3"] and report["stale"][0].current_version == 2
    assert report["duplicates"] == 1
    assert ledger_total(store) == Decimal("-7.00") == net([opened, lost])


def test_a_dispute_named_by_its_payment_is_its_own_object() -> None:
    """Adyen's chargebacks carry the payment's pspReference, Paddle's the transaction: with one state per
    id, the chargeback overwrote the payment's (-200 for a 100 chargeback) or, first, made the payment stale."""
    payment = Fact("e1", "payment", "succeeded", "PSP1", 1, Decimal("100.00"))
    chargeback = Fact("e2", "dispute", "opened", "PSP1", 2, Decimal("100.00"), parent_object_id="PSP1")
    for order in ([payment, chargeback], [chargeback, payment]):
        store = MemoryStore()
        report = run(store, order, [])
        assert report["stale"] == [] and ledger_total(store) == Decimal("0.00")


def test_a_newer_lifecycle_fact_never_makes_a_money_fact_stale() -> None:
    """A dispute's `updated` (lifecycle) newer than its `opened`, delivered first, then the dispute won:
    the ledger must end at 0 (opened -100, won +100), not -100."""
    opened = Fact("e1", "dispute", "opened", "dp", 1, Decimal("100.00"))
    updated = Fact("e2", "dispute", "pending", "dp", 2, Decimal("100.00"))
    won = Fact("e3", "dispute", "won", "dp", 3, Decimal("100.00"))
    for order in ([opened, updated, won], [updated, opened, won], [won, updated, opened]):
        store = MemoryStore()
        run(store, order, [])
        assert ledger_total(store) == Decimal("0.00"), order
