"""The capacity contract: one environment's peak and burst, and every limit on the path sized from it.

`plan_capacity(settings)` turns the contract (`peak_events_per_second`, `burst_events_per_second` for
`burst_seconds`, from `provider_sending_ips`) into the values the synth uses (stage throttle, WAF rate
limits, reserved concurrency, stream parallelization) and into one `Stage` per step of the path with
the sustained and burst events/s it takes and what a provider sees beyond it. A setting left `null` is
sized; a setting given explicitly is checked. A combination that cannot meet the contract raises
`CapacityError` naming the stage, its limit and the setting (or AWS quota) to change.

Every AWS figure below carries its source; the two assumptions (a validator delivery's duration, the
router's cost per record and per SQS call) are measured by `make bench` and written down in
docs/PERFORMANCE.md. Other stages of the path (a lifecycle queue, a reconciler's writes) join by
appending a builder to `STAGE_BUILDERS`; the FIFO money queues (`fifo_money_queues`) are one.

Per source (`SourceRoute`, `plan.source_routes`): how its route proves a delivery's origin to the WAF
(`route_signing`, derived from the provider's `SPEC`). A route signed by header or in the body meets the
stages above. An *unsigned-fetching* route (the door authenticates by fetching the posted id from the
provider's API: mollie-classic) meets, with the WAF on, the per-IP *unsigned* rate rule instead of the
signed one, and every delivery costs one call to the provider's API: the route gets its own stages and
binding limit, and a warning when the unsigned limit cannot carry the whole contract. The contract is
the environment's (all routes together), so that is a warning, not a refusal (README "Capacity").
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from typing import Literal

from modules.config import ConfigError, PipelineSettings
from modules.sources_config import PROVIDER_SPECS, SourceSettings
from modules.stored_item import WRITTEN_CODEC, item_sizes, write_units

# API Gateway account-level throttle per region: 10,000 requests/s, burst 5,000 (a stage cannot exceed it).
# https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html
API_ACCOUNT_RATE_LIMIT = 10_000
API_ACCOUNT_BURST_LIMIT = 5_000
# The token bucket is enforced approximately: size the rate with headroom over the contract's burst.
API_RATE_HEADROOM = 1.2
# Lambda: 1,000 concurrent executions per region by default, of which 100 must stay unreserved.
# https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html
LAMBDA_UNRESERVED_MINIMUM = 100
# Lambda stream mappings: ParallelizationFactor 1..10 concurrent batches per shard.
# https://docs.aws.amazon.com/lambda/latest/dg/with-ddb.html
MAX_PARALLELIZATION_FACTOR = 10
# DynamoDB on-demand: a new table serves up to 4,000 write request units/s at once (then twice its
# previous peak); one partition takes 1,000 WCU/s, and each partition is one stream shard.
# https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/on-demand-capacity-mode.html
# https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/bp-partition-key-design.html
DYNAMODB_ON_DEMAND_INITIAL_WRU = 4_000
DYNAMODB_PARTITION_WCU = 1_000
# WAF rate-based rules count over a trailing window (300 s by default); limit 10..2,000,000,000.
# https://docs.aws.amazon.com/waf/latest/developerguide/waf-rule-statement-type-rate-based-high-level-settings.html
WAF_WINDOW_SECONDS = 300
WAF_PROVIDER_HEADROOM = 1.5
# Assumptions measured by `make bench` (docs/PERFORMANCE.md): a validator delivery's p99 duration with
# its one PutItem, and the router's CPU per record and one SendMessageBatch round trip (sequential).
VALIDATOR_DELIVERY_SECONDS = 0.1
# One call to a provider's API from the door (mollie-classic's fetch, an enriching source's amount fetch),
# TLS set-up included: an assumption, as no provider account is reachable here to measure it; the cost
# model prices the validator's time with the same figure (pipeline_tools/cost_model.py).
DOOR_FETCH_TYPICAL_SECONDS = 0.25
VALIDATOR_CONCURRENCY_HEADROOM = 1.5
ROUTER_SECONDS_PER_RECORD = 0.0002
ROUTER_SECONDS_PER_SEND = 0.01
ROUTER_SECONDS_PER_INVOCATION = 0.02
ROUTED_QUEUES = 4  # payments, refunds, disputes, unrouted: one SendMessageBatch per queue per 10 records
# The router keeps up with a shard written at full speed twice over (issue 20), so a backlog drains.
ROUTER_SHARD_HEADROOM = 2.0
# SQS FIFO queues count API calls, not messages, per API action (SendMessage[Batch], ReceiveMessage,
# DeleteMessage[Batch]): 300 calls/s per queue (per partition) without high-throughput mode, so 300
# messages/s unbatched and 3,000 with batches of 10. High-throughput mode (the stack's money queues:
# deduplication scope and throughput limit per message group, modules/queues.py) raises the queue's limit
# to a regional one, while each message group (here: one payment, refund or dispute) keeps 300 calls/s.
# https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/quotas-messages.html
# https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/troubleshooting-fifo-throttling-issues.html
SQS_FIFO_CALLS_PER_SECOND = 300
SQS_FIFO_BATCH = 10
SQS_FIFO_HIGH_THROUGHPUT_CALLS_PER_SECOND = {
    **dict.fromkeys(("us-east-1", "us-west-2", "eu-west-1"), 70_000),
    **dict.fromkeys(("us-east-2", "eu-central-1"), 19_000),
}  # other regions: the quota page's figure for yours; the model assumes the default 300 calls/s there


# How a source's route proves where a delivery came from, as the WAF sees it (modules/waf.py): a signature
# header (the request is labelled signed), a signature inside the body (the route's path is labelled
# signed), or nothing: the door fetches the posted id back from the provider's API (`fetches_at_door`),
# so every delivery counts against the WAF's per-IP *unsigned* limit.
RouteSigning = Literal["signed-by-header", "signed-in-body", "unsigned-fetching"]


@dataclasses.dataclass(frozen=True)
class FetchApi:
    """The provider API an unsigned-fetching door calls once per delivery, and its rate limit."""

    call: str  # what one delivery costs (calls to the provider API)
    rate_limit: str  # the provider's documented limit, in words (Mollie publishes no fixed figure)
    beyond: str  # what the provider sees when its API refuses our fetch
    source: str  # the documentation of the rate limit
    budget_seconds: float  # the longest one delivery's fetch may hold a validator (attempts and waits included)


def declared_fetch_api(provider_id: str) -> FetchApi | None:
    """The fetch API of a provider whose SPEC `fetches_at_door`, as its spec declares it (`fetch_api`:
    call, rate_limit, beyond, source); None for every other provider."""
    declared = PROVIDER_SPECS[provider_id].fetch_api
    return FetchApi(**declared) if declared is not None else None


def door_fetch_seconds(source: SourceSettings, settings: PipelineSettings) -> float | None:
    """The longest one delivery of `source` may hold a validator while the door calls the provider's API
    (None: its door makes no call). mollie-classic: its spec's fetch budget (8 s, every key and attempt);
    a source with `"enrich": true` (handlers/enrichment.py): the door's fetches end only at the function's
    deadline less one worst-case write, so the validator's timeout bounds them."""
    fetch_api = declared_fetch_api(source.provider)
    if fetch_api is not None:
        return fetch_api.budget_seconds
    if source.enrich:
        return float(settings.validator_timeout_seconds)
    return None


