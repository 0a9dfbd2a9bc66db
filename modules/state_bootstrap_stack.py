"""The `state-bootstrap` stack: the S3 bucket that holds every environment's Terraform state.

It keeps its own state in a local file (it cannot live in the bucket it creates); apply it once per
account before the first `cdktf deploy` of a pipeline stack.
"""

from __future__ import annotations

from cdktf import LocalBackend, TerraformOutput, TerraformStack
from cdktf_cdktf_provider_aws.kms_alias import KmsAlias
from cdktf_cdktf_provider_aws.kms_key import KmsKey
from cdktf_cdktf_provider_aws.provider import AwsProvider, AwsProviderDefaultTags
from cdktf_cdktf_provider_aws.s3_bucket import S3Bucket
from cdktf_cdktf_provider_aws.s3_bucket_lifecycle_configuration import (
    S3BucketLifecycleConfiguration,
    S3BucketLifecycleConfigurationRule,
    S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload,
    S3BucketLifecycleConfigurationRuleFilter,
    S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration,
)
from cdktf_cdktf_provider_aws.s3_bucket_ownership_controls import (
    S3BucketOwnershipControls,
    S3BucketOwnershipControlsRule,
)
from cdktf_cdktf_provider_aws.s3_bucket_policy import S3BucketPolicy
from cdktf_cdktf_provider_aws.s3_bucket_public_access_block import S3BucketPublicAccessBlock
from cdktf_cdktf_provider_aws.s3_bucket_server_side_encryption_configuration import (
    S3BucketServerSideEncryptionConfigurationA,
    S3BucketServerSideEncryptionConfigurationRuleA,
    S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA,
)
from cdktf_cdktf_provider_aws.s3_bucket_versioning import (
    S3BucketVersioningA,
    S3BucketVersioningVersioningConfiguration,
)
from constructs import Construct

from modules.aws_context import AwsContext
from modules.config import PipelineSettings
from modules.encryption import KEY_ADMIN_ACTIONS, KEY_USE_ACTIONS, THIS_KEY
from modules.iam import allow, deny_insecure_transport, policy_document
from modules.state_encryption import deny_puts_without_the_state_key, state_key_alias

STATE_BOOTSTRAP_STACK = "state-bootstrap"


class StateBootstrapStack(TerraformStack):
    def __init__(self, scope: Construct, *, settings: PipelineSettings) -> None:
        super().__init__(scope, STATE_BOOTSTRAP_STACK)
        env = settings.environment
        # Relative to cdktf.out/stacks/state-bootstrap, i.e. the project root: cdktf.out is rebuilt on
        # every synth and must not hold the only copy of this state.
        LocalBackend(self, path=f"../../../terraform.state-bootstrap-{env}.tfstate")
        AwsProvider(
            self,
            "aws",
            region=settings.backend.region,
            default_tags=[AwsProviderDefaultTags(tags={"Application": "webhook-pipeline-state", "Environment": env})],
        )
        aws = AwsContext.create(self, settings.backend.region)
        key_policy = policy_document(
            self,
            "state-key-policy-document",
            [
                allow(
                    "AccountAdministersAndDelegates",
                    KEY_ADMIN_ACTIONS + KEY_USE_ACTIONS,
                    [THIS_KEY],
                    aws=[aws.root_principal],
                )
            ],
        )
        key = KmsKey(
            self,
            "state-key",
            description=f"Terraform state of the webhook pipeline ({env})",
            enable_key_rotation=True,
            deletion_window_in_days=30,
            policy=key_policy.json,
        )
        KmsAlias(self, "state-key-alias", name=state_key_alias(env), target_key_id=key.key_id)
        bucket = S3Bucket(self, "state-bucket", bucket=settings.backend.bucket)
        S3BucketVersioningA(
            self,
            "state-bucket-versioning",
            bucket=bucket.id,
            versioning_configuration=S3BucketVersioningVersioningConfiguration(status="Enabled"),
        )
        S3BucketServerSideEncryptionConfigurationA(
            self,
            "state-bucket-encryption",
            bucket=bucket.id,
            rule=[
                S3BucketServerSideEncryptionConfigurationRuleA(
                    apply_server_side_encryption_by_default=S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA(
                        sse_algorithm="aws:kms", kms_master_key_id=key.arn
                    ),
                    bucket_key_enabled=True,
                )
            ],
        )
        S3BucketLifecycleConfiguration(
            self,
            "state-bucket-lifecycle",
            bucket=bucket.id,
            rule=[
                S3BucketLifecycleConfigurationRule(
                    id="keep-recent-state-versions",
                    status="Enabled",
                    filter=[S3BucketLifecycleConfigurationRuleFilter(prefix="")],
                    # Old state versions are the undo history: keep the last 100 and anything under 90 days.
                    noncurrent_version_expiration=[
                        S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration(
                            noncurrent_days=90, newer_noncurrent_versions=100
                        )
                    ],
                    abort_incomplete_multipart_upload=[
                        S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload(days_after_initiation=7)
                    ],
                )
            ],
        )
        S3BucketPublicAccessBlock(
            self,
            "state-bucket-public-access-block",
            bucket=bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
        )
        S3BucketOwnershipControls(
            self,
            "state-bucket-ownership",
            bucket=bucket.id,
            rule=S3BucketOwnershipControlsRule(object_ownership="BucketOwnerEnforced"),
        )
        bucket_policy = policy_document(
            self,
            "state-bucket-policy-document",
            [
                deny_insecure_transport(["s3:*"], [bucket.arn, f"{bucket.arn}/*"]),
                # State objects only: the lock object (`<key>.tflock`) holds no state.
                *deny_puts_without_the_state_key(
                    f"{bucket.arn}/*.tfstate",
                    key_arn=key.arn,
                    alias_arn=aws.arn("kms", state_key_alias(env)),
                    alias_name=state_key_alias(env),
                ),
            ],
        )
        S3BucketPolicy(self, "state-bucket-policy", bucket=bucket.id, policy=bucket_policy.json)
        TerraformOutput(self, "state_bucket_name", value=bucket.bucket)
        TerraformOutput(self, "state_key_arn", value=key.arn)
