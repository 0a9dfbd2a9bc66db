"""Live checks of a deployed pipeline: identical against AWS and against the sandbox."""

from __future__ import annotations

import json
import time
from decimal import Decimal
from typing import Any

import pytest

from pipeline_tools.outputs import client
from pipeline_tools.redrive import redrive
from tests.integration.helpers import QUEUE_OUTPUT, collect, event_body, post, stored, unique_id

pytestmark = pytest.mark.integration


# --- the reference implementation's six live checks ----------------------------------------------
def test_table_has_key_schema_billing_mode_and_ttl(outputs: dict[str, Any]) -> None:
    dynamodb = client(outputs, "dynamodb")
    table = dynamodb.describe_table(TableName=outputs["dynamodb_table_name"])["Table"]
    assert table["KeySchema"] == [{"AttributeName": "event_id", "KeyType": "HASH"}]
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert table["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"}
    ttl = dynamodb.describe_time_to_live(TableName=outputs["dynamodb_table_name"])["TimeToLiveDescription"]
    assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": "ttl"}


def test_queues_exist_with_retention_shorter_than_their_dlq(outputs: dict[str, Any]) -> None:
    sqs = client(outputs, "sqs")
    for kind in ("payments", "refunds", "disputes"):
        source = sqs.get_queue_attributes(QueueUrl=outputs[f"{kind}_queue_url"], AttributeNames=["All"])["Attributes"]
        dlq = sqs.get_queue_attributes(QueueUrl=outputs[f"{kind}_dlq_url"], AttributeNames=["All"])["Attributes"]
        assert int(source["MessageRetentionPeriod"]) == 4 * 86400
        assert int(dlq["MessageRetentionPeriod"]) == 14 * 86400
        assert json.loads(source["RedrivePolicy"])["deadLetterTargetArn"] == dlq["QueueArn"]
        assert source["KmsMasterKeyId"]


def test_functions_are_python311_arm64_with_active_tracing(outputs: dict[str, Any]) -> None:
    lambda_client = client(outputs, "lambda")
    for arn in (outputs["validator_lambda_arn"], outputs["router_lambda_arn"]):
        configuration = lambda_client.get_function_configuration(FunctionName=arn)
        assert configuration["Runtime"] == "python3.11"
        assert configuration["Architectures"] == ["arm64"]
        assert configuration["TracingConfig"] == {"Mode": "Active"}


def test_endpoint_answers_and_refuses_unsigned_requests(outputs: dict[str, Any]) -> None:
    assert outputs["api_endpoint"].endswith("/webhook")
    status, body = post(outputs, event_body(unique_id()), "whsec_" + "A" * 44)
    assert status == 401 and body["error"] == "invalid_signature"


def test_end_to_end_a_signed_payment_is_stored_and_routed(outputs: dict[str, Any], signing_secret: str) -> None:
    event_id = unique_id("e2e")
    status, body = post(outputs, event_body(event_id, amount="0.1"), signing_secret)
    assert (status, body) == (202, {"event_id": event_id, "status": "accepted"})
    assert stored(outputs, event_id)["amount"] == {"N": "0.1"}
    [message] = collect(outputs, outputs["payments_queue_url"], {event_id})
    payload = json.loads(message["Body"], parse_float=Decimal)
    assert payload["amount"] == Decimal("0.1")
    assert message["MessageAttributes"]["transaction_type"]["StringValue"] == "payment"


# --- routing, idempotency and refusal ------------------------------------------------------------
@pytest.mark.parametrize("transaction_type", ["payment", "refund", "dispute"])
def test_each_type_arrives_in_its_own_queue_with_event_id(
    outputs: dict[str, Any], signing_secret: str, transaction_type: str
) -> None:
    event_id = unique_id(transaction_type)
    assert post(outputs, event_body(event_id, transaction_type), signing_secret)[0] == 202
    [message] = collect(outputs, outputs[QUEUE_OUTPUT[transaction_type]], {event_id})
    assert message["MessageAttributes"]["event_id"]["StringValue"] == event_id


@pytest.mark.parametrize(("transaction_type", "outcome"), [("payment", "authorized"), ("refund", "failed")])
def test_a_fact_that_moves_no_money_arrives_in_the_lifecycle_queue(
    outputs: dict[str, Any], signing_secret: str, transaction_type: str, outcome: str
) -> None:
    event_id = unique_id(outcome)
    body = event_body(event_id, transaction_type, outcome=outcome, object_id=f"obj_{event_id}", object_version=7)
    assert post(outputs, body, signing_secret)[0] == 202
    [message] = collect(outputs, outputs[QUEUE_OUTPUT["lifecycle"]], {event_id})
    assert message["MessageAttributes"]["outcome"]["StringValue"] == outcome
    payload = json.loads(message["Body"], parse_float=Decimal)
    assert (payload["object_id"], payload["object_version"]) == (f"obj_{event_id}", 7)


