"""Injected DynamoDB throttling in the sandbox's emulator, switched on and off while it runs.

A load run (`pipeline_tools load --throttle 0.5`) writes the fault file named by the outputs'
`fault_injection_file` (`{"throttle_put_item": 0.5, "table_prefix": "transaction-events-"}`); while it
exists, that share of PutItem calls on matching tables is answered as DynamoDB answers a throttled
write (HTTP 400, `ProvisionedThroughputExceededException`), before moto carries anything out. Removing
the file ends it, and so does its `expires_at` (a run killed before it could remove the file must not
leave the sandbox throttled). Only the sandbox installs this; nothing of it is deployed.
"""

from __future__ import annotations

import json
import random
import threading
import time
from pathlib import Path
from typing import Any

ERROR_TYPE = "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException"
MESSAGE = "The level of configured provisioned throughput for the table was exceeded."


class FaultFile:
    """The fault settings, re-read when the file changes (one `stat` per PutItem: the sandbox only)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._stamp: tuple[int, int] | None = None
        self._settings: dict[str, Any] = {}
        self.random = random.Random(20)  # noqa: S311 - not security: seeded: a run's throttled share is reproducible
        self.throttled = 0

    def settings(self) -> dict[str, Any]:
        try:
            status = self.path.stat()
        except FileNotFoundError:
            return {}
        stamp = (status.st_mtime_ns, status.st_size)
        with self._lock:
            if stamp != self._stamp:
                try:
                    self._settings = json.loads(self.path.read_text(encoding="utf-8"))
                except (OSError, ValueError):
                    self._settings = {}  # half-written: no fault until it is whole
                self._stamp = stamp
            return self._settings

    def throttles(self, table: str) -> bool:
        settings = self.settings()
        share = float(settings.get("throttle_put_item", 0) or 0)
        if time.time() > float(settings.get("expires_at", float("inf"))):
            return False
        if share <= 0 or not table.startswith(str(settings.get("table_prefix", ""))):
            return False
        with self._lock:
            hit = self.random.random() < share
            self.throttled += hit
        return hit


_installed: FaultFile | None = None
_original_put_item: Any = None


def install(path: Path) -> FaultFile:
    """Route moto's PutItem through the fault file at `path` (idempotent; the last path wins). moto is
    imported here, not by the load tool, which writes the file from anywhere."""
    global _installed, _original_put_item
    from moto.dynamodb.exceptions import DynamodbException
    from moto.dynamodb.responses import DynamoHandler

    class ThrottledWriteError(DynamodbException):
        """What DynamoDB answers a throttled write (moto renders it as AWS does: 400 and `__type`)."""

        def __init__(self) -> None:
            super().__init__(ERROR_TYPE, message=MESSAGE)

    _installed = FaultFile(path)
    if _original_put_item is None:
        _original_put_item = DynamoHandler.put_item

    def put_item(handler: Any) -> Any:
        if _installed is not None and _installed.throttles(str(handler.body.get("TableName", ""))):
            raise ThrottledWriteError()
        return _original_put_item(handler)

    DynamoHandler.put_item = put_item  # type: ignore[method-assign]
    return _installed


# A load run's longest: its deliveries, then retries for as long as a provider keeps trying.
MAX_RUN_SECONDS = 1800


def write(path: Path, *, throttle_put_item: float, table_prefix: str, seconds: float = MAX_RUN_SECONDS) -> None:
    """Switch throttling on for at most `seconds` (atomically: the emulator never reads half a file)."""
    staging = path.with_suffix(".tmp")
    settings = {
        "throttle_put_item": throttle_put_item,
        "table_prefix": table_prefix,
        "expires_at": time.time() + seconds,
    }
    staging.write_text(json.dumps(settings))
    staging.replace(path)


def clear(path: Path) -> None:
    path.unlink(missing_ok=True)
