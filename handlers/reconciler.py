"""`webhook-reconciler`: list what a provider holds, store what the door never got (README, "Nothing lost").

Invoked on a schedule per reconciling source with `{"source": "<name>"}`. For that source it lists the
provider's events created since its checkpoint (minus an overlap, never before the provider's window),
skips the ones it has already handled (the seen-set), and writes every other one through the **door's
own path** (`validator.admit_events` then `validator.write_items`: the same canonical event, admission
contract and conditional PutItem), marked `origin: "reconciler"`. `stored` means the webhook was lost
(`ReconciledMissing`); `duplicate` or `conflict` means the door already holds it (a conflict is
expected where a listed event differs from its delivery in provider bookkeeping such as Stripe's
`pending_webhooks`; the stored delivery stays the truth).

No signature is verified on a listed event: the provider signs webhooks, not API answers. The
authentication is the API call itself: TLS to the provider's configured host with our read-only key.

Environment: `EVENTS_TABLE_NAME`, `EVENT_TTL_DAYS`, `RECONCILER_STATE_TABLE`, `RECONCILE_SOURCES`
(JSON `{"<name>": {"provider", "api_secret_arn", "api_base_url", "window_days", "overlap_minutes",
"max_requests_per_run", "type_map", "route_unmapped", "enrich", "recent_days", "profile_id"}}`, written at synth). The API secret's
SecretString is `{"api_key": "<the provider's read-only key>"}`. `enrich` (GoCardless): a listed money fact
gets its amount from the API through the door's own function (handlers/enrichment.py) before it is written.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import os
import time
from collections.abc import Callable, Mapping
from types import ModuleType
from typing import Any

import boto3
import enrichment
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parameters import SecretsProvider
from aws_lambda_powertools.utilities.typing import LambdaContext

import reconcile_apis
import validator
from provider_api import ApiClient, ProviderApiError, RateBudget
from reconcile_state import ReconcileState, StateUnavailableError
from sdk_config import SDK_CONFIG
from sources import Source
from webhook_event import InvalidEventError

ORIGIN = "reconciler"
DEFAULT_OVERLAP_MINUTES = 60
# The oldest instant asked for stays this far inside the provider's window, so the provider still holds
# it when the request arrives (clock skew, a slow run).
WINDOW_SAFETY = datetime.timedelta(minutes=5)
# A state-level source with `recent_days` lists its whole lookback once a day: the first run at least this
# long after the last complete full listing (a day less five minutes: a schedule's jitter must not push the
# full listing to the next run every day).
FULL_LISTING_EVERY = datetime.timedelta(days=1) - datetime.timedelta(minutes=5)
# Stop listing when less than this is left of the Lambda's time: the run ends cleanly and the next resumes.
DEADLINE_MARGIN_SECONDS = 20.0
SECRET_CACHE_SECONDS = 300

logger = Logger()
metrics = Metrics()
# Read once, as Powertools reads it: a process that runs other handlers too (the sandbox) keeps this one's.
SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME", "webhook-reconciler")
_secrets = SecretsProvider(boto3_client=boto3.client("secretsmanager"))


@dataclasses.dataclass(frozen=True)
class ReconcileSettings:
    """One reconciling source, as `RECONCILE_SOURCES` carries it."""

    name: str
    provider: str
    api_secret_arn: str
    api_base_url: str
    window_days: int
    overlap_minutes: int = DEFAULT_OVERLAP_MINUTES
    max_requests_per_run: int = 200
    type_map: Mapping[str, str] = dataclasses.field(default_factory=dict)
    route_unmapped: bool = True
    # Fetch the money facts' amounts (handlers/enrichment.py) with this run's client, as the door does.
    enrich: bool = False
    # State-level providers only: list back only this many days, except one run a day (`FULL_LISTING_EVERY`)
    # that lists the whole lookback. 0: the whole lookback every run.
    recent_days: int = 0
    # mollie-classic only: the website profile (`pfl_...`) its lists name (the source option `profile_id`).
    profile_id: str = ""

    @property
    def module(self) -> ModuleType:
        return reconcile_apis.load(self.provider)

    def source(self) -> Source:
        """The door's view of this source (no webhook secret: nothing is verified on this path)."""
        return Source(
            name=self.name,
            provider_id=self.provider,
            secret_arn="",
            options={enrichment.OPTION: True} if self.enrich else {},
            type_map=dict(self.type_map),
            route_unmapped=self.route_unmapped,
        )


