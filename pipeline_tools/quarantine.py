"""`python -m pipeline_tools quarantine list|show|readmit`: signed deliveries the door refused.

The table is `quarantine_table_name` from the outputs (`webhook-quarantine-<env>`; item shape in
handlers/quarantine.py). `list` and `show` only read. `readmit ID` asks the validator to run today's door
on the kept delivery (a direct Lambda invoke `{"quarantine_readmit": ID}` of `validator_lambda_arn`: only
the validator may write the events table) and the validator deletes the item only once the delivery was
stored or found already stored; this tool never deletes anything itself. Deliveries are named by their
`quarantine_id` (`<source>:<sha256 of the body>`), never by a time window.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3

from pipeline_tools.outputs import client, region_of


class QuarantineError(Exception):
    """A readmission that did not end stored (exit 1), or a missing item."""


def _table(outputs: dict[str, Any]) -> str:
    name = outputs.get("quarantine_table_name")
    if not name:
        raise QuarantineError("the outputs name no quarantine_table_name: deploy this version of the stack first")
    return str(name)


def _items(outputs: dict[str, Any]) -> Iterator[dict[str, Any]]:
    dynamodb = client(outputs, "dynamodb")
    paginator = dynamodb.get_paginator("scan")
    for page in paginator.paginate(TableName=_table(outputs), ConsistentRead=True):
        yield from page.get("Items", [])


def summary(item: dict[str, Any]) -> dict[str, Any]:
    """One kept delivery without its body and headers (what `list` prints, one JSON line each)."""
    return {
        "quarantine_id": item["quarantine_id"]["S"],
        "source": item["source"]["S"],
        "status": int(item["status"]["N"]),
        "reason": item["reason"]["S"],
        "field": item.get("field", {}).get("S") or None,
        "event_ids": [value["S"] for value in item.get("event_ids", {}).get("L", [])],
        "refusals": int(item["refusals"]["N"]),
        "first_refused_at": item["first_refused_at"]["S"],
        "last_refused_at": item["last_refused_at"]["S"],
    }


def list_kept(outputs: dict[str, Any]) -> list[dict[str, Any]]:
    """Every kept delivery, oldest refusal first."""
    return sorted(
        (summary(item) for item in _items(outputs)), key=lambda s: (s["first_refused_at"], s["quarantine_id"])
    )


def show(outputs: dict[str, Any], key: str) -> dict[str, Any]:
    """A kept delivery in full: the summary plus the message, headers and body (text when it is UTF-8)."""
    dynamodb = client(outputs, "dynamodb")
    item = dynamodb.get_item(TableName=_table(outputs), Key={"quarantine_id": {"S": key}}, ConsistentRead=True).get(
        "Item"
    )
    if item is None:
        raise QuarantineError(f"no kept delivery {key}")
    body: bytes = item["body"]["B"]
    try:
        text: dict[str, str] = {"body": body.decode("utf-8")}
    except UnicodeDecodeError:
        import base64

        text = {"body_base64": base64.b64encode(body).decode()}
    return {
        **summary(item),
        "message": item.get("message", {}).get("S"),
        "resource": item["resource"]["S"],
        "verified_at": int(item["verified_at"]["N"]),
        "headers": json.loads(item["headers"]["S"]),
        **text,
    }


def _lambda(outputs: dict[str, Any]) -> Any:
    endpoint = outputs.get("lambda_endpoint_url")  # the sandbox runs the validator in its own process
    if endpoint:
        return boto3.client("lambda", region_name=region_of(outputs), endpoint_url=endpoint,
                            aws_access_key_id="sandbox", aws_secret_access_key="sandbox")  # noqa: S106  # fmt: skip
    return client(outputs, "lambda")


def readmit(outputs: dict[str, Any], key: str) -> dict[str, Any]:
    """Ask the validator to readmit `key`; return its answer (`statusCode`, `body`, `released`).

    Raises `QuarantineError` when the item does not exist or the validator failed."""
    response = _lambda(outputs).invoke(
        FunctionName=outputs["validator_lambda_arn"],
        InvocationType="RequestResponse",
        Payload=json.dumps({"quarantine_readmit": key}).encode(),
    )
    payload = json.loads(response["Payload"].read() or b"null")
    if response.get("FunctionError") or not isinstance(payload, dict):
        raise QuarantineError(f"the validator failed to readmit {key}: {payload}")
    if not payload.get("found", True):
        raise QuarantineError(f"no kept delivery {key}")
    return payload
