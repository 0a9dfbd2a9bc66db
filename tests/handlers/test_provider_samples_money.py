"""The shared provider samples (tests/fixtures/providers/, a copy of ../shared/providers/) with the money-fact
fields of issue 17, for Razorpay, Paddle, GoCardless, Braintree, Mollie, Square, Checkout.com and the
Standard Webhooks source sample: type, outcome, amount, object ids and the queue each reaches. The columns of the samples' README keep their values (the per-provider
tests check them); what changed is listed in tests/fixtures/providers/README.md ("Money facts").
"""

from __future__ import annotations

import base64
import datetime
import json
import urllib.parse
from decimal import Decimal

import pytest
from standardwebhooks.webhooks import Webhook

from tests.handlers import lifecycle
from tests.handlers.providers.signing import (
    NOW,
    STAGE_URL,
    body_hex_signature,
    fixture,
    paddle_header,
    request,
    square_signature,
)
from tests.handlers.providers.signing_b import gocardless_signature, mollie_signature

import money
import routing

SECRETS = {
    "razorpay": "rzp-webhook-secret-0123456789",
    "paddle": "pdl_ntfset_01gkpjp8bkm3tm53kdgkx6sms7_6h3qd3uFSi9YCD3OLYAShQI90XTI5vEI",
    "gocardless": "gc-webhook-secret-0123456789",
    "mollie": "mollie-signing-secret-0123",
    "braintree": "test_private_key_0123456789",
    "square": "sq0wss-samples-signature-key-0123456789",
    "checkout": "cko-samples-signature-key-0123456789",
    "standard-webhooks": "whsec_" + base64.b64encode(b"samples-standard-webhooks-key-0123").decode(),
}
# The shared samples' README: a `standard-webhooks` source reading the Svix-style sample.
SVIX_OPTIONS = {"amount_field": "data.amount", "currency_field": "data.currency", "amount_unit": "minor",
                "outcome_field": "data.status", "object_id_field": "data.id"}  # fmt: skip
OPTIONS = {"braintree": {"public_key": "test_public_key"}, "standard-webhooks": SVIX_OPTIONS}
TYPE_MAPS = {"standard-webhooks": {"payment.succeeded": "payment"}}


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
    if provider_id == "square":
        return request({"x-square-hmacsha256-signature": square_signature(secret, STAGE_URL, body)}, body)
    if provider_id == "checkout":
        return request({"cko-signature": body_hex_signature(secret, body)}, body)
    if provider_id == "standard-webhooks":
        moment = datetime.datetime.fromtimestamp(NOW, tz=datetime.UTC)
        signature = Webhook(secret).sign("msg_sample", moment, body.decode())
        return request(
            {"webhook-id": "msg_sample", "webhook-timestamp": str(NOW), "webhook-signature": signature}, body
        )
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
    # The link's snapshot names no payment: lifecycle (was payments); its payment's payment.paid is the money.
    ("mollie", "nextgen_payment-link.paid_full.json"): [
        ("other", "succeeded", "24.95", "pl_qng5gbbv8NAZ5gpM5ZYgx", None, "lifecycle")
    ],
    # APPROVED: an authorization (was payments): the lifecycle queue, amount approved_money.
    ("square", "payment.created.json"): [
        ("payment", "authorized", "1.00", "hYy9pRFVxpDsO1FB05SunFWUe9JZY", None, "lifecycle")
    ],
    # EVIDENCE_REQUIRED: a chargeback, funds withdrawn (its id is now derived from the fact).
    ("square", "dispute.created.json"): [
        ("dispute", "opened", "88.01", "ORSEVtZAJxb37RA1EiGw", "fbmsaEOpoARDKxiSGH1fqPuqoqFZY", "dispute")
    ],
    ("checkout", "payment_captured.json"): [
        ("payment", "succeeded", "0.20", "act_uqlj3642dyyuroivzdwfg2fysq", "pay_vti5layihapu5bhbn5tjtk6eem", "payment")
    ],
    ("checkout", "dispute_evidence_required.json"): [
        ("dispute", "opened", "81.50", "dsp_9rjdlsd4epepfjyyf9vl", "pay_cnhuomagalglgozxy5zm", "dispute")
    ],
    ("standard-webhooks", "payment.succeeded_svix_style.json"): [
        ("payment", "succeeded", "19.99", "pay_2KWPBgLlAfxdpx2AI54pPJ85f4W", None, "payment")
    ],
}
# The event ids the samples' README lists, where issue 17 changed them (the others keep theirs).
EVENT_IDS = {("square", "dispute.created.json"): ["shop:dispute:ORSEVtZAJxb37RA1EiGw:opened"],
             ("square", "payment.created.json"): ["shop:13b867cf-db3d-4b1c-90b6-2f32a9d78124"],
             ("checkout", "payment_captured.json"): ["shop:evt_fkfqht6yonme7bk7jawrgzbbxq"],
             ("checkout", "dispute_evidence_required.json"): ["shop:evt_b6anegml5j6u7kwzuzdg6r4sem"],
             ("standard-webhooks", "payment.succeeded_svix_style.json"): ["shop:msg_sample"]}  # fmt: skip


@pytest.mark.parametrize(("key", "expected"), SAMPLES.items(), ids=[f"{p}/{n}" for p, n in SAMPLES])
def test_samples_carry_their_money_fact(key: tuple[str, str], expected: list[tuple]) -> None:
    provider_id, name = key
    options = OPTIONS.get(provider_id, {})
    source = lifecycle.source(provider_id, options=options, type_map=TYPE_MAPS.get(provider_id))
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
    if key in EVENT_IDS:
        assert [event.event_id for event in events] == EVENT_IDS[key]
    assert all(isinstance(event.object_version, int) for event in events)
    assert all(event.amount is None or isinstance(event.amount, Decimal) for event in events)
