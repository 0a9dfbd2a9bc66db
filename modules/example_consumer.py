"""The example consumer (`example_consumer: true`): a ledger fed by the money queues through the
consumer package (consumer/, `webhook_consumer`), deployed only where the setting is on (the sandbox).

- `example-ledger-<env>`: its own DynamoDB table (CMK, PITR, TTL on `expires_at`), holding the guard's
  records and one ledger row per applied money fact (consumer/example/ledger_consumer.py);
- `example-ledger-consumer-<env>`: Lambda `ledger_consumer.handler`, its zip holding only
  `webhook_consumer` and `ledger_consumer.py` (no dependency: boto3 is the runtime's);
- one SQS event source mapping per money queue, `ReportBatchItemFailures` (the package's partial batch
  response). Least privilege: receive/delete/attributes on those three queues, the CMK through SQS and
  DynamoDB only, `GetItem`/`PutItem` on its own table (`TransactWriteItems` is authorized per action it
  holds: its `Put`s need `PutItem`; DynamoDB Developer Guide, "Using IAM with DynamoDB transactions").
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path

from cdktf import AssetType, TerraformAsset
from cdktf_cdktf_provider_aws.lambda_event_source_mapping import LambdaEventSourceMapping
from constructs import Construct

from modules.aws_context import AwsContext
from modules.dynamodb_table import pipeline_table
from modules.function import PipelineFunction
from modules.iam import allow
from modules.lambda_package import PROJECT_ROOT, LambdaPackage, build_lambda_package

CONSUMER_DIR = PROJECT_ROOT / "consumer"
HANDLER = "ledger_consumer.handler"
BATCH_SIZE = 10
# The function's timeout must stay under the queues' visibility timeout (modules/queues.py, 900 s).
TIMEOUT_SECONDS = 60


def example_consumer_name(environment: str) -> str:
    """`example-ledger-consumer-<env>`."""
    return f"example-ledger-consumer-{environment}"


def build_consumer_package(build_dir: Path) -> LambdaPackage:
    """The example consumer's zip: `webhook_consumer/` and `ledger_consumer.py`, deterministic like the
    handlers' zip (modules/lambda_package.py), staged under `build_dir`."""
    staging = build_dir / "example-consumer-src"
    if staging.exists():
        shutil.rmtree(staging)
    shutil.copytree(CONSUMER_DIR / "src" / "webhook_consumer", staging / "webhook_consumer",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))  # fmt: skip
    shutil.copy2(CONSUMER_DIR / "example" / "ledger_consumer.py", staging / "ledger_consumer.py")
    return build_lambda_package(handlers_dir=staging, build_dir=build_dir, distributions=())


class ExampleConsumer(Construct):
    """The ledger table, the consumer function and its three queue mappings (module doc)."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        environment: str,
        kms_key_arn: str,
        queue_arns: Sequence[str],
        build_dir: Path,
        deletion_protection: bool,
        log_retention_days: int,
        aws: AwsContext,
    ) -> None:
        super().__init__(scope, id_)
        self.table = pipeline_table(
            self,
            "ledger-table",
            name=f"example-ledger-{environment}",
            hash_key="pk",
            ttl_attribute="expires_at",
            kms_key_arn=kms_key_arn,
            deletion_protection=deletion_protection,
        )
        package = build_consumer_package(build_dir)
        asset = TerraformAsset(self, "consumer-package", path=str(package.path), type=AssetType.FILE)
        function_name = example_consumer_name(environment)
        self.function = PipelineFunction(
            self,
            "consumer",
            function_name=function_name,
            role_name=f"example-ledger-consumer-role-{environment}",
            handler=HANDLER,
            package=package,
            package_path=asset.path,
            memory_mb=256,
            timeout_seconds=TIMEOUT_SECONDS,
            reserved_concurrency=None,
            environment_variables={"LEDGER_TABLE_NAME": self.table.name},
            permissions=[
                allow(
                    "ReceiveMoneyQueues",
                    ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"],
                    list(queue_arns),
                ),
                allow(
                    "DecryptThroughSqsAndDynamodb",
                    ["kms:Decrypt", "kms:GenerateDataKey"],
                    [kms_key_arn],
                    conditions=[
                        (
                            "StringEquals",
                            "kms:ViaService",
                            [f"sqs.{aws.region}.amazonaws.com", f"dynamodb.{aws.region}.amazonaws.com"],
                        )
                    ],
                ),
                allow("LedgerReadWrite", ["dynamodb:GetItem", "dynamodb:PutItem"], [self.table.arn]),
            ],
            kms_key_arn=kms_key_arn,
            log_retention_days=log_retention_days,
            aws=aws,
        )
        for index, queue_arn in enumerate(queue_arns):
            LambdaEventSourceMapping(
                self,
                f"queue-{index}-to-consumer",
                event_source_arn=queue_arn,
                function_name=self.function.function.arn,
                batch_size=BATCH_SIZE,
                function_response_types=["ReportBatchItemFailures"],
                depends_on=[self.function.function],
            )
