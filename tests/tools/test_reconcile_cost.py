"""The reconciler's lines of the cost model (pipeline_tools/cost_model.py `reconciler_lines`)."""

from __future__ import annotations

import importlib
import json
import re
import shutil
from pathlib import Path

import pytest

from modules.config import CONFIG_DIR, PipelineSettings, load_settings
from pipeline_tools.cost_model import (
    RECONCILE_ALARMS_PER_SOURCE,
    RECONCILE_METRICS_PER_SOURCE,
    RECONCILE_PAGE_SIZES,
    estimate,
    load_prices,
    reconcile_volumes,
)
from pipeline_tools.operations import _handlers_on_path
from tests.infrastructure.synth import SynthesizedApp

HANDLERS = Path(__file__).resolve().parents[2] / "handlers"


def _settings(tmp_path: Path, sources: dict) -> PipelineSettings:
    shutil.copy(CONFIG_DIR / "default.json", tmp_path / "default.json")
    (tmp_path / "costed.json").write_text(json.dumps({"sources": sources}))
    return load_settings("costed", tmp_path)


def test_no_reconciling_source_no_reconciler_line() -> None:
    for environment in ("dev", "prod"):
        result = estimate(10_000_000, 2048, load_settings(environment))
        assert not [line for line in result.lines if line.item.startswith("reconciler")], environment


def test_the_default_interval_costs_720_list_calls_a_month_while_a_run_fits_one_page(tmp_path: Path) -> None:
    settings = _settings(
        tmp_path, {"shop": {"provider": "stripe", "reconcile": {}}, "pos": {"provider": "square", "reconcile": {}}}
    )
    # 60,000 events a month over 2 sources: 30,000 each, listed twice (interval + overlap = 2 h): 83 a run,
    # one page of 100.
    [pos, shop] = reconcile_volumes(60_000, settings, item_bytes=1169)
    assert shop.runs == 720 and shop.api_calls == 720
    assert pos.api_calls == 721  # + Square's one PUT /v2/events/enable
    assert shop.events_listed == pytest.approx(30_000 * 2)
    assert shop.event_write_units == 30_000 * 2  # one conditional PutItem of a 1,169 B item (2 units) per new event
    assert shop.state_write_units == 720 + 30_000  # checkpoint per run + one seen-set item per event
    assert shop.state_read_units == 720 + 60_000 * 0.5


def test_pages_grow_with_what_one_run_lists(tmp_path: Path) -> None:
    settings = _settings(tmp_path, {"shop": {"provider": "stripe", "reconcile": {"interval_minutes": 60}}})
    [shop] = reconcile_volumes(10_000_000, settings, item_bytes=1169)
    # 10 M a month -> 27,778 events listed a run (1 h + 1 h overlap) -> 278 pages of 100
    assert shop.api_calls == 720 * 278


def test_the_lines_appear_in_the_estimate_and_scale_with_sources(tmp_path: Path) -> None:
    one = _settings(tmp_path, {"shop": {"provider": "stripe", "reconcile": {}}})
    prices = load_prices()
    lines = [line for line in estimate(10_000, 2048, one, prices=prices).lines if line.item.startswith("reconciler")]
    assert {line.service for line in lines} == {"Lambda", "DynamoDB", "Secrets Manager", "KMS", "CloudWatch",
                                                 "CloudWatch Logs", "EventBridge"}  # fmt: skip
    [cloudwatch] = [line for line in lines if line.service == "CloudWatch"]
    assert cloudwatch.usd == pytest.approx(
        (RECONCILE_ALARMS_PER_SOURCE + 1) * prices["cloudwatch_alarm_per_month"]
        + RECONCILE_METRICS_PER_SOURCE * prices["cloudwatch_custom_metric_per_month"]
    )
    [lambda_line] = [line for line in lines if line.service == "Lambda"]
    assert "720 runs" in lambda_line.item and "provider API calls: 720" in lambda_line.item


def test_page_sizes_are_the_listing_modules_own() -> None:
    _handlers_on_path()
    for provider, size in RECONCILE_PAGE_SIZES.items():
        module = importlib.import_module("reconcile_apis").load(provider)
        assert size == module.PAGE_SIZE, provider


def test_metrics_per_source_are_what_a_run_publishes() -> None:
    source = (HANDLERS / "reconciler.py").read_text()
    publish = source[source.index("def publish(") : source.index("def run(")]
    assert len(re.findall(r"add_metric\(name=", publish)) == RECONCILE_METRICS_PER_SOURCE


def test_alarms_per_source_are_the_synthesized_ones(sources_app: SynthesizedApp) -> None:
    from tests.conftest import SOURCES_ENVIRONMENT

    config = sources_app.config(f"webhook-pipeline-{SOURCES_ENVIRONMENT}")
    names = [alarm["alarm_name"] for alarm in config["resource"]["aws_cloudwatch_metric_alarm"].values()]
    reconciling = [s for s in load_settings(SOURCES_ENVIRONMENT).sources if s.reconcile is not None]
    assert reconciling
    assert len([name for name in names if "reconcil" in name]) == RECONCILE_ALARMS_PER_SOURCE * len(reconciling) + 1


