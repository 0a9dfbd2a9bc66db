"""The pipeline's DynamoDB tables, built one way: one string partition key, on-demand (PAY_PER_REQUEST),
the pipeline's CMK, point-in-time recovery and a TTL attribute (`pipeline_table`), and, where only some
roles may write items, a resource policy denying every other principal (`writers_only_policy`).

Used by the events table (modules/event_store.py), the quarantine (modules/quarantine_store.py) and the
example consumer's ledger (modules/example_consumer.py); each keeps its own construct ids, so Terraform
addresses and the synthesized JSON are what they were before this helper.
"""

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


def pipeline_table(
    scope: Construct,
    id_: str,
    *,
    name: str,
    hash_key: str,
    ttl_attribute: str,
    kms_key_arn: str,
    deletion_protection: bool,
    stream_view_type: str | None = None,
) -> DynamodbTable:
    """A table keyed by the string `hash_key`, encrypted with `kms_key_arn`, with PITR and TTL on
    `ttl_attribute`; `stream_view_type` (e.g. `NEW_IMAGE`) turns its stream on."""
    stream = {"stream_enabled": True, "stream_view_type": stream_view_type} if stream_view_type else {}
    return DynamodbTable(
        scope,
        id_,
        name=name,
        billing_mode="PAY_PER_REQUEST",
        hash_key=hash_key,
        attribute=[DynamodbTableAttribute(name=hash_key, type="S")],
        ttl=DynamodbTableTtl(attribute_name=ttl_attribute, enabled=True),
        point_in_time_recovery=DynamodbTablePointInTimeRecovery(enabled=True),
        server_side_encryption=DynamodbTableServerSideEncryption(enabled=True, kms_key_arn=kms_key_arn),
        deletion_protection_enabled=deletion_protection,
        **stream,
    )


def writers_only_policy(
    scope: Construct, id_: str, *, table: DynamodbTable, sid: str, writer_role_arns: Sequence[str]
) -> DynamodbResourcePolicy:
    """The table's resource policy: statement `sid` denies item writes to every principal but
    `writer_role_arns`; its policy document's id is `<id_>-document`."""
    document = policy_document(
        scope,
        f"{id_}-document",
        [deny_all_but(sid, ITEM_WRITE_ACTIONS, [table.arn], principal_arns=list(writer_role_arns))],
    )
    return DynamodbResourcePolicy(scope, id_, resource_arn=table.arn, policy=document.json)
