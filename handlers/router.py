"""`event-router`: route stored events from the table stream to the queue of their type.

Every record either reaches a queue or is reported in `batchItemFailures`, so Lambda retries and
bisects it and, in the end, the on-failure destination keeps it: nothing is dropped silently.
"""

from __future__ import annotations

import os
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import BotoCoreError, ClientError
from sdk_config import SDK_CONFIG

from routing import ROUTED_TYPES, UNROUTED, OutgoingMessage, UnroutableRecordError, batches, message_for

# Failed entries of a batch are retried this often before the record is handed back to Lambda.
SEND_ATTEMPTS = 3

logger = Logger()
metrics = Metrics()
_sqs = boto3.client("sqs", config=SDK_CONFIG)


def _queue_urls() -> dict[str, str]:
    return {name: os.environ[name] for name in (*ROUTED_TYPES.values(), UNROUTED)}


def _send(batch: list[OutgoingMessage]) -> list[OutgoingMessage]:
    """Send one batch, retrying only failed entries; return the messages that never got through."""
    pending = {str(index): message for index, message in enumerate(batch)}
    for attempt in range(1, SEND_ATTEMPTS + 1):
        try:
            response = _sqs.send_message_batch(
                QueueUrl=batch[0].queue_url,
                Entries=[message.entry(entry_id) for entry_id, message in pending.items()],
            )
        except (ClientError, BotoCoreError) as error:
            logger.warning("SendMessageBatch failed", extra={"attempt": attempt, "aws_error": type(error).__name__})
            continue
        failed = response.get("Failed", [])
        for failure in failed:
            logger.warning(
                "message not accepted by SQS",
                extra={"attempt": attempt, "code": failure.get("Code"), "event_id": pending[failure["Id"]].event_id},
            )
        pending = {failure["Id"]: pending[failure["Id"]] for failure in failed}
        if not pending:
            return []
    return list(pending.values())


def route(records: list[dict[str, Any]]) -> dict[str, list[dict[str, str]]]:
    """Route a batch of stream records; return the partial batch response."""
    queue_urls = _queue_urls()
    failures: list[str] = []
    messages = []
    for record in records:
        if record.get("eventName") != "INSERT":
            continue  # the mapping filters these out; a stray MODIFY/REMOVE is not a new event
        try:
            messages.append(message_for(record, queue_urls))
        except UnroutableRecordError as error:
            sequence_number = (record.get("dynamodb") or {}).get("SequenceNumber")
            logger.error(
                "stream record cannot be routed", extra={"error": str(error), "sequence_number": sequence_number}
            )
            metrics.add_metric(name="UnreadableRecord", unit=MetricUnit.Count, value=1)
            if sequence_number is None:
                raise  # without a sequence number it cannot be reported: fail the whole batch instead
            failures.append(sequence_number)
    for batch in batches(messages):
        undelivered = _send(batch)
        delivered = len(batch) - len(undelivered)
        metrics.add_metric(name="Routed", unit=MetricUnit.Count, value=delivered)
        if batch[0].queue_url == queue_urls[UNROUTED] and delivered:
            metrics.add_metric(name="Unrouted", unit=MetricUnit.Count, value=delivered)
            logger.warning("events of unknown transaction_type parked", extra={"count": delivered})
        failures.extend(message.sequence_number for message in undelivered)
    if failures:
        metrics.add_metric(name="RecordsReturned", unit=MetricUnit.Count, value=len(failures))
    return {"batchItemFailures": [{"itemIdentifier": sequence_number} for sequence_number in failures]}


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return route(event.get("Records", []))
