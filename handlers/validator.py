"""`webhook-validator`: verify the signature, admit only what can be delivered, store each event once.

The response is 2xx only after the conditional write has succeeded, and only for an event whose
routed message SQS will accept (README, "The admission contract"); an AWS failure is 5xx so the
sender retries, and nothing else is. Codes: 202 stored, 200 duplicate, 400 bad body, 401 bad
signature, 404 unknown source, 409 conflict, 413 too large, 500/503 AWS failures; for a source with
`"enrich": true` (GoCardless) also 503 when a money fact's amount could not be fetched and 422
`amount_not_found` when the provider's API does not know its object (handlers/enrichment.py).
"""

from __future__ import annotations

import base64
import binascii
import datetime
import os
import time
from collections.abc import Callable, Sequence
from typing import Any

import boto3
import emf_template
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import BotoCoreError, ClientError
from secret_cache import ParsedSecret, ParsedSecretCache, SecretUnusableError

import quarantine
from canonical_event import CanonicalEvent, NotStorableError
from errors import MALFORMED_BODY, NO_EVENTS, PAYLOAD_TOO_LARGE, RESERVED_EVENT_ID, UNKNOWN_SOURCE
from http_response import json_response
from providers import FetchUnavailableError, ProviderEvent, UnknownObjectError, WebhookRequest
from providers.common import strong_enough
from routed_message import UndeliverableMessageError
from sdk_config import ANSWER_MARGIN_SECONDS, SDK_CONFIG, time_left_for_another_call, worst_case_call_seconds
from sources import Source, UnknownSourceError, canonical, load_sources, request_url, source_name
from sources import keys as source_keys
from strict_json import JsonDecodeError, decode_utf8
from webhook_event import MAX_BODY_BYTES, STANDARD_SOURCE, InvalidEventError, parse_event
from webhook_signature import (
    SignatureError,
    decode_secret,
    request_headers,
    reset_signature_matched,
    signature_matched,
    verify,
)

THROTTLING_CODES = {
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
    "ThrottlingException",
    "TransactionConflictException",
}
# A rotated secret takes effect within this many seconds, without a deploy; a secret that did not
# parse is never cached, so its fix takes effect at the next request (handlers/secret_cache.py).
SECRET_CACHE_SECONDS = 300

logger = Logger()
metrics = Metrics()
emf_template.install(metrics.provider)  # the same EMF line, from a template per metric-set shape
_dynamodb = boto3.client("dynamodb", config=SDK_CONFIG)
_secrets = ParsedSecretCache(boto3.client("secretsmanager", config=SDK_CONFIG), max_age_seconds=SECRET_CACHE_SECONDS)
# time.monotonic() at which this invocation is killed (set by the handler from the Lambda context).
_deadline = float("inf")


class SigningSecretUnavailableError(Exception):
    """No usable signing secret: answer 5xx, never accept."""


def _signing_keys() -> list[bytes]:
    """Every usable entry of the secret's `signing_secrets`; a malformed entry is logged (by index,
    never its value) and skipped. Raises `SigningSecretUnavailableError` when none is usable."""
    arn = os.environ["SIGNING_SECRET_ARN"]
    hint = '{"signing_secrets": ["whsec_<base64>"]} (see README, "Deploying to AWS", step 3)'

    def parse(value: dict[str, Any]) -> ParsedSecret:
        entries = value["signing_secrets"]
        if not isinstance(entries, list):
            raise TypeError("signing_secrets is not a list")
        keys = []
        for index, entry in enumerate(entries):
            try:
                key = decode_secret(entry)
                strong_enough(key, rule="a signing secret is whsec_ and the base64 of 24-64 random bytes")
                keys.append(key)
            except (ValueError, TypeError, AttributeError) as error:
                metrics.add_metric(name="SecretEntrySkipped", unit=MetricUnit.Count, value=1)
                logger.error("signing secret entry skipped", extra={"entry_index": index, "problem": str(error)})
        return ParsedSecret(keys, complete=len(keys) == len(entries))

    try:
        return _secrets.get(arn, parse)
    except SecretUnusableError as error:
        raise SigningSecretUnavailableError(
            f"cannot use secret {arn} ({error}): set its SecretString to {hint}"
        ) from error


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


