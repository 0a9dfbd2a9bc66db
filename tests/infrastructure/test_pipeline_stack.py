"""The synthesized `webhook-pipeline-<env>` stack: every resource, with its security settings."""

from __future__ import annotations

import json
from typing import Any

import pytest

from modules.access_log import ACCESS_LOG_FIELDS, UNTRIMMED_ACCESS_LOG_FIELDS, typical_line_bytes
from tests.infrastructure.assertions import assert_has_resource_with, by_name, policy_statements, resources

ENV = "test"
EXPECTED_QUEUES = {
    f"{name}-{ENV}"
    for name in (
        "payments-queue", "refunds-queue", "disputes-queue", "payments-dlq", "refunds-dlq", "disputes-dlq",
        "event-router-dlq", "unrouted-events", "lifecycle-events", "lifecycle-dlq",
    )
}  # fmt: skip
REQUIRED_OUTPUTS = {
    "api_endpoint", "dynamodb_table_name", "payments_queue_url", "refunds_queue_url", "disputes_queue_url",
    "validator_lambda_arn", "router_lambda_arn", "payments_dlq_url", "refunds_dlq_url", "disputes_dlq_url",
    "unrouted_queue_url", "signing_secret_arn", "alarm_topic_arn", "lifecycle_queue_url", "lifecycle_dlq_url",
}  # fmt: skip
pytestmark = pytest.mark.synth


def test_table_is_keyed_by_event_id_with_ttl_pitr_cmk_and_insert_stream(pipeline_json: str, pipeline: dict) -> None:
    assert_has_resource_with(
        pipeline_json,
        "aws_dynamodb_table",
        {
            "name": f"transaction-events-{ENV}",
            "billing_mode": "PAY_PER_REQUEST",
            "hash_key": "event_id",
            "attribute": [{"name": "event_id", "type": "S"}],
            "ttl": {"attribute_name": "ttl", "enabled": True},
            "point_in_time_recovery": {"enabled": True},
            "stream_enabled": True,
            "stream_view_type": "NEW_IMAGE",
            "deletion_protection_enabled": True,
        },
    )
    [table] = [t for t in resources(pipeline, "aws_dynamodb_table") if t["name"] == f"transaction-events-{ENV}"]
    assert table["server_side_encryption"]["kms_key_arn"].startswith("${aws_kms_key.")
    assert "range_key" not in table


def test_the_quarantine_table_is_on_the_cmk_with_pitr_ttl_and_only_the_validator_writes(pipeline: dict) -> None:
    [table] = [t for t in resources(pipeline, "aws_dynamodb_table") if t["name"] == f"webhook-quarantine-{ENV}"]
    assert table["hash_key"] == "quarantine_id" and table["billing_mode"] == "PAY_PER_REQUEST"
    assert table["ttl"] == {"attribute_name": "expires_at", "enabled": True}
    assert table["point_in_time_recovery"] == {"enabled": True}
    assert table["server_side_encryption"]["kms_key_arn"].startswith("${aws_kms_key.")
    [function] = [
        f for f in resources(pipeline, "aws_lambda_function") if f["function_name"] == f"webhook-validator-{ENV}"
    ]
    assert function["environment"]["variables"]["QUARANTINE_TABLE_NAME"].startswith("${aws_dynamodb_table.")
    assert pipeline["output"]["quarantine_table_name"]["value"].startswith("${aws_dynamodb_table.")
    alarms = {a["alarm_name"]: a for a in resources(pipeline, "aws_cloudwatch_metric_alarm")}
    assert alarms[f"verified-deliveries-quarantined-{ENV}"]["metric_name"] == "Quarantined"


def test_one_customer_managed_key_with_rotation(pipeline: dict) -> None:
    [key] = resources(pipeline, "aws_kms_key")
    assert key["enable_key_rotation"] is True
    assert by_name(pipeline, "aws_kms_alias") == {
        f"alias/webhook-pipeline-{ENV}": by_name(pipeline, "aws_kms_alias")[f"alias/webhook-pipeline-{ENV}"]
    }


def test_every_queue_exists_encrypted_with_the_cmk(pipeline: dict) -> None:
    queues = by_name(pipeline, "aws_sqs_queue")
    assert set(queues) == EXPECTED_QUEUES
    for queue in queues.values():
        assert queue["kms_master_key_id"].startswith("${aws_kms_key.")


