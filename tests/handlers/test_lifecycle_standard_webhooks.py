"""Standard Webhooks lifecycles (a generic sender) through the door and the router, under the payload
contract of docs/providers/standard-webhooks.md: the source's `type_map` maps the sender's kinds, the
sender states the outcome at `outcome_field` and the objects at `object_id_field` /
`parent_object_id_field` / `object_version_field`; a `type_map` outcome overrides the sender's.

Bodies have the spec's recommended `{type, timestamp, data}` shape (the shared Svix-style sample) and are
signed by the reference `standardwebhooks` package.
"""

from __future__ import annotations

import base64
import copy
import datetime
import json
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from standardwebhooks.webhooks import Webhook

from tests.handlers import lifecycle
from tests.handlers.lifecycle import Delivery, Fact
from tests.handlers.providers.signing_b import fixture_text, request

SECRET = "whsec_" + base64.b64encode(b"lifecycle-standard-webhooks-key-01").decode()
NOW = 1_800_000_000
OPTIONS = {
    "amount_field": "data.amount", "currency_field": "data.currency", "amount_unit": "minor",
    "outcome_field": "data.status", "object_id_field": "data.id", "parent_object_id_field": "data.payment_id",
    "object_version_field": "data.version",
}  # fmt: skip
TYPE_MAP = {
    "payment.created": {"transaction_type": "payment", "outcome": "pending"},  # the source's policy wins
    "payment.succeeded": "payment",
    "payment.failed": "payment",
    "refund.updated": "refund",
    "dispute.updated": "dispute",
    "invoice.paid": {"transaction_type": "other", "outcome": "succeeded"},  # says a payment's fact again
}
SOURCE = lifecycle.source("standard-webhooks", options=OPTIONS, type_map=TYPE_MAP)
SAMPLE = json.loads(fixture_text("standard-webhooks/payment.succeeded_svix_style.json"))
BODY_TIME_US = int(datetime.datetime(2026, 11, 20, 10, tzinfo=datetime.UTC).timestamp()) * 1_000_000


def delivery(number: int, kind: str, data: dict[str, Any], *facts: Fact) -> Delivery:
    body = copy.deepcopy(SAMPLE) | {"type": kind, "data": data}
    text = json.dumps(body)
    moment = datetime.datetime.fromtimestamp(NOW, tz=datetime.UTC)
    msg_id = f"msg_lifecycle{number:04d}"
    headers = {"webhook-id": msg_id, "webhook-timestamp": str(NOW),
               "webhook-signature": Webhook(SECRET).sign(msg_id, moment, text)}  # fmt: skip
    return Delivery(request(headers, text), facts, kind)


def obj(object_id: str, status: str, cents: int, version: int, payment_id: str | None = None) -> dict[str, Any]:
    data = {"id": object_id, "status": status, "amount": cents, "currency": "EUR", "version": version}
    return data | ({"payment_id": payment_id} if payment_id else {})


def story(dispute_outcome: str) -> list[Delivery]:
    """EUR 19.99 paid after a failed attempt; a 5.00 refund pending then succeeded; a dispute opened and
    then `dispute_outcome`; an invoice kind that repeats the payment; a kind the source does not map."""
    return [
        delivery(1, "payment.created", obj("pay_1", "succeeded", 1999, 1)),  # type_map: pending
        delivery(2, "payment.failed", obj("pay_1", "failed", 1999, 2)),
        delivery(3, "payment.succeeded", obj("pay_1", "succeeded", 1999, 3), Fact("payment", "pay_1", Decimal("19.99"))),
        delivery(4, "invoice.paid", obj("in_1", "paid", 1999, 1, "pay_1")),
        delivery(5, "refund.updated", obj("re_1", "pending", 500, 1, "pay_1")),
        delivery(6, "refund.updated", obj("re_1", "succeeded", 500, 2, "pay_1"), Fact("refund", "re_1", Decimal("5.00"))),
        delivery(7, "dispute.updated", obj("dp_1", "opened", 1499, 1, "pay_1"),
                 Fact("dispute", "dp_1", Decimal("14.99"), "opened")),
        delivery(8, "dispute.updated", obj("dp_1", dispute_outcome, 1499, 2, "pay_1"),
                 Fact("dispute", "dp_1", Decimal("14.99"), dispute_outcome)),
        delivery(9, "customer.updated", obj("cus_1", "succeeded", 0, 1)),  # unmapped: its status means nothing
    ]  # fmt: skip