def load_settings(text: str | None) -> dict[str, ReconcileSettings]:
    """Parse `RECONCILE_SOURCES`. Raises ValueError/KeyError when it is not the synthesized shape."""
    configured = json.loads(text or "{}")
    settings = {}
    for name, entry in configured.items():
        module = reconcile_apis.load(entry["provider"])
        settings[name] = ReconcileSettings(
            name=name,
            provider=entry["provider"],
            api_secret_arn=entry.get("api_secret_arn", ""),
            api_base_url=entry.get("api_base_url") or module.DEFAULT_API_BASE_URL,
            window_days=int(entry.get("window_days") or module.MAX_WINDOW_DAYS),
            overlap_minutes=int(entry.get("overlap_minutes", DEFAULT_OVERLAP_MINUTES)),
            max_requests_per_run=int(entry.get("max_requests_per_run", 200)),
            type_map=dict(entry.get("type_map") or {}),
            route_unmapped=bool(entry.get("route_unmapped", True)),
            enrich=entry.get("enrich") is True,
            recent_days=int(entry.get("recent_days") or 0),
            profile_id=str(entry.get("profile_id") or ""),
        )
    return settings


@dataclasses.dataclass
class Report:
    """What one run found and did. `missing`: events the table did not hold (written, or would be in a
    dry run); `already_stored`: held (seen before, duplicate or conflict); `refused`: the door's
    admission contract refused them (never written, retried next run); `gap`: the checkpoint was older
    than the provider's window, so events in between cannot be listed any more."""

    source: str
    since: str
    until: str
    dry_run: bool = False
    found: int = 0
    already_stored: int = 0
    missing: int = 0
    written: int = 0
    refused: int = 0
    pages: int = 0
    requests: int = 0
    gap: bool = False
    complete: bool = False
    # State-level: whether this run listed the whole lookback (else its last `recent_days`).
    full_listing: bool = True
    error: str | None = None
    missing_ids: list[str] = dataclasses.field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


class StoreUnavailableError(Exception):
    """A write through the door failed (AWS): the run stops; the next one retries."""


def window_start(
    settings: ReconcileSettings,
    now: datetime.datetime,
    high_water: datetime.datetime | None,
    since: datetime.datetime | None,
    event_ttl_days: int,
) -> tuple[datetime.datetime, bool]:
    """The oldest creation time to list, and whether a gap (unlistable time) precedes it.

    Explicit `since` wins; else the checkpoint minus the overlap; else (first run) as far back as the
    event table still holds items (`event_ttl_days` - 1), so nothing delivered and since expired is
    injected again. Never before the provider's window (`window_days` - 5 minutes of safety).
    """
    floor = now - datetime.timedelta(days=settings.window_days) + WINDOW_SAFETY
    if since is not None:
        wanted = since
    elif high_water is not None:
        wanted = high_water - datetime.timedelta(minutes=settings.overlap_minutes)
    else:
        wanted = now - datetime.timedelta(days=max(1, min(settings.window_days, event_ttl_days - 1)))
    if wanted < floor:
        return floor, since is not None or high_water is not None
    return wanted, False


def reconcile(
    settings: ReconcileSettings,
    *,
    client: ApiClient,
    state: ReconcileState,
    now: datetime.datetime,
    since: datetime.datetime | None = None,
    dry_run: bool = False,
    deadline: float | None = None,
    event_ttl_days: int = 30,
    is_stored: Callable[[str], bool] | None = None,
) -> Report:
    """One run for one source. Raises `ProviderApiError`, `StateUnavailableError`,
    `StoreUnavailableError` (the report so far is attached as `error.report`); nothing is advanced then.

    `dry_run` writes nothing (neither events nor state); `is_stored(event_id)` tells it which unseen
    events the table holds (the operator's read access), else every unseen event counts as missing.
    """
    module = settings.module
    source = settings.source()
    checkpoint = state.checkpoint(settings.name)
    # State-level providers (`LEVEL = "state"`: objects, listed by creation time) list their lookback, not
    # from the checkpoint: an old object changes state later (reconcile_apis/__init__.py).
    state_level = getattr(module, "LEVEL", "event") == "state"
    high_water = checkpoint.high_water if not state_level else None
    start, gap = window_start(settings, now, high_water, since, event_ttl_days)
    # An operator's `since` (pipeline_tools reconcile) lists what it asks for: not the daily full listing.
    full = not (state_level and since is not None)
    if state_level and since is None and settings.recent_days > 0:
        # Their checkpoint is the last complete *full* listing: within a day of it, list only the recent
        # days (where nearly every state change happens); else the whole lookback (the older objects'
        # late changes, recovered at most a day later). Cost: docs/providers/mollie-classic.md "Calls".
        last_full = checkpoint.high_water
        if last_full is not None and now - last_full < FULL_LISTING_EVERY:
            full = False
            start = max(start, now - datetime.timedelta(days=settings.recent_days))
    report = Report(
        source=settings.name, since=_text(start), until=_text(now), dry_run=dry_run, gap=gap, full_listing=full
    )
    try:
        if checkpoint.set_up_at is None:
            module.set_up(client)
            if not dry_run:
                state.mark_set_up(settings.name, now)
        # A profile id only reaches a provider whose lists take one (the synth allows it for mollie-classic).
        list_options = {"profile_id": settings.profile_id} if settings.profile_id else {}
        for page in module.pages(client, start, now, **list_options):
            report.pages += 1
            _handle_page(settings, module, source, page, state, now, report, dry_run, is_stored, client)
            if deadline is not None and time.monotonic() > deadline:
                report.requests = client.budget.used
                return report  # incomplete: the checkpoint stays, the seen-set holds the progress
    except (ProviderApiError, StateUnavailableError, StoreUnavailableError) as error:
        report.requests = client.budget.used
        report.error = str(error)
        error.report = report  # type: ignore[attr-defined]
        raise
    report.requests = client.budget.used
    report.complete = True
    if not dry_run and full:  # a state-level recent-only run leaves the last full listing's time
        state.advance(settings.name, now)
    return report


