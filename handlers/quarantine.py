"""The quarantine: verified deliveries the door refused, kept so that nothing signed is lost in silence.

A delivery whose signature verified but which the door then refused with a final 4xx (409 conflict,
400 mapping/admission refusal, 413 limits) is written to DynamoDB `webhook-quarantine-<env>` (the
pipeline's CMK, point-in-time recovery, TTL) before the 4xx is answered; if that write fails the answer
is 5xx instead, so the provider retries and nothing is dropped. Unsigned or badly signed requests are
never kept: anyone could fill the table with them.

One item per (source, body): `quarantine_id` = `<source>:<sha256 of the raw body, hex>`, so a provider's
retries of one delivery update one item (latest headers, `refusals` counted) instead of piling up.

Item attributes (the contract of `python -m pipeline_tools quarantine`):

- `quarantine_id` (S, key), `source` (S; `standard` for `POST /webhook`), `resource` (S, the API route)
- `status` (N), `reason` (S, the refusal's reason code), `message` (S), `field` (S, when named),
  `event_ids` (L of S: the canonical ids the delivery maps to, when it got that far)
- `body` (B, the exact bytes posted), `headers` (S, JSON object of the request's headers, lower-case
  names), `multi_value_headers` (S, JSON), `request_context` (S, JSON: `domainName`, `path`, `stage`; the
  URL Square signs): everything needed to verify the delivery again
- `verified_at` (N, epoch seconds at which the kept headers verified: a readmission checks signed
  timestamps against this instant, not against the time of the readmission)
- `first_refused_at`, `last_refused_at` (S, ISO 8601 UTC), `refusals` (N), `expires_at` (N, TTL)

Retention: `RETENTION_DAYS` (90) after the last refusal. The longest retry horizon of a supported
provider is Adyen's 30 days (Stripe 3 days, Razorpay 24 h, the others hours to days: docs/providers/),
so a kept delivery outlives the provider's last attempt by two months: time for the alarm to be seen,
the cause fixed and the delivery readmitted.

Readmission (`readmit`, run by the validator on an operator's direct Lambda invoke
`{"quarantine_readmit": "<quarantine_id>"}`, never reachable through API Gateway): the kept request goes
through today's door again (signature, mapping, admission, the conditional write); the item is deleted
only after the answer is 2xx (stored, or a duplicate of a stored event), and only if no new refusal
updated it meanwhile.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
from collections.abc import Mapping, Sequence
from typing import Any

RETENTION_DAYS = 90
TABLE_VARIABLE = "QUARANTINE_TABLE_NAME"
READMIT_KEY = "quarantine_readmit"
# Never kept: credentials a proxy in front of us might add, and headers of no use to a verifier.
_DROPPED_HEADERS = frozenset({"authorization", "cookie", "proxy-authorization", "x-amz-security-token"})
_CONTEXT_KEYS = ("domainName", "path", "stage", "resourcePath")


def table_name() -> str | None:
    """The quarantine table, or None where none is configured (then nothing is kept: unit tests only;
    the stack always sets it)."""
    return os.environ.get(TABLE_VARIABLE) or None


def quarantine_id(source: str, body: bytes) -> str:
    return f"{source}:{hashlib.sha256(body).hexdigest()}"


def _headers(headers: Any) -> dict[str, Any]:
    if not isinstance(headers, Mapping):
        return {}
    return {
        name.lower(): value
        for name, value in headers.items()
        if isinstance(name, str) and name.lower() not in _DROPPED_HEADERS
    }


def keep(
    dynamodb: Any,
    *,
    event: Mapping[str, Any],
    source: str,
    body: bytes,
    status: int,
    reason: str,
    message: str,
    field: str | None,
    event_ids: Sequence[str],
    verified_at: int,
    now: datetime.datetime,
) -> str | None:
    """Write (or update) the item of this delivery; return its id, or None when no table is configured.

    Raises botocore's `ClientError`/`BotoCoreError` when the write fails (the caller answers 5xx)."""
    table = table_name()
    if table is None:
        return None
    key = quarantine_id(source, body)
    context = event.get("requestContext") if isinstance(event.get("requestContext"), Mapping) else {}
    values: dict[str, Any] = {
        ":source": {"S": source},
        ":resource": {"S": str(event.get("resource") or "/webhook")},
        ":status": {"N": str(status)},
        ":reason": {"S": reason},
        ":message": {"S": message[:1000]},
        ":field": {"S": field or ""},
        ":event_ids": {"L": [{"S": event_id} for event_id in event_ids]},
        ":body": {"B": body},
        ":headers": {"S": json.dumps(_headers(event.get("headers")), sort_keys=True)},
        ":multi": {"S": json.dumps(_headers(event.get("multiValueHeaders")), sort_keys=True)},
        ":context": {"S": json.dumps({k: context.get(k) for k in _CONTEXT_KEYS if k in context}, sort_keys=True)},
        ":verified_at": {"N": str(verified_at)},
        ":now": {"S": now.astimezone(datetime.UTC).isoformat().replace("+00:00", "Z")},
        ":expires_at": {"N": str(int(now.timestamp()) + RETENTION_DAYS * 86400)},
        ":one": {"N": "1"},
    }
    dynamodb.update_item(
        TableName=table,
        Key={"quarantine_id": {"S": key}},
        UpdateExpression=(
            "SET #source = :source, #resource = :resource, #status = :status, reason = :reason, "
            "message = :message, #field = :field, event_ids = :event_ids, body = :body, headers = :headers, "
            "multi_value_headers = :multi, request_context = :context, verified_at = :verified_at, "
            "first_refused_at = if_not_exists(first_refused_at, :now), last_refused_at = :now, "
            "expires_at = :expires_at ADD refusals :one"
        ),
        ExpressionAttributeNames={"#source": "source", "#resource": "resource", "#status": "status", "#field": "field"},
        ExpressionAttributeValues=values,
    )
    return key


def proxy_event(item: Mapping[str, Any]) -> dict[str, Any]:
    """The API Gateway proxy event of a kept delivery (body base64, as API Gateway passes binary)."""
    import base64

    resource = item["resource"]["S"]
    return {
        "resource": resource,
        "path": resource,
        "httpMethod": "POST",
        "headers": json.loads(item["headers"]["S"]),
        "multiValueHeaders": json.loads(item.get("multi_value_headers", {}).get("S", "{}")),
        "pathParameters": None,
        "body": base64.b64encode(item["body"]["B"]).decode(),
        "isBase64Encoded": True,
        "requestContext": {"requestId": f"readmit-{item['quarantine_id']['S'][:40]}",
                           **json.loads(item.get("request_context", {}).get("S", "{}"))},
    }  # fmt: skip


def load(dynamodb: Any, key: str) -> dict[str, Any] | None:
    table = table_name()
    if table is None:
        return None
    return dynamodb.get_item(TableName=table, Key={"quarantine_id": {"S": key}}, ConsistentRead=True).get("Item")


def release(dynamodb: Any, item: Mapping[str, Any]) -> bool:
    """Delete a readmitted item, unless a new refusal updated it since it was read. True if deleted."""
    from botocore.exceptions import ClientError

    try:
        dynamodb.delete_item(
            TableName=table_name(),
            Key={"quarantine_id": item["quarantine_id"]},
            ConditionExpression="refusals = :seen",
            ExpressionAttributeValues={":seen": item["refusals"]},
        )
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
            return False
        raise
    return True
