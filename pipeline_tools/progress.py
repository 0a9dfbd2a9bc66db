"""Step lines with elapsed time for the long-running tools, and a one-line summary at the end."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager


class Steps:
    def __init__(self, title: str, stream=sys.stderr) -> None:  # noqa: ANN001 - any text stream
        self.title = title
        self.stream = stream
        self.started = time.monotonic()
        self.timings: dict[str, float] = {}

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        print(f"==> {name} ...", file=self.stream, flush=True)
        start = time.monotonic()
        try:
            yield
        except BaseException:
            print(f"    {name} failed after {time.monotonic() - start:.1f} s", file=self.stream, flush=True)
            raise
        self.timings[name] = time.monotonic() - start
        print(f"    done in {self.timings[name]:.1f} s", file=self.stream, flush=True)

    def summary(self, message: str) -> None:
        print(f"{self.title}: {message} ({time.monotonic() - self.started:.1f} s)", file=self.stream, flush=True)
