"""The money contract at the door and the router: outcome fields, defaults, and where each fact goes."""

from __future__ import annotations

import datetime
import json
from types import ModuleType

import money_facts
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.handlers.helpers import FakeContext, fresh_import
from tests.handlers.test_router import drain, store_events

import providers
import routing
import sources
import webhook_event

QUEUES = {"PAYMENTS_QUEUE_URL": "payment", "REFUNDS_QUEUE_URL": "refund", "DISPUTES_QUEUE_URL": "dispute",
          "UNROUTED_QUEUE_URL": "unrouted", "LIFECYCLE_QUEUE_URL": "lifecycle"}  # fmt: skip
TYPES = ("payment", "refund", "dispute", "other", "subscription")


@given(transaction_type=st.sampled_from(TYPES), outcome=st.sampled_from((None, *money_facts.OUTCOMES)))
def test_destination_of_every_type_and_outcome(transaction_type: str, outcome: str | None) -> None:
    queue = routing.destination(transaction_type, outcome, QUEUES)
    if outcome is None:  # items stored before outcomes: the old route
        assert queue == (transaction_type if transaction_type in ("payment", "refund", "dispute") else "unrouted")
    elif money_facts.is_money_fact(transaction_type, outcome):
        assert queue == transaction_type
    else:  # a known fact that moves no money: never a money queue, never the unknown-type alarm
        assert queue == "lifecycle"


@pytest.mark.parametrize(("transaction_type", "outcome"), [("payment", "succeeded"), ("refund", "succeeded"),
                                                            ("dispute", "opened"), ("chargeback", None)])  # fmt: skip
def test_post_webhook_without_outcome_routes_as_before(transaction_type: str, outcome: str | None) -> None:
    body = {"event_id": "e1", "transaction_type": transaction_type, "amount": 1, "timestamp": "2026-01-01T00:00:00Z"}
    event = webhook_event.parse_event(json.dumps(body).encode())
    assert event.outcome == outcome
    assert (event.object_id, event.parent_object_id, event.object_version) == (None, None, None)


def test_post_webhook_carries_the_money_fact_fields_to_item_and_message() -> None:
    body = {"event_id": "e1", "transaction_type": "refund", "amount": 30, "currency": "USD", "outcome": "failed",
            "object_id": "re_1", "parent_object_id": "pi_1", "object_version": 1_764_000_000_123_456,
            "timestamp": "2026-01-01T00:00:00Z"}  # fmt: skip
    event = webhook_event.parse_event(json.dumps(body).encode())
    item = event.item(now=datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC), ttl_days=1)
    assert item["outcome"] == {"S": "failed"} and item["object_id"] == {"S": "re_1"}
    assert item["parent_object_id"] == {"S": "pi_1"} and item["object_version"] == {"N": "1764000000123456"}
    message = event.message("2026-01-01T00:00:00.000Z")
    assert message.attributes["outcome"] == "failed"
    assert '"outcome":"failed","amount":30.00,"currency":"USD","object_id":"re_1","parent_object_id":"pi_1",' \
           '"object_version":1764000000123456,' in message.body  # fmt: skip


@pytest.mark.parametrize(
    ("member", "value"),
    [("outcome", "paid"), ("outcome", ""), ("object_id", ""), ("object_id", "x" * 257), ("object_version", 1.5),
     ("object_version", -1), ("object_version", "7"), ("parent_object_id", 3)],
)  # fmt: skip
def test_post_webhook_refuses_bad_money_fact_fields_naming_them(member: str, value: object) -> None:
    body = {"event_id": "e1", "transaction_type": "payment", "amount": 1, "timestamp": "2026-01-01T00:00:00Z",
            member: value}  # fmt: skip
    with pytest.raises(webhook_event.InvalidEventError) as raised:
        webhook_event.parse_event(json.dumps(body).encode())
    assert raised.value.field == member


def test_type_map_objects_set_the_outcome_policy() -> None:
    types, outcomes = sources.type_map_entries(
        {"a": "payment", "b": {"outcome": "authorized"}, "c": {"transaction_type": "refund", "outcome": "failed"}}
    )
    assert types == {"a": "payment", "c": "refund"}
    assert outcomes == {"b": "authorized", "c": "failed"}


