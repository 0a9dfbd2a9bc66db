"""The example consumer: one ledger row per money fact, in a DynamoDB table of its own.

Deployed as `example-ledger-consumer-<env>` when the environment sets `example_consumer: true`
(modules/example_consumer.py), fed by the payments, refunds and disputes queues; the table
`example-ledger-<env>` (env `LEDGER_TABLE_NAME`) holds both the guard's records (`event#…`, `object#…`,
see webhook_consumer.dynamodb_store) and the ledger rows (`ledger#<event_id>`), so a row, the event id
and the object's version are committed in one transaction.

A row's `amount` is what the fact changed in the merchant's balance: the object's total effect in its new
state (`RoutedEvent.state_effect`: a payment succeeded +amount, a refund succeeded -amount, a dispute
opened or lost -amount, won or reversed 0) minus its effect before. Delivered in order this is the
fact's own movement (+10.00, -3.00, -25.00 then +25.00 when the dispute is won); delivered out of order,
a stale fact is skipped and the newer one's row carries the whole difference, so the rows always add up to
the provider's net amount.
"""

from __future__ import annotations

import os
from decimal import Decimal
from typing import Any

from webhook_consumer import Change, ObjectState, RoutedEvent, batch_handler

LEDGER_PREFIX = "ledger#"


def ledger_row(event: RoutedEvent, amount: Decimal) -> dict[str, Any]:
    """The ledger row of one applied money fact, as a DynamoDB item (low-level attribute values)."""
    item: dict[str, Any] = {
        "pk": {"S": f"{LEDGER_PREFIX}{event.event_id}"},
        "amount": {"N": format(amount, "f")},
        "transaction_type": {"S": event.transaction_type},
        "outcome": {"S": event.outcome_text or ""},
        "object_version": {"N": str(event.object_version)},
        "timestamp": {"S": event.timestamp.isoformat()},
    }
    for name in ("currency", "object_id", "parent_object_id", "source"):
        value = getattr(event, name)
        if value is not None:
            item[name] = {"S": value}
    return item


def apply_fact(event: RoutedEvent, current: ObjectState | None, *, table_name: str) -> Change | None:
    """The business code: the object's new effect, and a ledger row for the difference (module doc)."""
    if not event.is_money_fact:
        return None  # a lifecycle fact moves nothing: only its id and version are recorded
    before = Decimal(str(current.state.get("effect", 0))) if current is not None else Decimal(0)
    after = event.state_effect
    row = ledger_row(event, after - before)
    return Change(
        state={"effect": after, "outcome": event.outcome_text},
        writes=[{"Put": {"TableName": table_name, "Item": row, "ConditionExpression": "attribute_not_exists(pk)"}}],
    )


def _handler() -> Any:
    from webhook_consumer import DynamoDBStore

    table_name = os.environ["LEDGER_TABLE_NAME"]
    return batch_handler(
        lambda event, current: apply_fact(event, current, table_name=table_name), store=DynamoDBStore(table_name)
    )


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Lambda entry point (`ledger_consumer.handler`): a partial batch response."""
    global _cached
    if _cached is None:
        _cached = _handler()
    return _cached(event, context)


_cached: Any = None
