"""Adyen lifecycles through the door and the router: each money fact once, sums equal the ledger.

Items have the shape of Adyen's own notification fixtures (tests/fixtures/providers/adyen/) and are signed
with the official `Adyen` library's `generate_notification_sig`; several items may share one delivery,
as Adyen batches them.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from Adyen.util import generate_notification_sig
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.handlers import lifecycle
from tests.handlers.lifecycle import Delivery, Fact
from tests.handlers.providers.signing_b import adyen_delivery, request

KEY = "44782DEF547AAA06C910C43932B1EB0C71FC68D9D0C057550C48EC2ACF6BA056"
NOW = 1_800_000_000
MANUAL = lifecycle.source("adyen", options={"capture": "manual"})
AUTOMATIC = lifecycle.source("adyen")


def item(code: str, psp: str, value: int, *, original: str | None = None, success: str = "true",
         currency: str = "EUR", minute: int = 0, action: str | None = None) -> dict[str, Any]:  # fmt: skip
    entry: dict[str, Any] = {
        "amount": {"currency": currency, "value": value}, "eventCode": code,
        "eventDate": f"2026-11-28T10:{minute:02d}:00+01:00", "merchantAccountCode": "MerchantTest",
        "merchantReference": "order-1", "paymentMethod": "visa", "pspReference": psp, "reason": "",
        "success": success, "additionalData": {},
    }  # fmt: skip
    if original is not None:
        entry["originalReference"] = original
    if action is not None:
        entry["additionalData"]["modification.action"] = action
    return entry


def delivery(*items: dict[str, Any], facts: tuple[Fact, ...] = ()) -> Delivery:
    def sign(signed: dict[str, Any], hex_key: str) -> str:
        return generate_notification_sig(signed, hex_key).decode()

    body = adyen_delivery(list(items), KEY, sign)
    return Delivery(request({"content-type": "application/json"}, body), facts, items[0]["eventCode"])


def manual_capture_story() -> list[Delivery]:
    """EUR 100.00 authorised, captured 60.00 + 40.00, refunded 30.00 (that refund later fails), refunded
    10.00, a chargeback of 50.00 reversed, then a second chargeback; noise around it."""
    return [
        delivery(item("AUTHORISATION", "PAY1", 10000)),
        delivery(
            item("CAPTURE", "CAP1", 6000, original="PAY1", minute=1), facts=(Fact("payment", "CAP1", Decimal("60.00")),)
        ),
        delivery(
            item("CAPTURE", "CAP2", 4000, original="PAY1", minute=2),
            item("REFUND", "REF1", 3000, original="PAY1", minute=3),
            facts=(Fact("payment", "CAP2", Decimal("40.00")), Fact("refund", "REF1", Decimal("30.00"))),
        ),
        delivery(
            item("REFUND_FAILED", "REF1", 3000, original="PAY1", minute=4),
            facts=(Fact("refund", "REF1", Decimal("30.00"), "reversed"),),
        ),
        delivery(
            item("REFUND", "REF2", 1000, original="PAY1", minute=5), facts=(Fact("refund", "REF2", Decimal("10.00")),)
        ),
        delivery(item("REFUND", "REF3", 500, original="PAY1", minute=5, success="false")),
        delivery(item("NOTIFICATION_OF_CHARGEBACK", "PAY1", 5000, minute=6)),
        delivery(item("CHARGEBACK", "PAY1", 5000, minute=7), facts=(Fact("dispute", "PAY1", Decimal("50.00")),)),
        delivery(
            item("CHARGEBACK_REVERSED", "PAY1", 5000, minute=8),
            facts=(Fact("dispute", "PAY1", Decimal("50.00"), "won"),),
        ),
        delivery(item("SECOND_CHARGEBACK", "PAY1", 5000, minute=9), facts=(Fact("dispute", "PAY1", Decimal("50.00")),)),
        delivery(item("REPORT_AVAILABLE", "RPT1", 0, minute=10)),
    ]


def automatic_capture_story() -> list[Delivery]:
    """Automatic capture: the AUTHORISATION is the payment; a CAPTURE webhook (enabled) does not count
    again; a declined payment; a CANCEL_OR_REFUND that refunded, and one that canceled."""
    return [
        delivery(item("AUTHORISATION", "PAY2", 2500), facts=(Fact("payment", "PAY2", Decimal("25.00")),)),
        delivery(item("CAPTURE", "CAP3", 2500, original="PAY2", minute=1)),
        delivery(item("AUTHORISATION", "PAY3", 900, success="false", minute=2)),
        delivery(
            item("CANCEL_OR_REFUND", "MOD1", 2500, original="PAY2", minute=3, action="refund"),
            facts=(Fact("refund", "MOD1", Decimal("25.00")),),
        ),
        delivery(item("AUTHORISATION", "PAY4", 700, minute=4), facts=(Fact("payment", "PAY4", Decimal("7.00")),)),
        delivery(item("CANCEL_OR_REFUND", "MOD2", 700, original="PAY4", minute=5, action="cancel")),
    ]


def test_partial_captures_and_refunds_count_each_once_with_their_own_amounts() -> None:
    deliveries = manual_capture_story()
    result = lifecycle.run(MANUAL, deliveries, secrets=[KEY], now=NOW)
    assert sorted(body["amount"] for body in result.money["payment"]) == [Decimal("40.00"), Decimal("60.00")]
    assert result.net("refund") == Decimal("-10.00")  # 30 refunded, failed back, 10 refunded
    assert result.net("dispute") == Decimal("-50.00")
    assert [body["outcome"] for body in result.messages["lifecycle"]].count("authorized") == 1
    assert [body["provider_event_type"] for body in result.messages["unrouted"]] == ["REPORT_AVAILABLE"]
    lifecycle.assert_ledger(result, deliveries)


def test_automatic_capture_counts_the_authorisation_and_cancel_or_refund_by_its_action() -> None:
    deliveries = automatic_capture_story()
    result = lifecycle.run(AUTOMATIC, deliveries, secrets=[KEY], now=NOW)
    assert json.dumps(sorted(body["outcome"] for body in result.messages["lifecycle"])) == json.dumps(
        ["canceled", "failed", "succeeded"]
    )
    lifecycle.assert_ledger(result, deliveries)


@settings(max_examples=40, deadline=None)
@given(manual=st.booleans(), data=st.data())
def test_any_order_and_any_repeats_keep_the_ledger(manual: bool, data: st.DataObject) -> None:
    deliveries = manual_capture_story() if manual else automatic_capture_story()
    order = data.draw(lifecycle.orderings(len(deliveries)))
    result = lifecycle.run(MANUAL if manual else AUTOMATIC, [deliveries[i] for i in order], secrets=[KEY], now=NOW)
    lifecycle.assert_ledger(result, deliveries)


def test_an_isk_100_payment_is_100_krona_not_10000() -> None:
    """The issue's regression: Adyen writes ISK with 2 decimals (its own currency table), not ISO's 0."""
    deliveries = [delivery(item("AUTHORISATION", "PAY5", 10000, currency="ISK"),
                           facts=(Fact("payment", "PAY5", Decimal("100.00")),))]  # fmt: skip
    result = lifecycle.run(AUTOMATIC, deliveries, secrets=[KEY], now=NOW)
    assert [(body["amount"], body["currency"]) for body in result.money["payment"]] == [(Decimal("100.00"), "ISK")]
    lifecycle.assert_ledger(result, deliveries)
