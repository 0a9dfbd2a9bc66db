"""`secret set|rotate|show-format --source NAME` (issue 22): no command set a source's secret; a value
in another provider's format was accepted by hand-written `aws secretsmanager` calls and failed silently."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from pipeline_tools.__main__ import main
from pipeline_tools.provider_signing import random_secret

SOURCES = {"svix": "standard-webhooks", "stripe": "stripe", "adyen": "adyen"}


@pytest.fixture
def deployment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Path, dict[str, str]]]:
    import pipeline_tools.__main__ as cli

    monkeypatch.setattr(cli, "_check_reachable", lambda outputs: None)  # moto in-process, no sandbox to reach
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        secretsmanager = boto3.client("secretsmanager")
        arns = {name: secretsmanager.create_secret(Name=f"webhook-source-{name}-qa")["ARN"] for name in SOURCES}
        signing = secretsmanager.create_secret(Name="webhook-signing-secret-qa")["ARN"]
        outputs: dict[str, Any] = {
            "api_endpoint": "http://127.0.0.1:1/v1/webhook", "dynamodb_table_name": "transaction-events-qa",
            "payments_queue_url": "p", "refunds_queue_url": "r", "disputes_queue_url": "d",
            "validator_lambda_arn": "arn:aws:lambda:us-east-1:123456789012:function:webhook-validator-qa",
            "source_secret_arns": arns, "signing_secret_arn": signing, "sandbox": True, "environment": "qa",
            "source_secrets": {name: {"provider": provider, "secret": "old"} for name, provider in SOURCES.items()},
        }  # fmt: skip
        path = tmp_path / "outputs.json"
        path.write_text(json.dumps(outputs))
        yield path, arns


def _stored(arn: str) -> Any:
    return json.loads(boto3.client("secretsmanager").get_secret_value(SecretId=arn)["SecretString"])


def _run(path: Path, *args: str) -> int:
    return main(["secret", *args, "--outputs", str(path)])


def test_a_stripe_secret_on_a_standard_webhooks_source_is_refused_saying_what_it_looks_like(
    deployment: tuple[Path, dict[str, str]], capsys: pytest.CaptureFixture[str]
) -> None:
    path, arns = deployment
    stripe_secret = random_secret("stripe")
    assert _run(path, "set", "--source", "svix", "--value", stripe_secret) == 2
    error = capsys.readouterr().err
    assert "looks like a Stripe signing secret" in error and stripe_secret not in error
    with pytest.raises(boto3.client("secretsmanager").exceptions.ResourceNotFoundException):
        _stored(arns["svix"])  # nothing written


@pytest.mark.parametrize(
    ("source", "value", "problem"),
    [
        ("adyen", "not-hex", "an Adyen HMAC key is a hex string"),
        ("stripe", "sk_live_123", "not a valid stripe secret"),
        ("stripe", "whsec_abc\n", "whitespace"),
        ("adyen", "whsec_" + "a" * 32, "not a valid adyen secret"),
    ],
)
def test_a_malformed_value_is_refused_with_the_reason(
    deployment: tuple[Path, dict[str, str]], capsys: pytest.CaptureFixture[str], source: str, value: str, problem: str
) -> None:
    assert _run(deployment[0], "set", "--source", source, "--value", value) == 2
    assert problem in capsys.readouterr().err


@pytest.mark.parametrize("source", sorted(SOURCES))
def test_set_writes_the_provider_format_and_the_sandbox_outputs_follow(
    deployment: tuple[Path, dict[str, str]], capsys: pytest.CaptureFixture[str], source: str
) -> None:
    path, arns = deployment
    value = random_secret(SOURCES[source])
    assert _run(path, "set", "--source", source, "--value", value) == 0
    assert _stored(arns[source]) == {"secrets": [value]}
    assert json.loads(path.read_text())["source_secrets"][source]["secret"] == value
    out = capsys.readouterr()
    assert "takes effect at the next request" in out.out  # the route had no usable secret
    assert value not in out.out + out.err  # never printed


def test_rotate_lists_the_new_one_first_and_finish_keeps_only_it(
    deployment: tuple[Path, dict[str, str]], capsys: pytest.CaptureFixture[str]
) -> None:
    path, arns = deployment
    old, new = random_secret("stripe"), random_secret("stripe")
    assert _run(path, "set", "--source", "stripe", "--value", old) == 0
    assert _run(path, "rotate", "--source", "stripe", "--value", new) == 0
    assert _stored(arns["stripe"]) == {"secrets": [new, old]}
    out = capsys.readouterr().out
    assert "within 300 s" in out and "--finish" in out
    assert _run(path, "rotate", "--source", "stripe", "--finish") == 0
    assert _stored(arns["stripe"]) == {"secrets": [new]}


def test_the_webhook_routes_own_secret(deployment: tuple[Path, dict[str, str]]) -> None:
    path, _ = deployment
    value = random_secret("standard-webhooks")
    assert _run(path, "set", "--source", "webhook", "--value", value) == 0
    arn = json.loads(path.read_text())["signing_secret_arn"]
    assert _stored(arn) == {"signing_secrets": [value]}
    assert json.loads(path.read_text())["signing_secret"] == value


def test_show_format_and_unknown_source(
    deployment: tuple[Path, dict[str, str]], capsys: pytest.CaptureFixture[str]
) -> None:
    assert _run(deployment[0], "show-format", "--source", "adyen") == 0
    assert "HMAC key, 64 hex digits" in capsys.readouterr().out
    assert _run(deployment[0], "show-format", "--source", "nope") == 2
    assert "no source named 'nope' in environment qa; sources: adyen, stripe, svix, webhook" in capsys.readouterr().err


def test_aws_export_points_the_cli_at_the_sandbox(
    deployment: tuple[Path, dict[str, str]], capsys: pytest.CaptureFixture[str]
) -> None:
    path, _ = deployment
    data = json.loads(path.read_text())
    path.write_text(json.dumps({**data, "aws_endpoint_url": "http://127.0.0.1:4566"}))
    assert main(["aws", "--export", "--outputs", str(path)]) == 0
    out = capsys.readouterr().out
    for line in ("export AWS_ENDPOINT_URL=http://127.0.0.1:4566", "export AWS_REGION=us-east-1",
                 "export AWS_ACCESS_KEY_ID=sandbox", "export AWS_SECRET_ACCESS_KEY=sandbox"):  # fmt: skip
        assert line in out
    path.write_text(json.dumps({key: value for key, value in data.items() if key != "sandbox"}))
    assert main(["aws", "--export", "--outputs", str(path)]) == 0
    assert "AWS_ACCESS_KEY_ID" not in capsys.readouterr().out  # a real deployment keeps the caller's credentials


def test_aws_passes_the_sandbox_endpoint_explicitly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """AWS CLI v1 sends SQS to queue.amazonaws.com whatever AWS_ENDPOINT_URL says (red-team finding):
    `aws sqs list-queues` left the sandbox for the real AWS. The global option reaches every service."""
    from pipeline_tools import aws_cli

    stand_in = tmp_path / "aws"
    stand_in.write_text('#!/bin/sh\nprintf "%s\\n" "$@" > "$0.args"\n')
    stand_in.chmod(0o755)
    monkeypatch.setattr(aws_cli.shutil, "which", lambda _: str(stand_in))
    outputs = {"aws_endpoint_url": "http://127.0.0.1:4566", "environment": "qa", "sandbox": True}
    assert aws_cli.run(outputs, ["sqs", "list-queues"]) == 0
    assert (tmp_path / "aws.args").read_text().split() == [
        "--endpoint-url",
        "http://127.0.0.1:4566",
        "sqs",
        "list-queues",
    ]
    assert aws_cli.run(outputs, ["--endpoint-url=http://x", "sqs", "list-queues"]) == 0  # the caller's wins
    assert (tmp_path / "aws.args").read_text().split() == ["--endpoint-url=http://x", "sqs", "list-queues"]
    assert aws_cli.run({"environment": "prod"}, ["sqs", "list-queues"]) == 0  # AWS: nothing added
    assert (tmp_path / "aws.args").read_text().split() == ["sqs", "list-queues"]
