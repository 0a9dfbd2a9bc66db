"""DynamoDB table `webhook-quarantine-<env>`: signed deliveries the door refused, kept until readmitted.

Why DynamoDB and not S3: an item holds the whole delivery (the body is at most 100 KiB, the door's
limit, well inside an item's 400 KB), the validator already writes DynamoDB with the pipeline's CMK, and
readmission needs a conditional delete ("only if no new refusal came in"), which S3 has no equivalent
for without versioning games. Retention is a TTL of 90 days after the last refusal
(`handlers/quarantine.py`: Adyen, the longest retry horizon of a supported provider, gives up after 30
days). Point-in-time recovery keeps 35 days of history on top. Only the validator writes (resource
policy); operators read it and ask the validator to readmit (direct Lambda invoke).
"""

from __future__ import annotations

from cdktf_cdktf_provider_aws.dynamodb_resource_policy import DynamodbResourcePolicy
from cdktf_cdktf_provider_aws.dynamodb_table import (
    DynamodbTable,
    DynamodbTableAttribute,
    DynamodbTablePointInTimeRecovery,
    DynamodbTableServerSideEncryption,
    DynamodbTableTtl,
)
from constructs import Construct

from modules.event_store import ITEM_WRITE_ACTIONS
from modules.iam import deny_all_but, policy_document


class QuarantineTable(Construct):
    """Keyed by `quarantine_id` (`<source>:<sha256 of the body>`); TTL attribute `expires_at`."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        environment: str,
        kms_key_arn: str,
        deletion_protection: bool,
        writer_role_arn: str,
    ) -> None:
        super().__init__(scope, id_)
        self.table = DynamodbTable(
            self,
            "quarantine-table",
            name=f"webhook-quarantine-{environment}",
            billing_mode="PAY_PER_REQUEST",
            hash_key="quarantine_id",
            attribute=[DynamodbTableAttribute(name="quarantine_id", type="S")],
            ttl=DynamodbTableTtl(attribute_name="expires_at", enabled=True),
            point_in_time_recovery=DynamodbTablePointInTimeRecovery(enabled=True),
            server_side_encryption=DynamodbTableServerSideEncryption(enabled=True, kms_key_arn=kms_key_arn),
            deletion_protection_enabled=deletion_protection,
        )
        document = policy_document(
            self,
            "quarantine-table-policy-document",
            [
                deny_all_but(
                    "OnlyTheValidatorWrites",
                    ITEM_WRITE_ACTIONS,
                    [self.table.arn],
                    principal_arns=[writer_role_arn],
                )
            ],
        )
        self.policy = DynamodbResourcePolicy(
            self, "quarantine-table-policy", resource_arn=self.table.arn, policy=document.json
        )
