"""`python -m pipeline_tools reconcile`: the deployed configuration, the same code, found / would write / wrote."""

from __future__ import annotations

import datetime
import io
import json
import zipfile
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from pipeline_tools.__main__ import main
from pipeline_tools.sandbox.provider_stubs import STUB_API_KEY, StripeStub
from tests.handlers.reconcile.harness import fresh_reconciler, serve_stub

REGION = "us-east-1"
NOW = datetime.datetime.now(tz=datetime.UTC)


@pytest.fixture
def deployment(tmp_path: Path, httpserver, monkeypatch) -> tuple[Path, StripeStub, object]:
    for name, value in {"AWS_ACCESS_KEY_ID": "t", "AWS_SECRET_ACCESS_KEY": "t", "AWS_DEFAULT_REGION": REGION,
                        "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled"}.items():  # fmt: skip
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        for table, key in (("transaction-events-t", "event_id"), ("webhook-reconciler-state-t", "pk")):
            dynamodb.create_table(TableName=table, KeySchema=[{"AttributeName": key, "KeyType": "HASH"}],
                                  AttributeDefinitions=[{"AttributeName": key, "AttributeType": "S"}],
                                  BillingMode="PAY_PER_REQUEST")  # fmt: skip
        secret = boto3.client("secretsmanager", region_name=REGION).create_secret(
            Name="webhook-source-shop-api-t", SecretString=json.dumps({"api_key": STUB_API_KEY})
        )["ARN"]
        stub = StripeStub()
        serve_stub(httpserver, stub)
        role = boto3.client("iam").create_role(RoleName="r", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        code = io.BytesIO()
        with zipfile.ZipFile(code, "w") as zipped:
            zipped.writestr("reconciler.py", "")
        sources = {"shop": {"provider": "stripe", "api_secret_arn": secret, "api_base_url": stub.base_url}}
        arn = boto3.client("lambda", region_name=REGION).create_function(
            FunctionName="webhook-reconciler-t", Runtime="python3.11", Role=role, Handler="reconciler.handler",
            Code={"ZipFile": code.getvalue()},
            Environment={"Variables": {"EVENTS_TABLE_NAME": "transaction-events-t", "EVENT_TTL_DAYS": "30",
                                       "RECONCILER_STATE_TABLE": "webhook-reconciler-state-t",
                                       "RECONCILE_SOURCES": json.dumps(sources)}},
        )["FunctionArn"]  # fmt: skip
        outputs = tmp_path / "outputs.json"
        outputs.write_text(json.dumps({"api_endpoint": "https://x/webhook", "dynamodb_table_name": "transaction-events-t",
                                       "payments_queue_url": "p", "refunds_queue_url": "r", "disputes_queue_url": "d",
                                       "reconciler_lambda_arn": arn}))  # fmt: skip
        monkeypatch.setenv("EVENTS_TABLE_NAME", "transaction-events-t")
        fresh_reconciler()  # its clients are made under this mock
        yield outputs, stub, dynamodb


def test_dry_run_then_run(deployment, capsys: pytest.CaptureFixture[str]) -> None:
    outputs, stub, dynamodb = deployment
    for index in range(3):
        stub.add(stub.make_event(index, NOW - datetime.timedelta(hours=index + 1)))
    dynamodb.put_item(TableName="transaction-events-t", Item={"event_id": {"S": "shop:evt_test0000000000000001"},
                                                              "payload_sha256": {"S": "x"}})  # fmt: skip
    assert main(["reconcile", "--outputs", str(outputs), "--source", "shop", "--dry-run", "--since", "2000-01-01"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["found"] == 3 and summary["would_write"] == 2 and summary["dry_run"] is True
    assert summary["gap"] is True  # 2000 is far outside Stripe's 30 days: asked from the window's start
    assert sorted(summary["missing_ids"]) == ["shop:evt_test0000000000000000", "shop:evt_test0000000000000002"]
    assert dynamodb.scan(TableName="transaction-events-t")["Count"] == 1
    assert main(["reconcile", "--outputs", str(outputs), "--source", "shop"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["wrote"] == 2 and summary["already_stored"] == 1 and summary["complete"] is True
    assert dynamodb.scan(TableName="transaction-events-t")["Count"] == 3


def test_an_unknown_source_names_the_reconciling_ones(deployment, capsys: pytest.CaptureFixture[str]) -> None:
    outputs, _, _ = deployment
    assert main(["reconcile", "--outputs", str(outputs), "--source", "nope"]) == 2
    assert "no reconciling source named 'nope'; reconciling sources: shop" in capsys.readouterr().err


def test_a_provider_failure_is_reported_without_the_key(deployment, capsys: pytest.CaptureFixture[str]) -> None:
    outputs, stub, _ = deployment
    stub.api_key = "revoked"
    assert main(["reconcile", "--outputs", str(outputs), "--source", "shop"]) == 1
    summary = json.loads(capsys.readouterr().out)
    assert "stripe GET /v1/events: credential_refused" in summary["error"] and STUB_API_KEY not in summary["error"]
