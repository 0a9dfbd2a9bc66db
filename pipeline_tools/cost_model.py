"""Monthly AWS cost of one deployed environment for a given event volume and payload size.

Prices come from `data/prices-us-east-1.json` (source and date per price). What cannot be read from
the configuration is an `Assumptions` field with its reason; durations default to the figures
`make bench` measured (bench-results.json) plus an allowance for the AWS round trips, which a
machine without AWS cannot measure.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

from modules.access_log import ACCESS_LOG_FIELDS, UNTRIMMED_ACCESS_LOG_FIELDS, typical_line_bytes
from modules.capacity import DOOR_FETCH_TYPICAL_SECONDS
from modules.config import PipelineSettings
from modules.sources_config import PROVIDER_SPECS
from modules.stored_item import (
    DYNAMODB_ITEM_STORAGE_OVERHEAD_BYTES,
    DYNAMODB_WRITE_UNIT_BYTES,
    STORED_PAYLOAD_SAMPLES,
    TEXT_ITEM_OVERHEAD_BYTES,
    ZLIB,
    ZLIB_DICT_1,
    item_sizes,
)

PRICES = Path(__file__).with_name("data") / "prices-us-east-1.json"
BENCH_RESULTS = Path(__file__).resolve().parent.parent / "bench-results.json"
SECONDS_PER_MONTH = 30 * 86_400
SQS_CHUNK_BYTES = 64 * 1024
QUARANTINE_RETENTION_DAYS = 90  # handlers/quarantine.py RETENTION_DAYS (a test holds them equal)
ROUTED_TYPES = 3


class CostInputError(ValueError):
    """Inputs the model cannot price: the message names the input."""


@dataclasses.dataclass(frozen=True)
class Assumptions:
    validator_cpu_ms: float = 0.3  # warm CPU per event (bench figure 4)
    router_cpu_ms_per_record: float = 0.08  # bench figure 5
    aws_round_trip_ms: float = 8.0  # one in-region PutItem or SendMessageBatch, network included
    # Table attributes besides the payload text (a text-form item): the median of the held-out samples'
    # (STORED_PAYLOAD_SAMPLES, less the compressed form's extra names); 350 before issue 20's measurement.
    item_overhead_bytes: int = TEXT_ITEM_OVERHEAD_BYTES
    message_overhead_bytes: int = 600  # canonical event and attributes besides the payload
    # One API Gateway JSON access-log line of an accepted delivery, from the stage's format
    # (modules/access_log.py; 420 was an estimate before issue 20 measured the format: 357 B).
    access_log_bytes: int = typical_line_bytes(ACCESS_LOG_FIELDS)
    access_log_bytes_untrimmed: int = typical_line_bytes(UNTRIMMED_ACCESS_LOG_FIELDS)
    lambda_platform_log_bytes: int = 330  # START/END/REPORT lines per invocation (text format)
    router_log_bytes_per_invocation: int = 0  # warnings only on failures
    # The router's "routing decision" INFO line, one per record (trace reads it): measured 490 B with
    # Powertools' per-invocation keys, 320 B without them (handlers/router.py).
    router_decision_log_bytes: int = 320
    router_decision_log_bytes_untrimmed: int = 490
    # Stored (ratio, other attribute bytes) per held-out sample and codec (STORED_PAYLOAD_SAMPLES): write
    # units are priced per sample and averaged, as a table of mixed providers is billed.
    stored_payload_samples: dict[str, tuple[tuple[float, int], ...]] = dataclasses.field(
        default_factory=lambda: dict(STORED_PAYLOAD_SAMPLES)
    )
    waf_log_bytes: int = 1500  # one WAF log record (headers included, signature redacted)
    waf_blocked_fraction: float = 0.0  # share of requests blocked (and so logged): none in normal traffic
    kms_data_key_reuse_seconds: int = 300  # SQS's default KmsDataKeyReusePeriodSeconds
    secret_cache_seconds: int = 300  # the validator re-reads the signing secret this often
    xray_reservoir_per_second: float = 1.0  # X-Ray default sampling: 1 request/s, then 5 %
    xray_rate: float = 0.05
    xray_rule_rate: float = 0.01  # the stage's sampling rule (modules/tracing.py): no reservoir, 1 %
    xray_rule_reservoir_per_second: float = 0.0  # modules/tracing.py RESERVOIR_PER_SECOND (1 before issue 20)
    # One EMF metrics line per invocation (Powertools' format, handlers/emf_template.py), measured with
    # the prod names: the validator's with `service` + `source` and 2 metrics, the router's per batch.
    validator_metric_log_bytes: int = 340
    router_metric_log_bytes: int = 420
    # Verified deliveries the door refuses and keeps in the quarantine table (handlers/quarantine.py):
    # none in normal traffic; each costs an UpdateItem of the delivery's size (uncompressed) plus
    # `quarantine_item_extra_bytes`: the request's headers twice (headers, multi_value_headers), its
    # context, the refusal and the item's names: 1,561 B measured for a Stripe delivery through a REST
    # API (tests/tools/test_quarantine_cost.py keeps it within 25 %).
    quarantined_fraction: float = 0.0
    quarantine_item_extra_bytes: int = 1600
    alarms: int = 16  # CloudWatch alarms in the synthesized stack (a test keeps this true)
    log_storage_compression: float = 0.15  # stored log bytes per ingested byte
    consumer_receive_batch: int = 10  # your consumers' ReceiveMessage batch (counted, not ours)

    @classmethod
    def measured(cls, results_path: Path = BENCH_RESULTS) -> Assumptions:
        """Defaults, with the CPU figures of the last `make bench` when there is one."""
        if not results_path.is_file():
            return cls()
        results = json.loads(results_path.read_text(encoding="utf-8"))
        handlers = results.get("handlers", {})
        overrides = {}
        if "validator" in handlers:
            overrides["validator_cpu_ms"] = handlers["validator"]["handler"]["p50_us"] / 1000
        if "router" in handlers and "100" in handlers["router"]:
            overrides["router_cpu_ms_per_record"] = handlers["router"]["100"]["cpu_per_record_us"] / 1000
        return dataclasses.replace(cls(), **overrides)


@dataclasses.dataclass(frozen=True)
class Reductions:
    """The cost reductions the stack makes; `none()` prices the stack as it was before them. Each is one
    named step of `REDUCTION_STEPS` (a new one: a field here, a step there, its effect in `estimate`)."""

    compressed_payload: bool = True  # handlers/payload_codec.py (plain zlib)
    sampling_rule: bool = True  # modules/tracing.py
    trimmed_log_lines: bool = True  # the router's decision line
    waf_logs_blocked_only: bool = True  # modules/waf.py logging filter
    sampling_without_reservoir: bool = True  # modules/tracing.py: 1 % of deliveries, no 1/s reservoir
    dictionary_payload: bool = True  # handlers/payload_codec.py `zlib-dict-1` (issue 20)
    quiet_platform_logs: bool = True  # modules/function.py: no START/END/REPORT (issue 20)
    trimmed_access_log: bool = True  # modules/access_log.py (issue 20)

    @classmethod
    def none(cls) -> Reductions:
        return cls(**{field.name: False for field in dataclasses.fields(cls)})


WAF_RULES = 4  # label-signed, rate-limit-unsigned-per-ip, rate-limit-per-ip, aws-known-bad-inputs


@dataclasses.dataclass(frozen=True)
class Volumes:
    """What one month of `events` makes the stack do: the inputs of every line, and of extra ones."""

    events: int
    settings: PipelineSettings
    assumptions: Assumptions
    prices: dict[str, float]
    router_invocations: float
    item_bytes: int = 1024  # one stored event item (payload as stored + attributes; the mean over samples)
    payload_bytes: int = 2048  # the average body size priced


# Other parts of the stack add their volumes here (a reconciler's schedule and API calls, the
# quarantine's writes): each returns the lines it costs for a month of `Volumes`.
EXTRA_VOLUMES: list[Callable[[Volumes], list[Line]]] = []


@dataclasses.dataclass(frozen=True)
class Line:
    service: str
    item: str
    usd: float


@dataclasses.dataclass(frozen=True)
class Estimate:
    events_per_month: int
    payload_bytes: int
    lines: list[Line]

    @property
    def total_usd(self) -> float:
        return sum(line.usd for line in self.lines)

    @property
    def per_million_events_usd(self) -> float:
        return self.total_usd / self.events_per_month * 1_000_000


def load_prices(path: Path = PRICES) -> dict[str, float]:
    return {
        name: entry["usd"] for name, entry in json.loads(path.read_text(encoding="utf-8")).items() if name[0] != "_"
    }


def check_inputs(events_per_month: int, payload_bytes: int) -> None:
    """Refuse what `estimate` cannot price (events a month; payload bytes, up to the validator's 100 KB
    limit), so a command can check before it prints anything. Raises `CostInputError`."""
    if events_per_month <= 0:
        raise CostInputError("events per month must be a positive number")
    if not 0 < payload_bytes <= 100 * 1024:
        raise CostInputError("payload bytes must be between 1 and 102400 (the validator's limit)")


def router_records_per_invocation(events_per_month: int, settings: PipelineSettings) -> float:
    """Records the stream mapping hands the router at once: what arrives on one shard in one batching window.

    Lambda polls each stream shard and invokes the router for it separately
    (https://docs.aws.amazon.com/lambda/latest/dg/with-ddb.html), so the events are spread evenly over the
    table's shards (`modules/capacity.stream_shards`, 4 for a new on-demand table) before they are batched.
    ParallelizationFactor is not counted: it lets Lambda run up to that many of a shard's batches at once
    when records wait (a backlog), and AWS does not document it splitting one window's records of a shard
    that keeps up; were it to, low volumes would cost up to that factor more router invocations."""
    from modules.capacity import stream_shards  # the one shard model (modules/capacity.py)

    per_second = events_per_month / SECONDS_PER_MONTH / stream_shards(settings)
    return min(float(settings.router_batch_size), max(1.0, per_second * settings.router_batching_window_seconds))


def sqs_send_requests(events: int, records_per_invocation: float, message_bytes: int) -> float:
    """SendMessageBatch requests: up to 10 messages per call and queue, each 64 KB chunk billed."""
    per_queue = max(1.0, records_per_invocation / ROUTED_TYPES)
    messages_per_call = min(10.0, per_queue)
    chunks_per_call = math.ceil(messages_per_call * message_bytes / SQS_CHUNK_BYTES)
    return events / messages_per_call * chunks_per_call


def _lambda_cost(invocations: float, billed_ms: float, memory_mb: int, prices: dict[str, float]) -> float:
    gb_seconds = invocations * math.ceil(billed_ms) / 1000 * memory_mb / 1024
    return gb_seconds * prices["lambda_arm64_per_gb_second"] + invocations / 1e6 * prices["lambda_per_million_requests"]


def stored_item_sizes(payload_bytes: int, codec: str | None, assumptions: Assumptions) -> list[int]:
    """Bytes of the item storing a `payload_bytes` payload with `codec` (None: as text), one per held-out
    sample's ratio and attributes (modules/stored_item.py, with these assumptions' samples and overhead)."""
    return item_sizes(payload_bytes, codec, assumptions.stored_payload_samples, assumptions.item_overhead_bytes)


# The metric names the functions publish (EMF, namespace per stack; a test reads them back from handlers/):
# the validator's under (service) and, in a source's invocation, (service, source) too (validator.py
# `_per_source_metrics`); the door-fetch and enrichment names only where a source fetches or enriches; the
# router's under (service). `Rejected_<reason>` is one name per reason of handlers/errors.py REASONS. No
# ColdStart metric: neither function asks Powertools for one. The reconciler's are its own line.
VALIDATOR_METRICS = (
    "Accepted", "Duplicate", "Conflict", "StoreFailed", "Rejected", "Quarantined", "QuarantineFailed",
    "SecretUnavailable", "SignatureRejected", "SecretEntrySkipped", "SignatureVerified", "Readmitted", "ReadmitRefused",
)  # fmt: skip
DOOR_FETCH_METRICS = ("FetchFailed", "FetchCredentialRefused", "FetchUnknownObject")
ENRICH_METRICS = ("AmountsFetched", "AmountFetchFailed")
ROUTER_METRICS = ("Routed", "Unrouted", "Skipped", "Parked", "RecordsReturned")


def custom_metric_count(settings: PipelineSettings) -> int:
    """Custom metrics (name x dimension-set values) the validator and router can publish for `settings`'
    sources. CloudWatch bills a metric for each hour it is published, so this prices every one as
    published all month (a failure's metric, e.g. most `Rejected_<reason>`, costs less): an upper bound."""
    from modules.reasons import REASONS  # handlers/errors.py, the one registry of reasons

    common = len(VALIDATOR_METRICS) + len(REASONS)
    fetching = [s for s in settings.sources if PROVIDER_SPECS[s.provider].fetches_at_door]
    enriching = [s for s in settings.sources if s.enrich]
    per_service = common + (len(DOOR_FETCH_METRICS) if fetching else 0) + (len(ENRICH_METRICS) if enriching else 0)
    per_sources = (
        common * len(settings.sources) + len(DOOR_FETCH_METRICS) * len(fetching) + len(ENRICH_METRICS) * len(enriching)
    )
    return per_service + per_sources + len(ROUTER_METRICS)


def _traces(requests: float, reservoir_per_second: float, rate: float) -> float:
    reservoir = reservoir_per_second * SECONDS_PER_MONTH
    return min(requests, reservoir) + rate * max(0.0, requests - reservoir)


def estimate(
    events_per_month: int,
    payload_bytes: int,
    settings: PipelineSettings,
    assumptions: Assumptions | None = None,
    prices: dict[str, float] | None = None,
    reductions: Reductions | None = None,
) -> Estimate:
    """Monthly cost, one `Line` per service and volume. `reductions` (default: all, as the stack is
    built) can be switched off one by one to show what each saves. Raises `CostInputError`."""
    check_inputs(events_per_month, payload_bytes)
    a = assumptions or Assumptions.measured()
    p = prices or load_prices()
    r = reductions or Reductions()
    events = events_per_month
    codec = (ZLIB_DICT_1 if r.dictionary_payload else ZLIB) if r.compressed_payload else None
    item_sizes = stored_item_sizes(payload_bytes, codec, a)
    item_bytes = round(sum(item_sizes) / len(item_sizes))
    write_units = sum(math.ceil(size / DYNAMODB_WRITE_UNIT_BYTES) for size in item_sizes) / len(item_sizes)
    access_log_bytes = a.access_log_bytes if r.trimmed_access_log else a.access_log_bytes_untrimmed
    platform_log_bytes = 0 if r.quiet_platform_logs else a.lambda_platform_log_bytes
    message_bytes = payload_bytes + a.message_overhead_bytes
    records = router_records_per_invocation(events, settings)
    router_invocations = events / records
    sends_per_invocation = ROUTED_TYPES * math.ceil(max(1.0, records / ROUTED_TYPES) / 10) if records > 1 else 1
    router_ms = records * a.router_cpu_ms_per_record + sends_per_invocation * a.aws_round_trip_ms
    data_key_periods = SECONDS_PER_MONTH / a.kms_data_key_reuse_seconds
    # Stored bytes: the item plus DynamoDB's per-item storage overhead (write units count the item alone).
    stored_item_bytes = sum(item_sizes) / len(item_sizes) + DYNAMODB_ITEM_STORAGE_OVERHEAD_BYTES
    stored_gb = events * settings.event_ttl_days / 30 * stored_item_bytes / 1e9
    decision_bytes = a.router_decision_log_bytes if r.trimmed_log_lines else a.router_decision_log_bytes_untrimmed
    log_gb = (events * (access_log_bytes + platform_log_bytes + decision_bytes)
              + router_invocations * (platform_log_bytes + a.router_log_bytes_per_invocation)) / 1e9  # fmt: skip
    log_months_kept = min(settings.log_retention_days / 30, 12)
    # A delivery's trace holds the stage's and the validator's segments (one decision, at the stage);
    # the router's invocations are traced on their own at Lambda's fixed 1/s + 5 %.
    # An HTTP API records no trace: the validator's active tracing samples at Lambda's fixed 1/s + 5 %.
    rule = r.sampling_rule and settings.xray_sampling_rule and settings.front_door == "rest"
    stage_rate = a.xray_rule_rate if rule else a.xray_rate
    stage_reservoir = (
        a.xray_rule_reservoir_per_second if rule and r.sampling_without_reservoir else a.xray_reservoir_per_second
    )
    traces = _traces(events, stage_reservoir, stage_rate)
    router_traces = _traces(router_invocations, a.xray_reservoir_per_second, a.xray_rate)
    # The standard secret and one per source (modules/pipeline_stack.py `source_secrets`), each re-read by
    # at least one warm validator every cache period (handlers/validator.py SECRET_CACHE_SECONDS).
    signing_secrets = 1 + len(settings.sources)
    secret_reads = signing_secrets * SECONDS_PER_MONTH / a.secret_cache_seconds
    # SQS: producer and consumer data keys for the 4 routed queues; DynamoDB: writer and stream
    # reader; Logs: 3 log groups; Secrets Manager: one Decrypt per GetSecretValue.
    kms_requests = data_key_periods * (2 * 4 + 2 + 3) + secret_reads
    custom_metrics = custom_metric_count(settings)
    lines = [
        front_door_line(events, payload_bytes, settings, p),
        Line("Lambda", f"validator: {events:,} invocations x {math.ceil(a.validator_cpu_ms + a.aws_round_trip_ms)} ms "
             f"at {settings.validator_memory_mb} MB (arm64)",
             _lambda_cost(events, a.validator_cpu_ms + a.aws_round_trip_ms, settings.validator_memory_mb, p)),
        Line("Lambda", f"router: {router_invocations:,.0f} invocations of {records:.0f} records (per shard), {math.ceil(router_ms)} ms "
             f"at {settings.router_memory_mb} MB", _lambda_cost(router_invocations, router_ms, settings.router_memory_mb, p)),
        Line("DynamoDB", f"{events:,} writes x {write_units:g} WRU ({_size_range(item_sizes)} items, {codec or 'text'})",
             events * write_units / 1e6 * p["dynamodb_on_demand_per_million_write_units"]),
        Line("DynamoDB", f"storage + PITR: {stored_gb:.2f} GB kept {settings.event_ttl_days} days by TTL "
             f"(+{DYNAMODB_ITEM_STORAGE_OVERHEAD_BYTES} B per item)",
             stored_gb * (p["dynamodb_storage_per_gb_month"] + p["dynamodb_pitr_per_gb_month"])),
        Line("DynamoDB", "stream reads by the router's trigger", 0.0 * p["dynamodb_streams_lambda_reads"]),
        Line("SQS", f"router sends ({message_bytes:,} B messages, batched, 64 KB chunks)",
             sqs_send_requests(events, records, message_bytes) / 1e6 * p["sqs_standard_per_million_requests"]),
        Line("SQS", f"your consumers: receive + delete in batches of {a.consumer_receive_batch}",
             2 * events / a.consumer_receive_batch * math.ceil(a.consumer_receive_batch * message_bytes / SQS_CHUNK_BYTES)
             / 1e6 * p["sqs_standard_per_million_requests"]),
        Line("KMS", f"1 key + {kms_requests:,.0f} requests (data keys reused {a.kms_data_key_reuse_seconds} s)",
             p["kms_key_per_month"] + kms_requests / 1e4 * p["kms_per_10k_requests"]),
        Line("Secrets Manager", f"{signing_secrets} signing secret{'s' if signing_secrets != 1 else ''} (standard + 1 per source) + {secret_reads:,.0f} reads "
             f"(cached {a.secret_cache_seconds} s)", signing_secrets * p["secrets_manager_per_secret_month"]
             + secret_reads / 1e4 * p["secrets_manager_per_10k_calls"]),
        Line("CloudWatch Logs", f"{log_gb:.2f} GB ingested (access {access_log_bytes} B, platform {platform_log_bytes} B, "
             f"decision {decision_bytes} B per event), kept {settings.log_retention_days} days",
             log_gb * p["cloudwatch_logs_ingestion_per_gb"]
             + log_gb * log_months_kept * a.log_storage_compression * p["cloudwatch_logs_storage_per_gb_month"]),
        Line("CloudWatch", f"{a.alarms} alarms, {custom_metrics:,} custom metrics (every name x dimension set the "
             "functions can publish; billed per hour published: an upper bound)",
             a.alarms * p["cloudwatch_alarm_per_month"] + custom_metrics * p["cloudwatch_custom_metric_per_month"]),
        Line("X-Ray", f"deliveries: {traces:,.0f} traces ({stage_reservoir:g}/s + {stage_rate:.0%} sampling)",
             traces / 1e6 * p["xray_per_million_traces"]),
        Line("X-Ray", f"router: {router_traces:,.0f} traces (Lambda's 1/s + 5 %)",
             router_traces / 1e6 * p["xray_per_million_traces"]),
    ]  # fmt: skip
    if settings.waf_enabled:
        logged = events * (a.waf_blocked_fraction if r.waf_logs_blocked_only else 1.0)
        waf_log_gb = logged * a.waf_log_bytes / 1e9
        lines.append(Line("WAF", f"1 web ACL, {WAF_RULES} rules, every request inspected", p["waf_web_acl_per_month"]
                          + WAF_RULES * p["waf_rule_per_month"] + events / 1e6 * p["waf_per_million_requests"]))  # fmt: skip
        lines.append(Line("WAF", f"logs: {waf_log_gb:.2f} GB ({'blocked requests only' if r.waf_logs_blocked_only else 'every request'})",
                          waf_log_gb * p["cloudwatch_logs_ingestion_per_gb"]
                          + waf_log_gb * log_months_kept * a.log_storage_compression * p["cloudwatch_logs_storage_per_gb_month"]))  # fmt: skip
    volumes = Volumes(events, settings, a, p, router_invocations, item_bytes=item_bytes, payload_bytes=payload_bytes)
    lines.extend(metric_log_lines(volumes))
    lines.extend(quarantine_lines(volumes, payload_bytes))
    from pipeline_tools import cost_consumer  # FIFO money queues, the example consumer (it imports this module)

    for extra in (*EXTRA_VOLUMES, *cost_consumer.LINES):
        lines.extend(extra(volumes))
    return Estimate(events_per_month, payload_bytes, lines)


# HTTP APIs meter a request in 512 KB increments (a 513 KB body is two requests); the validator takes
# at most 100 KB, so a delivery is one. REST APIs bill a request as one whatever its size.
HTTP_API_METERING_BYTES = 512 * 1024


# API Gateway's published monthly request tiers (https://aws.amazon.com/api-gateway/pricing/): (requests up
# to which a tier's price applies, its price's name in the price file); each request at its tier's price.
REST_REQUEST_TIERS = (
    (333_000_000, "api_gateway_rest_per_million_requests"),
    (1_000_000_000, "api_gateway_rest_per_million_requests_next_667m"),
    (20_000_000_000, "api_gateway_rest_per_million_requests_next_19b"),
    (math.inf, "api_gateway_rest_per_million_requests_over_20b"),
)
HTTP_REQUEST_TIERS = (
    (300_000_000, "api_gateway_http_per_million_requests"),
    (math.inf, "api_gateway_http_per_million_requests_over_300m"),
)


def tiered_usd(requests: float, tiers: tuple[tuple[float, str], ...], prices: dict[str, float]) -> float:
    """USD for a month of `requests`, each tier's share at its price per million (`tiers` as above)."""
    usd, below = 0.0, 0.0
    for up_to, name in tiers:
        if requests <= below:
            break  # a tier the month does not reach needs no price
        usd += (min(requests, up_to) - below) / 1e6 * prices[name]
        below = up_to
    return usd


def front_door_line(events: int, payload_bytes: int, settings: PipelineSettings, prices: dict[str, float]) -> Line:
    """The API Gateway line: `events` requests on the REST API or, with `front_door: "http_api"`, on the
    HTTP API (docs/FRONT-DOOR.md), at the published monthly tiers (REST: 333 M, 1 B, 20 B; HTTP: 300 M)."""
    if settings.front_door == "http_api":
        metered = events * math.ceil(payload_bytes / HTTP_API_METERING_BYTES)
        return Line("API Gateway", f"{events:,} HTTP API requests", tiered_usd(metered, HTTP_REQUEST_TIERS, prices))
    return Line("API Gateway", f"{events:,} REST requests", tiered_usd(events, REST_REQUEST_TIERS, prices))


# The front doors compared in docs/FRONT-DOOR.md and docs/PERFORMANCE.md: (label, front_door, waf_enabled).
FRONT_DOOR_CHOICES = (
    ("REST API", "rest", False),
    ("REST API + WAF", "rest", True),
    ("HTTP API", "http_api", False),
)


def front_door_rows(
    payload_bytes: int, settings: PipelineSettings, assumptions: Assumptions | None = None
) -> list[dict[str, Any]]:
    """Per-million cost (USD) at each of `VOLUMES` for each front door, and the API Gateway + WAF share of
    it: one `{"front_door", "per_million_events_usd", "door_per_million_events_usd"}` per door."""
    rows = []
    for label, front_door, waf in FRONT_DOOR_CHOICES:
        chosen = dataclasses.replace(settings, front_door=front_door, waf_enabled=waf)
        total, door = {}, {}
        for volume in VOLUMES:
            result = estimate(volume, payload_bytes, chosen, assumptions)
            total[str(volume)] = result.per_million_events_usd
            door_usd = sum(line.usd for line in result.lines if line.service in ("API Gateway", "WAF"))
            door[str(volume)] = door_usd / volume * 1e6
        rows.append({"front_door": label, "per_million_events_usd": total, "door_per_million_events_usd": door})
    return rows


def front_door_table(payload_bytes: int, settings: PipelineSettings, assumptions: Assumptions | None = None) -> str:
    """Per-million cost at 1 M, 10 M and 100 M events a month for each front door (Markdown); the API
    Gateway + WAF share of it in brackets."""
    rows = ["| | " + " | ".join(f"{v // 1_000_000} M/month" for v in VOLUMES) + " |", "|---|" + "---:|" * len(VOLUMES)]
    for row in front_door_rows(payload_bytes, settings, assumptions):
        totals, doors = row["per_million_events_usd"].values(), row["door_per_million_events_usd"].values()
        cells = [f"${total:.2f} (${door:.2f})" for total, door in zip(totals, doors, strict=True)]
        rows.append(f"| {row['front_door']} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def _size_range(sizes: list[int]) -> str:
    low, high = min(sizes), max(sizes)
    return f"{low:,} B" if low == high else f"{low:,}-{high:,} B"


def _log_usd(gb: float, volumes: Volumes) -> float:
    """Ingestion plus storage of `gb` ingested a month, kept as the stack keeps its log groups."""
    p, months_kept = volumes.prices, min(volumes.settings.log_retention_days / 30, 12)
    return (
        gb * p["cloudwatch_logs_ingestion_per_gb"]
        + gb * months_kept * volumes.assumptions.log_storage_compression * p["cloudwatch_logs_storage_per_gb_month"]
    )


def metric_log_lines(volumes: Volumes) -> list[Line]:
    """The EMF lines the functions print (one per validator invocation, one per router invocation): log
    volume like any other line, which the model left out before issue 20."""
    a = volumes.assumptions
    gb = (volumes.events * a.validator_metric_log_bytes + volumes.router_invocations * a.router_metric_log_bytes) / 1e9
    return [Line("CloudWatch Logs", f"metric lines (EMF): {gb:.2f} GB, one per invocation", _log_usd(gb, volumes))]


def quarantine_lines(volumes: Volumes, payload_bytes: int) -> list[Line]:
    """The quarantine table (handlers/quarantine.py): one write per verified delivery the door refuses
    (none in normal traffic; `Assumptions.quarantined_fraction`) and its storage with point-in-time
    recovery, each item kept `QUARANTINE_RETENTION_DAYS` after its last refusal, so a steady month holds 3
    months of them. An item is the body as posted (uncompressed) plus `quarantine_item_extra_bytes` of
    headers, request context and refusal; DynamoDB adds its per-item storage overhead."""
    a = volumes.assumptions
    kept = volumes.events * a.quarantined_fraction
    item_bytes = payload_bytes + a.quarantine_item_extra_bytes
    units = math.ceil(item_bytes / DYNAMODB_WRITE_UNIT_BYTES)
    p = volumes.prices
    gb = kept * QUARANTINE_RETENTION_DAYS / 30 * (item_bytes + DYNAMODB_ITEM_STORAGE_OVERHEAD_BYTES) / 1e9
    return [
        Line("DynamoDB", f"quarantine: {kept:,.0f} refused verified deliveries kept ({item_bytes:,} B, {units} WRU)",
             kept * units / 1e6 * p["dynamodb_on_demand_per_million_write_units"]),
        Line("DynamoDB", f"quarantine storage + PITR: {gb:.2f} GB kept {QUARANTINE_RETENTION_DAYS} days",
             gb * (p["dynamodb_storage_per_gb_month"] + p["dynamodb_pitr_per_gb_month"])),
    ]  # fmt: skip


VOLUMES = (1_000_000, 10_000_000, 100_000_000)
# Each step adds one reduction (a `Reductions` field) to the step above, in the order they were made.
_STEP_FIELDS = (
    ("+ payload stored compressed", "compressed_payload"),
    ("+ X-Ray sampling rule", "sampling_rule"),
    ("+ trimmed router log line", "trimmed_log_lines"),
    ("+ WAF logs of blocked requests only", "waf_logs_blocked_only"),
    ("+ sampling rule without the 1/s reservoir", "sampling_without_reservoir"),
    ("+ preset-dictionary payload codec (zlib-dict-1)", "dictionary_payload"),
    ("+ Lambda platform lines at WARN (validator, router)", "quiet_platform_logs"),
    ("+ trimmed access-log line", "trimmed_access_log"),
)


def _steps() -> tuple[tuple[str, Reductions], ...]:
    steps, current = [("before the reductions", Reductions.none())], Reductions.none()
    for label, field in _STEP_FIELDS:
        current = dataclasses.replace(current, **{field: True})
        steps.append((label, current))
    assert steps[-1][1] == Reductions(), "every reduction is a step"
    return (*steps[:-1], (steps[-1][0] + " (= now)", steps[-1][1]))


REDUCTION_STEPS = _steps()


def reduction_rows(
    payload_bytes: int, settings: PipelineSettings, assumptions: Assumptions | None = None
) -> list[dict[str, Any]]:
    """Per-million cost (USD) at each of `VOLUMES` events a month, each reduction added in turn: one
    `{"step", "per_million_events_usd": {events: usd}}` per step (the `--json` form of `reduction_table`)."""
    return [
        {
            "step": label,
            "per_million_events_usd": {
                str(v): estimate(v, payload_bytes, settings, assumptions, reductions=reductions).per_million_events_usd
                for v in VOLUMES
            },
        }
        for label, reductions in REDUCTION_STEPS
    ]


def reduction_table(payload_bytes: int, settings: PipelineSettings, assumptions: Assumptions | None = None) -> str:
    """Per-million cost at 1 M, 10 M and 100 M events a month, each reduction added in turn (Markdown)."""
    rows = ["| | " + " | ".join(f"{v // 1_000_000} M/month" for v in VOLUMES) + " |", "|---|" + "---:|" * len(VOLUMES)]
    for row in reduction_rows(payload_bytes, settings, assumptions):
        cells = [f"${usd:.2f}" for usd in row["per_million_events_usd"].values()]
        rows.append(f"| {row['step']} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def render(estimate_: Estimate, environment: str, payload_from: str = "") -> str:
    """The estimate as a table; `payload_from` says where the priced payload size came from."""
    width = max(len(line.item) for line in estimate_.lines)
    rows = [f"  {line.service:<16} {line.item:<{width}} {line.usd:>11,.2f}" for line in estimate_.lines]
    return "\n".join([
        f"Monthly AWS cost of webhook-pipeline-{environment}: {estimate_.events_per_month:,} events of "
        f"{estimate_.payload_bytes:,} B{f' ({payload_from})' if payload_from else ''} "
        "(us-east-1 list prices, free tiers left out)",
        *rows,
        f"  {'total':<16} {'':<{width}} {estimate_.total_usd:>11,.2f}",
        f"per million events: ${estimate_.per_million_events_usd:,.2f}",
    ])  # fmt: skip


def as_dict(estimate_: Estimate) -> dict[str, Any]:
    return {
        "events_per_month": estimate_.events_per_month,
        "payload_bytes": estimate_.payload_bytes,
        "lines": [dataclasses.asdict(line) for line in estimate_.lines],
        "total_usd": estimate_.total_usd,
        "per_million_events_usd": estimate_.per_million_events_usd,
    }


# --- the reconciler (issue 19): its own lines, added through EXTRA_VOLUMES ------------------------------

# Events per page of each provider's listing call (handlers/reconcile_apis/*.PAGE_SIZE; a test keeps them equal).
RECONCILE_PAGE_SIZES = {"stripe": 100, "paddle": 200, "gocardless": 500, "square": 100, "mollie-classic": 250}
# State-level providers: every run lists its whole lookback (objects, not events), in these many lists.
STATE_LEVEL_LISTS = {"mollie-classic": 3}  # chargebacks, refunds, payments
# What one run publishes per source (handlers/reconciler.py `publish`) and alarms on (modules/reconciler.py).
RECONCILE_METRICS_PER_SOURCE = 6
RECONCILE_ALARMS_PER_SOURCE = 4


@dataclasses.dataclass(frozen=True)
class ReconcileAssumptions:
    """What the configuration cannot say about a reconciler's month."""

    # A listing call to the provider, TLS set-up included, from a cold container: Stripe/Paddle answer
    # a 100-event page in about a quarter of a second; rounded up.
    api_call_ms: float = 400.0
    aws_call_ms: float = 8.0  # one in-region DynamoDB or Secrets Manager call
    state_calls_per_run: int = 3  # checkpoint GetItem, seen-set BatchGetItem, checkpoint UpdateItem
    run_log_bytes: int = 900  # the run's report line (INFO) besides Lambda's START/END/REPORT lines
    seen_item_bytes: int = 100  # one seen-set item (key and TTL)


@dataclasses.dataclass(frozen=True)
class ReconcileVolume:
    """One reconciling source's month: runs (Lambda invocations), provider API calls, DynamoDB units."""

    source: str
    provider: str
    interval_minutes: int
    runs: float
    api_calls: float
    events_listed: float
    state_read_units: float
    state_write_units: float
    event_write_units: float
    pages_per_run: float = 1.0
    max_requests_per_run: int = 200

    @property
    def over_budget(self) -> bool:
        """A run needs more calls than its budget: it stops short every time and never advances."""
        return self.pages_per_run > self.max_requests_per_run


def reconcile_volumes(events: int, settings: PipelineSettings, item_bytes: int) -> list[ReconcileVolume]:
    """Per reconciling source, for `events` a month spread evenly over the environment's sources.

    Each run lists what was created since its checkpoint minus `overlap_minutes`, so an event is listed
    (interval + overlap) / interval times; each page is one call (plus Square's one `PUT
    /v2/events/enable`, once). Each newly listed event costs one seen-set read (eventually consistent,
    half a read unit), one seen-set write, and one conditional PutItem of its canonical item through the
    door (charged even when the door already holds it, as a failed conditional write is); the overlap's
    repeats cost only the read. Per run: the checkpoint read (consistent) and write."""
    reconciling = [source for source in settings.sources if source.reconcile is not None]
    if not reconciling:
        return []
    share = events / max(1, len(settings.sources))
    volumes = []
    for source in reconciling:
        config = source.reconcile
        assert config is not None
        runs = SECONDS_PER_MONTH / 60 / config.interval_minutes
        listed = share * (config.interval_minutes + config.overlap_minutes) / config.interval_minutes
        page = RECONCILE_PAGE_SIZES[source.provider]
        pages_per_run = max(1.0, math.ceil(listed / runs / page))
        lists = STATE_LEVEL_LISTS.get(source.provider)
        api_calls = runs * pages_per_run
        if lists is not None:
            # A state-level run lists every object of its lookback (min(window, TTL - 1) days) again: each
            # fact is listed and looked up in the seen-set on every run; only new ones are written. With
            # `recent_days` (handlers/reconciler.py) one run a day lists the whole lookback and the others
            # only the last `recent_days`.
            lookback_days = min(config.window_days, settings.event_ttl_days - 1)
            recent_days = min(config.recent_days, lookback_days) if config.recent_days else lookback_days
            full_runs = min(runs, SECONDS_PER_MONTH / 86_400)  # one a day (every run when runs are daily)
            per_full_run = share * lookback_days / 30
            per_recent_run = share * recent_days / 30
            listed = full_runs * per_full_run + (runs - full_runs) * per_recent_run
            # The budget check takes the full run, the longest; the calls, each kind of run's pages.
            pages_per_run = max(1, math.ceil(per_full_run / page)) + (lists - 1)
            recent_pages = max(1, math.ceil(per_recent_run / page)) + (lists - 1)
            api_calls = full_runs * pages_per_run + (runs - full_runs) * recent_pages
        volumes.append(ReconcileVolume(
            source=source.name, provider=source.provider, interval_minutes=config.interval_minutes, runs=runs,
            api_calls=api_calls + (1 if source.provider == "square" else 0), events_listed=listed,
            state_read_units=runs * 1 + listed * 0.5, state_write_units=runs * 1 + share,
            event_write_units=share * math.ceil(item_bytes / DYNAMODB_WRITE_UNIT_BYTES),
            pages_per_run=pages_per_run, max_requests_per_run=config.max_requests_per_run,
        ))  # fmt: skip
    return volumes


# modules/reconciler.py's function settings (importing it would load the CDKTF bindings into the CLI;
# tests/tools/test_reconcile_cost.py holds them equal).
RECONCILER_MEMORY_MB = 256
RECONCILER_TIMEOUT_SECONDS = 300


def reconciler_lines(volumes: Volumes, assumptions: ReconcileAssumptions | None = None) -> list[Line]:
    """The reconciler's month (none without a reconciling source): Lambda, DynamoDB, Secrets Manager,
    KMS, CloudWatch. The providers' API calls cost nothing at AWS; their count is in the Lambda line."""
    a = assumptions or ReconcileAssumptions()
    settings, p, base = volumes.settings, volumes.prices, volumes.assumptions
    found = reconcile_volumes(volumes.events, settings, volumes.item_bytes)
    if not found:
        return []
    runs = sum(v.runs for v in found)
    calls = sum(v.api_calls for v in found)
    run_ms = (calls / runs) * a.api_call_ms + a.state_calls_per_run * a.aws_call_ms + a.aws_call_ms  # + the secret
    memory_mb = RECONCILER_MEMORY_MB
    listed = sum(v.events_listed for v in found)
    reads = sum(v.state_read_units for v in found)
    writes = sum(v.state_write_units for v in found) + sum(v.event_write_units for v in found)
    windows = {s.name: s.reconcile.window_days for s in settings.sources if s.reconcile is not None}
    seen_gb = (
        sum(v.events_listed * v.interval_minutes / (v.interval_minutes + 60) * (windows[v.source] / 30) for v in found)
        * a.seen_item_bytes
        / 1e9
    )
    log_gb = runs * (base.lambda_platform_log_bytes + a.run_log_bytes) / 1e9
    sources = len(found)
    per_source = ", ".join(
        f"{v.source} {v.api_calls:,.0f}"
        + (f" OVER max_requests_per_run: {v.pages_per_run:,.0f} pages a run" if v.over_budget else "")
        + (
            # A run stops at its request budget: only a budget raised that far can outlast the timeout.
            f" OVER the function's {RECONCILER_TIMEOUT_SECONDS} s timeout: ~"
            f"{min(v.pages_per_run, v.max_requests_per_run) * a.api_call_ms / 1000:,.0f} s of API calls a run"
            if min(v.pages_per_run, v.max_requests_per_run) * a.api_call_ms > RECONCILER_TIMEOUT_SECONDS * 1000
            else ""
        )
        for v in found
    )
    return [
        Line("Lambda", f"reconciler: {runs:,.0f} runs ({sources} sources), {math.ceil(run_ms)} ms at {memory_mb} MB; "
             f"provider API calls: {calls:,.0f} ({per_source})", _lambda_cost(runs, run_ms, memory_mb, p)),
        Line("DynamoDB", f"reconciler: {reads:,.0f} read units, {writes:,.0f} write units ({listed:,.0f} events listed, "
             "each new one put once through the door)",
             reads / 1e6 * p["dynamodb_on_demand_per_million_read_units"]
             + writes / 1e6 * p["dynamodb_on_demand_per_million_write_units"]
             + seen_gb * (p["dynamodb_storage_per_gb_month"] + p["dynamodb_pitr_per_gb_month"])),
        Line("Secrets Manager", f"reconciler: {sources} API-key secrets + {runs:,.0f} reads",
             sources * p["secrets_manager_per_secret_month"] + runs / 1e4 * p["secrets_manager_per_10k_calls"]),
        Line("KMS", f"reconciler: {3 * runs:,.0f} requests (secret, state table, events table per run)",
             3 * runs / 1e4 * p["kms_per_10k_requests"]),
        Line("CloudWatch", f"reconciler: {sources * RECONCILE_ALARMS_PER_SOURCE + 1} alarms, "
             f"{sources * RECONCILE_METRICS_PER_SOURCE} custom metrics (per source)",
             (sources * RECONCILE_ALARMS_PER_SOURCE + 1) * p["cloudwatch_alarm_per_month"]
             + sources * RECONCILE_METRICS_PER_SOURCE * p["cloudwatch_custom_metric_per_month"]),
        Line("CloudWatch Logs", f"reconciler: {log_gb * 1000:.1f} MB ingested", log_gb * p["cloudwatch_logs_ingestion_per_gb"]),
        Line("EventBridge", f"reconciler: {runs:,.0f} scheduled-rule invocations",
             runs / 1e6 * p["eventbridge_scheduled_rule_per_million_invocations"]),
    ]  # fmt: skip


def watchdog_lines(volumes: Volumes) -> list[Line]:
    """The quiet-source alarms (`expect_events_within_minutes`, any source; modules/reconciler.py)."""
    quiet = [source.name for source in volumes.settings.sources if source.expect_events_within_minutes]
    if not quiet:
        return []
    return [Line("CloudWatch", f"watchdog: {len(quiet)} quiet-source alarms ({', '.join(quiet)})",
                 len(quiet) * volumes.prices["cloudwatch_alarm_per_month"])]  # fmt: skip


EXTRA_VOLUMES.extend((reconciler_lines, watchdog_lines))


# --- amounts fetched at the door (GoCardless `"enrich": true`, handlers/enrichment.py) -----------------

# Of a GoCardless source's events, the share that are money facts (fetched): a Direct Debit payment sends
# created, submitted, confirmed, paid_out and payout events besides mandate events; the lifecycle test's
# story has 4 money facts in 14 events. Rounded up.
ENRICH_MONEY_FACT_SHARE = 0.3
# One call to the provider's API from the validator, TLS set-up included: the capacity model's assumption
# (modules/capacity.py DOOR_FETCH_TYPICAL_SECONDS, 0.25 s), one figure for both models.
ENRICH_FETCH_MS = DOOR_FETCH_TYPICAL_SECONDS * 1000
ENRICH_SECRET_CACHE_SECONDS = 300  # handlers/validator.py SECRET_CACHE_SECONDS: one read per warm container


def enrichment_lines(volumes: Volumes) -> list[Line]:
    """The door's amount fetches: validator time (Lambda) and its reads of the API key. The calls cost
    nothing at AWS; the reconciler's fetches are for events the door missed only (not counted)."""
    enriching = [source.name for source in volumes.settings.sources if source.enrich]
    if not enriching:
        return []
    share = volumes.events / max(1, len(volumes.settings.sources))
    calls = share * ENRICH_MONEY_FACT_SHARE * len(enriching)
    memory_mb = volumes.settings.validator_memory_mb
    reads = len(enriching) * SECONDS_PER_MONTH / ENRICH_SECRET_CACHE_SECONDS
    p = volumes.prices
    lambda_usd = calls * ENRICH_FETCH_MS / 1000 * memory_mb / 1024 * p["lambda_arm64_per_gb_second"]
    return [
        Line("Lambda", f"enrichment: {calls:,.0f} amount fetches at the door ({', '.join(enriching)}), "
             f"{ENRICH_FETCH_MS:.0f} ms each at {memory_mb} MB", lambda_usd),
        Line("Secrets Manager", f"enrichment: {reads:,.0f} API-key reads by the validator (cached {ENRICH_SECRET_CACHE_SECONDS} s)",
             reads / 1e4 * p["secrets_manager_per_10k_calls"]),
    ]  # fmt: skip


EXTRA_VOLUMES.append(enrichment_lines)


# --- the door's own fetch (a provider whose SPEC `fetches_at_door`: mollie-classic) ---------------------


def door_fetch_lines(volumes: Volumes) -> list[Line]:
    """The fetch that authenticates a delivery of a `fetches_at_door` provider (mollie-classic's `GET
    /v2/payments/{id}`, handlers/providers/mollie_classic.py): every delivery fetches, money fact or not,
    and holds the validator for `DOOR_FETCH_TYPICAL_SECONDS` (Lambda GB-seconds on top of its own line).
    Events are spread evenly over the environment's sources, as `enrichment_lines` assumes. The API key is
    in the source's own secret (its `secrets` list, handlers/validator.py `_source_keys`), whose reads the
    signing-secrets line already counts. The calls cost nothing at AWS."""
    fetching = [s.name for s in volumes.settings.sources if PROVIDER_SPECS[s.provider].fetches_at_door]
    if not fetching:
        return []
    share = volumes.events / max(1, len(volumes.settings.sources))
    calls = share * len(fetching)
    memory_mb = volumes.settings.validator_memory_mb
    p = volumes.prices
    lambda_usd = calls * DOOR_FETCH_TYPICAL_SECONDS * memory_mb / 1024 * p["lambda_arm64_per_gb_second"]
    return [
        Line("Lambda", f"door fetch: {calls:,.0f} deliveries fetched from the provider's API ({', '.join(fetching)}), "
             f"{DOOR_FETCH_TYPICAL_SECONDS * 1000:.0f} ms each at {memory_mb} MB", lambda_usd),
    ]  # fmt: skip


EXTRA_VOLUMES.append(door_fetch_lines)
