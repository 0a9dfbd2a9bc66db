"""`redrive router`: each failed-batch pointer is resolved by the stream's shard and sequence numbers to the
exact events of that batch, routed again, and deleted only after all of them were sent.

Before the change the pointer was resolved to an arrival-time window (±2 s) of the table: events stored
in the same seconds but not in the batch were sent too, and the pointer was deleted even when an event of
the batch could not be sent (`test_a_pointer_with_an_event_it_cannot_send_is_kept` failed).
"""

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
    for name, value in {"AWS_ACCESS_KEY_ID": "t", "AWS_SECRET_ACCESS_KEY": "t", "AWS_DEFAULT_REGION": REGION,
                        "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled"}.items():  # fmt: skip
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        dynamodb, sqs = boto3.client("dynamodb", region_name=REGION), boto3.client("sqs", region_name=REGION)
        table = dynamodb.create_table(
            TableName="transaction-events-t", KeySchema=[{"AttributeName": "event_id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "event_id", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST",
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
        )["TableDescription"]  # fmt: skip
        outputs: dict[str, Any] = {
            "dynamodb_table_name": "transaction-events-t",
            "stream_arn": table["LatestStreamArn"],
        }
        for kind in ("payments", "refunds", "disputes"):
            outputs[f"{kind}_queue_url"] = sqs.create_queue(QueueName=f"{kind}-queue-t")["QueueUrl"]
        outputs["unrouted_queue_url"] = sqs.create_queue(QueueName="unrouted-events-t")["QueueUrl"]
        outputs["event_router_dlq_url"] = sqs.create_queue(QueueName="event-router-dlq-t")["QueueUrl"]
        yield outputs


def store(outputs: dict[str, Any], event_id: str, transaction_type: str = "payment") -> None:
    sys.path.insert(0, str(HANDLERS))
    try:
        from webhook_event import parse_event
    finally:
        sys.path.remove(str(HANDLERS))
    body = json.dumps({"event_id": event_id, "transaction_type": transaction_type, "amount": 5, "currency": "EUR",
                       "object_id": f"obj_{event_id}", "timestamp": "2026-11-28T00:00:00Z"})  # fmt: skip
    item = parse_event(body.encode()).item(now=datetime.datetime.now(datetime.UTC), ttl_days=30)
    boto3.client("dynamodb", region_name=REGION).put_item(TableName=outputs["dynamodb_table_name"], Item=item)


def stream_records(outputs: dict[str, Any]) -> list[dict[str, Any]]:
    streams = boto3.client("dynamodbstreams", region_name=REGION)
    [shard] = streams.describe_stream(StreamArn=outputs["stream_arn"])["StreamDescription"]["Shards"]
    iterator = streams.get_shard_iterator(StreamArn=outputs["stream_arn"], ShardId=shard["ShardId"],
                                          ShardIteratorType="TRIM_HORIZON")["ShardIterator"]  # fmt: skip
    return [{**record, "shard": shard["ShardId"]} for record in streams.get_records(ShardIterator=iterator)["Records"]]


def pointer(outputs: dict[str, Any], first: dict[str, Any], last: dict[str, Any]) -> None:
    """The on-failure record Lambda sends for a stream batch (DDBStreamBatchInfo)."""
    info = {"shardId": first["shard"], "startSequenceNumber": first["dynamodb"]["SequenceNumber"],
            "endSequenceNumber": last["dynamodb"]["SequenceNumber"], "streamArn": outputs["stream_arn"],
            "approximateArrivalOfFirstRecord": "2026-11-28T00:00:00Z", "approximateArrivalOfLastRecord": "2026-11-28T00:00:01Z",
            "batchSize": 2}  # fmt: skip
    boto3.client("sqs", region_name=REGION).send_message(
        QueueUrl=outputs["event_router_dlq_url"], MessageBody=json.dumps({"DDBStreamBatchInfo": info})
    )


def event_ids_in(outputs: dict[str, Any], queue: str) -> list[str]:
    sqs = boto3.client("sqs", region_name=REGION)
    messages = sqs.receive_message(QueueUrl=outputs[queue], MaxNumberOfMessages=10, MessageAttributeNames=["All"])
    return sorted(m["MessageAttributes"]["event_id"]["StringValue"] for m in messages.get("Messages", []))


def held(outputs: dict[str, Any], queue: str) -> int:
    sqs = boto3.client("sqs", region_name=REGION)
    names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    attributes = sqs.get_queue_attributes(QueueUrl=outputs[queue], AttributeNames=names)["Attributes"]
    return sum(int(attributes[name]) for name in names)


def test_a_pointer_replays_exactly_its_batch_then_is_deleted(deployment: dict[str, Any]) -> None:
    for event_id in ("evt_before", "evt_b1", "evt_b2", "evt_after"):  # all stored within the same seconds
        store(deployment, event_id)
    records = stream_records(deployment)
    pointer(deployment, records[1], records[2])
    assert redrive(deployment, "router") == {"batches": 1, "replayed": 2, "kept": 0}
    assert event_ids_in(deployment, "payments_queue_url") == ["evt_b1", "evt_b2"]
    assert held(deployment, "event_router_dlq_url") == 0


def test_a_pointer_with_an_event_it_cannot_send_is_kept(deployment: dict[str, Any]) -> None:
    store(deployment, "evt_k1")
    store(deployment, "evt_k2")
    records = stream_records(deployment)
    pointer(deployment, records[0], records[1])
    boto3.client("dynamodb", region_name=REGION).delete_item(
        TableName=deployment["dynamodb_table_name"], Key={"event_id": {"S": "evt_k2"}}
    )  # gone from the table (TTL, or a person): it cannot be delivered, so the pointer must stay
    lines: list[str] = []
    assert redrive(deployment, "router", lines.append) == {"batches": 0, "replayed": 0, "kept": 1}
    assert held(deployment, "event_router_dlq_url") == 1
    assert any("evt_k2: no longer in the table" in line for line in lines)
