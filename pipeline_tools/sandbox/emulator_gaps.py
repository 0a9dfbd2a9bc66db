"""Where moto differs from AWS for this stack, and the shims that make the sandbox behave like AWS.

Each shim changes only what moto *returns*, to what AWS returns, or how long moto takes to return the
same; nothing in the synthesized stack is altered for the sandbox. `tests/tools/test_emulator_gaps.py`
keeps this list honest: a shim whose gap moto has closed fails its test, so the list can only shrink.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from moto.awslambda.models import LambdaBackend, LambdaFunction
from moto.core.utils import unix_time
from moto.sqs.models import Queue, SQSBackend


@dataclasses.dataclass(frozen=True)
class EmulatorGap:
    resource: str
    gap: str
    workaround: str


GAPS = (
    EmulatorGap(
        resource="aws_sqs_queue.redrive_allow_policy (the four DLQs)",
        gap="moto stores RedriveAllowPolicy but never returns it from GetQueueAttributes, so the provider "
        "waits for it until the apply times out",
        workaround="return the stored value, as SQS does",
    ),
    EmulatorGap(
        resource="aws_lambda_event_source_mapping (stream -> router)",
        gap="moto tries to run the router in Docker on every table write (none here: each write stalls on "
        "Docker connection attempts) and empties the stream when an invoke succeeds",
        workaround="moto does not invoke; the sandbox's stream poller plays Lambda's part with the deployed "
        "mapping settings",
    ),
    EmulatorGap(
        resource="aws_sqs_queue.redrive_policy (the three routed queues)",
        gap="moto returns RedrivePolicy with spaces after separators; AWS returns compact JSON, so every "
        "plan after an apply showed a whitespace-only change",
        workaround="return compact JSON, as SQS does",
    ),
    EmulatorGap(
        resource="aws_lambda_event_source_mapping (money queues -> example consumer)",
        gap="moto receives the queue's messages itself on every SendMessage and tries to run the consumer in "
        "Docker (none here): each send stalls on Docker connection attempts and every failed try counts a "
        "receive, so the router's messages reach the DLQ after maxReceiveCount",
        workaround="moto does not invoke: the messages stay in the queue for whoever consumes them (the "
        "integration suite runs the deployed consumer code on them, as Lambda's SQS mapping would)",
    ),
    EmulatorGap(
        resource="aws_dynamodb_resource_policy and aws_sqs_queue_policy (only the validator writes the "
        "table, only the router feeds the routed queues)",
        gap="moto stores resource policies and returns them, but evaluates none: any caller may write the "
        "table or send to a queue whatever the policy says",
        workaround="none needed for the apply (the policies round-trip); who may write is tested on the "
        "synthesized policies (tests/static/test_resource_policies.py), not against the emulator",
    ),
    EmulatorGap(
        resource="aws_lambda_function.logging_config (validator and router: JSON format, platform lines at WARN)",
        gap="moto accepts LoggingConfig on CreateFunction and UpdateFunctionConfiguration but stores and "
        "returns none, so every plan after an apply showed logging_config being added again",
        workaround="keep the LoggingConfig a function was given and return it (LogGroup defaulted to "
        "/aws/lambda/<name>, as Lambda does); a function given none returns none, as before",
    ),
    EmulatorGap(
        resource="aws_sqs_queue (every queue a ReceiveMessage reads; the routed queues most)",
        gap="moto computes every attribute of the queue, three counts over all its messages among them, for "
        "each message a ReceiveMessage returns, only to read MessageRetentionPeriod: a receive cost ~1 s on "
        "a queue of 1,100 messages (the integration suite's load runs leave that many on the payments "
        "queue), so a consumer paging through a backlog 10 at a time slowed quadratically and the suite's "
        "60 s wait for a message behind it ran out",
        workaround="read the queue's MessageRetentionPeriod itself: the same messages are returned and "
        "expire as before, a receive costs one pass over the queue",
    ),
)

_original_attributes = Queue.attributes


def _aws_like_attributes(queue: Queue) -> dict[str, Any]:
    result = dict(_original_attributes.fget(queue))  # type: ignore[attr-defined]
    redrive_allow = getattr(queue, "redrive_allow_policy", None)
    if redrive_allow:
        result["RedriveAllowPolicy"] = redrive_allow
    if queue.redrive_policy:
        result["RedrivePolicy"] = json.dumps(queue.redrive_policy, separators=(",", ":"))
    return result


def _no_queue_mappings(_: Queue) -> dict[str, Any]:
    return {}  # a fresh dict per read: moto's mapping registration writes into it and nothing invokes


def _ignore_queue_mappings(_: Queue, __: Any) -> None:
    return None


def _no_stream_invocation(*_: Any, **__: Any) -> None:
    return None  # falsy: moto keeps the records in the stream for the poller


_original_retention_check = SQSBackend.is_message_valid_based_on_retention_period


def _retention_check(backend: SQSBackend, queue_name: str, message: Any) -> bool:
    # moto's own check builds every queue attribute (O(messages)) per returned message for this one value.
    retain_until = backend.get_queue(queue_name).message_retention_period + message.sent_timestamp / 1000
    return retain_until > unix_time()


_original_function_init = LambdaFunction.__init__
_original_get_configuration = LambdaFunction.get_configuration
_original_update_configuration = LambdaFunction.update_configuration


def _given_logging_config(function: LambdaFunction, config: dict[str, Any] | None) -> None:
    if config:
        function.logging_config = {"LogGroup": f"/aws/lambda/{function.function_name}", **config}  # type: ignore[attr-defined]


def _function_init(function: LambdaFunction, account_id: str, spec: dict[str, Any], *args: Any, **kwargs: Any) -> None:
    _original_function_init(function, account_id, spec, *args, **kwargs)
    _given_logging_config(function, spec.get("LoggingConfig"))


def _get_configuration(function: LambdaFunction, *args: Any, **kwargs: Any) -> dict[str, Any]:
    config = _original_get_configuration(function, *args, **kwargs)
    logging_config = getattr(function, "logging_config", None)
    if logging_config:
        config["LoggingConfig"] = dict(logging_config)
    return config


def _update_configuration(function: LambdaFunction, config_updates: dict[str, Any]) -> dict[str, Any]:
    _given_logging_config(function, config_updates.get("LoggingConfig"))
    return _original_update_configuration(function, config_updates)


def apply_shims() -> None:
    """Idempotent; call before the moto server takes requests."""
    LambdaBackend.send_dynamodb_items = _no_stream_invocation  # type: ignore[method-assign,assignment]
    Queue.attributes = property(_aws_like_attributes)  # type: ignore[method-assign,assignment]
    Queue.lambda_event_source_mappings = property(_no_queue_mappings, _ignore_queue_mappings)  # type: ignore[assignment]
    LambdaFunction.__init__ = _function_init  # type: ignore[method-assign]
    LambdaFunction.get_configuration = _get_configuration  # type: ignore[method-assign]
    LambdaFunction.update_configuration = _update_configuration  # type: ignore[method-assign]
    SQSBackend.is_message_valid_based_on_retention_period = _retention_check  # type: ignore[method-assign,assignment]
