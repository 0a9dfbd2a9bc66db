"""`python -m pipeline_tools load`: bursts of signed deliveries from several sources through a deployment.

Each delivery is signed as its source's provider signs (`POST /webhook` with Standard Webhooks, and
the sources `standard-webhooks`, `razorpay` and `stripe` that the outputs name: each gets a fresh event
id per delivery). Deliveries go out in bursts of `--burst` at once, at `--rate` per second on average,
from `--concurrency` connections. A refused delivery is sent again as a provider would: after its
`Retry-After` (or 1 s), re-signed with a fresh timestamp, up to `--attempts` times.

Once every delivery has its answer, each accepted one is sent once more, as providers deliver
duplicates: it must answer 200 (a duplicate of a stored event), never 202 again.

The report (README, "Load run"): first-attempt answers, refusals by status, refusals without
`Retry-After`, the re-sent deliveries and how many answered 200, **lost** (never accepted, or accepted
but not in the events table) and **duplicated** (answered 202 twice: stored twice). With
`--throttle SHARE` (the sandbox only), that share of the events table's PutItems is answered with
`ProvisionedThroughputExceededException` while the run lasts (pipeline_tools/sandbox/fault_injection.py).
"""

from __future__ import annotations

import collections
import concurrent.futures
import contextlib
import dataclasses
import json
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from modules.sources_config import PROVIDER_SPECS
from pipeline_tools import operations
from pipeline_tools.outputs import client

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "tests" / "fixtures" / "providers"
# The providers a load run can give a fresh event id to, and the sample each sends (SPEC.load_sample).
SOURCE_SAMPLES: dict[str, str] = {
    provider: spec.load_sample for provider, spec in PROVIDER_SPECS.items() if spec.load_sample is not None
}
# What a provider does on a refusal without Retry-After (none of ours: every 5xx carries it).
DEFAULT_RETRY_SECONDS = 1.0
STANDARD = "standard"
# The "status" of an attempt whose connection failed (reset, refused, timed out): reported as such.
CONNECTION_FAILED = 0


class LoadError(ValueError):
    """The run cannot start (no such source, no fault file to throttle with): the message says why."""


@dataclasses.dataclass
class Delivery:
    """One event to deliver, and what each attempt was answered."""

    event_id: str  # as the run names it (the answer's `event_id` replaces it: the id actually stored)
    source: str
    sign: Callable[[], tuple[str, bytes, dict[str, str]]]  # -> (url, body, headers), signed now
    statuses: list[int] = dataclasses.field(default_factory=list)
    retry_after_missing: int = 0
    resent: bool = False  # sent again once accepted, as a provider's duplicate delivery


@dataclasses.dataclass
class Report:
    deliveries: int
    sources: list[str]
    seconds: float
    throttle_share: float
    accepted: int
    first_attempt: dict[str, int]
    refused_by_status: dict[str, int]
    refusals_without_retry_after: int
    retries: int
    resent: int
    resent_answered_200: int
    lost: int
    duplicated: int

    @property
    def ok(self) -> bool:
        return (
            self.lost == 0
            and self.duplicated == 0
            and self.refusals_without_retry_after == 0
            and self.resent == self.resent_answered_200
        )

    def text(self) -> str:
        refused = ", ".join(f"{count} x {status}" for status, count in sorted(self.refused_by_status.items())) or "none"
        first = ", ".join(f"{count} x {status}" for status, count in sorted(self.first_attempt.items()))
        throttle = f", {self.throttle_share:.0%} of PutItems throttled" if self.throttle_share else ""
        return "\n".join(
            [
                f"load: {self.deliveries} deliveries from {', '.join(self.sources)} in {self.seconds:.1f} s"
                f" ({self.deliveries / max(self.seconds, 1e-9):.1f}/s{throttle})",
                f"  first attempts:  {first}",
                f"  refused:         {refused} ({self.refusals_without_retry_after} without Retry-After); "
                f"{self.retries} retries",
                f"  sent again:      {self.resent} accepted deliveries, {self.resent_answered_200} answered 200 (duplicate)",
                f"  accepted:        {self.accepted}",
                f"  lost:            {self.lost}",
                f"  duplicated:      {self.duplicated}",
            ]
        )


def _post(url: str, body: bytes, headers: dict[str, str], timeout: float = 30) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, data=body, method="POST", headers=headers)  # noqa: S310 - from the outputs
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return response.status, {k.lower(): v for k, v in response.headers.items()}, response.read()
    except urllib.error.HTTPError as error:
        return error.code, {k.lower(): v for k, v in error.headers.items()}, error.read()
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return CONNECTION_FAILED, {}, b""  # as a provider sees a dropped connection: retried


