"""One sandbox per environment: a second start is refused, saying where the first one serves."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pipeline_tools.sandbox.runner import Sandbox, SandboxBusyError


def test_a_second_sandbox_of_the_same_environment_is_refused_and_the_lock_is_freed_on_stop(tmp_path: Path) -> None:
    environment = f"locktest-{os.getpid()}"  # never a real environment's lock
    first = Sandbox(environment, tmp_path / "first.json", synth=False)
    second = Sandbox(environment, tmp_path / "second.json", synth=False)
    try:
        first.acquire()
        with pytest.raises(
            SandboxBusyError, match=rf"a sandbox for {environment} is already running \(pid {os.getpid()}"
        ) as busy:
            second.acquire()
        assert str(tmp_path / "first.json") in str(busy.value)  # where the running one writes its outputs
        first.down()  # stopping releases the lock: the next start proceeds
        second.acquire()
    finally:
        for sandbox in (first, second):
            sandbox.down()
        first.lock_path.unlink(missing_ok=True)


def test_another_environment_is_not_blocked(tmp_path: Path) -> None:
    one = Sandbox(f"locktest-a-{os.getpid()}", tmp_path / "a.json", synth=False)
    other = Sandbox(f"locktest-b-{os.getpid()}", tmp_path / "b.json", synth=False)
    try:
        one.acquire()
        other.acquire()
    finally:
        for sandbox in (one, other):
            sandbox.down()
            sandbox.lock_path.unlink(missing_ok=True)
