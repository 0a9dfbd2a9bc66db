"""`send`, `replay` and `redrive`: operator actions against any deployment, given its outputs."""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import json
import shlex
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from modules.sources_config import PROVIDER_SPECS
from pipeline_tools.outputs import client
from pipeline_tools.provider_signing import SIGNERS, SignedDelivery, SigningContext, SigningError, sign

HANDLERS_DIR = Path(__file__).resolve().parent.parent / "handlers"


class OperationError(ValueError):
    """Bad arguments or an impossible request; the message says what to change."""


def _handlers_on_path() -> None:
    """The tools reuse the handlers' own modules, so signing and routing can never drift from them."""
    if str(HANDLERS_DIR) not in sys.path:
        sys.path.insert(0, str(HANDLERS_DIR))


def signature_header(secret: str, webhook_id: str, timestamp: int, body: bytes) -> str:
    _handlers_on_path()
    from webhook_signature import decode_secret, sign

    try:
        key = decode_secret(secret)
    except ValueError as error:
        raise OperationError(f"bad signing secret: {error}") from error
    return sign(key, webhook_id, timestamp, body)


# With an explicit --event-id the body's `timestamp` is derived from the id (an instant in 2024), so
# sending the same id again sends the same body: the README's `200 duplicate`, not a 409.
_DERIVED_EPOCH = datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC)


def derived_timestamp(event_id: str) -> str:
    """A fixed ISO-8601 UTC instant in 2024 for `event_id` (the same id always gives the same instant)."""
    seconds = int.from_bytes(hashlib.sha256(event_id.encode()).digest()[:4], "big") % (366 * 86400)
    return (_DERIVED_EPOCH + datetime.timedelta(seconds=seconds)).isoformat().replace("+00:00", "Z")


