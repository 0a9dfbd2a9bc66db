"""Razorpay: fixtures to canonical values, our signer against the official `razorpay.Utility` verifier."""

from __future__ import annotations

import json

import pytest
import razorpay
from hypothesis import given
from hypothesis import strategies as st
from razorpay.errors import SignatureVerificationError

from tests.handlers.providers.signing import (
    NOW,
    assert_canonical,
    body_hex_signature,
    fixture,
    fixtures,
    load,
    reason_of,
    request,
)

module = load("razorpay")
SignatureError = module.SignatureError
InvalidEventError = module.common.InvalidEventError
SECRET = "rzp-webhook-secret-0123456789"
OLD_SECRET = "rzp-webhook-secret-old-987654"
KEY, OLD_KEY = module.parse_secret(SECRET, {}), module.parse_secret(OLD_SECRET, {})
EVENT_ID = "LwHwRhWQaV1vbp"  # the unsigned header's value: sent, never used
SIGNED_ID = "pay_DESp9bgForNoUd:payment.captured:1691735748"  # entity id, event, created_at (all signed)
UTILITY = razorpay.Utility(razorpay.Client(auth=("rzp_test_key", "rzp_test_secret")))

CANONICAL = {
    "payment.captured.json": ("payment.captured", "payment", "1.00", "INR", "2023-08-11T06:35:48Z"),
}


def receive(body: bytes, signature: str | None, *, event_id: str | None = EVENT_ID, keys=(KEY,)):
    headers = {}
    if signature is not None:
        headers["X-Razorpay-Signature"] = signature
    if event_id is not None:
        headers["x-razorpay-event-id"] = event_id
    return module.receive(request(headers, body), list(keys), {}, NOW)


def refusal(body: bytes, signature: str | None, **kwargs) -> str:
    return reason_of(SignatureError, receive, body, signature, **kwargs)


def test_every_fixture_has_canonical_values() -> None:
    assert sorted(CANONICAL) == fixtures("razorpay")


@pytest.mark.parametrize("name", sorted(CANONICAL))
def test_fixture_maps_to_its_canonical_values(name: str) -> None:
    body = fixture("razorpay", name)
    [event] = receive(body, body_hex_signature(SECRET, body))
    assert_canonical(module, event, SIGNED_ID, *CANONICAL[name])


@pytest.mark.parametrize("name", fixtures("razorpay"))
def test_the_official_verifier_accepts_our_signer(name: str) -> None:
    body = fixture("razorpay", name)
    signature = body_hex_signature(SECRET, body)
    assert UTILITY.verify_webhook_signature(body.decode(), signature, SECRET)
    with pytest.raises(SignatureVerificationError):
        UTILITY.verify_webhook_signature(body.decode(), signature, OLD_SECRET)
    assert receive(body, signature)


BODY = fixture("razorpay", "payment.captured.json")
SIGNATURE = body_hex_signature(SECRET, BODY)


def test_wrong_secret_or_body_is_refused() -> None:
    assert refusal(BODY, SIGNATURE, keys=[OLD_KEY]) == "invalid_signature"
    assert refusal(BODY.replace(b'"amount": 100', b'"amount": 900', 1), SIGNATURE) == "invalid_signature"
    assert refusal(BODY, body_hex_signature("whsec_abc", BODY)) == "invalid_signature"


def test_rotated_secrets_both_accepted() -> None:
    assert receive(BODY, body_hex_signature(OLD_SECRET, BODY), keys=[OLD_KEY, KEY])
    assert receive(BODY, SIGNATURE, keys=[OLD_KEY, KEY])


def test_the_unsigned_event_id_header_never_decides_the_id() -> None:
    """Regression (issue 18): the header is not signed; a captured delivery replayed under fresh header ids
    used to be stored once per id. Now every header value, or none, gives the one id the body signs."""
    assert refusal(BODY, "0" * 64, event_id=None) == "invalid_signature"
    assert refusal(BODY, None, event_id="bad id") == "missing_signature_header"
    for header in (None, "", "has space", "x" * 201, "é", "replayed_1", EVENT_ID):
        assert receive(BODY, SIGNATURE, event_id=header)[0].provider_event_id == SIGNED_ID


def test_a_body_without_the_entity_id_is_a_400_naming_it() -> None:
    body = event_body("payment.captured", {"payment": {"entity": {"amount": 100, "currency": "INR"}}})
    with pytest.raises(InvalidEventError) as raised:
        read(body)
    assert (raised.value.reason, raised.value.field) == ("invalid_event_id", "payload.payment.entity.id")
    body = event_body("payment.captured", {"payment": {"entity": {"id": "pay:1", "amount": 1, "currency": "INR"}}})
    with pytest.raises(InvalidEventError) as raised:
        read(body)
    assert raised.value.field == "payload.payment.entity.id"  # a ':' would make the joined id ambiguous


