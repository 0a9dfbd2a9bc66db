"""Every documented command line that needs a sandbox runs against the suite's sandbox (issue 22).

`make plan`, the README's only local plan-review recipe, planned and then crashed on an attribute the
review needed: nothing ran it. Each line runs verbatim (`tests/documented_commands.py` collects them),
with `PIPELINE_OUTPUTS` naming the suite's sandbox, and must exit 0 without a traceback.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from pipeline_tools import quarantine
from pipeline_tools.outputs import client
from pipeline_tools.provider_signing import random_secret
from tests.documented_commands import PROJECT, lines_for
from tests.integration.helpers import event_body, post, unique_id


@pytest.fixture(scope="module")
def outputs_file(outputs: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not outputs.get("sandbox"):
        pytest.skip("documented sandbox commands run against the sandbox only")
    path = tmp_path_factory.mktemp("documented") / "outputs.json"
    path.write_text(json.dumps(outputs))
    return path


def _secret_line(line: str, outputs: dict[str, Any]) -> tuple[str | None, str]:
    """For `secret set|rotate --source NAME`: (the secret's ARN, a fresh value in its provider's format,
    typed on standard input as a user would)."""
    match = re.search(r"\bsecret (set|rotate) --source ([a-z0-9-]+)", line)
    if not match:
        return None, ""
    name = match.group(2)
    if name == "webhook":
        return outputs["signing_secret_arn"], random_secret("standard-webhooks")
    return outputs["source_secret_arns"][name], random_secret(outputs["source_secrets"][name]["provider"])


@pytest.fixture(scope="module")
def quarantine_id(outputs: dict[str, Any], signing_secret: str) -> str:
    """A kept delivery for the `quarantine show|readmit <quarantine_id>` lines: a signed conflict, whose
    conflicting item is then removed, so the documented readmission releases it."""
    event_id = unique_id("documented")
    assert post(outputs, event_body(event_id, amount="10"), signing_secret)[0] == 202
    assert post(outputs, event_body(event_id, amount="11"), signing_secret)[0] == 409
    [entry] = [e for e in quarantine.list_kept(outputs) if event_id in e["event_ids"]]
    client(outputs, "dynamodb").delete_item(TableName=outputs["dynamodb_table_name"], Key={"event_id": {"S": event_id}})
    return entry["quarantine_id"]


def _concrete(line: str, outputs_file: Path, request: pytest.FixtureRequest) -> str:
    """The line with its placeholders filled: a kept delivery's id, the suite's outputs file."""
    if "<quarantine_id>" in line:
        line = line.replace("<quarantine_id>", request.getfixturevalue("quarantine_id"))
    return line.replace("--outputs outputs.json", f"--outputs {outputs_file}")


@pytest.mark.parametrize("line", lines_for("sandbox"))
def test_each_documented_sandbox_command_runs(
    line: str, outputs_file: Path, outputs: dict[str, Any], request: pytest.FixtureRequest
) -> None:
    line = _concrete(line, outputs_file, request)
    arn, typed = _secret_line(line, outputs)
    secretsmanager = client(outputs, "secretsmanager")
    before = secretsmanager.get_secret_value(SecretId=arn)["SecretString"] if arn else None
    env = {
        **os.environ,
        "PIPELINE_OUTPUTS": str(outputs_file),
        "PATH": f"{PROJECT / '.venv' / 'bin'}:{os.environ['PATH']}",
    }
    env["ENVIRONMENT_SUFFIX"] = outputs.get("environment", "sandbox")
    for variable in ("MAKEFLAGS", "MAKELEVEL"):
        env.pop(variable, None)
    try:
        result = subprocess.run(["bash", "-c", line], cwd=PROJECT, env=env, input=typed, capture_output=True,
                                text=True, timeout=600)  # fmt: skip
    finally:
        if arn:  # the rest of the suite signs with the session's secrets
            secretsmanager.put_secret_value(SecretId=arn, SecretString=before)
            outputs_file.write_text(json.dumps(outputs))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    assert f"environment {env['ENVIRONMENT_SUFFIX']} (outputs {outputs_file})" in result.stderr
