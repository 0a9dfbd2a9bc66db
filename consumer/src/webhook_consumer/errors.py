"""Errors of the consumer package: one base class, each carrying what the caller needs."""

from __future__ import annotations


class ConsumerError(Exception):
    """Base class of this package's errors."""


class InvalidMessageError(ConsumerError, ValueError):
    """The SQS record is not a routed message of the published schema; `problems` lists why (one line each,
    never the payload). Retrying cannot cure it: the record goes back to the queue and, after the queue's
    `maxReceiveCount`, to its dead-letter queue."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


class DuplicateEventError(ConsumerError):
    """The store already holds this `event_id` (another delivery won the race)."""


class ConcurrentChangeError(ConsumerError):
    """The object's guarded state changed between reading it and committing (another consumer applied a
    fact about the same object first): read again and decide again."""