def _handle_page(
    settings: ReconcileSettings,
    module: ModuleType,
    source: Source,
    page: list[dict[str, Any]],
    state: ReconcileState,
    now: datetime.datetime,
    report: Report,
    dry_run: bool,
    is_stored: Callable[[str], bool] | None,
    client: ApiClient,
) -> None:
    # Read the whole page first: a malformed event stops the run before anything of the page is written.
    listed = [(module.event_id(raw), module.created(raw), raw) for raw in page]
    report.found += len(listed)
    seen = state.seen(settings.name, [event_id for event_id, _, _ in listed])
    handled: dict[str, datetime.datetime] = {}
    try:
        for event_id, created, raw in listed:
            if event_id in seen or event_id in handled:
                report.already_stored += 1
                continue
            stored_id = f"{settings.name}:{event_id}"
            try:
                provider_event = module.provider_event(raw)
            except InvalidEventError as error:
                # A listed fact its module will not vouch for (mollie-classic: an amount finer than its
                # currency): refused like the admission contract's refusals, and the run goes on.
                report.refused += 1
                logger.error(
                    "listed event refused by its reader; not stored",
                    extra={"event_id": stored_id, "reason": error.reason, "field": error.field},
                )
                continue
            stored_id = f"{settings.name}:{provider_event.provider_event_id}"
            if dry_run:
                if is_stored is not None and is_stored(stored_id):
                    report.already_stored += 1
                else:
                    report.missing += 1
                    report.missing_ids.append(stored_id)
                continue
            try:
                if settings.enrich:
                    # The door's enrichment with this run's client (same host, key and budget): a fetch
                    # failure stops the run (ProviderApiError), an unknown object is refused below.
                    provider_event = enrichment.enrich(source, [provider_event], client)[0]
                items = validator.admit_events(source, [provider_event], now, {"origin": ORIGIN})
            except InvalidEventError as error:
                report.refused += 1
                logger.error(
                    "listed event refused by the admission contract; not stored",
                    extra={"event_id": stored_id, "reason": error.reason, "field": error.field},
                )
                continue
            (outcome,) = validator.write_items(items)
            if outcome in (validator.FAILED, validator.THROTTLED):
                raise StoreUnavailableError(f"{settings.name}: event not stored ({outcome}); the next run retries")
            if outcome == validator.STORED:
                report.missing += 1
                report.written += 1
                report.missing_ids.append(stored_id)
                logger.warning("recovered an event the door never stored", extra={"event_id": stored_id})
            else:
                report.already_stored += 1
            handled[event_id] = created
    finally:
        if handled and not dry_run:
            state.remember(settings.name, handled.items(), settings.window_days)


def _text(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.UTC).isoformat().replace("+00:00", "Z")


def api_client(settings: ReconcileSettings, credential: str, *, deadline: float | None = None) -> ApiClient:
    """The source's API client: its own host only, its own request budget."""
    return ApiClient(
        provider=settings.provider,
        base_url=settings.api_base_url,
        headers=settings.module.auth_headers(credential),
        budget=RateBudget(max_requests=settings.max_requests_per_run),
        deadline=deadline,
    )


def credential(secret_arn: str, source: str) -> str:
    """The `api_key` of the source's API secret. Raises ValueError naming the source, never the value."""
    try:
        value = _secrets.get(secret_arn, max_age=SECRET_CACHE_SECONDS, transform="json")
        key = value["api_key"]
        if not isinstance(key, str) or not key.strip():
            raise TypeError("api_key is empty")
    except Exception as error:  # any failure: the run fails loudly, without the value
        raise ValueError(
            f'cannot use the API secret of source {source}: set it to {{"api_key": "<read-only key>"}} '
            f"(docs/providers/)"
        ) from error
    return key


