"""The example consumer (`example_consumer: true`, on in sandbox.json) end to end: a payment's lifecycle
(payment, two partial refunds, a dispute opened then won) is posted to the door shuffled and with
repeats, routed to the money queues, and delivered to the consumer shuffled again with every message
delivered up to three times; the ledger must equal the provider's net amount, one row per money fact.

In the sandbox the consumer runs in this process, as the sandbox runs every handler: the code is the zip
the emulator says is deployed (CodeSha256 checked), its environment the deployed configuration, its
table the deployed one; the messages come from the money queues and are deleted as Lambda's SQS mapping
deletes them (all but the partial batch response's failures). On AWS the deployed function consumes the
queues itself and the test reads the ledger.
"""

from __future__ import annotations

import importlib
import json
import random
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from pipeline_tools.outputs import client
from pipeline_tools.sandbox.lambda_runtime import extract_deployed_code
from tests.integration.helpers import collect, event_body, post, unique_id
from tests.message_schema import check_received

pytestmark = pytest.mark.integration
QUEUES = {"payment": "payments_queue_url", "refund": "refunds_queue_url", "dispute": "disputes_queue_url"}


def lifecycle(run: str) -> list[dict[str, Any]]:
    """(body members) of each fact, in the provider's order; the net for the merchant is 50.00."""
    payment, dispute = f"py_{run}", f"dp_{run}"
    facts = [
        ("payment", "succeeded", payment, None, 1, "100.00"),
        ("refund", "succeeded", f"re_{run}_1", payment, 1, "30.00"),
        ("refund", "succeeded", f"re_{run}_2", payment, 1, "20.00"),
        ("dispute", "opened", dispute, payment, 1, "50.00"),
        ("dispute", "won", dispute, payment, 2, "50.00"),
    ]
    return [
        {"event_id": f"{run}_{index}", "transaction_type": kind, "outcome": outcome, "object_id": object_id,
         "object_version": version, "amount": amount, **({"parent_object_id": parent} if parent else {})}
        for index, (kind, outcome, object_id, parent, version, amount) in enumerate(facts)
    ]  # fmt: skip


NET = Decimal("100.00") - Decimal("30.00") - Decimal("20.00") - Decimal("50.00") + Decimal("50.00")


def load_deployed_consumer(outputs: dict[str, Any], work: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The deployed consumer module, its environment set through `monkeypatch`: left in `os.environ`,
    `AWS_ENDPOINT_URL` would send every later test's boto3 client (moto's `mock_aws` included) to the
    sandbox's emulator."""
    lambda_client = client(outputs, "lambda")
    name = outputs["example_consumer_lambda_arn"].split(":")[-1]
    stack_dir = Path(outputs["sandbox_stack_dir"])
    stack = json.loads((stack_dir / "cdk.tf.json").read_text())
    [filename] = [
        f["filename"] for f in stack["resource"]["aws_lambda_function"].values() if f["function_name"] == name
    ]
    extract_deployed_code(lambda_client, name, stack_dir / filename, work)
    configuration = lambda_client.get_function_configuration(FunctionName=name)
    variables = {**configuration.get("Environment", {}).get("Variables", {}),
                 "AWS_ENDPOINT_URL": outputs["aws_endpoint_url"], "AWS_DEFAULT_REGION": configuration["FunctionArn"].split(":")[3],
                 "AWS_ACCESS_KEY_ID": "sandbox", "AWS_SECRET_ACCESS_KEY": "sandbox"}  # fmt: skip
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    # The deployed copy, not the source tree's (which the consumer package's tests put on sys.path).
    for module in [m for m in sys.modules if m == "ledger_consumer" or m.split(".")[0] == "webhook_consumer"]:
        monkeypatch.delitem(sys.modules, module)
    sys.path.insert(0, str(work))
    try:
        module = importlib.import_module("ledger_consumer")
    finally:
        sys.path.remove(str(work))
    assert module.__file__.startswith(str(work))
    return module