def route_signing(provider_id: str) -> RouteSigning:
    """How `provider_id`'s route proves a delivery's origin, from its `SPEC` (handlers/providers/spec.py).

    `fetches_at_door` providers are unsigned (the spec refuses one with a header or a body signature);
    `signed_in_body` providers are labelled signed by their route; every other provider is signed by
    header (Standard Webhooks: no single `signature_header`, but one of two names the WAF labels signed).
    """
    spec = PROVIDER_SPECS[provider_id]
    if spec.fetches_at_door:
        return "unsigned-fetching"
    if spec.signed_in_body:
        return "signed-in-body"
    return "signed-by-header"


class CapacityError(ConfigError):
    """The settings cannot meet the environment's capacity contract; the message names the limit."""


@dataclasses.dataclass(frozen=True)
class Stage:
    """One step of the path: the events/s it sustains and takes during a burst, and what lies beyond."""

    name: str
    limit: str  # the configured limit, in words
    sustained_events_per_second: float
    burst_events_per_second: float  # during `burst_seconds`
    beyond: str  # what a provider sees above it
    change: str  # the setting or quota that raises it


@dataclasses.dataclass(frozen=True)
class CapacityPlan:
    settings: PipelineSettings
    api_rate_limit: int
    api_burst_limit: int
    validator_concurrency: int
    router_concurrency: int
    parallelization_factor: int
    waf_signed_limit_per_5min: int
    waf_unsigned_limit_per_5min: int
    write_units_per_event: int
    shards: int
    stages: tuple[Stage, ...] = ()
    source_routes: tuple[SourceRoute, ...] = ()

    @property
    def warnings(self) -> tuple[str, ...]:
        """What `capacity` prints below the table: each route that cannot carry the whole contract."""
        return tuple(route.warning for route in self.source_routes if route.warning)

    @property
    def notes(self) -> tuple[str, ...]:
        """What `capacity` prints after the warnings: each route whose door fetches could hold every validator."""
        return tuple(route.note for route in self.source_routes if route.note)

    @property
    def reserved_validator_concurrency(self) -> int | None:
        """What the synth reserves for the validator (None: `reserve_concurrency` is false)."""
        return self.validator_concurrency if self.settings.reserve_concurrency else None

    @property
    def reserved_router_concurrency(self) -> int | None:
        return self.router_concurrency if self.settings.reserve_concurrency else None

    @property
    def binding(self) -> Stage:
        """The stage that refuses first during a burst (the lowest burst events/s)."""
        return min(self.stages, key=lambda stage: stage.burst_events_per_second)

    @property
    def binding_sustained(self) -> Stage:
        """The stage that refuses first under a steady rate (the lowest sustained events/s): not always the
        burst's (prod: the stage throttle bounds a burst, the WAF's per-IP count a steady rate)."""
        return min(self.stages, key=lambda stage: stage.sustained_events_per_second)


