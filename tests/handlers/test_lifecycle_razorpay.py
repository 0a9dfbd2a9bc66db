"""Razorpay lifecycles through the door and the router: each money fact once, sums equal the ledger.

The payment entity is Razorpay's own documented payload (`../shared/providers/razorpay/payment.captured.json`,
from razorpay/markdown-docs), changed only in the fields a lifecycle moves; refund and dispute entities
follow the documented shapes (https://razorpay.com/docs/webhooks/payloads/). Deliveries are signed with
Razorpay's scheme (the official SDK's `Utility.verify_webhook_signature` accepts it: tests/handlers/providers).
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
from tests.handlers.providers.signing import NOW, body_hex_signature, fixture, request

SECRET = "rzp-webhook-secret-0123456789"
SOURCE = lifecycle.source("razorpay")
SAMPLE = json.loads(fixture("razorpay", "payment.captured.json"))
PAYMENT_ID = SAMPLE["payload"]["payment"]["entity"]["id"]


def payment(amount: int, status: str, refunded: int = 0) -> dict[str, Any]:
    entity = copy.deepcopy(SAMPLE["payload"]["payment"]["entity"])
    entity |= {"amount": amount, "status": status, "captured": status in ("captured", "refunded"),
               "amount_refunded": refunded}  # fmt: skip
    return {"payment": {"entity": entity}}


def refund(refund_id: str, amount: int, status: str) -> dict[str, Any]:
    return {"refund": {"entity": {"id": refund_id, "entity": "refund", "amount": amount, "currency": "INR",
                                  "payment_id": PAYMENT_ID, "status": status, "speed_processed": "normal"}}}  # fmt: skip


def dispute(amount: int, status: str, phase: str = "chargeback") -> dict[str, Any]:
    return {"dispute": {"entity": {"id": "disp_1", "entity": "dispute", "payment_id": PAYMENT_ID, "amount": amount,
                                   "currency": "INR", "amount_deducted": amount, "phase": phase, "status": status}},
            **payment(50000, "captured")}  # fmt: skip


def delivery(number: int, kind: str, payload: dict[str, Any], *facts: Fact) -> Delivery:
    body = json.dumps({**SAMPLE, "event": kind, "contains": list(payload), "payload": payload,
                       "created_at": NOW - 600 + number}).encode()  # fmt: skip
    headers = {"X-Razorpay-Signature": body_hex_signature(SECRET, body), "X-Razorpay-Event-Id": f"evt_rzp_{number}"}
    return Delivery(request(headers, body), facts, kind)


def story(outcome: str, phase: str) -> list[Delivery]:
    """INR 500.00 authorized, captured (with order.paid), refunded 100.00 + 50.00 (one refund failing
    first), then disputed 350.00 and decided (`outcome`)."""
    inquiry = phase == "retrieval"
    disputed = Decimal("350.00")
    return [
        delivery(1, "payment.authorized", payment(50000, "authorized")),
        delivery(2, "payment.captured", payment(50000, "captured"), Fact("payment", PAYMENT_ID, Decimal("500.00"))),
        delivery(3, "order.paid", {**payment(50000, "captured"), "order": {"entity": {"id": "order_1"}}}),
        delivery(4, "refund.created", refund("rfnd_1", 10000, "pending")),
        delivery(5, "refund.processed", refund("rfnd_1", 10000, "processed"), Fact("refund", "rfnd_1", Decimal("100.00"))),
        delivery(6, "refund.created", refund("rfnd_2", 5000, "pending")),
        delivery(7, "refund.failed", refund("rfnd_2", 5000, "failed")),
        delivery(8, "refund.created", refund("rfnd_3", 5000, "pending")),
        delivery(9, "refund.processed", refund("rfnd_3", 5000, "processed"), Fact("refund", "rfnd_3", Decimal("50.00"))),
        delivery(10, "payment.dispute.created", dispute(35000, "open", phase),
                 *(() if inquiry else (Fact("dispute", "disp_1", disputed, "opened"),))),
        delivery(11, "payment.dispute.under_review", dispute(35000, "under_review", phase)),
        delivery(12, f"payment.dispute.{outcome}", dispute(35000, outcome, phase),
                 *(() if inquiry else (Fact("dispute", "disp_1", disputed, outcome),))),
        delivery(13, "payment.dispute.closed", dispute(35000, outcome, phase)),
    ]  # fmt: skip


def test_captured_payment_two_refunds_and_a_lost_dispute() -> None:
    deliveries = story("lost", "chargeback")
    result = lifecycle.run(SOURCE, deliveries, secrets=[SECRET], now=NOW)
    assert [body["amount"] for body in result.money["payment"]] == [Decimal("500.00")]
    assert sorted(body["amount"] for body in result.money["refund"]) == [Decimal("50.00"), Decimal("100.00")]
    assert "unrouted" not in result.messages  # every kind above is known: no unknown-type alarm
    lifecycle.assert_ledger(result, deliveries)
    # 500 in, 150 refunded, 350 withdrawn by the dispute and never reinstated.
    assert sum(result.net(queue) for queue in lifecycle.MONEY_QUEUES) == Decimal("0.00")


@settings(max_examples=40, deadline=None)
@given(outcome=st.sampled_from(["won", "lost"]), phase=st.sampled_from(["chargeback", "retrieval"]), data=st.data())
def test_any_order_and_any_repeats_keep_the_ledger(outcome: str, phase: str, data: st.DataObject) -> None:
    deliveries = story(outcome, phase)
    order = data.draw(lifecycle.orderings(len(deliveries)))
    result = lifecycle.run(SOURCE, [deliveries[index] for index in order], secrets=[SECRET], now=NOW)
    lifecycle.assert_ledger(result, deliveries)
