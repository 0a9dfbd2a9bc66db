"""Quiet, friendly output (issue 22): no traceback for an ordinary failure, a heartbeat on a silent
step, `npx cdktf` as quiet as `make`, amounts written with the currency's exponent."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pipeline_tools.progress import Steps
from pipeline_tools.trace import EventTrace, render

PROJECT = Path(__file__).resolve().parents[2]


def test_a_silent_step_gets_a_heartbeat_and_a_talking_one_does_not() -> None:
    out = io.StringIO()
    steps = Steps("t", stream=out, heartbeat_seconds=0.3)
    with steps.step("silent"):
        time.sleep(1.0)
    assert "... silent: still running" in out.getvalue()
    out.truncate(0)
    out.seek(0)
    with steps.step("talking"):
        for _ in range(10):
            print("    progress", file=steps.stream)
            time.sleep(0.1)
    assert "still running" not in out.getvalue()


def test_trace_prints_the_amount_with_the_currencys_exponent() -> None:
    found = EventTrace(event_id="evt_1")
    found.item = {"amount": "12.5", "amount_text": "12.50", "currency": "USD", "received_at": "t"}
    assert "amount=12.50 USD" in render(found, "transaction-events-t")


@pytest.mark.skipif(shutil.which("npx") is None, reason="no npx")
def test_npx_gets_the_quiet_settings_make_exports() -> None:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("CHECKPOINT_DISABLE", "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION")
    }
    script = "console.log(process.env.CHECKPOINT_DISABLE, process.env.JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION)"
    result = subprocess.run(["npx", "--no-install", "node", "-e", script], cwd=PROJECT, env=env,
                            capture_output=True, text=True, timeout=60, check=True)  # fmt: skip
    major = subprocess.run(["node", "-p", "process.versions.node.split('.')[0]"], capture_output=True, text=True).stdout
    assert result.stdout.split() == ["1", major.strip()]
    kept = subprocess.run(["npx", "--no-install", "node", "-e", script], cwd=PROJECT, capture_output=True, text=True,
                          env={**env, "CHECKPOINT_DISABLE": "yes"}, timeout=60, check=True)  # fmt: skip
    assert kept.stdout.split()[0] == "yes"  # a value the user set is kept


def test_an_ordinary_sandbox_failure_is_one_error_line_not_a_traceback(tmp_path: Path) -> None:
    env = {**os.environ, "ENVIRONMENT_SUFFIX": "nosuchstack", "PIPELINE_DECLARED_ENVIRONMENT": "nosuchstack"}
    result = subprocess.run(
        [sys.executable, "-m", "pipeline_tools", "sandbox", "--no-synth", "--state-dir", str(tmp_path)],
        cwd=PROJECT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "error: " in result.stderr and "make synth" in result.stderr


def test_make_installs_print_a_heartbeat_and_keep_the_exit_status(tmp_path: Path) -> None:
    log = tmp_path / "install.log"
    result = subprocess.run(
        [str(PROJECT / "bin" / "with-heartbeat"), "pipenv sync", str(log), "sh", "-c", "echo noisy; sleep 1.5; exit 3"],
        capture_output=True, text=True, env={**os.environ, "HEARTBEAT_SECONDS": "0.5"}, timeout=30,
    )  # fmt: skip
    assert result.returncode == 3
    assert "... pipenv sync: still running" in result.stdout and "noisy" not in result.stdout
    assert log.read_text() == "noisy\n"
    assert 'bin/with-heartbeat "pipenv sync"' in (PROJECT / "Makefile").read_text()