def test_the_senders_outcomes_route_the_facts_and_an_unmapped_kind_stays_unknown() -> None:
    deliveries = story("won")
    result = lifecycle.run(SOURCE, deliveries, secrets=[SECRET], now=NOW)
    [paid] = result.money["payment"]
    assert (paid["object_id"], paid["object_version"], paid["amount"]) == ("pay_1", 3, Decimal("19.99"))
    [refunded] = result.money["refund"]
    assert (refunded["object_id"], refunded["parent_object_id"]) == ("re_1", "pay_1")
    assert [(b["provider_event_type"], b["outcome"]) for b in result.messages["lifecycle"]] == [
        ("payment.created", "pending"), ("payment.failed", "failed"), ("invoice.paid", "succeeded"),
        ("refund.updated", "pending")]  # fmt: skip
    [unknown] = result.messages["unrouted"]
    assert unknown["provider_event_type"] == "customer.updated" and "outcome" not in unknown
    lifecycle.assert_ledger(result, deliveries)
    assert sum(result.net(queue) for queue in lifecycle.MONEY_QUEUES) == Decimal("14.99")  # 19.99 - 5.00 (won)


@settings(max_examples=30, deadline=None)
@given(dispute_outcome=st.sampled_from(["won", "lost", "reversed"]), data=st.data())
def test_any_order_and_any_repeats_keep_the_ledger(dispute_outcome: str, data: st.DataObject) -> None:
    deliveries = story(dispute_outcome)
    order = data.draw(lifecycle.orderings(len(deliveries)))
    result = lifecycle.run(SOURCE, [deliveries[index] for index in order], secrets=[SECRET], now=NOW)
    lifecycle.assert_ledger(result, deliveries)


def test_without_the_contract_options_a_mapped_kind_keeps_its_old_route() -> None:
    """A source that sets only `object_id_field` of the contract options routes as before: type_map's
    type, its money outcome; the version is the event time (the body's `timestamp`) in microseconds."""
    source = lifecycle.source("standard-webhooks", options={"amount_field": "data.amount",
        "currency_field": "data.currency", "amount_unit": "minor", "object_id_field": "data.id"},
        type_map={"payment.succeeded": "payment"})  # fmt: skip
    result = lifecycle.run(source, [delivery(1, "payment.succeeded", obj("pay_1", "failed", 1999, 3))],
                           secrets=[SECRET], now=NOW)  # fmt: skip
    [paid] = result.money["payment"]
    assert (paid["outcome"], paid.get("object_id"), paid["object_version"]) == ("succeeded", "pay_1", BODY_TIME_US)


MAPPED = {"payment.succeeded": "payment", "refund.updated": "refund", "dispute.updated": "dispute",
          "payment.reversed": {"transaction_type": "payment", "outcome": "reversed"}}  # fmt: skip


@settings(max_examples=40, deadline=None)
@given(kind=st.sampled_from(sorted(MAPPED)), with_id_field=st.booleans(), cents=st.integers(1, 10**9))
def test_a_money_fact_without_an_object_id_is_parked_never_booked(kind: str, with_id_field: bool, cents: int) -> None:
    """Red-team finding 1: a refund, dispute or reversal without an object_id reached a money queue.
    Consumers dedupe and order money facts by object_id: without one (the option unset, or the path
    empty) the fact is stored and parked (`missing_object_id`), never on a money queue."""
    options = {"amount_field": "data.amount", "currency_field": "data.currency", "amount_unit": "minor"}
    options |= {"object_id_field": "data.missing"} if with_id_field else {}
    source = lifecycle.source("standard-webhooks", options=options, type_map=MAPPED)
    data = {"id": "obj_1", "amount": cents, "currency": "EUR"}
    result = lifecycle.run(source, [delivery(1, kind, data)], secrets=[SECRET], now=NOW)
    assert not any(result.money.values())
    [parked] = result.messages["unrouted"]
    assert parked["unrouted_reason"] == "missing_object_id"


