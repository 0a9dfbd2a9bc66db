"""Step lines with elapsed time for the long-running tools, a heartbeat while a step is silent, and a
one-line summary at the end.

The heartbeat: a step that prints nothing for `heartbeat_seconds` (15) gets a `    ... <step>: still
running (N s)` line, so a long `terraform apply` or synth never looks hung. Anything written through
`Steps.stream` (the apply's progress lines, for instance) counts as output.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

HEARTBEAT_SECONDS = 15.0


class _TrackedStream:
    """A text stream that remembers when it was last written to."""

    def __init__(self, stream: TextIO) -> None:
        self.wrapped = stream
        self.last_write = time.monotonic()

    def write(self, text: str) -> int:
        self.last_write = time.monotonic()
        return self.wrapped.write(text)

    def flush(self) -> None:
        self.wrapped.flush()

    def __getattr__(self, name: str) -> object:
        return getattr(self.wrapped, name)


class Steps:
    def __init__(self, title: str, stream: TextIO = sys.stderr, heartbeat_seconds: float = HEARTBEAT_SECONDS) -> None:
        self.title = title
        self.stream = _TrackedStream(stream)
        self.heartbeat_seconds = heartbeat_seconds
        self.started = time.monotonic()
        self.timings: dict[str, float] = {}

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        print(f"==> {name} ...", file=self.stream, flush=True)
        start = time.monotonic()
        done = threading.Event()
        beat = threading.Thread(target=self._heartbeat, args=(name, start, done), daemon=True)
        beat.start()
        try:
            yield
        except BaseException:
            print(f"    {name} failed after {time.monotonic() - start:.1f} s", file=self.stream, flush=True)
            raise
        finally:
            done.set()
            beat.join()
        self.timings[name] = time.monotonic() - start
        print(f"    done in {self.timings[name]:.1f} s", file=self.stream, flush=True)

    def _heartbeat(self, name: str, start: float, done: threading.Event) -> None:
        while not done.wait(min(1.0, self.heartbeat_seconds)):
            now = time.monotonic()
            if now - self.stream.last_write >= self.heartbeat_seconds:
                print(f"    ... {name}: still running ({now - start:.0f} s)", file=self.stream, flush=True)

    def summary(self, message: str) -> None:
        print(f"{self.title}: {message} ({time.monotonic() - self.started:.1f} s)", file=self.stream, flush=True)
