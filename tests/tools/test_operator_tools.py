"""trace, the sandbox live log, apply progress and the send/replay options (issue 14), without a sandbox."""

from __future__ import annotations

import datetime
import json
import shlex
import time
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from pipeline_tools.__main__ import main
from pipeline_tools.operations import OperationError, build_event, check_window, curl_command, signed_headers
from pipeline_tools.sandbox.apply_progress import is_done_line, progress_total
from pipeline_tools.sandbox.function_logs import capture, install
from pipeline_tools.sandbox.live_log import request_line, routing_lines
from pipeline_tools.trace import render, trace

SECRET = "whsec_" + "A" * 43 + "="
REGION = "us-east-1"


def test_the_same_event_id_sends_the_same_body_so_a_repeat_is_a_duplicate() -> None:
    assert build_event("refund", "12.50", "USD", "evt_x") == build_event("refund", "12.50", "USD", "evt_x")
    assert build_event("refund", "12.50", "USD", None) != build_event("refund", "12.50", "USD", None)
    body = json.loads(build_event("refund", "12.50", "USD", "evt_x", "2026-01-02T03:04:05Z"))
    assert body["timestamp"] == "2026-01-02T03:04:05Z"


def test_a_sent_money_fact_carries_object_id_and_currency_so_it_is_routed_not_parked() -> None:
    """README, "The money contract": a money fact without `object_id` or `currency` is parked (RT-5)."""
    import sys

    from tests.tools.moto_pipeline import HANDLERS

    sys.path.insert(0, str(HANDLERS))
    try:
        from webhook_event import parse_event
    finally:
        sys.path.remove(str(HANDLERS))
    for kind in ("payment", "refund", "dispute"):
        event = parse_event(build_event(kind, "12.50", "USD", None))
        assert (event.object_id, event.currency, event.unrouted_reason) == (event.event_id, "USD", None)


def test_print_curl_is_a_runnable_line_with_valid_headers() -> None:
    body = build_event("payment", "1.00", "USD", "evt_c")
    line = curl_command("http://127.0.0.1:9/v1/webhook", body, signed_headers(body, SECRET))
    words = shlex.split(line)
    assert words[:5] == ["curl", "-sS", "-X", "POST", "http://127.0.0.1:9/v1/webhook"]
    assert words[-1] == body.decode() and any(w.startswith("webhook-signature: v1,") for w in words)


def test_file_with_type_is_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    outputs = tmp_path / "outputs.json"
    outputs.write_text(json.dumps({"api_endpoint": "http://127.0.0.1:1/v1/webhook", "dynamodb_table_name": "t",
                                   "payments_queue_url": "p", "refunds_queue_url": "r", "disputes_queue_url": "d"}))  # fmt: skip
    (tmp_path / "body.json").write_text("{}")
    args = ["send", "--outputs", str(outputs), "--secret", SECRET, "--file", str(tmp_path / "body.json")]
    assert main([*args, "--type", "refund"]) == 2
    assert "--type would be ignored" in capsys.readouterr().err


