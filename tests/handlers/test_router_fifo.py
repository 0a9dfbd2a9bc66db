"""The router on FIFO money queues (`fifo_money_queues: true`): group by object, deduplicate by event."""

from __future__ import annotations

import boto3
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.handlers.helpers import REGION, FakeContext, fresh_import
from tests.handlers.test_router import store_events
from tests.tools.moto_pipeline import drain

import fifo

FIFO_QUEUES = {
    "PAYMENTS_QUEUE_URL": "payments-queue-test.fifo",
    "REFUNDS_QUEUE_URL": "refunds-queue-test.fifo",
    "DISPUTES_QUEUE_URL": "disputes-queue-test.fifo",
    "UNROUTED_QUEUE_URL": "unrouted-events-test",
    "LIFECYCLE_QUEUE_URL": "lifecycle-events-test",
}


@pytest.fixture
def fifo_queues(events_table: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    client = boto3.client("sqs", region_name=REGION)
    urls = {}
    for variable, name in FIFO_QUEUES.items():
        attributes = {"FifoQueue": "true", "DeduplicationScope": "messageGroup",
                      "FifoThroughputLimit": "perMessageGroupId"} if name.endswith(".fifo") else {}  # fmt: skip
        urls[variable] = client.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        monkeypatch.setenv(variable, urls[variable])
    return urls


def body(index: int, transaction_type: str, object_id: str | None, version: int | None = None) -> str:
    members = f'"event_id":"evt_{index}","transaction_type":"{transaction_type}","amount":5.00,"currency":"EUR",'
    if object_id is not None:
        members += f'"object_id":"{object_id}","object_version":{version},'
    return "{" + members + '"timestamp":"2026-11-28T10:00:00Z"}'


def test_money_facts_are_grouped_by_object_and_deduplicated_by_event(fifo_queues: dict[str, str]) -> None:
    records = store_events([
        body(1, "payment", "py_1", 1), body(2, "refund", "re_1", 1), body(3, "refund", "re_2", 1),
        body(4, "refund", "re_1", 2), body(5, "payment", None),  # a money fact without object_id: parked (RT-5)
        body(6, "dispute", "dp/é 1", 1),  # characters SQS refuses in a group id: a stable digest
    ])  # fmt: skip
    router = fresh_import("router")
    assert router.handler({"Records": records}, FakeContext()) == {"batchItemFailures": []}

    def groups(url: str) -> list[tuple[str, str, str]]:
        return [(m["Attributes"]["MessageGroupId"], m["Attributes"]["MessageDeduplicationId"],
                 m["MessageAttributes"]["event_id"]["StringValue"]) for m in drain(url)]  # fmt: skip

    # A money fact without object_id never reaches a money queue (README, "The money contract"): parked.
    assert sorted(groups(fifo_queues["PAYMENTS_QUEUE_URL"])) == [("py_1", "evt_1", "evt_1")]
    [parked] = drain(fifo_queues["UNROUTED_QUEUE_URL"])
    assert parked["MessageAttributes"]["event_id"]["StringValue"] == "evt_5"
    refunds = groups(fifo_queues["REFUNDS_QUEUE_URL"])
    assert [r for r in refunds if r[0] == "re_1"] == [
        ("re_1", "evt_2", "evt_2"),
        ("re_1", "evt_4", "evt_4"),
    ]  # in order
    assert ("re_2", "evt_3", "evt_3") in refunds
    [(group, _, _)] = groups(fifo_queues["DISPUTES_QUEUE_URL"])
    assert group == fifo.sqs_id("dp/é 1") and group.startswith("sha256:")


ALLOWED = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")


@given(st.text(min_size=1, max_size=300))
def test_every_id_becomes_one_sqs_accepts_and_the_same_id_the_same_group(value: str) -> None:
    made = fifo.sqs_id(value)
    assert 1 <= len(made) <= 128 and set(made) <= ALLOWED
    assert made == fifo.sqs_id(value)
    if len(value) <= 128 and set(value) <= ALLOWED:
        assert made == value
