"""Paddle lifecycles through the door and the router: each money fact once, sums equal the ledger.

Entities are Paddle's own SDK fixtures (`../shared/providers/paddle/`, from PaddleHQ/paddle-python-sdk) in
the documented envelope, changed only in the fields a lifecycle moves (status, action, totals). Each
delivery is signed with Paddle's scheme (the official SDK's `Verifier` accepts it: tests/handlers/providers).
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
from tests.handlers.providers.signing import NOW, fixture, paddle_header, request

SECRET = "pdl_ntfset_01gkpjp8bkm3tm53kdgkx6sms7_6h3qd3uFSi9YCD3OLYAShQI90XTI5vEI"
SOURCE = lifecycle.source("paddle")
TRANSACTION = json.loads(fixture("paddle", "transaction.completed.json"))["data"]
ADJUSTMENT = json.loads(fixture("paddle", "adjustment.created_refund.json"))["data"]
TXN = TRANSACTION["id"]


def transaction(status: str) -> dict[str, Any]:
    return copy.deepcopy(TRANSACTION) | {"status": status}


def adjustment(adjustment_id: str, action: str, status: str, total: int) -> dict[str, Any]:
    data = copy.deepcopy(ADJUSTMENT) | {"id": adjustment_id, "action": action, "status": status, "transaction_id": TXN}
    data["totals"] |= {"total": str(total)}
    return data


def delivery(number: int, kind: str, data: dict[str, Any], *facts: Fact) -> Delivery:
    moment = datetime.datetime.fromtimestamp(NOW - 600 + number, tz=datetime.UTC)
    body = json.dumps({"event_id": f"evt_01paddle{number:04d}", "event_type": kind,
                       "occurred_at": moment.isoformat().replace("+00:00", "Z"),
                       "notification_id": f"ntf_{number}", "data": data}).encode()  # fmt: skip
    return Delivery(request({"Paddle-Signature": paddle_header([SECRET], body, NOW)}, body), facts, kind)


def story(reversed_chargeback: bool) -> list[Delivery]:
    """USD 652.15 charged; refunds of 100.00 (approved after review) and 50.00 (rejected, then another
    approved 25.00); a 200.00 credit; a chargeback of 477.15, maybe reversed."""
    return [
        delivery(1, "subscription.created", {"id": "sub_1", "status": "active"}),
        delivery(2, "transaction.created", transaction("draft")),
        delivery(3, "transaction.billed", transaction("billed")),
        delivery(4, "transaction.paid", transaction("paid")),
        delivery(5, "transaction.completed", transaction("completed"), Fact("payment", TXN, Decimal("652.15"))),
        delivery(6, "adjustment.created", adjustment("adj_1", "refund", "pending_approval", 10000)),
        delivery(7, "adjustment.updated", adjustment("adj_1", "refund", "approved", 10000),
                 Fact("refund", "adj_1", Decimal("100.00"))),
        delivery(8, "adjustment.created", adjustment("adj_2", "refund", "pending_approval", 5000)),
        delivery(9, "adjustment.updated", adjustment("adj_2", "refund", "rejected", 5000)),
        delivery(10, "adjustment.created", adjustment("adj_3", "refund", "pending_approval", 2500)),
        delivery(11, "adjustment.updated", adjustment("adj_3", "refund", "approved", 2500),
                 Fact("refund", "adj_3", Decimal("25.00"))),
        delivery(12, "adjustment.created", adjustment("adj_4", "credit", "approved", 20000)),
        delivery(13, "adjustment.created", adjustment("adj_5", "chargeback_warning", "approved", 52715)),
        delivery(14, "adjustment.created", adjustment("adj_6", "chargeback", "approved", 52715),
                 Fact("dispute", TXN, Decimal("527.15"), "opened")),  # a dispute is named by its transaction
        *([delivery(15, "adjustment.created", adjustment("adj_7", "chargeback_reverse", "approved", 52715),
                    Fact("dispute", TXN, Decimal("527.15"), "reversed")),
           # Paddle marks the original chargeback `reversed` too: the same reversal, no second money fact.
           delivery(16, "adjustment.updated", adjustment("adj_6", "chargeback", "reversed", 52715))]
          if reversed_chargeback else []),
    ]  # fmt: skip


def test_refunds_only_when_approved_and_the_payment_once() -> None:
    deliveries = story(False)
    result = lifecycle.run(SOURCE, deliveries, secrets=[SECRET], now=NOW)
    assert [body["amount"] for body in result.money["payment"]] == [Decimal("652.15")]
    assert sorted(body["amount"] for body in result.money["refund"]) == [Decimal("25.00"), Decimal("100.00")]
    assert "unrouted" not in result.messages
    assert {body["outcome"] for body in result.messages["lifecycle"]} >= {"pending", "failed", "succeeded"}
    lifecycle.assert_ledger(result, deliveries)
    assert sum(result.net(queue) for queue in lifecycle.MONEY_QUEUES) == Decimal("0.00")


@settings(max_examples=40, deadline=None)
@given(reversed_chargeback=st.booleans(), data=st.data())
def test_any_order_and_any_repeats_keep_the_ledger(reversed_chargeback: bool, data: st.DataObject) -> None:
    deliveries = story(reversed_chargeback)
    order = data.draw(lifecycle.orderings(len(deliveries)))
    result = lifecycle.run(SOURCE, [deliveries[index] for index in order], secrets=[SECRET], now=NOW)
    lifecycle.assert_ledger(result, deliveries)


def _chargeback_reversed() -> list[Delivery]:
    """A completed 652.15 transaction, a 527.15 chargeback, its approved `chargeback_reverse`, and the
    chargeback's status change to `reversed` (Paddle's order of webhooks for a won chargeback)."""
    return [
        delivery(1, "transaction.completed", transaction("completed"), Fact("payment", TXN, Decimal("652.15"))),
        delivery(2, "adjustment.created", adjustment("adj_cb", "chargeback", "approved", 52715),
                 Fact("dispute", TXN, Decimal("527.15"), "opened")),
        delivery(3, "adjustment.created", adjustment("adj_cbr", "chargeback_reverse", "approved", 52715),
                 Fact("dispute", TXN, Decimal("527.15"), "reversed")),
        delivery(4, "adjustment.updated", adjustment("adj_cb", "chargeback", "reversed", 52715)),
    ]  # fmt: skip


def test_a_reversed_chargeback_is_one_reversal() -> None:
    """Red-team RT-1. Paddle's adjustment `status` `reversed` is "Set by Paddle when a chargeback_reverse or
    credit_reverse adjustment is created for this adjustment" (Adjustment status enum,
    https://developer.paddle.com/api-reference/adjustments/overview). The chargeback turning `reversed`
    and the `chargeback_reverse` adjustment being approved are one reversal: 527.15 is credited once on
    the disputes queue (the approved `chargeback_reverse`), the status change is a lifecycle fact."""
    deliveries = _chargeback_reversed()
    result = lifecycle.run(SOURCE, deliveries, secrets=[SECRET], now=NOW)
    assert result.net("dispute") == Decimal("0"), [
        (body["provider_event_type"], body["outcome"], body["amount"]) for body in result.money["dispute"]
    ]
    assert [(body["transaction_type"], body["outcome"]) for body in result.messages["lifecycle"]] == [
        ("other", "reversed")
    ]
    assert "unrouted" not in result.messages
    lifecycle.assert_ledger(result, deliveries)


def test_a_reversed_chargeback_reverse_is_not_a_second_debit() -> None:
    """Red-team R2-6. A `chargeback_reverse` adjustment turning `reversed` is set by Paddle only when a
    reversing adjustment is created for it (Adjustment status `reversed`,
    https://developer.paddle.com/api-reference/adjustments/overview); money taken again arrives as a new
    `chargeback` adjustment, approved. So the chargeback, its reversal, the reversal's status change and a
    second chargeback debit 527.15 twice and credit it once: net -527.15, never -1054.30."""
    deliveries = [
        *_chargeback_reversed(),
        delivery(5, "adjustment.updated", adjustment("adj_cbr", "chargeback_reverse", "reversed", 52715)),
        delivery(6, "adjustment.created", adjustment("adj_cb2", "chargeback", "approved", 52715),
                 Fact("dispute", TXN, Decimal("527.15"), "opened")),
    ]  # fmt: skip
    result = lifecycle.run(SOURCE, deliveries, secrets=[SECRET], now=NOW)
    assert result.net("dispute") == Decimal("-527.15"), [
        (body["provider_event_type"], body["outcome"], body["amount"]) for body in result.money["dispute"]
    ]
    assert [(body["transaction_type"], body["outcome"]) for body in result.messages["lifecycle"]] == [
        ("other", "reversed"),
        ("other", "reversed"),
    ]
    assert "unrouted" not in result.messages
    lifecycle.assert_ledger(result, deliveries)
