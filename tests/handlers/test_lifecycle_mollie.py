"""Mollie lifecycles through the door and the router: each money fact once, sums equal the ledger.

Events are Mollie's next-gen envelope as in its own fixture (`../shared/providers/mollie/`, from
mollie/mollie-api-php), with full payloads (`_embedded`) of the Payments, Refunds and Chargebacks APIs'
shapes; no Python SDK of Mollie is a dev dependency, so the fixture is the reference.
"""

from __future__ import annotations

import copy
import json
from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.handlers import lifecycle
from tests.handlers.lifecycle import Delivery, Fact
from tests.handlers.providers.signing import NOW
from tests.handlers.providers.signing_b import fixture_text, mollie_signature, request

SECRET = "mollie-signing-secret-0123"
SOURCE = lifecycle.source("mollie")
SAMPLE = json.loads(fixture_text("mollie/nextgen_payment-link.paid_full.json"))


def delivery(number: int, kind: str, name: str, entity: dict[str, Any], *facts: Fact) -> Delivery:
    document = copy.deepcopy(SAMPLE) | {"id": f"event_{number:04d}", "type": kind, "entityId": entity["id"],
                                        "createdAt": f"2026-11-20T10:00:{number:02d}.0Z", "_embedded": {name: entity}}  # fmt: skip
    body = json.dumps(document)
    return Delivery(request({"X-Mollie-Signature": mollie_signature(body.encode(), SECRET)}, body), facts, kind)


def money(value: str) -> dict[str, str]:
    return {"value": value, "currency": "EUR"}


def capture(capture_id: str, value: str, status: str = "succeeded", payment_id: str = "tr_held") -> dict[str, Any]:
    """A Captures API capture (https://docs.mollie.com/reference/get-capture): its own amount, its payment."""
    return {"resource": "capture", "id": capture_id, "paymentId": payment_id, "amount": money(value), "status": status}


def held_payment(status: str, captured: str | None) -> dict[str, Any]:
    """A card payment with `captureMode: manual` of 100.00 (https://docs.mollie.com/docs/place-a-hold-for-a-payment);
    `amountCaptured` is "the total amount that is already captured for this payment" (mollie-api-php Payment)."""
    payment = {"resource": "payment", "id": "tr_held", "amount": money("100.00"), "status": status,
               "captureMode": "manual"}  # fmt: skip
    return payment | ({"amountCaptured": money(captured)} if captured is not None else {})


def story(reversed_chargeback: bool) -> list[Delivery]:
    """A payment link paid 24.95 (its payment tr_link is the money fact); a payment of 100.00 refunded
    10.00 (queued then refunded) and 5.00 (failed); a chargeback of 90.00, maybe reversed; a hold of
    100.00 captured 30.00 and 50.00 (one capture failed), then released: paid, 80.00 captured."""
    link = copy.deepcopy(SAMPLE["_embedded"]["payment-link"])
    link_payment = {"resource": "payment", "id": "tr_link", "amount": money("24.95"), "status": "paid"}
    payment = {"resource": "payment", "id": "tr_1", "amount": money("100.00"), "status": "paid"}
    refund = {"resource": "refund", "paymentId": "tr_1"}
    chargeback = {"resource": "chargeback", "id": "chb_1", "paymentId": "tr_1", "amount": money("90.00")}
    return [
        delivery(1, "payment-link.paid", "payment-link", link),
        delivery(9, "payment.paid", "payment", link_payment, Fact("payment", "tr_link", Decimal("24.95"))),
        delivery(10, "payment.authorized", "payment", held_payment("authorized", "0.00")),
        delivery(11, "capture.succeeded", "capture", capture("cpt_1", "30.00")),
        delivery(12, "capture.failed", "capture", capture("cpt_2", "20.00", "failed")),
        delivery(13, "capture.succeeded", "capture", capture("cpt_3", "50.00")),
        delivery(14, "payment.paid", "payment", held_payment("paid", "80.00"), Fact("payment", "tr_held", Decimal("80.00"))),
        delivery(2, "payment.created", "payment", payment | {"status": "open"}),
        delivery(3, "payment.paid", "payment", payment, Fact("payment", "tr_1", Decimal("100.00"))),
        delivery(4, "refund.queued", "refund", refund | {"id": "re_1", "amount": money("10.00")}),
        delivery(5, "refund.refunded", "refund", refund | {"id": "re_1", "amount": money("10.00")},
                 Fact("refund", "re_1", Decimal("10.00"))),
        delivery(6, "refund.failed", "refund", refund | {"id": "re_2", "amount": money("5.00")}),
        delivery(7, "chargeback.received", "chargeback", chargeback, Fact("dispute", "chb_1", Decimal("90.00"), "opened")),
        *([delivery(8, "chargeback.reversed", "chargeback", chargeback,
                    Fact("dispute", "chb_1", Decimal("90.00"), "reversed"))] if reversed_chargeback else []),
    ]  # fmt: skip


