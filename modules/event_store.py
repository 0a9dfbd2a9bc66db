"""DynamoDB table `transaction-events-<env>`: the one place an event is stored, exactly once."""

from __future__ import annotations

from collections.abc import Sequence

from constructs import Construct

from modules.dynamodb_table import pipeline_table, writers_only_policy


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
        self.table = pipeline_table(
            self,
            "events-table",
            name=f"transaction-events-{environment}",
            hash_key="event_id",
            ttl_attribute="ttl",
            kms_key_arn=kms_key_arn,
            deletion_protection=deletion_protection,
            # NEW_IMAGE: the router needs the stored event, never the previous version.
            stream_view_type="NEW_IMAGE",
        )
        self.policy = writers_only_policy(
            self,
            "events-table-policy",
            table=self.table,
            sid="OnlyTheValidatorWrites",
            writer_role_arns=[writer_role_arn, *other_writer_role_arns],
        )
