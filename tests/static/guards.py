"""Guards on a synthesized pipeline stack: what must never be switched on, or left out, by a change."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

# Names scoped inside the suffixed REST API (API Gateway model and request-validator names): a model name
# may not hold a hyphen, and the validators follow the model.
SUFFIX_EXEMPT_NAMES = frozenset({"WebhookEvent", "body-only", "signature-header"})
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


def _document_of(config: dict[str, Any], reference: str) -> dict[str, Any]:
    name = reference.removeprefix("${data.aws_iam_policy_document.").removesuffix(".json}")
    return config["data"]["aws_iam_policy_document"][name]


def _statement(document: dict[str, Any], sid: str) -> dict[str, Any] | None:
    return next((s for s in document["statement"] if s.get("sid") == sid), None)


def _only_roles(statement: dict[str, Any] | None, actions: set[str], role_suffixes: list[str]) -> str | None:
    """Why `statement` is not a Deny of `actions` to all principals but the roles ending in the suffixes."""
    if statement is None:
        return "no such statement"
    conditions = {(c["test"], c["variable"]): c["values"] for c in statement.get("condition", [])}
    roles = conditions.get(("StringNotEquals", "aws:PrincipalArn"), [])
    if statement.get("effect") != "Deny" or statement.get("principals") != [{"type": "*", "identifiers": ["*"]}]:
        return "not a Deny for every principal"
    if not actions <= set(statement.get("actions", [])):
        return f"does not deny {sorted(actions - set(statement.get('actions', [])))}"
    if sorted(r.rsplit(":", 1)[-1] for r in roles) != sorted(role_suffixes):
        return f"excepts {roles}, expected roles {role_suffixes}"
    if conditions.get(("Bool", "aws:PrincipalIsAWSService")) != ["false"]:
        return "does not exempt AWS services' own calls"
    return None


ROUTED_QUEUES = ("payments-queue", "refunds-queue", "disputes-queue", "lifecycle-events", "unrouted-events")
TABLE_WRITES = {"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem"}


def resource_policy_violations(config: dict[str, Any], environment: str, operator_role: str | None = None) -> list[str]:
    """Only the router (and the operator role) sends to the routed queues, only the validator writes the
    table, and the key's CloudWatch grant is bound to this environment's alarms."""
    violations = []
    queues = {f"${{aws_sqs_queue.{name}.url}}": block["name"] for name, block in _resources(config, "aws_sqs_queue")}
    senders = [f"role/event-router-role-{environment}", *([operator_role.rsplit(":", 1)[-1]] if operator_role else [])]
    covered = set()
    for _, block in _resources(config, "aws_sqs_queue_policy"):
        queue = queues.get(block["queue_url"], "")
        if queue.removesuffix(f"-{environment}") in ROUTED_QUEUES:
            covered.add(queue)
            why = _only_roles(_statement(_document_of(config, block["policy"]), "OnlyTheseRolesSend"), {"sqs:SendMessage"}, senders)  # fmt: skip
            if why:
                violations.append(f"{queue}: OnlyTheseRolesSend {why}")
    violations += [
        f"{q}-{environment}: no queue policy limits senders"
        for q in ROUTED_QUEUES
        if f"{q}-{environment}" not in covered
    ]
    # Every table (events, quarantine) has a resource policy that lets only the validator write items.
    tables = {f"${{aws_dynamodb_table.{name}.arn}}": block["name"] for name, block in _resources(config, "aws_dynamodb_table")}  # fmt: skip
    policies = list(_resources(config, "aws_dynamodb_resource_policy"))
    guarded = {tables.get(block["resource_arn"]) for _, block in policies}
    violations += [f"{table}: no resource policy limits writers" for table in sorted(set(tables.values()) - guarded)]
    for _, block in policies:
        why = _only_roles(_statement(_document_of(config, block["policy"]), "OnlyTheValidatorWrites"), TABLE_WRITES, [f"role/webhook-validator-role-{environment}"])  # fmt: skip
        if why:
            violations.append(
                f"{tables.get(block['resource_arn'], block['resource_arn'])}: OnlyTheValidatorWrites {why}"
            )
    for _, block in _resources(config, "aws_kms_key"):
        grant = _statement(_document_of(config, block["policy"]), "CloudWatchAlarmsPublishToTheEncryptedTopic")
        arns = [c["values"] for c in (grant or {}).get("condition", []) if c["variable"] == "aws:SourceArn"]
        if arns != [
            [
                f"arn:aws:cloudwatch:us-east-1:${{data.aws_caller_identity.caller-identity.account_id}}:alarm:*-{environment}"
            ]
        ]:
            violations.append(f"key policy: the CloudWatch grant is not bound to this stack's alarms ({arns})")
    return violations


def state_encryption_violations(bootstrap: dict[str, Any], pipeline: dict[str, Any], environment: str) -> list[str]:
    """The backend names the bootstrap stack's state key, and the bucket refuses state written without it."""
    violations = []
    alias = f"alias/webhook-pipeline-state-{environment}"
    backend = pipeline["terraform"]["backend"]["s3"]
    if backend.get("kms_key_id") != alias or backend.get("encrypt") is not True:
        violations.append(f"backend kms_key_id is {backend.get('kms_key_id')!r}, not the state key {alias}")
    if [block["name"] for _, block in _resources(bootstrap, "aws_kms_alias")] != [alias]:
        violations.append(f"the bootstrap stack does not create {alias}")
    [(_, policy)] = _resources(bootstrap, "aws_s3_bucket_policy")
    document = _document_of(bootstrap, policy["policy"])
    for sid, variable, required in (
        ("DenyStateNotEncryptedWithKms", "s3:x-amz-server-side-encryption", ["aws:kms"]),
        ("DenyStateNotEncryptedWithTheStateKey", "s3:x-amz-server-side-encryption-aws-kms-key-id", [alias]),
    ):
        statement = _statement(document, sid) or {}
        conditions = {(c["test"], c["variable"]): c["values"] for c in statement.get("condition", [])}
        values = conditions.get(("StringNotEquals", variable), [])
        if (
            statement.get("effect") != "Deny"
            or statement.get("actions") != ["s3:PutObject"]
            or not set(required) <= set(values)
        ):
            violations.append(f"state bucket policy: {sid} missing or wrong")
    return violations
