"""What Lambda does with a function's stdout, for the handlers the sandbox runs in-process.

Powertools writes structured log lines and EMF metric documents to stdout. In the sandbox the
handlers share this process, so `sys.stdout` is replaced (before the handlers are imported: the
Powertools Logger binds its stream at construction) by a proxy that, inside `capture()`, collects
the lines of the current thread instead of printing them. The lines then go
- to the emulator's CloudWatch Logs, in the function's own log group (what `trace` reads, as on AWS);
- to the live log, which prints one readable line per request and per routing decision; the raw
  metric JSON is not printed.
"""

from __future__ import annotations

import io
import json
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any, TextIO

_local = threading.local()


class ThreadCapturingStdout(io.TextIOBase):
    """A stdout that hands the writes of a capturing thread to that thread's buffer."""

    def __init__(self, original: TextIO) -> None:
        self.original = original

    def write(self, text: str) -> int:
        buffer = getattr(_local, "buffer", None)
        if buffer is None:
            return self.original.write(text)
        buffer.append(text)
        return len(text)

    def flush(self) -> None:
        self.original.flush()


def install() -> ThreadCapturingStdout:
    """Replace `sys.stdout` once; return the proxy (whose `original` prints for real)."""
    if not isinstance(sys.stdout, ThreadCapturingStdout):
        sys.stdout = ThreadCapturingStdout(sys.stdout)
    return sys.stdout  # type: ignore[return-value]


@contextmanager
def capture() -> Iterator[list[dict[str, Any]]]:
    """Collect this thread's stdout; yields the list the parsed JSON lines are appended to on exit."""
    lines: list[dict[str, Any]] = []
    # Nested captures (a function invoked through the gateway's Invoke API) each keep their own lines.
    outer = getattr(_local, "buffer", None)
    _local.buffer = []
    try:
        yield lines
    finally:
        text, _local.buffer = "".join(_local.buffer), outer
        for raw in text.splitlines():
            try:
                parsed = json.loads(raw)
            except ValueError:
                parsed = {"message": raw}
            lines.append(parsed if isinstance(parsed, dict) else {"message": raw})


def is_metric(line: dict[str, Any]) -> bool:
    """An EMF document (CloudWatch turns it into metrics; it is not a log line to read)."""
    return "_aws" in line


class LogGroupWriter:
    """Appends a function's log lines to its log group in the emulator, one stream per sandbox run."""

    def __init__(self, logs: Any, log_group: str, stream: str = "sandbox") -> None:
        self.logs = logs
        self.log_group = log_group
        self.stream = stream
        self._lock = threading.Lock()
        with suppress(logs.exceptions.ResourceAlreadyExistsException):
            logs.create_log_stream(logGroupName=log_group, logStreamName=stream)

    def write(self, lines: list[dict[str, Any]]) -> None:
        if not lines:
            return
        now = int(time.time() * 1000)
        events = [{"timestamp": now, "message": json.dumps(line, sort_keys=True)} for line in lines]
        with self._lock:
            self.logs.put_log_events(logGroupName=self.log_group, logStreamName=self.stream, logEvents=events)
