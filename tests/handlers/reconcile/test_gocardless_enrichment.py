"""GoCardless amounts fetched from the API (`"enrich": true`): at the door and in the reconciler, never guessed.

The stub serves `GET /payments/{id}` and `GET /refunds/{id}` from the official SDK's fixture answers;
the door (`validator.process`) and the reconciler (`reconciler.reconcile`) run for real against moto.
Every failure of the fetch is a 503 (GoCardless retries) or a refusal with `amount_not_found` (kept in the
quarantine), and never an item stored without its amount.
"""

from __future__ import annotations

import datetime
import sys
import time
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline_tools.sandbox.provider_stubs import StubResponse
from tests.handlers.reconcile.harness import SOURCE, Harness

NOW = datetime.datetime(2026, 11, 20, 12, 0, tzinfo=datetime.UTC)
# GoCardless's Direct Debit currencies (provider_exponents/gocardless.json), all with two decimals.
CURRENCIES = ("AUD", "CAD", "DKK", "EUR", "GBP", "NZD", "SEK", "USD")


def status(code: int, headers: dict[str, str] | None = None, body: bytes = b"{}") -> StubResponse:
    return StubResponse(code, body, {"Content-Type": "application/json", **(headers or {})})


def add(harness: Harness, resource_type: str, action: str, links: dict[str, str], minutes: int = 0) -> int:
    """A GoCardless event of `resource_type.action` linking `links`, in the stub; its index."""
    index = len(harness.stub.events)
    event = harness.stub.make_event(index, NOW - datetime.timedelta(hours=1) + datetime.timedelta(minutes=minutes))
    event.update(resource_type=resource_type, action=action, links=links)
    harness.stub.add(event)
    return index


def story(harness: Harness) -> dict[str, int]:
    """A payment confirmed and refunded, with lifecycle events around it: index by label."""
    harness.stub.add_payment("PM0001", 1234, "GBP")
    harness.stub.add_refund("RF0001", "500", "GBP", payment_id="PM0001")  # the SDK fixtures' string form
    return {
        "created": add(harness, "payments", "created", {"payment": "PM0001"}, 1),
        "confirmed": add(harness, "payments", "confirmed", {"payment": "PM0001"}, 2),
        "refund_paid": add(harness, "refunds", "paid", {"refund": "RF0001", "payment": "PM0001"}, 3),
        "mandate": add(harness, "mandates", "active", {"mandate": "MD0001"}, 4),
    }


def event_id(harness: Harness, index: int) -> str:
    return f"{SOURCE}:{harness.stub.events[index]['id']}"


def object_calls(harness: Harness) -> list[Any]:
    return [request for request in harness.stub.requests if request.path != "/events"]


@pytest.fixture
def door(aws, httpserver, monkeypatch) -> Harness:
    harness = Harness("gocardless", httpserver, monkeypatch, enrich=True)
    harness.door_sleeps = []  # type: ignore[attr-defined]
    monkeypatch.setattr(sys.modules["enrichment"], "SLEEP", harness.door_sleeps.append)  # type: ignore[attr-defined]
    return harness


def test_money_facts_are_stored_with_the_fetched_amount_and_lifecycle_facts_without(door: Harness) -> None:
    labels = story(door)
    assert door.deliver(list(labels.values()), NOW) == 202
    items = door.items()
    confirmed, refund = items[event_id(door, labels["confirmed"])], items[event_id(door, labels["refund_paid"])]
    assert (confirmed["amount_text"]["S"], confirmed["currency"]["S"]) == ("12.34", "GBP")
    assert (refund["amount_text"]["S"], refund["currency"]["S"]) == ("5.00", "GBP")
    for label in ("created", "mandate"):
        assert "amount" not in items[event_id(door, labels[label])]  # lifecycle facts: no call, no amount
    calls = object_calls(door)
    assert sorted(call.path for call in calls) == ["/payments/PM0001", "/refunds/RF0001"]
    assert all(call.headers["gocardless-version"] == "2015-07-06" for call in calls)
    assert all(call.headers["authorization"].startswith("Bearer ") for call in calls)


def test_a_delivery_without_money_facts_reads_no_secret_and_calls_nothing(door: Harness) -> None:
    index = add(door, "mandates", "created", {"mandate": "MD0001"})
    assert door.deliver(index, NOW) == 202
    assert object_calls(door) == []