def test_a_listing_beyond_the_request_budget_is_named(tmp_path: Path) -> None:
    settings = _settings(tmp_path, {"shop": {"provider": "stripe", "reconcile": {"max_requests_per_run": 200}}})
    [shop] = reconcile_volumes(10_000_000, settings, item_bytes=1169)
    assert shop.over_budget and shop.pages_per_run == 278
    lines = estimate(10_000_000, 2048, settings).lines
    [line] = [line for line in lines if line.service == "Lambda" and line.item.startswith("reconciler")]
    assert "OVER max_requests_per_run: 278 pages a run" in line.item
    [fits] = reconcile_volumes(1_000_000, settings, item_bytes=1169)
    assert not fits.over_budget


def test_each_quiet_source_watchdog_is_one_alarm(tmp_path: Path) -> None:
    settings = _settings(tmp_path, {"shop": {"provider": "checkout", "expect_events_within_minutes": 120},
                                    "pos": {"provider": "stripe"}})  # fmt: skip
    prices = load_prices()
    lines = [line for line in estimate(10_000, 2048, settings, prices=prices).lines if line.item.startswith("watchdog")]
    assert [(line.item, line.usd) for line in lines] == [
        ("watchdog: 1 quiet-source alarms (shop)", prices["cloudwatch_alarm_per_month"])
    ]


def test_a_state_level_source_lists_its_whole_lookback_every_run(tmp_path: Path) -> None:
    settings = _settings(tmp_path, {"shop": {"provider": "mollie-classic", "reconcile": {"recent_days": 0}}})
    lookback = min(90, settings.event_ttl_days - 1)
    [few] = reconcile_volumes(200, settings, item_bytes=1169)  # < 250 in a lookback: one page of each list
    assert few.api_calls == 720 * 3  # chargebacks, refunds and payments: one page each
    # 100,000 facts a month: a run lists the lookback's share, 250 a page, plus one page of each other list.
    [many] = reconcile_volumes(100_000, settings, item_bytes=1169)
    per_run = 100_000 * lookback / 30
    assert many.api_calls == 720 * (-(-per_run // 250) + 2)
    assert many.events_listed == pytest.approx(720 * per_run)
    assert many.state_read_units == pytest.approx(720 + 720 * per_run * 0.5)  # a seen-set look-up every run
    assert many.state_write_units == 720 + 100_000  # only new facts are remembered


def test_with_recent_days_one_run_a_day_lists_the_lookback_and_the_others_the_recent_days(tmp_path: Path) -> None:
    """The default (`recent_days` 3): 30 full listings a month, 690 of the last 3 days; the budget is
    checked against the full listing, the longest run."""
    settings = _settings(tmp_path, {"shop": {"provider": "mollie-classic", "reconcile": {}}})
    lookback = min(90, settings.event_ttl_days - 1)
    [few] = reconcile_volumes(200, settings, item_bytes=1169)
    assert few.api_calls == 720 * 3
    [many] = reconcile_volumes(100_000, settings, item_bytes=1169)
    full, recent = 100_000 * lookback / 30, 100_000 * 3 / 30
    assert many.events_listed == pytest.approx(30 * full + 690 * recent)
    assert many.api_calls == 30 * (-(-full // 250) + 2) + 690 * (-(-recent // 250) + 2)
    assert many.pages_per_run == -(-full // 250) + 2
    assert many.state_read_units == pytest.approx(720 + (30 * full + 690 * recent) * 0.5)
    every_run = _settings(tmp_path, {"shop": {"provider": "mollie-classic", "reconcile": {"recent_days": 0}}})
    [whole] = reconcile_volumes(100_000, every_run, item_bytes=1169)
    assert many.events_listed < whole.events_listed / 5  # the seen-set look-ups, nearly all of the cost


def test_the_reconciler_constants_are_the_functions_own() -> None:
    from modules import reconciler
    from pipeline_tools import cost_model

    assert cost_model.RECONCILER_MEMORY_MB == reconciler.RECONCILER_MEMORY_MB
    assert cost_model.RECONCILER_TIMEOUT_SECONDS == reconciler.RECONCILER_TIMEOUT_SECONDS


def test_a_budget_that_outlasts_the_function_timeout_is_named(tmp_path: Path) -> None:
    """A run stops at `max_requests_per_run`; raised past what the 300 s timeout allows (400 ms a call in the
    model), a run would be cut by Lambda instead, and the cost line says so; within it, nothing is said."""
    big = _settings(tmp_path, {"shop": {"provider": "stripe", "reconcile": {"max_requests_per_run": 5000}}})
    [line] = [ln for ln in estimate(100_000_000, 2048, big).lines if ln.item.startswith("reconciler: ") and
              ln.service == "Lambda"]  # fmt: skip
    assert "OVER the function's 300 s timeout" in line.item
    default = _settings(tmp_path, {"shop": {"provider": "stripe", "reconcile": {}}})
    [line] = [ln for ln in estimate(100_000_000, 2048, default).lines if ln.item.startswith("reconciler: ") and
              ln.service == "Lambda"]  # fmt: skip
    assert "timeout" not in line.item and "OVER max_requests_per_run" in line.item
