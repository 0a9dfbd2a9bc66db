"""Alarms that fire whenever an event may be stuck or lost, published to an encrypted SNS topic."""

from __future__ import annotations

from collections.abc import Mapping

from cdktf_cdktf_provider_aws.cloudwatch_metric_alarm import CloudwatchMetricAlarm
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
# Refusals per 5 minutes above which a source's secret is probably wrong (a few stray probes are not).
SIGNATURE_REFUSALS_THRESHOLD = 5


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

    def source_signature_refusals(self, source: str, *, validator_service: str) -> None:
        """Deliveries of one source refused for their signature, more than a stray probe would explain:
        usually a secret not set, or rotated on one side only."""
        self._alarm(
            f"source-{source}-signature-refusals",
            description=(
                f"deliveries of source {source} are refused for their signature: check that "
                f"webhook-source-{source}-{self.environment} holds the provider's current secret"
            ),
            namespace=VALIDATOR_METRICS_NAMESPACE,
            metric="SignatureRejected",
            dimensions={"service": validator_service, "source": source},
            statistic="Sum",
            threshold=SIGNATURE_REFUSALS_THRESHOLD,
            period=300,
        )
