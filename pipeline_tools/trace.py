"""`trace <event_id>`: where one event went, from the resources of a deployment (AWS or the sandbox).

Sources, the same on AWS and in the sandbox (which ships its functions' log lines to the emulator's
CloudWatch Logs the way Lambda does):
- the stored item: `GetItem` on the events table (source, type, amount as stored, currency, received_at);
- the routing decision: the router's structured log line `{"message": "routing decision", "event_id",
  "outcome", "destination", "message_id", "reason"}` in `/aws/lambda/event-router-<env>`, found with
  `FilterLogEvents` and a quoted-term pattern (the event id) from the item's `received_at` on, then
  matched exactly on the parsed JSON (moto ignores JSON filter patterns; the quoted term works in both);
- dead-letter queues: the routed DLQs and the unrouted queue are peeked (visibility timeout 0, so
  nothing moves: none of them has a redrive policy of its own) for a message whose `event_id`
  attribute matches; `event-router-dlq-<env>` holds batch pointers, not events, so a pointer whose
  arrival window covers `received_at` is reported as "possibly in this failed batch".
"""

from __future__ import annotations

import dataclasses
import datetime
import json
from typing import Any

from pipeline_tools.outputs import client

ROUTING_DECISION = "routing decision"
PEEK_ROUNDS = 10  # up to 100 messages per queue: enough for a DLQ an operator is investigating
DLQ_OUTPUTS = ("payments_dlq_url", "refunds_dlq_url", "disputes_dlq_url", "lifecycle_dlq_url", "unrouted_queue_url")


@dataclasses.dataclass
class EventTrace:
    """Everything `trace` found about one event; empty lists mean "looked, found nothing"."""

    event_id: str
    item: dict[str, str] | None = None
    decisions: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    decision_log_group: str = ""
    in_queues: list[str] = dataclasses.field(default_factory=list)
    failed_batches: list[str] = dataclasses.field(default_factory=list)
    checked_queues: dict[str, int] = dataclasses.field(default_factory=dict)


def _plain(item: dict[str, dict[str, str]]) -> dict[str, str]:
    """DynamoDB attribute values as the text they hold (numbers keep the scale they were stored with)."""
    return {
        key: next(iter(value.values())) for key, value in item.items() if key not in ("payload", "payload_z", "message")
    }


def _queue_name(url: str) -> str:
    return url.rstrip("/").rsplit("/", 1)[-1]


def _router_log_group(outputs: dict[str, Any]) -> str:
    return f"/aws/lambda/{str(outputs['router_lambda_arn']).split(':')[6]}"


def _millis(timestamp: str) -> int:
    return int(datetime.datetime.fromisoformat(timestamp.replace("Z", "+00:00")).timestamp() * 1000)


def routing_decisions(logs: Any, log_group: str, event_id: str, since_ms: int) -> list[dict[str, Any]]:
    """The router's decision lines for `event_id` (oldest first), each with `time` (ISO-8601 UTC) added."""
    found = []
    paginator = logs.get_paginator("filter_log_events")
    pages = paginator.paginate(logGroupName=log_group, filterPattern=json.dumps(event_id), startTime=since_ms)
    for page in pages:
        for event in page.get("events", []):
            try:
                line = json.loads(event["message"])
            except ValueError:
                continue
            if isinstance(line, dict) and line.get("message") == ROUTING_DECISION and line.get("event_id") == event_id:
                moment = datetime.datetime.fromtimestamp(event["timestamp"] / 1000, tz=datetime.UTC)
                found.append({**line, "time": moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")})
    return found


def _peek(sqs: Any, url: str, event_id: str) -> tuple[bool, int]:
    """(whether a message with this event_id attribute is visible, messages looked at)."""
    seen: set[str] = set()
    for _ in range(PEEK_ROUNDS):
        messages = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0, WaitTimeSeconds=0, MessageAttributeNames=["All"]
        ).get("Messages", [])
        fresh = [m for m in messages if m["MessageId"] not in seen]
        if not fresh:
            break
        for message in fresh:
            seen.add(message["MessageId"])
            if message.get("MessageAttributes", {}).get("event_id", {}).get("StringValue") == event_id:
                return True, len(seen)
    return False, len(seen)


def _failed_batches(sqs: Any, url: str, received_at: str) -> tuple[list[str], int]:
    """Router on-failure pointers whose arrival window covers `received_at` (ISO-8601)."""
    hits, seen = [], set()
    moment = datetime.datetime.fromisoformat(received_at.replace("Z", "+00:00"))
    for _ in range(PEEK_ROUNDS):
        messages = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0, WaitTimeSeconds=0
        ).get("Messages", [])
        fresh = [m for m in messages if m["MessageId"] not in seen]
        if not fresh:
            break
        for message in fresh:
            seen.add(message["MessageId"])
            info = json.loads(message["Body"]).get("DDBStreamBatchInfo", {})
            window = [
                _arrival(info.get(key)) for key in ("approximateArrivalOfFirstRecord", "approximateArrivalOfLastRecord")
            ]
            if None not in window and window[0] - datetime.timedelta(seconds=1) <= moment <= window[1] + datetime.timedelta(seconds=1):  # type: ignore[operator]  # fmt: skip
                hits.append(f"{info.get('startSequenceNumber')}..{info.get('endSequenceNumber')}")
    return hits, len(seen)


