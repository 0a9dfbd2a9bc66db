"""The door's amount fetches in the cost model (pipeline_tools/cost_model.py `enrichment_lines`)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from modules.config import CONFIG_DIR, PipelineSettings, load_settings
from pipeline_tools.cost_model import ENRICH_MONEY_FACT_SHARE, estimate


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
