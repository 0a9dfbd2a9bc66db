"""`event-router`: route stored events from the table stream to the queue of their type.

Every record reaches a queue or is reported in `batchItemFailures`, so nothing is dropped silently:
- transient failures (throttling, SQS or KMS errors on SQS's side) are reported, so Lambda retries and
  bisects the batch and, in the end, the on-failure destination keeps a pointer;
- a record that can never be sent as it is (unreadable, or refused by SQS for the sender's fault, such
  as `InvalidMessageContents`) is parked: a pointer with its `event_id` and the reason goes to
  `unrouted-events-<env>` (alarmed), the item stays in the table for `replay`, and the batch goes on.

Each decision is logged as one line, `"routing decision"` with `event_id`, `outcome` (`routed`,
`parked` or `skipped`), `destination` (queue name), `message_id` and `reason`: `trace` reads these.
"""

from __future__ import annotations

import os
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import BotoCoreError, ClientError

from routing import (
    LIFECYCLE,
    ROUTED_TYPES,
    UNROUTED,
    OutgoingMessage,
    UnroutableRecordError,
    batches,
    message_for,
    parked_message,
    stored_event_id,
)
from sdk_config import SDK_CONFIG

# Failed entries of a batch are retried this often before the record is handed back to Lambda.
SEND_ATTEMPTS = 3
# Whole-call errors that no retry can cure: the batch is split so the entry at fault is found and parked.
PERMANENT_CALL_ERRORS = {
    "AWS.SimpleQueueService.BatchRequestTooLong",
    "AWS.SimpleQueueService.BatchEntryIdsNotDistinct",
    "InvalidMessageContents",
    "InvalidParameterValue",
    "MessageTooLong",
    "BatchRequestTooLong",
}

logger = Logger()
metrics = Metrics()
_sqs = boto3.client("sqs", config=SDK_CONFIG)


def _queue_urls() -> dict[str, str]:
    return {name: os.environ[name] for name in (*ROUTED_TYPES.values(), UNROUTED, LIFECYCLE)}


def _queue_name(url: str) -> str:
    return url.rstrip("/").rsplit("/", 1)[-1]


def _decision(message: OutgoingMessage, outcome: str, message_id: str | None = None, reason: str | None = None) -> None:
    logger.info(
        "routing decision",
        extra={
            "event_id": message.event_id,
            "outcome": outcome,
            "destination": _queue_name(message.queue_url),
            "message_id": message_id,
            "reason": reason or message.unrouted_reason,
        },
    )


def _send(batch: list[OutgoingMessage]) -> tuple[list[OutgoingMessage], list[tuple[OutgoingMessage, str]]]:
    """Send one batch, retrying only failed entries.

    Returns (transiently undelivered, permanently refused with SQS's error code).
    """
    pending = {str(index): message for index, message in enumerate(batch)}
    refused: list[tuple[OutgoingMessage, str]] = []
    for attempt in range(1, SEND_ATTEMPTS + 1):
        try:
            response = _sqs.send_message_batch(
                QueueUrl=batch[0].queue_url,
                Entries=[message.entry(entry_id) for entry_id, message in pending.items()],
            )
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            logger.warning("SendMessageBatch failed", extra={"attempt": attempt, "aws_error": code})
            if code in PERMANENT_CALL_ERRORS:
                if len(pending) == 1:
                    refused.append((next(iter(pending.values())), code))
                    return [], refused
                # One entry spoils the call: send each alone to find it.
                undelivered: list[OutgoingMessage] = []
                for message in pending.values():
                    transient, permanent = _send([message])
                    undelivered += transient
                    refused += permanent
                return undelivered, refused
            continue
        except BotoCoreError as error:
            logger.warning("SendMessageBatch failed", extra={"attempt": attempt, "aws_error": type(error).__name__})
            continue
        for success in response.get("Successful", []):
            _decision(pending[success["Id"]], "parked" if pending[success["Id"]].unrouted_reason else "routed",
                      success.get("MessageId"))  # fmt: skip
        failed = response.get("Failed", [])
        for failure in failed:
            logger.warning(
                "message not accepted by SQS",
                extra={"attempt": attempt, "code": failure.get("Code"), "event_id": pending[failure["Id"]].event_id},
            )
        refused += [(pending[f["Id"]], f.get("Code") or "sender_fault") for f in failed if f.get("SenderFault")]
        pending = {f["Id"]: pending[f["Id"]] for f in failed if not f.get("SenderFault")}
        if not pending:
            return [], refused
    return list(pending.values()), refused


