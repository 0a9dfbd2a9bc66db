"""The README's example of a test you write for your own change ("Testing your own changes").

Run it alone with `.venv/bin/python -m pytest tests/examples`; `make test` runs it too.
"""

from __future__ import annotations

import json

import cdktf
from cdktf_cdktf_provider_aws.cloudwatch_metric_alarm import CloudwatchMetricAlarm
from cdktf_cdktf_provider_aws.sqs_queue import SqsQueue

from modules.testing import synth_stack


def test_payments_dlq_keeps_messages_14_days() -> None:
    stack = synth_stack("dev")
    assert cdktf.Testing.to_have_resource_with_properties(
        stack, SqsQueue.TF_RESOURCE_TYPE, {"name": "payments-dlq-dev", "message_retention_seconds": 1209600}
    )


def test_a_setting_i_am_about_to_change() -> None:
    """Try a change before writing it into terraform-state-config/: 3 receives before the DLQ."""
    stack = synth_stack("dev", max_receive_count=3)
    queues = {queue["name"]: queue for queue in json.loads(stack)["resource"]["aws_sqs_queue"].values()}
    assert '"maxReceiveCount" = 3' in queues["payments-queue-dev"]["redrive_policy"]  # Terraform's jsonencode
    assert cdktf.Testing.to_have_resource(stack, CloudwatchMetricAlarm.TF_RESOURCE_TYPE)  # its DLQ still alarms
    assert not cdktf.Testing.to_have_resource_with_properties(  # the helper can also say no
        stack, SqsQueue.TF_RESOURCE_TYPE, {"name": "payments-dlq-dev", "message_retention_seconds": 60}
    )
