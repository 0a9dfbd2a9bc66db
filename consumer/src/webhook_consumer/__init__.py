"""Consume the webhook pipeline's queues: typed events, the schema's rules, once-only and in-order apply.

Example (an SQS-triggered Lambda with `ReportBatchItemFailures`)::

    from webhook_consumer import Change, DynamoDBStore, batch_handler

    def apply(event, current):
        return Change(state={"status": event.outcome_text})

    handler = batch_handler(apply, store=DynamoDBStore("my-consumer-state"))
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .batch import BatchResult, batch_handler, process_batch
from .errors import ConcurrentChangeError, ConsumerError, DuplicateEventError, InvalidMessageError
from .guard import Apply, Change, Decision, GuardStore, MemoryStore, ObjectState, Result, apply_once
from .models import RoutedEvent, parse
from .schema_rules import schema_version
from .vocabulary import LEDGER_SIGN, MONEY_OUTCOMES, STATE_EFFECT, Outcome, is_money_fact

if TYPE_CHECKING:
    from .dynamodb_store import DynamoDBStore

__all__ = [
    "LEDGER_SIGN", "MONEY_OUTCOMES", "STATE_EFFECT", "Apply", "BatchResult", "Change", "ConcurrentChangeError",
    "ConsumerError", "Decision", "DuplicateEventError", "DynamoDBStore", "GuardStore", "InvalidMessageError",
    "MemoryStore", "ObjectState", "Outcome", "Result", "RoutedEvent", "apply_once", "batch_handler",
    "is_money_fact", "parse", "process_batch", "schema_version",
]  # fmt: skip


def __getattr__(name: str) -> Any:
    # DynamoDBStore needs boto3 (the `dynamodb` extra): imported only when asked for.
    if name == "DynamoDBStore":
        from .dynamodb_store import DynamoDBStore

        return DynamoDBStore
    raise AttributeError(name)
