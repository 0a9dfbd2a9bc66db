"""Dropped webhooks recovered by the deployed reconciler (README, "Reconciliation"; issue 19 item 7).

For each reconciling source of the sandbox: its provider (the sandbox's API stub) creates N events, the
door receives a random subset of their webhooks (signed as the provider signs, one of them twice, in
random order), the reconciler is invoked through Lambda's Invoke API with the schedule's own input
`{"source": "<name>"}` (what EventBridge sends) -> the table holds each of the N once (the undelivered
ones with `origin: reconciler`), each is routed once, the run's `ReconciledMissing` (its EMF document in
the reconciler's log group, as CloudWatch reads it) equals the number dropped, and a second run writes
nothing. The measured recovery (dropped, recovered, seconds) is printed and written to
`$RECONCILE_RECOVERY_RESULTS` when set.

A real deployment's providers cannot be told to create events: without the sandbox's
`provider_api_stubs` in the outputs, this test is skipped.
"""

from __future__ import annotations

import json
import os
import random
import sys
import time
from pathlib import Path
from typing import Any

import boto3
import pytest

from pipeline_tools import operations
from pipeline_tools.outputs import client, region_of
from pipeline_tools.sandbox.provider_apis import drop_events

EVENTS_PER_SOURCE = 20
ROUTED_QUEUES = ("payments_queue_url", "refunds_queue_url", "disputes_queue_url", "lifecycle_queue_url",
                 "unrouted_queue_url")  # fmt: skip


def _lambda(outputs: dict[str, Any]) -> Any:
    endpoint = outputs.get("lambda_endpoint_url")  # the sandbox serves Lambda's Invoke API for its functions
    if endpoint:
        return boto3.client("lambda", region_name=region_of(outputs), endpoint_url=endpoint,
                            aws_access_key_id="sandbox", aws_secret_access_key="sandbox")  # fmt: skip
    return client(outputs, "lambda")


def _event_id(provider: str, event: dict[str, Any]) -> str:
    if provider == "mollie-classic":
        # The stub's payments are paid: the door's and the reconciler's one fact `<object id>:<state>`.
        return f"{event['id']}:{event['status']}"
    return str(event["id"] if provider in ("stripe", "gocardless") else event["event_id"])


def _webhook_body(provider: str, event: dict[str, Any]) -> bytes:
    """The delivery the provider would POST for `event` (GoCardless batches events in `events`; for
    mollie-classic the payment, which `send` turns into the form `id=tr_...`)."""
    return json.dumps({"events": [event]} if provider == "gocardless" else event).encode()


def _invoke(outputs: dict[str, Any], source: str) -> dict[str, Any]:
    response = _lambda(outputs).invoke(
        FunctionName=outputs["reconciler_lambda_arn"],
        InvocationType="RequestResponse",
        Payload=json.dumps({"source": source}).encode(),
    )
    payload = json.loads(response["Payload"].read() or b"null")
    assert not response.get("FunctionError"), payload
    return payload


def _reconciled_missing(outputs: dict[str, Any], source: str, since_ms: int) -> list[float]:
    """`ReconciledMissing` values of `source` in the EMF documents of the reconciler's log group."""
    group = f"/aws/lambda/{str(outputs['reconciler_lambda_arn']).split(':')[-1]}"
    values = []
    pages = (
        client(outputs, "logs")
        .get_paginator("filter_log_events")
        .paginate(logGroupName=group, startTime=since_ms, filterPattern='"ReconciledMissing"')
    )
    for page in pages:
        for event in page.get("events", []):
            document = json.loads(event["message"])
            if "_aws" in document and document.get("source") == source:
                value = document["ReconciledMissing"]  # EMF writes a list when a document holds several
                values.append(float(sum(value) if isinstance(value, list) else value))
    return values


