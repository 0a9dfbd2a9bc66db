"""Plays EventBridge for the reconciler: the emulator stores the schedule rules but never fires them.

The rules are read back from the emulator (`webhook-reconcile-<source>-<env>`, `rate(N minutes)`, the
target's input `{"source": "<name>"}`), so the sandbox runs what was deployed, not a second copy of the
configuration. Each rule fires first one interval after the sandbox starts, then every interval;
`invoke` runs the reconciler at once (Lambda's Invoke API, served by the gateway, calls it). Runs here are
serialized, so a scheduled run never races an invoked one on the checkpoint. `pipeline_tools reconcile`
runs the same code in its own process; a concurrent run is still safe (each event is written by exactly
one conditional put; the checkpoint never moves backwards).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import re
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from pipeline_tools.sandbox.function_logs import capture

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]
_RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}


@dataclasses.dataclass(frozen=True)
class Schedule:
    rule: str
    interval_seconds: float
    event: dict[str, Any]


def rate_seconds(expression: str) -> float:
    """Seconds of an EventBridge `rate(...)` expression. Raises ValueError for anything else."""
    match = _RATE.fullmatch(expression.strip())
    if match is None:
        raise ValueError(f"not a rate expression: {expression!r}")
    return int(match.group(1)) * _UNIT_SECONDS[match.group(2).rstrip("s")]


def deployed_schedules(events_client: Any, function_arn: str) -> list[Schedule]:
    """Every enabled rate rule whose target is `function_arn`, with the target's constant input."""
    schedules = []
    for page in events_client.get_paginator("list_rules").paginate():
        for rule in page.get("Rules", []):
            expression = rule.get("ScheduleExpression") or ""
            if rule.get("State", "ENABLED") != "ENABLED" or not expression.startswith("rate("):
                continue
            for target in events_client.list_targets_by_rule(Rule=rule["Name"]).get("Targets", []):
                if target.get("Arn") == function_arn:
                    event = json.loads(target.get("Input") or "{}")
                    schedules.append(Schedule(rule["Name"], rate_seconds(expression), event))
    return sorted(schedules, key=lambda schedule: schedule.rule)


class ReconcileScheduler:
    """Invokes `handler` for each schedule on its interval, in one thread; `invoke` runs one now.

    `on_run(event, result, lines)` gets each run's return value (the report) and its stdout lines
    (log lines and the EMF metric documents Powertools printed), for the live log and the log group."""

    def __init__(
        self,
        handler: Handler,
        context: Any,
        schedules: list[Schedule],
        on_run: Callable[[dict[str, Any], dict[str, Any] | None, list[dict[str, Any]]], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.handler = handler
        self.context = context
        self.schedules = schedules
        self.on_run = on_run
        self.clock = clock
        self.runs = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="sandbox-reconcile-schedule", daemon=True)

    def start(self) -> ReconcileScheduler:
        if self.schedules:
            self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=30)

    def invoke(self, event: dict[str, Any]) -> dict[str, Any]:
        """One run, now (raises what the handler raises, after reporting its lines)."""
        with self._lock:
            self.runs += 1
            result: dict[str, Any] | None = None
            failure: Exception | None = None
            with capture() as lines:
                try:
                    result = self.handler(event, self.context.with_request_id(str(uuid.uuid4())))
                except Exception as error:  # reported with its lines, then raised as Lambda's function error
                    failure = error
            if self.on_run is not None:
                self.on_run(event, result, lines)
            if failure is not None:
                raise failure
            return result or {}

    def _loop(self) -> None:
        due = {schedule.rule: self.clock() + schedule.interval_seconds for schedule in self.schedules}
        while not self._stop.is_set():
            for schedule in self.schedules:
                if self.clock() >= due[schedule.rule]:
                    due[schedule.rule] += schedule.interval_seconds
                    # A failed run is reported by invoke; as on Lambda, the next run retries.
                    with contextlib.suppress(Exception):
                        self.invoke(dict(schedule.event))
            self._stop.wait(1.0)


def reconcile_line(event: dict[str, Any], report: dict[str, Any] | None) -> str:
    """One live-log line per run: what it found and what it recovered (the ids, at most three)."""
    stamp = time.strftime("%H:%M:%S")
    source = event.get("source", "?")
    if not report:
        return f"{stamp}  reconcile {source}: the run failed (see /aws/lambda/<reconciler> in trace/aws logs)"
    if report.get("error"):
        return f"{stamp}  reconcile {source}: failed: {report['error']}"
    recovered = report.get("missing_ids") or []
    shown = ", ".join(recovered[:3]) + (f" and {len(recovered) - 3} more" if len(recovered) > 3 else "")
    what = f"RECOVERED {report.get('written', 0)} the door never got ({shown})" if recovered else "nothing missing"
    return f"{stamp}  reconcile {source}: found {report.get('found', 0)}, {what}"
