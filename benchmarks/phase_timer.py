"""pytest plugin for the suite benchmark: wall time per phase of `make test`, written as JSON to
$BENCH_PHASES_FILE. The session synth fixtures count as "synth", not as the test that needed them."""

from __future__ import annotations

import json
import os
import time
from collections import defaultdict
from collections.abc import Generator
from typing import Any

import pytest

SYNTH_FIXTURES = {"app", "prod_app", "other_app"}
PHASES = {"handlers": "handlers", "infrastructure": "unit", "tools": "unit", "static": "static checks",
          "integration": "sandbox (integration suite)"}  # fmt: skip
_seconds: defaultdict[str, float] = defaultdict(float)


@pytest.hookimpl(hookwrapper=True)
def pytest_fixture_setup(fixturedef: Any, request: Any) -> Generator[None, None, None]:
    start = time.perf_counter()
    yield
    if fixturedef.argname in SYNTH_FIXTURES:
        seconds = time.perf_counter() - start
        _seconds["synth"] += seconds
        _seconds["-" + _phase(request._pyfuncitem.nodeid)] += seconds  # the test whose setup included it


def _phase(nodeid: str) -> str:
    parts = nodeid.split("/")
    return PHASES.get(parts[1], "unit") if len(parts) > 1 else "unit"


def pytest_runtest_logreport(report: Any) -> None:
    _seconds[_phase(report.nodeid)] += report.duration


def pytest_sessionfinish(session: Any) -> None:
    path = os.environ.get("BENCH_PHASES_FILE")
    if not path:
        return
    phases = {name: seconds for name, seconds in _seconds.items() if not name.startswith("-")}
    for name, seconds in _seconds.items():
        if name.startswith("-"):  # synth time was also inside that test's setup duration
            phases[name[1:]] -= seconds
    with open(path, "w", encoding="utf-8") as out:
        json.dump(phases, out, indent=2, sort_keys=True)
