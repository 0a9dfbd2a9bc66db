"""Stripe lifecycles through the door and the router: each money fact once, sums equal the ledger.

Objects are built with the official `stripe` library's models (`stripe.Event.construct_from`) and
serialized the way Stripe delivers them; each delivery is signed with Stripe's scheme.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
import stripe as stripe_sdk
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.handlers import lifecycle
from tests.handlers.lifecycle import Delivery, Fact
from tests.handlers.providers.signing import NOW, request, stripe_header

SECRET = "whsec_test_0123456789abcdefghijklmnopqrstuv"
SOURCE = lifecycle.source("stripe")


def delivery(number: int, kind: str, obj: dict[str, Any], *facts: Fact, previous: dict[str, Any] | None = None,
             created: int = NOW - 60) -> Delivery:  # fmt: skip
    """A signed Stripe event, the event built as the official library's `Event` model."""
    data: dict[str, Any] = {"object": obj}
    if previous is not None:
        data["previous_attributes"] = previous
    event = stripe_sdk.Event.construct_from(
        {"id": f"evt_{number}", "object": "event", "type": kind, "created": created + number, "data": data,
         "api_version": "2025-10-29.clover", "livemode": False, "pending_webhooks": 1},
        "sk_test",
    )  # fmt: skip
    body = json.dumps(event.to_dict(), separators=(",", ":")).encode()
    return Delivery(request({"Stripe-Signature": stripe_header([SECRET], body, NOW)}, body), facts, kind)


def payment_intent(amount: int, received: int, status: str = "succeeded") -> dict[str, Any]:
    return {"id": "pi_1", "object": "payment_intent", "amount": amount, "amount_received": received,
            "amount_capturable": 0, "currency": "usd", "status": status, "latest_charge": "ch_1"}  # fmt: skip


def charge(amount: int, refunded: int, *, captured: bool = True, captured_amount: int | None = None) -> dict[str, Any]:
    return {"id": "ch_1", "object": "charge", "amount": amount, "amount_captured": captured_amount or amount,
            "amount_refunded": refunded, "captured": captured, "currency": "usd", "payment_intent": "pi_1",
            "refunded": refunded == amount, "status": "succeeded"}  # fmt: skip


def refund(refund_id: str, amount: int, status: str = "succeeded") -> dict[str, Any]:
    return {"id": refund_id, "object": "refund", "amount": amount, "charge": "ch_1", "payment_intent": "pi_1",
            "currency": "usd", "status": status}  # fmt: skip


def dispute(amount: int, status: str) -> dict[str, Any]:
    return {"id": "du_1", "object": "dispute", "amount": amount, "charge": "ch_1", "payment_intent": "pi_1",
            "currency": "usd", "status": status}  # fmt: skip


def two_refunds() -> list[Delivery]:
    """The issue's regression: a USD 100.00 charge refunded 30.00, then 20.00, every kind Stripe sends."""
    return [
        delivery(1, "payment_intent.created", payment_intent(10000, 0, "requires_payment_method")),
        delivery(2, "charge.succeeded", charge(10000, 0)),
        delivery(
            3, "payment_intent.succeeded", payment_intent(10000, 10000), Fact("payment", "pi_1", Decimal("100.00"))
        ),
        delivery(4, "refund.created", refund("re_1", 3000), Fact("refund", "re_1", Decimal("30.00"))),
        delivery(5, "charge.refunded", charge(10000, 3000)),
        delivery(6, "charge.refund.updated", refund("re_1", 3000), previous={"metadata": {}}),
        delivery(7, "refund.updated", refund("re_1", 3000), previous={"metadata": {}}),
        delivery(8, "refund.created", refund("re_2", 2000), Fact("refund", "re_2", Decimal("20.00"))),
        delivery(9, "charge.refunded", charge(10000, 5000)),
    ]


def test_two_partial_refunds_put_30_and_20_on_the_refunds_queue_once_each() -> None:
    deliveries = two_refunds()
    result = lifecycle.run(SOURCE, deliveries, secrets=[SECRET], now=NOW)
    assert sorted(body["amount"] for body in result.money["refund"]) == [Decimal("20.00"), Decimal("30.00")]
    assert [body["amount"] for body in result.money["payment"]] == [Decimal("100.00")]
    assert "unrouted" not in result.messages  # every kind above is known: no unknown-type alarm
    lifecycle.assert_ledger(result, deliveries)


