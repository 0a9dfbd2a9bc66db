"""Print checkov's counts at the end of the run (make verify and make test), allowlisted findings included."""

from __future__ import annotations

from typing import Any

import pytest

from pipeline_tools.review.checkov_scan import ScanResult, load_allowlist, unlisted

CHECKOV_COUNTS: dict[str, ScanResult] = {}


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not CHECKOV_COUNTS:
        return
    allowlist = load_allowlist()
    terminalreporter.section("checkov")
    for configuration, result in CHECKOV_COUNTS.items():
        failing = len(unlisted(result.findings, allowlist))
        terminalreporter.write_line(
            f"{configuration} configuration (pipeline + state-bootstrap): {result.passed} passed, {failing} failed, "
            f"{result.failed - failing} skipped by security/checkov-allowlist.toml"
        )


@pytest.fixture(scope="session")
def checkov_counts() -> dict[str, ScanResult]:
    return CHECKOV_COUNTS
