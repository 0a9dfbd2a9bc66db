"""`process_batch`: the partial batch response, and FIFO groups that stop at a failure."""

from __future__ import annotations

from decimal import Decimal

from webhook_consumer import Change, MemoryStore, batch_handler, process_batch

from tests.consumer.messages import Fact, fact_record

FACTS = [Fact(f"psp:e{i}", "refund", "succeeded", f"re_{i % 2}", i, Decimal("1.00")) for i in range(1, 5)]


def test_failures_come_back_by_message_id_and_the_rest_is_acknowledged() -> None:
    records = [fact_record(fact, f"m-{i}") for i, fact in enumerate(FACTS)]
    records[1]["body"] = "{not json"

    def apply(event, current):
        if event.event_id == "psp:e3":
            raise RuntimeError("downstream down")
        return Change(writes=[event.event_id])

    store = MemoryStore()
    handler = batch_handler(apply, store=store)
    assert handler({"Records": records}, None) == {
        "batchItemFailures": [{"itemIdentifier": "m-1"}, {"itemIdentifier": "m-2"}]
    }
    assert store.writes == ["psp:e1", "psp:e4"]
    assert "psp:e3" not in store.events  # a failed apply records nothing: the redelivery applies it
    result = process_batch({"Records": records[2:3]}, lambda e, c: Change(writes=["again"]), store=store)
    assert result.response() == {"batchItemFailures": []} and len(result.applied) == 1


def test_on_a_fifo_queue_a_failure_holds_back_the_rest_of_its_group_only() -> None:
    arn = "arn:aws:sqs:us-east-1:1:payments-queue-dev.fifo"
    records = [fact_record(fact, f"m-{i}", source_arn=arn, group=fact.object_id) for i, fact in enumerate(FACTS)]
    applied: list[str] = []

    def apply(event, current):
        if event.event_id == "psp:e1":
            raise RuntimeError("fails")
        applied.append(event.event_id)

    result = process_batch({"Records": records}, apply, store=MemoryStore())
    # e1 (group re_1) fails, so e3 (re_1) is not tried; e2 and e4 (re_0) go on.
    assert result.failed == ["m-0", "m-2"] and applied == ["psp:e2", "psp:e4"]


def test_stale_facts_are_reported_to_on_stale() -> None:
    store, seen = MemoryStore(), []
    newer, older = fact_record(FACTS[2], "m-a"), fact_record(FACTS[0], "m-b")  # both re_1: versions 3 then 1
    result = process_batch({"Records": [newer, older]}, lambda e, c: None, store=store, on_stale=seen.append)
    assert [r.event.event_id for r in seen] == ["psp:e1"] and result.failed == []