def test_payments_refund_and_chargeback_once_each() -> None:
    deliveries = story(True)
    result = lifecycle.run(SOURCE, deliveries, secrets=[SECRET], now=NOW)
    assert sorted(body["amount"] for body in result.money["payment"]) == [
        Decimal("24.95"), Decimal("80.00"), Decimal("100.00")]  # fmt: skip
    assert [body["parent_object_id"] for body in result.money["refund"]] == ["tr_1"]
    assert "unrouted" not in result.messages
    lifecycle.assert_ledger(result, deliveries)


@settings(max_examples=40, deadline=None)
@given(reversed_chargeback=st.booleans(), data=st.data())
def test_any_order_and_any_repeats_keep_the_ledger(reversed_chargeback: bool, data: st.DataObject) -> None:
    deliveries = story(reversed_chargeback)
    order = data.draw(lifecycle.orderings(len(deliveries)))
    result = lifecycle.run(SOURCE, [deliveries[index] for index in order], secrets=[SECRET], now=NOW)
    lifecycle.assert_ledger(result, deliveries)


def test_payment_paid_books_what_was_captured_not_what_was_requested() -> None:
    """Regression: a hold of 100.00 captured 60.00 was booked at 100.00 (`amount`, the requested amount)."""
    deliveries = [
        delivery(1, "payment.authorized", "payment", held_payment("authorized", "0.00")),
        delivery(2, "capture.succeeded", "capture", capture("cpt_1", "60.00")),
        delivery(3, "payment.paid", "payment", held_payment("paid", "60.00"), Fact("payment", "tr_held", Decimal("60.00"))),
    ]  # fmt: skip
    result = lifecycle.run(SOURCE, deliveries, secrets=[SECRET], now=NOW)
    assert [(body["object_id"], body["amount"]) for body in result.money["payment"]] == [("tr_held", Decimal("60.00"))]
    lifecycle.assert_ledger(result, deliveries)


def test_captures_are_known_lifecycle_facts_of_their_payment_each_once() -> None:
    """Regression: `capture.succeeded`/`capture.failed` (Mollie's next-gen event list) raised the unknown-type
    alarm. Several partial captures are each their own lifecycle fact (their own event and capture ids: no
    conflict); the money is the payment's captured total, once, on `payment.paid`."""
    deliveries = [
        delivery(1, "capture.succeeded", "capture", capture("cpt_1", "30.00")),
        delivery(2, "capture.failed", "capture", capture("cpt_2", "20.00", "failed")),
        delivery(3, "capture.succeeded", "capture", capture("cpt_3", "50.00")),
        delivery(4, "payment.paid", "payment", held_payment("paid", "80.00"), Fact("payment", "tr_held", Decimal("80.00"))),
    ]  # fmt: skip
    result = lifecycle.run(SOURCE, deliveries + deliveries[:3], secrets=[SECRET], now=NOW)
    assert "unrouted" not in result.messages
    captures = [
        (b["object_id"], b["parent_object_id"], b["outcome"], b["amount"]) for b in result.messages["lifecycle"]
    ]
    assert captures == [("cpt_1", "tr_held", "succeeded", Decimal("30.00")), ("cpt_2", "tr_held", "failed", Decimal("20.00")),
                        ("cpt_3", "tr_held", "succeeded", Decimal("50.00"))]  # fmt: skip
    lifecycle.assert_ledger(result, deliveries)


def test_a_reusable_payment_link_paid_twice_books_each_payment_once() -> None:
    """Regression: `payment-link.paid` was the money fact under the link's id (`pl_…`): a reusable link paid
    twice gave two facts about one object, and a consumer keeping per-object state booked one. The link's
    event names no payment (Mollie's payload is a snapshot of the link), so it is a lifecycle fact and each
    payment the link produced is booked by its own `payment.paid` (`tr_…`)."""
    link = copy.deepcopy(SAMPLE["_embedded"]["payment-link"])
    paid = {"resource": "payment", "amount": money("24.95"), "status": "paid"}
    deliveries = [
        delivery(1, "payment-link.paid", "payment-link", link),
        delivery(2, "payment.paid", "payment", paid | {"id": "tr_a"}, Fact("payment", "tr_a", Decimal("24.95"))),
        delivery(3, "payment-link.paid", "payment-link", link),
        delivery(4, "payment.paid", "payment", paid | {"id": "tr_b"}, Fact("payment", "tr_b", Decimal("24.95"))),
    ]
    result = lifecycle.run(SOURCE, deliveries, secrets=[SECRET], now=NOW)
    assert sorted(body["object_id"] for body in result.money["payment"]) == ["tr_a", "tr_b"]
    assert [body["object_id"] for body in result.messages["lifecycle"]] == [link["id"], link["id"]]
    lifecycle.assert_ledger(result, deliveries)
