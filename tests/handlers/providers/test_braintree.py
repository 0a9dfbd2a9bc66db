"""Braintree: form signature chosen by public key, SDK-made samples, safe XML, the mapping."""

from __future__ import annotations

import datetime
import json
import urllib.parse
from decimal import Decimal

import pytest
from braintree import BraintreeGateway, Configuration, Environment
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.handlers.providers.signing_b import (
    braintree_payload,
    braintree_signature,
    fixture_text,
    provider,
    request,
)

braintree = provider("braintree")
PUBLIC, PRIVATE = "test_public_key", "test_private_key_0123456789"
OPTIONS = {"public_key": PUBLIC}
KEYS = [braintree.parse_secret(PRIVATE, {})]
NOW = 1_800_000_000
CHECK_XML = (
    '<notification><timestamp type="datetime">2026-01-01T00:00:00Z</timestamp><kind>check</kind>'
    '<subject><check type="boolean">true</check></subject></notification>'
)
FORM = {"content-type": "application/x-www-form-urlencoded"}


def gateway(public_key: str = PUBLIC, private_key: str = PRIVATE) -> BraintreeGateway:
    return BraintreeGateway(Configuration(Environment.Sandbox, "merchant_id", public_key, private_key))


def body_of(fields: dict[str, str | bytes]) -> str:
    return urllib.parse.urlencode({k: v.decode() if isinstance(v, bytes) else v for k, v in fields.items()})


def receive(body: str, keys: list[bytes] = KEYS, options: dict = OPTIONS) -> list:
    return braintree.receive(request(FORM, body), keys, options, NOW)


@pytest.mark.parametrize(
    ("path", "kind", "subject_id", "transaction_type"),
    [
        ("braintree/transaction_settled.json", "transaction_settled", "txn_settled_0001", "payment"),
        ("braintree/dispute_opened.json", "dispute_opened", "dispute_0001", "dispute"),
    ],
)
def test_samples_map_to_their_canonical_values(path: str, kind: str, subject_id: str, transaction_type: str) -> None:
    fields = json.loads(fixture_text(path))["form"]
    [event] = receive(body_of(fields))
    moment = datetime.datetime(2026, 11, 29, 13, 37, 31, tzinfo=datetime.UTC)
    assert event.provider_event_id == f"{kind}:{subject_id}:{int(moment.timestamp())}"
    assert event.provider_event_type == kind
    assert braintree.default_transaction_type(event) == transaction_type
    assert (event.amount, event.amount_unit, event.currency) == (Decimal("100.00"), "major", "USD")
    assert str(event.amount) == "100.00"
    assert event.timestamp == moment


@pytest.mark.parametrize(
    ("kind", "expected", "outcome", "amount"),
    [
        ("transaction_settled", "payment", "succeeded", "100.00"),
        ("subscription_charged_successfully", "payment", "succeeded", "49.99"),  # its transaction's amount
        ("dispute_opened", "dispute", "opened", "100.00"),
        ("dispute_lost", "dispute", "lost", "100.00"),
        ("dispute_won", "dispute", "won", "100.00"),
        ("dispute_accepted", "other", "lost", "100.00"),
        ("transaction_settlement_declined", "payment", "failed", "100.00"),
        ("subscription_charged_unsuccessfully", "payment", "failed", "49.99"),  # the failed charge
        ("subscription_canceled", "other", "canceled", None),
        ("refund_failed", "refund", "failed", "100"),
        ("check", "other", None, None),
    ],
)
def test_sdk_signed_notifications_and_every_mapping_row(
    kind: str, expected: str, outcome: str | None, amount: str | None
) -> None:
    """Issue 17: the official SDK's sample of each kind maps to its (type, outcome) and this fact's amount."""
    fields = gateway().webhook_testing.sample_notification(kind, "subject_1")
    [event] = receive(body_of(fields))
    assert event.provider_event_type == kind
    assert (braintree.default_transaction_type(event), event.outcome) == (expected, outcome)
    assert (str(event.amount) if event.amount is not None else None) == amount
    assert event.provider_event_id.startswith(f"{kind}:")
    assert event.object_version == int(event.timestamp.timestamp()) * 1_000_000


def test_our_signature_is_accepted_by_the_sdk() -> None:
    payload = braintree_payload(CHECK_XML)
    signature = braintree_signature(payload, PUBLIC, PRIVATE)
    assert braintree.sign(KEYS[0], PUBLIC, payload) == signature
    assert gateway().webhook_notification.parse(signature, payload).kind == "check"


def test_wrong_public_key_is_refused() -> None:
    fields = gateway(public_key="other_public_key").webhook_testing.sample_notification("check", "x")
    with pytest.raises(braintree.SignatureError) as refused:
        receive(body_of(fields))
    assert refused.value.reason == "unknown_public_key"


def test_wrong_private_key_is_refused() -> None:
    fields = gateway(private_key="another_private_key").webhook_testing.sample_notification("check", "x")
    with pytest.raises(braintree.SignatureError) as refused:
        receive(body_of(fields))
    assert refused.value.reason == "invalid_signature"


