"""Braintree lifecycles through the door and the router: each money fact once, sums equal the ledger.

Notifications are written in the XML shapes of the official SDK's `webhook_testing.sample_notification`
(braintree 4.x), with the amounts and ids a lifecycle needs, signed with our signer; the SDK's own
`webhook_notification.parse` reads every one of them back (the oracle for shape and signature).
"""

from __future__ import annotations

import urllib.parse
from decimal import Decimal

from braintree import BraintreeGateway, Configuration, Environment
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.handlers import lifecycle
from tests.handlers.lifecycle import Delivery, Fact
from tests.handlers.providers.signing import NOW
from tests.handlers.providers.signing_b import braintree_payload, braintree_signature, request

PUBLIC, PRIVATE = "test_public_key", "test_private_key_0123456789"
SOURCE = lifecycle.source("braintree", options={"public_key": PUBLIC})
GATEWAY = BraintreeGateway(Configuration(Environment.Sandbox, "merchant_id", PUBLIC, PRIVATE))


def transaction(txn_id: str, amount: str, kind: str = "sale", status: str = "settled", refunded: str = "",
                instrument: str = "us_bank_account") -> str:  # fmt: skip
    parent = f"<refunded-transaction-id>{refunded}</refunded-transaction-id>" if refunded else ""
    return (f"<transaction><id>{txn_id}</id><status>{status}</status><type>{kind}</type>"
            f"<currency-iso-code>USD</currency-iso-code><amount>{amount}</amount>{parent}"
            f"<payment-instrument-type>{instrument}</payment-instrument-type></transaction>")  # fmt: skip


def subscription(txn: str) -> str:
    return f'<subscription><id>sub_1</id><transactions type="array">{txn}</transactions></subscription>'


def dispute(amount: str, status: str, kind: str = "chargeback") -> str:
    return (f"<dispute><id>dp_1</id><amount>{amount}</amount><amount-disputed>{amount}</amount-disputed>"
            f"<currency-iso-code>USD</currency-iso-code><kind>{kind}</kind><status>{status}</status>"
            f"<transaction><id>txn_1</id><amount>{amount}</amount></transaction></dispute>")  # fmt: skip


def delivery(number: int, kind: str, subject: str, *facts: Fact) -> Delivery:
    xml = (f'<notification><timestamp type="datetime">2026-11-20T10:{number // 60:02d}:{number % 60:02d}Z</timestamp>'
           f"<kind>{kind}</kind><subject>{subject}</subject></notification>")  # fmt: skip
    payload = braintree_payload(xml)
    signature = braintree_signature(payload, PUBLIC, PRIVATE)
    assert GATEWAY.webhook_notification.parse(signature, payload).kind == kind  # the SDK's oracle
    body = urllib.parse.urlencode({"bt_signature": signature, "bt_payload": payload})
    return Delivery(request({"content-type": "application/x-www-form-urlencoded"}, body), facts, kind)


def story(decision: str, inquiry: bool) -> list[Delivery]:
    """An ACH subscription charge of 100.00 (pending until settled), a card subscription charge of
    40.00, a refund of 30.00 settled and one of 20.00 declined, a dispute of 70.00 and its decision."""
    disputed = () if inquiry else (Fact("dispute", "dp_1", Decimal("70.00"), "opened"),)
    decided = (
        ()
        if inquiry or (decision != "won" and decision != "lost")
        else (Fact("dispute", "dp_1", Decimal("70.00"), decision),)
    )
    kind = "retrieval" if inquiry else "chargeback"
    return [
        delivery(1, "subscription_went_active", subscription("")),
        delivery(2, "subscription_charged_successfully", subscription(transaction("txn_1", "100.00", status="submitted_for_settlement"))),
        delivery(3, "transaction_settled", transaction("txn_1", "100.00"), Fact("payment", "txn_1", Decimal("100.00"))),
        delivery(4, "transaction_disbursed", transaction("txn_1", "100.00")),
        delivery(5, "subscription_charged_successfully",
                 subscription(transaction("txn_2", "40.00", status="submitted_for_settlement", instrument="credit_card")),
                 Fact("payment", "txn_2", Decimal("40.00"))),
        delivery(6, "transaction_settled", transaction("txn_3", "30.00", "credit", refunded="txn_1"),
                 Fact("refund", "txn_3", Decimal("30.00"))),
        delivery(7, "transaction_settlement_declined",
                 transaction("txn_4", "20.00", "credit", "settlement_declined", refunded="txn_1")),
        delivery(8, "dispute_opened", dispute("70.00", "open", kind), *disputed),
        delivery(9, "dispute_under_review", dispute("70.00", "under_review", kind)),
        delivery(10, f"dispute_{decision}", dispute("70.00", decision, kind), *decided),
    ]  # fmt: skip


def test_subscription_charges_refunds_and_a_won_dispute() -> None:
    deliveries = story("won", inquiry=False)
    result = lifecycle.run(SOURCE, deliveries, secrets=[PRIVATE], now=NOW)
    assert sorted(body["amount"] for body in result.money["payment"]) == [Decimal("40.00"), Decimal("100.00")]
    assert [(body["amount"], body["parent_object_id"]) for body in result.money["refund"]] == [
        (Decimal("30.00"), "txn_1")
    ]
    assert [body["parent_object_id"] for body in result.money["dispute"]] == ["txn_1", "txn_1"]
    assert "unrouted" not in result.messages
    lifecycle.assert_ledger(result, deliveries)


@settings(max_examples=40, deadline=None)
@given(decision=st.sampled_from(["won", "lost", "accepted", "expired"]), inquiry=st.booleans(), data=st.data())
def test_any_order_and_any_repeats_keep_the_ledger(decision: str, inquiry: bool, data: st.DataObject) -> None:
    deliveries = story(decision, inquiry)
    order = data.draw(lifecycle.orderings(len(deliveries)))
    result = lifecycle.run(SOURCE, [deliveries[index] for index in order], secrets=[PRIVATE], now=NOW)
    lifecycle.assert_ledger(result, deliveries)