def _deliver(messages: list[OutgoingMessage], queue_urls: dict[str, str]) -> tuple[list[str], list[OutgoingMessage]]:
    """Send every message; return (sequence numbers to hand back to Lambda, pointers to park)."""
    failures: list[str] = []
    to_park: list[OutgoingMessage] = []
    for batch in batches(messages):
        undelivered, refused = _send(batch)
        delivered = len(batch) - len(undelivered) - len(refused)
        metrics.add_metric(name="Routed", unit=MetricUnit.Count, value=delivered)
        if batch[0].queue_url == queue_urls[UNROUTED] and delivered:
            metrics.add_metric(name="Unrouted", unit=MetricUnit.Count, value=delivered)
        failures.extend(message.sequence_number for message in undelivered)
        for message, code in refused:
            to_park.append(parked_message(message.sequence_number, queue_urls[UNROUTED], message.event_id, code))
    return failures, to_park


def route(records: list[dict[str, Any]]) -> dict[str, list[dict[str, str]]]:
    """Route a batch of stream records; return the partial batch response."""
    queue_urls = _queue_urls()
    messages: list[OutgoingMessage] = []
    to_park: list[OutgoingMessage] = []
    for record in records:
        if record.get("eventName") != "INSERT":
            continue  # the mapping filters these out; a stray MODIFY/REMOVE is not a new event
        sequence_number = (record.get("dynamodb") or {}).get("SequenceNumber")
        try:
            message = message_for(record, queue_urls)
        except UnroutableRecordError as error:
            logger.error("stream record cannot be routed", extra={"reason": error.reason, "event_id": error.event_id,
                                                                   "sequence_number": sequence_number})  # fmt: skip
            if sequence_number is None:
                raise  # without a sequence number it cannot be named: fail the whole batch instead
            to_park.append(parked_message(sequence_number, queue_urls[UNROUTED], error.event_id, error.reason))
            continue
        if message is None:
            metrics.add_metric(name="Skipped", unit=MetricUnit.Count, value=1)
            logger.info("routing decision", extra={"event_id": stored_event_id(record), "outcome": "skipped",
                                                   "reason": "route_unmapped_false"})  # fmt: skip
            continue
        messages.append(message)
    failures, refused = _deliver(messages, queue_urls)
    to_park += refused
    if to_park:
        metrics.add_metric(name="Parked", unit=MetricUnit.Count, value=len(to_park))
        # A pointer that cannot be parked either (transient or refused) goes back to Lambda: retried, then
        # the on-failure queue. Never dropped: it is the only trace of a record that reached no queue.
        undelivered, unparkable = _deliver(to_park, queue_urls)
        failures += undelivered + [pointer.sequence_number for pointer in unparkable]
    if failures:
        metrics.add_metric(name="RecordsReturned", unit=MetricUnit.Count, value=len(failures))
    return {"batchItemFailures": [{"itemIdentifier": sequence_number} for sequence_number in failures]}


_PER_INVOCATION_KEYS = ("function_name", "function_arn", "function_memory_size", "cold_start")


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    # One decision line per record: the function's name, ARN, memory and cold start are the log
    # group's and the invocation's, not the record's (~190 of ~490 bytes per line; PERFORMANCE.md, Cost).
    logger.remove_keys(list(_PER_INVOCATION_KEYS))
    return route(event.get("Records", []))
