"""A provider-independent lifecycle harness: signed deliveries in, what each queue receives out.

A lifecycle is one business story told by a provider (a payment, partial captures, partial refunds, a
dispute and its outcome) as the provider's own signed deliveries. The harness runs each delivery through
the validator's path for provider sources (`module.receive` -> `sources.canonical` -> `CanonicalEvent.item`,
with the table's conditional write: a repeated `event_id` is stored once) and then through the router's
routing decision (`routing.message_for` on the stored item, as the stream hands it over), without AWS.
It collects the routed message bodies per queue, so a test can sum them against the provider's ledger.

Use (see tests/handlers/test_lifecycle_stripe.py)::

    from tests.handlers import lifecycle

    source = lifecycle.source("stripe", options={})              # a configured Source, `type_map` allowed
    deliveries = [lifecycle.Delivery(request, facts=(lifecycle.Fact("refund", "re_1", Decimal("30.00")),))]
    result = lifecycle.run(source, deliveries, secrets=["whsec_..."], now=NOW)
    result.money["refund"]                                         # routed message bodies on refunds-queue
    result.net("refund")                                           # signed sum (money_facts.LEDGER_SIGN)
    lifecycle.assert_ledger(result, deliveries)                    # the three properties below

    @given(order=lifecycle.orderings(len(deliveries)))               # shuffled, with duplicates
    def test(order): lifecycle.assert_ledger(lifecycle.run(source, [deliveries[i] for i in order], ...), deliveries)

`assert_ledger` checks: each money queue's signed sum equals the sum of the expected facts' signed amounts;
every expected money fact appears exactly once (by transaction type, object id, outcome and amount) and
no other fact is on a money queue; every message on a money queue has an outcome of
`money_facts.MONEY_OUTCOMES`. Pass the story's distinct deliveries to `assert_ledger`, each money fact
on the one delivery that carries it.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import sys
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from hypothesis import strategies as st

from tests.handlers.helpers import HANDLERS_DIR

if str(HANDLERS_DIR) not in sys.path:
    sys.path.insert(0, str(HANDLERS_DIR))

import money_facts

import routing
import sources

MONEY_QUEUES = ("payment", "refund", "dispute")
# Queue names the routing decision is taken against (env var -> a name the harness reads back).
QUEUE_URLS: Mapping[str, str] = {
    "PAYMENTS_QUEUE_URL": "payment",
    "REFUNDS_QUEUE_URL": "refund",
    "DISPUTES_QUEUE_URL": "dispute",
    routing.UNROUTED: "unrouted",
    routing.LIFECYCLE: "lifecycle",
}
NOW = datetime.datetime(2026, 12, 1, tzinfo=datetime.UTC)


@dataclasses.dataclass(frozen=True)
class Fact:
    """One money fact a delivery carries: it must reach `transaction_type`'s queue exactly once.

    `outcome` defaults to the type's usual money outcome (payment/refund `succeeded`, dispute `opened`).
    """

    transaction_type: str
    object_id: str
    amount: Decimal
    outcome: str | None = None

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.transaction_type, self.object_id, self.outcome or sources.DEFAULT_OUTCOMES[self.transaction_type])

    @property
    def signed(self) -> Decimal:
        return money_facts.LEDGER_SIGN[(self.transaction_type, self.key[2])] * self.amount


@dataclasses.dataclass(frozen=True)
class Delivery:
    """One signed delivery (`providers.WebhookRequest`) and the money facts it alone carries (often none)."""

    request: Any
    facts: tuple[Fact, ...] = ()
    label: str = ""


@dataclasses.dataclass
class Result:
    """What each queue received: `messages[queue]` is the list of routed bodies (parsed JSON, amounts as
    Decimal). Queues: `payment`, `refund`, `dispute`, `lifecycle`, `unrouted`."""

    messages: dict[str, list[dict[str, Any]]]

    @property
    def money(self) -> dict[str, list[dict[str, Any]]]:
        return {queue: self.messages.get(queue, []) for queue in MONEY_QUEUES}

    def net(self, queue: str) -> Decimal:
        """Signed sum of a money queue's amounts (`money_facts.LEDGER_SIGN`), in major units."""
        return sum(
            (
                money_facts.LEDGER_SIGN[(body["transaction_type"], body["outcome"])] * Decimal(str(body["amount"]))
                for body in self.messages.get(queue, [])
            ),
            Decimal(0),
        )


