"""The shared provider samples (tests/fixtures/providers/, a copy of ../shared/providers/) with the money-fact
fields of issue 17, for Razorpay, Paddle, GoCardless, Braintree and Mollie: type, outcome, amount, object
ids and the queue each reaches. The columns of the samples' README keep their values (the per-provider
tests check them); what changed is listed in tests/fixtures/providers/README.md ("Money facts").
"""

from __future__ import annotations

import json
import urllib.parse
from decimal import Decimal

import pytest

from tests.handlers import lifecycle
from tests.handlers.providers.signing import NOW, body_hex_signature, fixture, paddle_header, request
from tests.handlers.providers.signing_b import gocardless_signature, mollie_signature

import money
import routing

SECRETS = {
    "razorpay": "rzp-webhook-secret-0123456789",
    "paddle": "pdl_ntfset_01gkpjp8bkm3tm53kdgkx6sms7_6h3qd3uFSi9YCD3OLYAShQI90XTI5vEI",
    "gocardless": "gc-webhook-secret-0123456789",
    "mollie": "mollie-signing-secret-0123",
    "braintree": "test_private_key_0123456789",
}


def signed(provider_id: str, name: str):
    body = fixture(provider_id, name)
    secret = SECRETS[provider_id]
    if provider_id == "razorpay":
        return request({"x-razorpay-signature": body_hex_signature(secret, body), "x-razorpay-event-id": "evt_x"}, body)
    if provider_id == "paddle":
        return request({"paddle-signature": paddle_header([secret], body, NOW)}, body)
    if provider_id == "gocardless":
        return request({"webhook-signature": gocardless_signature(body, secret)}, body)
    if provider_id == "mollie":
        return request({"x-mollie-signature": mollie_signature(body, secret)}, body)
    form = json.loads(body)["form"]
    return request({"content-type": "application/x-www-form-urlencoded"}, urllib.parse.urlencode(form).encode())


# file -> per event: (transaction_type, outcome, amount, object_id, parent_object_id, queue)
SAMPLES = {
    ("razorpay", "payment.captured.json"): [("payment", "succeeded", "1.00", "pay_DESp9bgForNoUd", None, "payment")],
    ("paddle", "transaction.completed.json"): [
        ("payment", "succeeded", "652.15", "txn_01hv8wptq8987qeep44cyrewp9", None, "payment")
    ],
    # A refund still pending approval: no money yet (it moves when `adjustment.updated` approves it).
    ("paddle", "adjustment.created_refund.json"): [
        ("refund", "pending", "1.00", "adj_01hvgf2s84dr6reszzg29zbvcm", "txn_01hvcc93znj3mpqt1tenkjb04y", "lifecycle")
    ],
    # Known bookkeeping, no longer unknown: lifecycle queue, no unknown-type alarm.
    ("gocardless", "sdk_fixture_webhook_body.json"): [
        ("other", "pending", None, "SB0003JJQ2MR06", None, "lifecycle"),
        ("other", "pending", None, "MD000AMA19XGEC", None, "lifecycle"),
    ],
    ("braintree", "transaction_settled.json"): [
        ("payment", "succeeded", "100.00", "txn_settled_0001", None, "payment")
    ],
    ("braintree", "dispute_opened.json"): [("dispute", "opened", "100.00", "dispute_0001", "dispute_0001", "dispute")],
    ("mollie", "nextgen_payment-link.paid_full.json"): [
        ("payment", "succeeded", "24.95", "pl_qng5gbbv8NAZ5gpM5ZYgx", None, "payment")
    ],
}


@pytest.mark.parametrize(("key", "expected"), SAMPLES.items(), ids=[f"{p}/{n}" for p, n in SAMPLES])
def test_samples_carry_their_money_fact(key: tuple[str, str], expected: list[tuple]) -> None:
    provider_id, name = key
    options = {"public_key": "test_public_key"} if provider_id == "braintree" else {}
    source = lifecycle.source(provider_id, options=options)
    keys = [source.module.parse_secret(SECRETS[provider_id], options)]
    received = source.module.receive(signed(provider_id, name), keys, options, NOW)
    events = [lifecycle.sources.canonical(source, event) for event in received]
    got = [
        (
            event.transaction_type,
            event.outcome,
            money.text(event.amount) if event.amount is not None else None,
            event.object_id,
            event.parent_object_id,
            routing.destination(event.transaction_type, event.outcome, lifecycle.QUEUE_URLS),
        )
        for event in events
    ]
    assert got == expected
    assert all(isinstance(event.object_version, int) for event in events)
    assert all(event.amount is None or isinstance(event.amount, Decimal) for event in events)