def test_altered_payload_is_refused() -> None:
    fields = json.loads(fixture_text("braintree/transaction_settled.json"))["form"]
    xml = json.loads(fixture_text("braintree/transaction_settled.json"))["decoded_payload_xml"]
    fields["bt_payload"] = braintree_payload(xml.replace("100.00", "900.00"))
    with pytest.raises(braintree.SignatureError):
        receive(body_of(fields))


def test_rotated_private_keys_accept_old_and_new() -> None:
    keys = [braintree.parse_secret("old_private_key_0123", {}), braintree.parse_secret(PRIVATE, {})]
    for private in ("old_private_key_0123", PRIVATE):
        fields = gateway(private_key=private).webhook_testing.sample_notification("check", "x")
        assert len(receive(body_of(fields), keys)) == 1


def test_several_signature_pairs_any_for_our_public_key_may_match() -> None:
    payload = braintree_payload(CHECK_XML)
    pairs = [
        braintree_signature(payload, "other_public_key", "x"),
        braintree_signature(payload, PUBLIC, "stale_key"),
        braintree_signature(payload, PUBLIC, PRIVATE),
    ]
    assert len(receive(body_of({"bt_signature": "&".join(pairs), "bt_payload": payload}))) == 1


def test_signature_over_payload_with_trailing_newline_is_accepted_like_the_sdk() -> None:
    payload = braintree_payload(CHECK_XML)
    stripped = payload.rstrip("\n")
    signature = braintree_signature(stripped + "\n", PUBLIC, PRIVATE)
    assert len(receive(body_of({"bt_signature": signature, "bt_payload": stripped}))) == 1


def test_a_signed_payload_with_a_doctype_is_refused_before_any_entity_is_read() -> None:
    xml = '<?xml version="1.0"?><!DOCTYPE n [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]><notification><kind>&b;</kind></notification>'
    payload = braintree_payload(xml)
    body = body_of({"bt_signature": braintree_signature(payload, PUBLIC, PRIVATE), "bt_payload": payload})
    with pytest.raises(braintree.InvalidEventError) as refused:
        receive(body)
    assert refused.value.reason == "xml_doctype"


def test_a_signed_payload_that_is_not_a_notification_is_400() -> None:
    payload = braintree_payload("<other/>")
    with pytest.raises(braintree.InvalidEventError):
        receive(body_of({"bt_signature": braintree_signature(payload, PUBLIC, PRIVATE), "bt_payload": payload}))


@pytest.mark.parametrize(
    "xml",
    [
        '<?xml version="1.0" encoding="no-such-encoding"?>' + CHECK_XML,  # expat raises LookupError
        '<?xml version="1.0" encoding="UTF-7"?>' + CHECK_XML,  # Python's codec refuses: was a 500
        '<?xml version="1.0" encoding="UTF-32"?>' + CHECK_XML,
        '<?xml version="1.0" encoding="idna"?>' + CHECK_XML,
        '<?xml version="1.0" encoding="punycode"?>' + CHECK_XML,
        CHECK_XML.replace("2026-01-01T00:00:00Z", "0001-01-01T00:30:00+01:00"),  # leaves datetime's range in UTC
    ],
)
def test_a_signed_payload_that_cannot_be_read_is_400_not_a_crash(xml: str) -> None:
    payload = braintree_payload(xml)
    with pytest.raises(braintree.InvalidEventError):
        receive(body_of({"bt_signature": braintree_signature(payload, PUBLIC, PRIVATE), "bt_payload": payload}))


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("", "missing_signature"),
        ("bt_payload=abc", "missing_signature"),
        ("bt_signature=a%7Cb&bt_payload=abc&bt_payload=abc", "missing_signature"),
        ("bt_signature=a%7Cb&bt_payload=%21%21", "malformed_payload"),
        ("bt_signature=nopipe&bt_payload=abcd", "unknown_public_key"),
    ],
)
def test_forms_without_a_usable_signature_are_401(body: str, reason: str) -> None:
    with pytest.raises(braintree.SignatureError) as refused:
        receive(body)
    assert refused.value.reason == reason


def test_a_source_without_public_key_is_refused() -> None:
    fields = json.loads(fixture_text("braintree/transaction_settled.json"))["form"]
    with pytest.raises(braintree.SignatureError):
        receive(body_of(fields), options={})


@settings(max_examples=200, deadline=None)
@given(body=st.binary(max_size=300), headers=st.dictionaries(st.text(max_size=20), st.text(max_size=80), max_size=4))
def test_arbitrary_bodies_and_headers_are_only_ever_signature_errors(body: bytes, headers: dict[str, str]) -> None:
    with pytest.raises(braintree.SignatureError):
        braintree.receive(request(headers, body), KEYS, OPTIONS, NOW)


@settings(max_examples=200, deadline=None)
@given(signature=st.text(max_size=120))
def test_arbitrary_signature_fields_are_only_ever_signature_errors(signature: str) -> None:
    fields = json.loads(fixture_text("braintree/transaction_settled.json"))["form"]
    fields["bt_signature"] = signature
    with pytest.raises(braintree.SignatureError):
        receive(body_of(fields))
