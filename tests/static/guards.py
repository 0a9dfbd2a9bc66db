"""Guards on a synthesized pipeline stack: what must never be switched on, or left out, by a change."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

# Names AWS does not allow a hyphenated suffix in (API Gateway model and validator names).
SUFFIX_EXEMPT_NAMES = frozenset({"WebhookEvent", "body-only"})
NAME_KEYS = ("name", "function_name", "alarm_name", "bucket")
_KEY_REFERENCE = re.compile(r"^\$\{aws_kms_key\.[A-Za-z0-9_-]+\.arn\}$")
# resource type -> attribute that must name the stack's customer-managed key
CMK_ATTRIBUTES = {
    "aws_cloudwatch_log_group": "kms_key_id",
    "aws_sqs_queue": "kms_master_key_id",
    "aws_sns_topic": "kms_master_key_id",
    "aws_secretsmanager_secret": "kms_key_id",
    "aws_lambda_function": "kms_key_arn",
}


def _resources(config: dict[str, Any], resource_type: str) -> Iterator[tuple[str, dict[str, Any]]]:
    yield from config.get("resource", {}).get(resource_type, {}).items()


def logging_violations(config: dict[str, Any]) -> list[str]:
    """API Gateway must never log request or response bodies (payment data)."""
    violations = []
    for name, block in _resources(config, "aws_api_gateway_method_settings"):
        if block["settings"].get("data_trace_enabled") is not False:
            violations.append(f"{name}: data_trace_enabled must be false (it logs full requests and responses)")
    for name, block in _resources(config, "aws_api_gateway_stage"):
        access_format = block.get("access_log_settings", {}).get("format", "")
        if "body" in access_format.lower():
            violations.append(f"{name}: the access log format includes a body")
    return violations


def encryption_violations(config: dict[str, Any]) -> list[str]:
    violations = []
    for resource_type, attribute in CMK_ATTRIBUTES.items():
        for name, block in _resources(config, resource_type):
            if not _KEY_REFERENCE.match(str(block.get(attribute, ""))):
                violations.append(f"{resource_type}.{name}: {attribute} is not the stack's KMS key")
    for name, block in _resources(config, "aws_dynamodb_table"):
        encryption = block.get("server_side_encryption", {})
        if not (encryption.get("enabled") and _KEY_REFERENCE.match(str(encryption.get("kms_key_arn", "")))):
            violations.append(f"aws_dynamodb_table.{name}: not encrypted with the stack's KMS key")
    return violations


def suffix_violations(config: dict[str, Any], environment: str) -> list[str]:
    violations = []
    for resource_type, blocks in config.get("resource", {}).items():
        for name, block in blocks.items():
            for key in NAME_KEYS:
                value = block.get(key)
                if not isinstance(value, str) or value.startswith("${") or value in SUFFIX_EXEMPT_NAMES:
                    continue
                if not value.endswith(f"-{environment}"):
                    violations.append(f"{resource_type}.{name}.{key} = {value!r} lacks the suffix -{environment}")
    return violations
