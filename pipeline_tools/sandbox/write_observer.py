"""The validator's table writes as the sandbox sees them: (event_id, outcome) per conditional PutItem.

The live log needs each batch item's id and whether it was stored, and the validator logs stored
events only at DEBUG (an INFO line per event costs CPU and log ingestion on AWS). The sandbox runs the
validator in-process, so it watches the calls its DynamoDB client makes (botocore events, the SDK's
own extension point) instead of changing what the handler logs. Per thread: the gateway serves each
request on its own thread, and reads the writes back on that thread once the handler returned.
"""

from __future__ import annotations

import threading
from typing import Any

_local = threading.local()


def watch(dynamodb_client: Any) -> None:
    """Record every PutItem of `dynamodb_client` on the calling thread."""
    events = dynamodb_client.meta.events
    events.register("before-parameter-build.dynamodb.PutItem", _before)
    events.register("after-call.dynamodb.PutItem", _after)


def _before(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
    context["sandbox_event_id"] = params.get("Item", {}).get("event_id", {}).get("S", "?")


def _after(http_response: Any, parsed: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
    code = parsed.get("Error", {}).get("Code") if http_response.status_code >= 300 else None
    writes = getattr(_local, "writes", None)
    if writes is None:
        writes = _local.writes = []
    writes.append((context.get("sandbox_event_id", "?"), code or "stored"))


def take() -> list[tuple[str, str]]:
    """This thread's writes since the last call: `(event_id, "stored" | <AWS error code>)`."""
    writes, _local.writes = getattr(_local, "writes", None) or [], []
    return writes