StageBuilder = Callable[[CapacityPlan], Stage | None]


@dataclasses.dataclass(frozen=True)
class SourceRoute:
    """One provider source's route, `POST /webhook/<source>`, as the capacity model sees it.

    `stages`: the route's own limits (empty: the environment's stages are the whole path); `fetch_api`:
    the provider API each delivery calls (unsigned-fetching routes); `warning`: set when the route cannot
    carry the environment's whole contract, naming the limit and the fix.
    """

    source: str
    provider: str
    signing: RouteSigning
    stages: tuple[Stage, ...] = ()
    fetch_api: FetchApi | None = None
    warning: str | None = None
    # A door that calls the provider's API (`door_fetch_seconds`): what `capacity` notes when that API at its
    # slowest would let this route's deliveries hold every validator (conditional on the provider's latency,
    # so not a warning: the route's stage assumes `DOOR_FETCH_TYPICAL_SECONDS`).
    note: str | None = None

    @property
    def binding(self) -> Stage | None:
        """The route's own stage that refuses first during a burst (None: the environment's binding)."""
        return min(self.stages, key=lambda stage: stage.burst_events_per_second) if self.stages else None


def write_units_per_event(payload_bytes: int) -> int:
    """DynamoDB write units of one stored `payload_bytes` event, as the validator stores it (compressed with
    `WRITTEN_CODEC` when that saves space): the most any held-out provider sample's item takes at that size
    (modules/stored_item.py, the model `cost` prices with the mean of), so a burst of the provider whose
    payloads compress worst is what the table's figure holds."""
    return max(write_units(size) for size in item_sizes(payload_bytes, WRITTEN_CODEC))


def router_records_per_second(batch_size: int) -> float:
    """Records one router invocation routes per second with a full batch (SQS calls are sequential)."""
    sends = ROUTED_QUEUES + math.ceil(batch_size / 10)
    seconds = ROUTER_SECONDS_PER_INVOCATION + batch_size * ROUTER_SECONDS_PER_RECORD + sends * ROUTER_SECONDS_PER_SEND
    return batch_size / seconds


def provider_count_in_window(settings: PipelineSettings) -> float:
    """Requests one provider IP sends in the worst WAF window: the burst, then the peak, spread evenly."""
    burst = min(settings.burst_seconds, WAF_WINDOW_SECONDS)
    total = settings.burst_events_per_second * burst + settings.peak_events_per_second * (WAF_WINDOW_SECONDS - burst)
    return total / settings.provider_sending_ips


