"""Apply each fact once, never over newer state: deduplication by `event_id`, ordering by `object_version`.

The business code is a pure function `apply(event, current) -> Change | None`: `current` is the object's
guarded state (`ObjectState`: the last applied version and the `state` mapping the last `Change` left),
and the `Change` it returns (a new `state` for the object and `writes` of its own, such as a ledger row)
is committed by the store in **one atomic step** together with "event_id seen" and "object now at this
version". So there is no window in which a fact is applied but not recorded (it would be applied twice)
or recorded but not applied (it would be lost): either all of it happens or none, and a redelivery
decides again. Side effects outside `writes` (an e-mail, an API call) are not covered: a delivery whose
commit fails may run `apply` again.

Decisions (`Decision`):
- `APPLIED`: the commit happened. A fact without `object_id`/`object_version` (messages built before the
  money facts), and any fact that moves no money (the lifecycle queue's), is applied with deduplication
  only, and says so (`ordered=False`): it never makes a money fact stale.
- Objects are keyed by `RoutedEvent.object_key` (`<transaction_type>:<object_id>`): a payment and a
  dispute named by the payment's id (Adyen, Paddle) are two objects.
- `DUPLICATE`: the `event_id` was committed before (applied or found stale): `apply` does not run.
- `STALE`: the object is already at this version or a newer one: `apply` does not run, the event id is
  recorded, and the caller reports it. Two different facts with the same version of one object are not
  ordered by the provider: the second one seen is reported stale, never applied over the first.

Concurrency: the commit is conditional on the object's version being the one `apply` saw; if another
consumer got there first the decision is taken again on fresh state (`ConcurrentChangeError`), at most
`attempts` times.
"""

from __future__ import annotations

import dataclasses
import enum
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

from .errors import ConcurrentChangeError, ConsumerError, DuplicateEventError
from .models import RoutedEvent


class Decision(enum.StrEnum):
    APPLIED = "applied"
    DUPLICATE = "duplicate"
    STALE = "stale"


@dataclasses.dataclass(frozen=True)
class ObjectState:
    """What the guard knows about one object: the version of the last applied fact and its `state`."""

    version: int
    state: Mapping[str, Any]


@dataclasses.dataclass(frozen=True)
class Change:
    """What applying one fact does: the object's new `state` (kept with its version) and `writes` the
    store commits atomically with it (for `DynamoDBStore`: `TransactWriteItems` entries; for
    `MemoryStore`: any values, appended to `MemoryStore.writes`)."""

    state: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    writes: Sequence[Any] = ()


@dataclasses.dataclass(frozen=True)
class Result:
    """The decision for one event; `current_version` is the object's version when it was found stale."""

    decision: Decision
    event: RoutedEvent
    ordered: bool = True
    current_version: int | None = None


Apply = Callable[[RoutedEvent, ObjectState | None], Change | None]


class GuardStore(Protocol):
    """Where seen event ids and object versions live. `MemoryStore` and `DynamoDBStore` implement it."""

    def seen(self, event_id: str) -> bool: ...

    def object_state(self, object_key: str) -> ObjectState | None: ...

    def commit(self, event: RoutedEvent, previous: ObjectState | None, change: Change | None) -> None:
        """Atomically: record `event_id` (raise `DuplicateEventError` if it is there), move the object from
        `previous` to `event.object_version` with `change.state` (raise `ConcurrentChangeError` if it is no
        longer at `previous`), and perform `change.writes`. Unordered events touch no object."""
        ...

    def record_stale(self, event: RoutedEvent) -> None:
        """Record `event_id` as seen without applying it (ignore an existing record)."""
        ...


class MemoryStore:
    """A `GuardStore` in memory (tests, local runs, a single long-lived process). Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.events: dict[str, str] = {}  # event_id -> "applied" | "stale"
        self.objects: dict[str, ObjectState] = {}
        self.writes: list[Any] = []

    def seen(self, event_id: str) -> bool:
        with self._lock:
            return event_id in self.events

    def object_state(self, object_key: str) -> ObjectState | None:
        with self._lock:
            return self.objects.get(object_key)

    def commit(self, event: RoutedEvent, previous: ObjectState | None, change: Change | None) -> None:
        with self._lock:
            if event.event_id in self.events:
                raise DuplicateEventError(event.event_id)
            if event.ordered:
                assert event.object_key is not None and event.object_version is not None
                if self.objects.get(event.object_key) != previous:
                    raise ConcurrentChangeError(event.object_key)
                self.objects[event.object_key] = ObjectState(event.object_version, dict((change or Change()).state))
            self.events[event.event_id] = "applied"
            self.writes.extend((change or Change()).writes)

    def record_stale(self, event: RoutedEvent) -> None:
        with self._lock:
            self.events.setdefault(event.event_id, "stale")


def apply_once(event: RoutedEvent, apply: Apply, store: GuardStore, *, attempts: int = 5) -> Result:
    """Decide and, when the fact is new and not stale, apply it (see the module doc).

    Raises what `apply` or the store raise, and `ConsumerError` when the object kept changing under us
    for `attempts` tries (the caller reports the record as failed; SQS delivers it again).
    """
    for _ in range(attempts):
        if store.seen(event.event_id):
            return Result(Decision.DUPLICATE, event, event.ordered)
        current = store.object_state(event.object_key) if event.ordered and event.object_key else None
        if current is not None and event.object_version is not None and event.object_version <= current.version:
            store.record_stale(event)
            return Result(Decision.STALE, event, True, current.version)
        change = apply(event, current)
        try:
            store.commit(event, current, change)
        except DuplicateEventError:
            return Result(Decision.DUPLICATE, event, event.ordered)
        except ConcurrentChangeError:
            continue
        return Result(Decision.APPLIED, event, event.ordered)
    raise ConsumerError(f"object {event.object_key} kept changing during {attempts} attempts")
