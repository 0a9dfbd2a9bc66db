"""The `webhook-pipeline-<env>` stack: reads like the data-flow diagram in docs, top to bottom."""

from __future__ import annotations

from cdktf import AssetType, S3Backend, TerraformAsset, TerraformOutput, TerraformStack
from cdktf_cdktf_provider_aws.lambda_event_source_mapping import (
    LambdaEventSourceMapping,
    LambdaEventSourceMappingDestinationConfig,
    LambdaEventSourceMappingDestinationConfigOnFailure,
    LambdaEventSourceMappingFilterCriteria,
    LambdaEventSourceMappingFilterCriteriaFilter,
)
from cdktf_cdktf_provider_aws.provider import AwsProvider, AwsProviderDefaultTags
from constructs import Construct

from modules.alarms import PipelineAlarms
from modules.api import WebhookApi, api_log_group_name
from modules.api_gateway_account import ApiGatewayAccountLogging
from modules.aws_context import AwsContext
from modules.capacity import plan_capacity
from modules.config import PipelineSettings
from modules.dashboard import PipelineDashboard
from modules.dashboard_body import METRICS_NAMESPACE
from modules.encryption import PipelineKey
from modules.event_store import EventTable
from modules.example_consumer import ExampleConsumer, example_consumer_name
from modules.function import PipelineFunction, lambda_log_group_name
from modules.http_api import WebhookHttpApi
from modules.iam import allow
from modules.lambda_package import LambdaPackage
from modules.quarantine_store import QuarantineTable
from modules.queues import FOURTEEN_DAYS, EncryptedQueue, QueueWithDeadLetter
from modules.reconciler import (
    Reconciler,
    api_secret_name,
    quiet_source_alarm,
    reconciler_name,
    reconciler_role_name,
)
from modules.signing_secret import SigningSecret, source_secret_name
from modules.sources_config import BODY_SIGNED_PROVIDERS, FETCHING_PROVIDERS, SIGNATURE_HEADERS, sources_environment
from modules.tracing import StageSampling
from modules.waf import WebhookFirewall, waf_log_group_name

ROUTED_TYPES = ("payments", "refunds", "disputes")
STREAM_READ_ACTIONS = (
    "dynamodb:DescribeStream",
    "dynamodb:GetRecords",
    "dynamodb:GetShardIterator",
    "dynamodb:ListStreams",
)
# Only INSERTs reach the router: TTL deletions and any future updates are not new events.
INSERT_ONLY_FILTER = '{"eventName":["INSERT"]}'


def pipeline_stack_name(environment: str) -> str:
    return f"webhook-pipeline-{environment}"