def _api_stage(plan: CapacityPlan) -> Stage:
    s = plan.settings
    if s.front_door == "http_api":
        # The stage's default route settings give each route its own token bucket
        # (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-throttling.html); a provider
        # posts to one route, so one route's bucket is what it meets. The account limit is shared by every
        # REST and HTTP API of the account in the region.
        return Stage(
            "API Gateway HTTP API route throttle",
            f"{plan.api_rate_limit} rps, burst {plan.api_burst_limit} per route ($default stage)",
            plan.api_rate_limit,
            plan.api_rate_limit + plan.api_burst_limit / s.burst_seconds,
            "429 Too Many Requests",
            "api_throttle_rate_limit / api_throttle_burst_limit (account: 10,000 rps, burst 5,000, all APIs)",
        )
    return Stage(
        "API Gateway stage throttle",
        f"{plan.api_rate_limit} rps, burst {plan.api_burst_limit}",
        plan.api_rate_limit,
        plan.api_rate_limit + plan.api_burst_limit / s.burst_seconds,
        "429 Too Many Requests",
        "api_throttle_rate_limit / api_throttle_burst_limit (account: 10,000 rps, burst 5,000)",
    )


def _waf_stage(plan: CapacityPlan) -> Stage | None:
    s = plan.settings
    if not s.waf_enabled:
        return None
    ips, window, burst = s.provider_sending_ips, WAF_WINDOW_SECONDS, min(s.burst_seconds, WAF_WINDOW_SECONDS)
    allowed = plan.waf_signed_limit_per_5min * ips
    return Stage(
        "WAF rate rule (signed requests, per IP)",
        f"{plan.waf_signed_limit_per_5min} per {window} s per IP, {ips} provider IPs; "
        f"unsigned: {plan.waf_unsigned_limit_per_5min} per {window} s per IP",
        allowed / window,
        # What the window leaves for the burst once the peak has used its share (none: 0, never negative).
        max(0.0, (allowed - s.peak_events_per_second * (window - burst)) / burst),
        "403 Forbidden",
        "waf_signed_rate_limit_per_5min, provider_sending_ips",
    )


def _validator_stage(plan: CapacityPlan) -> Stage:
    rate = plan.validator_concurrency / VALIDATOR_DELIVERY_SECONDS
    shared = "" if plan.settings.reserve_concurrency else " (unreserved: the account's pool, shared)"
    return Stage(
        "validator concurrency",
        f"{plan.validator_concurrency}{shared} at {VALIDATOR_DELIVERY_SECONDS * 1000:.0f} ms per delivery",
        rate,
        rate,
        "500 (API Gateway's answer when Lambda throttles the invoke)",
        "validator_reserved_concurrency, lambda_account_concurrency, reserve_concurrency",
    )


def table_write_units_per_second(settings: PipelineSettings) -> int:
    """Write units/s the events table takes at once: a new on-demand table's 4,000, or the warm throughput
    the settings say was set on it (`dynamodb_warm_write_units_per_second`)."""
    return max(DYNAMODB_ON_DEMAND_INITIAL_WRU, settings.dynamodb_warm_write_units_per_second or 0)


def _table_stage(plan: CapacityPlan) -> Stage:
    units = table_write_units_per_second(plan.settings)
    warm = plan.settings.dynamodb_warm_write_units_per_second
    rate = units / plan.write_units_per_event
    return Stage(
        "DynamoDB on-demand writes (warm throughput)" if warm else "DynamoDB on-demand writes (new table)",
        f"{units} WRU/s, {plan.write_units_per_event} per {plan.settings.typical_payload_bytes} B event",
        rate,
        rate,
        "503 with Retry-After (the retry stores it once); the table then doubles its previous peak",
        "dynamodb_warm_write_units_per_second, once the table's warm throughput is set to it (`aws dynamodb "
        "update-table --table-name transaction-events-<environment> --warm-throughput "
        "WriteUnitsPerSecond=N`; hashicorp/aws 5.100 cannot set it), or "
        "typical_payload_bytes (smaller items)",
    )


def _router_stage(plan: CapacityPlan) -> Stage:
    per_invocation = router_records_per_second(plan.settings.router_batch_size)
    rate = min(plan.shards * plan.parallelization_factor, plan.router_concurrency) * per_invocation
    return Stage(
        "router (stream shards x parallelization)",
        f"{plan.shards} shards x {plan.parallelization_factor}, {plan.router_concurrency} concurrent, "
        f"{per_invocation:.0f} records/s each",
        rate,
        rate,
        "only latency (IteratorAge alarm); nothing refused",
        "router_parallelization_factor, router_reserved_concurrency, router_batch_size",
    )


