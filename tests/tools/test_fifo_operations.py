"""`replay` and `redrive` with FIFO money queues (`fifo_money_queues: true`), against moto."""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from pipeline_tools import operations, redrive
from tests.tools.moto_pipeline import REGION, drain, moto_pipeline, store_event


@pytest.fixture
def outputs(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    with moto_pipeline(monkeypatch, fifo=True) as found:
        yield found


def test_replay_sends_to_fifo_queues_with_the_routers_group_and_deduplication_ids(outputs: dict[str, Any]) -> None:
    for index, (kind, object_id) in enumerate([("refund", "re_1"), ("refund", "re_1"), ("payment", None)]):
        event = {"event_id": f"evt_{index}", "transaction_type": kind, "amount": 5, "currency": "EUR",
                 "timestamp": "2026-11-28T00:00:00Z"}  # fmt: skip
        if object_id:
            event |= {"object_id": object_id, "object_version": index}
        store_event(event)
    now = datetime.datetime.now(datetime.UTC)
    sent = operations.replay(outputs, now - datetime.timedelta(minutes=5), now + datetime.timedelta(minutes=1), None)
    assert sent == 3
    refunds = drain(outputs["refunds_queue_url"])
    assert sorted((m["Attributes"]["MessageGroupId"], m["Attributes"]["MessageDeduplicationId"]) for m in refunds) == [
        ("re_1", "evt_0"), ("re_1", "evt_1")]  # fmt: skip
    # A money fact without object_id is parked (README, "The money contract"), never on a money queue.
    assert drain(outputs["payments_queue_url"]) == []
    [parked] = drain(outputs["unrouted_queue_url"])
    assert parked["MessageAttributes"]["event_id"]["StringValue"] == "evt_2"


def test_redrive_moves_a_fifo_dead_letter_queue_back_keeping_each_group(
    outputs: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The emulator's path (no StartMessageMoveTask): the receive/send/delete loop.
    monkeypatch.setattr(redrive, "client", lambda _outputs, service: boto3.client(service, region_name=REGION))
    sqs = boto3.client("sqs", region_name=REGION)
    for index, group in enumerate(["py_1", "py_2", "py_1"]):
        sqs.send_message(QueueUrl=outputs["payments_dlq_url"], MessageBody=json.dumps({"n": index}),
                         MessageGroupId=group, MessageDeduplicationId=f"evt_{index}",
                         MessageAttributes={"event_id": {"DataType": "String", "StringValue": f"evt_{index}"}})  # fmt: skip
    summary = redrive.redrive(outputs | {"aws_endpoint_url": "http://emulator.invalid"}, "payments")
    assert summary == {"moved": 3}
    moved = drain(outputs["payments_queue_url"])
    by_group = sorted((m["Attributes"]["MessageGroupId"], json.loads(m["Body"])["n"]) for m in moved)
    assert by_group == [("py_1", 0), ("py_1", 2), ("py_2", 1)]
    assert all(m["Attributes"]["MessageDeduplicationId"].startswith("redrive:") for m in moved)
    assert drain(outputs["payments_dlq_url"]) == []
