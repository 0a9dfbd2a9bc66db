"""checkov on every synthesized stack (default configuration, prod, every provider source, and the HTTP API
front door), against the committed allowlist."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline_tools.review.checkov_scan import (
    AllowlistEntry,
    Finding,
    ScanResult,
    load_allowlist,
    scan_synth_output,
    stale,
    unlisted,
)
from tests.infrastructure.synth import SynthesizedApp

pytestmark = pytest.mark.static


@pytest.fixture(scope="session")
def checkov_results(
    app: SynthesizedApp,
    prod_app: SynthesizedApp,
    sources_app: SynthesizedApp,
    http_api_app: SynthesizedApp,
    checkov_counts: dict[str, ScanResult],
) -> dict[str, ScanResult]:
    results = {
        "default": scan_synth_output(app.outdir),
        "prod": scan_synth_output(prod_app.outdir),
        "sources": scan_synth_output(sources_app.outdir),
        # front_door "http_api" (tests/fixtures/environments/httpapi.json): the HTTP API's resources.
        "http_api": scan_synth_output(http_api_app.outdir),
    }
    checkov_counts.update(results)  # reported at the end of the run
    return results


def test_every_failed_check_is_allowlisted_with_a_reason(checkov_results: dict[str, ScanResult]) -> None:
    for configuration, result in checkov_results.items():
        assert result.passed > 250, "checkov scanned far less than the stacks hold"
        missing = unlisted(result.findings, load_allowlist())
        assert not missing, "\n".join(
            f"{configuration}: {f.check_id} {f.name} on {f.resource} ({f.stack}): fix it, or allowlist it with a reason"
            for f in missing
        )


def test_every_allowlist_entry_still_matches_a_finding(checkov_results: dict[str, ScanResult]) -> None:
    every_finding = [finding for result in checkov_results.values() for finding in result.findings]
    leftover = stale(every_finding, load_allowlist())
    assert not leftover, f"allowlisted but no longer found, remove from security/checkov-allowlist.toml: {leftover}"


def test_prod_needs_no_waf_skip(checkov_results: dict[str, ScanResult]) -> None:
    assert "CKV2_AWS_29" not in {f.check_id for f in checkov_results["prod"].findings}


def test_a_new_finding_or_a_vanished_one_is_reported() -> None:
    allowlist = [AllowlistEntry(("CKV_AWS_1",), ("aws_x.a", "aws_x.b"), "reason")]
    findings = [Finding("CKV_AWS_1", "aws_x.a"), Finding("CKV_AWS_2", "aws_x.a")]
    assert unlisted(findings, allowlist) == [Finding("CKV_AWS_2", "aws_x.a")]
    assert stale(findings, allowlist) == [("CKV_AWS_1", "aws_x.b")]


def test_allowlist_entries_all_carry_a_reason(tmp_path: Path) -> None:
    broken = tmp_path / "allowlist.toml"
    broken.write_text('[[skip]]\nchecks = ["CKV_AWS_1"]\nresources = ["aws_x.a"]\nreason = "  "\n')
    with pytest.raises(ValueError, match="non-empty reason"):
        load_allowlist(broken)


def test_the_http_api_configuration_was_scanned_with_its_api(checkov_results: dict[str, ScanResult]) -> None:
    """The fixture really puts an HTTP API in front: its only finding is the reasoned route authorization."""
    findings = {f.check_id for f in checkov_results["http_api"].findings if "http-api" in f.resource}
    assert findings == {"CKV_AWS_309"}