def fifo_calls_per_second(region: str) -> int:
    """A high-throughput FIFO queue's API calls/s per action in `region` (300, the per-partition default,
    where the quota page gives no regional figure: a conservative floor)."""
    return SQS_FIFO_HIGH_THROUGHPUT_CALLS_PER_SECOND.get(region, SQS_FIFO_CALLS_PER_SECOND)


def _fifo_stage(plan: CapacityPlan) -> Stage | None:
    """The router's `SendMessageBatch` calls into one FIFO money queue (worst case: every event of one
    kind), up to 10 messages a call (the router's batch size caps it); consumers' receives and deletes have the
    same limit per action."""
    s = plan.settings
    if not s.fifo_money_queues:
        return None
    calls = fifo_calls_per_second(s.region)
    per_call = min(SQS_FIFO_BATCH, s.router_batch_size)
    rate = calls * per_call
    return Stage(
        "FIFO money queues (SendMessageBatch)",
        f"{calls:,} calls/s per action in {s.region} (high throughput) x {per_call} messages; "
        f"{SQS_FIFO_CALLS_PER_SECOND} calls/s per message group (one object)",
        rate,
        rate,
        "only latency (the router retries throttled entries; IteratorAge alarm); nothing refused",
        "an SQS FIFO quota increase (Service Quotas), or fifo_money_queues: false",
    )


# Stages of the path, in the order a request meets them. Append a builder to add one (it may return
# None when the stage is off in this environment).
STAGE_BUILDERS: list[StageBuilder] = [
    _api_stage, _waf_stage, _validator_stage, _table_stage, _router_stage, _fifo_stage,
]  # fmt: skip


def unsigned_limit_for_contract(settings: PipelineSettings) -> int:
    """The `waf_rate_limit_per_5min` an unsigned-fetching route needs to carry the whole contract, in
    requests per 300 s per IP: what one provider IP sends in the worst window (`provider_count_in_window`)
    with the headroom the signed limit is sized with. Without it the contract's worst window sits exactly
    at the limit, and one request more (WAF's count is approximate) blocks the IP; so it is the sized
    signed limit, and an unsigned rule at that value no longer limits unsigned clients more than signed
    ones."""
    return math.ceil(provider_count_in_window(settings) * WAF_PROVIDER_HEADROOM)


def _unsigned_route_stage(plan: CapacityPlan, sharing: int) -> Stage:
    """The WAF's per-IP unsigned rule as an unsigned-fetching route meets it: `waf_unsigned_limit_per_5min`
    requests per IP in any trailing 300 s, from `provider_sending_ips` IPs, shared by the `sharing`
    unsigned-fetching sources (one provider's IPs send them all). Sustained: the window's allowance spread
    over it; burst: the whole allowance within `burst_seconds` of a window with nothing else unsigned."""
    s = plan.settings
    ips, window, burst = s.provider_sending_ips, WAF_WINDOW_SECONDS, min(s.burst_seconds, WAF_WINDOW_SECONDS)
    allowed = plan.waf_unsigned_limit_per_5min * ips
    shared = f", shared by {sharing} unsigned-fetching sources" if sharing > 1 else ""
    return Stage(
        "WAF rate rule (unsigned requests, per IP)",
        f"{plan.waf_unsigned_limit_per_5min} per {window} s per IP, {ips} provider IPs{shared}; the burst "
        f"figure from a window with nothing else unsigned",
        allowed / window,
        allowed / burst,
        "403 Forbidden (nothing stored; the provider retries on its own schedule)",
        "waf_rate_limit_per_5min (the unsigned limit of every client), provider_sending_ips",
    )


def _door_fetch_stage(plan: CapacityPlan, budget_seconds: float) -> Stage:
    """The validator's concurrency as a route whose door calls the provider's API meets it: each delivery
    holds a validator for its own work and the fetch (`DOOR_FETCH_TYPICAL_SECONDS`, up to `budget_seconds`
    when the API is slow), and while such deliveries hold every validator, every route's invokes are
    throttled."""
    seconds = VALIDATOR_DELIVERY_SECONDS + DOOR_FETCH_TYPICAL_SECONDS
    rate = plan.validator_concurrency / seconds
    return Stage(
        "validators held by door fetches",
        f"{plan.validator_concurrency} validators at {seconds:g} s per delivery with its fetch "
        f"({DOOR_FETCH_TYPICAL_SECONDS:g} s per fetch assumed, up to {budget_seconds:g} s when the API is slow)",
        rate,
        rate,
        "500 (API Gateway's answer when Lambda throttles the invoke), on every route while these deliveries hold "
        "every validator",
        "validator_reserved_concurrency",
    )


