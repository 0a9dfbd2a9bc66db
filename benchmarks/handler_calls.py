"""AWS calls per event on a warm validator, SendMessageBatch calls per routed batch, and the zip size.

Counts, not timings: run with `.venv/bin/python -m benchmarks.handler_calls`. Real boto3 against moto;
every API call is counted with a botocore event hook.
"""

from __future__ import annotations

import json
import math
import os
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "handlers")]
os.environ.update({"AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "b", "AWS_SECRET_ACCESS_KEY": "b",
                   "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled", "POWERTOOLS_METRICS_NAMESPACE": "Bench",
                   "POWERTOOLS_LOG_LEVEL": "ERROR"})  # fmt: skip

import boto3  # noqa: E402
from moto import mock_aws  # noqa: E402

from tests.handlers.helpers import SIGNING_SECRET, FakeContext, make_event, payment  # noqa: E402


def main() -> dict[str, object]:
    with mock_aws():
        dynamodb = boto3.client("dynamodb")
        dynamodb.create_table(TableName="t", KeySchema=[{"AttributeName": "event_id", "KeyType": "HASH"}],
                              AttributeDefinitions=[{"AttributeName": "event_id", "AttributeType": "S"}],
                              BillingMode="PAY_PER_REQUEST")  # fmt: skip
        arn = boto3.client("secretsmanager").create_secret(
            Name="s", SecretString=json.dumps({"signing_secrets": [SIGNING_SECRET]})
        )["ARN"]
        os.environ.update({"EVENTS_TABLE_NAME": "t", "SIGNING_SECRET_ARN": arn})
        import validator

        calls: list[str] = []
        for service in (validator._dynamodb, validator._secrets.client):
            service.meta.events.register("before-call.*.*", lambda model, **_: calls.append(model.name))
        validator.handler(make_event(payment("cold")), FakeContext())
        cold = list(calls)
        calls.clear()
        validator.handler(make_event(payment("warm")), FakeContext())
        accepted = list(calls)
        calls.clear()
        validator.handler(make_event(payment("bad"), secret="whsec_" + "B" * 44), FakeContext())
        rejected = list(calls)

        sqs = boto3.client("sqs")
        for name in ("PAYMENTS", "REFUNDS", "DISPUTES", "UNROUTED"):
            os.environ[f"{name}_QUEUE_URL"] = sqs.create_queue(QueueName=name.lower())["QueueUrl"]
        import router
        from boto3.dynamodb.types import TypeSerializer

        batches: list[int] = []
        router._sqs.meta.events.register(
            "before-parameter-build.sqs.SendMessageBatch", lambda params, **_: batches.append(len(params["Entries"]))
        )
        serializer = TypeSerializer()
        router_calls = {}
        for size in (1, 10, 100, 1000):
            types = [("payment", "refund", "dispute")[i % 3] for i in range(size)]
            records = [{"eventName": "INSERT", "dynamodb": {"SequenceNumber": str(i), "NewImage": {
                k: serializer.serialize(v) for k, v in {"event_id": f"e{i}", "transaction_type": t, "amount": 1,
                                                        "timestamp": "2026-11-28T10:00:00Z", "payload": "{}"}.items()}}}
                       for i, t in enumerate(types)]  # fmt: skip
            batches.clear()
            router.handler({"Records": records}, FakeContext())
            expected = sum(math.ceil(n / 10) for n in Counter(types).values())
            router_calls[size] = {"send_message_batch_calls": len(batches), "expected": expected}
    from modules.lambda_package import build_lambda_package

    return {
        "validator_cold_start_calls": cold,
        "validator_calls_per_accepted_event_warm": accepted,
        "validator_calls_per_rejected_event": rejected,
        "router_batches": router_calls,
        "package_bytes": build_lambda_package().size_bytes,
    }


if __name__ == "__main__":
    print(json.dumps(main(), indent=2))