def lambda_record(message: dict[str, Any], queue_arn: str) -> dict[str, Any]:
    """A received message as Lambda's SQS mapping hands it to the function."""
    return {
        "messageId": message["MessageId"], "receiptHandle": message["ReceiptHandle"], "body": message["Body"],
        "attributes": message.get("Attributes", {}), "eventSource": "aws:sqs", "eventSourceARN": queue_arn,
        "messageAttributes": {n: {"stringValue": a["StringValue"], "dataType": a["DataType"]}
                              for n, a in message.get("MessageAttributes", {}).items()},
    }  # fmt: skip


def ledger_rows(outputs: dict[str, Any], event_ids: set[str]) -> list[dict[str, Any]]:
    dynamodb = client(outputs, "dynamodb")
    items = dynamodb.scan(TableName=outputs["example_ledger_table_name"], ConsistentRead=True)["Items"]
    return [i for i in items if i["pk"]["S"].removeprefix("ledger#") in event_ids]


def test_a_shuffled_duplicated_lifecycle_leaves_the_providers_net_in_the_ledger(
    outputs: dict[str, Any], signing_secret: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if "example_consumer_lambda_arn" not in outputs:
        pytest.skip("the deployment has no example consumer (example_consumer: true)")
    shuffle = random.Random(21)
    facts = lifecycle(unique_id("ledger"))
    event_ids = {fact["event_id"] for fact in facts}
    to_the_door = [fact for fact in facts for _ in range(shuffle.randint(1, 2))]
    shuffle.shuffle(to_the_door)
    for fact in to_the_door:
        amount = fact["amount"]
        members = {k: v for k, v in fact.items() if k not in ("event_id", "transaction_type", "amount")}
        status, answer = post(
            outputs, event_body(fact["event_id"], fact["transaction_type"], amount, **members), signing_secret
        )
        assert status in (200, 202), answer

    if not outputs.get("sandbox"):  # on AWS the deployed consumer reads the queues itself
        deadline = time.monotonic() + 120
        while len(rows := ledger_rows(outputs, event_ids)) < len(facts) and time.monotonic() < deadline:
            time.sleep(2)
    else:
        consumer = load_deployed_consumer(outputs, tmp_path / "example-consumer", monkeypatch)
        sqs = client(outputs, "sqs")
        deliveries = []
        for kind, output in QUEUES.items():
            wanted = {f["event_id"] for f in facts if f["transaction_type"] == kind}
            messages = collect(outputs, outputs[output], wanted, delete=False)
            assert {m["MessageAttributes"]["event_id"]["StringValue"] for m in messages} == wanted
            arn = sqs.get_queue_attributes(QueueUrl=outputs[output], AttributeNames=["QueueArn"])["Attributes"][
                "QueueArn"
            ]
            for message in messages:
                check_received(message)
                deliveries += [(output, lambda_record(message, arn))] * shuffle.randint(1, 3)
        shuffle.shuffle(deliveries)
        for start in range(0, len(deliveries), 4):
            batch = deliveries[start : start + 4]
            response = consumer.handler({"Records": [record for _, record in batch]}, None)
            assert response == {"batchItemFailures": []}
            for output, record in batch:  # what the mapping does with a success: delete it
                sqs.delete_message(QueueUrl=outputs[output], ReceiptHandle=record["receiptHandle"])
        rows = ledger_rows(outputs, event_ids)
        print(f"\nexample consumer: {len(deliveries)} deliveries of {len(facts)} money facts, no batch item failed")

    amounts = {row["pk"]["S"].removeprefix("ledger#"): Decimal(row["amount"]["N"]) for row in rows}
    print(f"ledger rows: {dict(sorted(amounts.items()))}; total {sum(amounts.values())}; provider net {NET}")
    assert sum(amounts.values(), Decimal(0)) == NET
    # One row per applied fact, none twice; a fact skipped as stale has no row and its newer one carries it.
    assert len(amounts) == len(rows) <= len(facts)
