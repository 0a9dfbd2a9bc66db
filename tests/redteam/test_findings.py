"""Red-team reproductions: each test FAILS on the current code and passes once its defect is fixed.

Every finding is `xfail(strict=True)` so this file passes today and turns red (XPASS) when a fix lands:
then remove the marker. Finding ids (RT-n) match the red-team report. Each docstring names the provider
documentation that says what the right behaviour is.
"""

from __future__ import annotations

import copy
import datetime
import json
from decimal import Decimal

import pytest

from tests.handlers import lifecycle
from tests.handlers.lifecycle import Delivery, Fact
from tests.handlers.providers.signing import NOW, body_hex_signature, fixture, paddle_header, request

# --------------------------------------------------------------------------------------------------
# RT-1 Paddle: a reversed chargeback is booked twice (twice / money wrong on the disputes queue)
# --------------------------------------------------------------------------------------------------
PADDLE_SECRET = "pdl_ntfset_01gkpjp8bkm3tm53kdgkx6sms7_6h3qd3uFSi9YCD3OLYAShQI90XTI5vEI"
PADDLE_ADJUSTMENT = json.loads(fixture("paddle", "adjustment.created_refund.json"))["data"]
PADDLE_TXN = json.loads(fixture("paddle", "transaction.completed.json"))["data"]["id"]


def _paddle(number: int, kind: str, adjustment_id: str, action: str, status: str, total: int, *facts: Fact) -> Delivery:
    data = copy.deepcopy(PADDLE_ADJUSTMENT) | {
        "id": adjustment_id, "action": action, "status": status, "transaction_id": PADDLE_TXN}  # fmt: skip
    data["totals"] |= {"total": str(total)}
    moment = datetime.datetime.fromtimestamp(NOW - 600 + number, tz=datetime.UTC)
    body = json.dumps({"event_id": f"evt_01redteam{number:04d}", "event_type": kind,
                       "occurred_at": moment.isoformat().replace("+00:00", "Z"),
                       "notification_id": f"ntf_{number}", "data": data}).encode()  # fmt: skip
    return Delivery(request({"Paddle-Signature": paddle_header([PADDLE_SECRET], body, NOW)}, body), facts, kind)


@pytest.mark.xfail(strict=True, reason="RT-1: Paddle chargeback reversal reaches disputes-queue twice")
def test_rt1_paddle_reversed_chargeback_is_one_reversal() -> None:
    """Paddle's adjustment `status` `reversed` is "Set by Paddle when a chargeback_reverse or credit_reverse
    adjustment is created for this adjustment" (Paddle API, Adjustment status enum: reversed;
    https://developer.paddle.com/api-reference/adjustments/overview,
    https://developer.paddle.com/build/finance/reports/adjustments). So the chargeback turning `reversed`
    and the `chargeback_reverse` adjustment being approved are ONE reversal. docs/providers/paddle.md maps
    both to `dispute reversed` (money): 527.15 is credited twice on the disputes queue."""
    deliveries = [
        _paddle(1, "adjustment.created", "adj_cb", "chargeback", "approved", 52715,
                Fact("dispute", PADDLE_TXN, Decimal("527.15"), "opened")),
        _paddle(2, "adjustment.created", "adj_cbr", "chargeback_reverse", "approved", 52715,
                Fact("dispute", PADDLE_TXN, Decimal("527.15"), "reversed")),
        # The same reversal, stated on the original chargeback adjustment.
        _paddle(3, "adjustment.updated", "adj_cb", "chargeback", "reversed", 52715),
    ]  # fmt: skip
    result = lifecycle.run(lifecycle.source("paddle"), deliveries, secrets=[PADDLE_SECRET], now=NOW)
    assert result.net("dispute") == Decimal("0"), [
        (b["provider_event_type"], b["outcome"], b["amount"]) for b in result.money["dispute"]
    ]
    lifecycle.assert_ledger(result, deliveries)


# --------------------------------------------------------------------------------------------------
# RT-2 Checkout.com: a capture/refund without `action_id` is named by its payment (not parked)
# --------------------------------------------------------------------------------------------------
CKO_SECRET = "cko-lifecycle-signature-key-0123456789"
CKO_PAYMENT = json.loads(fixture("checkout", "payment_captured.json"))
CKO_PAY = "pay_vti5layihapu5bhbn5tjtk6eem"


def _checkout(number: int, kind: str, cents: int) -> Delivery:
    envelope = copy.deepcopy(CKO_PAYMENT)
    data = copy.deepcopy(CKO_PAYMENT["data"]) | {"id": CKO_PAY, "amount": cents}
    data.pop("action_id", None)
    moment = datetime.datetime.fromtimestamp(NOW - 600 + number, tz=datetime.UTC)
    envelope |= {"id": f"evt_redteam{number:04d}", "type": kind, "timestamp": moment.isoformat(), "data": data}
    body = json.dumps(envelope).encode()
    return Delivery(request({"Cko-Signature": body_hex_signature(CKO_SECRET, body)}, body), (), kind)


