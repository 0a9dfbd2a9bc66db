"""Square: fixtures to canonical values, our signer against the official SDK's `verify_signature`."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st
from square.utils.webhooks_helper import verify_signature

from tests.handlers.providers.signing import (
    NOW,
    STAGE_URL,
    assert_canonical,
    fixture,
    fixtures,
    load,
    reason_of,
    request,
    square_signature,
)

module = load("square")
SignatureError = module.SignatureError
InvalidEventError = module.common.InvalidEventError
SECRET = "sq0wss-test-signature-key-0123456789"
OLD_SECRET = "sq0wss-old-signature-key-9876543210"
KEY, OLD_KEY = module.parse_secret(SECRET, {}), module.parse_secret(OLD_SECRET, {})
REGISTERED_URL = "https://hooks.example.com/square?source=shop"

CANONICAL = {
    "payment.created.json": (
        "13b867cf-db3d-4b1c-90b6-2f32a9d78124", "payment.created", "payment", "1.00", "USD",
        "2020-02-06T21:27:30.792Z"),
    # A chargeback (state EVIDENCE_REQUIRED) is a money fact: its id is derived from the dispute and the
    # outcome (issue 17; was Square's event_id ce8464b5-6628-4ac2-9264-e06c34df3e82).
    "dispute.created.json": (
        "dispute:ORSEVtZAJxb37RA1EiGw:opened", "dispute.created", "dispute", "88.01", "USD",
        "2020-02-19T21:24:53.258Z"),
}  # fmt: skip


def receive(body: bytes, signature: str | None, *, url: str = STAGE_URL, keys=(KEY,), headers=None):
    all_headers = dict(headers or {})
    if signature is not None:
        all_headers["X-Square-HmacSha256-Signature"] = signature
    return module.receive(request(all_headers, body, url=url), list(keys), {}, NOW)


def refusal(body: bytes, signature: str | None, **kwargs) -> str:
    return reason_of(SignatureError, receive, body, signature, **kwargs)


def test_every_fixture_has_canonical_values() -> None:
    assert sorted(CANONICAL) == fixtures("square")


@pytest.mark.parametrize("name", sorted(CANONICAL))
def test_fixture_maps_to_its_canonical_values(name: str) -> None:
    body = fixture("square", name)
    [event] = receive(body, square_signature(SECRET, STAGE_URL, body))
    assert_canonical(module, event, *CANONICAL[name])


@pytest.mark.parametrize("name", fixtures("square"))
@pytest.mark.parametrize("url", [STAGE_URL, REGISTERED_URL])
def test_the_official_sdk_accepts_our_signer(name: str, url: str) -> None:
    body = fixture("square", name)
    signature = square_signature(SECRET, url, body)
    assert verify_signature(request_body=body.decode(), signature_header=signature, signature_key=SECRET,
                            notification_url=url)  # fmt: skip
    assert not verify_signature(request_body=body.decode(), signature_header=signature, signature_key=OLD_SECRET,
                                notification_url=url)  # fmt: skip
    assert receive(body, signature, url=url)


BODY = fixture("square", "payment.created.json")
SIGNATURE = square_signature(SECRET, STAGE_URL, BODY)


def test_wrong_url_secret_or_body_is_refused() -> None:
    assert refusal(BODY, SIGNATURE, url=STAGE_URL + "/") == "invalid_signature"
    assert refusal(BODY, SIGNATURE, url=STAGE_URL.replace("https", "http")) == "invalid_signature"
    assert refusal(BODY, SIGNATURE, keys=[OLD_KEY]) == "invalid_signature"
    assert refusal(BODY.replace(b'"amount": 100', b'"amount": 900', 1), SIGNATURE) == "invalid_signature"
    assert refusal(BODY, square_signature("whsec_abc", STAGE_URL, BODY)) == "invalid_signature"


def test_rotated_keys_both_accepted() -> None:
    assert receive(BODY, square_signature(OLD_SECRET, STAGE_URL, BODY), keys=[OLD_KEY, KEY])
    assert receive(BODY, SIGNATURE, keys=[OLD_KEY, KEY])


def test_the_legacy_sha1_header_alone_is_refused() -> None:
    legacy = {"X-Square-Signature": "bm90IGEgcmVhbCBzaWduYXR1cmU="}
    with pytest.raises(SignatureError) as raised:
        receive(BODY, None, headers=legacy)
    assert raised.value.reason == "missing_signature_header"
    assert "x-square-signature" in raised.value.message
    assert receive(BODY, SIGNATURE, headers=legacy)  # ignored next to the SHA-256 one


@pytest.mark.parametrize(
    ("signature", "reason"),
    [
        (None, "missing_signature_header"),
        ("", "missing_signature_header"),
        ("not base64!", "malformed_signature_header"),
        ("AAAA", "malformed_signature_header"),  # base64, wrong length
        (SIGNATURE.rstrip("="), "malformed_signature_header"),
        (SIGNATURE + "é", "malformed_signature_header"),
        ("A" * 5000, "oversized_signature_header"),
    ],
)
def test_malformed_headers_have_stable_reasons(signature: str | None, reason: str) -> None:
    assert refusal(BODY, signature) == reason


@given(st.text(max_size=300))
def test_arbitrary_header_text_raises_only_signature_error(signature: str) -> None:
    with pytest.raises(SignatureError):
        receive(BODY, signature)


@given(st.text(max_size=300), st.text(max_size=100))
def test_arbitrary_legacy_header_and_url_raise_only_signature_error(legacy: str, url: str) -> None:
    with pytest.raises(SignatureError):
        receive(BODY, None, url=url, headers={"X-Square-Signature": legacy})


def test_a_url_that_is_not_utf8_matches_nothing() -> None:
    assert refusal(BODY, SIGNATURE, url=STAGE_URL + "\ud800") == "invalid_signature"


def event_body(event_type: str, object_type: str | None, obj: dict | None) -> bytes:
    data = {"type": object_type, "id": "x", "object": {object_type: obj} if object_type else {}}
    return json.dumps(
        {"event_id": "6a8f5f28-54a1-4eb0-a98a-3111513fd4fc", "type": event_type, "created_at": "2020-02-06T21:27:30.792Z",
         "merchant_id": "M", "data": data}
    ).encode()  # fmt: skip


def read(body: bytes):
    return receive(body, square_signature(SECRET, STAGE_URL, body))[0]


MONEY = {"amount_money": {"amount": 1500, "currency": "JPY"}}


@pytest.mark.parametrize(
    ("event_type", "object_type", "expected"),
    [
        ("payment.created", "payment", "payment"),
        ("payment.updated", "payment", "payment"),
        ("refund.created", "refund", "refund"),
        ("refund.updated", "refund", "refund"),
        ("dispute.created", "dispute", "dispute"),
        ("dispute.state.updated", "dispute", "dispute"),
        ("dispute.evidence.created", "dispute", "dispute"),
        ("order.created", "order_created", "other"),
        ("payout.paid", "payout", "other"),
    ],
)
def test_default_mapping(event_type: str, object_type: str, expected: str) -> None:
    event = read(event_body(event_type, object_type, MONEY))
    assert module.default_transaction_type(event) == expected
    if object_type in ("payment", "refund", "dispute"):
        assert (event.amount, event.currency) == (1500, "JPY")
    else:
        assert (event.amount, event.currency) == (None, None)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b"\"text\"", None),
        (event_body("payment.created", "payment", {"amount_money": {"amount": "100", "currency": "USD"}}),
         "data.object.payment.amount_money.amount"),
        (event_body("payment.created", "payment", {"amount_money": {"amount": 100}}),
         "data.object.payment.amount_money.currency"),
        (event_body("payment.created", "payment", MONEY).replace(b"6a8f5f28", b"6a8f 5f28"), "event_id"),
        (event_body("payment.created", "payment", MONEY).replace(b"21:27:30.792Z", b"21:27:30.792"), "created_at"),
    ],
)  # fmt: skip
def test_bodies_not_of_squares_shape_are_invalid_events(body: bytes, field: str | None) -> None:
    with pytest.raises(InvalidEventError) as raised:
        read(body)
    assert raised.value.field == field
