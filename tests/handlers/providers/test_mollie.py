"""Mollie next-gen: `sha256=` body HMAC, several signatures during rotation, the sample, the mapping.

No Mollie SDK is among the dev dependencies (the signature validator is in mollie-api-php), so there is
no SDK oracle here: the test signer follows Mollie's documentation (`sha256=` + hex HMAC-SHA256 of the body).
"""

from __future__ import annotations

import datetime
import json
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.handlers.providers.signing_b import fixture_text, mollie_signature, provider, request

mollie = provider("mollie")
SECRET, OLD_SECRET = "mollie-signing-secret-0123", "mollie-signing-secret-old"
KEYS = [mollie.parse_secret(SECRET, {})]
NOW = 1_800_000_000
BODY = fixture_text("mollie/nextgen_payment-link.paid_full.json")


def receive(body: str, signature: str, keys: list[bytes] = KEYS) -> list:
    return mollie.receive(request({"X-Mollie-Signature": signature}, body), keys, {}, NOW)


def test_the_sample_maps_to_its_canonical_values() -> None:
    [event] = receive(BODY, mollie_signature(BODY.encode(), SECRET))
    assert event.provider_event_id == "event_GvJ8WHrp5isUdRub9CJyH"
    assert event.provider_event_type == "payment-link.paid"
    # The link's snapshot names no payment: a lifecycle fact; the payment's own payment.paid is the money.
    assert mollie.default_transaction_type(event) == "other"
    assert (event.amount, event.amount_unit, event.currency) == (Decimal("24.95"), "major", "EUR")
    assert event.timestamp == datetime.datetime(2024, 12, 16, 15, 57, 4, tzinfo=datetime.UTC)
    assert event.payload == BODY
    assert mollie.sign(KEYS[0], BODY.encode()) == mollie_signature(BODY.encode(), SECRET)


def test_wrong_secret_and_altered_body_are_refused() -> None:
    with pytest.raises(mollie.SignatureError):
        receive(BODY, mollie_signature(BODY.encode(), OLD_SECRET))
    with pytest.raises(mollie.SignatureError):
        receive(BODY.replace("24.95", "94.95"), mollie_signature(BODY.encode(), SECRET))


def test_during_rotation_either_of_two_signatures_may_match_either_secret() -> None:
    header = f"{mollie_signature(BODY.encode(), OLD_SECRET)}, {mollie_signature(BODY.encode(), SECRET)}"
    assert len(receive(BODY, header)) == 1
    keys = [mollie.parse_secret(OLD_SECRET, {})]
    assert len(receive(BODY, header, keys)) == 1


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        ("", "missing_signature_headers"),
        ("deadbeef", "malformed_signature"),
        ("sha1=" + "0" * 64, "malformed_signature"),
        ("sha256=" + "0" * 64, "invalid_signature"),
    ],
)
def test_missing_malformed_or_unknown_signatures(header: str, reason: str) -> None:
    with pytest.raises(mollie.SignatureError) as refused:
        receive(BODY, header)
    assert refused.value.reason == reason


def test_a_bare_hex_signature_without_the_prefix_is_refused() -> None:
    with pytest.raises(mollie.SignatureError):
        receive(BODY, mollie_signature(BODY.encode(), SECRET).removeprefix("sha256="))


def test_entity_under_the_generic_name_and_simple_payloads() -> None:
    document = json.loads(BODY)
    document["_embedded"] = {"entity": {"amount": {"value": "10.00", "currency": "usd"}}}
    body = json.dumps(document)
    [event] = receive(body, mollie_signature(body.encode(), SECRET))
    assert (event.amount, event.currency) == (Decimal("10.00"), "USD")
    del document["_embedded"]
    body = json.dumps(document)
    [event] = receive(body, mollie_signature(body.encode(), SECRET))
    assert (event.amount, event.amount_unit, event.currency) == (None, None, None)


def test_a_signed_amount_that_is_not_a_decimal_string_is_400_naming_the_field() -> None:
    document = json.loads(BODY)
    document["_embedded"]["payment-link"]["amount"]["value"] = 24.95
    body = json.dumps(document)
    with pytest.raises(mollie.InvalidEventError) as refused:
        receive(body, mollie_signature(body.encode(), SECRET))
    assert refused.value.field == "_embedded.payment-link.amount.value"


