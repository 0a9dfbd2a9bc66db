"""The configuration checkov scans as "sources" (terraform-state-config/sandbox.json) holds the reconciler,
so its function, schedules, API-key secrets and role are analysed like the rest (issue 19)."""

from __future__ import annotations

import pytest

from modules.config import load_settings
from tests.conftest import SOURCES_ENVIRONMENT
from tests.infrastructure.synth import SynthesizedApp

pytestmark = pytest.mark.static


def test_the_scanned_sources_configuration_holds_every_reconciler_resource(sources_app: SynthesizedApp) -> None:
    env = SOURCES_ENVIRONMENT
    reconciling = sorted(s.name for s in load_settings(env).sources if s.reconcile is not None)
    assert reconciling == ["gocardless", "mollie-classic", "paddle", "square", "stripe"]
    resources = sources_app.config(f"webhook-pipeline-{env}")["resource"]

    def names(resource_type: str, key: str = "name") -> set[str]:
        return {block.get(key) for block in resources.get(resource_type, {}).values()}

    assert f"webhook-reconciler-{env}" in names("aws_lambda_function", "function_name")
    assert f"webhook-reconciler-role-{env}" in names("aws_iam_role")
    assert f"webhook-reconciler-state-{env}" in names("aws_dynamodb_table")
    assert {f"webhook-reconcile-{n}-{env}" for n in reconciling} <= names("aws_cloudwatch_event_rule")
    assert {f"webhook-source-{n}-api-{env}" for n in reconciling} <= names("aws_secretsmanager_secret")
    targets = resources["aws_cloudwatch_event_target"].values()
    assert sorted(target["input"] for target in targets) == [f'{{"source":"{n}"}}' for n in reconciling]
