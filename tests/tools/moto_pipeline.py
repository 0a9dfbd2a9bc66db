"""A deployment's table and queues in moto for the operator tools' tests (`replay`, `redrive`): the events
table keyed as the validator keys it, the routed queues (standard, or with `fifo` the money queues and
their DLQs as FIFO queues, `<kind>-queue-t.fifo`), and events stored with the validator's own item builder."""

from __future__ import annotations

import datetime
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

REGION = "us-east-1"
EVENTS_TABLE = "transaction-events-t"
HANDLERS = Path(__file__).resolve().parents[2] / "handlers"
MONEY_KINDS = ("payments", "refunds", "disputes")


@contextmanager
def moto_pipeline(monkeypatch: pytest.MonkeyPatch, *, fifo: bool = False) -> Iterator[dict[str, Any]]:
    """Inside `mock_aws` with test credentials (and no endpoint override): the deployment's outputs."""
    for name, value in {"AWS_ACCESS_KEY_ID": "t", "AWS_SECRET_ACCESS_KEY": "t", "AWS_DEFAULT_REGION": REGION}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        dynamodb, sqs = boto3.client("dynamodb", region_name=REGION), boto3.client("sqs", region_name=REGION)
        dynamodb.create_table(TableName=EVENTS_TABLE, KeySchema=[{"AttributeName": "event_id", "KeyType": "HASH"}],
                              AttributeDefinitions=[{"AttributeName": "event_id", "AttributeType": "S"}],
                              BillingMode="PAY_PER_REQUEST")  # fmt: skip
        outputs: dict[str, Any] = {"dynamodb_table_name": EVENTS_TABLE}
        for kind in MONEY_KINDS:
            for role in ("queue", "dlq") if fifo else ("queue",):
                name, attributes = (
                    (f"{kind}-{role}-t.fifo", {"FifoQueue": "true"}) if fifo else (f"{kind}-{role}-t", {})
                )
                outputs[f"{kind}_{role}_url"] = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        outputs["unrouted_queue_url"] = sqs.create_queue(QueueName="unrouted-events-t")["QueueUrl"]
        yield outputs


def store_event(event: dict[str, Any], *, received: datetime.datetime | None = None) -> None:
    """Store `event` (a `POST /webhook` body) as the validator does, received at `received` (default now)."""
    sys.path.insert(0, str(HANDLERS))
    try:
        from webhook_event import parse_event
    finally:
        sys.path.remove(str(HANDLERS))
    now = received or datetime.datetime.now(datetime.UTC)
    item = parse_event(json.dumps(event).encode()).item(now=now, ttl_days=30)
    boto3.client("dynamodb", region_name=REGION).put_item(TableName=EVENTS_TABLE, Item=item)


def drain(url: str) -> list[dict[str, Any]]:
    """Receive and delete every message of the queue at `url`, with its attributes and FIFO ids."""
    sqs = boto3.client("sqs", region_name=REGION)
    messages = []
    while batch := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"],
                                       MessageSystemAttributeNames=["MessageGroupId", "MessageDeduplicationId"]
                                       ).get("Messages", []):  # fmt: skip
        messages += batch
        for message in batch:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return messages
