"""Alarms that fire whenever an event may be stuck or lost, published to an encrypted SNS topic."""

from __future__ import annotations

from collections.abc import Mapping

from cdktf_cdktf_provider_aws.cloudwatch_metric_alarm import (
    CloudwatchMetricAlarm,
    CloudwatchMetricAlarmMetricQuery,
    CloudwatchMetricAlarmMetricQueryMetric,
)
from cdktf_cdktf_provider_aws.sns_topic import SnsTopic
from cdktf_cdktf_provider_aws.sns_topic_policy import SnsTopicPolicy
from cdktf_cdktf_provider_aws.sns_topic_subscription import SnsTopicSubscription
from constructs import Construct

from modules.aws_context import AwsContext
from modules.encryption import alarm_arn_pattern
from modules.iam import allow, deny_insecure_transport, policy_document

OLDEST_MESSAGE_AGE_SECONDS = 900
ITERATOR_AGE_MILLISECONDS = 60_000

# The validator's Powertools namespace (POWERTOOLS_METRICS_NAMESPACE in pipeline_stack.py).
VALIDATOR_METRICS_NAMESPACE = "WebhookPipeline"
# The signature alarm's window (seconds). CloudWatch evaluates an alarm every minute over a sliding window
# of its period (CloudWatch User Guide, "Alarm evaluation windows"), so a misconfiguration raises it within
# a minute or two of the first refused genuine delivery, well inside 15 minutes, and one genuine delivery
# verified in the last 15 minutes clears it.
SIGNATURE_WINDOW_SECONDS = 900
# The signature alarm's metric math (ids `refused`, `verified`: SignatureRejected and SignatureVerified of
# the source, Sum over the window): 1 when deliveries were refused for their signature and none verified.
# Anyone can send refused requests; nobody without the secret can stop genuine deliveries from verifying.
# So junk alone cannot hold it while genuine deliveries succeed, and a wrong secret (rotated on one side)
# or a wrong URL (Square signs it) makes every genuine delivery a refusal: 1. Limit, documented: a source
# with no genuine delivery in 15 minutes cannot tell junk from a misconfiguration; it fires on refusals
# then, and clears on the next verified delivery.
SIGNATURE_ALARM_EXPRESSION = "IF(FILL(refused, 0) >= 1 AND FILL(verified, 0) == 0, 1, 0)"
# A verified delivery refused and kept in the quarantine (handlers/quarantine.py): only signed requests
# get there, so only a provider (or a replay of its signed bytes) can raise it.
QUARANTINE_WINDOW_SECONDS = 300