def test_429_with_retry_after_is_waited_then_the_amount_is_stored(door: Harness) -> None:
    labels = story(door)
    door.stub.fail_next(status(429, {"Retry-After": "1"}))
    assert door.deliver(labels["confirmed"], NOW) == 202
    assert door.door_sleeps == [1.0]  # type: ignore[attr-defined]
    assert door.items()[event_id(door, labels["confirmed"])]["amount_text"]["S"] == "12.34"


def _slow() -> StubResponse:
    time.sleep(0.6)
    return status(200, body=b'{"payments": {}}')


@pytest.mark.parametrize(
    ("faults", "label"),
    [
        ((status(429, {"Retry-After": "1"}), status(429, {"Retry-After": "1"})), "429 twice"),
        ((status(500), status(503)), "5xx"),
        ((_slow, _slow), "timeout"),
        # An answer that parses but holds no exact amount is not retried at once (the same answer would come).
        ((status(200, body=b'{"payments": {"id": "PM0001", "amount": 12.34, "currency": "GBP"}}'),), "float"),
        ((status(200, body=b'{"payments": {"id": "PM0009", "amount": 1234, "currency": "GBP"}}'),), "other id"),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_a_failed_fetch_is_503_stores_nothing_and_the_retry_stores_the_amount(
    door: Harness, monkeypatch: pytest.MonkeyPatch, faults: tuple[Any, ...], label: str
) -> None:
    monkeypatch.setattr(sys.modules["enrichment"], "DOOR_TIMEOUT_SECONDS", 0.3)
    labels = story(door)
    door.stub.fail_next(*faults)
    answer = door.deliver_answer([labels["created"], labels["confirmed"]], NOW)
    assert answer["statusCode"] == 503 and answer["headers"]["Retry-After"] == "5", label
    assert door.items() == {}  # nothing of the batch, not even its lifecycle fact: GoCardless resends all
    assert len(object_calls(door)) == len(faults)  # DOOR_MAX_ATTEMPTS at most
    assert door.deliver([labels["created"], labels["confirmed"]], NOW) == 202  # GoCardless's retry
    assert door.items()[event_id(door, labels["confirmed"])]["amount_text"]["S"] == "12.34"


def test_a_revoked_api_key_is_503_without_retrying_the_provider(door: Harness) -> None:
    labels = story(door)
    door.stub.api_key = "revoked"
    assert door.deliver(labels["confirmed"], NOW) == 503
    assert len(object_calls(door)) == 1  # 401 is not retried: a revoked key does not heal by hammering
    assert door.items() == {}


def test_an_unknown_payment_is_refused_with_its_reason_and_nothing_is_stored(door: Harness) -> None:
    index = add(door, "payments", "confirmed", {"payment": "PM9999"})
    answer = door.deliver_answer(index, NOW)
    assert answer["statusCode"] == 422 and '"amount_not_found"' in answer["body"]
    assert door.items() == {}


def test_no_fetch_is_started_that_would_leave_no_time_to_store(door: Harness) -> None:
    import sdk_config

    labels = story(door)
    validator = door.validator
    # Just enough time for one worst-case write and the answer: none left to fetch.
    validator._deadline = time.monotonic() + sdk_config.worst_case_call_seconds() + sdk_config.ANSWER_MARGIN_SECONDS
    started = time.monotonic()
    assert door.deliver(labels["confirmed"], NOW) == 503
    assert time.monotonic() - started < 1.0 and object_calls(door) == [] and door.items() == {}


def test_a_retry_after_past_the_budget_ends_the_call_at_once(door: Harness) -> None:
    import sdk_config

    labels = story(door)
    door.validator._deadline = time.monotonic() + sdk_config.worst_case_call_seconds() + 2.5
    door.stub.fail_next(status(429, {"Retry-After": "30"}))
    assert door.deliver(labels["confirmed"], NOW) == 503
    assert door.door_sleeps == [] and len(object_calls(door)) == 1  # type: ignore[attr-defined]


def test_the_reconciler_stores_the_same_enriched_facts_as_the_door(door: Harness) -> None:
    labels = story(door)
    assert door.deliver([labels["created"], labels["confirmed"]], NOW) == 202
    by_door = door.items()
    report = door.run(NOW)
    assert report.written == 2  # the refund and the mandate never reached the door
    items = door.items()
    refund = items[event_id(door, labels["refund_paid"])]
    assert (refund["amount_text"]["S"], refund["currency"]["S"], refund["origin"]["S"]) == ("5.00", "GBP", "reconciler")
    assert "amount" not in items[event_id(door, labels["mandate"])]
    for key, item in by_door.items():
        assert items[key] == item  # the door's items are untouched
    # The late webhook of the recovered refund is a duplicate: same payload, same amount.
    assert door.deliver(labels["refund_paid"], NOW) == 200


def test_reconciler_an_unknown_refund_is_refused_and_listed_again_next_run(door: Harness) -> None:
    index = add(door, "refunds", "paid", {"refund": "RF7777", "payment": "PM0001"})
    first = door.run(NOW)
    assert (first.refused, first.written, door.items()) == (1, 0, {})
    door.stub.add_refund("RF7777", 250, "EUR")
    second = door.run(NOW + datetime.timedelta(minutes=5))
    assert second.written == 1
    assert door.items()[event_id(door, index)]["amount_text"]["S"] == "2.50"


def test_reconciler_a_failing_fetch_fails_the_run_and_stores_nothing(door: Harness) -> None:
    labels = story(door)
    provider_api = sys.modules["provider_api"]
    real = door.stub.answer
    door.stub.answer = lambda request: real(request) if request.path == "/events" else status(500)  # type: ignore[method-assign]
    with pytest.raises(provider_api.ProviderApiError) as failure:
        door.run(NOW)
    assert failure.value.reason == "server_error"
    assert event_id(door, labels["confirmed"]) not in door.items()
    door.stub.answer = real  # type: ignore[method-assign]
    door.run(NOW)
    assert door.items()[event_id(door, labels["confirmed"])]["amount_text"]["S"] == "12.34"


# --- the reading of one answer, for any amount and currency ------------------------------------------


@settings(max_examples=200, deadline=None)
@given(
    amount=st.integers(1, 10**15),
    as_text=st.booleans(),
    currency=st.sampled_from(CURRENCIES),
    resource=st.sampled_from(["payments", "refunds"]),
)
def test_any_minor_amount_becomes_its_exact_major_amount(
    amount: int, as_text: bool, currency: str, resource: str
) -> None:
    harness_modules = _handler_modules()
    gocardless, sources = harness_modules["providers.gocardless"], harness_modules["sources"]
    object_id = "PM0001" if resource == "payments" else "RF0001"
    link = "payment" if resource == "payments" else "refund"
    event = _provider_event(gocardless, resource, "confirmed" if resource == "payments" else "paid", {link: object_id})
    document = {resource: {"id": object_id, "amount": str(amount) if as_text else amount, "currency": currency}}
    minor, code = gocardless.amount_of(event, document)
    source = sources.load_sources('{"shop": {"provider": "gocardless", "secret_arn": "x"}}')["shop"]
    import dataclasses

    canonical = sources.canonical(
        source, dataclasses.replace(event, amount=Decimal(minor), amount_unit="minor", currency=code)
    )
    assert canonical.amount == Decimal(amount).scaleb(-2) and canonical.currency == currency


@pytest.mark.parametrize(
    "answer",
    [
        {"payments": {"id": "PM0001", "amount": 0, "currency": "GBP"}},
        {"payments": {"id": "PM0001", "amount": -5, "currency": "GBP"}},
        {"payments": {"id": "PM0001", "amount": True, "currency": "GBP"}},
        {"payments": {"id": "PM0001", "amount": "12.34", "currency": "GBP"}},
        {"payments": {"id": "PM0001", "amount": Decimal("12.34"), "currency": "GBP"}},
        {"payments": {"id": "PM0001", "amount": 1234, "currency": "gbp"}},
        {"payments": {"id": "PM0001", "amount": 1234}},
        {"payments": {"id": "PM0002", "amount": 1234, "currency": "GBP"}},
        {"refunds": {"id": "PM0001", "amount": 1234, "currency": "GBP"}},
        {},
    ],
)
def test_an_answer_without_an_exact_amount_is_never_read_as_one(answer: dict[str, Any]) -> None:
    gocardless = _handler_modules()["providers.gocardless"]
    event = _provider_event(gocardless, "payments", "confirmed", {"payment": "PM0001"})
    with pytest.raises(ValueError):
        gocardless.amount_of(event, answer)


def _handler_modules() -> dict[str, Any]:
    import sources
    from providers import gocardless

    return {"providers.gocardless": gocardless, "sources": sources}


def _provider_event(module: Any, resource_type: str, action: str, links: dict[str, str]) -> Any:
    item = {"id": "EV0001", "created_at": "2026-11-20T10:00:00.000Z", "resource_type": resource_type,
            "action": action, "links": links, "details": {}}  # fmt: skip
    return module._event(item, 0)
