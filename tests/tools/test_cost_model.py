"""The cost model's arithmetic, line by line, on round numbers and a one-dollar price table."""

from __future__ import annotations

import dataclasses
import json
import math

import pytest

from modules.config import load_settings
from pipeline_tools.__main__ import main
from pipeline_tools.cost_model import (
    EXTRA_VOLUMES,
    PRICES,
    WAF_RULES,
    Assumptions,
    CostInputError,
    Estimate,
    Line,
    Reductions,
    estimate,
    load_prices,
    router_records_per_invocation,
    sqs_send_requests,
)
from tests.conftest import PIPELINE
from tests.infrastructure.synth import SynthesizedApp

SETTINGS = load_settings("test", declared=True)
ASSUME = Assumptions(validator_cpu_ms=0.5, router_cpu_ms_per_record=0.1, aws_round_trip_ms=7.5)
MONTH = 30 * 86_400


def _line(result: Estimate, service: str, starts: str = "") -> float:
    [line] = [line for line in result.lines if line.service == service and line.item.startswith(starts)]
    return line.usd


def _service(result: Estimate, service: str) -> float:
    return sum(line.usd for line in result.lines if line.service == service)


def test_every_price_has_a_source_and_a_date() -> None:
    entries = {k: v for k, v in json.loads(PRICES.read_text()).items() if not k.startswith("_")}
    assert entries and all(v["source"].startswith("https://aws.amazon.com/") and v["as_of"] for v in entries.values())


def test_per_request_lines_scale_with_the_price_table() -> None:
    prices = load_prices()
    result = estimate(2_000_000, 2048, SETTINGS, ASSUME, prices, Reductions.none())
    assert _line(result, "API Gateway") == pytest.approx(2 * prices["api_gateway_rest_per_million_requests"])
    # 2048 B payload + 350 B of attributes = 2398 B -> 3 write units per event
    assert _line(result, "DynamoDB", "2,000,000 writes") == pytest.approx(
        2 * 3 * prices["dynamodb_on_demand_per_million_write_units"]
    )
    # the validator bills ceil(0.5 + 7.5) = 8 ms at 512 MB
    gb_seconds = 2_000_000 * 0.008 * 0.5
    expected = gb_seconds * prices["lambda_arm64_per_gb_second"] + 2 * prices["lambda_per_million_requests"]
    assert _line(result, "Lambda", "validator") == pytest.approx(expected)


def test_storage_follows_the_ttl() -> None:
    prices = load_prices()
    none = Reductions.none()
    short = estimate(1_000_000, 650, dataclasses.replace(SETTINGS, event_ttl_days=15), ASSUME, prices, none)
    long = estimate(1_000_000, 650, dataclasses.replace(SETTINGS, event_ttl_days=30), ASSUME, prices, none)
    gb_kept_30_days = 1_000_000 * 1000 / 1e9  # 650 + 350 B per item
    per_gb = prices["dynamodb_storage_per_gb_month"] + prices["dynamodb_pitr_per_gb_month"]
    assert _line(long, "DynamoDB", "storage") == pytest.approx(gb_kept_30_days * per_gb)
    assert _line(short, "DynamoDB", "storage") == pytest.approx(_line(long, "DynamoDB", "storage") / 2)


