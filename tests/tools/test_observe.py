"""`status`, `events list`, `resend`, `listen` (issue 22), against moto in-process: generic over the
outputs file (a queue output another part adds shows up), alarms evaluated in the sandbox from the
emulator's data, a consumer's view of a routed queue."""

from __future__ import annotations

import contextlib
import datetime
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws
from pytest_httpserver import HTTPServer

import pipeline_tools.__main__ as cli
from tests.tools.test_replay import REGION, store

NOW = datetime.datetime.now(tz=datetime.UTC)


@pytest.fixture
def deployment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[tuple[Path, dict[str, Any]]]:
    for name, value in {"AWS_ACCESS_KEY_ID": "t", "AWS_SECRET_ACCESS_KEY": "t", "AWS_DEFAULT_REGION": REGION}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.setattr(cli, "_check_reachable", lambda outputs: None)
    with mock_aws():
        dynamodb, sqs = boto3.client("dynamodb"), boto3.client("sqs")
        dynamodb.create_table(TableName="transaction-events-t", KeySchema=[{"AttributeName": "event_id", "KeyType": "HASH"}],
                              AttributeDefinitions=[{"AttributeName": "event_id", "AttributeType": "S"}],
                              BillingMode="PAY_PER_REQUEST")  # fmt: skip
        outputs: dict[str, Any] = {
            "dynamodb_table_name": "transaction-events-t", "api_endpoint": "https://x/v1/webhook", "sandbox": True,
            "environment": "t", "router_lambda_arn": "arn:aws:lambda:us-east-1:123456789012:function:event-router-t",
            "validator_lambda_arn": "arn:aws:lambda:us-east-1:123456789012:function:webhook-validator-t",
        }  # fmt: skip
        for kind in ("payments", "refunds", "disputes"):
            outputs[f"{kind}_queue_url"] = sqs.create_queue(QueueName=f"{kind}-queue-t")["QueueUrl"]
            outputs[f"{kind}_dlq_url"] = sqs.create_queue(QueueName=f"{kind}-dlq-t")["QueueUrl"]
        outputs["unrouted_queue_url"] = sqs.create_queue(QueueName="unrouted-events-t")["QueueUrl"]
        outputs["quarantine_queue_url"] = sqs.create_queue(QueueName="quarantine-t")[
            "QueueUrl"
        ]  # added by another part
        path = tmp_path / "outputs.json"
        path.write_text(json.dumps(outputs))
        yield path, outputs


def _run(capsys: pytest.CaptureFixture[str], path: Path, *args: str) -> str:
    assert cli.main([*args, "--outputs", str(path)]) == 0
    return capsys.readouterr().out


def _log(group: str, *lines: dict[str, Any]) -> None:
    logs = boto3.client("logs")
    with contextlib.suppress(logs.exceptions.ResourceAlreadyExistsException):
        logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName=f"s{time.time_ns()}")
    stream = logs.describe_log_streams(logGroupName=group)["logStreams"][-1]["logStreamName"]
    logs.put_log_events(logGroupName=group, logStreamName=stream,
                        logEvents=[{"timestamp": int(time.time() * 1000), "message": json.dumps(line)} for line in lines])  # fmt: skip