def _door_fetch_words(source: SourceSettings, plan: CapacityPlan, budget_seconds: float) -> str:
    slowest = plan.validator_concurrency / (VALIDATOR_DELIVERY_SECONDS + budget_seconds)
    return (
        f"source {source.name!r} ({source.provider}) calls the provider's API from the door, and each delivery "
        f"holds a validator while it waits: {budget_seconds:g} s at most. At {DOOR_FETCH_TYPICAL_SECONDS:g} s per "
        f"fetch this source alone takes "
        f"{plan.validator_concurrency / (VALIDATOR_DELIVERY_SECONDS + DOOR_FETCH_TYPICAL_SECONDS):,.0f} deliveries/s; "
        f"if the API answers at its slowest, {slowest:,.0f} deliveries/s of it hold all "
        f"{plan.validator_concurrency} validators, and until those fetches end every source's deliveries get 500 "
        "(providers retry a 5xx). Raise validator_reserved_concurrency to this source's peak deliveries/s times "
        "the seconds each holds a validator"
    )


def _source_routes(plan: CapacityPlan) -> tuple[SourceRoute, ...]:
    s = plan.settings
    fetching = [source for source in s.sources if route_signing(source.provider) == "unsigned-fetching"]
    routes = []
    for source in s.sources:
        signing = route_signing(source.provider)
        budget_seconds = door_fetch_seconds(source, s)
        fetch_stages: tuple[Stage, ...] = ()
        warnings: list[str] = []
        note = None
        if budget_seconds is not None:
            fetch_stage = _door_fetch_stage(plan, budget_seconds)
            fetch_stages = (fetch_stage,)
            if fetch_stage.burst_events_per_second < s.burst_events_per_second:
                warnings.append(_door_fetch_words(source, plan, budget_seconds))
            elif plan.validator_concurrency / (VALIDATOR_DELIVERY_SECONDS + budget_seconds) < s.burst_events_per_second:
                note = _door_fetch_words(source, plan, budget_seconds)
        fetch_api = declared_fetch_api(source.provider)
        stages = fetch_stages
        if signing == "unsigned-fetching" and s.waf_enabled:
            stage = _unsigned_route_stage(plan, sum(other.provider == source.provider for other in fetching))
            stages = (stage, *fetch_stages)
            if plan.waf_unsigned_limit_per_5min < unsigned_limit_for_contract(s):
                warnings.insert(
                    0,
                    f"source {source.name!r} ({source.provider}) posts unsigned: under the WAF it takes "
                    f"{stage.sustained_events_per_second:,.0f} events/s sustained, "
                    f"{stage.burst_events_per_second:,.0f} events/s for {min(s.burst_seconds, WAF_WINDOW_SECONDS)} s "
                    f"from a quiet window ({stage.name}: {stage.limit}), below the contract (peak "
                    f"{s.peak_events_per_second}, burst {s.burst_events_per_second} events/s for {s.burst_seconds} s) "
                    f"if this source carries it; beyond it the provider sees {stage.beyond}. To carry the whole "
                    f"contract on this route raise waf_rate_limit_per_5min to at least "
                    f"{unsigned_limit_for_contract(s):,} (the contract's worst 300 s per IP with the signed limit's "
                    "headroom; it is every client's unsigned limit), or lower the contract",
                )
        warning = ". Also: ".join(warnings) or None
        routes.append(SourceRoute(source.name, source.provider, signing, stages, fetch_api, warning, note))
    return tuple(routes)


def stream_shards(settings: PipelineSettings) -> int:
    """The table's stream shards (one per partition): a new on-demand table's initial partitions (or its
    warm throughput's, `dynamodb_warm_write_units_per_second`), or more when the burst's write units need
    them. The cost model prices the router per shard with it."""
    units = write_units_per_event(settings.typical_payload_bytes)
    return max(
        math.ceil(table_write_units_per_second(settings) / DYNAMODB_PARTITION_WCU),
        math.ceil(settings.burst_events_per_second * units / DYNAMODB_PARTITION_WCU),
    )


