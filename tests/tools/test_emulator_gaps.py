"""The moto gaps the sandbox shims: each test fails once moto closes the gap, so the list only shrinks."""

from __future__ import annotations

import json
from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws
from moto.sqs.models import Queue

from pipeline_tools.sandbox import emulator_gaps


@pytest.fixture
def sqs(monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "t")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "t")
    monkeypatch.setattr(Queue, "attributes", emulator_gaps._original_attributes)
    with mock_aws():
        yield boto3.client("sqs")


def queues_with_redrive(client: object) -> tuple[str, str]:
    dlq = client.create_queue(
        QueueName="d", Attributes={"RedriveAllowPolicy": json.dumps({"redrivePermission": "allowAll"})}
    )["QueueUrl"]
    arn = client.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    source = client.create_queue(
        QueueName="s", Attributes={"RedrivePolicy": json.dumps({"deadLetterTargetArn": arn, "maxReceiveCount": 3})}
    )["QueueUrl"]
    return dlq, source


def test_moto_still_hides_redrive_allow_policy_and_the_shim_returns_it(
    sqs: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    dlq, _ = queues_with_redrive(sqs)
    assert "RedriveAllowPolicy" not in sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["All"])["Attributes"]
    monkeypatch.setattr(Queue, "attributes", property(emulator_gaps._aws_like_attributes))
    assert (
        "allowAll" in sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["All"])["Attributes"]["RedriveAllowPolicy"]
    )


def test_moto_still_spaces_redrive_policy_and_the_shim_compacts_it(
    sqs: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, source = queues_with_redrive(sqs)
    assert ", " in sqs.get_queue_attributes(QueueUrl=source, AttributeNames=["All"])["Attributes"]["RedrivePolicy"]
    monkeypatch.setattr(Queue, "attributes", property(emulator_gaps._aws_like_attributes))
    assert ", " not in sqs.get_queue_attributes(QueueUrl=source, AttributeNames=["All"])["Attributes"]["RedrivePolicy"]


def test_moto_still_tries_to_invoke_lambda_from_table_streams() -> None:
    from moto.awslambda.models import LambdaBackend

    assert "send_dynamodb_items" in vars(LambdaBackend)  # the hook the shim replaces still exists
    import inspect

    from moto.dynamodb.models import table

    assert "send_dynamodb_items" in inspect.getsource(table)


def test_the_documented_gap_list_matches_the_shims() -> None:
    assert len(emulator_gaps.GAPS) == 3
