"""The one customer-managed KMS key that encrypts the table, queues, logs, topic and secret."""

from __future__ import annotations

from collections.abc import Sequence

from cdktf_cdktf_provider_aws.kms_alias import KmsAlias
from cdktf_cdktf_provider_aws.kms_key import KmsKey
from constructs import Construct

from modules.aws_context import AwsContext
from modules.iam import allow, policy_document

# Spelled out rather than `kms:*`: the account keeps full administration (so the key can never become
# unmanageable) while the IAM checks can still flag wildcard actions everywhere else.
KEY_ADMIN_ACTIONS = (
    "kms:CancelKeyDeletion", "kms:CreateAlias", "kms:CreateGrant", "kms:DeleteAlias", "kms:DescribeKey",
    "kms:DisableKey", "kms:DisableKeyRotation", "kms:EnableKey", "kms:EnableKeyRotation", "kms:GetKeyPolicy",
    "kms:GetKeyRotationStatus", "kms:ListAliases", "kms:ListGrants", "kms:ListKeyPolicies",
    "kms:ListResourceTags", "kms:PutKeyPolicy", "kms:RetireGrant", "kms:RevokeGrant", "kms:ScheduleKeyDeletion",
    "kms:TagResource", "kms:UntagResource", "kms:UpdateAlias", "kms:UpdateKeyDescription",
)  # fmt: skip
KEY_USE_ACTIONS = ("kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:ReEncryptFrom", "kms:ReEncryptTo")
# In a key policy `*` means "this key": the only form AWS accepts there.
THIS_KEY = "*"


def alarm_arn_pattern(aws: AwsContext, environment: str) -> str:
    """ARN pattern of this stack's CloudWatch alarms (`modules/alarms.py` names each `<what>-<env>`)."""
    return aws.arn("cloudwatch", f"alarm:*-{environment}")


class PipelineKey(Construct):
    """KMS key with rotation, an alias, and a policy limited to the account and the services that use it."""

    def __init__(
        self, scope: Construct, id_: str, *, environment: str, aws: AwsContext, log_group_names: Sequence[str]
    ) -> None:
        super().__init__(scope, id_)
        log_groups = [aws.arn("logs", f"log-group:{name}") for name in log_group_names]
        policy = policy_document(
            self,
            "key-policy-document",
            [
                allow(
                    "AccountAdministersAndDelegates",
                    KEY_ADMIN_ACTIONS + KEY_USE_ACTIONS,
                    [THIS_KEY],
                    aws=[aws.root_principal],
                ),
                allow(
                    "CloudWatchLogsEncryptsThisStacksLogGroups",
                    ("kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:DescribeKey"),
                    [THIS_KEY],
                    service=f"logs.{aws.region}.amazonaws.com",
                    conditions=[("ArnLike", "kms:EncryptionContext:aws:logs:arn", log_groups)],
                ),
                allow(
                    "CloudWatchAlarmsPublishToTheEncryptedTopic",
                    ("kms:Decrypt", "kms:GenerateDataKey"),
                    [THIS_KEY],
                    service="cloudwatch.amazonaws.com",
                    # Only this environment's alarms (every alarm name ends in -<env>), as in the topic policy.
                    conditions=[
                        ("StringEquals", "aws:SourceAccount", [aws.account_id]),
                        ("ArnLike", "aws:SourceArn", [alarm_arn_pattern(aws, environment)]),
                    ],
                ),
            ],
        )
        self.key = KmsKey(
            self,
            "pipeline-key",
            description=f"Payment webhook pipeline ({environment}): table, queues, logs, topic, secret",
            enable_key_rotation=True,
            deletion_window_in_days=30,
            policy=policy.json,
        )
        self.alias = KmsAlias(
            self, "pipeline-key-alias", name=f"alias/webhook-pipeline-{environment}", target_key_id=self.key.key_id
        )
