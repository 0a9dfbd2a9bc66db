"""What a FIFO money queue needs on each message: a message group and a deduplication id.

Amazon SQS FIFO queues (Developer Guide, "Amazon SQS FIFO queue key terms"; SendMessageBatch):
`MessageGroupId` and `MessageDeduplicationId` are 1-128 characters of `a-z A-Z 0-9` and
``!"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~``; messages of one group are delivered in order, one group at a time
per consumer, different groups in parallel; a deduplication id seen in the last 5 minutes is accepted
and dropped.

- `MessageGroupId` = the event's `object_id` (facts about one payment, refund or dispute stay in the order
  the pipeline stored them and are never processed by two consumers at once); an event without one
  (stored before the money facts) uses its `event_id`: its own group, ordered with nothing.
- `MessageDeduplicationId` = the `event_id`, so a replay or a router retry within 5 minutes is dropped by
  SQS itself (consumers still deduplicate by `event_id`: the window is only 5 minutes).
An id longer than 128 characters or holding any other character is replaced by `sha256:` and the first
56 hex digits of its SHA-256 (deterministic, so the same object always lands in the same group).
"""

from __future__ import annotations

import hashlib
import re

FIFO_SUFFIX = ".fifo"
MAX_ID_LENGTH = 128
_ALLOWED = re.compile(r"[A-Za-z0-9!\"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~]{1,128}")


def is_fifo(queue_url: str) -> bool:
    """True for a FIFO queue's URL (its name ends in `.fifo`)."""
    return queue_url.endswith(FIFO_SUFFIX)


def sqs_id(value: str) -> str:
    """`value` when SQS accepts it as a group or deduplication id, else a stable digest of it."""
    if _ALLOWED.fullmatch(value):
        return value
    return "sha256:" + hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:56]


def fifo_fields(event_id: str, object_id: str | None) -> dict[str, str]:
    """The `SendMessageBatch` entry members a FIFO queue requires."""
    return {"MessageGroupId": sqs_id(object_id or event_id), "MessageDeduplicationId": sqs_id(event_id)}