@pytest.mark.parametrize(
    ("signature", "reason"),
    [
        (None, "missing_signature_header"),
        ("", "missing_signature_header"),
        (SIGNATURE[:-2], "malformed_signature_header"),
        ("sha256=" + SIGNATURE, "malformed_signature_header"),
        (SIGNATURE + "é", "malformed_signature_header"),
        ("0" * 5000, "oversized_signature_header"),
        ("0" * 64, "invalid_signature"),
    ],
)
def test_malformed_headers_have_stable_reasons(signature: str | None, reason: str) -> None:
    assert refusal(BODY, signature) == reason


@given(st.text(max_size=300), st.one_of(st.none(), st.text(max_size=300)))
def test_arbitrary_header_text_raises_only_signature_error(signature: str, event_id: str | None) -> None:
    with pytest.raises(SignatureError):
        receive(BODY, signature, event_id=event_id)


@given(st.one_of(st.none(), st.text(max_size=300)))
def test_arbitrary_event_id_header_with_a_valid_signature_is_the_signed_id(event_id: str | None) -> None:
    [event] = receive(BODY, SIGNATURE, event_id=event_id)
    assert event.provider_event_id == SIGNED_ID


def event_body(event_type: str, payload: dict) -> bytes:
    return json.dumps(
        {"entity": "event", "account_id": "acc_1", "event": event_type, "contains": list(payload),
         "payload": payload, "created_at": NOW}
    ).encode()  # fmt: skip


def read(body: bytes):
    return receive(body, body_hex_signature(SECRET, body))[0]


PAYMENT = {"payment": {"entity": {"id": "pay_1", "amount": 50000, "currency": "INR"}}}
REFUND = {**PAYMENT, "refund": {"entity": {"id": "rfnd_1", "amount": 1500, "currency": "INR"}}}
DISPUTE = {**PAYMENT, "dispute": {"entity": {"id": "disp_1", "amount": 20000, "currency": "INR"}}}


@pytest.mark.parametrize(
    ("event_type", "payload", "expected", "outcome", "amount", "ids"),
    [
        ("payment.captured", PAYMENT, "payment", "succeeded", 50000, ("pay_1", None)),
        ("payment.authorized", PAYMENT, "payment", "authorized", 50000, ("pay_1", None)),
        ("payment.failed", PAYMENT, "payment", "failed", 50000, ("pay_1", None)),
        ("refund.created", REFUND, "refund", "pending", 1500, ("rfnd_1", None)),
        ("refund.processed", REFUND, "refund", "succeeded", 1500, ("rfnd_1", None)),
        ("refund.failed", REFUND, "refund", "failed", 1500, ("rfnd_1", None)),
        ("payment.dispute.created", DISPUTE, "dispute", "opened", 20000, ("disp_1", None)),
        ("payment.dispute.won", DISPUTE, "dispute", "won", 20000, ("disp_1", None)),
        ("payment.dispute.lost", DISPUTE, "dispute", "lost", 20000, ("disp_1", None)),
        ("order.paid", {**PAYMENT, "order": {"entity": {"id": "order_1"}}}, "other", "succeeded", 50000,
         ("order_1", "pay_1")),
        ("payment.downtime.started", {"payment.downtime": {"entity": {"id": "down_1"}}}, "other", None, None, (None, None)),
    ],
)  # fmt: skip
def test_default_mapping_and_the_entity_the_event_is_about(
    event_type: str, payload: dict, expected: str, outcome: str | None, amount: int | None, ids: tuple
) -> None:
    """Issue 17: every Razorpay kind with its (type, outcome); the amount is this fact's own."""
    event = read(event_body(event_type, payload))
    assert module.default_transaction_type(event) == expected
    assert event.outcome == outcome
    assert event.amount == amount
    assert (event.object_id, event.parent_object_id) == ids
    assert event.object_version == NOW * 1_000_000


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b"{}", "event"),
        (event_body("payment.captured", {"payment": {"entity": {"amount": "100", "currency": "INR"}}}),
         "payload.payment.entity.amount"),
        (event_body("payment.captured", {"payment": {"entity": {"amount": 100}}}), "payload.payment.entity.currency"),
        (event_body("payment.captured", PAYMENT).replace(str(NOW).encode(), b'"2023-08-11"'), "created_at"),
    ],
)  # fmt: skip
def test_bodies_not_of_razorpays_shape_are_invalid_events(body: bytes, field: str | None) -> None:
    with pytest.raises(InvalidEventError) as raised:
        read(body)
    assert raised.value.field == field


def test_an_event_whose_entity_is_named_in_contains_takes_that_entitys_id() -> None:
    body = json.dumps({"entity": "event", "account_id": "acc_1", "event": "payment.downtime.started",
                       "contains": ["payment.downtime"], "created_at": NOW,
                       "payload": {"payment.downtime": {"entity": {"id": "down_1", "method": "card"}}}}).encode()  # fmt: skip
    assert read(body).provider_event_id == f"down_1:payment.downtime.started:{NOW}"
