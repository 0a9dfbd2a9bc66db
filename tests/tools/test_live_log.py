"""The live log says why (issue 22): true source, each batch item's id and outcome, the validator's own
warnings and errors beside the request. Before: `500 webhook - unavailable` for a provider route whose
secret was wrong, and accepted provider deliveries labelled `webhook`."""

from __future__ import annotations

import contextlib
import json

import boto3
import pytest
from moto import mock_aws

from pipeline_tools.sandbox import write_observer
from pipeline_tools.sandbox.live_log import request_line, request_lines

UNAVAILABLE = json.dumps({"error": "unavailable", "message": "signing secret unavailable; retry later"}).encode()


def test_a_provider_delivery_is_labelled_with_its_source() -> None:
    assert request_line(202, b"[accepted]", [], "/v1/webhook/adyen").endswith("202  adyen  -  accepted")
    body = json.dumps({"status": "accepted", "event_id": "stripe:evt_1"}).encode()
    assert request_line(202, body, [], "/v1/webhook/stripe").endswith("202  stripe  stripe:evt_1  accepted")
    assert "  webhook  " in request_line(202, body, [], "/v1/webhook")


def test_each_batch_item_gets_its_id_and_outcome() -> None:
    writes = [("gc:EV1", "stored"), ("gc:EV2", "ConditionalCheckFailedException"), ("gc:EV3", "ThrottlingException")]
    logs = [{"level": "INFO", "message": "duplicate delivery acknowledged", "event_id": "gc:EV2"}]
    body = json.dumps({"error": "unavailable", "message": "event not stored; retry later"}).encode()
    lines = request_lines(500, body, logs, "/v1/webhook/gocardless", writes)
    assert lines[0].endswith("500  gocardless  3 events  unavailable")
    assert [line.split() for line in lines[1:]] == [
        ["gc:EV1", "stored"], ["gc:EV2", "duplicate"], ["gc:EV3", "not", "stored", "(ThrottlingException)"],
    ]  # fmt: skip


def test_the_validators_reason_is_shown_beside_the_500_without_secrets() -> None:
    logs = [
        {"level": "ERROR", "message": "signing secret entry skipped", "source": "svix", "entry_index": 0,
         "problem": "a secret must start with whsec_"},
        {"level": "ERROR", "message": "cannot use the secret of source svix (no entry is usable): set it to ...",
         "exception": "Traceback ... whsec_SECRETVALUE", "source": "svix"},
        {"_aws": {"CloudWatchMetrics": []}, "SecretUnavailable": [1]},
    ]  # fmt: skip
    lines = request_lines(500, UNAVAILABLE, logs, "/v1/webhook/svix", [])
    assert lines[0].endswith("500  svix  -  unavailable")
    assert "validator error: signing secret entry skipped [source=svix, entry_index=0, problem=a secret" in lines[1]
    assert "validator error: cannot use the secret of source svix" in lines[2]
    assert len(lines) == 3 and not any("SECRETVALUE" in line or "Traceback" in line for line in lines)


@pytest.fixture
def table(monkeypatch: pytest.MonkeyPatch) -> object:
    for name, value in {
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "t",
        "AWS_SECRET_ACCESS_KEY": "t",
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        client = boto3.client("dynamodb")
        client.create_table(TableName="t", KeySchema=[{"AttributeName": "event_id", "KeyType": "HASH"}],
                            AttributeDefinitions=[{"AttributeName": "event_id", "AttributeType": "S"}],
                            BillingMode="PAY_PER_REQUEST")  # fmt: skip
        yield client


def test_the_write_observer_sees_each_conditional_write(table: object) -> None:
    client = boto3.client("dynamodb")
    write_observer.watch(client)
    write_observer.take()
    for _ in range(2):
        with contextlib.suppress(client.exceptions.ConditionalCheckFailedException):
            client.put_item(TableName="t", Item={"event_id": {"S": "e1"}},
                            ConditionExpression="attribute_not_exists(event_id)")  # fmt: skip
    assert write_observer.take() == [("e1", "stored"), ("e1", "ConditionalCheckFailedException")]
    assert write_observer.take() == []