def _sized(settings: PipelineSettings) -> CapacityPlan:
    s = settings
    rate = s.api_throttle_rate_limit or math.ceil(s.burst_events_per_second * API_RATE_HEADROOM)
    bucket = s.api_throttle_burst_limit or min(API_ACCOUNT_BURST_LIMIT, max(rate, 2 * rate))
    validator = s.validator_reserved_concurrency or math.ceil(
        s.burst_events_per_second * VALIDATOR_DELIVERY_SECONDS * VALIDATOR_CONCURRENCY_HEADROOM
    )
    if not s.reserve_concurrency:  # both share the whole account pool (and so does everything else in it)
        validator = s.lambda_account_concurrency
    units = write_units_per_event(s.typical_payload_bytes)
    shards = stream_shards(s)
    factor = s.router_parallelization_factor or min(
        MAX_PARALLELIZATION_FACTOR,
        math.ceil(ROUTER_SHARD_HEADROOM * DYNAMODB_PARTITION_WCU / router_records_per_second(s.router_batch_size)),
    )
    router = s.router_reserved_concurrency or shards * factor
    if not s.reserve_concurrency:
        router = s.lambda_account_concurrency
    signed = s.waf_signed_rate_limit_per_5min or math.ceil(provider_count_in_window(s) * WAF_PROVIDER_HEADROOM)
    return CapacityPlan(s, rate, bucket, validator, router, factor, signed, s.waf_rate_limit_per_5min, units, shards)


def plan_capacity(settings: PipelineSettings) -> CapacityPlan:
    """Size every limit from the contract, then check that each stage meets it.

    Raises `CapacityError` naming the first stage (in path order) that cannot take
    `burst_events_per_second` for `burst_seconds` or `peak_events_per_second` sustained, or an AWS
    account quota the sized values exceed. An unsigned-fetching source's route that cannot carry the
    whole contract under the WAF is not refused (the contract is every route's together): its
    `SourceRoute.warning` says so, and `capacity` prints it.
    """
    plan = _sized(settings)
    plan = dataclasses.replace(plan, stages=tuple(s for s in (b(plan) for b in STAGE_BUILDERS) if s is not None))
    plan = dataclasses.replace(plan, source_routes=_source_routes(plan))
    where = f"environment {settings.environment!r}"
    if plan.api_rate_limit > API_ACCOUNT_RATE_LIMIT or plan.api_burst_limit > API_ACCOUNT_BURST_LIMIT:
        raise CapacityError(
            f"{where}: the stage throttle {plan.api_rate_limit} rps / burst {plan.api_burst_limit} exceeds API "
            f"Gateway's account limit ({API_ACCOUNT_RATE_LIMIT} rps, burst {API_ACCOUNT_BURST_LIMIT}); raise it "
            "through Service Quotas or lower burst_events_per_second"
        )
    reserved = plan.validator_concurrency + plan.router_concurrency
    if settings.reserve_concurrency and reserved > settings.lambda_account_concurrency - LAMBDA_UNRESERVED_MINIMUM:
        raise CapacityError(
            f"{where}: reserved concurrency {plan.validator_concurrency} (validator) + {plan.router_concurrency} "
            f"(router) leaves less than {LAMBDA_UNRESERVED_MINIMUM} of lambda_account_concurrency "
            f"{settings.lambda_account_concurrency} unreserved (Lambda quota); raise the account's concurrency "
            "through Service Quotas and set lambda_account_concurrency, lower burst_events_per_second, or set "
            "reserve_concurrency to false"
        )
    if plan.parallelization_factor > MAX_PARALLELIZATION_FACTOR:
        raise CapacityError(f"{where}: router_parallelization_factor must be 1..{MAX_PARALLELIZATION_FACTOR}")
    for stage in plan.stages:
        for kind, needed, has in (
            ("burst", settings.burst_events_per_second, stage.burst_events_per_second),
            ("peak", settings.peak_events_per_second, stage.sustained_events_per_second),
        ):
            if has < needed:
                raise CapacityError(
                    f"{where}: {stage.name} ({stage.limit}) takes {has:.0f} events/s, below the {kind} of "
                    f"{needed} events/s the capacity contract asks for; a provider would see {stage.beyond}. "
                    f"Change {stage.change}, or lower the contract"
                )
    return plan