@pytest.mark.xfail(strict=True, reason="RT-2: Checkout capture without action_id borrows the payment id")
def test_rt2_checkout_capture_without_action_id_is_parked_not_named_by_its_payment() -> None:
    """README "The money contract": a money fact that lacks its `object_id` is parked (`missing_object_id`).
    A Checkout.com capture/refund is its action (`data.action_id`; docs/providers/checkout.md,
    https://www.checkout.com/docs/payments/manage-payments/capture-a-payment: several partial captures per
    payment). `checkout.read` falls back to `data.id`, the *payment's* id, so two partial captures become
    two states of one object `payment:<pay_id>`: the consumer's guard keeps one state per object
    (consumer/src/webhook_consumer/guard.py), and its ledger counts only the latest capture's amount."""
    deliveries = [_checkout(1, "payment_captured", 6000), _checkout(2, "payment_captured", 4000)]
    result = lifecycle.run(lifecycle.source("checkout"), deliveries, secrets=[CKO_SECRET], now=NOW)
    assert [(b["object_id"], b["amount"]) for b in result.money["payment"]] == []
    assert len(result.messages.get("unrouted", [])) == 2


# --------------------------------------------------------------------------------------------------
# RT-5 POST /webhook: a money fact without object_id (or currency) reaches the payments queue
# --------------------------------------------------------------------------------------------------
@pytest.mark.xfail(strict=True, reason="RT-5: POST /webhook money fact without object_id/currency is routed")
def test_rt5_post_webhook_money_fact_without_object_id_is_parked() -> None:
    """README "The money contract": "Every money fact on a money queue carries an `object_id`, an `amount`
    ... and a `currency` ... (`missing_object_id`: consumers deduplicate and order by it) is stored and
    parked in `unrouted-events`". `POST /webhook`'s schema requires neither (handlers/event_schema.json:
    required = event_id, transaction_type, amount, timestamp) and `webhook_event.parse_event` defaults the
    outcome to `succeeded`: the fact is routed to payments-queue with no object and no currency, which the
    consumer's guard applies unordered (`ordered=False`) and its ledger books in no currency."""
    import routing
    import webhook_event

    body = json.dumps({"event_id": "evt_no_object", "transaction_type": "payment", "amount": 10.5,
                       "timestamp": "2026-11-20T10:00:00Z"}).encode()  # fmt: skip
    item = webhook_event.parse_event(body).item(now=lifecycle.NOW, ttl_days=30)
    record = {"eventName": "INSERT", "dynamodb": {"SequenceNumber": "1", "NewImage": item}}
    outgoing = routing.message_for(record, lifecycle.QUEUE_URLS)
    assert outgoing is not None
    assert outgoing.queue_url == "unrouted", json.loads(outgoing.message.body)


# --------------------------------------------------------------------------------------------------
# RT-6 Razorpay (and every provider without a signed timestamp): a replay after the id's TTL is a new fact
# --------------------------------------------------------------------------------------------------
RZP_SECRET = "rzp-webhook-secret-0123456789"
RZP_SAMPLE = json.loads(fixture("razorpay", "payment.captured.json"))
EVENT_TTL_DAYS = 30  # validator: EVENT_TTL_DAYS (default 30): the stored id, the only replay guard, expires


@pytest.mark.xfail(strict=True, reason="RT-6: Razorpay replay after the 30-day TTL books the payment again")
def test_rt6_razorpay_replay_after_the_ttl_is_not_a_new_money_fact() -> None:
    """docs/providers/razorpay.md: "No signed timestamp bounds replays of a captured body: a replay is a
    duplicate (200), never a new event." It is a duplicate only while the stored item lives: items carry
    `ttl` = received + EVENT_TTL_DAYS (30) and DynamoDB deletes them after it. Razorpay signs only the body
    (https://razorpay.com/docs/webhooks/validate-test/) and its `created_at` is never compared with that
    horizon, so whoever holds one captured delivery (body + X-Razorpay-Signature: a proxy log, the
    quarantine, a support ticket) posts it again after 30 days and payments-queue gets the same capture a
    second time under the same event id, after consumers' own dedupe windows may have expired too.
    (Checkout.com, Square, GoCardless, Braintree, Adyen and Mollie next-gen sign no timestamp either.)
    Reproduction: the item expired (a fresh table), the same signed body 31 days later."""
    body = json.dumps({**RZP_SAMPLE, "event": "payment.captured", "created_at": NOW - 60}).encode()
    headers = {"X-Razorpay-Signature": body_hex_signature(RZP_SECRET, body), "X-Razorpay-Event-Id": "evt_rzp_1"}
    delivery = Delivery(request(headers, body), (), "payment.captured")
    source = lifecycle.source("razorpay")
    first = lifecycle.run(source, [delivery], secrets=[RZP_SECRET], now=NOW)
    assert len(first.money["payment"]) == 1
    later = NOW + (EVENT_TTL_DAYS + 1) * 86_400  # the stored id is gone (TTL); the harness starts empty
    replay = lifecycle.run(source, [delivery], secrets=[RZP_SECRET], now=later)
    assert replay.money["payment"] == [], "the replayed capture reached payments-queue a second time"
