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

from pipeline_tools.outputs import client
from pipeline_tools.provider_signing import random_secret
from tests.documented_commands import PROJECT, lines_for


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


@pytest.mark.parametrize("line", lines_for("sandbox"))
def test_each_documented_sandbox_command_runs(line: str, outputs_file: Path, outputs: dict[str, Any]) -> None:
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