_SETTINGS_CACHE: dict[str, ReconcileSettings] | None = None


def _settings() -> dict[str, ReconcileSettings]:
    global _SETTINGS_CACHE
    if _SETTINGS_CACHE is None:
        _SETTINGS_CACHE = load_settings(os.environ.get("RECONCILE_SOURCES"))
    return _SETTINGS_CACHE


def publish(report: Report, failed: bool) -> None:
    """Per-source metrics (dimensions `service`, `source`): the alarms read `ReconciledMissing`,
    `ReconcileFailed` and `ReconcileGap`."""
    metrics.add_dimensions(service=SERVICE, source=report.source)
    metrics.add_metric(name="ReconcileFound", unit=MetricUnit.Count, value=report.found)
    metrics.add_metric(name="ReconciledMissing", unit=MetricUnit.Count, value=report.written)
    metrics.add_metric(name="ReconcileRefused", unit=MetricUnit.Count, value=report.refused)
    metrics.add_metric(name="ReconcileGap", unit=MetricUnit.Count, value=1 if report.gap else 0)
    metrics.add_metric(name="ReconcileFailed", unit=MetricUnit.Count, value=1 if failed else 0)
    metrics.add_metric(name="ReconcileIncomplete", unit=MetricUnit.Count, value=0 if report.complete else 1)


def run(event: Mapping[str, Any], now: datetime.datetime, remaining_ms: int | None) -> dict[str, Any]:
    """The scheduled run, with the clock passed in so tests can move it."""
    name = event.get("source")
    settings = _settings().get(name) if isinstance(name, str) else None
    if settings is None:
        # A schedule naming an unconfigured source is a deployment bug: fail loudly (function error alarm).
        raise ValueError(f"no reconciling source named {str(name)[:32]!r} is configured")
    logger.append_keys(source=settings.name, provider=settings.provider)
    deadline = None
    if remaining_ms is not None:
        deadline = time.monotonic() + remaining_ms / 1000 - DEADLINE_MARGIN_SECONDS
    state = ReconcileState(boto3.client("dynamodb", config=SDK_CONFIG), os.environ["RECONCILER_STATE_TABLE"])
    empty = Report(source=settings.name, since="", until=_text(now))
    try:
        client = api_client(settings, credential(settings.api_secret_arn, settings.name), deadline=deadline)
        report = reconcile(
            settings,
            client=client,
            state=state,
            now=now,
            deadline=deadline,
            event_ttl_days=int(os.environ.get("EVENT_TTL_DAYS", "30")),
        )
    except (ProviderApiError, StateUnavailableError, StoreUnavailableError, ValueError) as error:
        report = getattr(error, "report", empty)
        report.error = str(error)
        if getattr(error, "reason", None) == "budget_exhausted":
            # Not a provider fault: the lookback needs more pages than one run may ask for. Say which knob.
            logger.error(
                f"reconciliation cut by max_requests_per_run ({settings.max_requests_per_run}): what was not "
                "listed was not checked; raise max_requests_per_run or shorten window_days",
                extra={"report": report.as_dict()},
            )
        logger.error("reconciliation failed; the next run retries", extra={"report": report.as_dict()})
        publish(report, failed=True)
        return report.as_dict()
    if not report.complete and getattr(settings.module, "LEVEL", "event") == "state":
        # R2-2: a state-level listing cut by the deadline is a failed run, alarmed like a budget cut. It
        # does not resume (each run lists its lookback from the start; only a complete full listing moves
        # the checkpoint), so a lookback that always outlasts the function would never be listed to its
        # end and, unlike an event-level source (whose stuck checkpoint ends in `ReconcileGap`), nothing
        # else would ever alarm. (An event-level cut stays `ReconcileIncomplete`: the next run resumes.)
        report.error = (
            f"reconciliation cut by the function's deadline after {report.pages} pages: what was not listed was "
            "not checked; shorten window_days or recent_days, or raise the reconciler's timeout"
        )
        logger.error("reconciliation failed; the next run retries", extra={"report": report.as_dict()})
        publish(report, failed=True)
        return report.as_dict()
    log = logger.warning if report.written or report.gap or report.refused else logger.info
    log("reconciliation run", extra={"report": report.as_dict()})
    publish(report, failed=False)
    return report.as_dict()


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    now = datetime.datetime.fromtimestamp(time.time(), tz=datetime.UTC)
    remaining_ms = context.get_remaining_time_in_millis()
    # The door's writes stop when another call could outlast the invocation: bind that guard to this
    # invocation (in a process that also ran the validator, as the sandbox's, it held the validator's last).
    validator._deadline = time.monotonic() + remaining_ms / 1000
    return run(event, now, remaining_ms)
