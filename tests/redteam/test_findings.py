"""Red-team reproductions: each test FAILS on the current code and passes once its defect is fixed.

Every finding is `xfail(strict=True)` so this file passes today and turns red (XPASS) when a fix lands:
then remove the marker. Finding ids (RT-n) match the red-team report. Each docstring names the provider
documentation that says what the right behaviour is.
"""

from __future__ import annotations

import datetime
import json
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from pipeline_tools.sandbox.provider_stubs import MollieStub, StubRequest, StubResponse
from tests.handlers import lifecycle
from tests.handlers.lifecycle import Delivery
from tests.handlers.providers.signing import NOW, body_hex_signature, fixture, request
from tests.handlers.test_validator_mollie_classic import T0 as MOLLIE_T0
from tests.handlers.test_validator_mollie_classic import post, stored


# --------------------------------------------------------------------------------------------------
# RT-3 mollie-classic: an amount Mollie writes finer than its currency refuses the whole delivery (400)
# --------------------------------------------------------------------------------------------------
@pytest.mark.xfail(strict=True, reason="RT-3: mollie-classic amount finer than exponent -> 400, paid fact lost")
def test_rt3_mollie_classic_unreadable_refund_amount_is_503_or_keeps_the_paid_fact(door: Any) -> None:
    """handlers/providers/mollie_classic.py promises: "Mollie's own answer did not read: never guess,
    never refuse Mollie's retry; 503 and an alarm". An embedded refund whose `amount.value` has more
    decimals than EUR's 2 (Mollie: "make sure to send the right amount of decimals",
    https://docs.mollie.com/docs/multicurrency) passes the module's reader (up to 18 places) and is then
    refused by `sources.canonical` (400 `invalid_amount`): the whole delivery - the payment's valid
    `paid` fact included - is refused with a final 4xx, and, the post being unsigned, nothing is kept in
    the quarantine. Expected: 503 (Mollie retries) or the paid fact stored and the odd refund parked."""
    validator, stub = door(["test_dHar4XY7LxsDOtmnkVtjNVWXLSlXsM"])
    stub.add_refund("tr_0000000001", "re_odd", "1.005", "refunded", MOLLIE_T0 + datetime.timedelta(hours=1))
    response = post(validator)
    assert response["statusCode"] >= 500 or "shop:tr_0000000001:paid" in stored(), response


# --------------------------------------------------------------------------------------------------
# RT-4 mollie-classic: the first key's 404 ends the fetch; a later key that knows the payment is never tried
# --------------------------------------------------------------------------------------------------
MOLLIE_KEY = "test_dHar4XY7LxsDOtmnkVtjNVWXLSlXsM"  # the key the stub's payments belong to
MOLLIE_OTHER_MODE_KEY = "live_9kQz2ReAnotherModeOrProfileKey00"  # valid at Mollie, sees other payments


class _TwoKeyMollie(MollieStub):
    """Mollie with a second valid key that sees none of these payments: Mollie answers 404 for them
    (test and live mode, and profiles, see disjoint payments: https://docs.mollie.com/overview/testing,
    https://docs.mollie.com/reference/v2/payments-api/get-payment "404 Not Found")."""

    def answer(self, request: StubRequest) -> StubResponse:
        if request.headers.get("authorization") == f"Bearer {MOLLIE_OTHER_MODE_KEY}":
            body = {"status": 404, "title": "Not Found", "detail": "No payment exists with token."}
            return StubResponse(404, json.dumps(body).encode(), {"Content-Type": "application/hal+json"})
        return super().answer(request)


@pytest.mark.xfail(strict=True, reason="RT-4: mollie-classic stops at the first key's 404 (200 ignored: lost)")
def test_rt4_mollie_classic_tries_every_key_before_calling_an_id_unknown(httpserver: HTTPServer) -> None:
    """`fetch_payment` tries the source's keys in order but raises `UnknownObjectError` on the FIRST 404:
    the validator answers 200 `ignored` and Mollie stops retrying. With two valid keys (a test and a live
    key, or two profiles' keys sharing one webhook URL, or the access token next to the API key during a
    migration) the payment the second key can read is acknowledged and never stored - a paid payment lost
    with no alarm (`FetchUnknownObject` is only counted). Expected: an id is unknown only when no key
    knows it."""
    from tests.handlers.providers.signing_b import provider
    from tests.handlers.providers.signing_b import request as form_request
    from tests.handlers.reconcile.harness import serve_stub

    stub = _TwoKeyMollie(api_key=MOLLIE_KEY)
    httpserver.clear()
    serve_stub(httpserver, stub)
    stub.add(stub.make_event(1, MOLLIE_T0))
    module = provider("mollie_classic")
    post_ = form_request({"Content-Type": "application/x-www-form-urlencoded"}, "id=tr_0000000001")
    events = module.receive(post_, [MOLLIE_OTHER_MODE_KEY, MOLLIE_KEY], {"api_base_url": stub.base_url}, NOW)
    assert [event.provider_event_id for event in events] == ["tr_0000000001:paid"]


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