def test_status_shows_every_queue_the_outputs_name_and_evaluates_alarms_in_the_sandbox(
    deployment: tuple[Path, dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    path, outputs = deployment
    boto3.client("sqs").send_message(QueueUrl=outputs["payments_dlq_url"], MessageBody="{}")
    cloudwatch = boto3.client("cloudwatch")
    common = {"EvaluationPeriods": 1, "ComparisonOperator": "GreaterThanThreshold", "Period": 300}
    cloudwatch.put_metric_alarm(AlarmName="payments-dlq-messages-t", Namespace="AWS/SQS", Statistic="Maximum",
                                MetricName="ApproximateNumberOfMessagesVisible", Threshold=0,
                                Dimensions=[{"Name": "QueueName", "Value": "payments-dlq-t"}], **common)  # fmt: skip
    cloudwatch.put_metric_alarm(AlarmName="refunds-dlq-messages-t", Namespace="AWS/SQS", Statistic="Maximum",
                                MetricName="ApproximateNumberOfMessagesVisible", Threshold=0,
                                Dimensions=[{"Name": "QueueName", "Value": "refunds-dlq-t"}], **common)  # fmt: skip
    cloudwatch.put_metric_alarm(AlarmName="source-svix-signature-refusals-t", Namespace="WebhookPipeline",
                                MetricName="SignatureRejected", Statistic="Sum", Threshold=5,
                                Dimensions=[{"Name": "service", "Value": "v"}, {"Name": "source", "Value": "svix"}], **common)  # fmt: skip
    cloudwatch.put_metric_alarm(AlarmName="router-errors-t", Namespace="AWS/Lambda", MetricName="Errors",
                                Statistic="Sum", Threshold=0, **common)  # fmt: skip
    cloudwatch.put_metric_alarm(AlarmName="other-env-alarm-prod", Namespace="AWS/Lambda", MetricName="Errors",
                                Statistic="Sum", Threshold=0, **common)  # fmt: skip
    emf = {"_aws": {"Timestamp": 0, "CloudWatchMetrics": [{"Namespace": "WebhookPipeline", "Dimensions": [["service", "source"]],
                                                           "Metrics": [{"Name": "SignatureRejected", "Unit": "Count"}]}]},
           "service": "v", "source": "svix", "SignatureRejected": [1]}  # fmt: skip
    _log("/aws/lambda/webhook-validator-t", *[emf] * 6)
    out = _run(capsys, path, "status")
    for queue in ("payments-queue-t", "payments-dlq-t", "unrouted-events-t", "quarantine-t"):
        assert queue in out
    assert "payments-dlq-t" in out and "     1 visible" in out
    assert "ALARM          payments-dlq-messages-t" in out
    assert "OK             refunds-dlq-messages-t" in out
    assert "ALARM          source-svix-signature-refusals-t  SignatureRejected = 6" in out
    assert "not evaluated  router-errors-t" in out
    assert "other-env-alarm-prod" not in out


def test_events_list_filters_and_shows_where_each_went(
    deployment: tuple[Path, dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    path, _ = deployment
    dynamodb = boto3.client("dynamodb")
    store(dynamodb, "evt_old", NOW - datetime.timedelta(minutes=5), "refund")
    store(dynamodb, "evt_new", NOW, "payment")
    _log("/aws/lambda/event-router-t", {"message": "routing decision", "event_id": "evt_new", "outcome": "routed",
                                         "destination": "payments-queue-t"})  # fmt: skip
    lines = _run(capsys, path, "events", "list").splitlines()
    assert [line.split()[2] for line in lines] == ["evt_new", "evt_old"]  # newest first
    assert lines[0].endswith("-> payments-queue-t") and "12.50 USD" in lines[0]
    assert lines[1].endswith("-> not routed yet")
    assert _run(capsys, path, "events", "list", "--source", "stripe") == ""
    assert len(_run(capsys, path, "events", "list", "--source", "standard", "--limit", "1").splitlines()) == 1


def test_resend_routes_one_event_and_listen_sees_it_as_a_consumer(
    deployment: tuple[Path, dict[str, Any]], capsys: pytest.CaptureFixture[str], httpserver: HTTPServer
) -> None:
    path, outputs = deployment
    store(boto3.client("dynamodb"), "evt_r", NOW, "refund")
    assert _run(capsys, path, "resend", "--event-id", "evt_r").strip() == "evt_r -> refunds-queue-t"
    httpserver.expect_oneshot_request("/hook", method="POST").respond_with_data("no", status=500)
    out = _run(
        capsys, path, "listen", "--queue", "refunds", "--forward-to", httpserver.url_for("/hook"), "--exit-when-empty"
    )
    [refused] = [json.loads(line) for line in out.splitlines()]
    assert refused["state"] == "not acknowledged (comes back)" and refused["attributes"]["event_id"] == "evt_r"
    attributes = boto3.client("sqs").get_queue_attributes(
        QueueUrl=outputs["refunds_queue_url"], AttributeNames=["ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    assert attributes["ApproximateNumberOfMessagesNotVisible"] == "1"  # not deleted: back after its visibility timeout
    assert _run(capsys, path, "resend", "--event-id", "evt_r").strip() == "evt_r -> refunds-queue-t"
    [consumed_line] = _run(capsys, path, "listen", "--queue", "refunds", "--keep", "--exit-when-empty").splitlines()
    [consumed] = [
        json.loads(line)
        for line in _run(capsys, path, "listen", "--queue", "refunds", "--exit-when-empty").splitlines()
    ]
    assert consumed["state"] == "acknowledged" and consumed["body"]["event_id"] == "evt_r"
    assert '"amount": 12.50' in out or '"amount":12.50' in consumed_line  # as the queue holds it, never a float
    assert _run(capsys, path, "listen", "--queue", "refunds", "--exit-when-empty") == ""  # deleted once acknowledged


def test_unknown_queue_and_event_are_clear_errors(
    deployment: tuple[Path, dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    path, _ = deployment
    assert cli.main(["listen", "--queue", "nope", "--outputs", str(path)]) == 2
    assert "no queue 'nope' in environment t; queues: disputes, disputes_dlq" in capsys.readouterr().err
    assert cli.main(["resend", "--event-id", "evt_missing", "--outputs", str(path)]) == 2
    assert "evt_missing is not stored" in capsys.readouterr().err


def test_a_peek_shows_every_waiting_message_once(
    deployment: tuple[Path, dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    """A receive answers at most 10: the peek showed one round of a 26-message queue (red-team finding)."""
    path, outputs = deployment
    sqs = boto3.client("sqs")
    for index in range(26):
        sqs.send_message(QueueUrl=outputs["refunds_queue_url"], MessageBody=json.dumps({"event_id": f"p{index}"}))
    lines = _run(capsys, path, "listen", "--queue", "refunds", "--keep", "--exit-when-empty").splitlines()
    assert sorted(json.loads(line)["body"]["event_id"] for line in lines) == sorted(f"p{i}" for i in range(26))
