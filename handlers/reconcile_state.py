"""The reconciler's memory, in DynamoDB `webhook-reconciler-state-<env>` (key `pk`, TTL `ttl`, CMK).

Two kinds of item:

- `checkpoint#<source>`: `high_water` (the newest event time, RFC 3339, that a *complete* run listed)
  and `set_up_at` (when set-up, e.g. Square's `PUT /v2/events/enable`, succeeded). It only moves
  forward (a conditional write), so two overlapping runs never move it back.
- `seen#<source>#<provider event id>`: an event the reconciler found stored (or stored itself), kept
  until the provider can no longer list it (`ttl` = event time + the source's window + 1 day). It
  outlives the event table's item TTL where the provider's window is longer (Paddle 90 days,
  GoCardless), so an event whose item expired is not injected again as new; and it is what makes a
  run that failed part-way resume cheaply: the events it already handled are skipped.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import time
from collections.abc import Iterable, Sequence
from typing import Any

from botocore.exceptions import ClientError

CHECKPOINT_PREFIX = "checkpoint#"
SEEN_PREFIX = "seen#"
# DynamoDB limits: BatchGetItem 100 keys, BatchWriteItem 25 requests (Developer Guide, "Quotas").
_GET_BATCH, _WRITE_BATCH = 100, 25
_UNPROCESSED_ATTEMPTS = 5


@dataclasses.dataclass(frozen=True)
class Checkpoint:
    high_water: datetime.datetime | None
    set_up_at: str | None


class StateUnavailableError(Exception):
    """The state table did not answer (after the SDK's retries): the run stops, nothing is advanced."""


class ReconcileState:
    """Reads and writes the state table through a low-level DynamoDB client."""

    def __init__(self, client: Any, table_name: str, *, sleep: Any = time.sleep) -> None:
        self._client = client
        self._table = table_name
        self._sleep = sleep

    def checkpoint(self, source: str) -> Checkpoint:
        try:
            answer = self._client.get_item(
                TableName=self._table, Key={"pk": {"S": CHECKPOINT_PREFIX + source}}, ConsistentRead=True
            )
        except ClientError as error:
            raise StateUnavailableError(f"cannot read the checkpoint of {source}: {_code(error)}") from None
        item = answer.get("Item") or {}
        high_water = item.get("high_water", {}).get("S")
        return Checkpoint(
            high_water=datetime.datetime.fromisoformat(high_water) if high_water else None,
            set_up_at=item.get("set_up_at", {}).get("S"),
        )

    def mark_set_up(self, source: str, now: datetime.datetime) -> None:
        self._update(source, "SET set_up_at = :at", {":at": {"S": now.isoformat()}}, None)

    def advance(self, source: str, high_water: datetime.datetime) -> None:
        """Move `high_water` forward to `high_water`; never back (a later run already went further)."""
        # One fixed width, so the condition's string comparison is the time order.
        text = high_water.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        with contextlib.suppress(_ConditionFailed):
            self._update(
                source,
                "SET high_water = :hw",
                {":hw": {"S": text}},
                "attribute_not_exists(high_water) OR high_water < :hw",
            )

    def _update(self, source: str, expression: str, values: dict[str, Any], condition: str | None) -> None:
        request: dict[str, Any] = {
            "TableName": self._table,
            "Key": {"pk": {"S": CHECKPOINT_PREFIX + source}},
            "UpdateExpression": expression,
            "ExpressionAttributeValues": values,
        }
        if condition:
            request["ConditionExpression"] = condition
        try:
            self._client.update_item(**request)
        except ClientError as error:
            if _code(error) == "ConditionalCheckFailedException":
                raise _ConditionFailed from None
            raise StateUnavailableError(f"cannot write the checkpoint of {source}: {_code(error)}") from None

    def seen(self, source: str, event_ids: Sequence[str]) -> set[str]:
        """Which of `event_ids` the reconciler has already handled."""
        found: set[str] = set()
        unique = list(dict.fromkeys(event_ids))
        for start in range(0, len(unique), _GET_BATCH):
            keys = [{"pk": {"S": _seen_key(source, event_id)}} for event_id in unique[start : start + _GET_BATCH]]
            request: dict[str, Any] = {self._table: {"Keys": keys, "ProjectionExpression": "pk"}}
            for attempt in range(_UNPROCESSED_ATTEMPTS):
                try:
                    answer = self._client.batch_get_item(RequestItems=request)
                except ClientError as error:
                    raise StateUnavailableError(f"cannot read the seen-set of {source}: {_code(error)}") from None
                for item in answer.get("Responses", {}).get(self._table, []):
                    found.add(item["pk"]["S"][len(_seen_key(source, "")) :])
                request = answer.get("UnprocessedKeys") or {}
                if not request:
                    break
                self._sleep(0.05 * 2**attempt)
            else:
                raise StateUnavailableError(f"the seen-set of {source} kept returning unprocessed keys")
        return found

    def remember(self, source: str, events: Iterable[tuple[str, datetime.datetime]], keep_days: int) -> None:
        """Record `(event id, event time)` pairs as handled, each until its time + `keep_days` + 1 day."""
        requests = [
            {
                "PutRequest": {
                    "Item": {
                        "pk": {"S": _seen_key(source, event_id)},
                        "ttl": {"N": str(int(created.timestamp()) + (keep_days + 1) * 86400)},
                    }
                }
            }
            for event_id, created in dict(events).items()
        ]
        for start in range(0, len(requests), _WRITE_BATCH):
            pending: dict[str, Any] = {self._table: requests[start : start + _WRITE_BATCH]}
            for attempt in range(_UNPROCESSED_ATTEMPTS):
                try:
                    answer = self._client.batch_write_item(RequestItems=pending)
                except ClientError as error:
                    raise StateUnavailableError(f"cannot write the seen-set of {source}: {_code(error)}") from None
                pending = answer.get("UnprocessedItems") or {}
                if not pending:
                    break
                self._sleep(0.05 * 2**attempt)
            else:
                raise StateUnavailableError(f"the seen-set of {source} kept returning unprocessed items")


class _ConditionFailed(Exception):
    pass


def _seen_key(source: str, event_id: str) -> str:
    return f"{SEEN_PREFIX}{source}#{event_id}"


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", "unknown"))
