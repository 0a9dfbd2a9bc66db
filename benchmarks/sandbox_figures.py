"""Figure 6: the sandbox's time to a ready endpoint, end-to-end latency (signed POST -> message
visible in its queue) p50/p99, and 1,000 signed events through it with zero loss and no duplicate.

Baselines from the same run: the `terraform apply` step inside the bring-up; the router's batching
window (a record waits up to that long before the router is invoked, the floor of the latency); and
the rate at which the gateway accepts the same 1,000 POSTs (how fast events can enter).
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from modules.config import load_settings
from pipeline_tools import operations
from pipeline_tools.outputs import client
from pipeline_tools.sandbox.runner import Sandbox

LATENCY_EVENTS = 60
THROUGHPUT_EVENTS = 1000
SENDERS = 8
ENVIRONMENT = "benchsb"
QUEUES = {"payment": "payments_queue_url", "refund": "refunds_queue_url", "dispute": "disputes_queue_url"}


def _receive(sqs: Any, queue_url: str) -> list[dict[str, Any]]:
    messages = sqs.receive_message(
        QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1, MessageAttributeNames=["All"]
    ).get("Messages", [])
    if messages:
        sqs.delete_message_batch(
            QueueUrl=queue_url,
            Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)],
        )
    return messages


def _event_id(message: dict[str, Any]) -> str:
    return message["MessageAttributes"]["event_id"]["StringValue"]


def latency(outputs: dict[str, Any], secret: str) -> list[float]:
    sqs = client(outputs, "sqs")
    seconds = []
    for i in range(LATENCY_EVENTS):
        event_id = f"evt_latency_{i}_{time.time_ns()}"
        body = operations.build_event("payment", "19.99", "USD", event_id)
        start = time.perf_counter()
        status, _ = operations.send(outputs, body, secret)
        assert status == 202, status
        while not any(_event_id(m) == event_id for m in _receive(sqs, outputs[QUEUES["payment"]])):
            if time.perf_counter() - start > 60:
                raise RuntimeError(f"{event_id} never reached its queue")
        seconds.append(time.perf_counter() - start)
    return seconds


def throughput(outputs: dict[str, Any], secret: str) -> dict[str, Any]:
    sqs = client(outputs, "sqs")
    types = ("payment", "refund", "dispute")
    events = [(f"evt_burst_{i}_{time.time_ns()}", types[i % 3]) for i in range(THROUGHPUT_EVENTS)]
    bodies = [operations.build_event(kind, "10.00", "USD", event_id) for event_id, kind in events]
    start = time.perf_counter()
    with ThreadPoolExecutor(SENDERS) as pool:
        statuses = list(pool.map(lambda body: operations.send(outputs, body, secret)[0], bodies))
    accepted_s = time.perf_counter() - start
    received: list[str] = []
    expected = {event_id for event_id, _ in events}
    while len(set(received) & expected) < len(expected) and time.perf_counter() - start < 600:
        for queue in QUEUES.values():
            received += [_event_id(m) for m in _receive(sqs, outputs[queue])]
    delivered_s = time.perf_counter() - start
    ours = [event_id for event_id in received if event_id in expected]
    return {
        "events": THROUGHPUT_EVENTS,
        "accepted_202": statuses.count(202),
        "lost": len(expected - set(ours)),
        "duplicates": len(ours) - len(set(ours)),
        "accept_s": accepted_s,
        "end_to_end_s": delivered_s,
        "accept_rate_per_s": THROUGHPUT_EVENTS / accepted_s,
        "end_to_end_rate_per_s": THROUGHPUT_EVENTS / delivered_s,
    }


def main() -> dict[str, Any]:
    os.environ["PIPELINE_DECLARED_ENVIRONMENT"] = ENVIRONMENT  # the benchmark's own environment (main.py reads it)
    with tempfile.TemporaryDirectory() as work:
        sandbox = Sandbox(ENVIRONMENT, Path(work) / "outputs.json", state_root=Path(work) / "state")
        try:
            start = time.perf_counter()
            outputs = sandbox.up()
            ready_s = time.perf_counter() - start
            apply_s = sandbox.steps.timings["terraform init + apply against the emulator"]
            seconds = latency(outputs, outputs["signing_secret"])
            burst = throughput(outputs, outputs["signing_secret"])
        finally:
            sandbox.down()
    cuts = statistics.quantiles(seconds, n=100)
    window = load_settings(ENVIRONMENT, declared=True).router_batching_window_seconds
    return {
        "ready_s": ready_s,
        "apply_s": apply_s,
        "resources": sandbox.resource_count,
        "latency": {"events": len(seconds), "p50_s": cuts[49], "p99_s": cuts[98], "batching_window_s": window},
        "throughput": burst,
    }


if __name__ == "__main__":
    import json
    import sys

    # The handlers log to stdout as in Lambda, so the figures go to a file (or stdout without one).
    figures = json.dumps(main(), indent=2)
    if len(sys.argv) > 1:
        Path(sys.argv[1]).write_text(figures, encoding="utf-8")
    else:
        print(figures)
