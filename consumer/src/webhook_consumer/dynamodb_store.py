"""`DynamoDBStore`: the guard's store on one DynamoDB table (needs boto3; the Lambda runtime ships it).

Table: partition key `pk` (string), no sort key, TTL on `expires_at` (seconds since the epoch). Items:
- `event#<event_id>`: `status` (`applied` or `stale`), `expires_at` (now + `event_ttl_seconds`, 14 days by
  default: SQS keeps a message at most 14 days, so no redelivery outlives the record; past that, the
  object's version still refuses a replayed fact as stale);
- `object#<transaction_type>:<object_id>` (`RoutedEvent.object_key`): `version` (number), `state` (map, the business code's `Change.state`),
  `event_id` (the fact that set it). Never expires: it is what keeps old facts from being applied.

`commit` is one `TransactWriteItems` call (AWS DynamoDB Developer Guide, "Amazon DynamoDB Transactions";
at most 100 actions, so `Change.writes` may hold up to 98 entries): put `event#…` if absent, put
`object#…` if its version is still the one read, and the business code's own writes (a ledger row…),
all or nothing. A cancellation is read from `CancellationReasons`: the first action's
`ConditionalCheckFailed` is a duplicate, the second's a concurrent change. Reads are strongly consistent.
Permissions: `dynamodb:GetItem`, `dynamodb:PutItem`, `dynamodb:ConditionCheckItem` and
`dynamodb:TransactWriteItems` (granted as `PutItem`/`UpdateItem` on each table written) on the table.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from typing import Any

from .errors import ConcurrentChangeError, DuplicateEventError
from .guard import Change, ObjectState
from .models import RoutedEvent

DEFAULT_EVENT_TTL_SECONDS = 14 * 86_400  # SQS's maximum message retention (Developer Guide, "Quotas")


class DynamoDBStore:
    """A `GuardStore` on the DynamoDB table `table_name` (see the module doc for its layout)."""

    def __init__(
        self,
        table_name: str,
        *,
        client: Any = None,
        event_ttl_seconds: int = DEFAULT_EVENT_TTL_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        from boto3.dynamodb.types import TypeDeserializer, TypeSerializer  # optional dependency: imported here

        if client is None:
            import boto3

            client = boto3.client("dynamodb")
        self.table_name = table_name
        self.client = client
        self.event_ttl_seconds = event_ttl_seconds
        self.clock = clock
        self._serialize = TypeSerializer().serialize
        self._deserialize = TypeDeserializer().deserialize

    def _get(self, key: str) -> dict[str, Any] | None:
        response = self.client.get_item(TableName=self.table_name, Key={"pk": {"S": key}}, ConsistentRead=True)
        return response.get("Item")

    def seen(self, event_id: str) -> bool:
        return self._get(f"event#{event_id}") is not None

    def object_state(self, object_key: str) -> ObjectState | None:
        item = self._get(f"object#{object_key}")
        if item is None:
            return None
        state = self._deserialize(item["state"]) if "state" in item else {}
        return ObjectState(int(item["version"]["N"]), state)

    def _event_item(self, event: RoutedEvent, status: str) -> dict[str, Any]:
        return {
            "pk": {"S": f"event#{event.event_id}"},
            "status": {"S": status},
            "expires_at": {"N": str(int(self.clock()) + self.event_ttl_seconds)},
        }

    def commit(self, event: RoutedEvent, previous: ObjectState | None, change: Change | None) -> None:
        change = change or Change()
        actions: list[dict[str, Any]] = [
            {"Put": {"TableName": self.table_name, "Item": self._event_item(event, "applied"),
                     "ConditionExpression": "attribute_not_exists(pk)"}},
        ]  # fmt: skip
        if event.ordered:
            put: dict[str, Any] = {
                "TableName": self.table_name,
                "Item": {
                    "pk": {"S": f"object#{event.object_key}"},
                    "version": {"N": str(event.object_version)},
                    "state": self._serialize(dict(change.state)),
                    "event_id": {"S": event.event_id},
                },
            }
            if previous is None:
                put["ConditionExpression"] = "attribute_not_exists(pk)"
            else:
                put["ConditionExpression"] = "version = :previous"
                put["ExpressionAttributeValues"] = {":previous": {"N": str(previous.version)}}
            actions.append({"Put": put})
        actions.extend(change.writes)
        try:
            self.client.transact_write_items(TransactItems=actions)
        except self.client.exceptions.TransactionCanceledException as error:
            reasons = [reason.get("Code") for reason in error.response.get("CancellationReasons", [])]
            if reasons[:1] == ["ConditionalCheckFailed"]:
                raise DuplicateEventError(event.event_id) from None
            if event.ordered and reasons[1:2] == ["ConditionalCheckFailed"]:
                raise ConcurrentChangeError(str(event.object_key)) from None
            raise

    def record_stale(self, event: RoutedEvent) -> None:
        # Already recorded: a duplicate of a stale fact.
        with contextlib.suppress(self.client.exceptions.ConditionalCheckFailedException):
            self.client.put_item(TableName=self.table_name, Item=self._event_item(event, "stale"),
                                 ConditionExpression="attribute_not_exists(pk)")  # fmt: skip
