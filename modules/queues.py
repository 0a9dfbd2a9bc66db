"""SQS queues: encrypted with the CMK, TLS-only, and each routed queue paired with its dead-letter queue."""

from __future__ import annotations

import json
from collections.abc import Sequence

from cdktf import Fn
from cdktf_cdktf_provider_aws.sqs_queue import SqsQueue
from cdktf_cdktf_provider_aws.sqs_queue_policy import SqsQueuePolicy
from constructs import Construct

from modules.aws_context import AwsContext
from modules.iam import deny_all_but, deny_insecure_transport, policy_document
from modules.queue_names import money_queue_names

FOUR_DAYS = 4 * 24 * 3600
FOURTEEN_DAYS = 14 * 24 * 3600  # the SQS maximum, so a dead letter outlives its source message
# Long enough for a consumer Lambda at its maximum timeout (900 s) with margin; AWS recommends 6x.
VISIBILITY_TIMEOUT_SECONDS = 900
# Data keys cached for 5 minutes: one KMS call per key period instead of per message.
KMS_DATA_KEY_REUSE_SECONDS = 300


# Must equal handlers/routed_message.py MAX_MESSAGE_BYTES (a construct test holds them together).
MAX_MESSAGE_BYTES = 262_144


class EncryptedQueue(Construct):
    """A queue encrypted with the CMK whose policy denies every request that is not over TLS and, when
    `senders` is given, `sqs:SendMessage` (single and batch) from every principal but those role ARNs."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        name: str,
        kms_key_arn: str,
        retention_seconds: int,
        redrive_policy: str | None = None,
        redrive_allow_policy: str | None = None,
        senders: Sequence[str] = (),
        fifo: bool = False,
    ) -> None:
        super().__init__(scope, id_)
        self.name = name
        # FIFO: deduplication by the MessageDeduplicationId the router sets (never content: two events may
        # share a body's bytes only if they are the same event), and high-throughput mode (deduplication
        # and the throughput limit per message group, so different objects flow in parallel).
        fifo_settings = (
            {"fifo_queue": True, "content_based_deduplication": False, "deduplication_scope": "messageGroup",
             "fifo_throughput_limit": "perMessageGroupId"}
            if fifo else {}
        )  # fmt: skip
        self.queue = SqsQueue(
            self,
            "queue",
            name=name,
            kms_master_key_id=kms_key_arn,
            kms_data_key_reuse_period_seconds=KMS_DATA_KEY_REUSE_SECONDS,
            message_retention_seconds=retention_seconds,
            # Pinned, not left to the default: the validator refuses (413) any event whose routed message
            # would exceed it (handlers/routed_message.py MAX_MESSAGE_BYTES).
            max_message_size=MAX_MESSAGE_BYTES,
            visibility_timeout_seconds=VISIBILITY_TIMEOUT_SECONDS,
            receive_wait_time_seconds=20,
            redrive_policy=redrive_policy,
            redrive_allow_policy=redrive_allow_policy,
            **fifo_settings,
        )
        statements = [deny_insecure_transport(["sqs:*"], [self.queue.arn])]
        if senders:
            statements.append(
                deny_all_but("OnlyTheseRolesSend", ["sqs:SendMessage"], [self.queue.arn], principal_arns=senders)
            )
        document = policy_document(self, "tls-only", statements)
        SqsQueuePolicy(self, "queue-policy", queue_url=self.queue.url, policy=document.json)


class QueueWithDeadLetter(Construct):
    """`<kind>-queue-<env>` (or `source_name`) and `<kind>-dlq-<env>`, redriven after `max_receive_count`
    receives; only the `senders` roles may send to the source queue (the move to the DLQ is SQS's own, not
    a send). `fifo`: both are FIFO queues named `<kind>-queue-<env>.fifo` and `<kind>-dlq-<env>.fifo` (a
    FIFO queue's dead-letter queue must be FIFO too)."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        kind: str,
        environment: str,
        kms_key_arn: str,
        max_receive_count: int,
        aws: AwsContext,
        senders: Sequence[str] = (),
        source_name: str | None = None,
        fifo: bool = False,
    ) -> None:
        super().__init__(scope, id_)
        default_source, dead_letter_name = money_queue_names(kind, environment, fifo=fifo)
        source_name = source_name or default_source
        # The source ARN is spelled out rather than referenced: queue -> DLQ -> queue would be a cycle.
        allow_only_source = json.dumps(
            {"redrivePermission": "byQueue", "sourceQueueArns": [aws.arn("sqs", source_name)]},
            separators=(",", ":"),
        )
        self.dead_letter = EncryptedQueue(
            self,
            "dead-letter",
            name=dead_letter_name,
            kms_key_arn=kms_key_arn,
            retention_seconds=FOURTEEN_DAYS,
            redrive_allow_policy=allow_only_source,
            fifo=fifo,
        )
        self.source = EncryptedQueue(
            self,
            "source",
            name=source_name,
            kms_key_arn=kms_key_arn,
            retention_seconds=FOUR_DAYS,
            redrive_policy=Fn.jsonencode(
                {"deadLetterTargetArn": self.dead_letter.queue.arn, "maxReceiveCount": max_receive_count}
            ),
            senders=senders,
            fifo=fifo,
        )
