"""Routed messages for the consumer's tests, built by the pipeline's own builder (handlers/routed_message.py)."""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import sys
from decimal import Decimal
from typing import Any

from tests.handlers.helpers import HANDLERS_DIR

sys.path.insert(0, str(HANDLERS_DIR))
import routed_message


@dataclasses.dataclass(frozen=True)
class Fact:
    """One provider fact about one object; `version` orders facts about the same object."""

    event_id: str
    transaction_type: str
    outcome: str
    object_id: str
    version: int
    amount: Decimal
    currency: str = "EUR"
    parent_object_id: str | None = None


def body_fields(fact: Fact) -> dict[str, Any]:
    moment = datetime.datetime(2026, 11, 28, tzinfo=datetime.UTC) + datetime.timedelta(seconds=fact.version)
    payload = f'{{"id":"{fact.event_id}"}}'
    return {
        "event_id": fact.event_id,
        "source": "psp",
        "provider_event_type": f"{fact.transaction_type}.{fact.outcome}",
        "transaction_type": fact.transaction_type,
        "amount": fact.amount,
        "currency": fact.currency,
        "timestamp": moment.isoformat().replace("+00:00", "Z"),
        "received_at": "2026-11-28T10:00:00.000Z",
        "payload_sha256": hashlib.sha256(payload.encode()).hexdigest(),
        "payload": payload,
        "outcome": fact.outcome,
        "object_id": fact.object_id,
        "parent_object_id": fact.parent_object_id,
        "object_version": Decimal(fact.version),
    }


def lambda_record(fields: dict[str, Any], message_id: str, *, source_arn: str = "arn:aws:sqs:us-east-1:1:q",
                  group: str | None = None) -> dict[str, Any]:  # fmt: skip
    """A Lambda SQS event record holding the routed message of `fields`."""
    known = {name: fields.get(name) for name in routed_message.EVENT_FIELDS}
    message = routed_message.event_message(known)  # the pipeline's own builder, in its member order
    if set(fields) - set(known):  # a member a newer pipeline might add: appended to the same body
        extra = routed_message.build({k: v for k, v in fields.items() if k not in known}, {})
        message = routed_message.RoutedMessage(message.body[:-1] + "," + extra.body[1:], message.attributes)
    record: dict[str, Any] = {
        "messageId": message_id,
        "body": message.body,
        "messageAttributes": {
            name: {"stringValue": value, "dataType": "String"} for name, value in message.attributes.items()
        },
        "attributes": {"ApproximateReceiveCount": "1"},
        "eventSourceARN": source_arn,
    }
    if group is not None:
        record["attributes"]["MessageGroupId"] = group
    return record


def fact_record(fact: Fact, message_id: str, **options: Any) -> dict[str, Any]:
    return lambda_record(body_fields(fact), message_id, **options)
