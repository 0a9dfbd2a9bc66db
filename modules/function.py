"""A Lambda function with its own role, log group and nothing else: grants come from the composing stack."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktf_cdktf_provider_aws.data_aws_iam_policy_document import DataAwsIamPolicyDocumentStatement
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from cdktf_cdktf_provider_aws.lambda_function import (
    LambdaFunction,
    LambdaFunctionEnvironment,
    LambdaFunctionLoggingConfig,
    LambdaFunctionTracingConfig,
)
from constructs import Construct

from modules.aws_context import AwsContext
from modules.iam import allow, policy_document, service_trust_policy
from modules.lambda_package import LambdaPackage

RUNTIME = "python3.11"
ARCHITECTURE = "arm64"
# Lambda's advanced logging controls for the per-event functions (issue 20): platform lines at WARN drop
# the START/END/REPORT lines of every invocation (~330 B, filed at INFO; $18 a month at 100 M events);
# platform events at WARN and above still come through. Log-level filtering needs the JSON format. Application lines stay at
# INFO: Lambda files a stdout JSON line without a `level` (the EMF metrics line) as INFO, so a higher
# level would drop the metrics; Powertools' own JSON lines and print()ed lines pass through unchanged.
# https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs-log-level.html
QUIET_PLATFORM_LOGS = LambdaFunctionLoggingConfig(
    log_format="JSON", application_log_level="INFO", system_log_level="WARN"
)


def lambda_log_group_name(function_name: str) -> str:
    return f"/aws/lambda/{function_name}"


class PipelineFunction(Construct):
    """python3.11 on arm64 with active tracing; the log group exists before the function can write to it."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        function_name: str,
        role_name: str,
        handler: str,
        package: LambdaPackage,
        package_path: str,
        memory_mb: int,
        timeout_seconds: int,
        reserved_concurrency: int | None,
        environment_variables: Mapping[str, str],
        permissions: Sequence[DataAwsIamPolicyDocumentStatement],
        kms_key_arn: str,
        log_retention_days: int,
        aws: AwsContext,
        quiet_platform_logs: bool = False,
    ) -> None:
        super().__init__(scope, id_)
        self.log_group = CloudwatchLogGroup(
            self,
            "log-group",
            name=lambda_log_group_name(function_name),
            retention_in_days=log_retention_days,
            kms_key_id=kms_key_arn,
        )
        assume = service_trust_policy(
            self, "assume-role-document", service="lambda.amazonaws.com", account_id=aws.account_id
        )
        self.role = IamRole(self, "role", name=role_name, assume_role_policy=assume.json)
        own_logs = f"{self.log_group.arn}:*"
        policy = policy_document(
            self,
            "role-policy-document",
            [
                allow("WriteOwnLogs", ["logs:CreateLogStream", "logs:PutLogEvents"], [own_logs]),
                # X-Ray has no resource-level permissions: `*` is the only form it accepts.
                allow("WriteTraces", ["xray:PutTelemetryRecords", "xray:PutTraceSegments"], ["*"]),
                # Lambda decrypts the environment (encrypted with the CMK) under this function's context only.
                allow(
                    "DecryptOwnEnvironment",
                    ["kms:Decrypt"],
                    [kms_key_arn],
                    conditions=[
                        ("StringEquals", "kms:ViaService", [f"lambda.{aws.region}.amazonaws.com"]),
                        ("StringEquals", "kms:EncryptionContext:LambdaFunctionName", [function_name]),
                    ],
                ),
                *permissions,
            ],
        )
        role_policy = IamRolePolicy(self, "role-policy", role=self.role.id, policy=policy.json)
        self.function = LambdaFunction(
            self,
            "function",
            function_name=function_name,
            role=self.role.arn,
            handler=handler,
            runtime=RUNTIME,
            architectures=[ARCHITECTURE],
            filename=package_path,
            source_code_hash=package.source_code_hash,
            memory_size=memory_mb,
            timeout=timeout_seconds,
            reserved_concurrent_executions=reserved_concurrency,
            tracing_config=LambdaFunctionTracingConfig(mode="Active"),
            logging_config=QUIET_PLATFORM_LOGS if quiet_platform_logs else None,
            environment=LambdaFunctionEnvironment(variables=dict(environment_variables)),
            kms_key_arn=kms_key_arn,
            # Log group first, or Lambda creates an unencrypted one that never expires.
            depends_on=[self.log_group, role_policy],
        )