def build_event(
    transaction_type: str, amount: str, currency: str | None, event_id: str | None, timestamp: str | None = None
) -> bytes:
    """The JSON body `send` posts; the amount goes in as written (no float round trip).

    `object_id` is the event's own id (each sent fact is its own object): README, "The money contract",
    parks a money fact without `object_id` or `currency`, so what `send` and `load` post is routed.
    """
    if timestamp is None:
        timestamp = (
            derived_timestamp(event_id)
            if event_id
            else datetime.datetime.now(tz=datetime.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
        )
    event_id = event_id or f"evt_{uuid.uuid4().hex}"
    event: dict[str, Any] = {
        "event_id": event_id,
        "transaction_type": transaction_type,
        "amount": "__AMOUNT__",
        "timestamp": timestamp,
        "object_id": event_id,
    }
    if currency:
        event["currency"] = currency
    try:
        float(amount)
    except ValueError as error:
        raise OperationError(f"--amount {amount!r} is not a number") from error
    return json.dumps(event).replace('"__AMOUNT__"', amount).encode()


def signed_headers(body: bytes, secret: str, *, timestamp: int | None = None) -> dict[str, str]:
    """The Standard Webhooks headers for `body`, signed now (or at `timestamp`, epoch seconds)."""
    webhook_id = f"msg_{uuid.uuid4().hex}"
    timestamp = int(time.time()) if timestamp is None else timestamp
    return {
        "content-type": "application/json",
        "webhook-id": webhook_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature_header(secret, webhook_id, timestamp, body),
    }


def curl_command(url: str, body: bytes, headers: dict[str, str]) -> str:
    """A ready-to-run `curl` line (POSIX shell quoting); valid while the signed timestamp is within tolerance."""
    parts = ["curl", "-sS", "-X", "POST", url]
    for name, value in headers.items():
        parts += ["-H", f"{name}: {value}"]
    parts += ["--data-binary", body.decode()]
    return " ".join(shlex.quote(part) for part in parts)


def send(
    outputs: dict[str, Any], body: bytes, secret: str, *, timestamp: int | None = None, timeout: float = 30
) -> tuple[int, str]:
    """POST a signed body to the deployment's endpoint; return (status, response body)."""
    request = urllib.request.Request(  # noqa: S310 - the endpoint from the outputs file
        outputs["api_endpoint"], data=body, method="POST", headers=signed_headers(body, secret, timestamp=timestamp)
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def post(url: str, body: bytes, headers: dict[str, str], *, timeout: float = 30) -> tuple[int, str]:
    """POST `body` with `headers` to `url`; return (status, response body), whatever the status."""
    request = urllib.request.Request(url, data=body, method="POST", headers=headers)  # noqa: S310 - from the outputs
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


# --- provider sources (`send --source`) ------------------------------------------------------------
# Providers whose event id travels in a header we set (`--event-id`); the others carry it in the body.
# Declared by each provider's SPEC.event_id_header.
EVENT_ID_IN_HEADER: dict[str, str] = {
    provider: spec.event_id_header for provider, spec in PROVIDER_SPECS.items() if spec.event_id_header
}


@dataclasses.dataclass(frozen=True)
class SourceTarget:
    """Where and how to send to one source: its URL, its provider, the secret and the signing context."""

    name: str
    provider: str
    url: str
    secret: str
    public_key: str | None = None
    notification_url: str | None = None


def source_names(outputs: dict[str, Any]) -> list[str]:
    return sorted(set(outputs.get("source_secrets") or {}) | set(outputs.get("source_endpoints") or {}))


def source_target(
    outputs: dict[str, Any],
    name: str,
    *,
    secret: str | None = None,
    provider: str | None = None,
    public_key: str | None = None,
) -> SourceTarget:
    """Resolve source `name` from the outputs (the sandbox's `source_secrets`, a deployment's
    `source_endpoints`), with `--secret`/`--provider`/`--public-key` taking precedence. Raises
    `OperationError` naming what is missing."""
    known = source_names(outputs)
    if name not in known:
        listed = ", ".join(known) or "none (these outputs have no source_endpoints)"
        raise OperationError(f"no source named {name!r} in these outputs; sources: {listed}")
    entry = (outputs.get("source_secrets") or {}).get(name) or {}
    provider = provider or entry.get("provider")
    if not provider:
        raise OperationError(f"the outputs do not say which provider source {name!r} uses: pass --provider")
    if provider not in SIGNERS:
        raise OperationError(f"--provider {provider!r} is not a provider; use one of {', '.join(SIGNERS)}")
    secret = secret or entry.get("secret")
    if not secret:
        raise OperationError(f"no secret for source {name!r}: pass --secret (in the provider's own format)")
    public_key = public_key or entry.get("public_key")
    if "public_key" in PROVIDER_SPECS[provider].required_options and not public_key:
        raise OperationError(f"source {name!r} is {provider}: pass --public-key (the source's public_key option)")
    url = f"{outputs['api_endpoint'].rstrip('/')}/{name}"
    return SourceTarget(name, provider, url, secret, public_key, entry.get("notification_url"))


def square_notification_url(target: SourceTarget) -> str:
    """The URL a provider that signs its notification URL (`SPEC.signs_url`: Square) signs: the source's `notification_url` if configured, else the URL posted to as the
    validator reconstructs it (`https://<host><stage path>`; the sandbox serves plain http on loopback)."""
    if target.notification_url:
        return target.notification_url
    parts = urllib.parse.urlsplit(target.url)
    return urllib.parse.urlunsplit(("https", parts.netloc, parts.path, "", ""))


def sign_for_source(
    target: SourceTarget, body: bytes, *, event_id: str | None = None, timestamp: int | None = None
) -> SignedDelivery:
    """The signed delivery (body and headers) for `target`. Raises `OperationError`."""
    if event_id is not None and target.provider not in EVENT_ID_IN_HEADER:
        raise OperationError(
            f"--event-id sets the {' / '.join(EVENT_ID_IN_HEADER.values())} header; {target.provider} carries "
            "its event id in the body: edit the file instead"
        )
    context = SigningContext(
        url=square_notification_url(target) if PROVIDER_SPECS[target.provider].signs_url else target.url,
        timestamp=timestamp,
        public_key=target.public_key,
        event_id=event_id,
    )
    try:
        return sign(target.provider, body, target.secret, context)
    except SigningError as error:
        raise OperationError(f"cannot sign for source {target.name!r} ({target.provider}): {error}") from error


def send_to_source(
    target: SourceTarget, body: bytes, *, event_id: str | None = None, timestamp: int | None = None, timeout: float = 30
) -> tuple[int, str]:
    """Sign `body` as the source's provider does and POST it to the source's route."""
    delivery = sign_for_source(target, body, event_id=event_id, timestamp=timestamp)
    return post(target.url, delivery.body, delivery.headers, timeout=timeout)


def _queue_urls(outputs: dict[str, Any]) -> dict[str, str]:
    return {
        "PAYMENTS_QUEUE_URL": outputs["payments_queue_url"],
        "REFUNDS_QUEUE_URL": outputs["refunds_queue_url"],
        "DISPUTES_QUEUE_URL": outputs["disputes_queue_url"],
        "UNROUTED_QUEUE_URL": outputs["unrouted_queue_url"],
        # Known non-money facts (README, "The money contract"); older deployments have no such queue.
        "LIFECYCLE_QUEUE_URL": outputs.get("lifecycle_queue_url") or outputs["unrouted_queue_url"],
    }


def queue_name(url: str) -> str:
    return url.rstrip("/").rsplit("/", 1)[-1]


def _iso(moment: datetime.datetime) -> str:
    """UTC, as `received_at` is stored: a bound with an offset selects the same events as its `Z` twin
    (stored times compare as text, so `01:00+01:00` must become `00:00Z` before comparing)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.UTC)  # documented: a bound without an offset is UTC
    return moment.astimezone(datetime.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclasses.dataclass
class ReplaySelection:
    """What a replay window holds: the messages to send, and the events that cannot be routed as they
    are (`(event_id, reason)`; they stay in the table) or that their source stores without routing."""

    messages: list[Any] = dataclasses.field(default_factory=list)
    skipped: list[tuple[str, str]] = dataclasses.field(default_factory=list)
    not_routed: int = 0


def check_window(since: datetime.datetime, until: datetime.datetime, until_given: bool) -> None:
    """Refuse an empty window, saying what `--until` was when it defaulted to now."""
    if since < until:
        return
    if not until_given:
        raise OperationError(
            f"--since {_iso(since)} is in the future: --until defaults to now ({_iso(until)}), so nothing was "
            "received in that window; give an earlier --since"
        )
    raise OperationError(f"--since {_iso(since)} must be before --until {_iso(until)}")


def replay_messages(
    outputs: dict[str, Any],
    since: datetime.datetime,
    until: datetime.datetime,
    transaction_type: str | None,
    progress: Callable[[str], None] = lambda _: None,
) -> ReplaySelection:
    """The messages the router's own routing code makes of events received in [since, until).

    An item the router could not send either is skipped and named, not fatal: the rest of the window
    is still replayed.
    """
    _handlers_on_path()
    from routing import UnroutableRecordError, message_for  # the router's own logic: a replay routes identically

    dynamodb = client(outputs, "dynamodb")
    window = {":since": {"S": _iso(since)}, ":until": {"S": _iso(until)}}
    expression = "received_at >= :since AND received_at < :until"
    if transaction_type:
        window[":type"] = {"S": transaction_type}
        expression += " AND transaction_type = :type"
    selection, scanned = ReplaySelection(), 0
    for page in dynamodb.get_paginator("scan").paginate(
        TableName=outputs["dynamodb_table_name"], FilterExpression=expression, ExpressionAttributeValues=window
    ):
        scanned += page.get("ScannedCount", 0)
        for item in page["Items"]:
            event_id = item.get("event_id", {}).get("S", "?")
            record = {"dynamodb": {"NewImage": item, "SequenceNumber": event_id}}
            try:
                message = message_for(record, _queue_urls(outputs))
            except UnroutableRecordError as error:
                selection.skipped.append((event_id, error.reason))
                continue
            if message is None:
                selection.not_routed += 1  # its source stores without routing (route_unmapped: false)
            else:
                selection.messages.append(message)
        progress(f"scanned {scanned} items, {len(selection.messages)} in the window")
    return selection


def counts_by_queue(messages: list[Any]) -> dict[str, int]:
    """{queue name: messages} for a dry run or a summary."""
    counts: dict[str, int] = {}
    for message in messages:
        counts[queue_name(message.queue_url)] = counts.get(queue_name(message.queue_url), 0) + 1
    return dict(sorted(counts.items()))


def send_messages(
    outputs: dict[str, Any], messages: list[Any], progress: Callable[[str], None] = lambda _: None
) -> int:
    """SendMessageBatch grouped as the router groups them; raise if SQS refuses any entry."""
    _handlers_on_path()
    from routing import batches

    sqs, sent = client(outputs, "sqs"), 0
    for batch in batches(messages):
        response = sqs.send_message_batch(
            QueueUrl=batch[0].queue_url, Entries=[m.entry(str(i)) for i, m in enumerate(batch)]
        )
        if response.get("Failed"):
            raise OperationError(
                f"{len(response['Failed'])} messages were not accepted by {batch[0].queue_url}; run replay again"
            )
        sent += len(batch)
        if sent % 500 < len(batch) or sent == len(messages):
            progress(f"sent {sent}/{len(messages)}")
    return sent


def replay(
    outputs: dict[str, Any], since: datetime.datetime, until: datetime.datetime, transaction_type: str | None
) -> int:
    """Send stored events received in [since, until) back through routing; consumers deduplicate by event_id."""
    check_window(since, until, until_given=True)
    return send_messages(outputs, replay_messages(outputs, since, until, transaction_type).messages)
