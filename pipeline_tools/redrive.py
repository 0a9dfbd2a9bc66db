"""`redrive <queue>`: empty one alarmed queue the way its runbook says (README, "Redrive and replay").

- `payments`, `refunds`, `disputes`, `lifecycle`: the dead-letter queue's messages go back to the source queue
  (SQS `StartMessageMoveTask` on AWS, polled until it finishes; on the emulator, which lacks it, a
  receive/send/delete loop). Fix the consumer first, or they come straight back. FIFO money queues
  (`fifo_money_queues`): the loop keeps each message's group and gives it the deduplication id
  `redrive:<message id>`, so a loop interrupted between send and delete and run again within SQS's
  5-minute window does not move a message twice.
- `unrouted`: events of a type the router did not know. After deploying a router that knows it, each
  parked message's stored event is routed again by the router's own code; events still unknown stay.
- `router`: `event-router-dlq` holds pointers to stream batches the router gave up on, not events.
  Its runbook reads each pointer's records from the table's stream by shard and sequence numbers (the
  keys of exactly that batch), routes those stored events again, and deletes the pointer only after all
  were sent; a pointer it cannot resolve stays, named.

Every receive uses `WaitTimeSeconds=0` (the queues long-poll 20 s by default): an empty queue ends
the command at once. Progress goes to `progress` as one line per step.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

from pipeline_tools import operations
from pipeline_tools.outputs import client

DEAD_LETTER_QUEUES = {"payments": "payments", "refunds": "refunds", "disputes": "disputes", "lifecycle": "lifecycle"}
QUEUES = (*DEAD_LETTER_QUEUES, "unrouted", "router")
MOVE_TASK_POLL_SECONDS = 5
Progress = Callable[[str], None]


def _drain(sqs: Any, url: str) -> Iterator[dict[str, Any]]:
    """Receive until the queue answers empty or only with messages already yielded (a caller may make a
    message it leaves in place visible again at once); each message is yielded once."""
    seen: set[str] = set()
    while True:
        messages = sqs.receive_message(
            QueueUrl=url,
            MaxNumberOfMessages=10,
            MessageAttributeNames=["All"],
            VisibilityTimeout=60,
            WaitTimeSeconds=0,
            MessageSystemAttributeNames=["MessageGroupId"],
        ).get("Messages", [])
        fresh = [message for message in messages if message["MessageId"] not in seen]
        if not fresh:
            return
        seen.update(message["MessageId"] for message in fresh)
        yield from fresh


def _visible(sqs: Any, url: str) -> int:
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
    return int(attributes["Attributes"]["ApproximateNumberOfMessages"])


def _move(outputs: dict[str, Any], kind: str, progress: Progress) -> dict[str, Any]:
    sqs = client(outputs, "sqs")
    dlq_url, source_url = outputs[f"{kind}_dlq_url"], outputs[f"{kind}_queue_url"]
    total = _visible(sqs, dlq_url)
    progress(f"{operations.queue_name(dlq_url)}: {total} messages to move to {operations.queue_name(source_url)}")
    if not outputs.get("aws_endpoint_url"):
        arns = [
            sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
            for url in (dlq_url, source_url)
        ]
        handle = sqs.start_message_move_task(SourceArn=arns[0], DestinationArn=arns[1])["TaskHandle"]
        while True:
            [task] = [t for t in sqs.list_message_move_tasks(SourceArn=arns[0])["Results"] if t.get("TaskHandle") == handle] or [{}]  # fmt: skip
            moved = task.get("ApproximateNumberOfMessagesMoved", 0)
            progress(
                f"moved {moved}/{task.get('ApproximateNumberOfMessagesToMove', total)} ({task.get('Status', '?')})"
            )
            if task.get("Status") in ("COMPLETED", "FAILED", "CANCELLED", None):
                return {"moved": moved, "task_handle": handle, "status": task.get("Status")}
            time.sleep(MOVE_TASK_POLL_SECONDS)
    moved = 0
    for message in _drain(sqs, dlq_url):
        fifo_fields = {}
        if source_url.endswith(".fifo"):
            fifo_fields = {"MessageGroupId": message.get("Attributes", {}).get("MessageGroupId") or message["MessageId"],
                           "MessageDeduplicationId": f"redrive:{message['MessageId']}"}  # fmt: skip
        sqs.send_message(
            QueueUrl=source_url,
            MessageBody=message["Body"],
            MessageAttributes=message.get("MessageAttributes", {}),
            **fifo_fields,
        )
        sqs.delete_message(QueueUrl=dlq_url, ReceiptHandle=message["ReceiptHandle"])
        moved += 1
        if moved % 10 == 0:
            progress(f"moved {moved}/{total}")
    progress(f"moved {moved}/{total}")
    return {"moved": moved}


def _reroute_unrouted(outputs: dict[str, Any], progress: Progress) -> dict[str, Any]:
    operations._handlers_on_path()
    from routing import UnroutableRecordError, message_for

    sqs, dynamodb = client(outputs, "sqs"), client(outputs, "dynamodb")
    url = outputs["unrouted_queue_url"]
    total, routed, still_unknown = _visible(sqs, url), 0, 0
    progress(f"{operations.queue_name(url)}: {total} parked events to route again")
    for message in _drain(sqs, url):
        event_id = message.get("MessageAttributes", {}).get("event_id", {}).get("StringValue")
        item = dynamodb.get_item(TableName=outputs["dynamodb_table_name"], Key={"event_id": {"S": event_id or ""}})
        if "Item" not in item:
            still_unknown += 1  # expired or unreadable: leave it for a person
            continue
        record = {"dynamodb": {"NewImage": item["Item"], "SequenceNumber": event_id}}
        try:
            outgoing = message_for(record, operations._queue_urls(outputs))
        except UnroutableRecordError as error:
            outgoing = None
            progress(f"{event_id}: still cannot be routed ({error.reason}); left parked")
        if outgoing is None or outgoing.queue_url == url:
            still_unknown += 1  # the router still does not know this type: it stays parked
            sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0)
            continue
        operations.send_messages(outputs, [outgoing])
        sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        routed += 1
        progress(f"{event_id} -> {operations.queue_name(outgoing.queue_url)} ({routed + still_unknown}/{total})")
    return {"routed": routed, "still_unrouted": still_unknown}


def batch_event_ids(outputs: dict[str, Any], info: dict[str, Any]) -> list[str] | None:
    """The `event_id`s of the INSERT records of one failed stream batch, read by the pointer's shard and
    sequence numbers (`DDBStreamBatchInfo`: `streamArn`, `shardId`, `startSequenceNumber`,
    `endSequenceNumber`), or None when the stream no longer holds them (it keeps records 24 hours:
    `TrimmedDataAccessException`, `ResourceNotFoundException`, `ExpiredIteratorException`)."""
    from botocore.exceptions import ClientError

    streams = client(outputs, "dynamodbstreams")
    end = int(info["endSequenceNumber"])
    try:
        iterator = streams.get_shard_iterator(
            StreamArn=info["streamArn"], ShardId=info["shardId"], ShardIteratorType="AT_SEQUENCE_NUMBER",
            SequenceNumber=info["startSequenceNumber"],
        )["ShardIterator"]  # fmt: skip
        keys: list[str] = []
        while iterator:
            page = streams.get_records(ShardIterator=iterator, Limit=1000)
            for record in page.get("Records", []):
                if int(record["dynamodb"]["SequenceNumber"]) > end:
                    return keys
                if record.get("eventName") == "INSERT":
                    keys.append(record["dynamodb"]["Keys"]["event_id"]["S"])
            if not page.get("Records"):
                return keys  # the end of what the shard holds so far
            iterator = page.get("NextShardIterator")
        return keys
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "")
        if code in ("TrimmedDataAccessException", "ResourceNotFoundException", "ExpiredIteratorException"):
            return None
        raise


def _replay_failed_batches(outputs: dict[str, Any], progress: Progress) -> dict[str, Any]:
    """Each pointer's events, named by the stream's own keys (never a window of arrival times), routed
    again by the router's code; the pointer is deleted only after every one of them was sent. A pointer
    whose records the stream no longer holds, or with an event that is gone from the table or cannot be
    routed, stays in the queue (made visible again) and is named: nothing is dropped on a guess."""
    operations._handlers_on_path()
    from routing import UnroutableRecordError, message_for

    sqs, dynamodb = client(outputs, "sqs"), client(outputs, "dynamodb")
    url = outputs["event_router_dlq_url"]
    total, replayed, pointers, kept = _visible(sqs, url), 0, 0, 0
    progress(f"{operations.queue_name(url)}: {total} failed stream batches to replay from the table")
    for message in _drain(sqs, url):
        info = json.loads(message["Body"]).get("DDBStreamBatchInfo", {})
        keys = batch_event_ids(outputs, info)
        problems: list[str] = []
        outgoing = []
        if keys is None:
            problems.append(
                f"the stream no longer holds sequence numbers {info.get('startSequenceNumber')}.."
                f"{info.get('endSequenceNumber')} (kept 24 h): replay by time with `replay --since/--until`"
            )
        for event_id in keys or []:
            item = dynamodb.get_item(
                TableName=outputs["dynamodb_table_name"], Key={"event_id": {"S": event_id}}, ConsistentRead=True
            ).get("Item")
            if item is None:
                problems.append(f"{event_id}: no longer in the table")
                continue
            try:
                routed = message_for({"dynamodb": {"NewImage": item, "SequenceNumber": event_id}},
                                     operations._queue_urls(outputs))  # fmt: skip
            except UnroutableRecordError as error:
                problems.append(f"{event_id}: cannot be routed ({error.reason})")
                continue
            if routed is not None:
                outgoing.append(routed)
        if problems:
            for problem in problems:
                progress(f"pointer kept: {problem}")
            sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0)
            kept += 1
            continue
        replayed += operations.send_messages(outputs, outgoing)
        sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])  # only once all were sent
        pointers += 1
        progress(f"batch {pointers}/{total}: {len(outgoing)} events (by sequence number) replayed")
    return {"batches": pointers, "replayed": replayed, "kept": kept}


def redrive(outputs: dict[str, Any], queue: str, progress: Progress = lambda _: None) -> dict[str, Any]:
    """Run `queue`'s runbook; returns a summary (counts, and the move task's handle on AWS)."""
    if queue in DEAD_LETTER_QUEUES:
        return _move(outputs, queue, progress)
    if queue == "unrouted":
        return _reroute_unrouted(outputs, progress)
    if queue == "router":
        return _replay_failed_batches(outputs, progress)
    raise operations.OperationError(f"unknown queue {queue!r}: choose one of {', '.join(QUEUES)}")