def _kept_or_unavailable(
    response: dict[str, Any],
    *,
    event: dict[str, Any],
    source: str,
    body: bytes,
    reason: str,
    message: str,
    field: str | None = None,
    event_ids: list[str] | None = None,
    verified_at: int,
    now: datetime.datetime,
) -> dict[str, Any]:
    """Keep a verified delivery the door refused (handlers/quarantine.py), then give the refusal.

    Only when a signature matched during this request: unsigned refusals are never kept. If the
    quarantine write fails, the answer is 503 instead of the final 4xx, so the provider retries and the
    delivery is not lost in silence.
    """
    if not signature_matched():
        return response
    try:
        key = quarantine.keep(
            _dynamodb, event=event, source=source, body=body, status=response["statusCode"], reason=reason,
            message=message, field=field, event_ids=event_ids or [], verified_at=verified_at, now=now,
        )  # fmt: skip
    except (ClientError, BotoCoreError) as error:
        code = error.response.get("Error", {}).get("Code", "") if isinstance(error, ClientError) else ""
        logger.error("refused delivery not kept; answering 503 so the sender retries", extra={"aws_error": code})
        metrics.add_metric(name="QuarantineFailed", unit=MetricUnit.Count, value=1)
        return json_response(503, {"error": "unavailable", "message": "delivery not kept; retry later"},
                             {"Retry-After": "5"})  # fmt: skip
    if key is not None:
        metrics.add_metric(name="Quarantined", unit=MetricUnit.Count, value=1)
        logger.warning("verified delivery refused and kept in quarantine",
                       extra={"quarantine_id": key, "reason": reason, "status": response["statusCode"]})  # fmt: skip
    return response


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
    `CONFLICT`, `THROTTLED`, `FAILED`), each counted as a metric. Never raises for an AWS failure. Stops at
    the first failed write, or when one more worst-case call (sdk_config) could outlast the function: the
    rest are `THROTTLED` (the delivery is answered 503 and the provider resends all of it)."""
    outcomes: list[str] = []
    for item in items:
        if (outcomes and outcomes[-1] in (FAILED, THROTTLED)) or not time_left_for_another_call(
            _deadline - time.monotonic()
        ):
            outcomes.append(THROTTLED)
            continue
        outcomes.append(_put(item))
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
    return error.status  # errors.REASONS: 413 for the size limits, else 400


def _check_standard_namespace(event_id: str) -> None:
    """One namespace per source: an id `<name>:...` belongs to source `<name>` alone.

    `POST /webhook` stores its ids as sent, so one whose part before the first `:` is a configured
    source's name is refused (400 `reserved_event_id`, field `event_id`): whoever holds the standard
    secret must not take `shop:evt_1` before source `shop`'s genuine `evt_1` arrives (which would then be
    a 409 on every retry). Source names never hold `:` (`[a-z0-9-]{1,32}`) and `standard` is not one
    (the synth refuses both), so a source's ids can only ever be its own. README, "Event identity".
    """
    prefix, colon, _ = event_id.partition(":")
    if colon and prefix in _sources():
        raise InvalidEventError(
            RESERVED_EVENT_ID,
            f"event_id prefix {prefix!r} is the namespace of source {prefix!r}; POST /webhook cannot store there",
            "event_id",
        )


def _process_standard(
    event: dict[str, Any], headers: dict[str, str], body: bytes, now: datetime.datetime, clock: int
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
            now=clock,
            tolerance_seconds=int(os.environ.get("SIGNATURE_TOLERANCE_SECONDS", "300")),
        )
    except SignatureError as error:
        metrics.add_metric(name="SignatureRejected", unit=MetricUnit.Count, value=1)
        return _rejected(401, error.reason, error.message)
    logger.append_keys(webhook_id=webhook_id)
    try:
        webhook_event = parse_event(body)
        _check_standard_namespace(webhook_event.event_id)
        logger.append_keys(event_id=webhook_event.event_id, transaction_type=webhook_event.transaction_type)
        item = _admit(webhook_event, now, {"webhook_id": webhook_id}, message_proven=True)
    except InvalidEventError as error:
        return _kept_or_unavailable(
            _rejected(_status_of(error), error.reason, error.message, error.field), event=event,
            source=STANDARD_SOURCE, body=body, reason=error.reason, message=error.message, field=error.field,
            verified_at=clock, now=now,
        )  # fmt: skip
    return _store_or_keep([item], STANDARD_SOURCE, event=event, body=body, clock=clock, now=now)


def _store_or_keep(
    items: list[dict[str, Any]], source: str, *, event: dict[str, Any], body: bytes, clock: int,
    now: datetime.datetime, success_body: str | None = None,
) -> dict[str, Any]:  # fmt: skip
    """`_store`, and a 409 (signed, so verified) is kept in the quarantine."""
    response = _store(items, source, success_body)
    if response["statusCode"] != 409:
        return response
    ids = [item["event_id"]["S"] for item in items]
    return _kept_or_unavailable(
        response, event=event, source=source, body=body, reason="conflict",
        message="event_id already stored with another payload", event_ids=ids, verified_at=clock, now=now,
    )  # fmt: skip


def _sources() -> dict[str, Source]:
    global _SOURCES_CACHE
    if _SOURCES_CACHE is None:
        _SOURCES_CACHE = load_sources(os.environ.get("SOURCES"))
    return _SOURCES_CACHE


_SOURCES_CACHE: dict[str, Source] | None = None


def _source_keys(source: Source) -> list[Any]:
    """The source's usable secrets. Raises `SigningSecretUnavailableError` when none is usable."""
    hint = (
        f'{{"secrets": ["<secret in the provider\'s own format>"]}}, e.g. `python -m pipeline_tools secret set '
        f"--source {source.name}` (see docs/providers/{source.provider_id}.md)"
    )

    def skipped(index: int, problem: str) -> None:
        metrics.add_metric(name="SecretEntrySkipped", unit=MetricUnit.Count, value=1)
        logger.error(
            "signing secret entry skipped", extra={"source": source.name, "entry_index": index, "problem": problem}
        )

    def parse(value: dict[str, Any]) -> ParsedSecret:
        entries = value["secrets"]
        if not isinstance(entries, list):
            raise TypeError("secrets is not a list")
        keys = source_keys(source, entries, skipped)
        return ParsedSecret(keys, complete=len(keys) == len(entries))

    try:
        return _secrets.get(source.secret_arn, parse)
    except SecretUnusableError as error:
        raise SigningSecretUnavailableError(
            f"cannot use the secret of source {source.name} ({error}): set it to {hint}"
        ) from error


