"""`redrive unrouted`: parked events whose type the router now routes go to their queue; the rest stay
parked, and the command ends (it once received a message it had just made visible again, forever)."""

from __future__ import annotations

import datetime
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from pipeline_tools.redrive import redrive

REGION = "us-east-1"
HANDLERS = Path(__file__).resolve().parents[2] / "handlers"


@pytest.fixture
def deployment(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    for name, value in {"AWS_ACCESS_KEY_ID": "t", "AWS_SECRET_ACCESS_KEY": "t", "AWS_DEFAULT_REGION": REGION}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        dynamodb, sqs = boto3.client("dynamodb", region_name=REGION), boto3.client("sqs", region_name=REGION)
        dynamodb.create_table(TableName="transaction-events-t", KeySchema=[{"AttributeName": "event_id", "KeyType": "HASH"}],
                              AttributeDefinitions=[{"AttributeName": "event_id", "AttributeType": "S"}],
                              BillingMode="PAY_PER_REQUEST")  # fmt: skip
        outputs: dict[str, Any] = {"dynamodb_table_name": "transaction-events-t"}
        for kind in ("payments", "refunds", "disputes"):
            outputs[f"{kind}_queue_url"] = sqs.create_queue(QueueName=f"{kind}-queue-t")["QueueUrl"]
        outputs["unrouted_queue_url"] = sqs.create_queue(QueueName="unrouted-events-t")["QueueUrl"]
        yield outputs


def park(outputs: dict[str, Any], event_id: str, transaction_type: str) -> None:
    """Store the event as the validator does, and a pointer to it in unrouted-events."""
    sys.path.insert(0, str(HANDLERS))
    try:
        from webhook_event import parse_event
    finally:
        sys.path.remove(str(HANDLERS))
    body = json.dumps({"event_id": event_id, "transaction_type": transaction_type, "amount": 5, "currency": "EUR",
                       "timestamp": "2026-11-28T00:00:00Z"})  # fmt: skip
    item = parse_event(body.encode()).item(now=datetime.datetime.now(datetime.UTC), ttl_days=30)
    boto3.client("dynamodb", region_name=REGION).put_item(TableName=outputs["dynamodb_table_name"], Item=item)
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
