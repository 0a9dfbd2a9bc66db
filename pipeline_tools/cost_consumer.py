"""The consumer side's monthly cost: FIFO money queues (`fifo_money_queues`) and the example ledger
consumer (`example_consumer`), as lines of `cost_model.EXTRA_VOLUMES` (registered by cost_model).

- FIFO: every request on a FIFO queue (the router's sends, consumers' receives and deletes) is billed at
  the FIFO price instead of the standard one (SQS pricing page, first tier: $0.50 against $0.40 per
  million, each 64 KB chunk one request). The line is the difference on the money queues' requests,
  counting every event as a money fact (an upper bound: lifecycle and unrouted events stay standard).
- Example consumer: its Lambda (`example-ledger-consumer-<env>`, modules/example_consumer.py: 256 MB,
  batches of up to 10), per money fact two strongly consistent `GetItem`s (1 read unit each, items under
  4 KB) and one `TransactWriteItems` of three items under 1 KB (event record, object state, ledger row:
  transactional writes cost 2 write units per KB; DynamoDB Developer Guide, "Read/write capacity mode"),
  the table's storage and PITR, and the Lambda pollers' empty receives on the three money queues.
"""

from __future__ import annotations

import dataclasses
import math

from pipeline_tools.cost_model import SECONDS_PER_MONTH, SQS_CHUNK_BYTES, Line, Volumes, sqs_send_requests

MONEY_QUEUES = 3
# modules/example_consumer.py: the function's memory and its mappings' batch size.
EXAMPLE_CONSUMER_MEMORY_MB = 256
EXAMPLE_CONSUMER_BATCH_SIZE = 10
# DynamoDB on-demand: a strongly consistent read of up to 4 KB is 1 read unit; a transactional write of up
# to 1 KB is 2 write units (https://aws.amazon.com/dynamodb/pricing/on-demand/).
READS_PER_FACT = 2  # seen(event_id), object_state(object_id): webhook_consumer/dynamodb_store.py
TRANSACTION_ITEMS_PER_FACT = 3  # event#, object#, ledger#
TRANSACTIONAL_WRITE_UNITS_PER_ITEM = 2
SQS_LONG_POLL_SECONDS = 20  # the longest ReceiveMessage wait, which Lambda's pollers use


@dataclasses.dataclass(frozen=True)
class ConsumerAssumptions:
    """What the configuration cannot say about the example consumer, each with its reason."""

    cpu_ms_per_fact: float = 0.5  # parse + guard + row, pure Python (not benched: the router's 0.08 ms x 6)
    calls_per_fact: int = 3  # two GetItems and one TransactWriteItems, sequential, each `aws_round_trip_ms`
    # How long one of Lambda's pollers collects before it invokes (no batching window is configured): what
    # arrives in that time on one queue is one batch, up to the batch size.
    poll_seconds: float = 1.0
    # Lambda's pollers per idle SQS mapping, each long-polling: AWS does not publish the number; five is
    # what idle mappings are commonly billed for. Empty receives are billed like any request.
    idle_pollers_per_queue: int = 5
    event_record_bytes: int = 120  # `event#…` with status and expires_at, kept 14 days (SQS's maximum retention)
    kept_bytes_per_fact: int = 550  # `object#…` state (~200 B) and the `ledger#…` row (~350 B), never expiring
    event_record_days: int = 14
    platform_log_bytes: int = 330  # START/END/REPORT per invocation; stale facts add one line, left out


CONSUMER_ASSUMPTIONS = ConsumerAssumptions()


def _message_bytes(v: Volumes) -> int:
    return v.payload_bytes + v.assumptions.message_overhead_bytes


def fifo_lines(v: Volumes) -> list[Line]:
    """The FIFO premium on the money queues' requests, when `fifo_money_queues` is on."""
    if not v.settings.fifo_money_queues:
        return []
    a, p, events, size = v.assumptions, v.prices, v.events, _message_bytes(v)
    records = v.events / v.router_invocations
    sends = sqs_send_requests(events, records, size)
    batch = a.consumer_receive_batch
    consumer = 2 * events / batch * math.ceil(batch * size / SQS_CHUNK_BYTES)
    premium = p["sqs_fifo_per_million_requests"] - p["sqs_standard_per_million_requests"]
    return [
        Line("SQS", f"FIFO money queues: {sends + consumer:,.0f} sends, receives and deletes at the FIFO price "
             f"(+${premium:.2f}/M)", (sends + consumer) / 1e6 * premium),
    ]  # fmt: skip


def example_consumer_lines(v: Volumes, c: ConsumerAssumptions = CONSUMER_ASSUMPTIONS) -> list[Line]:
    """The example ledger consumer's Lambda, table and pollers, when `example_consumer` is on."""
    if not v.settings.example_consumer:
        return []
    a, p, events = v.assumptions, v.prices, v.events
    per_queue_per_second = events / SECONDS_PER_MONTH / MONEY_QUEUES
    records = min(float(EXAMPLE_CONSUMER_BATCH_SIZE), max(1.0, per_queue_per_second * c.poll_seconds))
    invocations = events / records
    billed_ms = math.ceil(records * (c.cpu_ms_per_fact + c.calls_per_fact * a.aws_round_trip_ms))
    gb_seconds = invocations * billed_ms / 1000 * EXAMPLE_CONSUMER_MEMORY_MB / 1024
    lambda_usd = gb_seconds * p["lambda_arm64_per_gb_second"] + invocations / 1e6 * p["lambda_per_million_requests"]
    read_units = events * READS_PER_FACT
    write_units = events * TRANSACTION_ITEMS_PER_FACT * TRANSACTIONAL_WRITE_UNITS_PER_ITEM
    kept_gb = events * c.kept_bytes_per_fact / 1e9
    records_gb = events * c.event_record_days / 30 * c.event_record_bytes / 1e9
    storage_gb = kept_gb + records_gb
    polls = MONEY_QUEUES * c.idle_pollers_per_queue * SECONDS_PER_MONTH / SQS_LONG_POLL_SECONDS
    queue_price = p[
        "sqs_fifo_per_million_requests" if v.settings.fifo_money_queues else "sqs_standard_per_million_requests"
    ]
    log_gb = invocations * c.platform_log_bytes / 1e9
    return [
        Line("Lambda", f"example consumer: {invocations:,.0f} invocations of {records:.1f} facts, {billed_ms} ms "
             f"at {EXAMPLE_CONSUMER_MEMORY_MB} MB", lambda_usd),
        Line("DynamoDB", f"example ledger: {read_units:,} strong reads, {write_units:,} transactional WRU "
             f"({TRANSACTION_ITEMS_PER_FACT} items a fact)",
             read_units / 1e6 * p["dynamodb_on_demand_per_million_read_units"]
             + write_units / 1e6 * p["dynamodb_on_demand_per_million_write_units"]),
        Line("DynamoDB", f"example ledger storage + PITR: {storage_gb:.2f} GB ({kept_gb:.2f} GB more each month: "
             "rows and object states are kept)",
             storage_gb * (p["dynamodb_storage_per_gb_month"] + p["dynamodb_pitr_per_gb_month"])),
        Line("SQS", f"example consumer: {polls:,.0f} long polls by Lambda's pollers ({c.idle_pollers_per_queue} per "
             f"queue, {SQS_LONG_POLL_SECONDS} s)", polls / 1e6 * queue_price),
        Line("CloudWatch Logs", f"example consumer: {log_gb:.2f} GB", log_gb * p["cloudwatch_logs_ingestion_per_gb"]),
    ]  # fmt: skip


LINES = (fifo_lines, example_consumer_lines)