def _standard(outputs: dict[str, Any], run: str, index: int) -> Delivery:
    secret = outputs.get("signing_secret")
    if not secret:
        raise LoadError("the outputs carry no signing_secret for POST /webhook (set WEBHOOK_SIGNING_SECRET)")
    event_id = f"load-{run}-{index}"
    body = operations.build_event(("payment", "refund", "dispute")[index % 3], "19.99", "USD", event_id)

    def sign() -> tuple[str, bytes, dict[str, str]]:
        return outputs["api_endpoint"], body, operations.signed_headers(body, secret)

    return Delivery(event_id, STANDARD, sign)


def _source(target: operations.SourceTarget, run: str, index: int) -> Delivery:
    provider_id = f"load-{run}-{index}"
    body = (SAMPLES / SOURCE_SAMPLES[target.provider]).read_bytes()
    header_id = provider_id if target.provider in operations.EVENT_ID_IN_HEADER else None
    document = json.loads(body)
    id_field = PROVIDER_SPECS[target.provider].load_id_field  # where the body carries what makes the id
    if id_field is not None:
        *parents, last = id_field.split(".")
        node = document
        for part in parents:
            node = node[part]
        node[last] = provider_id
    body = json.dumps(document).encode()

    def sign() -> tuple[str, bytes, dict[str, str]]:
        delivery = operations.sign_for_source(target, body, event_id=header_id)
        return target.url, delivery.body, delivery.headers

    return Delivery(f"{target.name}:{provider_id}", target.name, sign)


def plan(outputs: dict[str, Any], count: int, sources: list[str] | None) -> list[Delivery]:
    """`count` deliveries, round robin over the chosen sources (default: `standard` and every source of
    the outputs whose provider a load run can send). Raises `LoadError`."""
    available = {STANDARD: None}
    for name in operations.source_names(outputs):
        entry = (outputs.get("source_secrets") or {}).get(name) or {}
        if entry.get("provider") in SOURCE_SAMPLES:
            available[name] = operations.source_target(outputs, name)
    chosen = sources or list(available)
    unknown = [name for name in chosen if name not in available]
    if unknown:
        raise LoadError(
            f"cannot load {', '.join(unknown)}: a load run sends to {', '.join(available)} "
            f"(sources of provider {', '.join(SOURCE_SAMPLES)})"
        )
    run = uuid.uuid4().hex[:8]
    deliveries = []
    for index in range(count):
        name = chosen[index % len(chosen)]
        target = available[name]
        deliveries.append(_standard(outputs, run, index) if target is None else _source(target, run, index))
    return deliveries


def _attempt(delivery: Delivery, lock: threading.Lock) -> float | None:
    """Send once; None when done (2xx or a final 4xx), else the seconds to wait before the retry."""
    url, body, headers = delivery.sign()
    status, response_headers, answer = _post(url, body, headers)
    with lock:
        delivery.statuses.append(status)
        if status in (200, 202):
            with contextlib.suppress(ValueError, KeyError, TypeError):  # without it, the planned id stays
                delivery.event_id = str(json.loads(answer)["event_id"])
    if CONNECTION_FAILED < status < 300 or (400 <= status < 500 and status != 429):
        return None
    retry_after = response_headers.get("retry-after")
    if retry_after is None:
        delivery.retry_after_missing += 1
        return DEFAULT_RETRY_SECONDS
    try:
        return max(0.0, float(retry_after))
    except ValueError:
        delivery.retry_after_missing += 1
        return DEFAULT_RETRY_SECONDS


def _send_all(deliveries: list[Delivery], *, rate: float, burst: int, concurrency: int, attempts: int) -> None:
    """Send each delivery (bursts of `burst`, `rate`/s on average) until a final answer or `attempts`."""
    lock = threading.Lock()
    started = time.monotonic()
    first = {id(delivery): len(delivery.statuses) for delivery in deliveries}
    retries: list[tuple[float, Delivery]] = []  # (not before, delivery)
    with concurrent.futures.ThreadPoolExecutor(max_workers=concurrency) as pool:
        pending: dict[concurrent.futures.Future[float | None], Delivery] = {}

        def submit(delivery: Delivery) -> None:
            pending[pool.submit(_attempt, delivery, lock)] = delivery

        for start in range(0, len(deliveries), burst):
            time.sleep(max(0.0, started + start / rate - time.monotonic()))
            for delivery in deliveries[start : start + burst]:
                submit(delivery)
        while pending or retries:
            done, _ = concurrent.futures.wait(pending, timeout=0.05, return_when=concurrent.futures.FIRST_COMPLETED)
            for future in done:
                delivery = pending.pop(future)
                wait = future.result()
                if wait is not None and len(delivery.statuses) - first[id(delivery)] < attempts:
                    retries.append((time.monotonic() + wait, delivery))
            now = time.monotonic()
            due = [entry for entry in retries if entry[0] <= now]
            retries = [entry for entry in retries if entry[0] > now]
            for _, delivery in due:
                submit(delivery)