def test_router_batches_what_one_window_brings_up_to_the_batch_size() -> None:
    assert router_records_per_invocation(MONTH // 100, SETTINGS) == 1.0  # one event per 100 s
    assert router_records_per_invocation(50 * MONTH, SETTINGS) == pytest.approx(50.0)  # 50/s, 1 s window
    assert router_records_per_invocation(10_000 * MONTH, SETTINGS) == SETTINGS.router_batch_size


def test_sqs_requests_batch_by_ten_and_bill_64_kb_chunks() -> None:
    assert sqs_send_requests(300, 30, 1000) == pytest.approx(30)  # 10 per call, one chunk each
    assert sqs_send_requests(300, 30, 10_000) == pytest.approx(30 * math.ceil(100_000 / 65_536))
    assert sqs_send_requests(300, 1, 1000) == pytest.approx(300)  # unbatched at low rates


def test_waf_only_when_enabled_and_total_is_the_sum() -> None:
    prices = load_prices()
    plain = estimate(1_000_000, 2048, SETTINGS, ASSUME, prices)
    walled = estimate(1_000_000, 2048, dataclasses.replace(SETTINGS, waf_enabled=True), ASSUME, prices)
    waf = (
        prices["waf_web_acl_per_month"] + WAF_RULES * prices["waf_rule_per_month"] + prices["waf_per_million_requests"]
    )
    assert walled.total_usd - plain.total_usd == pytest.approx(waf)
    assert plain.total_usd == pytest.approx(sum(line.usd for line in plain.lines))
    assert plain.per_million_events_usd == pytest.approx(plain.total_usd)


@pytest.mark.parametrize(
    ("events", "payload", "message"), [(0, 10, "events"), (10, 0, "payload"), (10, 200_000, "payload")]
)
def test_bad_inputs_name_the_input(events: int, payload: int, message: str) -> None:
    with pytest.raises(CostInputError, match=message):
        estimate(events, payload, SETTINGS, ASSUME)


def test_alarm_count_matches_the_stack(app: SynthesizedApp) -> None:
    assert Assumptions().alarms == len(app.config(PIPELINE)["resource"]["aws_cloudwatch_metric_alarm"])


def test_cli_prints_a_total_and_refuses_bad_numbers(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["cost", "--events-per-month", "1,000,000", "--environment", "dev"]) == 0
    assert "per million events: $" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exit_:
        main(["cost", "--events-per-month", "-5"])
    assert exit_.value.code == 2


def test_waf_rule_count_matches_the_stack(prod_app: SynthesizedApp) -> None:
    [acl] = prod_app.config("webhook-pipeline-prod")["resource"]["aws_wafv2_web_acl"].values()
    assert len(acl["rule"]) == WAF_RULES


def test_each_reduction_lowers_the_line_it_is_about() -> None:
    prices, settings = load_prices(), dataclasses.replace(SETTINGS, waf_enabled=True, xray_sampling_rule=True)
    before = estimate(100_000_000, 2048, settings, ASSUME, prices, Reductions.none())
    after = estimate(100_000_000, 2048, settings, ASSUME, prices, Reductions())
    # 2048 B x 0.40 + 350 B = 1,170 B: 2 write units instead of 3
    assert _line(after, "DynamoDB", "100,000,000 writes") == pytest.approx(
        _line(before, "DynamoDB", "100,000,000 writes") * 2 / 3
    )
    assert _line(after, "DynamoDB", "storage") < 0.5 * _line(before, "DynamoDB", "storage")
    assert _line(after, "X-Ray", "deliveries") < 0.5 * _line(before, "X-Ray", "deliveries")
    assert _service(after, "CloudWatch Logs") < _service(before, "CloudWatch Logs")
    assert _line(after, "WAF", "logs") == 0 < _line(before, "WAF", "logs")
    assert _line(after, "X-Ray", "router") == _line(before, "X-Ray", "router")  # Lambda's own, not ours to set
    # Without the 1/s reservoir (issue 20) the rule traces 1 % of deliveries: 1 M of 100 M.
    assert "1,000,000 traces" in next(line.item for line in after.lines if line.item.startswith("deliveries"))


def test_the_metric_lines_and_the_quarantine_are_counted() -> None:
    prices = load_prices()
    plain = estimate(10_000_000, 2048, SETTINGS, ASSUME, prices)
    expected_gb = (10_000_000 * ASSUME.validator_metric_log_bytes
                   + router_records_per_invocation(10_000_000, SETTINGS) ** -1 * 10_000_000
                   * ASSUME.router_metric_log_bytes) / 1e9  # fmt: skip
    assert _line(plain, "CloudWatch Logs", "metric lines") >= expected_gb * prices["cloudwatch_logs_ingestion_per_gb"]
    kept = estimate(10_000_000, 2048, SETTINGS, dataclasses.replace(ASSUME, quarantined_fraction=0.01), prices)
    assert _line(kept, "DynamoDB", "quarantine") == pytest.approx(
        100_000 * 3 / 1e6 * prices["dynamodb_on_demand_per_million_write_units"]
    )  # 2,048 + 350 B: 3 write units, uncompressed


def test_the_models_sampling_rule_is_the_synthesized_one(prod_app: SynthesizedApp) -> None:
    [rule] = prod_app.config("webhook-pipeline-prod")["resource"]["aws_xray_sampling_rule"].values()
    assert rule["reservoir_size"] == Assumptions().xray_rule_reservoir_per_second
    assert rule["fixed_rate"] == Assumptions().xray_rule_rate


def test_every_volume_is_counted_and_others_can_add_theirs(monkeypatch: pytest.MonkeyPatch) -> None:
    prices = load_prices()
    plain = estimate(10_000_000, 2048, SETTINGS, ASSUME, prices)
    assert {line.service for line in plain.lines} >= {"API Gateway", "Lambda", "DynamoDB", "SQS", "KMS",
                                                       "Secrets Manager", "CloudWatch Logs", "CloudWatch", "X-Ray"}  # fmt: skip
    assert any(line.item.startswith("router:") for line in plain.lines if line.service == "X-Ray")
    monkeypatch.setattr(
        "pipeline_tools.cost_model.EXTRA_VOLUMES", [*EXTRA_VOLUMES, lambda v: [Line("Lambda", "x", 1.0)]]
    )
    assert estimate(10_000_000, 2048, SETTINGS, ASSUME, prices).total_usd == pytest.approx(plain.total_usd + 1.0)
