"""`status`, `events list`, `resend`, `listen`: what a deployment holds and does, read from its outputs.

Generic over the outputs file: every output named `*_queue_url` or `*_dlq_url` is a queue to show
(queues other parts add appear without a change here); the table is `dynamodb_table_name`; the router's
decisions come from its log group (`/aws/lambda/<router function>`), as `trace` reads them.

Alarms: on AWS, CloudWatch's own state (`DescribeAlarms`, the alarms whose names end in `-<env>`). The
emulator stores alarms but never evaluates them, so in the sandbox each synthesized alarm definition
(read back from the emulator) is evaluated here against what the emulator holds: `AWS/SQS`
`ApproximateNumberOfMessagesVisible` against the queue's attribute, the validator's EMF metrics
(`SignatureRejected`, … per `source`) summed from its log group over the alarm's period; an alarm on
a metric the emulator has no source for (Lambda `Errors`, API Gateway `5XXError`, ages) shows
`not evaluated`, never a guessed OK.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import json
import operator
import time
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any

from pipeline_tools.operations import OperationError, _handlers_on_path, _queue_urls, queue_name, send_messages
from pipeline_tools.outputs import client, environment_of

ROUTING_DECISION = "routing decision"
COMPARISONS: dict[str, Callable[[float, float], bool]] = {
    "GreaterThanThreshold": operator.gt, "GreaterThanOrEqualToThreshold": operator.ge,
    "LessThanThreshold": operator.lt, "LessThanOrEqualToThreshold": operator.le,
}  # fmt: skip


def queue_outputs(outputs: dict[str, Any]) -> dict[str, str]:
    """`{output name without _url: queue URL}` for every `*_queue_url` / `*_dlq_url` output."""
    return {
        key.removesuffix("_url"): str(value)
        for key, value in sorted(outputs.items())
        if key.endswith(("_queue_url", "_dlq_url")) and isinstance(value, str) and value
    }


def queue_depths(outputs: dict[str, Any]) -> list[dict[str, Any]]:
    sqs = client(outputs, "sqs")
    depths = []
    for key, url in queue_outputs(outputs).items():
        attributes = sqs.get_queue_attributes(
            QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
        )["Attributes"]
        depths.append({"output": key, "queue": queue_name(url),
                       "visible": int(attributes.get("ApproximateNumberOfMessages", 0)),
                       "in_flight": int(attributes.get("ApproximateNumberOfMessagesNotVisible", 0))})  # fmt: skip
    return depths


def _plain(item: dict[str, dict[str, Any]]) -> dict[str, str]:
    return {name: next(iter(value.values())) for name, value in item.items() if name != "payload"}


def stored_events(
    outputs: dict[str, Any], *, source: str | None = None, outcome: str | None = None, max_scan: int = 10_000
) -> tuple[list[dict[str, str]], bool]:
    """(events newest first, whether the scan stopped at `max_scan` items). A Scan: the table has no
    index by time; on a large table it reads at most `max_scan` items (and says so)."""
    dynamodb = client(outputs, "dynamodb")
    found, scanned, truncated = [], 0, False
    options: dict[str, Any] = {"TableName": outputs["dynamodb_table_name"]}
    for page in dynamodb.get_paginator("scan").paginate(**options):
        scanned += page.get("ScannedCount", 0)
        found += [_plain(item) for item in page["Items"]]
        if scanned >= max_scan:
            truncated = True
            break
    if source:
        found = [event for event in found if event.get("source", "standard") == source]
    if outcome:
        found = [event for event in found if event.get("outcome") == outcome]
    return sorted(found, key=lambda event: event.get("received_at", ""), reverse=True), truncated


def routing_destinations(outputs: dict[str, Any], since: str) -> dict[str, dict[str, Any]]:
    """event_id -> the router's last decision (`destination`, `outcome`, `reason`) logged since `since`."""
    router = str(outputs.get("router_lambda_arn", "")).split(":")[-1]
    if not router:
        return {}
    logs = client(outputs, "logs")
    start = int(datetime.datetime.fromisoformat(since.replace("Z", "+00:00")).timestamp() * 1000) - 60_000
    decisions: dict[str, dict[str, Any]] = {}
    try:
        pages = logs.get_paginator("filter_log_events").paginate(
            logGroupName=f"/aws/lambda/{router}", filterPattern=json.dumps(ROUTING_DECISION), startTime=start
        )
        for page in pages:
            for event in page.get("events", []):
                try:
                    line = json.loads(event["message"])
                except ValueError:
                    continue
                if isinstance(line, dict) and line.get("message") == ROUTING_DECISION and line.get("event_id"):
                    decisions[line["event_id"]] = line
    except logs.exceptions.ResourceNotFoundException:
        return {}
    return decisions


