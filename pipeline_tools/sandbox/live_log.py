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


INDENT = " " * 10  # under the time column
# Log fields shown beside a validator warning or error: what the operator needs, never a value or a body.
_DETAIL_FIELDS = ("source", "entry_index", "problem", "aws_error", "event_id", "reason")


def source_of(path: str) -> str:
    """The source a request was sent to, from its path: `/v1/webhook/<name>` -> name, `/v1/webhook` -> webhook."""
    route = path.split("?", 1)[0].rstrip("/")
    _, marker, name = route.partition("/webhook/")
    return name.split("/", 1)[0] if marker and name else DEFAULT_SOURCE


def request_line(status: int, body: bytes, logs: list[dict[str, Any]], path: str) -> str:
    """One request, e.g. `12:00:01  202  webhook  evt_1  accepted`."""
    return request_lines(status, body, logs, path)[0]


def request_lines(
    status: int, body: bytes, logs: list[dict[str, Any]], path: str, writes: list[tuple[str, str]] | None = None
) -> list[str]:
    """The request's line (time, status, true source, event id(s), outcome or reason), then one line per
    batch item (`writes`: each conditional write's `(event_id, outcome)`), then the validator's own
    warnings and errors (message and the fields that say why; never bodies or secrets)."""
    try:
        response = json.loads(body)
    except ValueError:
        response = {}
    response = response if isinstance(response, dict) else {}
    writes = writes or []
    keyed = next((line for line in reversed(logs) if line.get("event_id")), {})
    outcomes = {event_id: _item_outcome(event_id, code, logs) for event_id, code in writes}
    event_id = response.get("event_id") or (next(iter(outcomes)) if len(outcomes) == 1 else None)
    event_id = event_id or (f"{len(outcomes)} events" if outcomes else keyed.get("event_id") or "-")
    text = body.decode("utf-8", "replace").strip() if not response else ""
    outcome = response.get("status") or response.get("error") or response.get("message")
    outcome = outcome or ("accepted" if status == 202 and text else "duplicate" if status == 200 and text else path)
    field = f" ({response['field']})" if response.get("field") else ""
    lines = [f"{_clock()}  {status}  {source_of(path)}  {event_id}  {outcome}{field}"]
    if len(outcomes) > 1:
        lines += [f"{INDENT}{item}  {item_outcome}" for item, item_outcome in outcomes.items()]
    for line in logs:
        level = str(line.get("level", "")).upper()
        if level in ("WARNING", "ERROR", "CRITICAL") and not is_metric(line):
            details = ", ".join(f"{key}={line[key]}" for key in _DETAIL_FIELDS if line.get(key) not in (None, ""))
            lines.append(
                f"{INDENT}validator {level.lower()}: {line.get('message', '')}" + (f" [{details}]" if details else "")
            )
    return lines


def _item_outcome(event_id: str, code: str, logs: list[dict[str, Any]]) -> str:
    if code == "stored":
        return "stored"
    if code == "ConditionalCheckFailedException":
        said = {line.get("message", "") for line in logs if line.get("event_id") == event_id}
        return "duplicate" if "duplicate delivery acknowledged" in said else "conflict"
    return f"not stored ({code})"


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
