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
    assert len(emulator_gaps.GAPS) == 7  # six shims, and the unenforced resource policies (no shim: tested statically)


def test_moto_still_ignores_a_dynamodb_resource_policy(monkeypatch: pytest.MonkeyPatch) -> None:
    """A policy denying every write, stored and returned, and still a write goes through: the reason the
    table's writer is checked on the synthesized policy instead."""
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "t")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "t")
    with mock_aws():
        dynamodb = boto3.client("dynamodb")
        arn = dynamodb.create_table(
            TableName="t",
            KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )["TableDescription"]["TableArn"]
        deny_all = {"Version": "2012-10-17", "Statement": [
            {"Effect": "Deny", "Principal": "*", "Action": "dynamodb:PutItem", "Resource": arn}]}  # fmt: skip
        dynamodb.put_resource_policy(ResourceArn=arn, Policy=json.dumps(deny_all))
        assert json.loads(dynamodb.get_resource_policy(ResourceArn=arn)["Policy"]) == deny_all
        dynamodb.put_item(TableName="t", Item={"k": {"S": "written anyway"}})
        assert dynamodb.get_item(TableName="t", Key={"k": {"S": "written anyway"}})["Item"]
    assert any("aws_dynamodb_resource_policy" in gap.resource for gap in emulator_gaps.GAPS)


def test_moto_still_receives_for_a_queue_mapping_and_the_shim_leaves_the_messages_alone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Without the shim moto receives a sent message for the mapped function itself (and, with no Docker,
    counts a receive per failed invoke); with it the message waits in the queue, never received."""
    import inspect

    assert "lambda_event_source_mappings.items()" in inspect.getsource(Queue.add_message)  # the hook moto runs

    for name, value in {
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "t",
        "AWS_SECRET_ACCESS_KEY": "t",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(Queue, "lambda_event_source_mappings", property(emulator_gaps._no_queue_mappings,
                                                                        emulator_gaps._ignore_queue_mappings), raising=False)  # fmt: skip
    with mock_aws():
        sqs, lambda_client, iam = (boto3.client(s) for s in ("sqs", "lambda", "iam"))
        role = iam.create_role(RoleName="r", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        function = lambda_client.create_function(
            FunctionName="consumer", Runtime="python3.12", Role=role, Handler="h.handler",
            Code={"ZipFile": b"PK\x05\x06" + b"\x00" * 18},
        )["FunctionArn"]  # fmt: skip
        url = sqs.create_queue(QueueName="payments")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        lambda_client.create_event_source_mapping(EventSourceArn=arn, FunctionName=function, BatchSize=10)
        sqs.send_message(QueueUrl=url, MessageBody="fact")
        [message] = sqs.receive_message(QueueUrl=url, AttributeNames=["ApproximateReceiveCount"])["Messages"]
    assert message["Body"] == "fact"
    assert message["Attributes"]["ApproximateReceiveCount"] == "1"  # ours: moto never received it first


def _function_with_logging_config(logging_config: dict[str, str] | None) -> dict[str, object]:
    import io
    import zipfile

    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("a.py", "def handler(event, context):\n    return None\n")
    iam = boto3.client("iam")
    role = iam.create_role(RoleName="r", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    client = boto3.client("lambda")
    extra = {"LoggingConfig": logging_config} if logging_config else {}
    client.create_function(FunctionName="f", Runtime="python3.11", Role=role, Handler="a.handler",
                           Code={"ZipFile": archive.getvalue()}, **extra)  # fmt: skip
    return client.get_function(FunctionName="f")["Configuration"]


QUIET = {"LogFormat": "JSON", "ApplicationLogLevel": "INFO", "SystemLogLevel": "WARN"}


def test_moto_still_drops_lambda_logging_config_and_the_shim_returns_it(monkeypatch: pytest.MonkeyPatch) -> None:
    from moto.awslambda.models import LambdaFunction

    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "t")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "t")
    for name in ("__init__", "get_configuration", "update_configuration"):
        monkeypatch.setattr(
            LambdaFunction, name, getattr(emulator_gaps, f"_original_{'function_init' if name == '__init__' else name}")
        )
    with mock_aws():
        assert "LoggingConfig" not in _function_with_logging_config(QUIET)
    monkeypatch.setattr(LambdaFunction, "__init__", emulator_gaps._function_init)
    monkeypatch.setattr(LambdaFunction, "get_configuration", emulator_gaps._get_configuration)
    monkeypatch.setattr(LambdaFunction, "update_configuration", emulator_gaps._update_configuration)
    with mock_aws():
        assert _function_with_logging_config(QUIET)["LoggingConfig"] == {**QUIET, "LogGroup": "/aws/lambda/f"}
        client = boto3.client("lambda")
        client.update_function_configuration(FunctionName="f", LoggingConfig={**QUIET, "SystemLogLevel": "INFO"})
        assert client.get_function_configuration(FunctionName="f")["LoggingConfig"]["SystemLogLevel"] == "INFO"
    with mock_aws():
        assert "LoggingConfig" not in _function_with_logging_config(None)  # as before for functions given none


def test_moto_still_builds_every_queue_attribute_per_received_message_and_the_shim_does_not(
    sqs: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    """moto read MessageRetentionPeriod through every attribute of the queue (three passes over its
    messages) for each message a receive returned: ~1 s a receive on the 1,100 messages the integration
    suite's load runs leave on the payments queue, and a 60 s wait for a message behind them ran out.
    The shim reads the one value: the same messages come back, an expired one still does not."""
    from moto.sqs.models import SQSBackend

    built = 0
    attributes = emulator_gaps._original_attributes

    def counted(queue: Queue) -> dict[str, object]:
        nonlocal built
        built += 1
        return attributes.fget(queue)

    monkeypatch.setattr(Queue, "attributes", property(counted))
    monkeypatch.setattr(
        SQSBackend, "is_message_valid_based_on_retention_period", emulator_gaps._original_retention_check
    )
    url = sqs.create_queue(QueueName="q", Attributes={"MessageRetentionPeriod": "60"})["QueueUrl"]
    for index in range(13):
        sqs.send_message(QueueUrl=url, MessageBody=f"m{index}")
    built = 0
    assert len(sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]) == 10
    assert built >= 10  # the gap: at least once per returned message

    monkeypatch.setattr(SQSBackend, "is_message_valid_based_on_retention_period", emulator_gaps._retention_check)
    built = 0
    [message] = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1)["Messages"]
    assert built == 0
    assert message["Body"] == "m10"  # the next one in line, as before; m11 and m12 stay visible

    from moto.sqs.models import sqs_backends

    [queue] = sqs_backends["123456789012"]["us-east-1"].queues.values()
    for waiting in queue._messages:
        waiting.sent_timestamp -= 61_000  # older than the queue's retention
    assert "Messages" not in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0)
