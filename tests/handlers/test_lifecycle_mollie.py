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


def story(reversed_chargeback: bool) -> list[Delivery]:
    """A payment link paid 24.95; a payment of 100.00 refunded 10.00 (queued then refunded) and 5.00
    (failed); a chargeback of 90.00, maybe reversed."""
    link = copy.deepcopy(SAMPLE["_embedded"]["payment-link"])
    payment = {"resource": "payment", "id": "tr_1", "amount": money("100.00"), "status": "paid"}
    refund = {"resource": "refund", "paymentId": "tr_1"}
    chargeback = {"resource": "chargeback", "id": "chb_1", "paymentId": "tr_1", "amount": money("90.00")}
    return [
        delivery(1, "payment-link.paid", "payment-link", link, Fact("payment", link["id"], Decimal("24.95"))),
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
    assert sorted(body["amount"] for body in result.money["payment"]) == [Decimal("24.95"), Decimal("100.00")]
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