def _arrival(value: Any) -> datetime.datetime | None:
    """Lambda writes ISO-8601; the sandbox writes the stream's epoch seconds (as text)."""
    if value in (None, "None", ""):
        return None
    try:
        return datetime.datetime.fromtimestamp(float(value), tz=datetime.UTC)
    except ValueError:
        return datetime.datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def trace(outputs: dict[str, Any], event_id: str) -> EventTrace:
    """Look the event up everywhere it can be; never changes anything."""
    result = EventTrace(event_id=event_id)
    stored = client(outputs, "dynamodb").get_item(
        TableName=outputs["dynamodb_table_name"], Key={"event_id": {"S": event_id}}, ConsistentRead=True
    )
    if "Item" not in stored:
        return result
    result.item = _plain(stored["Item"])
    received_at = result.item.get("received_at", "1970-01-01T00:00:00Z")
    if outputs.get("router_lambda_arn"):
        result.decision_log_group = _router_log_group(outputs)
        logs = client(outputs, "logs")
        try:
            result.decisions = routing_decisions(
                logs, result.decision_log_group, event_id, _millis(received_at) - 60_000
            )
        except logs.exceptions.ResourceNotFoundException:
            result.decisions = []
    sqs = client(outputs, "sqs")
    for output in DLQ_OUTPUTS:
        if outputs.get(output):
            found, checked = _peek(sqs, outputs[output], event_id)
            result.checked_queues[_queue_name(outputs[output])] = checked
            if found:
                result.in_queues.append(_queue_name(outputs[output]))
    if outputs.get("event_router_dlq_url"):
        result.failed_batches, checked = _failed_batches(sqs, outputs["event_router_dlq_url"], received_at)
        result.checked_queues[_queue_name(outputs["event_router_dlq_url"])] = checked
    return result


def render(found: EventTrace, table: str) -> str:
    """Readable lines: stored, each routing decision, dead-letter state."""
    lines = [f"event {found.event_id}"]
    if found.item is None:
        lines.append(f"  not stored in {table}: never accepted (see the sender's 4xx), or expired (TTL)")
        return "\n".join(lines)
    item = found.item
    # `amount_text` is the amount as the routed message writes it (the currency's exponent: 12.50 USD);
    # the `amount` number lost its trailing zeros in DynamoDB. Items stored before it existed show `amount`.
    written = item.get("amount_text") or item.get("amount")
    amount = " ".join(part for part in (written, item.get("currency")) if part)
    lines.append(
        f"  stored     {item.get('received_at', '?')}  source={item.get('source', 'webhook')} "
        f"type={item.get('transaction_type', '?')} amount={amount or '-'}  ({table})"
    )
    for decision in found.decisions:
        outcome = decision.get("outcome", "routed")
        detail = f"message {decision['message_id']}" if decision.get("message_id") else ""
        if decision.get("reason"):
            detail = f"{detail}; reason {decision['reason']}".lstrip("; ")
        lines.append(f"  {outcome:<10} {decision['time']}  -> {decision.get('destination', '?')}  {detail}".rstrip())
    if not found.decisions:
        lines.append(
            f"  routing    no decision logged in {found.decision_log_group or 'the router log group'} since it was "
            "stored: not routed yet (check the stream iterator age) or its batch failed (below)"
        )
    for queue in found.in_queues:
        lines.append(f"  dead-letter  in {queue}: see README 'Redrive and replay' for its runbook")
    for batch in found.failed_batches:
        lines.append(f"  dead-letter  possibly in a failed router batch (sequence {batch}): replay that window")
    if not found.in_queues and not found.failed_batches:
        checked = ", ".join(f"{name} ({count} looked at)" for name, count in found.checked_queues.items())
        lines.append(f"  dead-letter  none: {checked}")
    return "\n".join(lines)