# `SOURCES.<name>.enrich`: the source fetches its money facts' amounts (handlers/enrichment.py, imported only
# then: a pipeline without such a source loads no HTTP client at a cold start).
ENRICH_OPTION = "enrich"


def _api_key(source: Source) -> str:
    """The `api_key` of the source's API secret (`SOURCES.<name>.enrich.api_secret`), cached like the
    signing secrets. Raises `SigningSecretUnavailableError` (answered 503), never naming the value."""

    def parse(value: dict[str, Any]) -> ParsedSecret:
        key = value["api_key"]
        if not isinstance(key, str) or not key.strip():
            raise TypeError("api_key is empty")
        return ParsedSecret([key], complete=True)

    settings = source.options[ENRICH_OPTION]
    try:
        return _secrets.get(settings["api_secret"], parse)[0]
    except SecretUnusableError as error:
        raise SigningSecretUnavailableError(
            f'cannot use the API secret of source {source.name} ({error}): set it to {{"api_key": "<read-only key>"}}'
        ) from error


def enrich_at_the_door(source: Source, provider_events: list[ProviderEvent]) -> list[ProviderEvent]:
    """The money facts' amounts fetched from the provider's API (handlers/enrichment.py), every wait ending
    early enough that one worst-case conditional write and the answer still fit in the function's time
    (tests/handlers/test_retry_budget.py). Raises `ProviderApiError`, `SigningSecretUnavailableError`
    (answer 503) or `InvalidEventError` (`amount_not_found`: refused and kept)."""
    import enrichment

    if not any(enrichment.needs_amount(source, event) for event in provider_events):
        return provider_events  # no money fact in this delivery: no secret read, no call
    settings = source.options[ENRICH_OPTION]
    deadline = _deadline - worst_case_call_seconds() - ANSWER_MARGIN_SECONDS
    client = enrichment.door_client(
        source.provider_id, settings["api_base_url"], _api_key(source), None if deadline == float("inf") else deadline
    )
    fetched = enrichment.enrich(source, provider_events, client)
    metrics.add_metric(name="AmountsFetched", unit=MetricUnit.Count, value=client.budget.used)
    return fetched