@pytest.mark.parametrize("kind", ["payments", "refunds", "disputes"])
def test_routed_queues_redrive_to_their_dlq_which_keeps_messages_longer(pipeline: dict, kind: str) -> None:
    queues = by_name(pipeline, "aws_sqs_queue")
    source, dlq = queues[f"{kind}-queue-{ENV}"], queues[f"{kind}-dlq-{ENV}"]
    assert dlq["message_retention_seconds"] == 14 * 86400
    assert source["message_retention_seconds"] < dlq["message_retention_seconds"]
    redrive = source["redrive_policy"]
    assert f'deadLetterTargetArn" = aws_sqs_queue.{kind}-queues_dead-letter_queue_' in redrive
    assert '"maxReceiveCount" = 5' in redrive
    allow = json.loads(dlq["redrive_allow_policy"])
    assert allow["redrivePermission"] == "byQueue"
    assert allow["sourceQueueArns"] == [
        f"arn:aws:sqs:us-east-1:${{data.aws_caller_identity.caller-identity.account_id}}:{kind}-queue-{ENV}"
    ]


def test_every_queue_has_a_tls_only_policy(pipeline: dict) -> None:
    policies = resources(pipeline, "aws_sqs_queue_policy")
    assert len(policies) == len(EXPECTED_QUEUES)
    documents = pipeline["data"]["aws_iam_policy_document"]
    for policy in policies:
        logical_id = policy["policy"].split(".")[2]
        [statement] = [s for s in documents[logical_id]["statement"] if s["sid"] == "DenyInsecureTransport"]
        assert statement["effect"] == "Deny"
        assert statement["condition"] == [{"test": "Bool", "variable": "aws:SecureTransport", "values": ["false"]}]


def test_signing_secret_container_has_no_value_in_the_configuration(pipeline: dict, app: Any) -> None:
    [secret] = resources(pipeline, "aws_secretsmanager_secret")
    assert secret["name"] == f"webhook-signing-secret-{ENV}"
    assert secret["kms_key_id"].startswith("${aws_kms_key.")
    assert "aws_secretsmanager_secret_version" not in pipeline["resource"]
    assert "whsec_" not in app.stack_file(f"webhook-pipeline-{ENV}").read_text()


@pytest.mark.parametrize(
    ("name", "handler", "memory"),
    [(f"webhook-validator-{ENV}", "validator.handler", 512), (f"event-router-{ENV}", "router.handler", 256)],
)
def test_functions_are_python311_arm64_traced_with_their_log_group_first(
    pipeline: dict, name: str, handler: str, memory: int
) -> None:
    function = by_name(pipeline, "aws_lambda_function", "function_name")[name]
    assert function["runtime"] == "python3.11"
    assert function["architectures"] == ["arm64"]
    assert function["handler"] == handler
    assert function["memory_size"] == memory
    assert function["tracing_config"] == {"mode": "Active"}
    # No START/END/REPORT per invocation; application lines (the EMF metrics line among them) stay at INFO.
    assert function["logging_config"] == {
        "log_format": "JSON",
        "application_log_level": "INFO",
        "system_log_level": "WARN",
    }
    assert any(dep.startswith("aws_cloudwatch_log_group.") for dep in function["depends_on"])
    log_group = by_name(pipeline, "aws_cloudwatch_log_group")[f"/aws/lambda/{name}"]
    assert log_group["retention_in_days"] == 365
    assert log_group["kms_key_id"].startswith("${aws_kms_key.")


def test_function_environments_follow_the_contract(pipeline: dict) -> None:
    functions = by_name(pipeline, "aws_lambda_function", "function_name")
    validator_env = functions[f"webhook-validator-{ENV}"]["environment"]["variables"]
    router_env = functions[f"event-router-{ENV}"]["environment"]["variables"]
    assert {"EVENTS_TABLE_NAME", "SIGNING_SECRET_ARN", "SIGNATURE_TOLERANCE_SECONDS", "EVENT_TTL_DAYS"} <= set(
        validator_env
    )
    assert validator_env["SIGNATURE_TOLERANCE_SECONDS"] == "300"
    assert validator_env["EVENT_TTL_DAYS"] == "30"
    assert {"PAYMENTS_QUEUE_URL", "REFUNDS_QUEUE_URL", "DISPUTES_QUEUE_URL", "UNROUTED_QUEUE_URL"} <= set(router_env)
    assert router_env["LIFECYCLE_QUEUE_URL"].startswith("${aws_sqs_queue.lifecycle-queues_source_queue")


