"""Sandboxes never step on each other (issue 22): per-environment files under `<state root>/<env>/`,
an outputs file a running sandbox serves is never taken over, a refused instance removes nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline_tools.outputs import OutputsError, default_outputs_path, environment_of
from pipeline_tools.sandbox.emulator import OVERRIDE_FILE
from pipeline_tools.sandbox.runner import PROJECT_ROOT, Sandbox, SandboxBusyError


def test_each_environment_keeps_its_files_under_its_own_folder(tmp_path: Path) -> None:
    sandbox = Sandbox("sb", state_root=tmp_path)
    assert sandbox.outputs_path == tmp_path / "sb" / "outputs.json"
    assert sandbox.stack_dir == tmp_path / "sb" / "cdktf.out" / "stacks" / "webhook-pipeline-sb"
    assert sandbox.lock_path == tmp_path / "sb.lock"
    default = Sandbox("sb")
    assert PROJECT_ROOT / "cdktf.out" not in default.stack_dir.parents  # never the folder `make synth` owns
    assert default.outputs_path == PROJECT_ROOT / ".sandbox" / "sb" / "outputs.json"


def test_a_refused_instance_removes_nothing_of_the_running_one(tmp_path: Path) -> None:
    environment = f"isotest-{os.getpid()}"
    first = Sandbox(environment, state_root=tmp_path)
    first.acquire()
    # What the running one serves: its override next to its stack, its outputs file.
    first.stack_dir.mkdir(parents=True)
    (first.stack_dir / OVERRIDE_FILE).write_text("{}")
    first.outputs_path.write_text(json.dumps({"sandbox_pid": os.getpid(), "environment": environment}))
    second = Sandbox(environment, state_root=tmp_path)
    try:
        with pytest.raises(SandboxBusyError):
            second.acquire()
        assert second.down() == []  # nothing to report: it created nothing
        assert (first.stack_dir / OVERRIDE_FILE).exists()
        assert first.outputs_path.exists()
    finally:
        first.down()


def test_an_outputs_file_another_running_sandbox_serves_is_refused_not_taken_over(tmp_path: Path) -> None:
    shared = tmp_path / "sandbox-outputs.json"
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])  # the other sandbox's process
    try:
        shared.write_text(json.dumps({"sandbox_pid": other.pid, "environment": "dev"}))
        second = Sandbox("staging", shared, state_root=tmp_path)
        with pytest.raises(SandboxBusyError, match=r"running sandbox of dev"):
            second.acquire()
        assert json.loads(shared.read_text())["environment"] == "dev"
        assert second._lock_file is None  # the refusal released the lock it had taken
    finally:
        other.kill()
        other.wait()
    # Its process gone, the file is stale: the next start may replace it.
    third = Sandbox("staging", shared, state_root=tmp_path)
    third.acquire()
    assert not shared.exists()
    third.down()


def test_the_test_suites_sandbox_has_a_lock_of_its_own(tmp_path: Path) -> None:
    users = Sandbox(f"isotest-u-{os.getpid()}", state_root=tmp_path / "user")
    suites = Sandbox(users.environment, state_root=tmp_path / "suite")
    users.acquire()
    try:
        suites.acquire()  # no SandboxBusyError: a user's `make sandbox` does not block `make test`
    finally:
        suites.down()
        users.down()
    conftest = (PROJECT_ROOT / "tests" / "integration" / "conftest.py").read_text()
    assert '"--state-dir"' in conftest


def test_tools_find_the_outputs_of_the_environment_they_are_asked_about(tmp_path: Path) -> None:
    for environment in ("sandbox", "dev"):
        (tmp_path / environment).mkdir()
        (tmp_path / environment / "outputs.json").write_text("{}")
    assert default_outputs_path({"ENVIRONMENT_SUFFIX": "dev"}, tmp_path) == tmp_path / "dev" / "outputs.json"
    assert default_outputs_path({"PIPELINE_OUTPUTS": "o.json"}, tmp_path) == Path("o.json")
    with pytest.raises(OutputsError, match=r"several environments are running \(dev, sandbox\)"):
        default_outputs_path({}, tmp_path)
    (tmp_path / "dev" / "outputs.json").unlink()
    assert default_outputs_path({}, tmp_path) == tmp_path / "sandbox" / "outputs.json"


def test_every_answer_names_its_environment(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from pipeline_tools.__main__ import main

    path = tmp_path / "outputs.json"
    path.write_text(json.dumps({
        "api_endpoint": "http://127.0.0.1:1/v1/webhook", "dynamodb_table_name": "transaction-events-qa",
        "payments_queue_url": "p", "refunds_queue_url": "r", "disputes_queue_url": "d",
    }))  # fmt: skip
    assert environment_of(json.loads(path.read_text())) == "qa"
    main(["send", "--outputs", str(path), "--print-curl", "--secret", "whsec_" + "A" * 44])
    assert f"environment qa (outputs {path})" in capsys.readouterr().err
