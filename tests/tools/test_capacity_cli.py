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
    assert printed[-2].startswith("Binds first: API Gateway stage throttle")
    # A steady rate meets the WAF's per-IP count first: 42,000 signed requests per 5 min from each of 3 IPs.
    assert printed[-1].startswith("Binds first at a steady rate: WAF rate rule (signed requests, per IP), at 420 ")
    readme = README.read_text(encoding="utf-8")
    for line in printed:
        if line.startswith(("API Gateway", "WAF", "validator", "Binds first")):
            assert line in readme, line


def test_one_stage_binding_both_ways_prints_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["capacity", "--environment", "dev"]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert printed[-1].startswith("Binds first: API Gateway stage throttle")
    assert not any(line.startswith("Binds first at a steady rate") for line in printed)
    assert main(["capacity", "--environment", "prod", "--json"]) == 0
    model = json.loads(capsys.readouterr().out)
    assert model["binding"] == "API Gateway stage throttle"
    assert model["binding_sustained"] == "WAF rate rule (signed requests, per IP)"


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


@pytest.fixture
def mollie_classic_waf(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """The fixture environment `mollieclassicwaf`: prod's WAF plus a mollie-classic, a Stripe and an Adyen source."""
    import modules.config
    from tests.conftest import fixture_config_dir

    environment = "mollieclassicwaf"
    config = fixture_config_dir(environment, tmp_path / "config")
    monkeypatch.setattr(modules.config, "CONFIG_DIR", config)
    monkeypatch.setattr(modules.config.load_settings, "__defaults__", (config,))
    return environment


def test_the_table_gives_an_unsigned_fetching_source_its_own_binding_limit_and_a_warning(
    mollie_classic_waf: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["capacity", "--environment", mollie_classic_waf]) == 0  # a warning, not a refusal
    printed = capsys.readouterr().out.splitlines()
    assert "shop (mollie-classic): unsigned, authenticated by fetching from the provider's API at the door" in printed
    assert "stripe (stripe): signed by header; the stages above" in printed
    [binds] = [line for line in printed if line.startswith("  Binds first for 'shop'")]
    assert "WAF rate rule (unsigned requests, per IP), at 20 events/s sustained and 100 events/s for 60 s" in binds
    assert "403" in binds
    [fetch] = [line for line in printed if line.startswith("  Each delivery costs")]
    assert "Mollie's per-account API rate limit" in fetch and "503 with Retry-After: 30" in fetch
    [warning] = [line for line in printed if line.startswith("Warning:")]
    assert "waf_rate_limit_per_5min to at least 42,000" in warning and "lower the contract" in warning
    # the environment's binding limit is still the signed path's
    assert "Binds first: API Gateway stage throttle, at 1,240 events/s during a burst" in " ".join(printed)
    readme = README.read_text(encoding="utf-8")
    for line in printed:
        if line.startswith(("shop (", "stripe (", "adyen (", "  WAF rate rule (unsigned", "  Binds first for")):
            assert line in readme, line


def test_json_holds_each_sources_route(mollie_classic_waf: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["capacity", "--environment", mollie_classic_waf, "--json"]) == 0
    model = json.loads(capsys.readouterr().out)
    routes = {route["source"]: route for route in model["sources"]}
    assert {name: route["signing"] for name, route in routes.items()} == {
        "adyen": "signed-in-body", "shop": "unsigned-fetching", "stripe": "signed-by-header",
    }  # fmt: skip
    shop = routes["shop"]
    assert shop["binding"] == "WAF rate rule (unsigned requests, per IP)" and shop["meets_contract"] is False
    waf, fetches = shop["stages"]
    assert (waf["sustained_events_per_second"], waf["burst_events_per_second"]) == (20.0, 100.0)
    # prod's 200 validators at 0.1 s + 0.25 s per delivery and its fetch
    assert fetches["name"] == "validators held by door fetches"
    assert fetches["burst_events_per_second"] == pytest.approx(200 / 0.35)
    assert shop["fetch_api"]["source"] == "https://docs.mollie.com/reference/rate-limiting"
    assert routes["stripe"]["binding"] == model["binding"] == "API Gateway stage throttle"
    assert routes["stripe"]["meets_contract"] is True
    assert len(model["warnings"]) == 1 and "'shop'" in model["warnings"][0]


def test_an_environment_without_sources_prints_no_source_lines(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["capacity", "--environment", "prod", "--json"]) == 0
    model = json.loads(capsys.readouterr().out)
    assert model["sources"] == [] and model["warnings"] == []


def test_the_synth_prints_the_warning_and_still_synthesizes(
    mollie_classic_waf: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`make synth` (main.py) warns on stderr and synthesizes: the contract is every route's together."""
    import main as app

    synthesized = []
    monkeypatch.setenv("ENVIRONMENT_SUFFIX", mollie_classic_waf)
    monkeypatch.setattr(app, "load_settings", __import__("modules.config").config.load_settings)
    monkeypatch.setattr(app, "synthesize", lambda settings: synthesized.append(settings.environment))
    assert app.main() == 0 and synthesized == [mollie_classic_waf]
    [warning] = capsys.readouterr().err.splitlines()
    assert warning.startswith("warning: source 'shop' (mollie-classic) posts unsigned") and "42,000" in warning
    import modules.config

    prod = README.parent / "terraform-state-config" / "prod.json"
    (modules.config.CONFIG_DIR / "prod.json").write_text(prod.read_text())  # the patched folder
    monkeypatch.setenv("ENVIRONMENT_SUFFIX", "prod")
    assert app.main() == 0 and capsys.readouterr().err == "" and synthesized[-1] == "prod"