def test_a_stale_sandbox_outputs_file_says_the_sandbox_is_not_answering(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    outputs = tmp_path / "sandbox-outputs.json"
    outputs.write_text(json.dumps({"api_endpoint": "http://127.0.0.1:9/v1/webhook", "aws_endpoint_url": "http://127.0.0.1:9",
                                   "sandbox": True, "dynamodb_table_name": "t", "payments_queue_url": "p",
                                   "refunds_queue_url": "r", "disputes_queue_url": "d"}))  # fmt: skip
    for command in (["send"], ["trace", "evt_1"], ["replay", "--since", "2026-01-01"], ["redrive", "payments"]):
        assert main([*command, "--outputs", str(outputs)]) == 2
        err = capsys.readouterr().err
        assert "the sandbox at http://127.0.0.1:9 is not answering: is `make sandbox` running?" in err
        assert "Traceback" not in err and "Errno" not in err


def test_a_future_since_says_what_until_defaulted_to() -> None:
    now = datetime.datetime.now(tz=datetime.UTC)
    with pytest.raises(OperationError, match=r"is in the future: --until defaults to now \("):
        check_window(now + datetime.timedelta(days=1), now, until_given=False)


def test_apply_progress_reads_terraforms_own_lines() -> None:
    assert progress_total("Plan: 56 to add, 1 to change, 0 to destroy.") == 57
    assert is_done_line("aws_sqs_queue.payments: Creation complete after 25s [id=https://...]")
    assert not is_done_line("aws_sqs_queue.payments: Still creating... [10s elapsed]")


def test_live_log_prints_one_line_per_request_and_per_routing_decision() -> None:
    body = json.dumps({"event_id": "evt_1", "status": "accepted"}).encode()
    assert request_line(202, body, [], "/v1/webhook").endswith("202  webhook  evt_1  accepted")
    rejected = json.dumps({"error": "invalid_signature", "message": "no signature matches"}).encode()
    assert request_line(401, rejected, [], "/v1/webhook").endswith("401  webhook  -  invalid_signature")
    emf = {"_aws": {"CloudWatchMetrics": []}, "Routed": [1]}
    decision = {"message": "routing decision", "event_id": "evt_1", "outcome": "routed",
                "destination": "refunds-queue-dev", "message_id": "m-1"}  # fmt: skip
    parked = {"message": "routing decision", "event_id": "evt_2", "outcome": "parked",
              "destination": "unrouted-events-dev", "reason": "unknown_transaction_type"}  # fmt: skip
    lines = routing_lines([emf, decision, parked])
    assert len(lines) == 2
    assert lines[0].endswith("route  evt_1 -> refunds-queue-dev")
    assert lines[1].endswith("park   evt_2 -> unrouted-events-dev  (unknown_transaction_type)")


def test_handler_stdout_is_captured_per_thread(capsys: pytest.CaptureFixture[str]) -> None:
    import sys

    original = sys.stdout
    try:
        install()
        with capture() as lines:
            print(json.dumps({"message": "routing decision"}))
        print("not captured")
    finally:
        sys.stdout = original
    assert lines == [{"message": "routing decision"}]
    assert "not captured" in capsys.readouterr().out


@pytest.fixture
def deployment(monkeypatch: pytest.MonkeyPatch) -> Any:
    for name, value in {"AWS_ACCESS_KEY_ID": "t", "AWS_SECRET_ACCESS_KEY": "t", "AWS_DEFAULT_REGION": REGION}.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        dynamodb, sqs, logs = (boto3.client(s, region_name=REGION) for s in ("dynamodb", "sqs", "logs"))
        dynamodb.create_table(TableName="transaction-events-t", KeySchema=[{"AttributeName": "event_id", "KeyType": "HASH"}],
                              AttributeDefinitions=[{"AttributeName": "event_id", "AttributeType": "S"}],
                              BillingMode="PAY_PER_REQUEST")  # fmt: skip
        urls = {f"{kind}_dlq_url": sqs.create_queue(QueueName=f"{kind}-dlq-t")["QueueUrl"] for kind in ("payments", "refunds", "disputes")}  # fmt: skip
        urls["unrouted_queue_url"] = sqs.create_queue(QueueName="unrouted-events-t")["QueueUrl"]
        urls["event_router_dlq_url"] = sqs.create_queue(QueueName="event-router-dlq-t")["QueueUrl"]
        logs.create_log_group(logGroupName="/aws/lambda/event-router-t")
        logs.create_log_stream(logGroupName="/aws/lambda/event-router-t", logStreamName="s")
        yield {"dynamodb_table_name": "transaction-events-t", "router_lambda_arn":
               "arn:aws:lambda:us-east-1:123456789012:function:event-router-t", **urls}, dynamodb, sqs, logs  # fmt: skip


def _store(dynamodb: Any, event_id: str, received_at: str) -> None:
    dynamodb.put_item(TableName="transaction-events-t", Item={
        "event_id": {"S": event_id}, "transaction_type": {"S": "refund"}, "amount": {"N": "12.50"},
        "currency": {"S": "USD"}, "received_at": {"S": received_at}, "payload": {"S": "{}"}})  # fmt: skip


def _log(logs: Any, line: dict[str, Any]) -> None:
    logs.put_log_events(logGroupName="/aws/lambda/event-router-t", logStreamName="s",
                        logEvents=[{"timestamp": int(time.time() * 1000), "message": json.dumps(line)}])  # fmt: skip


def test_trace_shows_the_stored_item_and_where_the_router_sent_it(deployment: Any) -> None:
    outputs, dynamodb, _, logs = deployment
    now = datetime.datetime.now(tz=datetime.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    _store(dynamodb, "evt_t1", now)
    _log(logs, {"message": "routing decision", "event_id": "evt_t10", "outcome": "routed", "destination": "x"})
    _log(logs, {"message": "routing decision", "event_id": "evt_t1", "outcome": "routed",
                "destination": "refunds-queue-t", "message_id": "m-42", "level": "INFO"})  # fmt: skip
    found = trace(outputs, "evt_t1")
    text = render(found, "transaction-events-t")
    assert "type=refund amount=12.50 USD" in text
    assert "-> refunds-queue-t  message m-42" in text
    assert "evt_t10" not in text and "x " not in text
    assert "dead-letter  none" in text


def test_trace_finds_an_event_in_a_dead_letter_queue_and_a_missing_one(deployment: Any) -> None:
    outputs, dynamodb, sqs, _ = deployment
    _store(dynamodb, "evt_t2", "2026-01-01T00:00:00.000Z")
    sqs.send_message(QueueUrl=outputs["refunds_dlq_url"], MessageBody="{}",
                     MessageAttributes={"event_id": {"DataType": "String", "StringValue": "evt_t2"}})  # fmt: skip
    text = render(trace(outputs, "evt_t2"), "transaction-events-t")
    assert "in refunds-dlq-t" in text and "no decision logged" in text
    assert sqs.get_queue_attributes(QueueUrl=outputs["refunds_dlq_url"], AttributeNames=["All"])["Attributes"][
        "ApproximateNumberOfMessages"] == "1"  # fmt: skip
    missing = trace(outputs, "evt_none")
    assert missing.item is None and "not stored" in render(missing, "transaction-events-t")
