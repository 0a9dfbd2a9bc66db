"""Requests, payloads and look-ups shared by the handler tests."""

from __future__ import annotations

import base64
import datetime
import importlib
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3

from tests.handlers.sqs_stand_in import enforce_on, enforce_schema_on

HANDLERS_DIR = Path(__file__).resolve().parents[2] / "handlers"
HANDLER_MODULES = (
    "validator",
    "router",
    "routing",
    "webhook_event",
    "canonical_event",
    "routed_message",
    "strict_json",
    "money",
    "sources",
    "providers",
    "webhook_signature",
    "canonical_json",
    "http_response",
    "sdk_config",
    "quarantine",
    "errors",
    "payload_codec",
    "enrichment",
)
REGION = "us-east-1"
TABLE_NAME = "transaction-events-test"
SIGNING_SECRET = "whsec_" + base64.b64encode(b"test-signing-key-0123456789abcdef").decode()
ROTATED_SECRET = "whsec_" + base64.b64encode(b"rotated-signing-key-0123456789ab").decode()


def fresh_import(name: str) -> ModuleType:
    """Import a handler as a new cold start would: module state (clients, caches) starts empty.

    Every handler module is dropped, shared ones included: a module imported before a later
    `fresh_import` keeps references to the old copies (e.g. `SignatureError`), and the two no longer
    match. Import the router before the validator, or import each in its own test.
    """
    for module in [*HANDLER_MODULES, *(name for name in sys.modules if name.startswith("providers."))]:
        sys.modules.pop(module, None)
    module = importlib.import_module(name)
    if name == "router":
        enforce_schema_on(module)  # every message a router test sends is checked against the published schema
    return module


class FakeContext:
    """The LambdaContext attributes Powertools reads."""

    function_name = "webhook-validator-test"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:webhook-validator-test"
    aws_request_id = "00000000-0000-0000-0000-000000000000"


def make_event(
    payload: dict[str, Any] | str | bytes,
    *,
    secret: str = SIGNING_SECRET,
    webhook_id: str = "msg_test",
    timestamp: int | None = None,
    signer: str = "ours",
    base64_body: bool = False,
    header_case: Callable[[str], str] = str.lower,
    omit: tuple[str, ...] = (),
) -> dict[str, Any]:
    """An API Gateway proxy event carrying a signed body."""
    from standardwebhooks.webhooks import Webhook

    import webhook_signature

    if isinstance(payload, dict):
        body = json.dumps(payload).encode()
    else:
        body = payload.encode() if isinstance(payload, str) else payload
    timestamp = int(time.time()) if timestamp is None else timestamp
    if signer == "ours":
        signature = webhook_signature.sign(webhook_signature.decode_secret(secret), webhook_id, timestamp, body)
    else:  # the independent implementation of the spec
        moment = datetime.datetime.fromtimestamp(timestamp, tz=datetime.UTC)
        signature = Webhook(secret).sign(webhook_id, moment, body.decode())
    headers = {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature,
        "content-type": "application/json",
    }
    headers = {header_case(name): value for name, value in headers.items() if name not in omit}
    try:
        body.decode()
    except UnicodeDecodeError:
        base64_body = True  # API Gateway hands a body that is not UTF-8 text over base64-encoded
    return {
        "resource": "/webhook",
        "path": "/webhook",
        "httpMethod": "POST",
        "headers": headers,
        "isBase64Encoded": base64_body,
        "body": base64.b64encode(body).decode() if base64_body else body.decode(),
        "requestContext": {"requestId": "req-1", "stage": "v1"},
    }


def payment(event_id: str = "evt_1", **fields: Any) -> dict[str, Any]:
    return {
        "event_id": event_id,
        "transaction_type": "payment",
        "amount": 19.99,
        "currency": "EUR",
        "object_id": f"py_{event_id}",  # a money fact without object_id is parked (README, "The money contract")
        "timestamp": "2026-11-28T10:00:00Z",
        **fields,
    }


def stored_items(table: str = TABLE_NAME) -> list[dict[str, Any]]:
    return boto3.client("dynamodb", region_name=REGION).scan(TableName=table)["Items"]


def stream_records() -> list[dict[str, Any]]:
    """Every record of the events table's stream so far (moto), from the start of each shard."""
    client = boto3.client("dynamodb", region_name=REGION)
    streams = boto3.client("dynamodbstreams", region_name=REGION)
    arn = client.describe_table(TableName=TABLE_NAME)["Table"]["LatestStreamArn"]
    records = []
    for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
        iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON")
        records += streams.get_records(ShardIterator=iterator["ShardIterator"], Limit=1000)["Records"]
    return records


def route_stored(router: ModuleType) -> list[dict[str, Any]]:
    """Route every event stored so far through the SQS stand-in; return the entries sent."""
    sent = enforce_on(router)
    assert router.handler({"Records": stream_records()}, FakeContext()) == {"batchItemFailures": []}
    return sent


def stored_payload(item: dict[str, Any]) -> str | None:
    """The stored item's exact signed text, in either stored form (handlers/payload_codec.py)."""
    import payload_codec

    return payload_codec.stored_payload(item)
