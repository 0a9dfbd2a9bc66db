"""`webhook-validator`: verify the signature, admit only what can be delivered, store each event once.

The response is 2xx only after the conditional write has succeeded, and only for an event whose
routed message SQS will accept (README, "The admission contract"); an AWS failure is 5xx so the
sender retries, and nothing else is. Codes: 202 stored, 200 duplicate, 400 bad body, 401 bad
signature, 404 unknown source, 409 conflict, 413 too large, 500/503 AWS failures.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import os
import time
from collections.abc import Sequence
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parameters import SecretsProvider
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import BotoCoreError, ClientError

from canonical_event import CanonicalEvent, NotStorableError
from http_response import json_response
from providers import ProviderEvent, WebhookRequest
from routed_message import UndeliverableMessageError
from sdk_config import SDK_CONFIG
from sources import Source, UnknownSourceError, canonical, load_sources, request_url, source_name
from sources import keys as source_keys
from strict_json import JsonDecodeError, decode_utf8
from webhook_event import MAX_BODY_BYTES, STANDARD_SOURCE, InvalidEventError, parse_event
from webhook_signature import SignatureError, decode_secret, lower_case_headers, verify

THROTTLING_CODES = {
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
    "ThrottlingException",
    "TransactionConflictException",
}
# A rotated secret takes effect within this many seconds, without a deploy.
SECRET_CACHE_SECONDS = 300
# Adyen's notification webhooks expect this body to count a delivery as accepted (Adyen docs,
# "Accept webhooks").
ADYEN_ACCEPTED = "[accepted]"

logger = Logger()
metrics = Metrics()
_dynamodb = boto3.client("dynamodb", config=SDK_CONFIG)
_secrets = SecretsProvider(boto3_client=boto3.client("secretsmanager"))


class SigningSecretUnavailableError(Exception):
    """No usable signing secret: answer 5xx, never accept."""


def _signing_keys() -> list[bytes]:
    """Every usable entry of the secret's `signing_secrets`; a malformed entry is logged (by index,
    never its value) and skipped. Raises `SigningSecretUnavailableError` when none is usable."""
    arn = os.environ["SIGNING_SECRET_ARN"]
    hint = '{"signing_secrets": ["whsec_<base64>"]} (see README, "Deploying to AWS", step 3)'
    try:
        value = _secrets.get(arn, max_age=SECRET_CACHE_SECONDS, transform="json")
        entries = value["signing_secrets"]
        if not isinstance(entries, list):
            raise TypeError("signing_secrets is not a list")
    except Exception as error:  # any failure here must end in 5xx, whatever raised it
        raise SigningSecretUnavailableError(f"cannot use secret {arn}: set its SecretString to {hint}") from error
    keys = []
    for index, entry in enumerate(entries):
        try:
            keys.append(decode_secret(entry))
        except (ValueError, TypeError, AttributeError) as error:
            metrics.add_metric(name="SecretEntrySkipped", unit=MetricUnit.Count, value=1)
            logger.error("signing secret entry skipped", extra={"entry_index": index, "problem": str(error)})
    if not keys:
        raise SigningSecretUnavailableError(f"secret {arn} holds no usable signing secret: set it to {hint}")
    return keys


def _raw_body(event: dict[str, Any]) -> bytes:
    """The bytes the sender posted. Raises ValueError (with what is wrong) for a body that is not text or
    is flagged base64 without being valid base64."""
    body = event.get("body") or ""
    if not isinstance(body, str):
        raise ValueError("body is not text")
    if event.get("isBase64Encoded") is True:  # API Gateway sends a JSON boolean; anything else is not the flag
        try:
            return base64.b64decode(body, validate=True)
        except binascii.Error:
            raise ValueError("body is flagged base64 but is not valid base64") from None
    # API Gateway hands over text; a body that was not UTF-8 arrives base64-encoded instead.
    return body.encode("utf-8", "surrogatepass")


def _rejected(status: int, reason: str, message: str, field: str | None = None) -> dict[str, Any]:
    metrics.add_metric(name="Rejected", unit=MetricUnit.Count, value=1)
    metrics.add_metric(name=f"Rejected_{reason}", unit=MetricUnit.Count, value=1)
    logger.info("webhook rejected", extra={"reason": reason, "status": status, "field": field})
    body = {"error": reason, "message": message}
    if field:
        body["field"] = field
    return json_response(status, body)


# Outcomes of one conditional write, in the order they decide a delivery's answer (worst first).
FAILED, THROTTLED, CONFLICT, STORED, DUPLICATE = "failed", "throttled", "conflict", "stored", "duplicate"
_OUTCOME_METRICS = {STORED: "Accepted", DUPLICATE: "Duplicate", CONFLICT: "Conflict"}


def _put(item: dict[str, dict[str, str]]) -> str:
    """One conditional PutItem; on a repeat, the stored item comes back with the error: no extra read."""
    try:
        _dynamodb.put_item(
            TableName=os.environ["EVENTS_TABLE_NAME"],
            Item=item,
            ConditionExpression="attribute_not_exists(event_id)",
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "")
        if code == "ConditionalCheckFailedException":
            stored = error.response.get("Item", {})
            if stored.get("payload_sha256") == item["payload_sha256"]:
                logger.info("duplicate delivery acknowledged", extra={"event_id": item["event_id"]["S"]})
                return DUPLICATE
            logger.warning("same event_id with a different payload: possible tampering or a sender bug",
                           extra={"event_id": item["event_id"]["S"]})  # fmt: skip
            return CONFLICT
        logger.error("event not stored; the sender will retry", extra={"aws_error": code})
        return THROTTLED if code in THROTTLING_CODES else FAILED
    except BotoCoreError as error:
        logger.error("event not stored; the sender will retry", extra={"aws_error": type(error).__name__})
        return FAILED
    # DEBUG, not INFO: the table itself records every stored event (with received_at); an INFO line
    # per event would cost a quarter of the warm CPU and most of the log ingestion (PERFORMANCE.md).
    logger.debug("event stored")
    return STORED


def write_items(items: Sequence[dict[str, Any]]) -> list[str]:
    """One conditional PutItem per admitted item, in order; the outcome of each (`STORED`, `DUPLICATE`,
    `CONFLICT`, `THROTTLED`, `FAILED`), each counted as a metric. Never raises for an AWS failure."""
    outcomes = [_put(item) for item in items]
    for outcome in outcomes:
        metric = _OUTCOME_METRICS.get(outcome, "StoreFailed")
        metrics.add_metric(name=metric, unit=MetricUnit.Count, value=1)
    return outcomes


def admit_events(
    source: Source,
    provider_events: Sequence[ProviderEvent],
    now: datetime.datetime,
    extra: dict[str, str] | None = None,
) -> list[dict[str, Any]]:
    """The door's canonical path for the events of a verified delivery (or, for the reconciler, of an
    authenticated API listing): canonical event, then the admission contract, all before any write.
    `extra` adds string attributes (e.g. `origin`). Raises `InvalidEventError` (nothing to write)."""
    return [_admit(canonical(source, provider_event), now, extra) for provider_event in provider_events]


def _store(items: list[dict[str, Any]], source: str, success_body: str | None = None) -> dict[str, Any]:
    """Write every item (one conditional PutItem each), then answer for the whole delivery: 5xx if any
    write failed (the provider resends; stored events dedupe), else 409 if any conflicts, else 202 if any
    was new, else 200. `success_body` replaces the JSON body of a 2xx (Adyen expects `[accepted]`)."""
    outcomes = write_items(items)
    event_id = items[0]["event_id"]["S"] if len(items) == 1 else None
    worst = min(outcomes, key=_rank)
    if worst in (FAILED, THROTTLED):
        status = 503 if worst == THROTTLED else 500
        return json_response(status, {"error": "unavailable", "message": "event not stored; retry later"},
                             {"Retry-After": "5"} if status == 503 else None)  # fmt: skip
    if worst == CONFLICT:
        conflicts = [
            item["event_id"]["S"] for item, outcome in zip(items, outcomes, strict=True) if outcome == CONFLICT
        ]
        body = {
            "error": "conflict",
            "event_id": conflicts[0],
            "message": "event_id already stored with another payload",
        }
        if len(items) > 1:
            body["conflicts"] = conflicts  # which events of the batch; the others are stored or duplicates
        return json_response(409, body)
    status = 202 if STORED in outcomes else 200
    if success_body is not None:
        return {"statusCode": status, "headers": {"Content-Type": "text/plain"}, "body": success_body}
    body: dict[str, Any] = {"status": "accepted" if status == 202 else "duplicate"}
    if event_id is not None:
        body["event_id"] = event_id
    else:
        body["events"] = len(items)
    return json_response(status, body)


def _rank(outcome: str) -> int:
    return (FAILED, THROTTLED, CONFLICT, STORED, DUPLICATE).index(outcome)


def _per_source_metrics(source: str) -> None:
    """Publish this invocation's metrics under (service, source) too, in the same EMF line: per-source
    graphs and alarms at no extra log line. Only for configured sources, never a name from the request
    (an attacker's path must not create metrics)."""
    metrics.add_dimensions(service=os.environ.get("POWERTOOLS_SERVICE_NAME", "webhook-validator"), source=source)


def _admit(
    event: CanonicalEvent, now: datetime.datetime, extra: dict[str, str] | None = None, *, message_proven: bool = False
) -> dict[str, Any]:
    """Build the item, once its routed message is known good; refuse what cannot be stored or delivered."""
    try:
        return event.item(
            now=now, ttl_days=int(os.environ.get("EVENT_TTL_DAYS", "30")), extra=extra, message_proven=message_proven
        )
    except UndeliverableMessageError as error:
        raise InvalidEventError(error.reason, error.message) from None
    except NotStorableError as error:
        raise InvalidEventError(error.reason, error.message, error.field) from None


def _status_of(error: InvalidEventError) -> int:
    return 413 if error.reason in ("payload_too_large", "message_too_large", "item_too_large") else 400


def _process_standard(
    event: dict[str, Any], headers: dict[str, str], body: bytes, now: datetime.datetime
) -> dict[str, Any]:
    """`POST /webhook`: Standard Webhooks v1 and our canonical body (README, "The webhook contract").

    Its metrics carry no `source` dimension: the service-level ones are this route's (the dashboard
    shows them as `standard`), and the hot path saves the second dimension set.
    """
    try:
        keys = _signing_keys()
    except SigningSecretUnavailableError as error:
        logger.exception(str(error))
        metrics.add_metric(name="SecretUnavailable", unit=MetricUnit.Count, value=1)
        return json_response(500, {"error": "unavailable", "message": "signing secret unavailable; retry later"})
    try:
        webhook_id = verify(
            headers,
            body,
            keys,
            now=int(now.timestamp()),
            tolerance_seconds=int(os.environ.get("SIGNATURE_TOLERANCE_SECONDS", "300")),
        )
    except SignatureError as error:
        metrics.add_metric(name="SignatureRejected", unit=MetricUnit.Count, value=1)
        return _rejected(401, error.reason, error.message)
    logger.append_keys(webhook_id=webhook_id)
    try:
        webhook_event = parse_event(body)
        logger.append_keys(event_id=webhook_event.event_id, transaction_type=webhook_event.transaction_type)
        item = _admit(webhook_event, now, {"webhook_id": webhook_id}, message_proven=True)
    except InvalidEventError as error:
        return _rejected(_status_of(error), error.reason, error.message, error.field)
    return _store([item], STANDARD_SOURCE)


def _sources() -> dict[str, Source]:
    global _SOURCES_CACHE
    if _SOURCES_CACHE is None:
        _SOURCES_CACHE = load_sources(os.environ.get("SOURCES"))
    return _SOURCES_CACHE


_SOURCES_CACHE: dict[str, Source] | None = None


def _source_keys(source: Source) -> list[Any]:
    """The source's usable secrets. Raises `SigningSecretUnavailableError` when none is usable."""
    hint = '{"secrets": ["<secret in the provider\'s own format>"]} (see docs/providers/)'
    try:
        value = _secrets.get(source.secret_arn, max_age=SECRET_CACHE_SECONDS, transform="json")
        entries = value["secrets"]
        if not isinstance(entries, list):
            raise TypeError("secrets is not a list")
    except Exception as error:  # any failure here must end in 5xx, whatever raised it
        raise SigningSecretUnavailableError(
            f"cannot use the secret of source {source.name}: set it to {hint}"
        ) from error

    def skipped(index: int, problem: str) -> None:
        metrics.add_metric(name="SecretEntrySkipped", unit=MetricUnit.Count, value=1)
        logger.error(
            "signing secret entry skipped", extra={"source": source.name, "entry_index": index, "problem": problem}
        )

    keys = source_keys(source, entries, skipped)
    if not keys:
        raise SigningSecretUnavailableError(
            f"the secret of source {source.name} holds no usable entry: set it to {hint}"
        )
    return keys


def _process_source(event: dict[str, Any], name: str, headers: dict[str, str], body: bytes,
                    now: datetime.datetime) -> dict[str, Any]:  # fmt: skip
    """`POST /webhook/<name>`: verified the way the source's provider signs, mapped to canonical events."""
    source = _sources().get(name)
    if source is None:
        return _rejected(404, "unknown_source", f"no source named {name[:32]!r} is configured")
    logger.append_keys(source=name)
    _per_source_metrics(name)
    try:
        keys = _source_keys(source)
    except SigningSecretUnavailableError as error:
        logger.exception(str(error))
        metrics.add_metric(name="SecretUnavailable", unit=MetricUnit.Count, value=1)
        return json_response(500, {"error": "unavailable", "message": "signing secret unavailable; retry later"})
    try:
        text = decode_utf8(body)
    except JsonDecodeError as error:
        return _rejected(400, error.reason, error.message)
    request = WebhookRequest(headers=headers, body=body, text=text, url=request_url(event, source))
    try:
        provider_events = source.module.receive(request, keys, source.options, int(now.timestamp()))
    except SignatureError as error:
        metrics.add_metric(name="SignatureRejected", unit=MetricUnit.Count, value=1)
        return _rejected(401, error.reason, error.message)
    except InvalidEventError as error:
        return _rejected(_status_of(error), error.reason, error.message, error.field)
    if not provider_events:
        return _rejected(400, "no_events", "the delivery carries no event")
    try:
        # Every event of a batch is admitted before anything is written: all or nothing at the door.
        items = admit_events(source, provider_events, now)
    except InvalidEventError as error:
        return _rejected(_status_of(error), error.reason, error.message, error.field)
    return _store(items, name, ADYEN_ACCEPTED if source.provider_id == "adyen" else None)


def process(event: dict[str, Any], now: datetime.datetime) -> dict[str, Any]:
    """The whole request path, with the clock passed in so tests can move it."""
    headers = lower_case_headers(event.get("headers"))
    try:
        name = source_name(event)
    except UnknownSourceError as error:
        return _rejected(404, "unknown_source", str(error))
    try:
        body = _raw_body(event)
    except ValueError as error:
        return _rejected(400, "malformed_body", str(error))
    if len(body) > MAX_BODY_BYTES:
        return _rejected(413, "payload_too_large", f"body is larger than {MAX_BODY_BYTES} bytes")
    if name is None:
        return _process_standard(event, headers, body, now)
    return _process_source(event, name, headers, body, now)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    try:
        return process(event, datetime.datetime.fromtimestamp(time.time(), tz=datetime.UTC))
    except Exception:  # a bug must still not look like success to the sender
        logger.exception("unexpected failure; event not stored")
        return json_response(500, {"error": "internal_error", "message": "event not stored; retry later"})
