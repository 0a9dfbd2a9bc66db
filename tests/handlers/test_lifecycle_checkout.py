"""Checkout.com lifecycles through the door and the router: each money fact once, sums equal the ledger.

Checkout.com publishes no Python SDK that models webhook events (none is installed here), so the events
are the documentation's own samples (`../shared/providers/checkout/`: `payment_captured`,
`dispute_evidence_required`) with only the fields a lifecycle moves changed (type, ids, amount, the
running `balances`); each delivery is signed with `Cko-Signature` (hex HMAC-SHA256 of the body).
"""

from __future__ import annotations

import copy
import datetime
import json
from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.handlers import lifecycle
from tests.handlers.lifecycle import Delivery, Fact
from tests.handlers.providers.signing import NOW, body_hex_signature, fixture, request

SECRET = "cko-lifecycle-signature-key-0123456789"
SOURCE = lifecycle.source("checkout")
PAYMENT = json.loads(fixture("checkout", "payment_captured.json"))
DISPUTE = json.loads(fixture("checkout", "dispute_evidence_required.json"))
PAY = "pay_vti5layihapu5bhbn5tjtk6eem"
DSP = "dsp_9rjdlsd4epepfjyyf9vl"


def delivery(number: int, kind: str, data: dict[str, Any], *facts: Fact) -> Delivery:
    envelope = copy.deepcopy(DISPUTE if kind.startswith("dispute_") else PAYMENT)
    moment = datetime.datetime.fromtimestamp(NOW - 600 + number, tz=datetime.UTC)
    envelope |= {"id": f"evt_lifecycle{number:04d}", "type": kind, "timestamp": moment.isoformat(), "data": data}
    body = json.dumps(envelope).encode()
    return Delivery(request({"Cko-Signature": body_hex_signature(SECRET, body)}, body), facts, kind)


def action(action_id: str, cents: int, *, payment_id: str = PAY, captured: int = 0, refunded: int = 0) -> dict:
    """A payment event's `data`: this action's own `amount`; `balances` the payment's running totals."""
    data = copy.deepcopy(PAYMENT["data"]) | {"id": payment_id, "action_id": action_id, "amount": cents}
    data["balances"] |= {"total_authorized": 10000, "total_captured": captured, "total_refunded": refunded}
    return data


def dispute_data(cents: int = 5000) -> dict:
    return copy.deepcopy(DISPUTE["data"]) | {"id": DSP, "payment_id": PAY, "amount": cents, "currency": "EUR"}


def story(ending: str) -> list[Delivery]:
    """EUR 100.00 authorized and captured in two parts (60.00, 40.00); refunds of 25.00 (pending, then
    refunded), 15.00 and a declined 5.00; a voided and a declined payment; a 50.00 dispute, then `ending`."""
    endings = {
        "won": [("dispute_won", Fact("dispute", DSP, Decimal("50.00"), "won"))],
        "lost": [("dispute_accepted", None), ("dispute_lost", Fact("dispute", DSP, Decimal("50.00"), "lost"))],
        "canceled": [("dispute_canceled", Fact("dispute", DSP, Decimal("50.00"), "reversed"))],
        "arbitration": [("dispute_lost", Fact("dispute", DSP, Decimal("50.00"), "lost")),
                        ("dispute_arbitration_sent_to_scheme", None),
                        ("dispute_arbitration_won", Fact("dispute", DSP, Decimal("50.00"), "won"))],
    }  # fmt: skip
    deliveries = [
        delivery(1, "payment_approved", action("act_auth", 10000)),
        delivery(2, "payment_captured", action("act_c1", 6000, captured=6000), Fact("payment", "act_c1", Decimal("60.00"))),
        delivery(3, "payment_captured", action("act_c2", 4000, captured=10000), Fact("payment", "act_c2", Decimal("40.00"))),
        delivery(4, "payment_refund_pending", action("act_r1", 2500, captured=10000)),
        delivery(5, "payment_refunded", action("act_r1", 2500, captured=10000, refunded=2500),
                 Fact("refund", "act_r1", Decimal("25.00"))),
        delivery(6, "payment_refunded", action("act_r2", 1500, captured=10000, refunded=4000),
                 Fact("refund", "act_r2", Decimal("15.00"))),
        delivery(7, "payment_refund_declined", action("act_r3", 500, captured=10000, refunded=4000)),
        delivery(8, "payment_approved", action("act_a2", 3000, payment_id="pay_voided")),
        delivery(9, "payment_voided", action("act_v2", 3000, payment_id="pay_voided")),
        delivery(10, "payment_declined", action("act_d3", 7000, payment_id="pay_declined")),
        delivery(11, "dispute_received", dispute_data()),
        delivery(12, "dispute_evidence_required", dispute_data(), Fact("dispute", DSP, Decimal("50.00"), "opened")),
        delivery(13, "dispute_evidence_submitted", dispute_data()),
    ]  # fmt: skip
    for offset, (kind, fact) in enumerate(endings[ending]):
        deliveries.append(delivery(14 + offset, kind, dispute_data(), *([fact] if fact else [])))
    return deliveries


