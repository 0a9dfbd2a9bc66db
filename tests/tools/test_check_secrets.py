"""`python -m pipeline_tools check-secrets` against moto: weak or malformed entries are named by source and
index (never by value), exit 1; a deployment whose secrets are all usable exits 0."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from pipeline_tools import __main__ as cli
from pipeline_tools import secret_check

GOOD_STANDARD = "whsec_" + base64.b64encode(b"0123456789abcdefghijklmnopqrstuv").decode()
GOOD_STRIPE = "whsec_" + "4eC39HqLyjWDarjtT1zdp7dc"


@pytest.fixture
def deployment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "t",
        "AWS_SECRET_ACCESS_KEY": "t",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        secrets = boto3.client("secretsmanager", region_name="us-east-1")

        def write(signing: list[Any], shop: list[Any]) -> Path:
            arns = {}
            for name, value in (("signing", {"signing_secrets": signing}), ("shop", {"secrets": shop})):
                try:
                    arns[name] = secrets.create_secret(Name=name, SecretString=json.dumps(value))["ARN"]
                except secrets.exceptions.ResourceExistsException:
                    arns[name] = secrets.put_secret_value(SecretId=name, SecretString=json.dumps(value))["ARN"]
            outputs = tmp_path / "outputs.json"
            outputs.write_text(json.dumps({
                "api_endpoint": "https://x.execute-api.us-east-1.amazonaws.com/v1/webhook", "dynamodb_table_name": "t",
                "payments_queue_url": "q", "refunds_queue_url": "q", "disputes_queue_url": "q",
                "validator_lambda_arn": "arn:aws:lambda:us-east-1:123456789012:function:webhook-validator-dev",
                "signing_secret_arn": arns["signing"], "source_secret_arns": {"shop": arns["shop"]},
            }))  # fmt: skip
            return outputs

        monkeypatch.setattr(secret_check, "_sources", lambda _outputs: {"shop": {"provider": "stripe"}})
        yield write


def test_weak_entries_are_named_by_source_and_index(deployment: Any, capsys: pytest.CaptureFixture[str]) -> None:
    outputs = deployment(["whsec_x", GOOD_STANDARD], ["changeme", "whsec_x", GOOD_STRIPE])
    assert cli.main(["check-secrets", "--outputs", str(outputs)]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(":", 1)[0] for line in lines] == [
        "POST /webhook entry 0", "source shop entry 0", "source shop entry 1",
    ]  # fmt: skip
    assert "whsec_x" not in "\n".join(lines) and "changeme" not in "\n".join(lines)


def test_a_source_without_a_usable_entry_is_named(deployment: Any, capsys: pytest.CaptureFixture[str]) -> None:
    outputs = deployment([GOOD_STANDARD], ["x"])
    assert cli.main(["check-secrets", "--outputs", str(outputs)]) == 1
    assert "source shop: no usable entry" in capsys.readouterr().out


def test_usable_secrets_pass(deployment: Any, capsys: pytest.CaptureFixture[str]) -> None:
    outputs = deployment([GOOD_STANDARD], [GOOD_STRIPE])
    assert cli.main(["check-secrets", "--outputs", str(outputs)]) == 0
    assert "every secret is usable" in capsys.readouterr().err
