"""The stack with one source of every provider: routes, secrets, the validator's SOURCES, alarms, outputs."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import pytest

from modules.queues import MAX_MESSAGE_BYTES
from modules.sources_config import SIGNATURE_HEADERS, parse_sources
from tests.conftest import PIPELINE
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
        assert alarm["metric_name"] == "SignatureRejected"
        assert alarm["dimensions"] == {"service": f"webhook-validator-{ENV}", "source": name}


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
