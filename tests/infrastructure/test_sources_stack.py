"""The stack with one source of every provider: routes, secrets, the validator's SOURCES, alarms, outputs."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from modules.queues import MAX_MESSAGE_BYTES
from modules.sources_config import SIGNATURE_HEADERS, parse_sources
from tests.conftest import PIPELINE
from tests.infrastructure.alarm_math import in_alarm
from tests.infrastructure.assertions import by_name, policy_statements, resources
from tests.infrastructure.synth import SynthesizedApp, synthesize

pytestmark = pytest.mark.synth
ENV = "test"
ALL_SOURCES = {
    "stripe": {"provider": "stripe", "tolerance_seconds": 600},
    "adyen": {"provider": "adyen"},
    "square": {"provider": "square", "notification_url": "https://hooks.example.com/square"},
    "checkout": {"provider": "checkout"},
    "razorpay": {"provider": "razorpay"},
    "paddle": {"provider": "paddle"},
    "gocardless": {"provider": "gocardless"},
    "braintree": {"provider": "braintree", "public_key": "test_public_key"},
    "mollie": {"provider": "mollie", "route_unmapped": False},
    "mollie-classic": {"provider": "mollie-classic"},
    "svix": {
        "provider": "standard-webhooks",
        "amount_field": "data.amount",
        "type_map": {"payment.succeeded": "payment"},
    },
}


@pytest.fixture(scope="module")
def sources_app(tmp_path_factory: pytest.TempPathFactory, build_dir: Path) -> SynthesizedApp:
    sources = parse_sources(ALL_SOURCES, "test")
    return synthesize(ENV, tmp_path_factory.mktemp("synth-sources"), build_dir, sources=sources, event_ttl_days=35)


@pytest.fixture(scope="module")
def stack(sources_app: SynthesizedApp) -> dict[str, Any]:
    return sources_app.config(PIPELINE)


def validator_environment(stack: dict[str, Any]) -> dict[str, str]:
    return by_name(stack, "aws_lambda_function", "function_name")[f"webhook-validator-{ENV}"]["environment"][
        "variables"
    ]


def test_each_source_has_its_route_proxied_to_the_validator_without_a_body_model(stack: dict[str, Any]) -> None:
    paths = {r["path_part"]: r for r in resources(stack, "aws_api_gateway_resource")}
    assert set(paths) == {"webhook", *ALL_SOURCES}
    for name in ALL_SOURCES:
        assert paths[name]["parent_id"].endswith("webhook-resource_1A9969C6.id}")
    methods = [m for m in resources(stack, "aws_api_gateway_method") if "source-" in m["resource_id"]]
    assert len(methods) == len(ALL_SOURCES)
    for method in methods:
        assert method["http_method"] == "POST" and "request_models" not in method
    integrations = [i for i in resources(stack, "aws_api_gateway_integration") if "source-" in i["resource_id"]]
    assert len(integrations) == len(ALL_SOURCES)
    assert {i["type"] for i in integrations} == {"AWS_PROXY"}
    assert {i["uri"] for i in integrations} == {"${aws_lambda_function.validator_function_0B08975D.invoke_arn}"}


def test_signature_headers_are_required_where_the_provider_has_one(stack: dict[str, Any]) -> None:
    required: dict[str, list[str]] = {}
    for method in resources(stack, "aws_api_gateway_method"):
        match = re.search(r"source-([a-z0-9-]+)-resource", method["resource_id"])
        if match:
            required[match.group(1)] = sorted(method.get("request_parameters", {}))
    for name, entry in ALL_SOURCES.items():
        header = SIGNATURE_HEADERS[entry["provider"]]
        assert required[name] == ([f"method.request.header.{header}"] if header else [])
    [response] = [
        r
        for r in resources(stack, "aws_api_gateway_gateway_response")
        if r["response_type"] == "BAD_REQUEST_PARAMETERS"
    ]
    assert response["status_code"] == "401"


def test_each_source_has_its_own_secret_container_on_the_cmk_and_no_value(
    stack: dict[str, Any], sources_app: SynthesizedApp
) -> None:
    secrets = by_name(stack, "aws_secretsmanager_secret")
    for name in ALL_SOURCES:
        secret = secrets[f"webhook-source-{name}-{ENV}"]
        assert secret["kms_key_id"].startswith("${aws_kms_key.")
    assert "aws_secretsmanager_secret_version" not in stack.get("resource", {})
    text = sources_app.stack_file(PIPELINE).read_text()
    assert "whsec_" not in text and "test_private_key" not in text


def test_the_validator_knows_every_source_and_may_read_only_their_secrets(stack: dict[str, Any]) -> None:
    configured = json.loads(validator_environment(stack)["SOURCES"])
    assert set(configured) == set(ALL_SOURCES)
    for name, entry in ALL_SOURCES.items():
        assert configured[name]["provider"] == entry["provider"]
        assert re.fullmatch(r"\$\{aws_secretsmanager_secret\.source-[a-z0-9-]+_signing-secret_[0-9A-F]+\.arn\}",
                            configured[name]["secret_arn"])  # fmt: skip
    assert configured["braintree"]["public_key"] == "test_public_key"
    assert configured["mollie"]["route_unmapped"] is False
    assert configured["svix"]["type_map"] == {"payment.succeeded": "payment"}
    [read] = [s for _, s in policy_statements(stack) if s.get("sid") == "ReadSigningSecret"]
    assert read["actions"] == ["secretsmanager:GetSecretValue"]
    assert len(read["resources"]) == 1 + len(ALL_SOURCES)
    assert all(r.startswith("${aws_secretsmanager_secret.") for r in read["resources"])


def test_api_gateway_may_invoke_the_validator_for_the_source_routes(stack: dict[str, Any]) -> None:
    arns = {p["source_arn"] for p in resources(stack, "aws_lambda_permission")}
    assert any(arn.endswith("/*/POST/webhook/*") for arn in arns)
    assert any(arn.endswith("/*/POST/webhook") for arn in arns)


def test_a_signature_refusal_alarm_per_source(stack: dict[str, Any]) -> None:
    alarms = by_name(stack, "aws_cloudwatch_metric_alarm", "alarm_name")
    for name in ALL_SOURCES:
        alarm = alarms[f"source-{name}-signature-refusals-{ENV}"]
        metrics = {q["metric"]["metric_name"]: q["metric"] for q in alarm["metric_query"] if q.get("metric")}
        assert set(metrics) == {"SignatureRejected", "SignatureVerified"}
        assert all(m["dimensions"] == {"service": f"webhook-validator-{ENV}", "source": name} for m in metrics.values())


def test_a_fetching_source_alarms_when_the_api_refuses_its_key(stack: dict[str, Any]) -> None:
    alarms = by_name(stack, "aws_cloudwatch_metric_alarm", "alarm_name")
    alarm = alarms[f"source-mollie-classic-fetch-credential-refused-{ENV}"]
    assert (alarm["metric_name"], alarm["threshold"], alarm["comparison_operator"]) == (
        "FetchCredentialRefused", 0, "GreaterThanThreshold",
    )  # fmt: skip
    assert alarm["dimensions"] == {"service": f"webhook-validator-{ENV}", "source": "mollie-classic"}
    assert not any("fetch-credential-refused" in name and "mollie-classic" not in name for name in alarms)


# --- the alarm's own metric math on synthetic traffic (tests/infrastructure/alarm_math.py) ----------

MINUTES = 180


def _signature_alarm(stack: dict[str, Any]) -> dict[str, Any]:
    return by_name(stack, "aws_cloudwatch_metric_alarm", "alarm_name")[f"source-stripe-signature-refusals-{ENV}"]


def _attempts(gaps: list[int]) -> list[int]:
    """Minutes at which genuine deliveries arrive: minute 0, then after each gap (the gaps repeat)."""
    minutes, at, index = [0], 0, 0
    while (at := at + gaps[index % len(gaps)]) < MINUTES:
        minutes.append(at)
        index += 1
    return minutes


def _series(genuine: list[int], junk: list[int], *, broken_from: int | None = None) -> dict[str, list[float | None]]:
    refused: list[float | None] = [float(n) if n else None for n in junk]
    verified: list[float | None] = [None] * MINUTES
    for minute in genuine:
        if broken_from is not None and minute >= broken_from:
            refused[minute] = (refused[minute] or 0) + 1
        else:
            verified[minute] = (verified[minute] or 0) + 1
    return {"SignatureRejected": refused, "SignatureVerified": verified}


GAPS = st.lists(st.integers(min_value=1, max_value=15), min_size=1, max_size=MINUTES)
JUNK = st.lists(st.integers(min_value=0, max_value=10_000), min_size=MINUTES, max_size=MINUTES)


@settings(max_examples=60, deadline=None)
@given(gaps=GAPS, junk=JUNK)
def test_junk_alone_cannot_hold_the_signature_alarm_while_genuine_deliveries_verify(
    stack: dict[str, Any], gaps: list[int], junk: list[int]
) -> None:
    """Any amount of unsigned traffic, with a genuine delivery verified at least every 15 minutes: never ALARM.
    (The old alarm, SignatureRejected > 5 per 5 minutes, was held by six junk requests.)"""
    alarm, genuine = _signature_alarm(stack), _attempts(gaps)
    series = _series(genuine, junk)
    assert not any(in_alarm(alarm, series, minute) for minute in range(MINUTES))


@settings(max_examples=60, deadline=None)
@given(gaps=GAPS, junk=JUNK, broken_from=st.integers(min_value=1, max_value=MINUTES - 16))
def test_a_misconfiguration_raises_the_signature_alarm_within_15_minutes(
    stack: dict[str, Any], gaps: list[int], junk: list[int], broken_from: int
) -> None:
    """From `broken_from` on every genuine delivery is refused (a secret rotated on one side, a wrong Square
    URL): ALARM at the latest 15 minutes later, with or without junk on top."""
    alarm, genuine = _signature_alarm(stack), _attempts(gaps)
    series = _series(genuine, junk, broken_from=broken_from)
    raised = [minute for minute in range(broken_from, MINUTES) if in_alarm(alarm, series, minute)]
    assert raised and raised[0] <= broken_from + 15


def test_the_quarantine_alarm_fires_on_one_kept_delivery(stack: dict[str, Any]) -> None:
    alarm = by_name(stack, "aws_cloudwatch_metric_alarm", "alarm_name")[f"verified-deliveries-quarantined-{ENV}"]
    assert alarm["dimensions"] == {"service": f"webhook-validator-{ENV}"}
    quiet = {"Quarantined": [None] * 30}
    assert not any(in_alarm(alarm, quiet, minute) for minute in range(30))
    one = {"Quarantined": [None] * 10 + [1.0] + [None] * 19}
    assert in_alarm(alarm, one, 10) and in_alarm(alarm, one, 14) and not in_alarm(alarm, one, 15)


def test_outputs_name_each_source_endpoint_and_secret(stack: dict[str, Any]) -> None:
    endpoints = stack["output"]["source_endpoints"]["value"]
    assert {name: url.rsplit("}", 1)[1] for name, url in endpoints.items()} == {n: f"/webhook/{n}" for n in ALL_SOURCES}
    assert set(stack["output"]["source_secret_arns"]["value"]) == set(ALL_SOURCES)


def test_stage_redeploys_when_a_source_route_changes(stack: dict[str, Any]) -> None:
    [deployment] = resources(stack, "aws_api_gateway_deployment")
    definition = deployment["triggers"]["definition"]
    for name in ALL_SOURCES:
        assert f"source-{name}-post-method" in definition and f"source-{name}-integration" in definition


def test_queues_and_the_validator_agree_on_the_maximum_message_size(stack: dict[str, Any]) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "handlers"))
    try:
        import routed_message
    finally:
        sys.path.pop(0)
    assert routed_message.MAX_MESSAGE_BYTES == MAX_MESSAGE_BYTES
    assert {q["max_message_size"] for q in resources(stack, "aws_sqs_queue")} == {MAX_MESSAGE_BYTES}


def test_the_previous_signature_alarm_was_held_by_six_junk_requests() -> None:
    """Regression evidence: the design this replaces (SignatureRejected Sum > 5 per 5 minutes) fails the
    property above: six unsigned requests per 5 minutes keep it in ALARM although genuine deliveries verify."""
    previous = {"metric_name": "SignatureRejected", "period": 300, "threshold": 5, "evaluation_periods": 1,
                "comparison_operator": "GreaterThanThreshold", "treat_missing_data": "notBreaching"}  # fmt: skip
    series = _series(_attempts([1]), [6 if minute % 5 == 0 else 0 for minute in range(MINUTES)])
    assert all(in_alarm(previous, series, minute) for minute in range(MINUTES))
