"""`RoutedEvent`: the canonical event as a consumer reads it, and `parse` to get one from an SQS record."""

from __future__ import annotations

import dataclasses
import datetime
import json
from collections.abc import Mapping
from decimal import Decimal
from types import MappingProxyType
from typing import Any

from .errors import InvalidMessageError
from .schema_rules import schema, violations
from .vocabulary import LEDGER_SIGN, STATE_EFFECT, Outcome, is_money_fact

# Members this version of the package models; anything else the body carries is kept in `extra`.
KNOWN_MEMBERS = (
    "event_id", "source", "provider_event_type", "transaction_type", "amount", "currency", "timestamp",
    "received_at", "unrouted_reason", "payload_sha256", "payload", "outcome", "object_id", "parent_object_id",
    "object_version",
)  # fmt: skip
_OPEN_ENUMS = frozenset({"$.body.outcome"})


@dataclasses.dataclass(frozen=True, slots=True)
class RoutedEvent:
    """One routed message, typed.

    `amount` is exact (`Decimal`, major units, the currency's scale: `Decimal("10.00")`); `timestamp` and
    `received_at` are timezone-aware (UTC); `outcome` is an `Outcome` (`Outcome.UNKNOWN` for a value a
    newer pipeline added, its text in `outcome_text`; None in messages older than the money facts);
    `object_version` orders facts about one `object_id` only. `extra` keeps body members this version does
    not know; `attributes` the SQS message attributes; `message_id` the SQS message id (None when absent).
    """

    event_id: str
    transaction_type: str
    timestamp: datetime.datetime
    received_at: datetime.datetime
    payload_sha256: str
    payload: str
    source: str | None = None
    provider_event_type: str | None = None
    amount: Decimal | None = None
    currency: str | None = None
    unrouted_reason: str | None = None
    outcome: Outcome | None = None
    outcome_text: str | None = None
    object_id: str | None = None
    parent_object_id: str | None = None
    object_version: int | None = None
    extra: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    attributes: Mapping[str, str] = dataclasses.field(default_factory=dict)
    message_id: str | None = None

    @property
    def is_money_fact(self) -> bool:
        """True when this fact moved money (it came from a money queue)."""
        return is_money_fact(self.transaction_type, self.outcome)

    @property
    def ledger_sign(self) -> int:
        """+1 the merchant gains `amount`, -1 loses it, 0 nothing moves (also for non-money facts)."""
        return LEDGER_SIGN.get((self.transaction_type, self.outcome), 0) if self.outcome else 0

    @property
    def state_effect(self) -> Decimal:
        """What the object has moved in all once it is in this fact's state: `amount` times
        `STATE_EFFECT` (0 for non-money facts and facts without an amount)."""
        if self.outcome is None or self.amount is None:
            return Decimal(0)
        return self.amount * STATE_EFFECT.get((self.transaction_type, self.outcome), 0)

    @property
    def ordered(self) -> bool:
        """True when the ordering guard orders this fact: a money fact that names its object and version.

        Facts that move no money (the lifecycle queue's) are deduplicated but never ordered and never
        move an object's version: a newer lifecycle fact (a dispute's `updated`, a refund's `pending`
        in the same second) must not make the money fact it accompanies stale. Messages older than the
        money facts carry no object or version and are deduplicated only."""
        return self.is_money_fact and self.object_id is not None and self.object_version is not None

    @property
    def object_key(self) -> str | None:
        """`<transaction_type>:<object_id>`: what the guard keeps one state for. An id alone is not enough:
        some providers name a dispute by its payment (Adyen's chargebacks carry the payment's
        pspReference, Paddle's its transaction), and the payment and its dispute are two objects."""
        return None if self.object_id is None else f"{self.transaction_type}:{self.object_id}"


def _time(text: str) -> datetime.datetime:
    # Python keeps microseconds; a nanosecond digit beyond them is dropped (3.11 fromisoformat).
    return datetime.datetime.fromisoformat(text).astimezone(datetime.UTC)


def _record_parts(record: Mapping[str, Any]) -> tuple[str, dict[str, str], str | None]:
    """(body, attributes, message id) of a Lambda SQS record or a boto3 `ReceiveMessage` message."""
    if "body" in record:  # Lambda's event: body, messageAttributes {name: {stringValue, dataType}}, messageId
        body, raw, key, message_id = (
            record["body"],
            record.get("messageAttributes") or {},
            "stringValue",
            record.get("messageId"),
        )
    elif "Body" in record:  # boto3: Body, MessageAttributes {name: {StringValue, DataType}}, MessageId
        body, raw, key, message_id = (
            record["Body"],
            record.get("MessageAttributes") or {},
            "StringValue",
            record.get("MessageId"),
        )
    else:
        raise InvalidMessageError(["the record has no body (neither a Lambda SQS record nor a ReceiveMessage message)"])
    if not isinstance(body, str):
        raise InvalidMessageError(["the body is not text"])
    attributes: dict[str, str] = {}
    for name, attribute in raw.items():
        value = attribute.get(key) if isinstance(attribute, Mapping) else None
        if isinstance(value, str):
            attributes[name] = value
    return body, attributes, message_id


def parse(record: Mapping[str, Any]) -> RoutedEvent:
    """The typed event of one SQS record, checked against the published schema's rules.

    `record` is a Lambda SQS event record (`body`, `messageAttributes`, `messageId`) or a boto3
    `ReceiveMessage` message (`Body`, `MessageAttributes`, `MessageId`; ask for
    `MessageAttributeNames=["All"]`). Numbers are read as `Decimal`, never binary floats. Raises
    `InvalidMessageError` (its `problems` name the members) when the body is not JSON, breaks the schema,
    or its `event_id` differs from the attribute's.
    """
    body_text, attributes, message_id = _record_parts(record)
    try:
        body = json.loads(body_text, parse_float=Decimal)
    except ValueError as error:
        raise InvalidMessageError([f"the body is not JSON: {error.__class__.__name__}"]) from None
    problems = list(violations({"body": body, "attributes": attributes}, schema(), open_enums=_OPEN_ENUMS))
    if not problems and attributes.get("event_id") != body["event_id"]:
        problems.append("$.attributes.event_id: differs from the body's event_id")
    if problems:
        raise InvalidMessageError(problems)
    outcome_text = body.get("outcome")
    outcome = None
    if outcome_text is not None:
        outcome = Outcome(outcome_text) if outcome_text in Outcome._value2member_map_ else Outcome.UNKNOWN
    amount = body.get("amount")
    version = body.get("object_version")
    return RoutedEvent(
        event_id=body["event_id"],
        transaction_type=body["transaction_type"],
        timestamp=_time(body["timestamp"]),
        received_at=_time(body["received_at"]),
        payload_sha256=body["payload_sha256"],
        payload=body["payload"],
        source=body.get("source"),
        provider_event_type=body.get("provider_event_type"),
        amount=None if amount is None else Decimal(amount) if isinstance(amount, int) else amount,
        currency=body.get("currency"),
        unrouted_reason=body.get("unrouted_reason"),
        outcome=outcome,
        outcome_text=outcome_text,
        object_id=body.get("object_id"),
        parent_object_id=body.get("parent_object_id"),
        object_version=None if version is None else int(version),
        extra=MappingProxyType({name: value for name, value in body.items() if name not in KNOWN_MEMBERS}),
        attributes=MappingProxyType(attributes),
        message_id=message_id,
    )
