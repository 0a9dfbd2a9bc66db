"""DynamoDB table `transaction-events-<env>`: the one place an event is stored, exactly once."""

from __future__ import annotations

from collections.abc import Sequence

from cdktf_cdktf_provider_aws.dynamodb_resource_policy import DynamodbResourcePolicy
from cdktf_cdktf_provider_aws.dynamodb_table import (
    DynamodbTable,
    DynamodbTableAttribute,
    DynamodbTablePointInTimeRecovery,
    DynamodbTableServerSideEncryption,
    DynamodbTableTtl,
)
from constructs import Construct

from modules.iam import deny_all_but, policy_document

# Every API that writes items; TTL expiry is DynamoDB's own and is not a call.
ITEM_WRITE_ACTIONS = (
    "dynamodb:BatchWriteItem", "dynamodb:DeleteItem", "dynamodb:PartiQLDelete", "dynamodb:PartiQLInsert",
    "dynamodb:PartiQLUpdate", "dynamodb:PutItem", "dynamodb:UpdateItem",
)  # fmt: skip


class EventTable(Construct):
    """Keyed by `event_id` only: the conditional write on it is the idempotency check. Its resource
    policy denies item writes to every principal but `writer_role_arn` (the validator's role) and
    `other_writer_role_arns` (the reconciler's, which writes through the validator's own code path)."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        environment: str,
        kms_key_arn: str,
        deletion_protection: bool,
        writer_role_arn: str,
        other_writer_role_arns: Sequence[str] = (),
    ) -> None:
        super().__init__(scope, id_)
        self.table = DynamodbTable(
            self,
            "events-table",
            name=f"transaction-events-{environment}",
            billing_mode="PAY_PER_REQUEST",
            hash_key="event_id",
            attribute=[DynamodbTableAttribute(name="event_id", type="S")],
            ttl=DynamodbTableTtl(attribute_name="ttl", enabled=True),
            point_in_time_recovery=DynamodbTablePointInTimeRecovery(enabled=True),
            server_side_encryption=DynamodbTableServerSideEncryption(enabled=True, kms_key_arn=kms_key_arn),
            # NEW_IMAGE: the router needs the stored event, never the previous version.
            stream_enabled=True,
            stream_view_type="NEW_IMAGE",
            deletion_protection_enabled=deletion_protection,
        )
        document = policy_document(
            self,
            "events-table-policy-document",
            [
                deny_all_but(
                    "OnlyTheValidatorWrites",
                    ITEM_WRITE_ACTIONS,
                    [self.table.arn],
                    principal_arns=[writer_role_arn, *other_writer_role_arns],
                )
            ],
        )
        self.policy = DynamodbResourcePolicy(
            self, "events-table-policy", resource_arn=self.table.arn, policy=document.json
        )
