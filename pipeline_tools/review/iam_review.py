"""IAM review of every `aws_iam_policy_document` in a synthesized stack.

Two layers: cloudsplaining (maintained by Salesforce, also the engine behind checkov's IAM checks)
finds privilege escalation, exfiltration, credentials and resource exposure and unconstrained writes
in identity policies; the rules below are what is specific to this stack (no wildcard actions,
`*` resources only where AWS allows nothing else, restricted principals, conditions on service
principals, every action a real IAM action). References are replaced by placeholder ARNs first, as
IAM linters only understand concrete policies.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Iterator
from typing import Any

PLACEHOLDER_ACCOUNT = "123456789012"
PLACEHOLDER_REGION = "us-east-1"
# X-Ray has no resource-level permissions; a key policy's `*` means "this key".
STAR_RESOURCE_ACTIONS = frozenset({"xray:PutTraceSegments", "xray:PutTelemetryRecords"})
ESCALATION_ACTIONS = frozenset({
    "iam:PassRole", "iam:CreatePolicyVersion", "iam:SetDefaultPolicyVersion", "iam:AttachRolePolicy",
    "iam:PutRolePolicy", "iam:UpdateAssumeRolePolicy", "iam:CreateAccessKey", "iam:CreateLoginProfile",
    "iam:UpdateLoginProfile", "iam:AttachUserPolicy", "iam:PutUserPolicy", "iam:AddUserToGroup",
    "lambda:CreateFunction", "lambda:UpdateFunctionCode", "lambda:UpdateFunctionConfiguration",
    "sts:AssumeRole",
})  # fmt: skip
# Conditions that tie a service principal to this account or its own resources (confused deputy).
SCOPING_CONDITION_KEYS = frozenset({
    "aws:SourceArn", "aws:SourceAccount", "kms:ViaService", "kms:CallerAccount", "kms:EncryptionContext:aws:logs:arn",
})  # fmt: skip
CLOUDSPLAINING_RISKS = (
    "PrivilegeEscalation", "DataExfiltration", "ResourceExposure", "CredentialsExposure",
    "InfrastructureModification", "ServiceWildcard",
)  # fmt: skip

_REFERENCE = re.compile(r"\$\{([a-z0-9_.]+)\.([A-Za-z0-9_-]+)\.([a-z_]+)\}")
_POLICY_KIND = {  # resource type holding a policy document -> what kind of policy that makes it
    "aws_iam_role_policy": "identity",
    "aws_iam_role": "trust",
    "aws_kms_key": "key",
    "aws_sqs_queue_policy": "resource",
    "aws_s3_bucket_policy": "resource",
    "aws_sns_topic_policy": "resource",
    "aws_secretsmanager_secret_policy": "resource",
    "aws_dynamodb_resource_policy": "resource",
}
_DOCUMENT_REFERENCE = re.compile(r"data\.aws_iam_policy_document\.([A-Za-z0-9_-]+)\.json")


@dataclasses.dataclass(frozen=True)
class PolicyDocument:
    logical_id: str
    kind: str  # identity | trust | key | resource | unused
    policy: dict[str, Any]


@dataclasses.dataclass(frozen=True, order=True)
class IamFinding:
    document: str
    rule: str
    detail: str

    def __str__(self) -> str:
        return f"{self.document}: {self.rule}: {self.detail}"


def _placeholder(resource_type: str, name: str, attribute: str) -> str:
    arn = f"arn:aws:{{}}:{PLACEHOLDER_REGION}:{PLACEHOLDER_ACCOUNT}:{{}}"
    if attribute == "account_id":
        return PLACEHOLDER_ACCOUNT
    match resource_type, attribute:
        case "aws_dynamodb_table", "stream_arn":
            return arn.format("dynamodb", f"table/{name}/stream/2026-01-01T00:00:00.000")
        case "aws_dynamodb_table", _:
            return arn.format("dynamodb", f"table/{name}")
        case "aws_sqs_queue", _:
            return arn.format("sqs", name)
        case "aws_sns_topic", _:
            return arn.format("sns", name)
        case "aws_kms_key", _:
            return arn.format("kms", "key/00000000-0000-0000-0000-000000000000")
        case "aws_secretsmanager_secret", _:
            return arn.format("secretsmanager", f"secret:{name}-AbCdEf")
        case "aws_cloudwatch_log_group", _:
            return arn.format("logs", f"log-group:{name}")
        case "aws_s3_bucket", _:
            return f"arn:aws:s3:::{name}"
        case "aws_lambda_function", _:
            return arn.format("lambda", f"function:{name}")
        case "aws_api_gateway_rest_api", _:
            return arn.format("execute-api", name)
    return arn.format(resource_type.removeprefix("aws_").split("_")[0], name)


def concrete(value: Any) -> Any:
    """A synthesized value with every `${type.name.attr}` reference replaced by a placeholder."""
    if isinstance(value, str):
        return _REFERENCE.sub(lambda m: _placeholder(m[1].removeprefix("data."), m[2], m[3]), value)
    if isinstance(value, list):
        return [concrete(item) for item in value]
    if isinstance(value, dict):
        return {key: concrete(item) for key, item in value.items()}
    return value


def iam_statement(block: dict[str, Any]) -> dict[str, Any]:
    """One `aws_iam_policy_document` statement block as an IAM JSON statement."""
    statement: dict[str, Any] = {"Effect": block.get("effect", "Allow"), "Action": concrete(block.get("actions", []))}
    if "sid" in block:
        statement["Sid"] = block["sid"]
    if block.get("resources"):
        statement["Resource"] = concrete(block["resources"])
    principals: dict[str, list[str]] = {}
    for principal in block.get("principals", []):
        principals.setdefault(principal["type"], []).extend(concrete(principal["identifiers"]))
    if principals:
        statement["Principal"] = "*" if principals.get("*") == ["*"] else principals
    conditions: dict[str, dict[str, list[str]]] = {}
    for condition in block.get("condition", []):
        conditions.setdefault(condition["test"], {})[condition["variable"]] = concrete(condition["values"])
    if conditions:
        statement["Condition"] = conditions
    return statement


def _kinds(config: dict[str, Any]) -> dict[str, str]:
    kinds = {}
    for resource_type, kind in _POLICY_KIND.items():
        for block in config.get("resource", {}).get(resource_type, {}).values():
            kinds.update({match[1]: kind for match in _DOCUMENT_REFERENCE.finditer(json.dumps(block))})
    return kinds


def inline_policies(config: dict[str, Any]) -> list[str]:
    """Policy attributes given as JSON strings instead of a policy-document data source: checkov's
    IAM checks would never see them."""
    inline = []
    for resource_type in _POLICY_KIND:
        for name, block in config.get("resource", {}).get(resource_type, {}).items():
            for attribute in ("policy", "assume_role_policy"):
                value = block.get(attribute)
                if value is not None and not _DOCUMENT_REFERENCE.fullmatch(str(value).strip("${}")):
                    inline.append(f"{resource_type}.{name}.{attribute}")
    return inline


def policy_documents(config: dict[str, Any]) -> list[PolicyDocument]:
    kinds = _kinds(config)
    return [
        PolicyDocument(
            logical_id,
            kinds.get(logical_id, "unused"),
            {"Version": "2012-10-17", "Statement": [iam_statement(block) for block in document["statement"]]},
        )
        for logical_id, document in sorted(config.get("data", {}).get("aws_iam_policy_document", {}).items())
    ]


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _statement_findings(document: PolicyDocument, statement: dict[str, Any], index: int) -> Iterator[IamFinding]:
    where = statement.get("Sid", f"statement {index}")

    def finding(rule: str, detail: str) -> IamFinding:
        return IamFinding(document.logical_id, rule, f"{where}: {detail}")

    actions = _as_list(statement["Action"])
    if statement["Effect"] == "Deny":
        # A Deny grants nothing; this stack's are guards (TLS only, only these roles, only this key):
        # for every principal and conditional, so a Deny without a condition (locking everyone out) is flagged.
        if statement.get("Principal") != "*" or not statement.get("Condition"):
            yield finding("unexpected-deny", "a Deny here is a conditional guard for every principal")
        return
    for action in actions:
        if "*" in action:
            yield finding("wildcard-action", action)
        if action in ESCALATION_ACTIONS and document.kind != "trust":
            yield finding("privilege-escalation", action)
    resources = _as_list(statement.get("Resource", []))
    if "*" in resources and document.kind != "key" and not set(actions) <= STAR_RESOURCE_ACTIONS:
        yield finding("star-resource", f"{sorted(set(actions) - STAR_RESOURCE_ACTIONS)} on *")
    principal = statement.get("Principal")
    if document.kind == "identity" and principal:
        yield finding("principal-in-identity-policy", str(principal))
    if document.kind in ("trust", "key", "resource"):
        if principal in (None, "*") or "*" in _as_list(principal.get("AWS", [])):
            yield finding("unrestricted-principal", f"{principal!r} in a {document.kind} policy")
        elif principal.get("Service"):
            keys = {key for test in statement.get("Condition", {}).values() for key in test}
            if not keys & SCOPING_CONDITION_KEYS:
                yield finding(
                    "service-principal-without-condition", f"{principal['Service']} needs aws:SourceArn/SourceAccount"
                )


def own_rule_findings(documents: list[PolicyDocument]) -> list[IamFinding]:
    findings = []
    for document in documents:
        if document.kind == "unused":
            findings.append(IamFinding(document.logical_id, "unused-document", "no resource uses this policy document"))
        for index, statement in enumerate(document.policy["Statement"]):
            findings.extend(_statement_findings(document, statement, index))
    return sorted(findings)


def unknown_action_findings(documents: list[PolicyDocument]) -> list[IamFinding]:
    """Every action must exist in policy_sentry's IAM database: a typo would silently grant nothing."""
    from policy_sentry.querying.actions import get_action_data

    findings = []
    for document in documents:
        for statement in document.policy["Statement"]:
            for action in _as_list(statement["Action"]):
                service, _, name = action.partition(":")
                if "*" not in action and not get_action_data(service, name):
                    findings.append(IamFinding(document.logical_id, "unknown-action", action))
    return sorted(findings)


def cloudsplaining_findings(documents: list[PolicyDocument]) -> list[IamFinding]:
    """cloudsplaining on identity policies (resource policies name principals it does not model)."""
    from cloudsplaining.command.scan_policy_file import scan_policy

    findings = []
    for document in documents:
        if document.kind != "identity":
            continue
        report = scan_policy(document.policy)
        for risk in CLOUDSPLAINING_RISKS:
            for item in report.get(risk, {}).get("findings", []):
                findings.append(IamFinding(document.logical_id, f"cloudsplaining:{risk}", str(item)))
    return sorted(findings)


def review(config: dict[str, Any]) -> list[IamFinding]:
    documents = policy_documents(config)
    return own_rule_findings(documents) + unknown_action_findings(documents) + cloudsplaining_findings(documents)