def _enriched_or_answer(
    source: Source, provider_events: list[ProviderEvent], refused: Callable[[InvalidEventError], dict[str, Any]]
) -> list[ProviderEvent] | dict[str, Any]:
    """`enrich_at_the_door`, or the answer when it failed: never a 2xx without the amount. A fetch that may
    succeed later is 503 (GoCardless retries, up to 8 times, and the reconciler, which enrichment requires,
    lists the event later if every retry fails); an object the API does not know is refused and kept."""
    from provider_api import ProviderApiError

    try:
        return enrich_at_the_door(source, provider_events)
    except InvalidEventError as error:
        return refused(error)
    except (ProviderApiError, SigningSecretUnavailableError) as error:
        metrics.add_metric(name="AmountFetchFailed", unit=MetricUnit.Count, value=1)
        logger.error("amounts not fetched; answering 503 so the provider retries", extra={"problem": str(error)})
        return json_response(503, {"error": "unavailable", "message": "amounts not fetched; retry later"},
                             {"Retry-After": "5"})  # fmt: skip


def _process_source(event: dict[str, Any], name: str, headers: dict[str, str], body: bytes,
                    now: datetime.datetime, clock: int) -> dict[str, Any]:  # fmt: skip
    """`POST /webhook/<name>`: verified the way the source's provider signs, mapped to canonical events."""
    source = _sources().get(name)
    if source is None:
        return _rejected(404, UNKNOWN_SOURCE, f"no source named {name[:32]!r} is configured")
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

    def refused(error: InvalidEventError) -> dict[str, Any]:
        # Kept only if a signature matched before the refusal (a body refused before it could be
        # verified, e.g. Adyen's unparsable JSON, is not: see `_kept_or_unavailable`).
        return _kept_or_unavailable(
            _rejected(_status_of(error), error.reason, error.message, error.field), event=event, source=name,
            body=body, reason=error.reason, message=error.message, field=error.field, verified_at=clock, now=now,
        )  # fmt: skip

    try:
        provider_events = source.module.receive(request, keys, source.options, clock)
    except SignatureError as error:
        metrics.add_metric(name="SignatureRejected", unit=MetricUnit.Count, value=1)
        return _rejected(401, error.reason, error.message)
    except InvalidEventError as error:
        return refused(error)
    except FetchUnavailableError as error:
        # A provider that authenticates by fetching (mollie-classic) got no usable answer: 503 so the
        # provider retries; nothing is stored, nothing guessed. A refused key is its own metric (alarmed).
        metrics.add_metric(name="FetchFailed", unit=MetricUnit.Count, value=1)
        if error.credential_refused:
            metrics.add_metric(name="FetchCredentialRefused", unit=MetricUnit.Count, value=1)
        logger.error("provider fetch failed; answering 503 so the provider retries", extra={"problem": str(error)})
        return json_response(503, {"error": "unavailable", "message": "could not confirm the event; retry later"},
                             {"Retry-After": str(error.retry_after)})  # fmt: skip
    except UnknownObjectError:
        # The provider's API does not know the id (another account's, or made up): 200 so the sender stops,
        # and it learns nothing about which ids exist; nothing is stored (docs/providers/mollie-classic.md).
        metrics.add_metric(name="FetchUnknownObject", unit=MetricUnit.Count, value=1)
        logger.warning("posted id unknown to the provider's API; acknowledged, nothing stored")
        return json_response(200, {"status": "ignored"})
    if not provider_events:
        return refused(InvalidEventError(NO_EVENTS, "the delivery carries no event"))
    if source.options.get(ENRICH_OPTION):
        enriched = _enriched_or_answer(source, provider_events, refused)
        if isinstance(enriched, dict):
            return enriched
        provider_events = enriched
    try:
        # Every event of a batch is admitted before anything is written: all or nothing at the door.
        items = admit_events(source, provider_events, now)
    except InvalidEventError as error:
        return refused(error)
    # The body the provider needs to count the delivery as accepted (its SPEC: Adyen's "[accepted]").
    success = source.module.SPEC.ack_body
    return _store_or_keep(items, name, event=event, body=body, clock=clock, now=now, success_body=success)


