"""Pure routing logic of the event router: stream record -> (queue, message), batches within SQS limits.

The message is built from the stored event's attributes with the function the validator checked it
with at the door (`routed_message.event_message`), from the same values, so it is the message the door
admitted. Items stored before `source` and `amount_text` existed build the same way without them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import Any

import money_facts

import fifo
import routed_message
from errors import UNMAPPED_TRANSACTION_TYPE
from payload_codec import stored_payload
from routed_message import RoutedMessage, UndeliverableMessageError

ROUTED_TYPES = {"payment": "PAYMENTS_QUEUE_URL", "refund": "REFUNDS_QUEUE_URL", "dispute": "DISPUTES_QUEUE_URL"}
UNROUTED = "UNROUTED_QUEUE_URL"
# Known facts that move no money (authorizations, pending, failed, canceled...): delivered, never alarmed.
LIFECYCLE = "LIFECYCLE_QUEUE_URL"
MAX_BATCH_ENTRIES = 10
MAX_BATCH_BYTES = 256 * 1024  # SendMessageBatch: total of bodies and attributes


class UnroutableRecordError(Exception):
    """The stream record does not hold a stored event this router can send; `reason` is a stable code."""

    def __init__(self, reason: str, message: str, event_id: str | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.event_id = event_id


@dataclasses.dataclass(frozen=True)
class OutgoingMessage:
    """One message to send, with the stream record it came from and why it goes where it goes."""

    sequence_number: str
    queue_url: str
    event_id: str
    message: RoutedMessage
    # Why an event goes to unrouted-events (None for the three routed types).
    unrouted_reason: str | None = None
    # The stored object_id: the message group on a FIFO queue (handlers/fifo.py).
    object_id: str | None = None

    @property
    def size(self) -> int:
        return self.message.size

    def entry(self, entry_id: str) -> dict[str, Any]:
        entry = self.message.entry(entry_id)
        if fifo.is_fifo(self.queue_url):
            entry.update(fifo.fifo_fields(self.event_id, self.object_id))
        return entry


def queue_for(transaction_type: str, queue_urls: Mapping[str, str]) -> str:
    """Known types to their queue; any other type to the unrouted queue, so nothing stored is dropped."""
    return queue_urls[ROUTED_TYPES.get(transaction_type, UNROUTED)]


def _string(image: Mapping[str, Any], name: str) -> str | None:
    value = image.get(name)
    text = value.get("S") if isinstance(value, dict) else None
    return text if isinstance(text, str) else None


def _new_image(record: Mapping[str, Any]) -> Mapping[str, Any]:
    stream = record.get("dynamodb")
    image = stream.get("NewImage") if isinstance(stream, dict) else None
    return image if isinstance(image, dict) else {}


def stored_event_id(record: Mapping[str, Any]) -> str | None:
    """The record's `event_id`, or None when the record does not hold a readable one."""
    return _string(_new_image(record), "event_id")


def _stored_amount(image: Mapping[str, Any]) -> Decimal | None:
    """The stored amount (`amount_text`, else the DynamoDB number), None when the event has none."""
    amount_text = _string(image, "amount_text")
    number = image.get("amount", {}).get("N") if isinstance(image.get("amount"), dict) else None
    return Decimal(amount_text) if amount_text is not None else Decimal(number) if number else None


def _stored_message(image: Mapping[str, Any]) -> RoutedMessage:
    """The routed message of a stored item: its canonical values, read back, through the door's builder."""
    values: dict[str, str | Decimal | None] = {name: _string(image, name) for name in routed_message.EVENT_FIELDS}
    values["payload"] = stored_payload(image)  # either stored form (payload_codec)
    values["amount"] = _stored_amount(image)
    version = image.get("object_version")
    version_number = version.get("N") if isinstance(version, dict) else None
    values["object_version"] = Decimal(version_number) if version_number is not None else None
    if values["payload"] is None:
        raise KeyError("payload")
    return routed_message.event_message(values)


def message_for(record: Mapping[str, Any], queue_urls: Mapping[str, str]) -> OutgoingMessage | None:
    """The message of an INSERT record, or None when its source stores without routing (`routing: skip`).

    Raises `UnroutableRecordError` for a record that can never be sent as it is.
    """
    image = _new_image(record)
    event_id = _string(image, "event_id")
    try:
        if _string(image, "routing") == "skip":
            return None
        transaction_type = _string(image, "transaction_type")
        if event_id is None or transaction_type is None:
            raise KeyError("event_id" if event_id is None else "transaction_type")
        message = _stored_message(image)
    except UndeliverableMessageError as error:
        raise UnroutableRecordError(error.reason, error.message, event_id) from None
    except Exception as error:  # any failure for this one record parks it, never the whole batch
        raise UnroutableRecordError("unreadable_record", f"{type(error).__name__}: {error}"[:500], event_id) from None
    reason = _string(image, "unrouted_reason")
    return OutgoingMessage(
        sequence_number=record["dynamodb"]["SequenceNumber"],
        queue_url=queue_urls[UNROUTED]
        if reason
        else destination(transaction_type, _string(image, "outcome"), queue_urls, _stored_amount(image)),
        event_id=event_id,
        message=message,
        unrouted_reason=reason or _unmapped(transaction_type, _string(image, "outcome")),
        object_id=_string(image, "object_id"),
    )


def destination(transaction_type: str, outcome: str | None, queue_urls: Mapping[str, str], amount: Any = None) -> str:
    """The queue of a stored event's (type, outcome, amount) (README, "The money contract").

    - a money fact (`money_facts.is_money_fact`) -> its type's money queue, unless its `amount` is zero
      (`money_facts.moves_money`: a zero-amount capture or refund moves nothing) -> the lifecycle queue;
    - any other fact with an `outcome` (a known event kind that moves no money) -> the lifecycle queue;
    - no `outcome`: items stored before outcomes existed keep their old route (payment/refund/dispute to
      their queues), anything else (an unknown provider kind, `other`) -> unrouted-events, alarmed.
    """
    if outcome is None:
        return queue_for(transaction_type, queue_urls)
    if money_facts.moves_money(transaction_type, outcome, amount):
        return queue_urls[ROUTED_TYPES[transaction_type]]
    return queue_urls[LIFECYCLE]


def _unmapped(transaction_type: str, outcome: str | None) -> str | None:
    """`unmapped_transaction_type` for what goes to unrouted-events only because nothing maps it."""
    return UNMAPPED_TRANSACTION_TYPE if outcome is None and transaction_type not in ROUTED_TYPES else None


def parked_message(sequence_number: str, queue_url: str, event_id: str | None, reason: str) -> OutgoingMessage:
    """A small pointer to a stored event that cannot be sent as it is, for the unrouted queue.

    It names the event (when its id is SQS-legal), the reason and the stream sequence number; the event
    itself stays in the table, so `replay` can route it after a fix.
    """
    safe_id = event_id if event_id and not routed_message.NOT_IN_SQS.search(event_id) and len(event_id) <= 256 else None
    fields: dict[str, str | Decimal | None] = {
        "event_id": safe_id,
        "parked_reason": reason,
        "sequence_number": sequence_number,
    }
    attributes = {"parked_reason": reason}
    if safe_id:
        attributes["event_id"] = safe_id
    return OutgoingMessage(
        sequence_number=sequence_number,
        queue_url=queue_url,
        event_id=safe_id or "",
        message=routed_message.build(fields, attributes),
        unrouted_reason=reason,
    )


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
