"""The front door's line of the cost model (`front_door_line`) and `cost --front-door` (docs/FRONT-DOOR.md)."""

from __future__ import annotations

import dataclasses
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from modules.config import load_settings
from pipeline_tools.__main__ import main
from pipeline_tools.cost_model import (
    PRICES,
    Assumptions,
    estimate,
    front_door_line,
    front_door_table,
    load_prices,
)

SETTINGS = load_settings("test", declared=True)
HTTP = dataclasses.replace(SETTINGS, front_door="http_api")
ASSUME = Assumptions(validator_cpu_ms=0.5, router_cpu_ms_per_record=0.1, aws_round_trip_ms=7.5)


def test_the_http_api_price_is_recorded_with_its_source() -> None:
    entry = json.loads(PRICES.read_text())["api_gateway_http_per_million_requests"]
    assert entry["usd"] == 1.00 and entry["source"] == "https://aws.amazon.com/api-gateway/pricing/"
    assert "300 million" in entry["note"] and "512 KB" in entry["note"]


@given(events=st.integers(1, 300_000_000), payload=st.integers(1, 100 * 1024))
def test_a_delivery_is_one_metered_request_at_each_door(events: int, payload: int) -> None:
    prices = load_prices()
    rest = front_door_line(events, payload, SETTINGS, prices)
    http = front_door_line(events, payload, HTTP, prices)
    assert rest.usd == pytest.approx(events / 1e6 * prices["api_gateway_rest_per_million_requests"])
    assert http.usd == pytest.approx(events / 1e6 * prices["api_gateway_http_per_million_requests"])
    assert "HTTP API" in http.item and "REST" in rest.item


def test_a_body_over_512_kb_would_be_metered_twice_on_the_http_api() -> None:
    # Not reachable through the validator (100 KB limit); the metering rule itself.
    line = front_door_line(1_000_000, 512 * 1024 + 1, HTTP, {"api_gateway_http_per_million_requests": 1.0})
    assert line.usd == pytest.approx(2.0)


def test_behind_an_http_api_the_deliveries_are_traced_at_lambdas_fixed_rate() -> None:
    """No stage, no sampling rule: the validator's active tracing samples 1/s + 5 %."""
    events = 100_000_000
    rest = estimate(events, 2048, SETTINGS, ASSUME)
    http = estimate(events, 2048, HTTP, ASSUME)
    [rest_traces] = [line for line in rest.lines if line.item.startswith("deliveries")]
    [http_traces] = [line for line in http.lines if line.item.startswith("deliveries")]
    reservoir = 30 * 86_400
    assert http_traces.usd == pytest.approx((reservoir + 0.05 * (events - reservoir)) / 1e6 * 5.0, rel=1e-6)
    assert rest_traces.usd == pytest.approx(0.01 * events / 1e6 * 5.0, rel=1e-6)


def test_the_comparison_table_has_each_door_at_each_volume() -> None:
    table = front_door_table(2048, SETTINGS, ASSUME).splitlines()
    assert [row.split("|")[1].strip() for row in table[2:]] == ["REST API", "REST API + WAF", "HTTP API"]
    http_row = table[4]
    assert http_row.count("($1.00)") == 3  # the door's own share: $1.00 per million at every volume


def test_cost_front_door_prices_the_environment_with_that_door(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["cost", "--environment", "prod", "--events-per-month", "10_000_000", "--front-door", "http_api",
                 "--json"]) == 0  # fmt: skip
    model = json.loads(capsys.readouterr().out)
    services = {line["service"] for line in model["lines"]}
    assert "WAF" not in services  # prod's WAF cannot sit in front of an HTTP API
    [door] = [line for line in model["lines"] if line["service"] == "API Gateway"]
    assert door["usd"] == pytest.approx(10.0)
    assert main(["cost", "--environment", "prod", "--front-door", "compare"]) == 0
    assert "| HTTP API |" in capsys.readouterr().out


def test_requests_above_the_first_tier_are_priced_at_the_published_tiers() -> None:
    prices, settings = load_prices(), load_settings("test", declared=True)
    rest = front_door_line(1_000_000_000, 2048, settings, prices).usd
    assert rest == pytest.approx(333 * 3.50 + 667 * 2.80)  # https://aws.amazon.com/api-gateway/pricing/
    http = front_door_line(400_000_000, 2048, dataclasses.replace(settings, front_door="http_api"), prices).usd
    assert http == pytest.approx(300 * 1.00 + 100 * 0.90)
    assert front_door_line(1_000_000, 2048, settings, prices).usd == pytest.approx(3.50)
