"""standard-webhooks sources: signed by the reference `standardwebhooks` and `svix` packages, tolerance
both ways, svix-* header names, amounts read from configured paths."""

from __future__ import annotations

import base64
import datetime
import json
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from standardwebhooks.webhooks import Webhook
from svix.webhooks import Webhook as SvixWebhook

from tests.handlers.providers.signing_b import fixture_text, provider, request

standard = provider("standard_webhooks")
SECRET = "whsec_" + base64.b64encode(b"provider-b-signing-key-0123456789").decode()
OLD_SECRET = "whsec_" + base64.b64encode(b"provider-b-old-signing-key-012345").decode()
KEYS = [standard.parse_secret(SECRET, {})]
NOW = 1_800_000_000
OPTIONS = {"amount_field": "data.amount", "currency_field": "data.currency", "amount_unit": "minor"}
BODY = fixture_text("standard-webhooks/payment.succeeded_svix_style.json")


def signed_headers(
    body: str, *, secret: str = SECRET, timestamp: int = NOW, msg_id: str = "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W"
) -> dict[str, str]:
    moment = datetime.datetime.fromtimestamp(timestamp, tz=datetime.UTC)
    signature = Webhook(secret).sign(msg_id, moment, body)
    return {"webhook-id": msg_id, "webhook-timestamp": str(timestamp), "webhook-signature": signature}


def receive(body: str, headers: dict[str, str], options: dict = OPTIONS, keys: list[bytes] = KEYS) -> list:
    return standard.receive(request(headers, body), keys, options, NOW)


def test_the_svix_style_sample_maps_to_its_canonical_values() -> None:
    [event] = receive(BODY, signed_headers(BODY))
    assert event.provider_event_id == "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W"
    assert event.provider_event_type == "payment.succeeded"
    assert (event.amount, event.amount_unit, event.currency) == (Decimal(1999), "minor", "EUR")
    assert event.timestamp == datetime.datetime(2026, 11, 20, 10, 0, tzinfo=datetime.UTC)
    assert event.payload == BODY
    # No default mapping for a sender's own types: the source's type_map says payment.succeeded -> payment.
    assert standard.default_transaction_type(event) == "other"


def test_our_own_canonical_body_can_be_read_as_a_source_too() -> None:
    body = fixture_text("standard-webhooks/product_contract_payment.json")
    options = {"amount_field": "amount", "currency_field": "currency", "amount_unit": "major"}
    document = json.loads(body)
    body = json.dumps(document | {"type": "payment"})
    [event] = receive(body, signed_headers(body, msg_id="evt_sw_0001"), options)
    assert (event.provider_event_id, event.amount, event.currency) == ("evt_sw_0001", Decimal("19.99"), "EUR")


def test_svix_header_names_signed_by_the_svix_package_are_accepted() -> None:
    moment = datetime.datetime.fromtimestamp(NOW, tz=datetime.UTC)
    signature = SvixWebhook(SECRET).sign("msg_svix_1", moment, BODY)
    headers = {"svix-id": "msg_svix_1", "svix-timestamp": str(NOW), "svix-signature": signature}
    [event] = receive(BODY, headers)
    assert event.provider_event_id == "msg_svix_1"


def test_wrong_secret_and_altered_body_are_refused() -> None:
    with pytest.raises(standard.SignatureError) as refused:
        receive(BODY, signed_headers(BODY, secret=OLD_SECRET))
    assert refused.value.reason == "invalid_signature"
    with pytest.raises(standard.SignatureError) as refused:
        receive(BODY.replace("1999", "9999"), signed_headers(BODY))
    assert refused.value.reason == "invalid_signature"


def test_rotated_secret_list_and_several_signatures() -> None:
    keys = [standard.parse_secret(OLD_SECRET, {}), standard.parse_secret(SECRET, {})]
    for secret in (OLD_SECRET, SECRET):
        assert len(receive(BODY, signed_headers(BODY, secret=secret), keys=keys)) == 1
    headers = signed_headers(BODY)
    old = signed_headers(BODY, secret=OLD_SECRET)["webhook-signature"]
    headers["webhook-signature"] = f"{old} {headers['webhook-signature']}"
    assert len(receive(BODY, headers)) == 1


@pytest.mark.parametrize(
    ("offset", "tolerance", "reason"),
    [
        (-301, None, "timestamp_too_old"),
        (301, None, "timestamp_in_future"),
        (-61, 60, "timestamp_too_old"),
        (61, 60, "timestamp_in_future"),
    ],
)
def test_stale_and_future_timestamps_are_refused(offset: int, tolerance: int | None, reason: str) -> None:
    options = OPTIONS | ({"tolerance_seconds": tolerance} if tolerance else {})
    with pytest.raises(standard.SignatureError) as refused:
        receive(BODY, signed_headers(BODY, timestamp=NOW + offset), options)
    assert refused.value.reason == reason


