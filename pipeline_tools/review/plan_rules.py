"""What the plan review knows about resource types: which are stateful, which can grant access, which
in-place updates lose data or stop delivery, and which types it has a rule for at all.

Fail-closed by construction: a type or attribute that *might* grant access is shown (by name pattern,
not only by a list), and a changed type that none of these rules covers is listed under its own
heading instead of passing silently.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from typing import Any

# Losing one of these loses events, keys or state: listed first and marked as critical.
STATEFUL_TYPES = {
    "aws_dynamodb_table": "event store",
    "aws_sqs_queue": "queue",
    "aws_kms_key": "encryption key",
    "aws_secretsmanager_secret": "signing secret",
    "aws_s3_bucket": "state bucket",
}
# resource type -> attributes holding an IAM policy document (JSON), diffed statement by statement.
POLICY_ATTRIBUTES = {
    "aws_iam_role": ("assume_role_policy", "inline_policy"),
    "aws_iam_role_policy": ("policy",),
    "aws_iam_policy": ("policy",),
    "aws_iam_user_policy": ("policy",),
    "aws_iam_group_policy": ("policy",),
    "aws_kms_key": ("policy",),
    "aws_sqs_queue": ("policy",),
    "aws_sqs_queue_policy": ("policy",),
    "aws_s3_bucket_policy": ("policy",),
    "aws_sns_topic": ("policy",),
    "aws_sns_topic_policy": ("policy",),
    "aws_secretsmanager_secret": ("policy",),
    "aws_secretsmanager_secret_policy": ("policy",),
    "aws_api_gateway_rest_api": ("policy",),
    "aws_api_gateway_rest_api_policy": ("policy",),
    "aws_dynamodb_resource_policy": ("policy",),
}
# Types whose every change can grant or withdraw access (IAM, KMS, resource policies, permissions,
# grants, attachments, function URLs, authorizers, sharing).
ACCESS_TYPE_PATTERN = re.compile(
    r"^aws_(iam|kms|ram|sso|ssoadmin|identitystore|organizations|lakeformation|cognito)_"
    r"|_polic(y|ies)(_|$)|_permissions?(_|$)|_grants?(_|$)|_attachment$|_function_url$|_authorizer$|_acl$"
)
# Attributes, on any type, that can grant access: anything named like a policy, principal, grant,
# permission or authorization (e.g. `managed_policy_arns`, `authorization_type`, an inline `policy`).
ACCESS_ATTRIBUTE_PATTERN = re.compile(r"polic|principal|grant|permission|authoriz|(^|_)role(_arn)?$")
# Policies AWS manages that grant (nearly) everything: attaching one is listed as dangerous.
BROAD_MANAGED_POLICIES = ("AdministratorAccess", "PowerUserAccess", "IAMFullAccess")
# Types this stack uses that cannot grant access by themselves; their changes are counted and folded.
NON_ACCESS_TYPES = frozenset({
    "aws_api_gateway_account", "aws_api_gateway_deployment", "aws_api_gateway_gateway_response",
    "aws_api_gateway_integration", "aws_api_gateway_method", "aws_api_gateway_method_settings",
    "aws_api_gateway_model", "aws_api_gateway_request_validator", "aws_api_gateway_resource",
    "aws_api_gateway_rest_api", "aws_api_gateway_stage", "aws_cloudwatch_log_group",
    # front_door "http_api" (modules/http_api.py): no resource policy; a route's authorization_type is an
    # access attribute by name, shown when it changes.
    "aws_apigatewayv2_api", "aws_apigatewayv2_integration", "aws_apigatewayv2_route", "aws_apigatewayv2_stage",
    "aws_cloudwatch_metric_alarm", "aws_cloudwatch_dashboard", "aws_dynamodb_table", "aws_kms_alias",
    "aws_lambda_event_source_mapping", "aws_lambda_function", "aws_s3_bucket",
    "aws_s3_bucket_lifecycle_configuration", "aws_s3_bucket_ownership_controls",
    "aws_s3_bucket_public_access_block", "aws_s3_bucket_server_side_encryption_configuration",
    "aws_s3_bucket_versioning", "aws_secretsmanager_secret", "aws_sns_topic", "aws_sns_topic_subscription",
    "aws_sqs_queue", "aws_wafv2_web_acl", "aws_wafv2_web_acl_association",
    "aws_wafv2_web_acl_logging_configuration",
})  # fmt: skip


def is_access_type(resource_type: str) -> bool:
    """Every change of this type is an access change (other types: only changes of access attributes)."""
    return bool(ACCESS_TYPE_PATTERN.search(resource_type))


def has_rule(resource_type: str) -> bool:
    """True when the review knows what a change of this type means (access, stateful or neither)."""
    return resource_type in NON_ACCESS_TYPES or resource_type in STATEFUL_TYPES or is_access_type(resource_type)


def _get(value: Any, path: tuple[str | int, ...]) -> Any:
    for step in path:
        if isinstance(step, int):
            value = value[step] if isinstance(value, list) and len(value) > step else None
        else:
            value = value.get(step) if isinstance(value, dict) else None
    return value


@dataclasses.dataclass(frozen=True)
class Transition:
    """An in-place update that loses data or stops delivery: exits 3 like a deletion.

    `path` is the attribute path in Terraform's JSON (list indexes for nested blocks); `losing` gets
    the before and after values at that path and says whether this update is the losing kind.
    """

    resource_type: str
    path: tuple[str | int, ...]
    description: str
    losing: Callable[[Any, Any], bool]

    def applies(self, before: dict[str, Any], after: dict[str, Any]) -> bool:
        return self.losing(_get(before, self.path), _get(after, self.path))


def _turned_off(old: Any, new: Any) -> bool:
    return old is True and new is not True


def _decreased(old: Any, new: Any) -> bool:
    return isinstance(old, int | float) and (not isinstance(new, int | float) or new < old)


def _removed(old: Any, new: Any) -> bool:
    return bool(old) and not new


def _items_removed(old: Any, new: Any) -> bool:
    return bool(set(old or ()) - set(new or ()))


# The documented list (README, "Plan review"): each entry is tested in tests/tools/test_plan_review.py.
DATA_LOSING_TRANSITIONS = (
    Transition("aws_kms_key", ("is_enabled",), "key disabled: nothing it encrypts can be read", _turned_off),
    Transition(
        "aws_dynamodb_table",
        ("deletion_protection_enabled",),
        "deletion protection turned off",
        _turned_off,
    ),
    Transition(
        "aws_dynamodb_table",
        ("stream_enabled",),
        "table stream turned off: new events stop reaching the router",
        _turned_off,
    ),
    Transition(
        "aws_dynamodb_table",
        ("point_in_time_recovery", 0, "enabled"),
        "point-in-time recovery turned off: the backups are deleted",
        _turned_off,
    ),
    Transition(
        "aws_sqs_queue",
        ("message_retention_seconds",),
        "retention cut: messages older than the new value are deleted",
        _decreased,
    ),
    Transition(
        "aws_sqs_queue", ("redrive_policy",), "dead-letter queue removed: failing messages expire instead", _removed
    ),
    Transition(
        "aws_lambda_event_source_mapping",
        ("enabled",),
        "stream mapping disabled: records expire from the stream unrouted",
        _turned_off,
    ),
    Transition(
        "aws_lambda_event_source_mapping",
        ("destination_config", 0, "on_failure", 0, "destination_arn"),
        "on-failure destination removed: failed batches are dropped",
        _removed,
    ),
    Transition(
        "aws_lambda_function",
        ("reserved_concurrent_executions",),
        "reserved concurrency set to 0: the function is throttled completely",
        lambda old, new: new == 0 and old != 0,
    ),
    Transition(
        "aws_cloudwatch_metric_alarm", ("alarm_actions",), "alarm actions removed: nobody is notified", _items_removed
    ),
    Transition(
        "aws_cloudwatch_metric_alarm", ("actions_enabled",), "alarm actions disabled: nobody is notified", _turned_off
    ),
    Transition(
        "aws_s3_bucket_versioning",
        ("versioning_configuration", 0, "status"),
        "versioning suspended: overwritten state is no longer kept",
        lambda old, new: old == "Enabled" and new != "Enabled",
    ),
)
