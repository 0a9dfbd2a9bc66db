"""Sending events and collecting the resulting messages, for any deployment."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from pipeline_tools import operations
from pipeline_tools.outputs import client

QUEUE_OUTPUT = {"payment": "payments_queue_url", "refund": "refunds_queue_url", "dispute": "disputes_queue_url",
                "lifecycle": "lifecycle_queue_url"}  # fmt: skip


def unique_id(prefix: str = "it") -> str:
    return f"{prefix}_{uuid.uuid4().hex}"


def event_body(event_id: str, transaction_type: str = "payment", amount: str = "19.99", **extra: Any) -> bytes:
    # A money fact without object_id or currency is parked (README, "The money contract"): both by default.
    body = {"event_id": event_id, "transaction_type": transaction_type, "amount": "__A__", "currency": "USD",
            "object_id": event_id, "timestamp": "2026-11-28T10:00:00Z", **extra}  # fmt: skip
    return json.dumps(body).replace('"__A__"', amount).encode()


def post(outputs: dict[str, Any], body: bytes, secret: str, **kwargs: Any) -> tuple[int, dict[str, Any]]:
    status, text = operations.send(outputs, body, secret, **kwargs)
    return status, json.loads(text) if text else {}


def collect(
    outputs: dict[str, Any], queue_url: str, event_ids: set[str], *, timeout: float = 60, delete: bool = True
) -> list[dict[str, Any]]:
    """Receive until every id arrived (or the timeout), returning only messages of `event_ids`.

    Others' messages are held (invisible) while we look, so each receive reaches new ones: made visible
    again at once, the same first ten came back on every call, and a queue holding a load run's hundreds
    of messages hid ours for good. They are all made visible again before returning."""
    sqs = client(outputs, "sqs")
    found: list[dict[str, Any]] = []
    held: list[str] = []
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1,
                                           VisibilityTimeout=int(timeout) + 30,
                                           MessageAttributeNames=["All"]).get("Messages", [])  # fmt: skip
            for message in messages:
                event_id = message.get("MessageAttributes", {}).get("event_id", {}).get("StringValue")
                if event_id in event_ids:
                    found.append(message)
                    if delete:  # else left invisible for the caller, who deletes it with this receipt
                        sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
                else:  # someone else's message: held until we are done, then visible again
                    held.append(message["ReceiptHandle"])
            all_arrived = {m["MessageAttributes"]["event_id"]["StringValue"] for m in found} >= event_ids
            if all_arrived and time.monotonic() + 2 < deadline:
                deadline = time.monotonic() + 2  # a little longer, to catch would-be duplicates
    finally:
        for receipt in held:
            sqs.change_message_visibility(QueueUrl=queue_url, ReceiptHandle=receipt, VisibilityTimeout=0)
    return found


def stored(outputs: dict[str, Any], event_id: str) -> dict[str, Any] | None:
    response = client(outputs, "dynamodb").get_item(
        TableName=outputs["dynamodb_table_name"], Key={"event_id": {"S": event_id}}, ConsistentRead=True
    )
    return response.get("Item")
