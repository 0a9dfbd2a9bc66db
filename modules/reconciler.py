"""`webhook-reconciler-<env>`: the scheduled pull from the providers' own APIs, and the quiet-source watchdog.

Built only when a source sets `reconcile` (modules/reconcile_config.py): the state table
`webhook-reconciler-state-<env>` (CMK, PITR, TTL), one API secret container per reconciling source
(`webhook-source-<name>-api-<env>`, CMK, value set by an operator), the function, one EventBridge rule
per source (`rate(<interval_minutes> minutes)`, input `{"source": "<name>"}`), and per source the
alarms `source-<name>-reconciled-missing`, `source-<name>-reconcile-failed`, `source-<name>-reconcile-gap`.
`quiet_source_alarm` is the watchdog of any source with `expect_events_within_minutes`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence

from cdktf_cdktf_provider_aws.cloudwatch_event_rule import CloudwatchEventRule
from cdktf_cdktf_provider_aws.cloudwatch_event_target import CloudwatchEventTarget
from cdktf_cdktf_provider_aws.cloudwatch_metric_alarm import CloudwatchMetricAlarm
from cdktf_cdktf_provider_aws.dynamodb_table import (
    DynamodbTable,
    DynamodbTableAttribute,
    DynamodbTablePointInTimeRecovery,
    DynamodbTableServerSideEncryption,
    DynamodbTableTtl,
)
from cdktf_cdktf_provider_aws.lambda_permission import LambdaPermission
from constructs import Construct

from modules.alarms import VALIDATOR_METRICS_NAMESPACE, PipelineAlarms
from modules.function import PipelineFunction
from modules.iam import allow
from modules.signing_secret import SigningSecret
from modules.sources_config import SourceSettings

RECONCILER_MEMORY_MB = 256
# Well above a run of a few pages; the client's timeouts (10 s per attempt) and the handler's deadline
# margin (20 s) keep every run inside it.
RECONCILER_TIMEOUT_SECONDS = 300
STATE_ACTIONS = ("dynamodb:GetItem", "dynamodb:UpdateItem", "dynamodb:BatchGetItem", "dynamodb:BatchWriteItem")


def api_secret_name(source: str, environment: str) -> str:
    return f"webhook-source-{source}-api-{environment}"


def reconciler_name(environment: str) -> str:
    return f"webhook-reconciler-{environment}"


def reconciler_role_name(environment: str) -> str:
    return f"webhook-reconciler-role-{environment}"


class Reconciler(Construct):
    """Everything the reconciler needs; `self.function`, `self.state_table`, `self.api_secrets` by source."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        environment: str,
        region: str,
        sources: Sequence[SourceSettings],
        events_table_name: str,
        events_table_arn: str,
        event_ttl_days: int,
        kms_key_arn: str,
        deletion_protection: bool,
        alarms: PipelineAlarms,
        metrics_namespace: str,
        **function_common: object,
    ) -> None:
        super().__init__(scope, id_)
        reconciling = [source for source in sources if source.reconcile is not None]
        self.state_table = DynamodbTable(
            self,
            "reconciler-state-table",
            name=f"webhook-reconciler-state-{environment}",
            billing_mode="PAY_PER_REQUEST",
            hash_key="pk",
            attribute=[DynamodbTableAttribute(name="pk", type="S")],
            ttl=DynamodbTableTtl(attribute_name="ttl", enabled=True),
            point_in_time_recovery=DynamodbTablePointInTimeRecovery(enabled=True),
            server_side_encryption=DynamodbTableServerSideEncryption(enabled=True, kms_key_arn=kms_key_arn),
            deletion_protection_enabled=deletion_protection,
        )
        self.api_secrets = {
            source.name: SigningSecret(
                self,
                f"api-secret-{source.name}",
                environment=environment,
                kms_key_arn=kms_key_arn,
                name=api_secret_name(source.name, environment),
                description=f"{source.provider} read-only API key of source {source.name} as JSON: "
                '{"api_key": "..."} (docs/providers/)',
            ).secret
            for source in reconciling
        }
        entries = {
            source.name: {
                **source.reconcile.environment_entry(source.provider, self.api_secrets[source.name].arn),  # type: ignore[union-attr]
                **({"type_map": dict(source.type_map)} if source.type_map else {}),
                **({"route_unmapped": False} if not source.route_unmapped else {}),
                **({"enrich": True} if source.enrich else {}),
            }
            for source in reconciling
        }
        name = reconciler_name(environment)
        self.function = PipelineFunction(
            self,
            "reconciler",
            function_name=name,
            role_name=reconciler_role_name(environment),
            handler="reconciler.handler",
            memory_mb=RECONCILER_MEMORY_MB,
            timeout_seconds=RECONCILER_TIMEOUT_SECONDS,
            # One run per source at a time is all the schedules need; more would only race on the checkpoint.
            reserved_concurrency=max(1, len(reconciling)),
            environment_variables={
                "EVENTS_TABLE_NAME": events_table_name,
                "EVENT_TTL_DAYS": str(event_ttl_days),
                "RECONCILER_STATE_TABLE": self.state_table.name,
                "RECONCILE_SOURCES": json.dumps(entries, sort_keys=True, separators=(",", ":")),
                "POWERTOOLS_SERVICE_NAME": name,
                "POWERTOOLS_METRICS_NAMESPACE": metrics_namespace,
            },
            permissions=[
                # The door's conditional write, nothing else on the events table.
                allow("StoreMissingEventsOnce", ["dynamodb:PutItem"], [events_table_arn]),
                allow("KeepCheckpointsAndSeenSet", STATE_ACTIONS, [self.state_table.arn]),
                allow("ReadApiKeys", ["secretsmanager:GetSecretValue"], [s.arn for s in self.api_secrets.values()]),
                allow(
                    "DecryptSecretsAndTablesThroughTheirServices",
                    ["kms:Decrypt", "kms:GenerateDataKey"],
                    [kms_key_arn],
                    conditions=[
                        (
                            "StringEquals",
                            "kms:ViaService",
                            [f"secretsmanager.{region}.amazonaws.com", f"dynamodb.{region}.amazonaws.com"],
                        )
                    ],
                ),
            ],
            kms_key_arn=kms_key_arn,
            **function_common,  # type: ignore[arg-type]
        )
        for source in reconciling:
            rule = CloudwatchEventRule(
                self,
                f"schedule-{source.name}",
                name=f"webhook-reconcile-{source.name}-{environment}",
                description=f"reconcile source {source.name} ({source.provider}) with its provider's event list",
                schedule_expression=f"rate({source.reconcile.interval_minutes} minutes)",  # type: ignore[union-attr]
            )
            CloudwatchEventTarget(
                self,
                f"schedule-target-{source.name}",
                rule=rule.name,
                arn=self.function.function.arn,
                input=json.dumps({"source": source.name}, separators=(",", ":")),
            )
            LambdaPermission(
                self,
                f"schedule-permission-{source.name}",
                statement_id=f"ReconcileSchedule-{source.name}",
                action="lambda:InvokeFunction",
                function_name=self.function.function.function_name,
                principal="events.amazonaws.com",
                source_arn=rule.arn,
            )
            self._alarms(alarms, source, name, metrics_namespace)

    def _alarms(self, alarms: PipelineAlarms, source: SourceSettings, service: str, namespace: str) -> None:
        dimensions = {"service": service, "source": source.name}
        why = {
            "ReconciledMissing": (
                "reconciled-missing",
                f"the reconciler stored events of {source.name} that the door never received: a webhook was lost "
                "upstream (endpoint down longer than the provider retries, a secret rotated on one side, an "
                "endpoint disabled); see the runbook 'A reconciled event appeared'",
            ),
            "ReconcileFailed": (
                "reconcile-failed",
                f"a reconciliation run of {source.name} failed (provider API errors, a revoked key, AWS): the "
                f"log of {service} names the call; nothing was guessed and the next run retries",
            ),
            "ReconcileGap": (
                "reconcile-gap",
                f"the checkpoint of {source.name} was older than the provider's window: events in between can "
                "no longer be listed; the reconciler was not running",
            ),
            "ReconcileRefused": (
                "reconcile-refused",
                f"the door's admission contract refused events the provider lists for {source.name}: they are "
                "not stored; the log names each event and reason",
            ),
        }
        for metric, (suffix, description) in why.items():
            alarm = CloudwatchMetricAlarm(
                self,
                f"source-{source.name}-{suffix}",
                alarm_name=f"source-{source.name}-{suffix}-{alarms.environment}",
                alarm_description=description,
                namespace=namespace,
                metric_name=metric,
                dimensions=dimensions,
                statistic="Sum",
                period=300,
                evaluation_periods=1,
                threshold=0,
                comparison_operator="GreaterThanThreshold",
                treat_missing_data="notBreaching",
                alarm_actions=[alarms.topic.arn],
                ok_actions=[alarms.topic.arn],
            )
            alarms.alarms.append(alarm)