def test_each_capture_and_refund_once_with_its_own_amount() -> None:
    deliveries = story("won")
    result = lifecycle.run(SOURCE, deliveries, secrets=[SECRET], now=NOW)
    # Each capture's own amount (never balances.total_captured, the running total), parent the payment.
    assert sorted((b["object_id"], b["amount"]) for b in result.money["payment"]) == [
        ("act_c1", Decimal("60.00")), ("act_c2", Decimal("40.00"))]  # fmt: skip
    assert {b["parent_object_id"] for b in result.money["payment"] + result.money["refund"]} == {PAY}
    assert sorted(b["amount"] for b in result.money["refund"]) == [Decimal("15.00"), Decimal("25.00")]
    assert "unrouted" not in result.messages
    assert {b["outcome"] for b in result.messages["lifecycle"]} == {"authorized", "pending", "failed", "canceled"}
    lifecycle.assert_ledger(result, deliveries)
    assert sum(result.net(queue) for queue in lifecycle.MONEY_QUEUES) == Decimal("60.00")  # 100 - 40 (won)


@settings(max_examples=40, deadline=None)
@given(ending=st.sampled_from(["won", "lost", "canceled", "arbitration"]), data=st.data())
def test_any_order_and_any_repeats_keep_the_ledger(ending: str, data: st.DataObject) -> None:
    deliveries = story(ending)
    order = data.draw(lifecycle.orderings(len(deliveries)))
    result = lifecycle.run(SOURCE, [deliveries[index] for index in order], secrets=[SECRET], now=NOW)
    lifecycle.assert_ledger(result, deliveries)


def test_a_sale_in_iceland_is_whole_kronur() -> None:
    """Checkout.com writes ISK in whole units (its full-amount list): ISK 100 is `amount: 100`."""
    data = action("act_isk", 100) | {"currency": "ISK"}
    result = lifecycle.run(SOURCE, [delivery(1, "payment_captured", data)], secrets=[SECRET], now=NOW)
    [paid] = result.money["payment"]
    assert (paid["amount"], paid["currency"]) == (Decimal("100"), "ISK")


def test_a_capture_or_refund_without_action_id_is_parked_not_named_by_its_payment() -> None:
    """Red-team RT-2. README "The money contract": a money fact that lacks its `object_id` is parked
    (`missing_object_id`). A Checkout.com capture/refund is its action (`data.action_id`, in every documented
    capture and refund event: https://www.checkout.com/docs/workflows/webhook-event-types/payment_captured);
    a payment has several partial captures
    (https://www.checkout.com/docs/payments/manage-payments/capture-a-payment). Named by the payment id
    instead, two captures would be two states of one object and a consumer keeping each object's latest
    state would book only one: without `action_id` each is stored and parked, none routed."""
    data = [action("x", 6000), action("x", 4000), action("x", 2500)]
    for item in data:
        item.pop("action_id")
    deliveries = [
        delivery(1, "payment_captured", data[0]),
        delivery(2, "payment_captured", data[1]),
        delivery(3, "payment_refunded", data[2]),
    ]
    result = lifecycle.run(SOURCE, deliveries, secrets=[SECRET], now=NOW)
    assert [(b["object_id"], b["amount"]) for b in result.money["payment"] + result.money["refund"]] == []
    parked = result.messages.get("unrouted", [])
    assert [b.get("unrouted_reason") for b in parked] == ["missing_object_id"] * 3, parked