def source(provider_id: str, *, name: str = "shop", options: Mapping[str, Any] | None = None,
           type_map: Mapping[str, Any] | None = None) -> sources.Source:  # fmt: skip
    """A configured source as the validator loads it from `SOURCES`."""
    entry = {"provider": provider_id, "secret_arn": "arn:aws:secretsmanager:us-east-1:1:secret:x", **(options or {})}
    if type_map is not None:
        entry["type_map"] = dict(type_map)
    return sources.load_sources(json.dumps({name: entry}))[name]


def run(
    source: sources.Source,
    deliveries: Sequence[Delivery],
    *,
    secrets: Sequence[str],
    now: int,
    enrich: Callable[[list[Any]], list[Any]] | None = None,
) -> Result:
    """Run each delivery through the door and the router; return what every queue received.

    `now` is the clock of signature freshness (epoch seconds). A delivery the provider module refuses
    raises (the lifecycle is built from valid deliveries). `enrich`, when given, replaces the provider
    events of each delivery before they become canonical (the door's amount fetch). A repeated event id
    is stored once (the table's conditional write); the same id with another payload raises
    `AssertionError` (a conflict).
    """
    keys = sources.keys(source, list(secrets), lambda index, problem: None)
    stored: dict[str, dict[str, Any]] = {}
    messages: dict[str, list[dict[str, Any]]] = {}
    sequence = 0
    for delivery in deliveries:
        provider_events = source.module.receive(delivery.request, keys, source.options, now)
        if enrich is not None:
            provider_events = enrich(provider_events)  # the door's amount fetch (handlers/enrichment.py)
        for provider_event in provider_events:
            event = sources.canonical(source, provider_event)
            item = event.item(now=NOW, ttl_days=30)
            previous = stored.get(event.event_id)
            if previous is not None:
                assert previous["payload_sha256"] == item["payload_sha256"], f"conflict on {event.event_id}"
                continue
            stored[event.event_id] = item
            sequence += 1
            record = {"eventName": "INSERT", "dynamodb": {"SequenceNumber": str(sequence), "NewImage": item}}
            outgoing = routing.message_for(record, QUEUE_URLS)
            if outgoing is None:
                continue
            body = json.loads(outgoing.message.body, parse_float=Decimal)
            messages.setdefault(outgoing.queue_url, []).append(body)
    return Result(messages)


def expected_facts(deliveries: Sequence[Delivery]) -> list[Fact]:
    """Every expected fact of the distinct deliveries of a story (two facts may share a key, e.g. a second
    chargeback on the same dispute: both are expected)."""
    return [fact for delivery in deliveries for fact in delivery.facts]


def assert_ledger(result: Result, deliveries: Sequence[Delivery]) -> None:
    """The lifecycle properties (module docstring). `deliveries` are the distinct ones of the story."""
    facts = expected_facts(deliveries)
    for queue in MONEY_QUEUES:
        bodies = result.money[queue]
        for body in bodies:
            assert body["transaction_type"] == queue, body
            assert body.get("outcome") in money_facts.MONEY_OUTCOMES[queue], body
        seen = sorted(
            ((body["transaction_type"], body.get("object_id"), body["outcome"]), Decimal(str(body["amount"])))
            for body in bodies
        )
        wanted = sorted((fact.key, fact.amount) for fact in facts if fact.transaction_type == queue)
        assert seen == wanted, f"{queue}: got {seen}, want {wanted}"
        assert result.net(queue) == sum((f.signed for f in facts if f.transaction_type == queue), Decimal(0))


def orderings(count: int, *, max_duplicates: int = 4) -> st.SearchStrategy[list[int]]:
    """Indexes 0..count-1, each at least once, shuffled, with up to `max_duplicates` repeats anywhere:
    the provider's at-least-once, unordered delivery."""
    return st.tuples(
        st.permutations(range(count)),
        st.lists(st.integers(0, count - 1), max_size=max_duplicates),
        st.randoms(use_true_random=False),
    ).map(lambda drawn: _shuffled([*drawn[0], *drawn[1]], drawn[2]))


def _shuffled(indexes: list[int], random: Any) -> list[int]:
    random.shuffle(indexes)
    return indexes