def test_unknown_type_is_parked_in_unrouted_events(outputs: dict[str, Any], signing_secret: str) -> None:
    event_id = unique_id("unknown")
    assert post(outputs, event_body(event_id, "chargeback_reversal"), signing_secret)[0] == 202
    [message] = collect(outputs, outputs["unrouted_queue_url"], {event_id})
    assert message["MessageAttributes"]["transaction_type"]["StringValue"] == "chargeback_reversal"


def test_duplicate_delivery_is_acknowledged_and_yields_one_message(
    outputs: dict[str, Any], signing_secret: str
) -> None:
    event_id = unique_id("dup")
    body = event_body(event_id, "refund")
    assert post(outputs, body, signing_secret)[0] == 202
    assert post(outputs, body, signing_secret) == (200, {"event_id": event_id, "status": "duplicate"})
    assert len(collect(outputs, outputs["refunds_queue_url"], {event_id})) == 1


def test_same_id_with_a_different_payload_is_a_conflict(outputs: dict[str, Any], signing_secret: str) -> None:
    event_id = unique_id("conflict")
    assert post(outputs, event_body(event_id, amount="10"), signing_secret)[0] == 202
    status, body = post(outputs, event_body(event_id, amount="11"), signing_secret)
    assert (status, body["error"]) == (409, "conflict")
    assert stored(outputs, event_id)["amount"] == {"N": "10"}


def test_stale_request_gets_401_and_stores_nothing(outputs: dict[str, Any], signing_secret: str) -> None:
    event_id = unique_id("stale")
    status, body = post(outputs, event_body(event_id), signing_secret, timestamp=int(time.time()) - 3600)
    assert (status, body["error"]) == (401, "timestamp_too_old")
    assert stored(outputs, event_id) is None


def test_body_violating_the_model_gets_400_from_the_gateway(outputs: dict[str, Any], signing_secret: str) -> None:
    event_id = unique_id("model")
    status, body = post(
        outputs, json.dumps({"event_id": event_id, "transaction_type": "payment"}).encode(), signing_secret
    )
    assert status == 400
    assert body["error"] == "invalid_body"  # the BAD_REQUEST_BODY gateway response, not the Lambda
    assert "amount" in body["message"] or "required" in body["message"]
    assert stored(outputs, event_id) is None


def test_a_burst_of_200_signed_events_arrives_exactly_once_each(outputs: dict[str, Any], signing_secret: str) -> None:
    ids = {unique_id(f"burst{i}") for i in range(200)}
    for event_id in ids:
        assert post(outputs, event_body(event_id, "payment"), signing_secret)[0] == 202
    messages = collect(outputs, outputs["payments_queue_url"], ids, timeout=180)
    received = [m["MessageAttributes"]["event_id"]["StringValue"] for m in messages]
    assert sorted(received) == sorted(ids)  # every one, none twice


def test_a_message_its_consumer_keeps_failing_lands_in_the_dlq_and_redrive_brings_it_back(
    outputs: dict[str, Any], signing_secret: str
) -> None:
    event_id = unique_id("poison")
    assert post(outputs, event_body(event_id, "dispute"), signing_secret)[0] == 202
    sqs = client(outputs, "sqs")
    queue, dlq = outputs["disputes_queue_url"], outputs["disputes_dlq_url"]
    policy = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["RedrivePolicy"])["Attributes"]["RedrivePolicy"]
    receives = 0
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:  # a consumer that receives and never deletes
        messages = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, VisibilityTimeout=0, WaitTimeSeconds=1,
                                       MessageAttributeNames=["All"]).get("Messages", [])  # fmt: skip
        mine = [m for m in messages if m["MessageAttributes"]["event_id"]["StringValue"] == event_id]
        receives += len(mine)
        if not mine and receives >= json.loads(policy)["maxReceiveCount"]:
            break
    assert receives == json.loads(policy)["maxReceiveCount"]
    parked = collect(outputs, dlq, {event_id}, delete=False, timeout=60)
    assert len(parked) == 1, "the message never reached the DLQ"
    sqs.change_message_visibility(QueueUrl=dlq, ReceiptHandle=parked[0]["ReceiptHandle"], VisibilityTimeout=0)
    redrive(outputs, "disputes")
    [back] = collect(outputs, queue, {event_id}, timeout=60)
    assert json.loads(back["Body"])["event_id"] == event_id


def test_trace_shows_where_the_router_sent_an_event(outputs: dict[str, Any], signing_secret: str) -> None:
    from pipeline_tools.trace import trace

    event_id = unique_id("trace")
    assert post(outputs, event_body(event_id, "refund", amount="12.50"), signing_secret)[0] == 202
    [message] = collect(outputs, outputs["refunds_queue_url"], {event_id})
    deadline = time.monotonic() + 120  # CloudWatch Logs may take a while to ingest on AWS
    found = trace(outputs, event_id)
    while not found.decisions and time.monotonic() < deadline:
        time.sleep(2)
        found = trace(outputs, event_id)
    assert found.item is not None and found.item["transaction_type"] == "refund"
    [decision] = found.decisions
    assert decision["outcome"] == "routed"
    assert decision["destination"] == outputs["refunds_queue_url"].rsplit("/", 1)[-1]
    assert decision["message_id"] == message["MessageId"]