def test_router_sends_non_money_facts_to_lifecycle_and_raises_no_unrouted_metric(
    events_table: str, queues: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    router: ModuleType = fresh_import("router")
    bodies = [
        '{"event_id":"e_auth","transaction_type":"payment","amount":10,"currency":"USD","outcome":"authorized",'
        '"object_id":"pi_1","timestamp":"2026-11-28T10:00:00Z"}',
        '{"event_id":"e_paid","transaction_type":"payment","amount":10,"currency":"USD","outcome":"succeeded",'
        '"object_id":"pi_1","timestamp":"2026-11-28T10:00:01Z"}',
        '{"event_id":"e_lost","transaction_type":"dispute","amount":10,"currency":"USD","outcome":"lost",'
        '"object_id":"du_1","parent_object_id":"pi_1","timestamp":"2026-11-28T10:00:02Z"}',
        '{"event_id":"e_sub","transaction_type":"subscription","amount":10,"currency":"USD","outcome":"pending",'
        '"timestamp":"2026-11-28T10:00:03Z"}',
    ]
    assert router.handler({"Records": store_events(bodies)}, FakeContext()) == {"batchItemFailures": []}
    ids = {
        name: [m["MessageAttributes"]["event_id"]["StringValue"] for m in drain(url)] for name, url in queues.items()
    }
    assert sorted(ids["LIFECYCLE_QUEUE_URL"]) == ["e_auth", "e_sub"]
    assert ids["PAYMENTS_QUEUE_URL"] == ["e_paid"]
    assert ids["DISPUTES_QUEUE_URL"] == ["e_lost"]
    assert ids["UNROUTED_QUEUE_URL"] == []
    assert '"Unrouted"' not in capsys.readouterr().out  # the unknown-type alarm's metric


def test_a_stripe_sample_body_amount_is_this_facts_amount() -> None:
    """The regression of the issue in one line: charge.refunded's running total is never a refund amount."""
    source = sources.load_sources(json.dumps({"s": {"provider": "stripe", "secret_arn": "arn"}}))["s"]
    event = source.module.read(
        providers.WebhookRequest(
            {},
            b"",
            json.dumps(
                {
                    "id": "evt_1",
                    "type": "charge.refunded",
                    "created": 1,
                    "data": {"object": {"id": "ch_1", "amount": 10000, "amount_refunded": 5000, "currency": "usd"}},
                }
            ),
            "",
        )
    )
    canonical = sources.canonical(source, event)
    assert (canonical.transaction_type, canonical.outcome, canonical.amount) == ("other", "succeeded", None)


def _routed_queue(body: dict[str, object]) -> tuple[str, str | None]:
    import tests.handlers.lifecycle as lifecycle

    item = webhook_event.parse_event(json.dumps(body).encode()).item(now=lifecycle.NOW, ttl_days=30)
    record = {"eventName": "INSERT", "dynamodb": {"SequenceNumber": "1", "NewImage": item}}
    outgoing = routing.message_for(record, lifecycle.QUEUE_URLS)
    assert outgoing is not None
    return outgoing.queue_url, outgoing.unrouted_reason


def test_post_webhook_money_fact_without_object_id_is_parked() -> None:
    """Red-team RT-5 (the reproduction): README "The money contract": "Every money fact on a money queue
    carries an `object_id`, an `amount` ... and a `currency`"; the schema requires neither, and the outcome
    defaults to `succeeded`. Such a body is stored and parked, never routed to payments-queue."""
    body = {"event_id": "evt_no_object", "transaction_type": "payment", "amount": 10.5,
            "timestamp": "2026-11-20T10:00:00Z"}  # fmt: skip
    assert _routed_queue(body)[0] == "unrouted"


@given(
    transaction_type=st.sampled_from(TYPES),
    outcome=st.sampled_from((None, *money_facts.OUTCOMES)),
    has_object=st.booleans(),
    has_currency=st.booleans(),
    amount=st.sampled_from(("0.01", "10.50", "999999.99")),
)
def test_post_webhook_routes_a_money_fact_only_with_object_id_and_currency(
    transaction_type: str, outcome: str | None, has_object: bool, has_currency: bool, amount: str
) -> None:
    """Every `POST /webhook` body that is a money fact (its type's money outcome, stated or defaulted) reaches
    its money queue only with both `object_id` and `currency`; without either it is parked with the reason
    (`unknown_currency_exponent` first, as `sources.canonical` checks the currency first). Anything else
    routes exactly as before: the contract adds parking, never moves a non-money fact."""
    body: dict[str, object] = {"event_id": "e1", "transaction_type": transaction_type,
                               "timestamp": "2026-11-20T10:00:00Z"}  # fmt: skip
    body["amount"] = float(amount)
    if outcome is not None:
        body["outcome"] = outcome
    if has_object:
        body["object_id"] = "obj_1"
    if has_currency:
        body["currency"] = "USD"
    queue, reason = _routed_queue(body)
    effective = outcome or webhook_event.DEFAULT_OUTCOMES.get(transaction_type)
    expected = routing.destination(transaction_type, effective, QUEUES)
    if money_facts.is_money_fact(transaction_type, effective) and not (has_object and has_currency):
        assert (queue, reason) == ("unrouted", "unknown_currency_exponent" if not has_currency else "missing_object_id")
    else:
        assert queue == expected
