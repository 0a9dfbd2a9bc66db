"""Handlers run against real boto3 and moto, imported the way Lambda imports them (`handlers/` on sys.path)."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any

import boto3
import pytest
from moto import mock_aws

from tests.handlers.helpers import HANDLERS_DIR, REGION, SIGNING_SECRET, TABLE_NAME, fresh_import

SECRET_NAME = "webhook-signing-secret-test"
QUEUE_NAMES = {
    "PAYMENTS_QUEUE_URL": "payments-queue-test",
    "REFUNDS_QUEUE_URL": "refunds-queue-test",
    "DISPUTES_QUEUE_URL": "disputes-queue-test",
    "UNROUTED_QUEUE_URL": "unrouted-events-test",
    "LIFECYCLE_QUEUE_URL": "lifecycle-events-test",
}
if str(HANDLERS_DIR) not in sys.path:
    sys.path.insert(0, str(HANDLERS_DIR))


@pytest.fixture(autouse=True)
def aws_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
        # DynamoDB Streams under in-process moto with current botocore (see FIELD-NOTES).
        "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
        "POWERTOOLS_METRICS_NAMESPACE": "WebhookPipelineTest",
        "POWERTOOLS_SERVICE_NAME": "test",
        "POWERTOOLS_TRACE_DISABLED": "1",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws():
        yield


@pytest.fixture
def events_table(aws: None, monkeypatch: pytest.MonkeyPatch) -> str:
    client = boto3.client("dynamodb", region_name=REGION)
    client.create_table(
        TableName=TABLE_NAME,
        KeySchema=[{"AttributeName": "event_id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "event_id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
    )
    monkeypatch.setenv("EVENTS_TABLE_NAME", TABLE_NAME)
    return TABLE_NAME


@pytest.fixture
def signing_secret(aws: None, monkeypatch: pytest.MonkeyPatch) -> Callable[[list[str]], None]:
    """Create the secret with the given whsec_ values; call again to rotate."""
    client = boto3.client("secretsmanager", region_name=REGION)
    arn = client.create_secret(Name=SECRET_NAME)["ARN"]
    monkeypatch.setenv("SIGNING_SECRET_ARN", arn)

    def put(secrets: list[str]) -> None:
        client.put_secret_value(SecretId=arn, SecretString=json.dumps({"signing_secrets": secrets}))

    put([SIGNING_SECRET])
    return put


@pytest.fixture
def queues(aws: None, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    client = boto3.client("sqs", region_name=REGION)
    urls = {}
    for variable, name in QUEUE_NAMES.items():
        urls[variable] = client.create_queue(QueueName=name)["QueueUrl"]
        monkeypatch.setenv(variable, urls[variable])
    return urls


@pytest.fixture
def validator(events_table: str, signing_secret: Any) -> ModuleType:
    return fresh_import("validator")


@pytest.fixture
def router(queues: dict[str, str]) -> ModuleType:
    return fresh_import("router")
