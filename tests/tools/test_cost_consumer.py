"""The consumer side in the cost and capacity models: the FIFO premium on the money queues, the example
consumer's Lambda, table and pollers, and the FIFO queues' throughput stage."""

from __future__ import annotations

import dataclasses
import math

import pytest

from modules.capacity import SQS_FIFO_CALLS_PER_SECOND, CapacityError, fifo_calls_per_second, plan_capacity
from modules.config import load_settings
from pipeline_tools.cost_consumer import CONSUMER_ASSUMPTIONS
from pipeline_tools.cost_model import (
    SECONDS_PER_MONTH,
    Assumptions,
    Estimate,
    estimate,
    load_prices,
    router_records_per_invocation,
    sqs_send_requests,
)

SETTINGS = load_settings("test", declared=True)
FIFO = dataclasses.replace(SETTINGS, fifo_money_queues=True)
CONSUMER = dataclasses.replace(SETTINGS, example_consumer=True)
ASSUME = Assumptions(validator_cpu_ms=0.5, router_cpu_ms_per_record=0.1, aws_round_trip_ms=7.5)
EVENTS = 10_000_000


def _lines(result: Estimate, starts: str) -> list[float]:
    return [line.usd for line in result.lines if line.item.startswith(starts)]


def test_fifo_adds_the_price_difference_on_every_money_queue_request_and_nothing_else() -> None:
    prices = load_prices()
    assert prices["sqs_fifo_per_million_requests"] > prices["sqs_standard_per_million_requests"]
    standard = estimate(EVENTS, 2048, SETTINGS, ASSUME, prices)
    fifo = estimate(EVENTS, 2048, FIFO, ASSUME, prices)
    assert _lines(standard, "FIFO") == []
    [premium] = _lines(fifo, "FIFO money queues")
    size = 2048 + ASSUME.message_overhead_bytes
    sends = sqs_send_requests(EVENTS, router_records_per_invocation(EVENTS, FIFO), size)
    consumers = 2 * EVENTS / 10 * math.ceil(10 * size / 65_536)
    price = prices["sqs_fifo_per_million_requests"] - prices["sqs_standard_per_million_requests"]
    assert premium == pytest.approx((sends + consumers) / 1e6 * price)
    assert fifo.total_usd == pytest.approx(standard.total_usd + premium)
    # twice the price difference, twice the premium: the line reads the price table
    doubled = {**prices, "sqs_fifo_per_million_requests": prices["sqs_standard_per_million_requests"] + 2 * price}
    assert _lines(estimate(EVENTS, 2048, FIFO, ASSUME, doubled), "FIFO")[0] == pytest.approx(2 * premium)


def test_the_example_consumer_costs_its_reads_transactional_writes_lambda_and_polls() -> None:
    prices = load_prices()
    without = estimate(EVENTS, 2048, SETTINGS, ASSUME, prices)
    with_consumer = estimate(EVENTS, 2048, CONSUMER, ASSUME, prices)
    assert not [line for line in without.lines if "example" in line.item]
    [dynamodb] = _lines(with_consumer, "example ledger: ")
    # per fact: 2 strongly consistent reads, 3 items in one transaction at 2 WRU each
    assert dynamodb == pytest.approx(
        EVENTS * 2 / 1e6 * prices["dynamodb_on_demand_per_million_read_units"]
        + EVENTS * 6 / 1e6 * prices["dynamodb_on_demand_per_million_write_units"]
    )
    [function] = _lines(with_consumer, "example consumer: ")[:1]
    per_queue = EVENTS / SECONDS_PER_MONTH / 3
    invocations = EVENTS / min(10, max(1, per_queue))
    billed_ms = math.ceil(min(10, max(1, per_queue)) * (0.5 + 3 * 7.5))
    assert function == pytest.approx(
        invocations * billed_ms / 1000 * 256 / 1024 * prices["lambda_arm64_per_gb_second"]
        + invocations / 1e6 * prices["lambda_per_million_requests"]
    )
    polls = 3 * CONSUMER_ASSUMPTIONS.idle_pollers_per_queue * SECONDS_PER_MONTH / 20
    [poll_line] = [line.usd for line in with_consumer.lines if "long polls" in line.item]
    assert poll_line == pytest.approx(polls / 1e6 * prices["sqs_standard_per_million_requests"])
    fifo_polls = estimate(EVENTS, 2048, dataclasses.replace(CONSUMER, fifo_money_queues=True), ASSUME, prices)
    assert [line.usd for line in fifo_polls.lines if "long polls" in line.item] == [
        pytest.approx(polls / 1e6 * prices["sqs_fifo_per_million_requests"])
    ]
    assert with_consumer.total_usd > without.total_usd + dynamodb


def test_the_fifo_stage_appears_only_with_fifo_and_takes_the_regions_high_throughput_quota() -> None:
    assert "FIFO money queues (SendMessageBatch)" not in {s.name for s in plan_capacity(SETTINGS).stages}
    plan = plan_capacity(FIFO)
    [stage] = [s for s in plan.stages if s.name.startswith("FIFO")]
    assert stage.burst_events_per_second == fifo_calls_per_second(FIFO.region) * min(10, FIFO.router_batch_size)
    assert fifo_calls_per_second("us-east-1") == 70_000 and fifo_calls_per_second("eu-central-1") == 19_000
    assert fifo_calls_per_second("ap-south-1") == SQS_FIFO_CALLS_PER_SECOND == 300


def test_a_burst_beyond_a_fifo_queues_quota_is_refused_naming_the_fifo_stage() -> None:
    # a region without a published high-throughput figure: 300 calls/s x 10 messages = 3,000 messages/s
    settings = dataclasses.replace(FIFO, region="ap-south-1", typical_payload_bytes=500, burst_events_per_second=3500)
    with pytest.raises(CapacityError, match=r"FIFO money queues .* takes 3000 events/s, below the burst of 3500"):
        plan_capacity(settings)
    plan_capacity(dataclasses.replace(settings, fifo_money_queues=False))  # the same contract, standard queues