def test_stream_mapping_is_insert_only_with_bisect_partial_failures_and_dlq(pipeline_json: str) -> None:
    assert_has_resource_with(
        pipeline_json,
        "aws_lambda_event_source_mapping",
        {
            "starting_position": "TRIM_HORIZON",
            "batch_size": 100,
            "maximum_batching_window_in_seconds": 1,
            "bisect_batch_on_function_error": True,
            "maximum_retry_attempts": 10,
            "maximum_record_age_in_seconds": 86400,
            "function_response_types": ["ReportBatchItemFailures"],
            "filter_criteria": {"filter": [{"pattern": '{"eventName":["INSERT"]}'}]},
        },
    )


def test_api_validates_the_body_with_the_shared_schema_and_proxies_to_the_validator(pipeline: dict) -> None:
    schema = json.loads(
        (__import__("pathlib").Path(__file__).parents[2] / "handlers" / "event_schema.json").read_text()
    )
    [model] = resources(pipeline, "aws_api_gateway_model")
    assert json.loads(model["schema"]) == schema
    [method] = resources(pipeline, "aws_api_gateway_method")
    assert method["http_method"] == "POST"
    assert (
        method["request_models"]
        == {"application/json": "${aws_api_gateway_model.webhook-api_event-model_7D0E6E4D.name}"}
        or "application/json" in method["request_models"]
    )
    [validator] = resources(pipeline, "aws_api_gateway_request_validator")
    assert validator["validate_request_body"] is True
    [integration] = resources(pipeline, "aws_api_gateway_integration")
    assert integration["type"] == "AWS_PROXY"
    [resource] = resources(pipeline, "aws_api_gateway_resource")
    assert resource["path_part"] == "webhook"
    [api] = resources(pipeline, "aws_api_gateway_rest_api")
    assert api["name"] == f"webhook-api-{ENV}"
    assert api["endpoint_configuration"] == {"types": ["REGIONAL"]}


def test_deployment_is_triggered_by_a_hash_of_the_definition(pipeline: dict) -> None:
    [deployment] = resources(pipeline, "aws_api_gateway_deployment")
    assert deployment["triggers"]["definition"].startswith("${sha1(jsonencode(")
    assert "timestamp" not in deployment["triggers"]["definition"]
    assert deployment["lifecycle"] == {"create_before_destroy": True}


def test_stage_traces_logs_as_json_and_never_logs_bodies(pipeline: dict) -> None:
    [stage] = resources(pipeline, "aws_api_gateway_stage")
    assert stage["xray_tracing_enabled"] is True
    access_format = json.loads(stage["access_log_settings"]["format"])
    assert "requestId" in access_format and not any("body" in value.lower() for value in access_format.values())
    # Trimmed by issue 20 to what operators use (modules/access_log.py says what each field is for).
    assert access_format == ACCESS_LOG_FIELDS
    assert {"requestId", "sourceIp", "resourcePath", "status", "errorMessage", "xrayTraceId"} <= set(access_format)
    assert typical_line_bytes() < typical_line_bytes(UNTRIMMED_ACCESS_LOG_FIELDS) - 60
    [settings] = resources(pipeline, "aws_api_gateway_method_settings")
    assert settings["settings"]["data_trace_enabled"] is False
    assert settings["settings"]["metrics_enabled"] is True
    # Sized from the capacity contract (tests/infrastructure/test_capacity.py checks the sizing).
    assert settings["settings"]["throttling_rate_limit"] == 1200
    assert settings["settings"]["throttling_burst_limit"] == 2400


def test_bad_request_body_returns_the_validation_message_as_json(pipeline: dict) -> None:
    [response] = resources(pipeline, "aws_api_gateway_gateway_response")
    assert response["response_type"] == "BAD_REQUEST_BODY"
    assert response["status_code"] == "400"
    assert "$context.error.validationErrorString" in response["response_templates"]["application/json"]


