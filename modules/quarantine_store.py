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

from constructs import Construct

from modules.dynamodb_table import pipeline_table, writers_only_policy


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
        self.table = pipeline_table(
            self,
            "quarantine-table",
            name=f"webhook-quarantine-{environment}",
            hash_key="quarantine_id",
            ttl_attribute="expires_at",
            kms_key_arn=kms_key_arn,
            deletion_protection=deletion_protection,
        )
        self.policy = writers_only_policy(
            self,
            "quarantine-table-policy",
            table=self.table,
            sid="OnlyTheValidatorWrites",
            writer_role_arns=[writer_role_arn],
        )