def quiet_source_alarm(
    scope: Construct, alarms: PipelineAlarms, source: SourceSettings, *, validator_service: str
) -> CloudwatchMetricAlarm:
    """Nothing accepted from `source` for `expect_events_within_minutes`: missing data is breaching
    (no metric at all is exactly the silence this alarm is for). Periods of an hour or less are one
    period; longer windows are whole hours (CloudWatch periods are multiples of 60 s)."""
    minutes = source.expect_events_within_minutes or 0
    period_minutes = minutes if minutes <= 60 else 60
    alarm = CloudwatchMetricAlarm(
        scope,
        f"source-{source.name}-quiet",
        alarm_name=f"source-{source.name}-quiet-{alarms.environment}",
        alarm_description=(
            f"nothing from source {source.name} was accepted for {minutes} minutes: the provider stopped "
            "sending, or its deliveries are refused; see the runbook 'A source went quiet'"
        ),
        namespace=VALIDATOR_METRICS_NAMESPACE,
        metric_name="Accepted",
        dimensions={"service": validator_service, "source": source.name},
        statistic="Sum",
        period=period_minutes * 60,
        evaluation_periods=math.ceil(minutes / period_minutes),
        threshold=1,
        comparison_operator="LessThanThreshold",
        treat_missing_data="breaching",
        alarm_actions=[alarms.topic.arn],
        ok_actions=[alarms.topic.arn],
    )
    alarms.alarms.append(alarm)
    return alarm
