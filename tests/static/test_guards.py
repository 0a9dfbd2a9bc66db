"""Guard tests over every synthesized stack, and proof that each guard catches what it guards against."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tests.conftest import ENVIRONMENT, PIPELINE, SOURCES_ENVIRONMENT
from tests.infrastructure.synth import SynthesizedApp
from tests.static.guards import encryption_violations, logging_violations, suffix_violations

pytestmark = pytest.mark.static

STACKS = [
    ("app", PIPELINE, ENVIRONMENT),
    ("app", "state-bootstrap", ENVIRONMENT),
    ("prod_app", "webhook-pipeline-prod", "prod"),
    ("sources_app", f"webhook-pipeline-{SOURCES_ENVIRONMENT}", SOURCES_ENVIRONMENT),
]


@pytest.fixture(params=STACKS, ids=[stack for _, stack, _ in STACKS])
def stack(request: pytest.FixtureRequest) -> tuple[dict[str, Any], str]:
    fixture, name, environment = request.param
    synthesized: SynthesizedApp = request.getfixturevalue(fixture)
    return synthesized.config(name), environment


@pytest.fixture
def pipeline(app: SynthesizedApp) -> dict[str, Any]:
    return copy.deepcopy(app.config(PIPELINE))


def test_no_body_logging_cmk_everywhere_and_suffixed_names(stack: tuple[dict[str, Any], str]) -> None:
    config, environment = stack
    assert logging_violations(config) == []
    assert encryption_violations(config) == []
    assert suffix_violations(config, environment) == []


def test_guards_see_what_they_guard(pipeline: dict[str, Any]) -> None:
    encrypted = sum(len(pipeline["resource"].get(t, {})) for t in ("aws_cloudwatch_log_group", "aws_sqs_queue"))
    assert encrypted == 3 + 10  # two function log groups, API access logs; 10 queues


def test_data_tracing_is_caught(pipeline: dict[str, Any]) -> None:
    [settings] = pipeline["resource"]["aws_api_gateway_method_settings"].values()
    settings["settings"]["data_trace_enabled"] = True
    assert "data_trace_enabled must be false" in " ".join(logging_violations(pipeline))


def test_a_body_in_the_access_log_is_caught(pipeline: dict[str, Any]) -> None:
    [stage] = pipeline["resource"]["aws_api_gateway_stage"].values()
    stage["access_log_settings"]["format"] = '{"body":"$context.requestBody"}'
    assert len(logging_violations(pipeline)) == 1


@pytest.mark.parametrize(
    ("resource_type", "attribute"), [("aws_sqs_queue", "kms_master_key_id"), ("aws_cloudwatch_log_group", "kms_key_id")]
)
def test_an_aws_managed_key_is_caught(pipeline: dict[str, Any], resource_type: str, attribute: str) -> None:
    first = next(iter(pipeline["resource"][resource_type].values()))
    first[attribute] = "alias/aws/sqs"
    assert len(encryption_violations(pipeline)) == 1
    del first[attribute]
    assert len(encryption_violations(pipeline)) == 1


def test_a_name_without_the_suffix_is_caught(pipeline: dict[str, Any]) -> None:
    first = next(iter(pipeline["resource"]["aws_sqs_queue"].values()))
    first["name"] = "payments"
    assert suffix_violations(pipeline, ENVIRONMENT) == [
        f"aws_sqs_queue.{next(iter(pipeline['resource']['aws_sqs_queue']))}.name = 'payments' lacks the suffix -test"
    ]
