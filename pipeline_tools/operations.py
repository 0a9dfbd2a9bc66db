"""`send`, `replay` and `redrive`: operator actions against any deployment, given its outputs."""

from __future__ import annotations

import datetime
import json
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any

from pipeline_tools.outputs import client

HANDLERS_DIR = Path(__file__).resolve().parent.parent / "handlers"
QUEUE_OUTPUTS = {"payments": "payments", "refunds": "refunds", "disputes": "disputes"}


class OperationError(ValueError):
    """Bad arguments or an impossible request; the message says what to change."""


def _handlers_on_path() -> None:
    """The tools reuse the handlers' own modules, so signing and routing can never drift from them."""
    if str(HANDLERS_DIR) not in sys.path:
        sys.path.insert(0, str(HANDLERS_DIR))


def signature_header(secret: str, webhook_id: str, timestamp: int, body: bytes) -> str:
    _handlers_on_path()
    from webhook_signature import decode_secret, sign

    try:
        key = decode_secret(secret)
    except ValueError as error:
        raise OperationError(f"bad signing secret: {error}") from error
    return sign(key, webhook_id, timestamp, body)


def build_event(transaction_type: str, amount: str, currency: str | None, event_id: str | None) -> bytes:
    event: dict[str, Any] = {
        "event_id": event_id or f"evt_{uuid.uuid4().hex}",
        "transaction_type": transaction_type,
        "amount": "__AMOUNT__",
        "timestamp": datetime.datetime.now(tz=datetime.UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
    }
    if currency:
        event["currency"] = currency
    try:
        float(amount)
    except ValueError as error:
        raise OperationError(f"--amount {amount!r} is not a number") from error
    # The amount goes in as written: no float round trip.
    return json.dumps(event).replace('"__AMOUNT__"', amount).encode()


def send(
    outputs: dict[str, Any], body: bytes, secret: str, *, timestamp: int | None = None, timeout: float = 30
) -> tuple[int, str]:
    """POST a signed body to the deployment's endpoint; return (status, response body)."""
    webhook_id = f"msg_{uuid.uuid4().hex}"
    timestamp = int(time.time()) if timestamp is None else timestamp
    request = urllib.request.Request(  # noqa: S310 - the endpoint from the outputs file
        outputs["api_endpoint"],
        data=body,
        method="POST",
        headers={
            "content-type": "application/json",
            "webhook-id": webhook_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": signature_header(secret, webhook_id, timestamp, body),
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def _queue_urls(outputs: dict[str, Any]) -> dict[str, str]:
    return {
        "PAYMENTS_QUEUE_URL": outputs["payments_queue_url"],
        "REFUNDS_QUEUE_URL": outputs["refunds_queue_url"],
        "DISPUTES_QUEUE_URL": outputs["disputes_queue_url"],
        "UNROUTED_QUEUE_URL": outputs["unrouted_queue_url"],
    }


def replay(
    outputs: dict[str, Any], since: datetime.datetime, until: datetime.datetime, transaction_type: str | None
) -> int:
    """Send stored events received in [since, until) back through routing; consumers deduplicate by event_id."""
    if since >= until:
        raise OperationError("--since must be before --until")
    _handlers_on_path()
    from routing import batches, message_for  # the router's own logic, so a replay routes identically

    dynamodb, sqs = client(outputs, "dynamodb"), client(outputs, "sqs")
    window = {":since": {"S": since.isoformat(timespec="milliseconds").replace("+00:00", "Z")},
              ":until": {"S": until.isoformat(timespec="milliseconds").replace("+00:00", "Z")}}  # fmt: skip
    expression = "received_at >= :since AND received_at < :until"
    if transaction_type:
        window[":type"] = {"S": transaction_type}
        expression += " AND transaction_type = :type"
    messages = []
    for page in dynamodb.get_paginator("scan").paginate(
        TableName=outputs["dynamodb_table_name"], FilterExpression=expression, ExpressionAttributeValues=window
    ):
        for item in page["Items"]:
            record = {"dynamodb": {"NewImage": item, "SequenceNumber": item["event_id"]["S"]}}
            messages.append(message_for(record, _queue_urls(outputs)))
    for batch in batches(messages):
        response = sqs.send_message_batch(
            QueueUrl=batch[0].queue_url, Entries=[m.entry(str(i)) for i, m in enumerate(batch)]
        )
        if response.get("Failed"):
            raise OperationError(
                f"{len(response['Failed'])} messages were not accepted by {batch[0].queue_url}; run replay again"
            )
    return len(messages)


def redrive(outputs: dict[str, Any], kind: str) -> int | str:
    """Move a DLQ's messages back to its source queue: SQS's move task on AWS, a copy loop on the emulator."""
    if kind not in QUEUE_OUTPUTS:
        raise OperationError(f"unknown queue {kind!r}: choose one of {', '.join(QUEUE_OUTPUTS)}")
    sqs = client(outputs, "sqs")
    dlq_url, source_url = outputs[f"{kind}_dlq_url"], outputs[f"{kind}_queue_url"]
    if not outputs.get("aws_endpoint_url"):
        arns = [
            sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
            for url in (dlq_url, source_url)
        ]
        return sqs.start_message_move_task(SourceArn=arns[0], DestinationArn=arns[1])["TaskHandle"]
    moved = 0
    while True:  # the emulator lacks StartMessageMoveTask: the same effect, message by message
        messages = sqs.receive_message(
            QueueUrl=dlq_url, MaxNumberOfMessages=10, MessageAttributeNames=["All"], VisibilityTimeout=30
        ).get("Messages", [])
        if not messages:
            return moved
        for message in messages:
            sqs.send_message(
                QueueUrl=source_url, MessageBody=message["Body"], MessageAttributes=message.get("MessageAttributes", {})
            )
            sqs.delete_message(QueueUrl=dlq_url, ReceiptHandle=message["ReceiptHandle"])
            moved += 1
