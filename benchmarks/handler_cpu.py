"""Figures 4 and 5: the warm validator's CPU per event against the hmac + json floor, AWS calls per
event, and the router's CPU per record and SendMessageBatch calls per batch.

CPU is `time.process_time_ns` around each call (this process only), so other load on the machine
adds little; percentiles over many events. AWS is answered by botocore hooks (`stubbed_aws`).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import io
import json
import math
import os
import statistics
import sys
import time
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

from benchmarks.lambda_environment import HANDLER_ENVIRONMENT

ROOT = Path(__file__).resolve().parent.parent
EVENT_BYTES = 2048
WARM_EVENTS = 3000
ROUTER_SIZES = (1, 10, 100, 1000)


def _environment() -> None:
    sys.path[:0] = [str(ROOT), str(ROOT / "handlers")]
    os.environ.update(HANDLER_ENVIRONMENT)


def _percentiles(samples_ns: list[int]) -> dict[str, float]:
    cuts = statistics.quantiles(samples_ns, n=100)
    return {"p50_us": cuts[49] / 1000, "p99_us": cuts[98] / 1000, "mean_us": statistics.fmean(samples_ns) / 1000}


def _padded_payment(event_id: str) -> bytes:
    """A payment event padded with provider metadata to EVENT_BYTES, as providers send."""
    from tests.handlers.helpers import payment

    event = payment(event_id, metadata={"note": ""})
    filler = EVENT_BYTES - len(json.dumps(event, separators=(",", ":")).encode())
    event["metadata"]["note"] = "x" * max(filler, 0)
    return json.dumps(event, separators=(",", ":")).encode()


def _floor_ns(key: bytes, headers: dict[str, str], body: bytes) -> int:
    """The least any validator must do: one HMAC-SHA256, a constant-time compare, one decimal-safe parse."""
    start = time.process_time_ns()
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    hmac.compare_digest(expected, headers["webhook-signature"].split(",", 1)[1])
    json.loads(body, parse_float=Decimal)
    return time.process_time_ns() - start


def _stored_item(event: dict[str, Any]) -> dict[str, Any]:
    import datetime

    from webhook_event import parse_event

    now = datetime.datetime.now(datetime.UTC)
    return parse_event(event["body"].encode()).item(now=now, ttl_days=30, extra={"webhook_id": "msg"})


def validator_figures() -> dict[str, Any]:
    from benchmarks.stubbed_aws import StubbedAws, secret_responder
    from tests.handlers.helpers import SIGNING_SECRET, FakeContext, make_event

    import validator

    aws = StubbedAws()
    aws.attach(validator._dynamodb, {"PutItem": lambda _: {}})
    aws.attach(validator._secrets.client, {"GetSecretValue": secret_responder(SIGNING_SECRET)})
    validator.logger.logger_handler.setStream(io.StringIO())  # formatted as in Lambda, not printed
    context = FakeContext()
    key = base64.b64decode(SIGNING_SECRET.removeprefix("whsec_"))
    events = [make_event(_padded_payment(f"evt_bench_{i}"), webhook_id=f"msg_{i}") for i in range(WARM_EVENTS + 1)]
    with contextlib.redirect_stdout(io.StringIO()):  # EMF metrics lines
        validator.handler(events[0], context)
        cold_calls = list(aws.calls)
        handler_ns, floor_ns, store_ns = [], [], []
        calls_per_event = set()
        item = _stored_item(events[0])
        for event in events[1:]:
            aws.calls.clear()
            start = time.process_time_ns()
            response = validator.handler(event, context)
            handler_ns.append(time.process_time_ns() - start)
            assert response["statusCode"] == 202, response
            calls_per_event.add(tuple(aws.calls))
            floor_ns.append(_floor_ns(key, event["headers"], event["body"].encode()))
            start = time.process_time_ns()
            validator._dynamodb.put_item(TableName="t", Item=item, ConditionExpression="attribute_not_exists(event_id)",
                                         ReturnValuesOnConditionCheckFailure="ALL_OLD")  # fmt: skip
            store_ns.append(time.process_time_ns() - start)
        [accepted_calls] = calls_per_event  # the same calls for every warm event
        aws.calls.clear()
        rejected = validator.handler(make_event(_padded_payment("evt_forged"), secret="whsec_" + "B" * 44), context)
        assert rejected["statusCode"] == 401
    handler, floor = _percentiles(handler_ns), _percentiles(floor_ns)
    with_store = _percentiles([f + s for f, s in zip(floor_ns, store_ns, strict=True)])
    return {
        "event_bytes": len(events[1]["body"]),
        "events": WARM_EVENTS,
        "handler": handler,
        "floor": floor,
        "ratio_p50": handler["p50_us"] / floor["p50_us"],
        # The floor plus the one PutItem through botocore (answered by the stub): any validator that
        # stores with boto3 pays it.
        "floor_with_put_item": with_store,
        "ratio_p50_to_floor_with_put_item": handler["p50_us"] / with_store["p50_us"],
        "calls_cold_start": cold_calls,
        "calls_per_accepted_event_warm": list(accepted_calls),
        "calls_per_rejected_event": list(aws.calls),
    }


def _stream_records(size: int) -> tuple[list[dict[str, Any]], Counter[str]]:

    import datetime

    from webhook_event import parse_event

    types = [("payment", "refund", "dispute")[i % 3] for i in range(size)]
    now = datetime.datetime.now(datetime.UTC)
    records = []
    for i, transaction_type in enumerate(types):
        body = json.loads(_padded_payment(f"evt_{i}"))
        body["transaction_type"] = transaction_type
        # The item exactly as the validator stores it, routed message included.
        new_image = parse_event(json.dumps(body).encode()).item(now=now, ttl_days=30)
        records.append({"eventName": "INSERT", "dynamodb": {"SequenceNumber": f"{i:021d}", "NewImage": new_image}})
    return records, Counter(types)


def router_figures() -> dict[str, Any]:
    from benchmarks.stubbed_aws import StubbedAws, all_sent
    from tests.handlers.helpers import FakeContext

    import router

    aws = StubbedAws()
    aws.attach(router._sqs, {"SendMessageBatch": all_sent})
    router.logger.logger_handler.setStream(io.StringIO())
    figures = {}
    with contextlib.redirect_stdout(io.StringIO()):
        router.handler({"Records": _stream_records(3)[0]}, FakeContext())  # warm-up
        for size in ROUTER_SIZES:
            records, per_type = _stream_records(size)
            repeats = max(1, 2000 // size)
            cpu_ns = []
            for _ in range(repeats):
                aws.calls.clear()
                start = time.process_time_ns()
                response = router.handler({"Records": records}, FakeContext())
                cpu_ns.append(time.process_time_ns() - start)
                assert response == {"batchItemFailures": []}, response
            expected = sum(math.ceil(n / 10) for n in per_type.values())
            figures[str(size)] = {
                "cpu_per_record_us": statistics.median(cpu_ns) / size / 1000,
                "send_message_batch_calls": aws.calls.count("SendMessageBatch"),
                "expected_calls": expected,
            }
    return figures


def main() -> dict[str, Any]:
    _environment()
    return {"validator": validator_figures(), "router": router_figures()}


if __name__ == "__main__":
    print(json.dumps(main(), indent=2))
