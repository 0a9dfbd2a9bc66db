"""A bounded load run (`pipeline_tools load`, issue 20): bursts of signed deliveries from several sources
through the deployment, each accepted one sent again as a provider's duplicate (answered 200); with
DynamoDB throttling injected (the sandbox only), every refusal is a 503 with Retry-After and the
sender's retry stores the event exactly once. `make load` runs the full size."""

from __future__ import annotations

from typing import Any

import pytest

from pipeline_tools import load

pytestmark = pytest.mark.integration


def test_a_burst_from_several_sources_is_stored_with_nothing_lost_or_duplicated(outputs: dict[str, Any]) -> None:
    report = load.run(outputs, count=40, rate=40, burst=20, concurrency=8)
    assert len(report.sources) >= 2, report.sources
    assert (report.accepted, report.lost, report.duplicated) == (40, 0, 0), report.text()
    assert report.first_attempt == {"202": 40}, report.text()
    assert report.resent == report.resent_answered_200 == 40, report.text()  # each duplicate delivery: 200


def test_under_throttling_refusals_are_503_with_retry_after_and_retries_store_once(outputs: dict[str, Any]) -> None:
    if not outputs.get("fault_injection_file"):
        pytest.skip("throttling is injected only in the sandbox (its outputs name a fault_injection_file)")
    # 70 % of PutItems throttled: with the validator's 3 SDK attempts about a third of the first
    # attempts are refused; each is retried after its Retry-After until stored.
    report = load.run(outputs, count=24, rate=24, burst=12, concurrency=6, throttle=0.7, attempts=10)
    assert report.refused_by_status, f"nothing was refused: is the throttle injected?\n{report.text()}"
    assert set(report.refused_by_status) == {"503"}, report.text()
    assert report.refusals_without_retry_after == 0, report.text()
    assert (report.accepted, report.lost, report.duplicated) == (24, 0, 0), report.text()
    assert report.retries >= sum(report.refused_by_status.values()), report.text()
    assert report.resent == report.resent_answered_200 == 24, report.text()