@pytest.mark.parametrize("status", [None, "absent"])
def test_a_null_or_absent_outcome_at_outcome_field_is_parked_never_succeeded(status: str | None) -> None:
    """Red-team finding 2: the source says the outcome is at `data.status`; a null or absent value there
    fell back to `succeeded` and booked money. It is parked (`missing_outcome`), never guessed."""
    data = obj("pay_1", "x", 1999, 1)
    if status is None:
        data["status"] = None
    else:
        del data["status"]
    result = lifecycle.run(SOURCE, [delivery(1, "payment.succeeded", data)], secrets=[SECRET], now=NOW)
    assert not any(result.money.values())
    [parked] = result.messages["unrouted"]
    assert parked["unrouted_reason"] == "missing_outcome" and "outcome" not in parked
    # A type_map outcome still wins over the missing value (the source's own policy: payment.created).
    created = lifecycle.run(SOURCE, [delivery(2, "payment.created", data)], secrets=[SECRET], now=NOW)
    assert [body["outcome"] for body in created.messages["lifecycle"]] == ["pending"]


def test_a_mapped_kind_stating_another_word_is_parked_not_guessed() -> None:
    """`declined` is not an outcome: the event is stored and parked (`unknown_outcome`), never routed as the
    type's usual `succeeded`; an unmapped kind's word is ignored (it is unknown anyway)."""
    declined = delivery(1, "payment.failed", obj("pay_2", "declined", 1999, 1))
    result = lifecycle.run(SOURCE, [declined], secrets=[SECRET], now=NOW)
    [parked] = result.messages["unrouted"]
    assert parked["unrouted_reason"] == "unknown_outcome" and "outcome" not in parked
    assert not any(result.money.values())


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**60), 2**60) | st.text(max_size=12)
    | st.sampled_from(["succeeded", "opened", "paid", ""]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=6,
)  # fmt: skip


@settings(max_examples=150, deadline=None)
@given(status=JSON_VALUES, object_id=JSON_VALUES, version=JSON_VALUES, kind=st.sampled_from(
    ["payment.succeeded", "payment.created", "invoice.paid", "customer.updated"]))  # fmt: skip
def test_any_values_at_the_contract_fields_are_refused_by_name_or_never_invent_money(
    status: Any, object_id: Any, version: Any, kind: str
) -> None:
    """Whatever the sender puts at the configured paths: a 400 naming the field, or an event whose money
    route is the one the contract gives (a stated outcome of the vocabulary on a mapped kind, else the
    type_map outcome, else the type's usual one; an unmapped kind is never money)."""
    data = {"id": object_id, "status": status, "amount": 1999, "currency": "EUR", "version": version}
    try:
        result = lifecycle.run(SOURCE, [delivery(1, kind, data)], secrets=[SECRET], now=NOW)
    except Exception as error:  # by name: another test's cold re-import may have replaced the class
        if type(error).__name__ != "InvalidEventError":
            raise
        assert error.reason == "invalid_field"
        assert error.field in ("data.status", "data.id", "data.version")
        return
    money = [body for bodies in result.money.values() for body in bodies]
    if kind == "payment.succeeded" and status == "succeeded" and object_id is not None:
        assert [body["outcome"] for body in money] == ["succeeded"]
    else:
        # a failed/other word, a null or absent outcome (parked: missing_outcome), no object id (parked:
        # missing_object_id), a type_map pending, an other kind, an unmapped kind
        assert money == []
    if kind == "payment.succeeded" and status is None:
        [parked] = result.messages["unrouted"]
        assert parked["unrouted_reason"] == "missing_outcome" and "outcome" not in parked