def _routed(outputs: dict[str, Any], event_ids: set[str], timeout: float = 90) -> tuple[dict[str, int], float]:
    """How many messages each id got across the routed queues (ours deleted, others' made visible again),
    and when (`time.monotonic()`) the last of them first arrived."""
    sqs = client(outputs, "sqs")
    counts: dict[str, int] = {}
    all_arrived: float | None = None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for output in ROUTED_QUEUES:
            messages = sqs.receive_message(QueueUrl=outputs[output], MaxNumberOfMessages=10, WaitTimeSeconds=0,
                                           MessageAttributeNames=["All"]).get("Messages", [])  # fmt: skip
            for message in messages:
                event_id = message.get("MessageAttributes", {}).get("event_id", {}).get("StringValue")
                if event_id in event_ids:
                    counts[event_id] = counts.get(event_id, 0) + 1
                    sqs.delete_message(QueueUrl=outputs[output], ReceiptHandle=message["ReceiptHandle"])
                else:
                    sqs.change_message_visibility(
                        QueueUrl=outputs[output], ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
                    )
        if set(counts) >= event_ids and all_arrived is None:
            all_arrived = time.monotonic()
            deadline = min(deadline, all_arrived + 3)  # a little longer, to catch would-be duplicates
        time.sleep(0.05)
    return counts, all_arrived if all_arrived is not None else time.monotonic()


def test_dropped_webhooks_are_recovered_once_each_by_the_reconciler(outputs: dict[str, Any]) -> None:
    stubs = outputs.get("provider_api_stubs")
    if not stubs:
        pytest.skip("no provider_api_stubs in the outputs: a real provider cannot be told to create events")
    seed = int(os.environ.get("RECONCILE_RECOVERY_SEED") or random.randrange(2**32))
    rng = random.Random(seed)
    measured = []
    for source, base_url in sorted(stubs.items()):
        target = operations.source_target(outputs, source)
        # Start reconciled: another test (the README's `send --drop` lines) may have left events for a run.
        assert _invoke(outputs, source).get("error") is None
        events = drop_events(base_url, {"count": EVENTS_PER_SOURCE})
        dropped_at, dropped_ms = time.monotonic(), int(time.time() * 1000) - 1000
        ids = {f"{source}:{_event_id(target.provider, event)}" for event in events}
        delivered = rng.sample(events, rng.randrange(1, EVENTS_PER_SOURCE - 1))
        deliveries = [*delivered, delivered[0]]  # one delivered twice (a provider retry)
        rng.shuffle(deliveries)
        for event in deliveries:
            status, answer = operations.send_to_source(target, _webhook_body(target.provider, event))
            assert status in (200, 202), (source, status, answer)
        delivered_ids = {f"{source}:{_event_id(target.provider, event)}" for event in delivered}
        lost = ids - delivered_ids

        # The listing modules ask up to `now` in whole seconds: an event created in the run's own second is
        # listed by the next run (the overlap), not this one. Providers' clocks are not ours either.
        time.sleep(1.1)
        started = time.monotonic()
        report = _invoke(outputs, source)
        run_seconds = time.monotonic() - started
        assert report.get("error") is None and report["complete"], report
        # A scheduled run (the sandbox fires them too) may have recovered some first: each event is
        # written by exactly one run, so this run wrote a subset, and all runs together wrote exactly `lost`.
        assert set(report["missing_ids"]) <= lost and report["written"] == len(report["missing_ids"]), report
        for event_id in sorted(ids):
            item = (
                client(outputs, "dynamodb")
                .get_item(
                    TableName=outputs["dynamodb_table_name"], Key={"event_id": {"S": event_id}}, ConsistentRead=True
                )
                .get("Item")
            )
            assert item is not None, event_id
            assert (item.get("origin", {}).get("S") == "reconciler") == (event_id in lost), event_id
        routed, all_routed = _routed(outputs, ids)
        recovered_seconds = all_routed - started
        assert routed == dict.fromkeys(ids, 1), {k: v for k, v in routed.items() if v != 1} or ids - set(routed)
        deadline = time.monotonic() + 10
        while sum(values := _reconciled_missing(outputs, source, dropped_ms)) < len(lost):
            if time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert sum(values) == len(lost), values

        again = _invoke(outputs, source)
        assert again["written"] == 0 and again["complete"], again
        measured.append({
            "source": source, "provider": target.provider, "events": EVENTS_PER_SOURCE, "delivered": len(delivered_ids),
            "dropped": len(lost), "recovered": sum(values), "recovered_by_this_run": report["written"],
            "run_seconds": round(run_seconds, 2),
            "seconds_to_routed": round(recovered_seconds, 2),
            "seconds_since_drop": round(time.monotonic() - dropped_at, 2),
            "provider_requests": report["requests"],
        })  # fmt: skip
    result = {"seed": seed, "schedules": outputs.get("reconcile_schedules"), "sources": measured}
    print(f"\nmeasured recovery: {json.dumps(result)}", file=sys.__stderr__, flush=True)
    path = os.environ.get("RECONCILE_RECOVERY_RESULTS")
    if path:
        Path(path).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