class PipelineAlarms(Construct):
    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        environment: str,
        kms_key_arn: str,
        alarm_email: str | None,
        aws: AwsContext,
    ) -> None:
        super().__init__(scope, id_)
        self.environment = environment
        self.alarms: list[CloudwatchMetricAlarm] = []  # every alarm, for the dashboard's alarm widget
        self.topic = SnsTopic(
            self, "alarm-topic", name=f"webhook-pipeline-alarms-{environment}", kms_master_key_id=kms_key_arn
        )
        document = policy_document(
            self,
            "alarm-topic-policy-document",
            [
                allow(
                    "CloudWatchAlarmsOfThisAccountPublish",
                    ["sns:Publish"],
                    [self.topic.arn],
                    service="cloudwatch.amazonaws.com",
                    conditions=[
                        ("StringEquals", "aws:SourceAccount", [aws.account_id]),
                        ("ArnLike", "aws:SourceArn", [alarm_arn_pattern(aws, environment)]),
                    ],
                ),
                deny_insecure_transport(["sns:Publish"], [self.topic.arn]),
            ],
        )
        SnsTopicPolicy(self, "alarm-topic-policy", arn=self.topic.arn, policy=document.json)
        if alarm_email:
            SnsTopicSubscription(self, "alarm-email", topic_arn=self.topic.arn, protocol="email", endpoint=alarm_email)

    def _alarm(
        self,
        id_: str,
        *,
        description: str,
        namespace: str,
        metric: str,
        dimensions: Mapping[str, str],
        statistic: str,
        threshold: float,
        period: int = 60,
    ) -> CloudwatchMetricAlarm:
        alarm = CloudwatchMetricAlarm(
            self,
            id_,
            alarm_name=f"{id_}-{self.environment}",
            alarm_description=description,
            namespace=namespace,
            metric_name=metric,
            dimensions=dict(dimensions),
            statistic=statistic,
            period=period,
            evaluation_periods=1,
            threshold=threshold,
            comparison_operator="GreaterThanThreshold",
            treat_missing_data="notBreaching",
            alarm_actions=[self.topic.arn],
            ok_actions=[self.topic.arn],
        )
        self.alarms.append(alarm)
        return alarm

    def messages_waiting(self, queue_name: str, why: str) -> None:
        self._alarm(
            f"{queue_name.removesuffix('-' + self.environment)}-has-messages",
            description=f"{queue_name} holds messages: {why}",
            namespace="AWS/SQS",
            metric="ApproximateNumberOfMessagesVisible",
            dimensions={"QueueName": queue_name},
            statistic="Maximum",
            threshold=0,
        )

    def oldest_message_age(self, queue_name: str) -> None:
        self._alarm(
            f"{queue_name.removesuffix('-' + self.environment)}-oldest-message-age",
            description=f"A message has waited over {OLDEST_MESSAGE_AGE_SECONDS} s in {queue_name}: consumers are behind",
            namespace="AWS/SQS",
            metric="ApproximateAgeOfOldestMessage",
            dimensions={"QueueName": queue_name},
            statistic="Maximum",
            threshold=OLDEST_MESSAGE_AGE_SECONDS,
        )

    def function_errors(self, function_name: str) -> None:
        self._alarm(
            f"{function_name.removesuffix('-' + self.environment)}-errors",
            description=f"{function_name} raised errors",
            namespace="AWS/Lambda",
            metric="Errors",
            dimensions={"FunctionName": function_name},
            statistic="Sum",
            threshold=0,
        )

    def iterator_age(self, function_name: str) -> None:
        self._alarm(
            f"{function_name.removesuffix('-' + self.environment)}-iterator-age",
            description=f"{function_name} is over {ITERATOR_AGE_MILLISECONDS} ms behind the table stream",
            namespace="AWS/Lambda",
            metric="IteratorAge",
            dimensions={"FunctionName": function_name},
            statistic="Maximum",
            threshold=ITERATOR_AGE_MILLISECONDS,
        )

    def api_server_errors(self, api_name: str, stage_name: str) -> None:
        self._alarm(
            f"{api_name.removesuffix('-' + self.environment)}-5xx",
            description=f"{api_name} answered 5xx: senders are retrying",
            namespace="AWS/ApiGateway",
            metric="5XXError",
            dimensions={"ApiName": api_name, "Stage": stage_name},
            statistic="Sum",
            threshold=0,
        )

    def http_api_server_errors(self, api_name: str, api_id: str, stage_name: str) -> None:
        """The HTTP API's equivalent of `api_server_errors`: its metric is `5xx` by ApiId and Stage
        (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-metrics.html); same alarm name."""
        self._alarm(
            f"{api_name.removesuffix('-' + self.environment)}-5xx",
            description=f"{api_name} answered 5xx: senders are retrying",
            namespace="AWS/ApiGateway",
            metric="5xx",
            dimensions={"ApiId": api_id, "Stage": stage_name},
            statistic="Sum",
            threshold=0,
        )

    def source_signature_refusals(self, source: str, *, validator_service: str) -> None:
        """Deliveries of one source refused for their signature while none verified (see
        `SIGNATURE_ALARM_EXPRESSION`): a secret not set or rotated on one side only, or a wrong URL."""

        def query(id_: str, metric: str) -> CloudwatchMetricAlarmMetricQuery:
            return CloudwatchMetricAlarmMetricQuery(
                id=id_,
                metric=CloudwatchMetricAlarmMetricQueryMetric(
                    namespace=VALIDATOR_METRICS_NAMESPACE,
                    metric_name=metric,
                    dimensions={"service": validator_service, "source": source},
                    stat="Sum",
                    period=SIGNATURE_WINDOW_SECONDS,
                ),
                return_data=False,
            )

        alarm = CloudwatchMetricAlarm(
            self,
            f"source-{source}-signature-refusals",
            alarm_name=f"source-{source}-signature-refusals-{self.environment}",
            alarm_description=(
                f"deliveries of source {source} are refused for their signature and none verified in 15 minutes: "
                f"check that webhook-source-{source}-{self.environment} holds the provider's current secret "
                "(and, for Square, that notification_url is the URL registered)"
            ),
            metric_query=[
                query("refused", "SignatureRejected"),
                query("verified", "SignatureVerified"),
                CloudwatchMetricAlarmMetricQuery(
                    id="misconfigured",
                    expression=SIGNATURE_ALARM_EXPRESSION,
                    label="refused with none verified",
                    return_data=True,
                ),
            ],
            evaluation_periods=1,
            threshold=1,
            comparison_operator="GreaterThanOrEqualToThreshold",
            treat_missing_data="notBreaching",
            alarm_actions=[self.topic.arn],
            ok_actions=[self.topic.arn],
        )
        self.alarms.append(alarm)

    def source_fetch_credential_refused(self, source: str, *, validator_service: str) -> None:
        """A source whose door fetches from the provider's API (mollie-classic): the API refused every key
        (401/403). Its deliveries are answered 503 and retried, but no retry heals a revoked key."""
        self._alarm(
            f"source-{source}-fetch-credential-refused",
            description=(
                f"the provider's API refused every key of source {source} (401/403): its webhooks are answered "
                f"503 and nothing is stored until webhook-source-{source}-{self.environment} holds a valid key "
                "(docs/providers/mollie-classic.md)"
            ),
            namespace=VALIDATOR_METRICS_NAMESPACE,
            metric="FetchCredentialRefused",
            dimensions={"service": validator_service, "source": source},
            statistic="Sum",
            threshold=0,
            period=300,
        )

    def _validator_counted(self, id_: str, *, metric: str, description: str, validator_service: str) -> None:
        """Any `metric` the validator counts (namespace `WebhookPipeline`, dimension `service`) in a
        `QUARANTINE_WINDOW_SECONDS` window."""
        self._alarm(
            id_,
            description=description,
            namespace=VALIDATOR_METRICS_NAMESPACE,
            metric=metric,
            dimensions={"service": validator_service},
            statistic="Sum",
            threshold=0,
            period=QUARANTINE_WINDOW_SECONDS,
        )

    def quarantined(self, *, validator_service: str, table_name: str) -> None:
        """A signed delivery was refused (409, 400, 413) and kept in `table_name`: look, fix, readmit."""
        self._validator_counted(
            "verified-deliveries-quarantined",
            metric="Quarantined",
            description=(
                f"a signed delivery was refused and kept in {table_name}: "
                "python -m pipeline_tools quarantine list, then fix and readmit (README, Quarantine)"
            ),
            validator_service=validator_service,
        )

    def quarantine_failures(self, *, validator_service: str) -> None:
        """The quarantine write failed: the delivery was answered 503 and will be retried by its sender."""
        self._validator_counted(
            "quarantine-write-failures",
            metric="QuarantineFailed",
            description="a refused signed delivery could not be kept (answered 503, the sender retries)",
            validator_service=validator_service,
        )

    def secret_entries_skipped(self, *, validator_service: str) -> None:
        """A configured secret entry was skipped as malformed or too weak (logged by source and index)."""
        self._validator_counted(
            "secret-entries-skipped",
            metric="SecretEntrySkipped",
            description=(
                "a signing secret entry was skipped as malformed or too weak: the validator's log names the "
                "source and the entry's index (never its value)"
            ),
            validator_service=validator_service,
        )
