"""`sandbox --persist` (issue 22): a restart used to lose every stored event and queued message.
Saved on stop, restored into a freshly applied emulator; `--clean` starts without it."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from pipeline_tools.sandbox import persist

OUTPUTS: dict[str, Any] = {
    "sandbox": True,
    "signing_secret": "whsec_old",
    "source_secrets": {"stripe": {"secret": "s"}},
}


def _infrastructure() -> str:
    """What Terraform applies on every start (empty)."""
    boto3.client("dynamodb").create_table(
        TableName="transaction-events-sb", KeySchema=[{"AttributeName": "event_id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "event_id", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST",
    )  # fmt: skip
    boto3.client("logs").create_log_group(logGroupName="/aws/lambda/event-router-sb")
    boto3.client("secretsmanager").create_secret(Name="webhook-signing-secret-sb")
    return boto3.client("sqs").create_queue(QueueName="payments-queue-sb")["QueueUrl"]


@pytest.fixture(autouse=True)
def credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "t",
        "AWS_SECRET_ACCESS_KEY": "t",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)


def test_a_restart_with_persist_keeps_events_messages_logs_and_secrets(tmp_path: Path) -> None:
    path = persist.snapshot_path(tmp_path, "sb")
    with mock_aws():
        url = _infrastructure()
        boto3.client("dynamodb").put_item(TableName="transaction-events-sb",
                                          Item={"event_id": {"S": "evt_1"}, "amount": {"N": "12.5"}})  # fmt: skip
        boto3.client("sqs").send_message(QueueUrl=url, MessageBody='{"event_id": "evt_1"}', MessageAttributes={
            "event_id": {"DataType": "String", "StringValue": "evt_1"}})  # fmt: skip
        logs = boto3.client("logs")
        logs.create_log_stream(logGroupName="/aws/lambda/event-router-sb", logStreamName="s")
        logs.put_log_events(logGroupName="/aws/lambda/event-router-sb", logStreamName="s",
                            logEvents=[{"timestamp": int(time.time() * 1000), "message": '{"message": "routing decision"}'}])  # fmt: skip
        boto3.client("secretsmanager").put_secret_value(SecretId="webhook-signing-secret-sb", SecretString="kept")
        assert persist.save(OUTPUTS, path) == {"items": 1, "messages": 1, "log_lines": 1}
    with mock_aws():  # a new emulator: empty until restored
        url = _infrastructure()
        outputs = {"sandbox": True, "signing_secret": "whsec_new"}
        counts = persist.restore(outputs, path)
        assert counts is not None and (counts["items"], counts["messages"], counts["log_lines"]) == (1, 1, 1)
        item = boto3.client("dynamodb").get_item(TableName="transaction-events-sb", Key={"event_id": {"S": "evt_1"}})
        assert item["Item"]["amount"] == {"N": "12.5"}
        [message] = boto3.client("sqs").receive_message(QueueUrl=url, MessageAttributeNames=["All"])["Messages"]
        assert json.loads(message["Body"]) == {"event_id": "evt_1"}
        assert message["MessageAttributes"]["event_id"]["StringValue"] == "evt_1"
        events = boto3.client("logs").filter_log_events(logGroupName="/aws/lambda/event-router-sb")["events"]
        assert [e["message"] for e in events] == ['{"message": "routing decision"}']
        assert (
            boto3.client("secretsmanager").get_secret_value(SecretId="webhook-signing-secret-sb")["SecretString"]
            == "kept"
        )
        assert outputs["signing_secret"] == "whsec_old"  # senders keep the secret they had


def test_no_snapshot_restores_nothing_and_clean_removes_it(tmp_path: Path) -> None:
    from pipeline_tools.sandbox.runner import Sandbox

    assert persist.restore({}, persist.snapshot_path(tmp_path, "sb")) is None
    sandbox = Sandbox("sb", state_root=tmp_path, persist=True, clean=True)
    assert sandbox.snapshot == tmp_path / "persist" / "sb" / "snapshot.json"
    assert sandbox.work_dir not in sandbox.snapshot.parents  # survives the work dir's reset at start
