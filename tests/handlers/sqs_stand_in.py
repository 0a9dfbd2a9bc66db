"""What SQS enforces and moto does not: the message character set and the queue's maximum size.

moto 5.2.5 accepts any body and any size up to its own 1 MiB default (FIELD-NOTES, "Measured since"),
so a test that relied on moto alone would pass a message real SQS refuses with
`InvalidMessageContents` on every retry. This stand-in hooks the router's client and fails the test
on the first entry SQS would refuse. Source: Amazon SQS Developer Guide, "Quotas related to messages".
`enforce_schema_on` checks every entry against the published message schema
(schema/routed-message.schema.json); the `router` fixture hooks it on every router a handler test imports.
"""

from __future__ import annotations

import re
from types import ModuleType
from typing import Any

from tests.message_schema import check_sqs_entry

SQS_CHARACTERS = re.compile("^[\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]*$")
QUEUE_MAXIMUM_MESSAGE_SIZE = 262_144  # modules/queues.py pins every queue to this


class SqsWouldRefuseError(AssertionError):
    """An entry real SQS would refuse."""


def message_size(entry: dict[str, Any]) -> int:
    size = len(entry["MessageBody"].encode())
    for name, attribute in entry.get("MessageAttributes", {}).items():
        size += len(name.encode()) + len(attribute["DataType"].encode()) + len(attribute["StringValue"].encode())
    return size


def check_entry(entry: dict[str, Any]) -> None:
    texts = [entry["MessageBody"], *(a["StringValue"] for a in entry.get("MessageAttributes", {}).values())]
    for text in texts:
        if not SQS_CHARACTERS.match(text):
            raise SqsWouldRefuseError(f"InvalidMessageContents in entry {entry['Id']}")
    if message_size(entry) > QUEUE_MAXIMUM_MESSAGE_SIZE:
        raise SqsWouldRefuseError(f"entry {entry['Id']} is {message_size(entry)} bytes")


def enforce_on(router: ModuleType) -> list[dict[str, Any]]:
    """Check every entry the router sends from now on; return the list of entries sent (for asserts)."""
    sent: list[dict[str, Any]] = []

    def check(params: dict[str, Any], **_: Any) -> None:
        for entry in params["Entries"]:
            check_entry(entry)
            sent.append(entry)

    router._sqs.meta.events.register("before-parameter-build.sqs.SendMessageBatch", check)
    return sent


def enforce_schema_on(router: ModuleType) -> None:
    """Fail the test on the first entry the router sends that the published schema refuses."""

    def check(params: dict[str, Any], **_: Any) -> None:
        for entry in params["Entries"]:
            check_sqs_entry(entry)

    router._sqs.meta.events.register("before-parameter-build.sqs.SendMessageBatch", check)
