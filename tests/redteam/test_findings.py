"""Red-team reproductions: each test FAILS on the current code and passes once its defect is fixed.

Every finding is `xfail(strict=True)` so this file passes today and turns red (XPASS) when a fix lands:
then remove the marker. Finding ids (RT-n) match the red-team report. Each docstring names the provider
documentation that says what the right behaviour is.
"""

from __future__ import annotations

import json

import pytest

from tests.handlers import lifecycle
from tests.handlers.lifecycle import Delivery
from tests.handlers.providers.signing import NOW, body_hex_signature, fixture, request

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