@pytest.mark.parametrize(("offset", "tolerance"), [(-300, None), (300, None), (-3600, 3600), (3600, 3600)])
def test_timestamps_within_the_tolerance_are_accepted(offset: int, tolerance: int | None) -> None:
    options = OPTIONS | ({"tolerance_seconds": tolerance} if tolerance else {})
    assert len(receive(BODY, signed_headers(BODY, timestamp=NOW + offset), options)) == 1


def test_without_a_body_timestamp_the_signed_timestamp_is_the_event_time() -> None:
    body = json.dumps({k: v for k, v in json.loads(BODY).items() if k != "timestamp"})
    [event] = receive(body, signed_headers(body))
    assert event.timestamp == datetime.datetime.fromtimestamp(NOW, tz=datetime.UTC)


@pytest.mark.parametrize(
    ("amount", "unit", "expected"),
    [(1999, "minor", Decimal(1999)), ("1999", "minor", Decimal(1999)), ("19.99", "major", Decimal("19.99"))],
)
def test_amounts_as_numbers_or_numeric_strings(amount: object, unit: str, expected: Decimal) -> None:
    document = json.loads(BODY)
    document["data"]["amount"] = amount
    body = json.dumps(document)
    [event] = receive(body, signed_headers(body), OPTIONS | {"amount_unit": unit})
    assert (event.amount, event.amount_unit) == (expected, unit)


@pytest.mark.parametrize("amount", ["19.99", "abc", True, [1], {"v": 1}, "1e3", ""])
def test_invalid_minor_amounts_are_400_naming_the_field(amount: object) -> None:
    document = json.loads(BODY)
    document["data"]["amount"] = amount
    body = json.dumps(document)
    with pytest.raises(standard.InvalidEventError) as refused:
        receive(body, signed_headers(body))
    assert refused.value.field == "data.amount"


def test_a_fractional_minor_amount_number_is_refused() -> None:
    body = BODY.replace('"amount": 1999', '"amount": 19.99')
    with pytest.raises(standard.InvalidEventError) as refused:
        receive(body, signed_headers(body))
    assert refused.value.field == "data.amount"


def test_events_without_an_amount_carry_none() -> None:
    body = json.dumps({"type": "customer.created", "data": {"id": "c_1"}})
    [event] = receive(body, signed_headers(body))
    assert (event.amount, event.amount_unit, event.currency) == (None, None, None)


@pytest.mark.parametrize(
    "body", ['{"data": {}}', '{"type": "has space"}', "[]", '{"type": "a", "timestamp": "yesterday"}']
)
def test_signed_bodies_of_another_shape_are_400(body: str) -> None:
    with pytest.raises(standard.InvalidEventError):
        receive(body, signed_headers(body))


def test_a_webhook_id_unfit_for_an_sqs_attribute_is_400() -> None:
    with pytest.raises(standard.InvalidEventError) as refused:
        receive(BODY, signed_headers(BODY, msg_id="msg with spaces"))
    assert refused.value.field == "webhook-id"


header_text = st.text(max_size=80)


@settings(max_examples=300, deadline=None)
@given(
    webhook_id=header_text,
    timestamp=st.one_of(header_text, st.integers(NOW - 400, NOW + 400).map(str)),
    signature=st.one_of(header_text, st.text(max_size=40).map(lambda s: "v1," + s)),
    svix=st.booleans(),
    body=st.binary(max_size=200),
)
def test_any_header_values_are_only_ever_signature_errors(
    webhook_id: str, timestamp: str, signature: str, svix: bool, body: bytes
) -> None:
    prefix = "svix-" if svix else "webhook-"
    headers = {f"{prefix}id": webhook_id, f"{prefix}timestamp": timestamp, f"{prefix}signature": signature}
    with pytest.raises(standard.SignatureError):
        standard.receive(request(headers, body), KEYS, OPTIONS, NOW)


@pytest.mark.parametrize(
    ("timestamp", "signature", "reason"),
    [("1799999999²", "v1,AAAA", "malformed_timestamp"), (str(NOW), "v1,\x80", "malformed_signature")],
)
def test_header_text_int_and_base64_refuse_is_a_signature_error(timestamp: str, signature: str, reason: str) -> None:
    headers = {"webhook-id": "msg_1", "webhook-timestamp": timestamp, "webhook-signature": signature}
    with pytest.raises(standard.SignatureError) as refused:
        standard.receive(request(headers, BODY), KEYS, OPTIONS, NOW)
    assert refused.value.reason == reason