def event_rows(outputs: dict[str, Any], events: list[dict[str, str]]) -> list[str]:
    decisions = routing_destinations(outputs, events[-1]["received_at"]) if events else {}
    rows = []
    for event in events:
        decision = decisions.get(event.get("event_id", ""), {})
        amount = " ".join(p for p in (event.get("amount_text") or event.get("amount"), event.get("currency")) if p)
        destination = decision.get("destination") or ("parked: " + event["unrouted_reason"]
                                                       if event.get("unrouted_reason") else "not routed yet")  # fmt: skip
        if decision.get("reason"):
            destination += f" ({decision['reason']})"
        rows.append(f"{event.get('received_at', '?')}  {event.get('source', 'standard'):<12} {event.get('event_id', '?')}  "
                    f"{event.get('transaction_type', '?')}  {event.get('outcome', '-')}  {amount or '-'}  -> {destination}")  # fmt: skip
    return rows


# --- alarms -----------------------------------------------------------------------------------------


def alarm_states(outputs: dict[str, Any]) -> list[dict[str, Any]]:
    """`{"name", "state", "why"}` per alarm of this environment."""
    environment = environment_of(outputs)
    cloudwatch = client(outputs, "cloudwatch")
    alarms = [
        alarm
        for page in cloudwatch.get_paginator("describe_alarms").paginate(AlarmTypes=["MetricAlarm"])
        for alarm in page.get("MetricAlarms", [])
        if alarm["AlarmName"].endswith(f"-{environment}")
    ]
    alarms.sort(key=lambda alarm: alarm["AlarmName"])
    if not outputs.get("sandbox"):
        return [{"name": a["AlarmName"], "state": a["StateValue"], "why": a.get("StateReason", "")} for a in alarms]
    return [evaluate_in_sandbox(outputs, alarm) for alarm in alarms]


def evaluate_in_sandbox(outputs: dict[str, Any], alarm: dict[str, Any]) -> dict[str, Any]:
    name = alarm["AlarmName"]
    if alarm.get("Metrics"):  # metric math: its properties are tested on the synthesized math instead
        return {"name": name, "state": "not evaluated", "why": "a metric-math alarm: evaluated on AWS only "
                "(its math is tested in tests/infrastructure/alarm_math.py)"}  # fmt: skip
    value = _sandbox_metric(outputs, alarm)
    if value is None:
        return {"name": name, "state": "not evaluated", "why": f"the emulator has no {alarm.get('Namespace')} "
                                                              f"{alarm.get('MetricName')} data"}  # fmt: skip
    compare = COMPARISONS.get(alarm.get("ComparisonOperator", ""), operator.gt)
    breached = compare(value, float(alarm.get("Threshold", 0)))
    return {"name": name, "state": "ALARM" if breached else "OK",
            "why": f"{alarm.get('MetricName')} = {value:g} ({alarm.get('ComparisonOperator')} {alarm.get('Threshold'):g})"}  # fmt: skip


def _sandbox_metric(outputs: dict[str, Any], alarm: dict[str, Any]) -> float | None:
    dimensions = {d["Name"]: d["Value"] for d in alarm.get("Dimensions", [])}
    namespace, metric = alarm.get("Namespace"), alarm.get("MetricName")
    if namespace == "AWS/SQS" and metric == "ApproximateNumberOfMessagesVisible":
        for url in queue_outputs(outputs).values():
            if queue_name(url) == dimensions.get("QueueName"):
                attributes = client(outputs, "sqs").get_queue_attributes(
                    QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"]
                )["Attributes"]
                return float(attributes.get("ApproximateNumberOfMessages", 0))
        return None
    if namespace and not namespace.startswith("AWS/"):
        return _emf_sum(outputs, namespace, metric or "", dimensions, int(alarm.get("Period", 60)))
    return None


def _emf_sum(outputs: dict[str, Any], namespace: str, metric: str, dimensions: dict[str, str], period: int) -> float:
    """Sum of `metric` over the last `period` s in the validator's EMF documents with these dimensions."""
    validator = str(outputs.get("validator_lambda_arn", "")).split(":")[-1]
    logs = client(outputs, "logs")
    total = 0.0
    try:
        pages = logs.get_paginator("filter_log_events").paginate(
            logGroupName=f"/aws/lambda/{validator}", startTime=int((time.time() - period) * 1000),
            filterPattern=json.dumps(metric),
        )  # fmt: skip
        for page in pages:
            for event in page.get("events", []):
                total += _emf_value(event["message"], namespace, metric, dimensions)
    except logs.exceptions.ResourceNotFoundException:
        return 0.0
    return total


