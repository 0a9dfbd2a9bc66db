"""The capacity contract (modules/capacity.py) against the synthesized configuration.

The sized limits are the ones the synth writes; the defaults take the contract's burst with zero 4xx
through API Gateway's token bucket; a combination that cannot meet the contract is refused naming
its limit; the prod WAF never blocks a provider's burst from 3 IPs and blocks a flood of unsigned
requests (evaluated against the synthesized rules, with WAF's trailing 300 s window).
"""

from __future__ import annotations

import collections
import dataclasses
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from modules.capacity import CapacityError, plan_capacity
from modules.config import CONFIG_DIR, ConfigError, load_settings
from modules.stored_item import STORED_PAYLOAD_SAMPLES
from modules.waf import SIGNED_LABEL, signed_statement
from tests.infrastructure.synth import SynthesizedApp

PROD_STACK = "webhook-pipeline-prod"


def resources(config: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return list(config["resource"].get(kind, {}).values())


def settings_with(tmp_path: Path, override: dict[str, Any], environment: str = "qa") -> Any:
    shutil.copy(CONFIG_DIR / "default.json", tmp_path / "default.json")
    (tmp_path / f"{environment}.json").write_text(json.dumps(override))
    return load_settings(environment, tmp_path)


def test_the_synth_writes_the_sized_limits(prod_app: SynthesizedApp) -> None:
    config = prod_app.config(PROD_STACK)
    plan = plan_capacity(load_settings("prod"))
    [method] = resources(config, "aws_api_gateway_method_settings")
    assert method["settings"]["throttling_rate_limit"] == plan.api_rate_limit
    assert method["settings"]["throttling_burst_limit"] == plan.api_burst_limit
    functions = {f["function_name"]: f for f in resources(config, "aws_lambda_function")}
    assert functions["webhook-validator-prod"]["reserved_concurrent_executions"] == plan.validator_concurrency
    assert functions["event-router-prod"]["reserved_concurrent_executions"] == plan.router_concurrency
    [mapping] = resources(config, "aws_lambda_event_source_mapping")
    assert mapping["parallelization_factor"] == plan.parallelization_factor
    [acl] = resources(config, "aws_wafv2_web_acl")
    limits = {rule["name"]: rule["statement"].get("rate_based_statement", {}).get("limit") for rule in acl["rule"]}
    assert limits["rate-limit-unsigned-per-ip"] == plan.waf_unsigned_limit_per_5min == 2000
    assert limits["rate-limit-per-ip"] == plan.waf_signed_limit_per_5min
    alarms = {a["metric_name"] for a in resources(config, "aws_cloudwatch_metric_alarm")}
    assert "IteratorAge" in alarms


@pytest.mark.parametrize("environment", ["dev", "prod", "sandbox"])
def test_every_stage_meets_the_contract_and_the_router_keeps_up_twice_over(environment: str) -> None:
    settings = load_settings(environment)
    plan = plan_capacity(settings)
    for stage in plan.stages:
        assert stage.burst_events_per_second >= settings.burst_events_per_second, stage
        assert stage.sustained_events_per_second >= settings.peak_events_per_second, stage
    from modules.capacity import DYNAMODB_PARTITION_WCU, router_records_per_second

    per_shard = plan.parallelization_factor * router_records_per_second(settings.router_batch_size)
    assert per_shard >= 2 * DYNAMODB_PARTITION_WCU  # a partition's full write rate, in 1 KB items


def api_gateway_refusals(rate: int, bucket: int, profile: list[tuple[float, float]], tick: float = 0.01) -> int:
    """Requests API Gateway's token bucket refuses (429) for a profile of (events/s, seconds)."""
    tokens, refused, owed = float(bucket), 0, 0.0
    for events_per_second, seconds in profile:
        for _ in range(round(seconds / tick)):
            tokens = min(float(bucket), tokens + rate * tick)
            owed += events_per_second * tick
            arriving = int(owed)
            owed -= arriving
            served = min(arriving, int(tokens))
            tokens -= served
            refused += arriving - served
    return refused


def burst_profile(settings: Any) -> list[tuple[float, float]]:
    return [
        (settings.peak_events_per_second, 30),
        (settings.burst_events_per_second, settings.burst_seconds),
        (settings.peak_events_per_second, 30),
    ]


@pytest.mark.parametrize("environment", ["dev", "prod"])
def test_the_defaults_absorb_the_contracts_burst_with_zero_429(environment: str) -> None:
    settings = load_settings(environment)
    plan = plan_capacity(settings)
    assert api_gateway_refusals(plan.api_rate_limit, plan.api_burst_limit, burst_profile(settings)) == 0


def test_the_old_stage_throttle_refused_most_of_such_a_burst() -> None:
    """The model can fail: 500 rps / burst 1,000 (the old defaults) against a 10x burst."""
    settings = load_settings("dev")
    refused = api_gateway_refusals(500, 1000, burst_profile(settings))
    assert refused > 0.4 * settings.burst_events_per_second * settings.burst_seconds


@pytest.mark.parametrize(
    ("override", "names"),
    [
        ({"api_throttle_rate_limit": 500, "api_throttle_burst_limit": 1000}, ["API Gateway stage throttle",
                                                                              "api_throttle_rate_limit", "429"]),
        ({"validator_reserved_concurrency": 50}, ["validator concurrency", "validator_reserved_concurrency", "500"]),
        ({"typical_payload_bytes": 16000}, ["DynamoDB on-demand writes", "typical_payload_bytes", "503"]),
        ({"burst_events_per_second": 6000}, ["reserved concurrency", "lambda_account_concurrency"]),
        ({"burst_events_per_second": 9000, "lambda_account_concurrency": 5000}, ["API Gateway's account limit"]),
        ({"waf_enabled": True, "waf_signed_rate_limit_per_5min": 2000}, ["WAF rate rule", "403"]),
        ({"router_reserved_concurrency": 1, "router_batch_size": 10}, ["router", "router_reserved_concurrency"]),
    ],
)  # fmt: skip
def test_a_combination_that_cannot_meet_the_contract_is_refused_naming_the_limit(
    tmp_path: Path, override: dict[str, Any], names: list[str]
) -> None:
    with pytest.raises(CapacityError) as error:
        plan_capacity(settings_with(tmp_path, override))
    for name in names:
        assert name in str(error.value)


def test_an_account_too_small_to_reserve_can_opt_out(tmp_path: Path) -> None:
    settings = settings_with(
        tmp_path,
        {"lambda_account_concurrency": 10, "reserve_concurrency": False, "peak_events_per_second": 10,
         "burst_events_per_second": 50},
    )  # fmt: skip
    plan = plan_capacity(settings)
    assert plan.reserved_validator_concurrency is None and plan.reserved_router_concurrency is None
    [validator] = [stage for stage in plan.stages if stage.name == "validator concurrency"]
    assert "unreserved" in validator.limit and validator.sustained_events_per_second == 10 / 0.1


# --- the WAF, evaluated -------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Request:
    ip: str
    path: str
    headers: dict[str, str]


def matches(statement: dict[str, Any], request: Request, labels: set[str]) -> bool:
    """The subset of WAF statement semantics our web ACL uses (header names are case-insensitive)."""
    if "or_statement" in statement:
        return any(matches(s, request, labels) for s in statement["or_statement"]["statement"])
    if "not_statement" in statement:
        [inner] = statement["not_statement"]["statement"]
        return not matches(inner, request, labels)
    if "label_match_statement" in statement:
        key = statement["label_match_statement"]["key"]
        return any(label == key or label.endswith(":" + key) for label in labels)
    if "size_constraint_statement" in statement:
        s = statement["size_constraint_statement"]
        assert s["comparison_operator"] == "GT"
        name = s["field_to_match"]["single_header"]["name"].lower()
        value = {k.lower(): v for k, v in request.headers.items()}.get(name)
        return value is not None and len(value) > s["size"]
    if "byte_match_statement" in statement:
        s = statement["byte_match_statement"]
        assert s["positional_constraint"] == "ENDS_WITH" and "uri_path" in s["field_to_match"]
        return request.path.endswith(s["search_string"])
    raise AssertionError(f"statement not modelled: {sorted(statement)}")


class WebAcl:
    """Evaluates the synthesized rules in priority order; rate rules count per IP over 300 s."""

    WINDOW = 300.0

    def __init__(self, acl: dict[str, Any]) -> None:
        self.rules = sorted(acl["rule"], key=lambda rule: rule["priority"])
        self.seen: dict[tuple[str, str], collections.deque[float]] = collections.defaultdict(collections.deque)

    def blocks(self, at: float, request: Request) -> bool:
        labels: set[str] = set()
        for rule in self.rules:
            statement = rule["statement"]
            if "managed_rule_group_statement" in statement:
                continue  # AWS's known-bad-inputs: nothing in these requests
            if "rate_based_statement" in statement:
                rate = statement["rate_based_statement"]
                assert rate["aggregate_key_type"] == "IP"
                scope = rate.get("scope_down_statement")
                if scope is not None and not matches(scope, request, labels):
                    continue
                window = self.seen[(rule["name"], request.ip)]
                window.append(at)
                while window[0] <= at - self.WINDOW:
                    window.popleft()
                if len(window) > rate["limit"] and "block" in rule["action"]:
                    return True
                continue
            if matches(statement, request, labels):
                if "block" in rule["action"]:
                    return True
                labels.update(label["name"] for label in rule.get("rule_label", []))
        return False


def run(acl: WebAcl, schedule: list[tuple[float, float]], requests: list[Request]) -> tuple[int, int]:
    """Send `requests` round robin at each (events/s, seconds) of `schedule`; return (sent, blocked)."""
    at, sent, blocked = 0.0, 0, 0
    for events_per_second, seconds in schedule:
        step = 1 / events_per_second
        for _ in range(round(events_per_second * seconds)):
            blocked += acl.blocks(at, requests[sent % len(requests)])
            sent += 1
            at += step
    return sent, blocked


@pytest.fixture(scope="module")
def prod_acl(prod_app: SynthesizedApp) -> dict[str, Any]:
    [acl] = resources(prod_app.config(PROD_STACK), "aws_wafv2_web_acl")
    return acl


def test_a_providers_burst_from_three_ips_is_never_blocked(prod_acl: dict[str, Any]) -> None:
    settings = load_settings("prod")
    ips = [f"198.51.100.{n}" for n in range(settings.provider_sending_ips)]
    provider = [Request(ip, "/v1/webhook", {"Webhook-Signature": "v1,abc", "webhook-id": "m"}) for ip in ips]
    schedule = [
        (settings.peak_events_per_second, 240),
        (settings.burst_events_per_second, settings.burst_seconds),
        (settings.peak_events_per_second, 300),
    ]
    sent, blocked = run(WebAcl(prod_acl), schedule, provider)
    assert sent > settings.burst_events_per_second * settings.burst_seconds
    assert blocked == 0


def test_a_flood_of_unsigned_requests_is_blocked(prod_acl: dict[str, Any]) -> None:
    flood = [Request("203.0.113.9", "/v1/webhook", {"content-type": "application/json"})]
    sent, blocked = run(WebAcl(prod_acl), [(50, 300)], flood)
    assert blocked == sent - 2000  # everything past the unsigned limit in the window


def test_a_flood_with_forged_signature_headers_is_blocked_past_a_providers_share(prod_acl: dict[str, Any]) -> None:
    plan = plan_capacity(load_settings("prod"))
    flood = [Request("203.0.113.9", "/v1/webhook", {"webhook-signature": "v1,forged"})]
    sent, blocked = run(WebAcl(prod_acl), [(500, 120)], flood)
    assert blocked == sent - plan.waf_signed_limit_per_5min > 0


def test_body_signed_routes_count_as_signed() -> None:
    statement = signed_statement(["webhook-signature", "stripe-signature"], ["/webhook/adyen-eu"])
    assert matches(statement, Request("1", "/v1/webhook/adyen-eu", {}), set())
    assert matches(statement, Request("1", "/v1/webhook/stripe", {"Stripe-Signature": "t=1,v1=x"}), set())
    assert not matches(statement, Request("1", "/v1/webhook/stripe", {"Stripe-Signature": ""}), set())
    assert not matches(statement, Request("1", "/v1/webhook/stripe", {}), set())
    assert SIGNED_LABEL == "webhook:signed"


def test_the_tables_write_units_are_the_stored_items_the_cost_model_prices() -> None:
    """`capacity` and `cost` read one item-size model (modules/stored_item.py): capacity holds the worst
    held-out sample's write units, cost their mean, so the capacity figure is never the cheaper one."""
    from modules.capacity import write_units_per_event
    from pipeline_tools.cost_model import Assumptions, estimate

    units = write_units_per_event(2048)
    assert units == 2  # every 2 KB sample compressed fits 2 write units; as text (2,444 B) it would take 3
    priced = estimate(1_000_000, 2048, load_settings("prod"), Assumptions(validator_cpu_ms=0.3))
    dynamodb = next(line for line in priced.lines if line.service == "DynamoDB" and "WRU" in line.item)
    mean = float(dynamodb.item.split(" x ")[1].split(" WRU")[0])
    assert 1 <= mean <= units
    # A body no sample compresses under one unit, and the door's largest: the units grow with the payload.
    assert write_units_per_event(100) == 1
    assert write_units_per_event(100 * 1024) == max(
        -(-(-(-100 * 1024 * ratio // 1) + other) // 1024) for ratio, other in STORED_PAYLOAD_SAMPLES["zlib-dict-1"]
    )


def test_a_burst_past_a_new_tables_writes_needs_the_warm_throughput_set_on_the_table(tmp_path: Path) -> None:
    """A new on-demand table takes 4,000 write units/s at once (2,000 events/s of 2 KB): a 3,000/s burst is
    refused naming the setting; with the table's warm throughput declared it is sized, partitions included."""
    with pytest.raises(CapacityError) as error:
        plan_capacity(settings_with(tmp_path, {"burst_events_per_second": 3000}))
    for words in ("DynamoDB on-demand writes (new table)", "dynamodb_warm_write_units_per_second", "update-table"):
        assert words in str(error.value), words
    plan = plan_capacity(
        settings_with(tmp_path, {"burst_events_per_second": 3000, "dynamodb_warm_write_units_per_second": 8000})
    )
    [table] = [stage for stage in plan.stages if stage.name.startswith("DynamoDB")]
    assert table.burst_events_per_second == 8000 / 2 and "warm throughput" in table.name
    assert plan.shards == 8  # one stream shard per 1,000 WCU partition: the router is sized for all of them
    with pytest.raises(ConfigError, match="dynamodb_warm_write_units_per_second"):
        settings_with(tmp_path, {"dynamodb_warm_write_units_per_second": 100})


def test_reserved_concurrency_without_reserving_is_refused_not_ignored(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="'validator_reserved_concurrency' cannot apply with 'reserve_concurrency'"):
        settings_with(tmp_path, {"reserve_concurrency": False, "validator_reserved_concurrency": 5})


def test_a_signed_limit_the_peak_alone_exhausts_leaves_no_burst_not_a_negative_one(tmp_path: Path) -> None:
    """1,000 per 5 min per IP from 3 IPs is 3,000: the peak's 100/s x 240 s takes 24,000 of the window."""
    with pytest.raises(CapacityError) as error:
        plan_capacity(settings_with(tmp_path, {"waf_enabled": True, "waf_signed_rate_limit_per_5min": 1000}))
    assert "takes 0 events/s" in str(error.value) and "-" not in str(error.value).split("takes ")[1].split(" ")[0]
