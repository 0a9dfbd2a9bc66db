"""The canonical event: one shape for every source, stored as one item and routed as one message.

Fields (README, "Provider sources"): `event_id`, `source`, `provider_event_type`, `transaction_type`
(`payment`/`refund`/`dispute`/`other`, or the standard source's own type), `amount` (exact, major
units, written with the currency's exponent; absent when the event carries none), `currency` (ISO
4217), `timestamp` (UTC, `Z`), `payload` (the exact signed text, or a batch item's own JSON),
`payload_sha256`, `received_at`, `ttl`; and the money fact (handlers/money_facts.py): `outcome`,
`object_id`, `parent_object_id`, `object_version` (README, "The money contract"). The routed message is checked here, at the door (built when its size is not provably within the limit),
so only events that SQS will accept are ever acknowledged; the router builds the same message again
from the stored attributes with the same function.
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
from decimal import Decimal
from typing import Any

import routed_message
from canonical_json import decimal_text, dumps, exact_normalize
from errors import INVALID_FIELD, ITEM_TOO_LARGE, SCHEMA_VIOLATION, PipelineError
from payload_codec import payload_attributes

# DynamoDB numbers: up to 38 significant digits, magnitude 1E-130 .. 9.99E+125 (Developer Guide,
# "Supported data types": Number).
_MAX_DIGITS, _MIN_MAGNITUDE, _MAX_MAGNITUDE = 38, -130, 125
# DynamoDB's maximum item size is 400 KB, names and values included (Developer Guide, "Quotas"; 409,600
# bytes). 400,000 leaves room for our estimate of number sizes and stays under moto's own 405,000, so the
# sandbox never answers 500 for an item AWS would store.
MAX_ITEM_BYTES = 400_000
MAX_OBJECT_ID_CHARACTERS = 256  # object_id, parent_object_id: handlers/event_schema.json
# Everything but the payload and the routed message's text: ids, types, times, hash, numbers, names.
_OTHER_ATTRIBUTES_BYTES = 2048


class NotStorableError(PipelineError, ValueError):
    """A value the item cannot hold; `field` names it. Answered 400 (or 413 for `item_too_large`)."""

    def __init__(self, reason: str, message: str, field: str | None = None) -> None:
        super().__init__(reason, message, field)


def check_dynamodb_number(field: str, value: Decimal) -> None:
    """Raise `NotStorableError` unless `value` fits a DynamoDB number exactly."""
    _sign, digits, exponent = exact_normalize(value).as_tuple()
    magnitude = len(digits) + int(exponent) - 1
    if digits != (0,) and (len(digits) > _MAX_DIGITS or not _MIN_MAGNITUDE <= magnitude <= _MAX_MAGNITUDE):
        raise NotStorableError(
            SCHEMA_VIOLATION, f"{field} has more than {_MAX_DIGITS} digits or is out of DynamoDB's range", field
        )


def utc_text(moment: datetime.datetime) -> str:
    """ISO-8601 in UTC with `Z`, microseconds only when there are any: `2026-11-28T10:00:00Z`."""
    text = moment.astimezone(datetime.UTC).isoformat()
    return text.replace("+00:00", "Z")


def payload_sha256(value: Any) -> str:
    """SHA-256 (hex) of the canonical JSON of a payload parsed by `strict_json`: other whitespace or key
    order, same hash."""
    return hashlib.sha256(dumps(value, parsed=True).encode()).hexdigest()


@dataclasses.dataclass(frozen=True)
class CanonicalEvent:
    """One event ready to store. `amount` is in major units with the currency's scale; see module doc."""

    event_id: str
    source: str
    provider_event_type: str
    transaction_type: str
    timestamp: str
    payload: str
    payload_sha256: str
    amount: Decimal | None = None
    currency: str | None = None
    # Set when the event is stored but goes to unrouted-events whatever its type (e.g. unknown currency).
    unrouted_reason: str | None = None
    # False when the source stores unmapped events without routing them (`route_unmapped: false`).
    routed: bool = True
    # The money fact (handlers/money_facts.py): what happened to the money, the provider's object it is
    # about, its parent (refund/dispute -> payment), and what orders facts about that object (an integer).
    outcome: str | None = None
    object_id: str | None = None
    parent_object_id: str | None = None
    object_version: int | None = None

    def message(self, received_at: str) -> routed_message.RoutedMessage:
        """The routed message. Raises `routed_message.UndeliverableMessageError`."""
        return routed_message.event_message(self._message_values(received_at))

    def _message_values(self, received_at: str) -> dict[str, Any]:
        values: dict[str, Any] = {name: getattr(self, name, None) for name in routed_message.EVENT_FIELDS}
        values["received_at"] = received_at
        if self.object_version is not None:
            values["object_version"] = Decimal(self.object_version)
        return values

    def item(
        self,
        *,
        now: datetime.datetime,
        ttl_days: int,
        extra: dict[str, str] | None = None,
        message_proven: bool = False,
    ) -> dict[str, Any]:
        """The DynamoDB item (low-level attribute values), once the routed message is built and checked.

        The message itself is not stored: the router builds it again from these attributes with the same
        builder (`routed_message.event_message`), so the item stays about the payload's size. `amount`
        is a DynamoDB number (which drops trailing zeros); `amount_text` keeps the amount as the message
        writes it (`10.00`). `message_proven`: the caller has proven the message legal and within size
        (see `webhook_event.MESSAGE_BOUND`), so it is not built twice. Raises
        `routed_message.UndeliverableMessageError` and `NotStorableError`.
        """
        received_at = now.isoformat(timespec="milliseconds").replace("+00:00", "Z")
        if not message_proven:
            # Checked now, what SQS would refuse is refused at the door; the text itself is built only
            # when its size is not provably within the queue's limit (routed_message.check_event).
            routed_message.check_event(self._message_values(received_at))
        item: dict[str, Any] = {
            "event_id": {"S": self.event_id},
            "source": {"S": self.source},
            "provider_event_type": {"S": self.provider_event_type},
            "transaction_type": {"S": self.transaction_type},
            "timestamp": {"S": self.timestamp},
            **payload_attributes(self.payload),  # compressed when it saves space (payload_codec)
            "payload_sha256": {"S": self.payload_sha256},
            "received_at": {"S": received_at},
            "ttl": {"N": str(int(now.timestamp()) + ttl_days * 86400)},
        }
        if self.amount is not None:
            check_dynamodb_number("amount", self.amount)
            item["amount"] = {"N": decimal_text(self.amount)}
            item["amount_text"] = {"S": format(self.amount, "f")}
        if self.currency is not None:
            item["currency"] = {"S": self.currency}
        for name in ("outcome", "object_id", "parent_object_id"):
            value = getattr(self, name)
            if value is not None:
                if name != "outcome" and not 1 <= len(value) <= MAX_OBJECT_ID_CHARACTERS:
                    # The published schema's bound (handlers/event_schema.json): consumers refuse what is
                    # outside it, so the door does (a 400, kept in quarantine) instead of their DLQ.
                    raise NotStorableError(
                        INVALID_FIELD, f"{name} must be 1 to {MAX_OBJECT_ID_CHARACTERS} characters", name
                    )
                item[name] = {"S": value}
        if self.object_version is not None:
            item["object_version"] = {"N": str(self.object_version)}
        if self.unrouted_reason is not None:
            item["unrouted_reason"] = {"S": self.unrouted_reason}
        if not self.routed:
            item["routing"] = {"S": "skip"}
        for name, value in (extra or {}).items():
            item[name] = {"S": value}
        # An upper bound, cheap: the payload, and the other attributes within a fixed allowance.
        size = len(self.payload.encode()) + _OTHER_ATTRIBUTES_BYTES
        if size > MAX_ITEM_BYTES:
            raise NotStorableError(ITEM_TOO_LARGE, f"the stored item would be over {MAX_ITEM_BYTES} bytes")
        return item