def _emf_value(message: str, namespace: str, metric: str, dimensions: dict[str, str]) -> float:
    try:
        document = json.loads(message)
        directives = document["_aws"]["CloudWatchMetrics"]
    except (ValueError, KeyError, TypeError):
        return 0.0
    for directive in directives:
        if directive.get("Namespace") != namespace or metric not in {
            m.get("Name") for m in directive.get("Metrics", [])
        }:
            continue
        for dimension_set in directive.get("Dimensions", []):
            if set(dimension_set) == set(dimensions) and all(document.get(k) == v for k, v in dimensions.items()):
                values = document.get(metric)
                return float(sum(values) if isinstance(values, list) else values or 0)
    return 0.0


# --- resend and listen --------------------------------------------------------------------------------


def resend(outputs: dict[str, Any], event_id: str) -> str:
    """Route one stored event again through the router's own code; return the queue it went to."""
    _handlers_on_path()
    from routing import UnroutableRecordError, message_for

    stored = client(outputs, "dynamodb").get_item(
        TableName=outputs["dynamodb_table_name"], Key={"event_id": {"S": event_id}}, ConsistentRead=True
    )
    if "Item" not in stored:
        raise OperationError(f"{event_id} is not stored in {outputs['dynamodb_table_name']} (see `trace {event_id}`)")
    record = {"dynamodb": {"NewImage": stored["Item"], "SequenceNumber": event_id}}
    try:
        message = message_for(record, _queue_urls(outputs))
    except UnroutableRecordError as error:
        raise OperationError(f"{event_id} cannot be routed: {error.reason}") from None
    if message is None:
        return "none: its source stores without routing (route_unmapped: false)"
    send_messages(outputs, [message])
    return queue_name(message.queue_url)


@dataclasses.dataclass
class Delivery:
    message_id: str
    attributes: dict[str, str]
    body: str


PEEK_HOLD_SECONDS = 30


def queue_url(outputs: dict[str, Any], queue: str) -> str:
    """The URL of `<queue>_queue_url` (or `<queue>_dlq_url`); `OperationError` naming the queues if none."""
    queues = queue_outputs(outputs)
    url = queues.get(f"{queue}_queue") or queues.get(queue) or queues.get(f"{queue}_dlq")
    if url is None:
        names = ", ".join(sorted(k.removesuffix("_queue") for k in queues))
        raise OperationError(f"no queue {queue!r} in environment {environment_of(outputs)}; queues: {names}")
    return url


def listen(
    outputs: dict[str, Any], queue: str, *, exit_when_empty: bool = False, keep: bool = False,
    forward: Callable[[Delivery], bool] | None = None, wait_seconds: int = 20,
) -> Iterator[tuple[Delivery, bool]]:  # fmt: skip
    """Receive as a consumer of `<queue>_queue_url` (or `<queue>_dlq_url`) would: yield each message
    and whether it was acknowledged (deleted). Deleted after it was printed, or after `forward` returned
    True; a message `forward` refused stays and comes back (after `max_receive_count`, its DLQ), as with
    any consumer. `keep`: never delete (a peek; the message is visible again at once)."""
    url = queue_url(outputs, queue)
    sqs = client(outputs, "sqs")
    # A peek (`keep`) holds what it saw for PEEK_HOLD_SECONDS, so the next receive returns other messages
    # (SQS answers at most 10 per call), and makes all of them visible again when it ends.
    held: dict[str, str] = {}
    try:
        while True:
            options = {"VisibilityTimeout": PEEK_HOLD_SECONDS} if keep else {}  # else the queue's own, as a consumer
            received = sqs.receive_message(
                QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0 if exit_when_empty else wait_seconds,
                MessageAttributeNames=["All"], **options,
            ).get("Messages", [])  # fmt: skip
            if not received and exit_when_empty:
                return
            if keep:  # one that came back after the hold was shown already
                fresh = [m for m in received if m["MessageId"] not in held]
                held.update({m["MessageId"]: m["ReceiptHandle"] for m in received})
                received = fresh
            for message in received:
                delivery = Delivery(
                    message["MessageId"],
                    {k: v.get("StringValue", "") for k, v in message.get("MessageAttributes", {}).items()},
                    message["Body"],
                )
                acknowledged = not keep and (forward is None or forward(delivery))
                if acknowledged:
                    sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
                yield delivery, acknowledged
    finally:
        for receipt in held.values():  # visible again at once: a peek leaves the queue as it found it
            with contextlib.suppress(Exception):
                sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=receipt, VisibilityTimeout=0)


def forwarder(url: str) -> Callable[[Delivery], bool]:
    """POST each message's body (JSON) with its attributes as `X-Event-Id`-style headers; True on 2xx."""

    def forward(delivery: Delivery) -> bool:
        headers = {"Content-Type": "application/json",
                   **{f"X-{name.replace('_', '-').title()}": value for name, value in delivery.attributes.items()}}  # fmt: skip
        request = urllib.request.Request(url, data=delivery.body.encode(), headers=headers, method="POST")  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - the operator's own URL
                return 200 <= response.status < 300
        except OSError:
            return False

    return forward
