"""The door's API fetches in the cost model (pipeline_tools/cost_model.py `enrichment_lines`, `door_fetch_lines`)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from modules.capacity import DOOR_FETCH_TYPICAL_SECONDS
from modules.config import CONFIG_DIR, PipelineSettings, load_settings
from pipeline_tools.cost_model import ENRICH_FETCH_MS, ENRICH_MONEY_FACT_SHARE, estimate


def _settings(tmp_path: Path, sources: dict) -> PipelineSettings:
    shutil.copy(CONFIG_DIR / "default.json", tmp_path / "default.json")
    (tmp_path / "costed.json").write_text(json.dumps({"sources": sources}))
    return load_settings("costed", tmp_path)


def test_no_enriching_source_no_enrichment_line(tmp_path: Path) -> None:
    for settings in (
        load_settings("sandbox"),  # its gocardless source reconciles without enrich
        _settings(tmp_path, {"gc": {"provider": "gocardless", "reconcile": {}}}),
    ):
        result = estimate(1_000_000, 2048, settings)
        assert not [line for line in result.lines if line.item.startswith("enrichment")]


def test_one_fetch_per_money_fact_of_the_enriching_source(tmp_path: Path) -> None:
    sources = {"gc": {"provider": "gocardless", "reconcile": {}, "enrich": True}, "shop": {"provider": "stripe"}}
    result = estimate(1_000_000, 2048, _settings(tmp_path, sources))
    lines = {line.service: line for line in result.lines if line.item.startswith("enrichment")}
    calls = 1_000_000 / 2 * ENRICH_MONEY_FACT_SHARE  # the events spread evenly over the two sources
    assert f"{calls:,.0f} amount fetches at the door (gc)" in lines["Lambda"].item
    assert 0 < lines["Lambda"].usd < 1 and 0 < lines["Secrets Manager"].usd < 0.1
    assert lines["Lambda"].usd == pytest.approx(calls * 0.25 * 512 / 1024 * 0.0000133334, rel=0.05)


def test_every_delivery_of_a_door_fetching_source_is_one_fetch(tmp_path: Path) -> None:
    sources = {"mollie": {"provider": "mollie-classic"}, "shop": {"provider": "stripe"}}
    result = estimate(1_000_000, 2048, _settings(tmp_path, sources))
    lines = {line.service: line for line in result.lines if line.item.startswith("door fetch")}
    fetches = 1_000_000 / 2  # the events spread evenly over the two sources; every delivery fetches
    assert f"{fetches:,.0f} deliveries fetched from the provider's API (mollie)" in lines["Lambda"].item
    assert lines["Lambda"].usd == pytest.approx(fetches * DOOR_FETCH_TYPICAL_SECONDS * 512 / 1024 * 0.0000133334)
    assert "Secrets Manager" not in lines  # the API key is in the source's secret: its reads are counted once
    [secrets] = [line for line in result.lines if line.service == "Secrets Manager"]
    assert secrets.item.startswith("3 signing secrets")  # the standard one, mollie's and shop's
    assert ENRICH_FETCH_MS == DOOR_FETCH_TYPICAL_SECONDS * 1000  # one assumption for both models
    plain = estimate(1_000_000, 2048, _settings(tmp_path, {"shop": {"provider": "stripe"}}))
    assert not [line for line in plain.lines if line.item.startswith("door fetch")]


def test_the_custom_metrics_are_every_name_under_every_dimension_set_the_functions_publish(tmp_path: Path) -> None:
    import re

    from modules.reasons import REASONS
    from pipeline_tools.cost_model import (
        DOOR_FETCH_METRICS,
        ENRICH_METRICS,
        ROUTER_METRICS,
        VALIDATOR_METRICS,
        custom_metric_count,
    )

    handlers = Path(__file__).resolve().parents[2] / "handlers"
    published = set()
    for name in ("validator.py", "router.py"):
        text = (handlers / name).read_text()
        published |= set(re.findall(r'add_metric\(name="(\w+)"', text))
        published |= set(re.findall(r'"(\w+)" if \w+ else "(\w+)"', text)[0]) if name == "validator.py" else set()
    published |= {"Accepted", "Duplicate", "Conflict", "StoreFailed"}  # validator.py _OUTCOME_METRICS
    assert published == {*VALIDATOR_METRICS, *DOOR_FETCH_METRICS, *ENRICH_METRICS, *ROUTER_METRICS}
    common = len(VALIDATOR_METRICS) + len(REASONS)
    none = _settings(tmp_path, {})
    assert custom_metric_count(none) == common + len(ROUTER_METRICS)
    sources = {"mollie": {"provider": "mollie-classic"}, "shop": {"provider": "stripe"}}
    # (service) once, (service, source) per source; the fetch names under (service) and mollie's set
    assert custom_metric_count(_settings(tmp_path, sources)) == 3 * common + 2 * len(DOOR_FETCH_METRICS) + len(
        ROUTER_METRICS
    )
    result = estimate(1_000_000, 2048, _settings(tmp_path, sources))
    assert any(f"{3 * common + 6 + 5} custom metrics" in line.item for line in result.lines)
