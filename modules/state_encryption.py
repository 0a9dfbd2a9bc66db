"""The state key's name, and the bucket-policy statements that keep every state object under it.

Terraform's S3 backend with `encrypt = true` and no `kms_key_id` sends `AES256`, which overrides the
bucket's SSE-KMS default (checked with Terraform against moto): the backend must name the key
(`backend.kms_key_id`, default `alias/webhook-pipeline-state-{env}`, the alias the bootstrap stack
creates), and the bucket refuses any `PutObject` that does not.
"""

from __future__ import annotations

from cdktf_cdktf_provider_aws.data_aws_iam_policy_document import (
    DataAwsIamPolicyDocumentStatement,
    DataAwsIamPolicyDocumentStatementCondition,
    DataAwsIamPolicyDocumentStatementPrincipals,
)


def state_key_alias(environment: str) -> str:
    """`alias/webhook-pipeline-state-<env>`: what the bootstrap stack names the key and the backend uses."""
    return f"alias/webhook-pipeline-state-{environment}"


def _deny_put(
    sid: str, object_arns: str, test: str, variable: str, values: list[str]
) -> DataAwsIamPolicyDocumentStatement:
    return DataAwsIamPolicyDocumentStatement(
        sid=sid,
        effect="Deny",
        actions=["s3:PutObject"],
        resources=[object_arns],
        principals=[DataAwsIamPolicyDocumentStatementPrincipals(type="*", identifiers=["*"])],
        condition=[DataAwsIamPolicyDocumentStatementCondition(test=test, variable=variable, values=values)],
    )


def deny_puts_without_the_state_key(
    object_arns: str, *, key_arn: str, alias_arn: str, alias_name: str
) -> list[DataAwsIamPolicyDocumentStatement]:
    """Two Deny statements: a PutObject must ask for SSE-KMS, and name the state key.

    The key may be named by its ARN, its alias ARN or its alias (the request header carries what the
    client sent); a missing header is refused too, since `aws:kms` without a key id means `aws/s3`.
    """
    return [
        _deny_put(
            "DenyStateNotEncryptedWithKms",
            object_arns,
            "StringNotEquals",
            "s3:x-amz-server-side-encryption",
            ["aws:kms"],
        ),
        _deny_put(
            "DenyStateNotEncryptedWithTheStateKey",
            object_arns,
            "StringNotEquals",
            "s3:x-amz-server-side-encryption-aws-kms-key-id",
            [key_arn, alias_arn, alias_name],
        ),
    ]
