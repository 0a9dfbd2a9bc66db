"""Pure routing logic of the event router: stream record -> (queue, message), batches within SQS limits."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer

from canonical_json import dumps

ROUTED_TYPES = {"payment": "PAYMENTS_QUEUE_URL", "refund": "REFUNDS_QUEUE_URL", "dispute": "DISPUTES_QUEUE_URL"}
UNROUTED = "UNROUTED_QUEUE_URL"
MAX_BATCH_ENTRIES = 10
MAX_BATCH_BYTES = 256 * 1024  # SendMessageBatch: total of bodies and attributes
MESSAGE_FIELDS = ("event_id", "transaction_type", "amount", "currency", "timestamp", "received_at")

_deserializer = TypeDeserializer()


class UnroutableRecordError(Exception):
    """The stream record does not hold a stored event this router can read."""


@dataclasses.dataclass(frozen=True)
class OutgoingMessage:
    sequence_number: str
    queue_url: str
    event_id: str
    transaction_type: str
    body: str

    @property
    def size(self) -> int:
        attributes = len("event_id") + len(self.event_id) + len("transaction_type") + len(self.transaction_type)
        return len(self.body.encode()) + attributes + 2 * len("String")

    def entry(self, entry_id: str) -> dict[str, Any]:
        return {
            "Id": entry_id,
            "MessageBody": self.body,
            "MessageAttributes": {
                "event_id": {"DataType": "String", "StringValue": self.event_id},
                "transaction_type": {"DataType": "String", "StringValue": self.transaction_type},
            },
        }


def queue_for(transaction_type: str, queue_urls: Mapping[str, str]) -> str:
    """Known types to their queue; any other type to the unrouted queue, so nothing stored is dropped."""
    return queue_urls[ROUTED_TYPES.get(transaction_type, UNROUTED)]


def message_for(record: Mapping[str, Any], queue_urls: Mapping[str, str]) -> OutgoingMessage:
    """Build the canonical message of an INSERT record. Raises `UnroutableRecordError`."""
    try:
        image = record["dynamodb"]["NewImage"]
        item = {name: _deserializer.deserialize(value) for name, value in image.items()}
        payload = json.loads(item["payload"], parse_float=Decimal)
        message = {name: item[name] for name in MESSAGE_FIELDS if name in item}
        message["payload"] = payload
        event_id, transaction_type = str(item["event_id"]), str(item["transaction_type"])
        return OutgoingMessage(
            sequence_number=record["dynamodb"]["SequenceNumber"],
            queue_url=queue_for(transaction_type, queue_urls),
            event_id=event_id,
            transaction_type=transaction_type,
            body=dumps(message),
        )
    except (KeyError, TypeError, ValueError) as error:
        raise UnroutableRecordError(f"{type(error).__name__}: {error}") from error


def batches(messages: list[OutgoingMessage]) -> Iterator[list[OutgoingMessage]]:
    """Group by queue, then cut into batches of at most 10 entries and 256 KiB."""
    by_queue: dict[str, list[OutgoingMessage]] = {}
    for message in messages:
        by_queue.setdefault(message.queue_url, []).append(message)
    for queue_messages in by_queue.values():
        batch: list[OutgoingMessage] = []
        batch_bytes = 0
        for message in queue_messages:
            if batch and (len(batch) == MAX_BATCH_ENTRIES or batch_bytes + message.size > MAX_BATCH_BYTES):
                yield batch
                batch, batch_bytes = [], 0
            batch.append(message)
            batch_bytes += message.size
        if batch:
            yield batch