def render(plan: CapacityPlan) -> str:
    """The capacity table printed by `python -m pipeline_tools capacity`."""
    s = plan.settings
    rows = [
        f"Capacity of environment {s.environment!r}: peak {s.peak_events_per_second} events/s, burst "
        f"{s.burst_events_per_second} events/s for {s.burst_seconds} s from {s.provider_sending_ips} IPs, "
        f"{s.typical_payload_bytes} B events",
        "",
        f"{'stage':<44} {'sustained/s':>12} {'burst/s':>10}  beyond it  (limit)",
    ]
    for stage in plan.stages:
        rows.append(
            f"{stage.name:<44} {stage.sustained_events_per_second:>12,.0f} {stage.burst_events_per_second:>10,.0f}"
            f"  {stage.beyond}  ({stage.limit})"
        )
    binding, steady = plan.binding, plan.binding_sustained
    rows += [
        "",
        f"Binds first: {binding.name}, at {binding.burst_events_per_second:,.0f} events/s during a burst; "
        f"beyond it a provider sees {binding.beyond}.",
    ]
    if steady != binding:
        rows.append(
            f"Binds first at a steady rate: {steady.name}, at {steady.sustained_events_per_second:,.0f} events/s "
            f"sustained; beyond it a provider sees {steady.beyond}."
        )
    if plan.source_routes:
        rows += ["", "Per source (POST /webhook/<source>):"]
    for route in plan.source_routes:
        rows.append(f"{route.source} ({route.provider}): {ROUTE_SIGNING_WORDS[route.signing]}")
        for stage in route.stages:
            rows.append(
                f"  {stage.name:<42} {stage.sustained_events_per_second:>12,.0f} "
                f"{stage.burst_events_per_second:>10,.0f}  {stage.beyond}  ({stage.limit})"
            )
        if route.binding is not None:
            quiet = " from a quiet window" if route.binding.name.startswith("WAF") else ""  # the WAF's trailing window
            rows.append(
                f"  Binds first for {route.source!r}: {route.binding.name}, at "
                f"{route.binding.sustained_events_per_second:,.0f} events/s sustained and "
                f"{route.binding.burst_events_per_second:,.0f} events/s for "
                f"{min(s.burst_seconds, WAF_WINDOW_SECONDS)} s{quiet}; beyond it the provider sees "
                f"{route.binding.beyond}."
            )
        if route.fetch_api is not None:
            api = route.fetch_api
            rows.append(f"  Each delivery costs {api.call}, within {api.rate_limit}; beyond it: {api.beyond}.")
    rows += [f"Warning: {warning}" for warning in plan.warnings]
    rows += [f"Note: {note}" for note in plan.notes]
    return "\n".join(rows)


# How `render` names each kind of route.
ROUTE_SIGNING_WORDS: dict[str, str] = {
    "signed-by-header": "signed by header; the stages above",
    "signed-in-body": "signed in the body (the WAF labels its route signed); the stages above",
    "unsigned-fetching": "unsigned, authenticated by fetching from the provider's API at the door",
}


def as_dict(plan: CapacityPlan) -> dict[str, object]:
    s = plan.settings
    return {
        "environment": s.environment,
        "front_door": s.front_door,
        "contract": {
            "peak_events_per_second": s.peak_events_per_second,
            "burst_events_per_second": s.burst_events_per_second,
            "burst_seconds": s.burst_seconds,
            "provider_sending_ips": s.provider_sending_ips,
            "typical_payload_bytes": s.typical_payload_bytes,
        },
        "sized": {
            "api_throttle_rate_limit": plan.api_rate_limit,
            "api_throttle_burst_limit": plan.api_burst_limit,
            "validator_reserved_concurrency": plan.reserved_validator_concurrency,
            "router_reserved_concurrency": plan.reserved_router_concurrency,
            "router_parallelization_factor": plan.parallelization_factor,
            "waf_signed_rate_limit_per_5min": plan.waf_signed_limit_per_5min if s.waf_enabled else None,
            "waf_unsigned_rate_limit_per_5min": plan.waf_unsigned_limit_per_5min if s.waf_enabled else None,
        },
        "stages": [dataclasses.asdict(stage) for stage in plan.stages],
        "binding": plan.binding.name,
        "binding_sustained": plan.binding_sustained.name,
        "sources": [
            {
                "source": route.source,
                "provider": route.provider,
                "signing": route.signing,
                "stages": [dataclasses.asdict(stage) for stage in route.stages],
                "binding": route.binding.name if route.binding is not None else plan.binding.name,
                "fetch_api": dataclasses.asdict(route.fetch_api) if route.fetch_api is not None else None,
                "meets_contract": route.warning is None,
            }
            for route in plan.source_routes
        ],
        "warnings": list(plan.warnings),
        "notes": list(plan.notes),
    }
