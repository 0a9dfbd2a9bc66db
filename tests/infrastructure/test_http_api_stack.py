"""`front_door: "http_api"` (modules/http_api.py, docs/FRONT-DOOR.md): the HTTP API in place of the REST
API, and the settings that refuse what an HTTP API cannot do."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from modules.capacity import plan_capacity
from modules.config import CONFIG_DIR, ConfigError, load_settings
from modules.http_api import ACCESS_LOG_FORMAT, route_keys
from tests.conftest import HTTP_API_ENVIRONMENT, fixture_config_dir
from tests.infrastructure.assertions import by_name, resources
from tests.infrastructure.synth import SynthesizedApp

pytestmark = pytest.mark.synth
ENV = HTTP_API_ENVIRONMENT
STACK = f"webhook-pipeline-{ENV}"


@pytest.fixture(scope="module")
def stack(http_api_app: SynthesizedApp) -> dict[str, Any]:
    return http_api_app.config(STACK)


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Any:
    config_dir = fixture_config_dir(ENV, tmp_path_factory.mktemp("config"))
    return load_settings(ENV, config_dir)


def _only(config: dict[str, Any], resource_type: str) -> tuple[str, dict[str, Any]]:
    [(logical_id, block)] = config["resource"][resource_type].items()
    return logical_id, block


def test_no_rest_api_waf_or_stage_sampling_rule_is_built(stack: dict[str, Any]) -> None:
    built = set(stack["resource"])
    assert not {kind for kind in built if kind.startswith("aws_api_gateway_")}
    assert not {kind for kind in built if kind.startswith("aws_wafv2")}
    assert "aws_xray_sampling_rule" not in built  # HTTP APIs record no trace; the rule would match nothing


def test_the_api_is_an_http_api_named_with_the_environment(stack: dict[str, Any]) -> None:
    _, api = _only(stack, "aws_apigatewayv2_api")
    assert api["protocol_type"] == "HTTP" and api["name"] == f"webhook-api-{ENV}"


def test_one_proxy_integration_to_the_validator_with_payload_1_0(stack: dict[str, Any]) -> None:
    _, integration = _only(stack, "aws_apigatewayv2_integration")
    [validator_id] = [
        k
        for k, v in stack["resource"]["aws_lambda_function"].items()
        if v["function_name"] == f"webhook-validator-{ENV}"
    ]
    assert integration["integration_type"] == "AWS_PROXY"
    assert integration["payload_format_version"] == "1.0"
    assert integration["integration_uri"] == f"${{aws_lambda_function.{validator_id}.invoke_arn}}"


def test_routes_are_the_paths_the_rest_api_serves(
    stack: dict[str, Any], http_api_app: SynthesizedApp, build_dir: Path, tmp_path: Path
) -> None:
    """The same fixture synthesized with the REST front door: every POST resource it serves is a route here."""
    from tests.infrastructure.synth import synthesize

    config_dir = fixture_config_dir(ENV, tmp_path / "config")
    rest = synthesize(ENV, tmp_path / "rest", build_dir, config_dir=config_dir, front_door="rest").config(STACK)
    paths = {block["path_part"] for block in resources(rest, "aws_api_gateway_resource")}
    served = {"POST /webhook", *(f"POST /webhook/{part}" for part in paths - {"webhook"})}
    routes = {block["route_key"] for block in resources(stack, "aws_apigatewayv2_route")}
    assert routes == served == set(route_keys(["adyen", "square", "stripe", "svix"]))
    integration_id, _ = _only(stack, "aws_apigatewayv2_integration")
    for route in resources(stack, "aws_apigatewayv2_route"):
        assert route["target"] == f"integrations/${{aws_apigatewayv2_integration.{integration_id}.id}}"
        assert route["authorization_type"] == "NONE"  # the provider's signature, checked by the validator


def test_default_stage_auto_deploys_throttles_from_the_capacity_plan_and_logs_to_the_cmk_group(
    stack: dict[str, Any], settings: Any
) -> None:
    _, stage = _only(stack, "aws_apigatewayv2_stage")
    plan = plan_capacity(settings)
    assert stage["name"] == "$default" and stage["auto_deploy"] is True
    assert stage["default_route_settings"]["throttling_rate_limit"] == plan.api_rate_limit
    assert stage["default_route_settings"]["throttling_burst_limit"] == plan.api_burst_limit
    groups = {k: v for k, v in stack["resource"]["aws_cloudwatch_log_group"].items()}
    log_id = re.fullmatch(r"\$\{aws_cloudwatch_log_group\.(.+)\.arn\}", stage["access_log_settings"]["destination_arn"])
    assert log_id, stage["access_log_settings"]
    group = groups[log_id.group(1)]
    assert group["name"] == f"/aws/apigateway/webhook-api-{ENV}"
    assert group["kms_key_id"].startswith("${aws_kms_key.")
    assert stage["access_log_settings"]["format"] == ACCESS_LOG_FORMAT
    assert "body" not in ACCESS_LOG_FORMAT.lower()  # never payment data in access logs


def test_the_key_policy_lets_logs_encrypt_the_access_log_group(stack: dict[str, Any]) -> None:
    text = json.dumps(stack["data"]["aws_iam_policy_document"])
    assert f"/aws/apigateway/webhook-api-{ENV}" in text


def test_lambda_permissions_are_scoped_to_this_apis_execution_arn(stack: dict[str, Any]) -> None:
    api_id, _ = _only(stack, "aws_apigatewayv2_api")
    arns = sorted(
        block["source_arn"]
        for block in resources(stack, "aws_lambda_permission")
        if block["principal"] == "apigateway.amazonaws.com"
    )
    execution = f"${{aws_apigatewayv2_api.{api_id}.execution_arn}}"
    assert arns == [f"{execution}/*/POST/webhook", f"{execution}/*/POST/webhook/*"]


def test_the_5xx_alarm_reads_the_http_apis_metric_by_api_id_and_stage(stack: dict[str, Any]) -> None:
    api_id, _ = _only(stack, "aws_apigatewayv2_api")
    stage_id, _ = _only(stack, "aws_apigatewayv2_stage")
    alarm = by_name(stack, "aws_cloudwatch_metric_alarm", "alarm_name")[f"webhook-api-5xx-{ENV}"]
    assert alarm["namespace"] == "AWS/ApiGateway" and alarm["metric_name"] == "5xx"
    assert alarm["dimensions"] == {
        "ApiId": f"${{aws_apigatewayv2_api.{api_id}.id}}",
        "Stage": f"${{aws_apigatewayv2_stage.{stage_id}.name}}",
    }


def test_endpoints_have_no_stage_in_the_path(stack: dict[str, Any]) -> None:
    api_id, _ = _only(stack, "aws_apigatewayv2_api")
    base = f"${{aws_apigatewayv2_api.{api_id}.api_endpoint}}/webhook"
    assert stack["output"]["api_endpoint"]["value"] == base
    assert stack["output"]["source_endpoints"]["value"]["square"] == f"{base}/square"


def test_every_named_resource_carries_the_environment_suffix(stack: dict[str, Any]) -> None:
    """Every literal name in the stack holds the suffix, so two environments share an account; the one
    fixed name is the HTTP API's `$default` stage (a stage of this environment's own API)."""
    unsuffixed = [
        (kind, key, value)
        for kind, blocks in stack["resource"].items()
        for block in blocks.values()
        for key in ("name", "function_name", "alarm_name", "rule_name")
        if isinstance(value := block.get(key), str) and "${" not in value and ENV not in value
    ]
    assert unsuffixed == [("aws_apigatewayv2_stage", "name", "$default")]


def _config(tmp_path: Path, override: dict[str, Any]) -> Path:
    (tmp_path / "default.json").write_text((CONFIG_DIR / "default.json").read_text())
    (tmp_path / "fd.json").write_text(json.dumps(override))
    return tmp_path


def test_http_api_with_waf_is_refused_saying_why(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as error:
        load_settings("fd", _config(tmp_path, {"front_door": "http_api", "waf_enabled": True}))
    message = str(error.value)
    assert "'front_door' = 'http_api' cannot have 'waf_enabled'" in message
    assert "AWS WAF protects REST API stages, not HTTP APIs" in message
    assert str(tmp_path / "fd.json") in message


def test_an_unknown_front_door_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="'front_door' must be one of"):
        load_settings("fd", _config(tmp_path, {"front_door": "alb"}))


def test_rest_stays_the_default_of_every_environment() -> None:
    for path in sorted(CONFIG_DIR.glob("*.json")):
        if path.stem != "default":
            assert load_settings(path.stem).front_door == "rest", path


def test_the_capacity_model_names_the_http_api_route_throttle(settings: Any) -> None:
    plan = plan_capacity(settings)
    assert plan.stages[0].name == "API Gateway HTTP API route throttle"
    assert "per route" in plan.stages[0].limit
    assert not any(stage.name.startswith("WAF") for stage in plan.stages)


def test_the_plan_review_has_a_rule_for_every_type_of_the_http_api_stack(stack: dict[str, Any]) -> None:
    from pipeline_tools.review.plan_rules import ACCESS_ATTRIBUTE_PATTERN, has_rule

    assert [kind for kind in stack["resource"] if kind.startswith("aws_apigatewayv2") and not has_rule(kind)] == []
    assert ACCESS_ATTRIBUTE_PATTERN.search("authorization_type")  # a route opened or closed is shown