def manual_capture_with_pending_refund_and_dispute(inquiry_first: bool) -> list[Delivery]:
    """Authorize 100.00, capture 80.00, a refund pending then succeeded, a dispute opened and won.

    With `inquiry_first` the dispute is created as an inquiry (`warning_needs_response`, nothing withdrawn)
    and escalates: Stripe updates it to `needs_response` and withdraws the funds. Either way the withdrawal
    is `charge.dispute.funds_withdrawn`'s fact (the one kind that carries it), and WON reinstates it."""
    return [
        delivery(1, "charge.succeeded", charge(10000, 0, captured=False)),
        delivery(2, "payment_intent.amount_capturable_updated", payment_intent(10000, 0, "requires_capture")),
        delivery(3, "charge.captured", charge(10000, 0, captured_amount=8000)),
        delivery(4, "payment_intent.succeeded", payment_intent(10000, 8000), Fact("payment", "pi_1", Decimal("80.00"))),
        delivery(5, "refund.created", refund("re_1", 1000, "pending")),
        delivery(6, "charge.refund.updated", refund("re_1", 1000), previous={"status": "pending"}),
        delivery(
            7,
            "refund.updated",
            refund("re_1", 1000),
            Fact("refund", "re_1", Decimal("10.00")),
            previous={"status": "pending"},
        ),
        delivery(
            8, "charge.dispute.created", dispute(8000, "warning_needs_response" if inquiry_first else "needs_response")
        ),
        *(
            [
                delivery(
                    12,
                    "charge.dispute.updated",
                    dispute(8000, "needs_response"),
                    previous={"status": "warning_needs_response"},
                )
            ]
            if inquiry_first
            else []
        ),
        delivery(
            9,
            "charge.dispute.funds_withdrawn",
            dispute(8000, "needs_response"),
            Fact("dispute", "du_1", Decimal("80.00"), "opened"),
        ),
        delivery(10, "charge.dispute.closed", dispute(8000, "won"), Fact("dispute", "du_1", Decimal("80.00"), "won")),
        delivery(11, "charge.dispute.funds_reinstated", dispute(8000, "won")),
    ]


def test_manual_capture_counts_the_captured_amount_not_the_authorized_one() -> None:
    deliveries = manual_capture_with_pending_refund_and_dispute(False)
    result = lifecycle.run(SOURCE, deliveries, secrets=[SECRET], now=NOW)
    assert [body["amount"] for body in result.money["payment"]] == [Decimal("80.00")]
    assert {body["outcome"] for body in result.messages["lifecycle"]} >= {"authorized", "pending"}
    lifecycle.assert_ledger(result, deliveries)


@pytest.mark.parametrize("inquiry_first", [True, False])
def test_a_dispute_books_its_withdrawal_once_even_when_it_began_as_an_inquiry(inquiry_first: bool) -> None:
    """Regression: an inquiry (`warning_needs_response`) that escalated booked no withdrawal, so WON
    afterwards netted +80.00. Now `charge.dispute.funds_withdrawn` carries it, once, for both kinds."""
    deliveries = manual_capture_with_pending_refund_and_dispute(inquiry_first)
    result = lifecycle.run(SOURCE, deliveries, secrets=[SECRET], now=NOW)
    assert [body["outcome"] for body in result.money["dispute"]] == ["opened", "won"]
    assert result.net("dispute") == Decimal(0)
    lifecycle.assert_ledger(result, deliveries)


@settings(max_examples=40, deadline=None)
@given(story=st.sampled_from(["two_refunds", "capture_dispute", "capture_inquiry"]), data=st.data())
def test_any_order_and_any_repeats_keep_the_ledger(story: str, data: st.DataObject) -> None:
    deliveries = {
        "two_refunds": two_refunds,
        "capture_dispute": lambda: manual_capture_with_pending_refund_and_dispute(False),
        "capture_inquiry": lambda: manual_capture_with_pending_refund_and_dispute(True),
    }[story]()
    order = data.draw(lifecycle.orderings(len(deliveries)))
    result = lifecycle.run(SOURCE, [deliveries[index] for index in order], secrets=[SECRET], now=NOW)
    lifecycle.assert_ledger(result, deliveries)
