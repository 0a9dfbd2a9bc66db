"""Handler reload: an edit under `handlers/` is served by the sandbox in about a second, without Terraform.

The sandbox runs the handlers in-process from the deployed zip's contents (`<work>/lambda`). When a
file under `handlers/` changes (polled every 0.3 s: mtimes and sizes, `__pycache__` ignored), the
changed files are copied over that folder, their byte-code removed (the zip ships unchecked
hash-based `.pyc`, which Python would keep using), the handler modules (every module imported from a
file that `handlers/` holds; the vendored libraries stay loaded) dropped from `sys.modules`, and
`validator.handler` / `router.handler` imported again. The gateway and the stream poller call the new
functions from their next request or batch on. A file that does not import (a syntax error) is
reported and the previous code keeps serving.

What this does not do: the deployed function still has the old zip (CodeSha256) until an apply;
`make plan` shows the code update. Changes to the stack (`modules/`, `terraform-state-config/`) still
need a restart.
"""

from __future__ import annotations

import importlib
import shutil
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

POLL_SECONDS = 0.3


def fingerprint(folder: Path) -> dict[str, tuple[int, int]]:
    return {
        str(path.relative_to(folder)): (path.stat().st_mtime_ns, path.stat().st_size)
        for path in sorted(folder.rglob("*"))
        if path.is_file() and "__pycache__" not in path.parts
    }


class HandlerReloader:
    def __init__(
        self,
        source_dir: Path,
        code_dir: Path,
        entry_points: dict[str, str],
        on_reload: Callable[[dict[str, Any]], None],
        log: Callable[[str], None],
    ) -> None:
        """`entry_points`: name -> `module.function` (the functions' deployed `Handler`);
        `on_reload(handlers)` gets name -> the new function once every entry point imported."""
        self.source_dir, self.code_dir = source_dir, code_dir
        self.entry_points, self.on_reload, self.log = entry_points, on_reload, log
        self._seen = fingerprint(source_dir)
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._watch, name="handler-reload", daemon=True)

    def start(self) -> HandlerReloader:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=2)

    def _watch(self) -> None:
        while not self._stop.wait(POLL_SECONDS):
            current = fingerprint(self.source_dir)
            if current != self._seen:
                changed = sorted(
                    name for name in current.keys() | self._seen.keys() if current.get(name) != self._seen.get(name)
                )
                self._seen = current
                self.reload(changed)

    def reload(self, changed: list[str]) -> bool:
        """Copy `changed` (paths relative to `handlers/`) and import the entry points again; False if it failed."""
        started = time.monotonic()
        with self._lock:
            for name in changed:
                source, target = self.source_dir / name, self.code_dir / name
                if source.is_file():
                    target.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(source, target)
                else:
                    target.unlink(missing_ok=True)
                if target.suffix == ".py":
                    for stale in (target.parent / "__pycache__").glob(f"{target.stem}.*.pyc"):
                        stale.unlink()
            own = {str((self.code_dir / name).resolve()) for name in fingerprint(self.source_dir)}
            saved = {n: m for n, m in sys.modules.items() if str(getattr(m, "__file__", "") or "") in own}
            for module_name in saved:
                del sys.modules[module_name]
            importlib.invalidate_caches()
            try:
                handlers = {}
                for name, entry in self.entry_points.items():
                    module_name, function = entry.rsplit(".", 1)
                    handlers[name] = getattr(importlib.import_module(module_name), function)
            except Exception as error:  # a broken edit must not stop the sandbox: the old code keeps serving
                sys.modules.update(saved)
                self.log(
                    f"reload  {', '.join(changed)}: not loaded ({type(error).__name__}: {error}); the previous code keeps serving"
                )
                return False
        self.on_reload(handlers)
        self.log(
            f"reload  {', '.join(changed)}: serving the edited handlers ({time.monotonic() - started:.2f} s; not deployed until an apply)"
        )
        return True
