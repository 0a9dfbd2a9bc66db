"""`redrive unrouted`: parked events whose type the router now routes go to their queue; the rest stay
parked, and the command ends (it once received a message it had just made visible again, forever)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from pipeline_tools.redrive import redrive
from tests.tools.moto_pipeline import REGION, moto_pipeline, store_event


@pytest.fixture
def deployment(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    with moto_pipeline(monkeypatch) as outputs:
        yield outputs


def park(outputs: dict[str, Any], event_id: str, transaction_type: str) -> None:
    """Store the event as the validator does, and a pointer to it in unrouted-events."""
    store_event({"event_id": event_id, "transaction_type": transaction_type, "amount": 5, "currency": "EUR",
                 "object_id": f"obj_{event_id}", "timestamp": "2026-11-28T00:00:00Z"})  # fmt: skip
    boto3.client("sqs", region_name=REGION).send_message(
        QueueUrl=outputs["unrouted_queue_url"], MessageBody="{}",
        MessageAttributes={"event_id": {"DataType": "String", "StringValue": event_id}},
    )  # fmt: skip


def held(outputs: dict[str, Any], queue: str) -> int:
    """Messages the queue holds, visible or in flight (not deleted)."""
    sqs = boto3.client("sqs", region_name=REGION)
    names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    attributes = sqs.get_queue_attributes(QueueUrl=outputs[queue], AttributeNames=names)["Attributes"]
    return sum(int(attributes[name]) for name in names)


def test_routable_parked_events_are_routed_and_unknown_ones_stay_parked(deployment: dict[str, Any]) -> None:
    park(deployment, "evt_now_known", "refund")  # parked earlier (e.g. by an older router), routable now
    park(deployment, "evt_still_unknown", "chargeback_reversal")

    summary = redrive(deployment, "unrouted")

    assert summary == {"routed": 1, "still_unrouted": 1}
    assert held(deployment, "refunds_queue_url") == 1
    assert held(deployment, "unrouted_queue_url") == 1  # the unknown one left in place, not deleted
