"""`"enrich": true` on a GoCardless source: checked at synth, the door's settings in `SOURCES`, the
validator's read of that source's API key only, and nothing at all for sources without it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from modules.sources_config import SourceConfigError, parse_sources, sources_environment
from tests.conftest import PIPELINE
from tests.infrastructure.assertions import by_name, policy_statements
from tests.infrastructure.synth import SynthesizedApp, synthesize

ENV = "test"
SOURCES = {
    "gc": {"provider": "gocardless", "reconcile": {}, "enrich": True},
    "gc-plain": {"provider": "gocardless", "reconcile": {}, "enrich": False},
    "dd": {"provider": "gocardless"},
}


@pytest.mark.parametrize(
    ("sources", "message"),
    [
        (
            {"s": {"provider": "gocardless", "enrich": True}},
            "'sources.s.enrich' needs 'sources.s.reconcile': the enrichment fetches with the read-only API key "
            'secret that reconcile creates; add "reconcile": {} to sources.s',
        ),
        ({"s": {"provider": "gocardless", "reconcile": {}, "enrich": "yes"}}, "'sources.s.enrich' = 'yes' must be"),
        ({"s": {"provider": "stripe", "reconcile": {}, "enrich": True}}, "'sources.s.enrich' is not an option of"),
    ],
)
def test_bad_enrich_settings_are_refused_naming_the_key(sources: Any, message: str) -> None:
    with pytest.raises(SourceConfigError, match=r"^f\.json: ") as error:
        parse_sources(sources, "f.json")
    assert message in str(error.value)


def test_only_an_enriching_source_gets_the_doors_api_settings() -> None:
    sources = parse_sources(SOURCES, "f")
    text = sources_environment(sources, {n: f"arn:{n}" for n in SOURCES}, {"gc": "webhook-source-gc-api-x"})
    entries = json.loads(text)
    assert entries["gc"]["enrich"] == {
        "api_secret": "webhook-source-gc-api-x",
        "api_base_url": "https://api.gocardless.com",
    }
    # `false` and absent write the bytes they always did: no key at all.
    assert entries["gc-plain"] == {"provider": "gocardless", "secret_arn": "arn:gc-plain"}
    assert entries["dd"] == {"provider": "gocardless", "secret_arn": "arn:dd"}
    without = parse_sources({"dd": SOURCES["dd"]}, "f")
    assert sources_environment(without, {"dd": "arn:dd"}) == '{"dd":{"provider":"gocardless","secret_arn":"arn:dd"}}'


@pytest.mark.synth
def test_the_validator_reads_the_enriching_sources_api_key_and_nothing_more(
    tmp_path_factory: pytest.TempPathFactory, build_dir: Path
) -> None:
    app: SynthesizedApp = synthesize(
        ENV, tmp_path_factory.mktemp("synth-enrich"), build_dir, sources=parse_sources(SOURCES, "t"), event_ttl_days=35
    )
    stack = app.config(PIPELINE)
    functions = by_name(stack, "aws_lambda_function", "function_name")
    entries = json.loads(functions[f"webhook-validator-{ENV}"]["environment"]["variables"]["SOURCES"])
    assert entries["gc"]["enrich"]["api_secret"] == f"webhook-source-gc-api-{ENV}"
    assert "enrich" not in entries["gc-plain"] and "enrich" not in entries["dd"]
    reconcile = json.loads(functions[f"webhook-reconciler-{ENV}"]["environment"]["variables"]["RECONCILE_SOURCES"])
    assert reconcile["gc"]["enrich"] is True and "enrich" not in reconcile["gc-plain"]
    statements = {s["sid"]: s for _, s in policy_statements(stack) if s.get("sid")}
    grant = statements["ReadApiKeysForAmounts"]
    assert grant["actions"] == ["secretsmanager:GetSecretValue"]
    (arn,) = grant["resources"]  # the one enriching source's key, by name and the 6-character suffix
    assert arn.endswith(f":secret:webhook-source-gc-api-{ENV}-??????") and ":secretsmanager:" in arn