def process(event: dict[str, Any], now: datetime.datetime, signed_at: int | None = None) -> dict[str, Any]:
    """The whole request path, with the clock passed in so tests can move it.

    `signed_at` (epoch seconds) replaces `now` for signed-timestamp checks only: a quarantined delivery is
    readmitted with the instant its kept headers verified (handlers/quarantine.py).
    """
    reset_signature_matched()
    clock = int(now.timestamp()) if signed_at is None else signed_at
    headers = request_headers(event)
    try:
        name = source_name(event)
    except UnknownSourceError as error:
        return _rejected(404, UNKNOWN_SOURCE, str(error))
    try:
        body = _raw_body(event)
    except ValueError as error:
        return _rejected(400, MALFORMED_BODY, str(error))
    if len(body) > MAX_BODY_BYTES:
        return _rejected(413, PAYLOAD_TOO_LARGE, f"body is larger than {MAX_BODY_BYTES} bytes")
    if name is None:
        response = _process_standard(event, headers, body, now, clock)
    else:
        response = _process_source(event, name, headers, body, now, clock)
    if name is not None and signature_matched():
        # What a source's signature alarm compares refusals with (modules/alarms.py): only a key holder
        # makes it. Not on POST /webhook (no alarm reads it there; it would cost the hot path an EMF entry).
        metrics.add_metric(name="SignatureVerified", unit=MetricUnit.Count, value=1)
    return response


def readmit(key: str, now: datetime.datetime) -> dict[str, Any]:
    """Run today's door again on a kept delivery; delete it from the quarantine only once it is stored.

    Returns `{"quarantine_id", "found", "statusCode", "body", "released"}`: `released` is true only when
    the answer was 2xx (stored, or a duplicate of an event already stored) and the item was deleted.
    """
    item = quarantine.load(_dynamodb, key)
    if item is None:
        return {"quarantine_id": key, "found": False, "released": False}
    response = process(quarantine.proxy_event(item), now, signed_at=int(item["verified_at"]["N"]))
    stored = 200 <= response["statusCode"] < 300
    released = quarantine.release(_dynamodb, item) if stored else False
    metrics.add_metric(name="Readmitted" if released else "ReadmitRefused", unit=MetricUnit.Count, value=1)
    logger.info("quarantine readmission", extra={"quarantine_id": key, "status": response["statusCode"],
                                                 "released": released})  # fmt: skip
    return {"quarantine_id": key, "found": True, "statusCode": response["statusCode"], "body": response["body"],
            "released": released}  # fmt: skip


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    global _deadline
    remaining_ms = getattr(context, "get_remaining_time_in_millis", None)
    _deadline = time.monotonic() + remaining_ms() / 1000 if callable(remaining_ms) else float("inf")
    now = datetime.datetime.fromtimestamp(time.time(), tz=datetime.UTC)
    try:
        # An operator's direct invoke (`pipeline_tools quarantine readmit`); API Gateway's proxy events
        # always carry `httpMethod`, so no HTTP request can take this branch.
        if quarantine.READMIT_KEY in event and "httpMethod" not in event:
            return readmit(str(event[quarantine.READMIT_KEY]), now)
        return process(event, now)
    except Exception:  # a bug must still not look like success to the sender
        logger.exception("unexpected failure; event not stored")
        return json_response(500, {"error": "internal_error", "message": "event not stored; retry later"})
