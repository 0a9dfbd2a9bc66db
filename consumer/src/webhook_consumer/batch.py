"""An SQS batch helper for Lambda in the Powertools style: one record at a time, partial batch response.

`process_batch(event, apply, store=...)` parses each record (`parse`), runs `apply_once`, and returns a
`BatchResult` whose `response()` is what the handler returns to Lambda with `ReportBatchItemFailures`
enabled on the event source mapping: `{"batchItemFailures": [{"itemIdentifier": <messageId>}, ...]}`
(AWS Lambda Developer Guide, "Handling errors for an SQS event source in Lambda"). Only the failed
records come back; the rest are deleted from the queue.

- A record that is not a routed message (`InvalidMessageError`) or whose `apply` raised is reported as
  failed: SQS delivers it again and, after the queue's `maxReceiveCount`, moves it to its dead-letter
  queue. Nothing is dropped in silence.
- Duplicates and stale facts are acknowledged (not failed): retrying cannot make them applicable. Each
  stale fact is logged (`"stale fact skipped"`, ids and versions only, never the payload) and listed in
  `BatchResult.stale`; `on_stale` is called for it if given.
- On a FIFO queue (`eventSourceARN` ending in `.fifo`) a failure stops its message group for this
  batch: the group's later records are reported failed unprocessed, so they cannot overtake it (the
  rule of Powertools' `SqsFifoPartialProcessor` with `skip_group_on_error`).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Mapping
from typing import Any

from .errors import InvalidMessageError
from .guard import Apply, Decision, GuardStore, Result, apply_once
from .models import RoutedEvent, parse

logger = logging.getLogger("webhook_consumer")


@dataclasses.dataclass
class BatchResult:
    """What happened to each record of one batch."""

    applied: list[RoutedEvent] = dataclasses.field(default_factory=list)
    duplicates: list[RoutedEvent] = dataclasses.field(default_factory=list)
    stale: list[Result] = dataclasses.field(default_factory=list)
    failed: list[str] = dataclasses.field(default_factory=list)  # message ids

    def response(self) -> dict[str, list[dict[str, str]]]:
        """The partial batch response Lambda expects."""
        return {"batchItemFailures": [{"itemIdentifier": message_id} for message_id in self.failed]}


def _group(record: Mapping[str, Any]) -> str | None:
    attributes = record.get("attributes") or {}
    return attributes.get("MessageGroupId") if isinstance(attributes, Mapping) else None


def process_batch(
    event: Mapping[str, Any],
    apply: Apply,
    *,
    store: GuardStore,
    on_stale: Callable[[Result], None] | None = None,
) -> BatchResult:
    """Process a Lambda SQS event (`{"Records": [...]}`); see the module doc. Never raises for one record."""
    result = BatchResult()
    stopped_groups: set[str | None] = set()
    for record in event.get("Records", []):
        message_id = str(record.get("messageId"))
        fifo = str(record.get("eventSourceARN", "")).endswith(".fifo")
        if fifo and _group(record) in stopped_groups:
            result.failed.append(message_id)
            continue
        try:
            routed = parse(record)
            outcome = apply_once(routed, apply, store)
        except InvalidMessageError as error:
            logger.error("record is not a routed message", extra={"message_id": message_id, "problems": error.problems})
            outcome = None
        except Exception as error:  # the business code or the store failed: SQS delivers the record again
            logger.exception("record failed", extra={"message_id": message_id, "error": type(error).__name__})
            outcome = None
        if outcome is None:
            result.failed.append(message_id)
            if fifo:
                stopped_groups.add(_group(record))
        elif outcome.decision is Decision.APPLIED:
            result.applied.append(outcome.event)
        elif outcome.decision is Decision.DUPLICATE:
            result.duplicates.append(outcome.event)
        else:
            logger.warning(
                "stale fact skipped",
                extra={"event_id": routed.event_id, "object_id": routed.object_id,
                       "object_version": routed.object_version, "current_version": outcome.current_version},
            )  # fmt: skip
            result.stale.append(outcome)
            if on_stale is not None:
                on_stale(outcome)
    return result


def batch_handler(apply: Apply, *, store: GuardStore) -> Callable[[Mapping[str, Any], Any], dict[str, Any]]:
    """A Lambda handler `(event, context) -> partial batch response` that runs `apply` through the guard."""

    def handler(event: Mapping[str, Any], context: Any) -> dict[str, Any]:
        return process_batch(event, apply, store=store).response()

    return handler