def drive(deliveries: list[Delivery], *, rate: float, burst: int, concurrency: int, attempts: int) -> float:
    """Send every delivery and its retries, then every accepted one once more, as providers deliver
    duplicates (each must answer 200: a second 202 is an event stored twice); the seconds it took."""
    started = time.monotonic()
    _send_all(deliveries, rate=rate, burst=burst, concurrency=concurrency, attempts=attempts)
    accepted = [d for d in deliveries if d.statuses and CONNECTION_FAILED < d.statuses[-1] < 300]
    for delivery in accepted:
        delivery.resent = True
    _send_all(accepted, rate=rate, burst=burst, concurrency=concurrency, attempts=attempts)
    return time.monotonic() - started


def stored_ids(outputs: dict[str, Any], event_ids: list[str]) -> set[str]:
    """The ids of `event_ids` present in the events table (BatchGetItem, 100 keys a call)."""
    dynamodb = client(outputs, "dynamodb")
    table = outputs["dynamodb_table_name"]
    found: set[str] = set()
    for start in range(0, len(event_ids), 100):
        keys: list[dict[str, Any]] = [{"event_id": {"S": event_id}} for event_id in event_ids[start : start + 100]]
        request = {table: {"Keys": keys, "ProjectionExpression": "event_id"}}
        while request:
            answer = dynamodb.batch_get_item(RequestItems=request)
            found.update(item["event_id"]["S"] for item in answer["Responses"].get(table, []))
            request = answer.get("UnprocessedKeys") or {}
    return found


def report(outputs: dict[str, Any], deliveries: list[Delivery], seconds: float, throttle_share: float) -> Report:
    accepted = [d for d in deliveries if any(CONNECTION_FAILED < status < 300 for status in d.statuses)]
    stored = stored_ids(outputs, [d.event_id for d in deliveries])
    refused: collections.Counter[str] = collections.Counter(
        "connection failed" if status == CONNECTION_FAILED else str(status)
        for d in deliveries
        for status in d.statuses
        if status >= 300 or status == CONNECTION_FAILED
    )
    lost = sum(
        1 for d in deliveries if d.event_id not in stored or not any(CONNECTION_FAILED < s < 300 for s in d.statuses)
    )
    return Report(
        deliveries=len(deliveries),
        sources=sorted({d.source for d in deliveries}),
        seconds=seconds,
        throttle_share=throttle_share,
        accepted=len(accepted),
        first_attempt=dict(collections.Counter(str(d.statuses[0]) for d in deliveries if d.statuses)),
        refused_by_status=dict(refused),
        refusals_without_retry_after=sum(d.retry_after_missing for d in deliveries),
        retries=sum(max(0, len(d.statuses) - 1 - d.resent) for d in deliveries),
        resent=sum(d.resent for d in deliveries),
        resent_answered_200=sum(1 for d in deliveries if d.resent and d.statuses[-1] == 200),
        lost=lost,
        duplicated=sum(1 for d in deliveries if d.statuses.count(202) > 1),
    )


def run(
    outputs: dict[str, Any], *, count: int, rate: float, burst: int, concurrency: int = 8, attempts: int = 8,
    sources: list[str] | None = None, throttle: float = 0.0,
) -> Report:  # fmt: skip
    """The whole load run: plan, (throttle), drive, verify. Raises `LoadError`."""
    if not 0 <= throttle < 1:
        raise LoadError("--throttle is a share of PutItems in [0, 1)")
    deliveries = plan(outputs, count, sources)
    fault_file = outputs.get("fault_injection_file")
    if throttle and not fault_file:
        raise LoadError("--throttle needs the sandbox (its outputs name a fault_injection_file)")
    from pipeline_tools.sandbox import fault_injection

    table_prefix = str(outputs["dynamodb_table_name"])
    if throttle:
        fault_injection.write(Path(fault_file), throttle_put_item=throttle, table_prefix=table_prefix)
    try:
        seconds = drive(deliveries, rate=rate, burst=max(1, burst), concurrency=concurrency, attempts=attempts)
    finally:
        if throttle:
            fault_injection.clear(Path(fault_file))
    return report(outputs, deliveries, seconds, throttle)
