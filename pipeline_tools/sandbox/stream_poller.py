"""Reads the table's stream from the emulator and invokes the router the way the deployed mapping would:
batch size and window, filter, partial batch responses, bisect on error, bounded retries, then the
on-failure queue. The settings come from the event source mapping read back from the emulator."""

from __future__ import annotations

import dataclasses
import datetime
import json
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from pipeline_tools.sandbox.function_logs import capture

log = logging.getLogger("sandbox.stream")
Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


@dataclasses.dataclass(frozen=True)
class MappingSettings:
    batch_size: int
    window_seconds: float
    filter_patterns: list[dict[str, Any]]
    bisect_on_error: bool
    maximum_retry_attempts: int
    on_failure_queue_url: str | None
    function_arn: str

    @classmethod
    def from_mapping(cls, mapping: dict[str, Any], on_failure_queue_url: str | None) -> MappingSettings:
        filters = mapping.get("FilterCriteria", {}).get("Filters", [])
        return cls(
            batch_size=int(mapping.get("BatchSize", 100)),
            window_seconds=float(mapping.get("MaximumBatchingWindowInSeconds", 0)),
            filter_patterns=[json.loads(item["Pattern"]) for item in filters],
            bisect_on_error=bool(mapping.get("BisectBatchOnFunctionError", False)),
            maximum_retry_attempts=int(mapping.get("MaximumRetryAttempts", -1)),
            on_failure_queue_url=on_failure_queue_url,
            function_arn=mapping["FunctionArn"],
        )


def matches(pattern: dict[str, Any], record: dict[str, Any]) -> bool:
    """Lambda event filtering for the forms this stack uses: keys with lists of allowed values, nested."""
    for key, expected in pattern.items():
        value = record.get(key)
        if isinstance(expected, dict):
            if not isinstance(value, dict) or not matches(expected, value):
                return False
        elif value not in expected:
            return False
    return True


class StreamPoller:
    def __init__(
        self,
        *,
        streams: Any,
        sqs: Any,
        stream_arn: str,
        handler: Handler,
        context: Any,
        settings: MappingSettings,
        on_logs: Callable[[list[dict[str, Any]]], None] | None = None,
    ) -> None:
        self.on_logs = on_logs
        self.streams = streams
        self.sqs = sqs
        self.stream_arn = stream_arn
        self.handler = handler
        self.context = context
        self.settings = settings
        self.invocations = 0
        self._stop = threading.Event()
        self._iterators: dict[str, str | None] = {}
        self._thread = threading.Thread(target=self._run, name="sandbox-stream-poller", daemon=True)
        # TRIM_HORIZON as Lambda's mapping starts; LATEST after `--persist` restored items, so they are
        # not routed a second time.
        self.initial_iterator = "TRIM_HORIZON"

    def start(self) -> StreamPoller:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                records = self._collect()
            except Exception:  # keep polling, as Lambda's pollers do
                log.exception("reading the stream failed")
                time.sleep(1)
                continue
            wanted = [
                r
                for r in records
                if not self.settings.filter_patterns or any(matches(p, r) for p in self.settings.filter_patterns)
            ]
            for start in range(0, len(wanted), self.settings.batch_size):
                self._deliver(wanted[start : start + self.settings.batch_size])
            if not records:
                self._stop.wait(0.2)

    def _collect(self) -> list[dict[str, Any]]:
        """Records from every shard, waiting up to the batching window for a full batch."""
        deadline = time.monotonic() + self.settings.window_seconds
        collected: list[dict[str, Any]] = []
        while True:
            for shard in self.streams.describe_stream(StreamArn=self.stream_arn)["StreamDescription"]["Shards"]:
                shard_id = shard["ShardId"]
                if shard_id not in self._iterators:
                    self._iterators[shard_id] = self.streams.get_shard_iterator(
                        StreamArn=self.stream_arn, ShardId=shard_id, ShardIteratorType=self.initial_iterator
                    )["ShardIterator"]
                iterator = self._iterators[shard_id]
                if iterator is None:
                    continue
                response = self.streams.get_records(ShardIterator=iterator, Limit=1000)
                self._iterators[shard_id] = response.get("NextShardIterator")
                collected += [{**record, "eventSourceARN": self.stream_arn} for record in response["Records"]]
            if len(collected) >= self.settings.batch_size or time.monotonic() >= deadline or self._stop.is_set():
                return collected
            time.sleep(0.05)

    def _invoke(self, batch: list[dict[str, Any]]) -> tuple[int | None, bool]:
        """Return (index of the first record to retry or None, whether the function itself failed)."""
        self.invocations += 1
        try:
            with capture() as lines:
                response = self.handler({"Records": batch}, self.context)
        except Exception:
            log.exception("router raised; the whole batch is retried")
            return 0, True
        finally:
            if self.on_logs is not None:
                self.on_logs(lines)
        failed = {item["itemIdentifier"] for item in (response or {}).get("batchItemFailures", [])}
        for index, record in enumerate(batch):
            if record["dynamodb"]["SequenceNumber"] in failed:
                return index, False  # Lambda resumes from the lowest failed sequence number
        return None, False

    def _deliver(self, records: list[dict[str, Any]]) -> None:
        pending = [records]
        while pending:
            batch = pending.pop(0)
            attempts = 0
            while batch:
                failed_index, function_error = self._invoke(batch)
                if failed_index is None:
                    break
                batch = batch[failed_index:]
                attempts += 1
                retries = self.settings.maximum_retry_attempts
                if retries >= 0 and attempts > retries:
                    self._send_to_on_failure(batch, attempts)
                    break
                if function_error and self.settings.bisect_on_error and len(batch) > 1:
                    middle = len(batch) // 2
                    pending[:0] = [batch[:middle], batch[middle:]]
                    break

    def _send_to_on_failure(self, batch: list[dict[str, Any]], attempts: int) -> None:
        if not self.settings.on_failure_queue_url:
            log.error("retries exhausted and no on-failure destination: %d records skipped", len(batch))
            return
        arrival = [r["dynamodb"].get("ApproximateCreationDateTime") for r in batch]
        info = {
            "requestContext": {
                "requestId": "sandbox",
                "functionArn": self.settings.function_arn,
                "condition": "RetryAttemptsExhausted",
                "approximateInvokeCount": attempts,
            },
            "version": "1.0",
            "timestamp": datetime.datetime.now(tz=datetime.UTC).isoformat(),
            "DDBStreamBatchInfo": {
                "shardId": batch[0].get("shardId", "shard"),
                "startSequenceNumber": batch[0]["dynamodb"]["SequenceNumber"],
                "endSequenceNumber": batch[-1]["dynamodb"]["SequenceNumber"],
                "approximateArrivalOfFirstRecord": str(arrival[0]),
                "approximateArrivalOfLastRecord": str(arrival[-1]),
                "batchSize": len(batch),
                "streamArn": self.stream_arn,
            },
        }
        self.sqs.send_message(QueueUrl=self.settings.on_failure_queue_url, MessageBody=json.dumps(info))