@pytest.mark.parametrize(
    ("event_type", "expected", "outcome"),
    [
        ("payment.paid", "payment", "succeeded"),
        ("payment-link.paid", "other", "succeeded"),
        ("capture.succeeded", "other", "succeeded"),
        ("capture.failed", "other", "failed"),
        ("refund.refunded", "refund", "succeeded"),
        ("refund.pending", "refund", "pending"),
        ("chargeback.received", "dispute", "opened"),
        ("chargeback.reversed", "dispute", "reversed"),
        ("payment.failed", "payment", "failed"),
        ("payment.authorized", "payment", "authorized"),
        ("sales-invoice.paid", "other", "succeeded"),
        ("balance-transaction.created", "other", None),
    ],
)
def test_default_mapping_rows(event_type: str, expected: str, outcome: str | None) -> None:
    """Issue 17: each kind's (type, outcome); the object is the event's `entityId`."""
    body = BODY.replace('"payment-link.paid"', json.dumps(event_type))
    [event] = receive(body, mollie_signature(body.encode(), SECRET))
    assert (mollie.default_transaction_type(event), event.outcome) == (expected, outcome)
    assert (event.object_id, event.parent_object_id) == ("pl_qng5gbbv8NAZ5gpM5ZYgx", None)
    assert event.object_version == int(event.timestamp.timestamp()) * 1_000_000


def test_a_refund_names_its_payment_as_parent() -> None:
    document = json.loads(BODY) | {"type": "refund.refunded", "entityId": "re_1"}
    document["_embedded"] = {
        "refund": {"id": "re_1", "paymentId": "tr_1", "amount": {"value": "5.00", "currency": "EUR"}}
    }
    body = json.dumps(document)
    [event] = receive(body, mollie_signature(body.encode(), SECRET))
    assert (event.object_id, event.parent_object_id, str(event.amount), event.outcome) == (
        "re_1",
        "tr_1",
        "5.00",
        "succeeded",
    )


@settings(max_examples=300, deadline=None)
@given(signature=st.text(max_size=150), body=st.binary(max_size=200))
def test_any_header_value_is_only_ever_a_signature_error(signature: str, body: bytes) -> None:
    with pytest.raises(mollie.SignatureError):
        mollie.receive(request({"x-mollie-signature": signature}, body), KEYS, {}, NOW)


@pytest.mark.parametrize(
    ("payment", "expected"),
    [
        ({"amount": {"value": "100.00", "currency": "EUR"}}, "100.00"),  # captured whole: no amountCaptured
        ({"amount": {"value": "100.00", "currency": "EUR"}, "amountCaptured": {"value": "60.00", "currency": "EUR"}},
         "60.00"),
    ],
)  # fmt: skip
def test_a_paid_payment_is_what_was_captured(payment: dict[str, Any], expected: str) -> None:
    """`payment.paid` books `amountCaptured` where the payment carries it (authorize, then capture part)."""
    document = json.loads(BODY) | {"type": "payment.paid", "entityId": "tr_1"}
    document["_embedded"] = {"payment": {"id": "tr_1", "status": "paid", **payment}}
    body = json.dumps(document)
    [event] = receive(body, mollie_signature(body.encode(), SECRET))
    assert (event.object_id, str(event.amount), event.outcome) == ("tr_1", expected, "succeeded")


def test_a_capture_names_its_payment_as_parent() -> None:
    document = json.loads(BODY) | {"type": "capture.succeeded", "entityId": "cpt_1"}
    document["_embedded"] = {
        "capture": {"id": "cpt_1", "paymentId": "tr_1", "amount": {"value": "5.00", "currency": "EUR"}}
    }
    body = json.dumps(document)
    [event] = receive(body, mollie_signature(body.encode(), SECRET))
    assert (event.object_id, event.parent_object_id, str(event.amount)) == ("cpt_1", "tr_1", "5.00")
    assert mollie.default_transaction_type(event) == "other"
