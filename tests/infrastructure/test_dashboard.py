"""The synthesized dashboard: named with the suffix, wired to the functions, queues and alarms of this stack."""

from __future__ import annotations

import json

import pytest

from tests.infrastructure.assertions import resources

pytestmark = pytest.mark.synth


def test_dashboard_watches_this_environments_functions_queues_and_alarms(pipeline: dict) -> None:
    [dashboard] = resources(pipeline, "aws_cloudwatch_dashboard")
    assert dashboard["dashboard_name"] == "webhook-pipeline-test"
    body = json.loads(dashboard["dashboard_body"])
    lines = [line for widget in body["widgets"] for line in widget["properties"].get("metrics", [])]
    functions = {f["function_name"]: f for f in resources(pipeline, "aws_lambda_function")}
    validator_env = functions["webhook-validator-test"]["environment"]["variables"]
    own = [line for line in lines if line[0] == validator_env["POWERTOOLS_METRICS_NAMESPACE"]]
    assert own and all(line[2:4] == ["service", validator_env["POWERTOOLS_SERVICE_NAME"]] for line in own)
    assert {line[3] for line in lines if line[2] == "FunctionName"} == set(functions)
    queue_names = {q["name"] for q in resources(pipeline, "aws_sqs_queue")}
    assert {line[3] for line in lines if line[2] == "QueueName"} == queue_names
    [alarm_widget] = [w for w in body["widgets"] if w["type"] == "alarm"]
    alarm_ids = set(pipeline["resource"]["aws_cloudwatch_metric_alarm"])
    assert {ref.split(".")[1] for ref in alarm_widget["properties"]["alarms"]} == alarm_ids
