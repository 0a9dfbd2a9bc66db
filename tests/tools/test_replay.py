"""`replay` that finishes: offsets in the bounds, and an event that cannot be routed skipped, named and counted."""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from pipeline_tools.__main__ import main
from tests.tools.moto_pipeline import REGION, moto_pipeline, store_event


@pytest.fixture
def deployment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[tuple[Path, Any, Any]]:
    with moto_pipeline(monkeypatch) as outputs:
        path = tmp_path / "outputs.json"
        path.write_text(json.dumps(outputs | {"api_endpoint": "https://x/v1/webhook"}))
        yield path, boto3.client("dynamodb", region_name=REGION), boto3.client("sqs", region_name=REGION)


def store(dynamodb: Any, event_id: str, received: datetime.datetime, transaction_type: str = "refund") -> None:
    """Store an event as the validator does (its own item builder)."""
    store_event({"event_id": event_id, "transaction_type": transaction_type, "amount": 12.5, "currency": "USD",
                 "object_id": f"obj_{event_id}", "timestamp": "2026-11-28T00:00:00Z"}, received=received)  # fmt: skip


def received_count(sqs: Any, url: str) -> int:
    return int(
        sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])["Attributes"][
            "ApproximateNumberOfMessages"
        ]
    )


def test_bounds_with_offsets_select_the_same_events_as_their_utc_twins(
    deployment: tuple[Path, Any, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    outputs, dynamodb, _sqs = deployment
    store(dynamodb, "evt_0030", datetime.datetime(2026, 11, 28, 0, 30, tzinfo=datetime.UTC))
    store(dynamodb, "evt_0130", datetime.datetime(2026, 11, 28, 1, 30, tzinfo=datetime.UTC))
    windows = [
        ["--since", "2026-11-28T01:00:00+01:00", "--until", "2026-11-28T02:00:00+01:00"],
        ["--since", "2026-11-28T00:00:00Z", "--until", "2026-11-28T01:00:00Z"],
        ["--since", "2026-11-27T19:00:00-05:00", "--until", "2026-11-27T20:00:00-05:00"],
        ["--since", "2026-11-28T00:00:00", "--until", "2026-11-28T01:00:00"],  # no offset: UTC
    ]
    for window in windows:
        assert main(["replay", "--outputs", str(outputs), "--dry-run", *window]) == 0
        summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
        assert summary["would_replay"] == 1, window
        assert summary["by_queue"] == {"refunds-queue-t": 1}


def test_an_event_that_cannot_be_routed_is_skipped_named_and_the_rest_replayed(
    deployment: tuple[Path, Any, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    outputs, dynamodb, sqs = deployment
    moment = datetime.datetime(2026, 11, 28, 10, 0, tzinfo=datetime.UTC)
    for index in range(3):
        store(dynamodb, f"evt_{index}", moment)
    # An item whose message SQS would refuse (written before the door checked, or by hand): a type
    # attribute with a character SQS does not take.
    dynamodb.update_item(TableName="transaction-events-t", Key={"event_id": {"S": "evt_1"}},
                         UpdateExpression="SET transaction_type = :t", ExpressionAttributeValues={":t": {"S": "refund\uffff"}})  # fmt: skip
    status = main(
        ["replay", "--outputs", str(outputs), "--since", "2026-11-28T09:00:00Z", "--until", "2026-11-28T11:00:00Z"]
    )
    captured = capsys.readouterr()
    assert status == 4  # replayed, but not everything
    assert "skipped evt_1: invalid_attribute" in captured.err
    summary = json.loads(captured.out.strip().splitlines()[-1])
    assert (summary["replayed"], summary["skipped"]) == (2, 1)
    assert received_count(sqs, json.loads(outputs.read_text())["refunds_queue_url"]) == 2
