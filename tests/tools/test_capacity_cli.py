"""`python -m pipeline_tools capacity`: the table, its JSON, and the README's copy of it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline_tools.__main__ import main

README = Path(__file__).resolve().parents[2] / "README.md"


def test_the_table_names_the_binding_limit_and_the_readme_shows_it_as_printed(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["capacity", "--environment", "prod"]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert printed[-1].startswith("Binds first: API Gateway stage throttle")
    readme = README.read_text(encoding="utf-8")
    for line in printed:
        if line.startswith(("API Gateway", "WAF", "validator", "Binds first")):
            assert line in readme, line


def test_json_holds_the_contract_the_sized_limits_and_every_stage(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["capacity", "--environment", "dev", "--json"]) == 0
    model = json.loads(capsys.readouterr().out)
    assert model["contract"]["burst_events_per_second"] == 1000
    assert model["sized"]["api_throttle_rate_limit"] == 1200
    assert model["sized"]["waf_signed_rate_limit_per_5min"] is None  # no WAF outside prod
    assert model["stages"][0]["name"] == "API Gateway stage throttle"
    assert all(stage["burst_events_per_second"] >= 1000 for stage in model["stages"])
    assert model["binding"] == "API Gateway stage throttle"


def test_a_setting_that_cannot_meet_the_contract_exits_2_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PIPELINE_DECLARED_ENVIRONMENT", "tight")
    import modules.config

    config = tmp_path / "config"
    config.mkdir()
    (config / "default.json").write_text((modules.config.CONFIG_DIR / "default.json").read_text())
    (config / "tight.json").write_text(json.dumps({"api_throttle_rate_limit": 500, "api_throttle_burst_limit": 1000}))
    monkeypatch.setattr(modules.config, "CONFIG_DIR", config)
    monkeypatch.setattr(modules.config.load_settings, "__defaults__", (config,))
    assert main(["capacity", "--environment", "tight"]) == 2
    error = capsys.readouterr().err
    assert "API Gateway stage throttle" in error and "api_throttle_rate_limit" in error and "429" in error
