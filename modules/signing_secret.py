"""Secrets Manager containers for signing secrets; their values are set by an operator, never by Terraform."""

from __future__ import annotations

from cdktf_cdktf_provider_aws.secretsmanager_secret import SecretsmanagerSecret
from cdktf_cdktf_provider_aws.secretsmanager_secret_policy import SecretsmanagerSecretPolicy
from constructs import Construct

from modules.iam import deny_insecure_transport, policy_document

STANDARD_SECRET_DESCRIPTION = "Standard Webhooks signing secrets as JSON: signing_secrets, a list (see README)"  # noqa: S105


def source_secret_name(source: str, environment: str) -> str:
    return f"webhook-source-{source}-{environment}"


class SigningSecret(Construct):
    """No `aws_secretsmanager_secret_version` on purpose: the value never enters code, state or cdk.tf.json."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        environment: str,
        kms_key_arn: str,
        name: str | None = None,
        description: str = STANDARD_SECRET_DESCRIPTION,
    ) -> None:
        super().__init__(scope, id_)
        self.secret = SecretsmanagerSecret(
            self,
            "signing-secret",
            name=name or f"webhook-signing-secret-{environment}",
            description=description,
            kms_key_id=kms_key_arn,
            recovery_window_in_days=7,
        )
        document = policy_document(
            self, "secret-policy-document", [deny_insecure_transport(["secretsmanager:*"], ["*"])]
        )
        SecretsmanagerSecretPolicy(self, "secret-policy", secret_arn=self.secret.arn, policy=document.json)
