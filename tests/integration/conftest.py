"""The integration suite runs against a deployment's outputs: a real AWS stack or the local sandbox.

- `PIPELINE_OUTPUTS=<file>`: use that deployment (flat outputs, or `cdktf deploy --outputs-file`);
  `WEBHOOK_SIGNING_SECRET` must hold a secret the deployment accepts (the sandbox's file carries one).
- `PIPELINE_SANDBOX=1` (set by `make test`): bring the sandbox up for the session, tear it down after.
- neither: the suite is skipped, saying so.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pipeline_tools.outputs import load_outputs

PROJECT = Path(__file__).resolve().parents[2]
SANDBOX_START_TIMEOUT = 900


@pytest.fixture(scope="session")
def outputs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    given = os.environ.get("PIPELINE_OUTPUTS")
    if given:
        yield load_outputs(given)
        return
    if os.environ.get("PIPELINE_SANDBOX") != "1":
        pytest.skip(
            "integration suite: set PIPELINE_OUTPUTS to a deployment's outputs file, or PIPELINE_SANDBOX=1 (make test does)"
        )
    work = tmp_path_factory.mktemp("sandbox")
    outputs_file, ready, log_path = work / "outputs.json", work / "ready", work / "sandbox.log"
    environment = os.environ.get("SANDBOX_ENVIRONMENT", "sandbox")
    # The suite's own environment: terraform-state-config/sandbox.json (one source of each provider);
    # declared too, so a SANDBOX_ENVIRONMENT without a file of its own runs on default.json.
    env = {**os.environ, "ENVIRONMENT_SUFFIX": environment, "PIPELINE_DECLARED_ENVIRONMENT": environment}
    with log_path.open("w") as log:
        process = subprocess.Popen(
            # Its own state dir: its own lock, synth and state, so it runs beside a user's `make sandbox`.
            [sys.executable, "-m", "pipeline_tools", "sandbox", "--outputs", str(outputs_file), "--ready-file", str(ready),
             "--state-dir", str(work / "state")],
            cwd=PROJECT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            started = time.monotonic()
            deadline, next_beat = started + SANDBOX_START_TIMEOUT, started + 15
            while not ready.exists():
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"the sandbox did not come up:\n{log_path.read_text()[-6000:]}")
                time.sleep(0.5)
                if time.monotonic() >= next_beat:  # past pytest's capture: the bring-up takes minutes
                    lines = log_path.read_text().strip().splitlines() or ["starting"]
                    print(f"\n    ... integration sandbox: {time.monotonic() - started:.0f} s, {lines[-1].strip()}",
                          file=sys.__stderr__, flush=True)  # fmt: skip
                    next_beat += 15
            print(f"\n{log_path.read_text()}", file=sys.stderr)
            yield load_outputs(outputs_file)
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()


@pytest.fixture(scope="session")
def signing_secret(outputs: dict[str, Any]) -> str:
    secret = os.environ.get("WEBHOOK_SIGNING_SECRET") or outputs.get("signing_secret")
    if not secret:
        pytest.skip("set WEBHOOK_SIGNING_SECRET to a signing secret the deployment accepts")
    return secret