def test_invoke_permission_is_scoped_to_post_webhook(pipeline: dict) -> None:
    [permission] = resources(pipeline, "aws_lambda_permission")
    assert permission["principal"] == "apigateway.amazonaws.com"
    assert permission["source_arn"].endswith("/*/POST/webhook")


def test_account_logging_role_and_waf_are_off_by_default(pipeline: dict) -> None:
    assert "aws_api_gateway_account" not in pipeline["resource"]
    assert "aws_wafv2_web_acl" not in pipeline["resource"]


def test_alarms_cover_dlqs_unrouted_ages_errors_and_5xx(pipeline: dict) -> None:
    alarms = by_name(pipeline, "aws_cloudwatch_metric_alarm", "alarm_name")
    for queue in (
        "payments-dlq",
        "refunds-dlq",
        "disputes-dlq",
        "lifecycle-dlq",
        "unrouted-events",
        "event-router-dlq",
    ):
        assert alarms[f"{queue}-has-messages-{ENV}"]["metric_name"] == "ApproximateNumberOfMessagesVisible"
    for queue in ("payments-queue", "refunds-queue", "disputes-queue"):
        assert alarms[f"{queue}-oldest-message-age-{ENV}"]["metric_name"] == "ApproximateAgeOfOldestMessage"
    # Nobody has to consume lifecycle events: no age alarm on their queue, only on its dead letters.
    assert f"lifecycle-events-oldest-message-age-{ENV}" not in alarms
    assert alarms[f"event-router-iterator-age-{ENV}"]["metric_name"] == "IteratorAge"
    assert alarms[f"webhook-validator-errors-{ENV}"]["metric_name"] == "Errors"
    assert alarms[f"event-router-errors-{ENV}"]["metric_name"] == "Errors"
    assert alarms[f"webhook-api-5xx-{ENV}"]["metric_name"] == "5XXError"
    [topic] = resources(pipeline, "aws_sns_topic")
    assert all(
        alarm["alarm_actions"] == ["${aws_sns_topic.alarms_alarm-topic_7D5F4B59.arn}"]
        or alarm["alarm_actions"][0].startswith("${aws_sns_topic.")
        for alarm in alarms.values()
    )
    assert topic["kms_master_key_id"].startswith("${aws_kms_key.")


def test_outputs_include_the_contract(pipeline: dict) -> None:
    assert set(pipeline["output"]) >= REQUIRED_OUTPUTS
    assert pipeline["output"]["api_endpoint"]["value"].endswith("/webhook")


def test_backend_is_s3_per_environment_with_native_locking(pipeline: dict) -> None:
    backend = pipeline["terraform"]["backend"]["s3"]
    assert backend == {
        "bucket": f"webhook-pipeline-tfstate-{ENV}",
        "key": f"webhook-pipeline/{ENV}/terraform.tfstate",
        "region": "us-east-1",
        "encrypt": True,
        "kms_key_id": f"alias/webhook-pipeline-state-{ENV}",  # else Terraform sends AES256
        "use_lockfile": True,
    }
    assert pipeline["terraform"]["required_providers"]["aws"]["version"] == "5.100.0"


def test_role_policies_are_scoped_to_this_stacks_resources(pipeline: dict) -> None:
    statements = {s["sid"]: s for logical_id, s in policy_statements(pipeline) if "role-policy-document" in logical_id}
    assert statements["StoreEventsOnce"]["actions"] == ["dynamodb:PutItem"]
    assert statements["StoreEventsOnce"]["resources"] == [
        "${aws_dynamodb_table.event-store_events-table_5A1D5B5E.arn}"
    ] or statements["StoreEventsOnce"]["resources"][0].endswith(".arn}")
    assert statements["ReadSigningSecret"]["actions"] == ["secretsmanager:GetSecretValue"]
    assert statements["ReadTableStream"]["resources"][0].endswith(".stream_arn}")
    assert len(statements["SendToRoutedQueues"]["resources"]) == 5  # payments, refunds, disputes, lifecycle, unrouted
    assert "iam:PassRole" not in json.dumps(statements)


def test_logical_ids_are_unique_across_resource_types(pipeline: dict) -> None:
    seen: dict[str, str] = {}
    for resource_type, blocks in pipeline["resource"].items():
        for logical_id in blocks:
            assert logical_id not in seen, (logical_id, resource_type, seen.get(logical_id))
            seen[logical_id] = resource_type
