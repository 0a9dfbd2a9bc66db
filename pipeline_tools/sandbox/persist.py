"""`sandbox --persist`: the emulator's data outlives a restart (issue 22).

moto keeps everything in memory, so a restart lost every stored event, queued message and log line.
With `--persist`, stopping the sandbox saves a snapshot to `<state dir>/persist/<env>/snapshot.json`
(every table's items, every queue's waiting messages with their attributes, the `/aws/lambda/*` log
lines `trace` reads, the secrets' values), and the next `--persist` start restores it after the apply,
before the stream poller starts, so restored items are not routed a second time (the poller starts at
the stream's end). `--clean` deletes the snapshot first; without `--persist` nothing is saved or read.

Not kept: messages in flight (received, not yet deleted) when the sandbox stopped, and stream records
not yet routed (their events are in the table: `redrive`/`replay` route them). Infrastructure is not
snapshotted: Terraform applies it again from the code, as on every start.
"""

from __future__ import annotations

import datetime
import json
from pathlib import Path
from typing import Any

from pipeline_tools.outputs import client

SNAPSHOT = "snapshot.json"
KEPT_OUTPUTS = ("signing_secret", "source_secrets")


def snapshot_path(state_root: Path, environment: str) -> Path:
    return state_root / "persist" / environment / SNAPSHOT


def save(outputs: dict[str, Any], path: Path) -> dict[str, int]:
    """Write the snapshot; return counts (`items`, `messages`, `log_lines`)."""
    dynamodb, sqs, logs = client(outputs, "dynamodb"), client(outputs, "sqs"), client(outputs, "logs")
    tables = {
        name: [item for page in dynamodb.get_paginator("scan").paginate(TableName=name) for item in page["Items"]]
        for name in dynamodb.list_tables()["TableNames"]
    }
    queues: dict[str, list[dict[str, Any]]] = {}
    for url in sqs.list_queues().get("QueueUrls", []):
        kept = queues.setdefault(url.rsplit("/", 1)[-1], [])
        while batch := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=900,
                                           MessageAttributeNames=["All"]).get("Messages", []):  # fmt: skip
            kept += [{"body": m["Body"], "attributes": m.get("MessageAttributes", {})} for m in batch]
    log_lines: dict[str, list[dict[str, Any]]] = {}
    for page in logs.get_paginator("describe_log_groups").paginate(logGroupNamePrefix="/aws/lambda/"):
        for group in page["logGroups"]:
            events = logs.get_paginator("filter_log_events").paginate(logGroupName=group["logGroupName"])
            log_lines[group["logGroupName"]] = [
                {"timestamp": e["timestamp"], "message": e["message"]} for p in events for e in p.get("events", [])
            ]
    secretsmanager = client(outputs, "secretsmanager")
    secrets = {}
    for page in secretsmanager.get_paginator("list_secrets").paginate():
        for secret in page["SecretList"]:
            try:
                secrets[secret["Name"]] = secretsmanager.get_secret_value(SecretId=secret["ARN"])["SecretString"]
            except secretsmanager.exceptions.ResourceNotFoundException:
                continue  # a container without a value
    snapshot = {
        "saved_at": datetime.datetime.now(tz=datetime.UTC).isoformat(timespec="seconds"),
        "tables": tables, "queues": queues, "logs": log_lines, "secrets": secrets,
        "outputs": {key: outputs[key] for key in KEPT_OUTPUTS if key in outputs},
    }  # fmt: skip
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(snapshot), encoding="utf-8")
    temporary.replace(path)
    return _counts(snapshot)


def restore(outputs: dict[str, Any], path: Path) -> dict[str, Any] | None:
    """Put a snapshot's data back into a freshly applied emulator; return its counts (None: no snapshot).
    Updates `outputs` with the kept secrets, so senders keep working with the values they had."""
    if not path.is_file():
        return None
    snapshot = json.loads(path.read_text(encoding="utf-8"))
    dynamodb, sqs, logs = client(outputs, "dynamodb"), client(outputs, "sqs"), client(outputs, "logs")
    existing = set(dynamodb.list_tables()["TableNames"])
    for name, items in snapshot["tables"].items():
        if name in existing:
            for start in range(0, len(items), 25):
                requests = [{"PutRequest": {"Item": item}} for item in items[start : start + 25]]
                dynamodb.batch_write_item(RequestItems={name: requests})
    urls = {url.rsplit("/", 1)[-1]: url for url in sqs.list_queues().get("QueueUrls", [])}
    for name, messages in snapshot["queues"].items():
        for message in messages:
            if name in urls:
                sqs.send_message(QueueUrl=urls[name], MessageBody=message["body"],
                                 MessageAttributes=message["attributes"])  # fmt: skip
    for group, lines in snapshot["logs"].items():
        if not lines:
            continue
        try:
            logs.create_log_stream(logGroupName=group, logStreamName="restored")
        except (logs.exceptions.ResourceNotFoundException, logs.exceptions.ResourceAlreadyExistsException):
            continue
        for start in range(0, len(lines), 1000):
            logs.put_log_events(logGroupName=group, logStreamName="restored",
                                logEvents=sorted(lines[start : start + 1000], key=lambda e: e["timestamp"]))  # fmt: skip
    secretsmanager = client(outputs, "secretsmanager")
    for name, value in snapshot["secrets"].items():
        try:
            secretsmanager.put_secret_value(SecretId=name, SecretString=value)
        except secretsmanager.exceptions.ResourceNotFoundException:
            continue
    outputs.update(snapshot.get("outputs", {}))
    return {**_counts(snapshot), "saved_at": snapshot["saved_at"]}


def _counts(snapshot: dict[str, Any]) -> dict[str, int]:
    return {
        "items": sum(len(items) for items in snapshot["tables"].values()),
        "messages": sum(len(messages) for messages in snapshot["queues"].values()),
        "log_lines": sum(len(lines) for lines in snapshot["logs"].values()),
    }
