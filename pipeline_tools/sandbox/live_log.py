"""The sandbox's live log: one readable line per request and one per routing decision.

Request line: `HH:MM:SS  <status>  <source>  <event_id or ->  <outcome or reason>`, built from the
validator's response body (`status` or `error`, `event_id`) and its log lines (`event_id`, `source`
once provider sources exist). Routing line: `HH:MM:SS  route  <event_id> -> <queue>` from the
router's `routing decision` log lines, with the reason when an event is parked. Warnings and errors
the handlers log are shown as one line each; metric documents never are.
"""

from __future__ import annotations

import datetime
import json
import threading
from typing import Any, TextIO

from pipeline_tools.sandbox.function_logs import is_metric

ROUTING_DECISION = "routing decision"
DEFAULT_SOURCE = "webhook"  # POST /webhook, the Standard Webhooks source


def _clock() -> str:
    return datetime.datetime.now().strftime("%H:%M:%S")


def request_line(status: int, body: bytes, logs: list[dict[str, Any]], path: str) -> str:
    """One request, e.g. `12:00:01  202  webhook  evt_1  accepted`."""
    try:
        response = json.loads(body)
    except ValueError:
        response = {}
    response = response if isinstance(response, dict) else {}
    keyed = next((line for line in reversed(logs) if line.get("event_id")), {})
    event_id = response.get("event_id") or keyed.get("event_id") or "-"
    source = keyed.get("source") or response.get("source") or DEFAULT_SOURCE
    outcome = response.get("status") or response.get("error") or response.get("message") or path
    field = f" ({response['field']})" if response.get("field") else ""
    return f"{_clock()}  {status}  {source}  {event_id}  {outcome}{field}"


def routing_lines(logs: list[dict[str, Any]]) -> list[str]:
    """One line per routing decision, plus one per warning or error the router logged."""
    lines = []
    for line in logs:
        if is_metric(line):
            continue
        if line.get("message") == ROUTING_DECISION:
            reason = f"  ({line['reason']})" if line.get("reason") else ""
            outcome = "park " if line.get("outcome") == "parked" else "route"
            lines.append(
                f"{_clock()}  {outcome}  {line.get('event_id', '-')} -> {line.get('destination', '?')}{reason}"
            )
        elif str(line.get("level", "")).upper() in ("WARNING", "ERROR", "CRITICAL"):
            lines.append(f"{_clock()}  router {str(line['level']).lower()}: {line.get('message', '')}")
    return lines


class LiveLog:
    """Prints lines to the sandbox's terminal; serialized so lines from two threads never interleave."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self._lock = threading.Lock()

    def print(self, *lines: str) -> None:
        with self._lock:
            for line in lines:
                self.stream.write(line + "\n")
            self.stream.flush()
