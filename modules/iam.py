"""Policy documents as `aws_iam_policy_document` data sources.

Checkov and the IAM linters evaluate those data sources, not JSON strings, so every identity and
resource policy in the stack goes through here.
"""

from __future__ import annotations

from collections.abc import Sequence

from cdktf_cdktf_provider_aws.data_aws_iam_policy_document import (
    DataAwsIamPolicyDocument,
    DataAwsIamPolicyDocumentStatement,
    DataAwsIamPolicyDocumentStatementCondition,
    DataAwsIamPolicyDocumentStatementPrincipals,
)
from constructs import Construct

Condition = tuple[str, str, Sequence[str]]  # (test, variable, values)


def allow(
    sid: str,
    actions: Sequence[str],
    resources: Sequence[str],
    *,
    service: str | None = None,
    aws: Sequence[str] | None = None,
    conditions: Sequence[Condition] = (),
) -> DataAwsIamPolicyDocumentStatement:
    """An Allow statement; `service`/`aws` set the principal for resource policies."""
    principals = []
    if service:
        principals.append(DataAwsIamPolicyDocumentStatementPrincipals(type="Service", identifiers=[service]))
    if aws:
        principals.append(DataAwsIamPolicyDocumentStatementPrincipals(type="AWS", identifiers=list(aws)))
    return DataAwsIamPolicyDocumentStatement(
        sid=sid,
        effect="Allow",
        actions=list(actions),
        resources=list(resources) or None,  # trust policies name no resource
        principals=principals or None,
        condition=[
            DataAwsIamPolicyDocumentStatementCondition(test=test, variable=variable, values=list(values))
            for test, variable, values in conditions
        ]
        or None,
    )


def deny_insecure_transport(actions: Sequence[str], resources: Sequence[str]) -> DataAwsIamPolicyDocumentStatement:
    """The TLS-only statement every resource policy carries."""
    return DataAwsIamPolicyDocumentStatement(
        sid="DenyInsecureTransport",
        effect="Deny",
        actions=list(actions),
        resources=list(resources),
        principals=[DataAwsIamPolicyDocumentStatementPrincipals(type="*", identifiers=["*"])],
        condition=[
            DataAwsIamPolicyDocumentStatementCondition(test="Bool", variable="aws:SecureTransport", values=["false"])
        ],
    )


def deny_all_but(
    sid: str, actions: Sequence[str], resources: Sequence[str], *, principal_arns: Sequence[str]
) -> DataAwsIamPolicyDocumentStatement:
    """Deny `actions` to every principal but the roles in `principal_arns` (`aws:PrincipalArn` is the
    role's ARN for any of its sessions). Same-account identity policies grant access on their own, so
    only an explicit Deny in the resource policy keeps other principals out. Calls AWS services make
    with their service principal (`aws:PrincipalIsAWSService`) are not denied.
    """
    return DataAwsIamPolicyDocumentStatement(
        sid=sid,
        effect="Deny",
        actions=list(actions),
        resources=list(resources),
        principals=[DataAwsIamPolicyDocumentStatementPrincipals(type="*", identifiers=["*"])],
        condition=[
            DataAwsIamPolicyDocumentStatementCondition(
                test="StringNotEquals", variable="aws:PrincipalArn", values=list(principal_arns)
            ),
            DataAwsIamPolicyDocumentStatementCondition(
                test="Bool", variable="aws:PrincipalIsAWSService", values=["false"]
            ),
        ],
    )


def policy_document(
    scope: Construct, id_: str, statements: Sequence[DataAwsIamPolicyDocumentStatement]
) -> DataAwsIamPolicyDocument:
    return DataAwsIamPolicyDocument(scope, id_, statement=list(statements))


def service_trust_policy(scope: Construct, id_: str, *, service: str, account_id: str) -> DataAwsIamPolicyDocument:
    """A role trust policy for one AWS service, limited to calls on behalf of this account."""
    return policy_document(
        scope,
        id_,
        [
            allow(
                "ServiceAssumesThisRole",
                ["sts:AssumeRole"],
                [],
                service=service,
                conditions=[("StringEquals", "aws:SourceAccount", [account_id])],
            )
        ],
    )