class WebhookPipelineStack(TerraformStack):
    def __init__(self, scope: Construct, *, settings: PipelineSettings, package: LambdaPackage) -> None:
        env = settings.environment
        # Every limit on the path, sized from the capacity contract; refuses settings that cannot meet it.
        capacity = plan_capacity(settings)
        super().__init__(scope, pipeline_stack_name(env))
        self._configure_state(settings)
        AwsProvider(
            self,
            "aws",
            region=settings.region,
            default_tags=[AwsProviderDefaultTags(tags={"Application": "webhook-pipeline", "Environment": env})],
        )
        aws = AwsContext.create(self, settings.region)
        validator_name, router_name = f"webhook-validator-{env}", f"event-router-{env}"
        api_name = f"webhook-api-{env}"
        validator_role_name, router_role_name = f"webhook-validator-role-{env}", f"event-router-role-{env}"
        # Spelled out rather than referenced: the roles are created with their functions, after the
        # table and queues whose resource policies name them.
        validator_role_arn = aws.arn("iam", f"role/{validator_role_name}", regional=False)
        # The router feeds the routed queues; the operator role (if configured) replays and redrives.
        queue_senders = [aws.arn("iam", f"role/{router_role_name}", regional=False)]
        queue_senders += [settings.operator_role_arn] if settings.operator_role_arn else []
        reconciling = any(source.reconcile is not None for source in settings.sources)

        key = PipelineKey(
            self,
            "encryption",
            environment=env,
            aws=aws,
            log_group_names=[
                lambda_log_group_name(validator_name),
                lambda_log_group_name(router_name),
                api_log_group_name(api_name),
                *([lambda_log_group_name(reconciler_name(env))] if reconciling else []),
                *([waf_log_group_name(env)] if settings.waf_enabled else []),
                *([lambda_log_group_name(example_consumer_name(env))] if settings.example_consumer else []),
            ],
        )
        key_arn = key.key.arn
        table = EventTable(
            self,
            "event-store",
            environment=env,
            kms_key_arn=key_arn,
            deletion_protection=settings.deletion_protection,
            writer_role_arn=validator_role_arn,
            # The reconciler writes through the door's own code (handlers/reconciler.py).
            other_writer_role_arns=(
                [aws.arn("iam", f"role/{reconciler_role_name(env)}", regional=False)] if reconciling else []
            ),
        ).table
        quarantine_table = QuarantineTable(
            self,
            "quarantine",
            environment=env,
            kms_key_arn=key_arn,
            deletion_protection=settings.deletion_protection,
            writer_role_arn=validator_role_arn,
        ).table
        secret = SigningSecret(self, "signing", environment=env, kms_key_arn=key_arn).secret
        source_secrets = {
            source.name: SigningSecret(
                self,
                f"source-{source.name}",
                environment=env,
                kms_key_arn=key_arn,
                name=source_secret_name(source.name, env),
                description=f"{source.provider} signing secrets of source {source.name} as JSON: secrets, a list "
                "in the provider's own format (docs/providers/)",
            ).secret
            for source in settings.sources
        }
        routed = {
            kind: QueueWithDeadLetter(
                self,
                f"{kind}-queues",
                kind=kind,
                environment=env,
                kms_key_arn=key_arn,
                max_receive_count=settings.max_receive_count,
                aws=aws,
                senders=queue_senders,
                fifo=settings.fifo_money_queues,
            )
            for kind in ROUTED_TYPES
        }
        # Known facts that move no money (authorizations, pending, failed, canceled; README, "The money
        # contract"): their own queue, which consumers may subscribe to; never the unknown-type alarm.
        lifecycle = QueueWithDeadLetter(
            self,
            "lifecycle-queues",
            kind="lifecycle",
            source_name=f"lifecycle-events-{env}",
            environment=env,
            kms_key_arn=key_arn,
            max_receive_count=settings.max_receive_count,
            aws=aws,
            senders=queue_senders,
        )
        unrouted = EncryptedQueue(
            self,
            "unrouted-events",
            name=f"unrouted-events-{env}",
            kms_key_arn=key_arn,
            retention_seconds=FOURTEEN_DAYS,
            senders=queue_senders,
        )
        router_dlq = EncryptedQueue(
            self,
            "event-router-dlq",
            name=f"event-router-dlq-{env}",
            kms_key_arn=key_arn,
            retention_seconds=FOURTEEN_DAYS,
        )

        # Terraform resolves the asset path relative to the stack folder; the asset copies the zip there.
        asset = TerraformAsset(self, "handlers-package", path=str(package.path), type=AssetType.FILE)
        common = dict(
            package=package,
            package_path=asset.path,
            kms_key_arn=key_arn,
            log_retention_days=settings.log_retention_days,
            aws=aws,
            # Both run per event: no START/END/REPORT line per invocation (modules/function.py).
            quiet_platform_logs=True,
        )
        # Sources that fetch amounts at the door need their API key there (docs/providers/gocardless.md).
        enriching = [source for source in settings.sources if source.enrich]
        validator = PipelineFunction(
            self,
            "validator",
            function_name=validator_name,
            role_name=validator_role_name,
            handler="validator.handler",
            memory_mb=settings.validator_memory_mb,
            timeout_seconds=settings.validator_timeout_seconds,
            reserved_concurrency=capacity.reserved_validator_concurrency,
            environment_variables={
                "EVENTS_TABLE_NAME": table.name,
                "QUARANTINE_TABLE_NAME": quarantine_table.name,
                "SIGNING_SECRET_ARN": secret.arn,
                "SIGNATURE_TOLERANCE_SECONDS": str(settings.signature_tolerance_seconds),
                "EVENT_TTL_DAYS": str(settings.event_ttl_days),
                **(
                    {
                        "SOURCES": sources_environment(
                            settings.sources,
                            {n: s.arn for n, s in source_secrets.items()},
                            {s.name: api_secret_name(s.name, env) for s in enriching},
                        )
                    }
                    if settings.sources
                    else {}
                ),
                # The function name, so the metrics of two environments in one account never add up.
                "POWERTOOLS_SERVICE_NAME": validator_name,
                "POWERTOOLS_METRICS_NAMESPACE": METRICS_NAMESPACE,
            },
            permissions=[
                allow("StoreEventsOnce", ["dynamodb:PutItem"], [table.arn]),
                # Keep refused signed deliveries; read and release one on an operator's readmission.
                allow(
                    "KeepAndReleaseQuarantinedDeliveries",
                    ["dynamodb:UpdateItem", "dynamodb:GetItem", "dynamodb:DeleteItem"],
                    [quarantine_table.arn],
                ),
                allow(
                    "ReadSigningSecret",
                    ["secretsmanager:GetSecretValue"],
                    [secret.arn, *(s.arn for s in source_secrets.values())],
                ),
                # The API keys of the sources that fetch amounts at the door (handlers/enrichment.py), each
                # by its name and the six characters Secrets Manager appends: those secrets only, read only.
                *(
                    [
                        allow(
                            "ReadApiKeysForAmounts",
                            ["secretsmanager:GetSecretValue"],
                            [
                                aws.arn("secretsmanager", f"secret:{api_secret_name(s.name, env)}-??????")
                                for s in enriching
                            ],
                        )
                    ]
                    if enriching
                    else []
                ),
                allow(
                    "DecryptSecretAndTableThroughTheirServices",
                    ["kms:Decrypt", "kms:GenerateDataKey"],
                    [key_arn],
                    conditions=[
                        (
                            "StringEquals",
                            "kms:ViaService",
                            [
                                f"secretsmanager.{settings.region}.amazonaws.com",
                                f"dynamodb.{settings.region}.amazonaws.com",
                            ],
                        )
                    ],
                ),
            ],
            **common,
        )
        queue_arns = [q.source.queue.arn for q in routed.values()] + [lifecycle.source.queue.arn, unrouted.queue.arn]
        router = PipelineFunction(
            self,
            "router",
            function_name=router_name,
            role_name=router_role_name,
            handler="router.handler",
            memory_mb=settings.router_memory_mb,
            timeout_seconds=settings.router_timeout_seconds,
            reserved_concurrency=capacity.reserved_router_concurrency,
            environment_variables={
                "PAYMENTS_QUEUE_URL": routed["payments"].source.queue.url,
                "REFUNDS_QUEUE_URL": routed["refunds"].source.queue.url,
                "DISPUTES_QUEUE_URL": routed["disputes"].source.queue.url,
                "UNROUTED_QUEUE_URL": unrouted.queue.url,
                "LIFECYCLE_QUEUE_URL": lifecycle.source.queue.url,
                "POWERTOOLS_SERVICE_NAME": router_name,
                "POWERTOOLS_METRICS_NAMESPACE": METRICS_NAMESPACE,
            },
            permissions=[
                allow("ReadTableStream", STREAM_READ_ACTIONS, [table.stream_arn]),
                allow("SendToRoutedQueues", ["sqs:SendMessage"], queue_arns),
                # The on-failure destination is written with the function's own role.
                allow("SendFailedBatchesToRouterDlq", ["sqs:SendMessage"], [router_dlq.queue.arn]),
                allow(
                    "EncryptMessagesAndReadStreamThroughTheirServices",
                    ["kms:Decrypt", "kms:GenerateDataKey"],
                    [key_arn],
                    conditions=[
                        (
                            "StringEquals",
                            "kms:ViaService",
                            [f"sqs.{settings.region}.amazonaws.com", f"dynamodb.{settings.region}.amazonaws.com"],
                        )
                    ],
                ),
            ],
            **common,
        )
        LambdaEventSourceMapping(
            self,
            "stream-to-router",
            event_source_arn=table.stream_arn,
            function_name=router.function.arn,
            starting_position="TRIM_HORIZON",
            batch_size=settings.router_batch_size,
            # Concurrent batches per shard: the router keeps up with a partition written at full speed
            # twice over (modules/capacity.py); records of one event_id stay in order.
            parallelization_factor=capacity.parallelization_factor,
            maximum_batching_window_in_seconds=settings.router_batching_window_seconds,
            bisect_batch_on_function_error=True,
            maximum_retry_attempts=settings.router_maximum_retry_attempts,
            maximum_record_age_in_seconds=settings.router_maximum_record_age_seconds,
            function_response_types=["ReportBatchItemFailures"],
            filter_criteria=LambdaEventSourceMappingFilterCriteria(
                filter=[LambdaEventSourceMappingFilterCriteriaFilter(pattern=INSERT_ONLY_FILTER)]
            ),
            destination_config=LambdaEventSourceMappingDestinationConfig(
                on_failure=LambdaEventSourceMappingDestinationConfigOnFailure(destination_arn=router_dlq.queue.arn)
            ),
            # The role must be able to read the stream before Lambda validates the mapping.
            depends_on=[router.function],
        )

        example = None
        if settings.example_consumer:
            example = ExampleConsumer(
                self,
                "example-consumer",
                environment=env,
                kms_key_arn=key_arn,
                queue_arns=[queues.source.queue.arn for queues in routed.values()],
                build_dir=package.path.parent,
                deletion_protection=settings.deletion_protection,
                log_retention_days=settings.log_retention_days,
                aws=aws,
            )

        if settings.manage_api_gateway_account:
            ApiGatewayAccountLogging(self, "apigateway-account-logging", environment=env, aws=aws)
        front_door = dict(
            environment=env,
            validator_function_name=validator.function.function_name,
            validator_invoke_arn=validator.function.invoke_arn,
            kms_key_arn=key_arn,
            log_retention_days=settings.log_retention_days,
            throttle_rate_limit=capacity.api_rate_limit,
            throttle_burst_limit=capacity.api_burst_limit,
            source_signature_headers={source.name: SIGNATURE_HEADERS[source.provider] for source in settings.sources},
        )
        api: WebhookApi | WebhookHttpApi
        if settings.front_door == "http_api":  # docs/FRONT-DOOR.md; config refuses it with WAF
            api = WebhookHttpApi(self, "webhook-http-api", **front_door)
        else:
            api = WebhookApi(
                self, "webhook-api", execution_logging_level=settings.api_execution_logging_level, **front_door
            )
        # HTTP APIs record no X-Ray segment: a stage sampling rule would match nothing.
        if settings.xray_sampling_rule and isinstance(api, WebhookApi):
            StageSampling(self, "tracing", environment=env, api_name=api.name, stage_name=api.stage.stage_name)
        if settings.waf_enabled:
            WebhookFirewall(
                self,
                "firewall",
                environment=env,
                stage_arn=api.stage.arn,
                unsigned_rate_limit_per_5min=capacity.waf_unsigned_limit_per_5min,
                signed_rate_limit_per_5min=capacity.waf_signed_limit_per_5min,
                # Standard Webhooks signs under either name; each source under its provider's header.
                signature_headers=sorted(
                    {"webhook-signature", "svix-signature"}
                    | {h for source in settings.sources if (h := SIGNATURE_HEADERS[source.provider])}
                ),
                body_signed_paths=sorted(
                    f"/webhook/{source.name}" for source in settings.sources if source.provider in BODY_SIGNED_PROVIDERS
                ),
                kms_key_arn=key_arn,
                log_retention_days=settings.log_retention_days,
            )

        alarms = PipelineAlarms(
            self, "alarms", environment=env, kms_key_arn=key_arn, alarm_email=settings.alarm_email, aws=aws
        )
        for kind, queues in routed.items():
            alarms.messages_waiting(
                queues.dead_letter.name, f"{kind} messages failed processing; redrive after fixing the consumer"
            )
            alarms.oldest_message_age(queues.source.name)
        alarms.messages_waiting(
            lifecycle.dead_letter.name, "lifecycle messages failed processing; redrive after fixing the consumer"
        )
        alarms.messages_waiting(unrouted.name, "stored events of an unknown transaction_type; route or replay them")
        alarms.messages_waiting(
            router_dlq.name, "stream batches the router could not deliver; replay them from the table"
        )
        for function_name in (validator_name, router_name):
            alarms.function_errors(function_name)
        alarms.iterator_age(router_name)
        if isinstance(api, WebhookHttpApi):
            alarms.http_api_server_errors(api.name, api.api_id, api.stage.name)
        else:
            alarms.api_server_errors(api.name, api.stage.stage_name)
        for source in settings.sources:
            alarms.source_signature_refusals(source.name, validator_service=validator_name)
            if source.provider in FETCHING_PROVIDERS:
                alarms.source_fetch_credential_refused(source.name, validator_service=validator_name)
        alarms.quarantined(validator_service=validator_name, table_name=quarantine_table.name)
        alarms.quarantine_failures(validator_service=validator_name)
        alarms.secret_entries_skipped(validator_service=validator_name)
        reconciler = None
        if reconciling:
            reconciler = Reconciler(
                self,
                "reconciler",
                environment=env,
                region=settings.region,
                sources=settings.sources,
                events_table_name=table.name,
                events_table_arn=table.arn,
                event_ttl_days=settings.event_ttl_days,
                kms_key_arn=key_arn,
                deletion_protection=settings.deletion_protection,
                alarms=alarms,
                metrics_namespace=METRICS_NAMESPACE,
                package=package,
                package_path=asset.path,
                log_retention_days=settings.log_retention_days,
                aws=aws,
            )
            alarms.function_errors(reconciler_name(env))
        for source in settings.sources:
            if source.expect_events_within_minutes is not None:
                quiet_source_alarm(self, alarms, source, validator_service=validator_name)
        PipelineDashboard(
            self,
            "dashboard",
            environment=env,
            region=settings.region,
            validator_service=validator_name,
            validator_function=validator_name,
            router_function=router_name,
            queue_names=[
                *(name for queues in routed.values() for name in (queues.source.name, queues.dead_letter.name)),
                lifecycle.source.name,
                lifecycle.dead_letter.name,
                unrouted.name,
                router_dlq.name,
            ],
            alarm_arns=[alarm.arn for alarm in alarms.alarms],
            sources=[source.name for source in settings.sources],
            reconciler_service=reconciler_name(env) if reconciling else None,
            reconciling_sources=[source.name for source in settings.sources if source.reconcile is not None],
        )

        outputs = {
            "api_endpoint": api.endpoint,
            "dynamodb_table_name": table.name,
            "quarantine_table_name": quarantine_table.name,
            "payments_queue_url": routed["payments"].source.queue.url,
            "refunds_queue_url": routed["refunds"].source.queue.url,
            "disputes_queue_url": routed["disputes"].source.queue.url,
            "payments_dlq_url": routed["payments"].dead_letter.queue.url,
            "refunds_dlq_url": routed["refunds"].dead_letter.queue.url,
            "disputes_dlq_url": routed["disputes"].dead_letter.queue.url,
            "unrouted_queue_url": unrouted.queue.url,
            "lifecycle_queue_url": lifecycle.source.queue.url,
            "lifecycle_dlq_url": lifecycle.dead_letter.queue.url,
            "event_router_dlq_url": router_dlq.queue.url,
            "validator_lambda_arn": validator.function.arn,
            "router_lambda_arn": router.function.arn,
            "signing_secret_arn": secret.arn,
            "alarm_topic_arn": alarms.topic.arn,
            "kms_key_arn": key_arn,
            # name -> URL to register with the provider, and name -> secret to put its signing secret in.
            "source_endpoints": api.source_endpoints,
            "source_secret_arns": {name: s.arn for name, s in sorted(source_secrets.items())},
        }
        if example is not None:
            outputs["example_ledger_table_name"] = example.table.name
            outputs["example_consumer_lambda_arn"] = example.function.function.arn
        if reconciler is not None:
            outputs["reconciler_lambda_arn"] = reconciler.function.function.arn
            outputs["reconciler_state_table_name"] = reconciler.state_table.name
            # name -> secret to put the provider's read-only API key in ({"api_key": "..."}).
            outputs["source_api_secret_arns"] = {n: s.arn for n, s in sorted(reconciler.api_secrets.items())}
        for name, value in outputs.items():
            TerraformOutput(self, name, value=value)

    def _configure_state(self, settings: PipelineSettings) -> None:
        backend_settings = settings.backend
        backend = S3Backend(
            self,
            bucket=backend_settings.bucket,
            key=backend_settings.key,
            region=backend_settings.region,
            encrypt=backend_settings.encrypt,
            kms_key_id=backend_settings.kms_key_id,
        )
        # CDKTF 0.21 predates S3-native locking; the override writes the argument Terraform >= 1.10 reads.
        backend.add_override("use_lockfile", backend_settings.use_lockfile)
