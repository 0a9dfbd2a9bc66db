"""The SQS message the router sends for a stored event, built once at the door and checked there.

The validator builds this text and checks it against SQS's limits before it stores the event; the
message itself is not stored (canonical_event.item): the router builds it again from the stored
attributes with the same builder (`event_message`), so the door and the road cannot disagree about
what is deliverable. Limits (Amazon SQS Developer Guide, "Quotas related
to messages"): message bodies and string attributes may hold only `#x9 #xA #xD #x20-#xD7FF
#xE000-#xFFFD #x10000-#x10FFFF` (else `InvalidMessageContents`); body plus attributes (names, type
names and values) at most the queue's `MaximumMessageSize`, 262,144 bytes on our queues.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal
from json.encoder import encode_basestring
from typing import NamedTuple

from errors import INVALID_ATTRIBUTE, MESSAGE_TOO_LARGE, PipelineError

MAX_MESSAGE_BYTES = 262_144  # every queue's maximum_message_size (modules/queues.py)
MAX_ATTRIBUTE_VALUE_LENGTH = 256  # our own bound for the four attributes (all are ids or type names)
# The complement of SQS's set, written positively: the negated class of the same set took 6 ms to compile
# on every cold start.
NOT_IN_SQS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


class UndeliverableMessageError(PipelineError, ValueError):
    """The message could not be sent by SQS; `reason` is a stable code, `status` the HTTP answer."""

    def __init__(self, reason: str, message: str, status: int) -> None:
        super().__init__(reason, message, status=status)


class RoutedMessage(NamedTuple):
    """`body` (JSON text) and `attributes` (name -> string value) exactly as SQS will receive them.

    A named tuple, not a dataclass: one is built for every event on the validator's hot path.
    """

    body: str
    attributes: Mapping[str, str]

    @property
    def size(self) -> int:
        """Bytes counted against `MaximumMessageSize`: body, attribute names, `String` types and values."""
        body = self.body
        size = len(body) if body.isascii() else len(body.encode())
        for name, value in self.attributes.items():
            size += len(name) + 6 + len(value.encode())  # 6: the data type's name, "String"
        return size

    def entry(self, entry_id: str) -> dict[str, object]:
        """One `SendMessageBatch` entry."""
        return {
            "Id": entry_id,
            "MessageBody": self.body,
            "MessageAttributes": {
                name: {"DataType": "String", "StringValue": value} for name, value in self.attributes.items()
            },
        }


def _escape(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


def json_text(value: str) -> str:
    """A JSON string literal SQS accepts: JSON's own escapes, plus `\\uXXXX` for U+FFFE and U+FFFF."""
    text = encode_basestring(value)
    # JSON escapes every control character, so ASCII text is always legal: skip the (slow) pattern.
    return text if text.isascii() else NOT_IN_SQS.sub(_escape, text)


def _sqs_legal(text: str) -> bool:
    # Printable ASCII (what our JSON builder writes) is legal: the C checks spare the slow pattern.
    return (text.isascii() and text.isprintable()) or not NOT_IN_SQS.search(text)


def build(fields: Mapping[str, str | Decimal | None], attributes: Mapping[str, str]) -> RoutedMessage:
    """A message whose body is a JSON object of `fields` (in the given order; `None` left out).

    Strings are JSON strings, `Decimal`s JSON numbers written with their own scale (`10.00`).
    Raises `UndeliverableMessageError` (413 `message_too_large`, 400 `invalid_attribute`).
    """
    members = [
        f'"{name}":{format(value, "f") if isinstance(value, Decimal) else json_text(value)}'
        for name, value in fields.items()
        if value is not None
    ]
    message = RoutedMessage("{" + ",".join(members) + "}", attributes)
    check(message)
    return message


# The routed message's members, in this order: what a consumer reads first comes first.
EVENT_FIELDS = (
    "event_id",
    "source",
    "provider_event_type",
    "transaction_type",
    "outcome",
    "amount",
    "currency",
    "object_id",
    "parent_object_id",
    "object_version",
    "timestamp",
    "received_at",
    "unrouted_reason",
    "payload_sha256",
    "payload",
)


def event_message(values: Mapping[str, str | Decimal | None]) -> RoutedMessage:
    """The routed message of a stored event from its canonical values (`EVENT_FIELDS`; absent or None
    left out). The validator calls it at the door to check what it admits; the router calls it with the
    same values read back from the item, so both build the same bytes. Raises `UndeliverableMessageError`.
    """
    attributes = {name: values[name] for name in _ATTRIBUTES if values.get(name)}
    return build({name: values.get(name) for name in EVENT_FIELDS}, attributes)  # type: ignore[misc]


_ATTRIBUTES = ("event_id", "transaction_type", "source", "outcome")
# Bytes a member adds besides its value's characters: the quoted name, `:`, `,` and a string's quotes.
_MEMBER_OVERHEAD = max(len(name) for name in EVENT_FIELDS) + 6
_ATTRIBUTE_OVERHEAD = max(len(name) for name in _ATTRIBUTES) + len("String")


def check_event(values: Mapping[str, str | Decimal | None]) -> None:
    """Refuse exactly what `event_message(values)` would refuse, without building the text when its size
    is provably within the limit. Raises `UndeliverableMessageError`.

    The bound: `json_text` writes each character in at most 6 bytes (`\\uXXXX`), a decimal in its own
    digits (exponent spelled out: at most `len(str(value))` plus its padding zeros, so decimals are
    measured exactly), each member adds its name and punctuation, each attribute its name, the type
    name and at most 4 bytes per character. Only a payload of more than ~40 KB can miss it, and then
    the message is built and measured, as before.
    """
    attributes = {name: values[name] for name in _ATTRIBUTES if values.get(name)}
    bound = 2
    for value in values.values():
        if value is None:
            continue
        text_length = len(format(value, "f")) if isinstance(value, Decimal) else 6 * len(value)
        bound += text_length + _MEMBER_OVERHEAD
    for value in attributes.values():
        bound += _ATTRIBUTE_OVERHEAD + 4 * len(value)
    if bound > MAX_MESSAGE_BYTES:
        event_message(values)  # builds and checks everything
        return
    _check_attributes(attributes)


def _check_attributes(attributes: Mapping[str, str]) -> None:
    for name, value in attributes.items():
        if not value or len(value) > MAX_ATTRIBUTE_VALUE_LENGTH or not _sqs_legal(value):
            raise UndeliverableMessageError(
                INVALID_ATTRIBUTE, f"{name} must be 1-{MAX_ATTRIBUTE_VALUE_LENGTH} characters SQS accepts", 400
            )


def check(message: RoutedMessage) -> None:
    """Refuse what SQS would refuse of a message `build` made. Raises `UndeliverableMessageError`.

    The body needs no character check: `build` writes every string through `json_text`, which escapes
    whatever SQS refuses; attributes are taken as given, so they are checked here.
    """
    for name, value in message.attributes.items():
        if not value or len(value) > MAX_ATTRIBUTE_VALUE_LENGTH or not _sqs_legal(value):
            raise UndeliverableMessageError(
                INVALID_ATTRIBUTE, f"{name} must be 1-{MAX_ATTRIBUTE_VALUE_LENGTH} characters SQS accepts", 400
            )
    if message.size > MAX_MESSAGE_BYTES:
        raise UndeliverableMessageError(
            MESSAGE_TOO_LARGE,
            f"the routed message would be {message.size} bytes, over the queue's {MAX_MESSAGE_BYTES}",
            413,
        )
