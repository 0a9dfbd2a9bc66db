"""Mollie classic lifecycles through the door and the router: each money fact once, sums equal the ledger.

Unlike a signed provider, a classic webhook carries no state: each delivery fetches what Mollie holds *at
that moment* (`MollieStub`, the documented Get payment example). So the story is a sequence of changes
at Mollie, and the property draws how many webhooks (0..3, i.e. lost, delivered, repeated) arrive after
each change, with at least one after the last (Mollie retries until one is acknowledged). Whatever
arrived, the money queues must hold exactly the final state's money facts, each once, and no
`<object id>:<state>` may ever be stored with two payloads (the lifecycle harness fails on a conflict).
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterator
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pytest_httpserver import HTTPServer

from pipeline_tools.sandbox.provider_stubs import MollieStub
from tests.handlers import lifecycle
from tests.handlers.lifecycle import Delivery, Fact
from tests.handlers.providers.signing_b import request

KEY = "test_dHar4XY7LxsDOtmnkVtjNVWXLSlXsM"
T0 = datetime.datetime(2026, 11, 20, 10, 0, tzinfo=datetime.UTC)
PAYMENT = "tr_0000000001"
WEBHOOK = Delivery(request({"Content-Type": "application/x-www-form-urlencoded"}, f"id={PAYMENT}"))


def _at(minutes: int) -> datetime.datetime:
    return T0 + datetime.timedelta(minutes=minutes)


def story(reversed_chargeback: bool) -> list[Callable[[MollieStub], None]]:
    """Paid 10.00 (the documented example); refund re_1 of 4.00 queued, then refunded; refund re_2 of
    1.00 failed; a chargeback of 6.00 received, maybe reversed."""
    steps: list[Callable[[MollieStub], None]] = [
        lambda stub: stub.add(stub.make_event(1, T0)),
        lambda stub: stub.add_refund(PAYMENT, "re_1", "4.00", "queued", _at(60)),
        lambda stub: stub.add_refund(PAYMENT, "re_1", "4.00", "refunded", _at(60)),
        lambda stub: stub.add_refund(PAYMENT, "re_2", "1.00", "failed", _at(90)),
        lambda stub: stub.add_chargeback(PAYMENT, "chb_1", "6.00", _at(2000)),
    ]
    if reversed_chargeback:
        steps.append(lambda stub: stub.add_chargeback(PAYMENT, "chb_1", "6.00", _at(2000), _at(9000)))
    return steps


def final_facts(reversed_chargeback: bool) -> list[Delivery]:
    """The money facts of the final state, as `assert_ledger` reads them (on one delivery each)."""
    facts = [
        Fact("payment", PAYMENT, Decimal("10.00")),
        Fact("refund", "re_1", Decimal("4.00")),
        Fact("dispute", "chb_1", Decimal("6.00"), "opened"),
    ]
    if reversed_chargeback:
        facts.append(Fact("dispute", "chb_1", Decimal("6.00"), "reversed"))
    return [Delivery(WEBHOOK.request, (fact,)) for fact in facts]


def deliveries(stub: MollieStub, steps: list[Callable[[MollieStub], None]], counts: list[int]) -> Iterator[Delivery]:
    """Each change at Mollie, then that many webhooks: fetched lazily, so each sees the state of its moment."""
    for step, count in zip(steps, counts, strict=True):
        step(stub)
        yield from [WEBHOOK] * count


def run(httpserver: HTTPServer, reversed_chargeback: bool, counts: list[int]) -> lifecycle.Result:
    from tests.handlers.reconcile.harness import serve_stub

    stub = MollieStub(api_key=KEY)
    httpserver.clear()
    serve_stub(httpserver, stub)
    source = lifecycle.source("mollie-classic", options={"api_base_url": stub.base_url})
    steps = story(reversed_chargeback)
    return lifecycle.run(source, deliveries(stub, steps, counts), secrets=[KEY], now=int(T0.timestamp()))  # type: ignore[arg-type]


def test_one_webhook_after_every_change(httpserver: HTTPServer) -> None:
    result = run(httpserver, True, [1] * 6)
    lifecycle.assert_ledger(result, final_facts(True))
    assert [body["parent_object_id"] for body in result.money["refund"]] == [PAYMENT]
    # The non-money states were delivered too (lifecycle queue): the queued refund, the failed one.
    kinds = sorted(body["provider_event_type"] for body in result.messages["lifecycle"])
    assert kinds == ["refund.failed", "refund.queued"]
    assert "unrouted" not in result.messages


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(reversed_chargeback=st.booleans(), data=st.data())
def test_lost_and_repeated_webhooks_keep_the_ledger(
    httpserver: HTTPServer, reversed_chargeback: bool, data: st.DataObject
) -> None:
    steps = len(story(reversed_chargeback))
    earlier = data.draw(st.lists(st.integers(0, 3), min_size=steps - 1, max_size=steps - 1))
    counts = [*earlier, data.draw(st.integers(1, 3))]  # Mollie retries the last one until acknowledged
    lifecycle.assert_ledger(run(httpserver, reversed_chargeback, counts), final_facts(reversed_chargeback))
