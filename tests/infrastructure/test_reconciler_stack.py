"""The stack with reconciling sources: function, schedules, state table, API secrets, grants, alarms, outputs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from modules.sources_config import parse_sources
from tests.conftest import PIPELINE
from tests.infrastructure.assertions import by_name, policy_statements, resources
from tests.infrastructure.synth import SynthesizedApp, synthesize

pytestmark = pytest.mark.synth
ENV = "test"
SOURCES = {
    "shop": {"provider": "stripe", "reconcile": {"interval_minutes": 30}, "expect_events_within_minutes": 120},
    "billing": {"provider": "paddle", "reconcile": {}, "type_map": {"subscription.created": "payment"}},
    "pos": {
        "provider": "square",
        "reconcile": {"window_days": 7},
        "api_base_url": "https://connect.squareupsandbox.com",
    },
    "dd": {"provider": "gocardless"},  # not reconciled
}
RECONCILING = ("billing", "pos", "shop")


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, build_dir: Path) -> dict[str, Any]:
    app: SynthesizedApp = synthesize(
        ENV,
        tmp_path_factory.mktemp("synth-reconcile"),
        build_dir,
        sources=parse_sources(SOURCES, "t"),
        event_ttl_days=35,
    )
    return app.config(PIPELINE)


def reconciler(stack: dict[str, Any]) -> dict[str, Any]:
    return by_name(stack, "aws_lambda_function", "function_name")[f"webhook-reconciler-{ENV}"]


def test_the_function_reads_its_sources_from_one_environment_variable(stack: dict[str, Any]) -> None:
    function = reconciler(stack)
    assert function["handler"] == "reconciler.handler" and function["timeout"] == 300
    variables = function["environment"]["variables"]
    entries = json.loads(variables["RECONCILE_SOURCES"])
    assert sorted(entries) == list(RECONCILING)
    assert (
        entries["pos"]["api_base_url"] == "https://connect.squareupsandbox.com" and entries["pos"]["window_days"] == 7
    )
    assert entries["billing"]["type_map"] == {"subscription.created": "payment"}
    assert entries["shop"]["api_base_url"] == "https://api.stripe.com"
    assert variables["RECONCILER_STATE_TABLE"].startswith("${aws_dynamodb_table.")
    assert variables["EVENT_TTL_DAYS"] == "35"


def test_one_schedule_per_reconciling_source_with_its_input(stack: dict[str, Any]) -> None:
    rules = by_name(stack, "aws_cloudwatch_event_rule")
    assert sorted(rules) == sorted(f"webhook-reconcile-{n}-{ENV}" for n in RECONCILING)
    assert rules[f"webhook-reconcile-shop-{ENV}"]["schedule_expression"] == "rate(30 minutes)"
    assert rules[f"webhook-reconcile-billing-{ENV}"]["schedule_expression"] == "rate(60 minutes)"
    inputs = sorted(json.loads(t["input"])["source"] for t in resources(stack, "aws_cloudwatch_event_target"))
    assert inputs == sorted(RECONCILING)
    permissions = [p for p in resources(stack, "aws_lambda_permission") if p["principal"] == "events.amazonaws.com"]
    assert len(permissions) == len(RECONCILING)


def test_state_table_and_api_secrets_use_the_cmk(stack: dict[str, Any]) -> None:
    table = by_name(stack, "aws_dynamodb_table")[f"webhook-reconciler-state-{ENV}"]
    assert table["hash_key"] == "pk" and table["ttl"] == {"attribute_name": "ttl", "enabled": True}
    assert (
        table["server_side_encryption"]["enabled"] and "aws_kms_key" in table["server_side_encryption"]["kms_key_arn"]
    )
    assert table["point_in_time_recovery"] == {"enabled": True}
    secrets = by_name(stack, "aws_secretsmanager_secret")
    for name in RECONCILING:
        secret = secrets[f"webhook-source-{name}-api-{ENV}"]
        assert "aws_kms_key" in secret["kms_key_id"]
    assert f"webhook-source-dd-api-{ENV}" not in secrets
    assert not resources(stack, "aws_secretsmanager_secret_version")  # containers only


def test_least_privilege(stack: dict[str, Any]) -> None:
    statements = {s["sid"]: s for _, s in policy_statements(stack) if s.get("sid")}
    assert statements["StoreMissingEventsOnce"]["actions"] == ["dynamodb:PutItem"]
    (table_arn,) = statements["StoreMissingEventsOnce"]["resources"]
    assert "events-table" in table_arn
    assert sorted(statements["KeepCheckpointsAndSeenSet"]["actions"]) == [
        "dynamodb:BatchGetItem", "dynamodb:BatchWriteItem", "dynamodb:GetItem", "dynamodb:UpdateItem",
    ]  # fmt: skip
    assert len(statements["ReadApiKeys"]["resources"]) == len(RECONCILING)
    # The events table's resource policy lets the reconciler's role write, and no one else but the validator's.
    writers = [
        s
        for document, s in policy_statements(stack)
        if s.get("sid") == "OnlyTheValidatorWrites" and "events-table" in document
    ]  # fmt: skip (the quarantine table has its own, without the reconciler)
    (deny,) = writers
    roles = deny["condition"][0]["values"]
    assert any(r.endswith(f":role/webhook-reconciler-role-{ENV}") for r in roles)
    assert any(r.endswith(f":role/webhook-validator-role-{ENV}") for r in roles) and len(roles) == 2


def test_alarms_per_reconciling_source_and_the_quiet_watchdog(stack: dict[str, Any]) -> None:
    alarms = by_name(stack, "aws_cloudwatch_metric_alarm", "alarm_name")
    for name in RECONCILING:
        missing = alarms[f"source-{name}-reconciled-missing-{ENV}"]
        assert missing["metric_name"] == "ReconciledMissing" and missing["dimensions"]["source"] == name
        assert missing["dimensions"]["service"] == f"webhook-reconciler-{ENV}"
        for suffix in ("reconcile-failed", "reconcile-gap", "reconcile-refused"):
            assert f"source-{name}-{suffix}-{ENV}" in alarms
    assert f"webhook-reconciler-errors-{ENV}" in alarms
    quiet = alarms[f"source-shop-quiet-{ENV}"]
    assert quiet["metric_name"] == "Accepted" and quiet["treat_missing_data"] == "breaching"
    assert quiet["comparison_operator"] == "LessThanThreshold" and quiet["period"] * quiet["evaluation_periods"] == 7200
    assert quiet["dimensions"] == {"service": f"webhook-validator-{ENV}", "source": "shop"}
    assert not [a for a in alarms if a.startswith("source-dd-quiet")]  # off by default


def test_dashboard_has_the_reconciliation_widget(stack: dict[str, Any]) -> None:
    (dashboard,) = resources(stack, "aws_cloudwatch_dashboard")
    body = json.loads(dashboard["dashboard_body"])
    (widget,) = [w for w in body["widgets"] if w["properties"].get("title", "").startswith("Reconciliation")]
    lines = widget["properties"]["metrics"]
    assert {line[1] for line in lines} >= {"ReconciledMissing", "ReconcileFailed", "ReconcileGap"}
    assert {line[5] for line in lines} == set(RECONCILING)


def test_outputs(stack: dict[str, Any]) -> None:
    outputs = stack["output"]
    assert set(outputs["source_api_secret_arns"]["value"]) == set(RECONCILING)
    assert "reconciler_lambda_arn" in outputs and "reconciler_state_table_name" in outputs
