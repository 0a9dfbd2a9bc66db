"""Adyen: per-item HMAC (every item, not only the first), the samples' canonical values, the mapping."""

from __future__ import annotations

import datetime
import importlib
import json
from decimal import Decimal
from pathlib import Path

import pytest
from Adyen.util import generate_notification_sig, is_valid_hmac_notification
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.handlers.providers.signing_b import adyen_delivery, adyen_signature, fixture_text, provider, request

adyen = provider("adyen")
money = importlib.import_module("money")
KEY = "44782DEF547AAA06C910C43932B1EB0C71FC68D9D0C057550C48EC2ACF6BA056"
OLD_KEY = "0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF"
KEYS = [adyen.parse_secret(KEY, {})]
NOW = 1_800_000_000


def sdk_signer(item: dict, hex_key: str) -> str:
    """The official SDK's signer (the oracle)."""
    return generate_notification_sig(item, hex_key).decode()


def item_of(path: str) -> dict:
    return json.loads(fixture_text(path))["notificationItems"][0]["NotificationRequestItem"]


def receive(body: str, keys: list[bytes] = KEYS) -> list:
    return adyen.receive(request({"content-type": "application/json"}, body), keys, {}, NOW)


@pytest.mark.parametrize(
    ("path", "event_id", "transaction_type", "amount", "currency", "timestamp"),
    [
        (
            "adyen/AUTHORISATION.json",
            "123456789:AUTHORISATION:true",
            "payment",
            "101.00",
            "EUR",
            "2017-01-19T15:42:03Z",
        ),
        ("adyen/REFUND.json", "PSP_REFERENCE:REFUND:true", "refund", "15.00", "EUR", "2017-02-17T10:11:44Z"),
    ],
)
def test_samples_signed_by_the_sdk_map_to_their_canonical_values(
    path: str, event_id: str, transaction_type: str, amount: str, currency: str, timestamp: str
) -> None:
    [event] = receive(adyen_delivery([item_of(path)], KEY, signer=sdk_signer))
    assert event.provider_event_id == event_id
    assert adyen.default_transaction_type(event) == transaction_type
    assert (event.amount_unit, event.currency) == ("minor", currency)
    assert money.text(money.from_minor_units(event.amount, event.currency, adyen.EXPONENT_OVERRIDES)) == amount
    assert event.timestamp == datetime.datetime.fromisoformat(timestamp.replace("Z", "+00:00"))
    assert event.timestamp.tzinfo is not None
    assert json.loads(event.payload)["pspReference"] == event_id.split(":")[0]


@pytest.mark.parametrize("path", ["adyen/AUTHORISATION.json", "adyen/REFUND.json"])
def test_our_test_signer_equals_the_sdk(path: str) -> None:
    item = {k: v for k, v in item_of(path).items() if k != "additionalData"}
    assert adyen_signature(item, KEY) == sdk_signer(item, KEY)
    assert adyen.signing_string(item).count(":") == 7


def test_a_batch_with_the_second_item_altered_is_refused_whole() -> None:
    delivery = json.loads(adyen_delivery([item_of("adyen/AUTHORISATION.json"), item_of("adyen/REFUND.json")], KEY))
    delivery["notificationItems"][1]["NotificationRequestItem"]["amount"]["value"] = 150000
    body = json.dumps(delivery)
    # The official SDK, given the batch, checks the first item only and calls it valid.
    assert is_valid_hmac_notification(json.loads(body), KEY) is True
    with pytest.raises(adyen.SignatureError) as refused:
        receive(body)
    assert refused.value.reason == "invalid_signature"
    assert "item 1" in refused.value.message


def test_a_batch_of_valid_items_gives_one_event_per_item() -> None:
    events = receive(adyen_delivery([item_of("adyen/AUTHORISATION.json"), item_of("adyen/REFUND.json")], KEY))
    assert [event.provider_event_type for event in events] == ["AUTHORISATION", "REFUND"]


def test_wrong_key_is_refused() -> None:
    with pytest.raises(adyen.SignatureError) as refused:
        receive(adyen_delivery([item_of("adyen/AUTHORISATION.json")], OLD_KEY))
    assert refused.value.reason == "invalid_signature"


def test_rotated_key_list_accepts_old_and_new() -> None:
    keys = [adyen.parse_secret(OLD_KEY, {}), adyen.parse_secret(KEY, {})]
    for key in (OLD_KEY, KEY):
        assert len(receive(adyen_delivery([item_of("adyen/AUTHORISATION.json")], key), keys)) == 1


@pytest.mark.parametrize(
    ("field", "value"),
    [("pspReference", "999"), ("merchantReference", "x"), ("success", "false"), ("eventCode", "CAPTURE")],
)
def test_an_altered_signed_field_is_refused(field: str, value: str) -> None:
    delivery = json.loads(adyen_delivery([item_of("adyen/AUTHORISATION.json")], KEY))
    delivery["notificationItems"][0]["NotificationRequestItem"][field] = value
    with pytest.raises(adyen.SignatureError):
        receive(json.dumps(delivery))


def test_event_date_is_not_signed_so_it_is_stored_not_trusted() -> None:
    delivery = json.loads(adyen_delivery([item_of("adyen/AUTHORISATION.json")], KEY))
    delivery["notificationItems"][0]["NotificationRequestItem"]["eventDate"] = "2030-01-01T00:00:00+00:00"
    [event] = receive(json.dumps(delivery))  # still valid: Adyen's HMAC does not cover eventDate
    assert event.timestamp.year == 2030


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ('{"live": "false"}', "missing_signature"),
        ('{"live": "false", "notificationItems": []}', "missing_signature"),
        ('{"notificationItems": [{"Other": {}}]}', "malformed_notification"),
        ('{"notificationItems": [{"NotificationRequestItem": {"pspReference": "1"}}]}', "missing_signature"),
        (
            '{"notificationItems": [{"NotificationRequestItem": {"additionalData": {"hmacSignature": "%%%"}}}]}',
            "malformed_signature",
        ),
    ],
)
def test_deliveries_without_a_usable_signature_are_401(body: str, reason: str) -> None:
    with pytest.raises(adyen.SignatureError) as refused:
        receive(body)
    assert refused.value.reason == reason


def test_malformed_json_is_400() -> None:
    with pytest.raises(adyen.InvalidEventError):
        receive('{"notificationItems": [}')


def test_a_signed_item_with_an_unusable_psp_reference_is_400_naming_the_field() -> None:
    item = item_of("adyen/AUTHORISATION.json") | {"pspReference": "has space"}
    with pytest.raises(adyen.InvalidEventError) as refused:
        receive(adyen_delivery([item], KEY))
    assert refused.value.field == "notificationItems[0].NotificationRequestItem.pspReference"


# Every row of docs/providers/adyen.md: (eventCode, success, capture option, modification.action) ->
# (transaction_type, outcome). Object id: the item's pspReference; parent: originalReference.
MAPPING_ROWS = [
    ("AUTHORISATION", "true", "automatic", None, ("payment", "succeeded")),
    ("AUTHORISATION", "true", "manual", None, ("payment", "authorized")),
    ("AUTHORISATION", "false", "automatic", None, ("payment", "failed")),
    ("CAPTURE", "true", "automatic", None, ("other", "succeeded")),
    ("CAPTURE", "true", "manual", None, ("payment", "succeeded")),
    ("CAPTURE", "false", "manual", None, ("payment", "failed")),
    ("CAPTURE_FAILED", "true", "manual", None, ("payment", "reversed")),
    ("CAPTURE_FAILED", "true", "automatic", None, ("payment", "reversed")),
    ("CANCELLATION", "true", "automatic", None, ("payment", "canceled")),
    ("CANCELLATION", "false", "automatic", None, ("payment", "failed")),
    ("TECHNICAL_CANCEL", "true", "automatic", None, ("payment", "canceled")),
    ("OFFER_CLOSED", "true", "automatic", None, ("payment", "canceled")),
    ("PENDING", "true", "automatic", None, ("payment", "pending")),
    ("AUTHORISATION_ADJUSTMENT", "true", "manual", None, ("payment", "authorized")),
    ("MANUAL_REVIEW_ACCEPT", "true", "automatic", None, ("payment", "pending")),
    ("MANUAL_REVIEW_REJECT", "true", "automatic", None, ("payment", "canceled")),
    ("REFUND", "true", "automatic", None, ("refund", "succeeded")),
    ("REFUND", "false", "automatic", None, ("refund", "failed")),
    ("REFUND_WITH_DATA", "true", "automatic", None, ("refund", "succeeded")),
    ("REFUND_FAILED", "true", "automatic", None, ("refund", "reversed")),
    ("REFUNDED_REVERSED", "true", "automatic", None, ("refund", "reversed")),
    ("VOID_PENDING_REFUND", "true", "automatic", None, ("refund", "canceled")),
    ("CANCEL_OR_REFUND", "true", "automatic", "refund", ("refund", "succeeded")),
    ("CANCEL_OR_REFUND", "true", "automatic", "cancel", ("payment", "canceled")),
    ("CANCEL_OR_REFUND", "false", "automatic", "refund", ("refund", "failed")),
    ("CHARGEBACK", "true", "automatic", None, ("dispute", "opened")),
    ("SECOND_CHARGEBACK", "true", "automatic", None, ("dispute", "opened")),
    ("CHARGEBACK_REVERSED", "true", "automatic", None, ("dispute", "won")),
    ("PREARBITRATION_WON", "true", "automatic", None, ("dispute", "won")),
    ("PREARBITRATION_LOST", "true", "automatic", None, ("dispute", "lost")),
    ("NOTIFICATION_OF_CHARGEBACK", "true", "automatic", None, ("dispute", "pending")),
    ("REQUEST_FOR_INFORMATION", "true", "automatic", None, ("dispute", "pending")),
    ("NOTIFICATION_OF_FRAUD", "true", "automatic", None, ("dispute", "pending")),
    ("DISPUTE_DEFENSE_PERIOD_ENDED", "true", "automatic", None, ("dispute", "pending")),
    ("INFORMATION_SUPPLIED", "true", "automatic", None, ("dispute", "pending")),
    ("ISSUER_RESPONSE_TIMEFRAME_EXPIRED", "true", "automatic", None, ("dispute", "pending")),
    ("ISSUER_COMMENTS", "true", "automatic", None, ("dispute", "pending")),
    ("REPORT_AVAILABLE", "true", "automatic", None, ("other", None)),
]


@pytest.mark.parametrize(("event_code", "success", "capture", "action", "expected"), MAPPING_ROWS)
def test_mapping_row(event_code: str, success: str, capture: str, action: str | None, expected: tuple) -> None:
    item = item_of("adyen/AUTHORISATION.json") | {"eventCode": event_code, "success": success,
                                                  "originalReference": "PAYMENT_PSP"}  # fmt: skip
    if action is not None:
        item["additionalData"] = {**item["additionalData"], "modification.action": action}
    delivery = adyen_delivery([item], KEY)
    [event] = adyen.receive(request({"content-type": "application/json"}, delivery), KEYS, {"capture": capture}, NOW)
    assert (adyen.default_transaction_type(event), event.outcome) == expected
    if (event_code, capture) == ("CAPTURE_FAILED", "automatic"):  # the AUTHORISATION's payment, reversed
        assert (event.object_id, event.parent_object_id) == ("PAYMENT_PSP", None)
    else:
        assert (event.object_id, event.parent_object_id) == (item["pspReference"], "PAYMENT_PSP")
    assert event.object_version == int(event.timestamp.timestamp() * 1_000_000)


def test_every_event_code_has_a_row_and_a_doc_line() -> None:
    doc = (Path(__file__).resolve().parents[3] / "docs" / "providers" / "adyen.md").read_text(encoding="utf-8")
    assert set(adyen.EVENT_CODES) <= {row[0] for row in MAPPING_ROWS}
    for code in adyen.EVENT_CODES:
        assert f"`{code}`" in doc, code


@pytest.mark.parametrize(
    ("currency", "minor", "major"), [("CLP", 1000, "10.00"), ("CVE", 1000, "1000"), ("EUR", 1000, "10.00")]
)
def test_exponent_overrides_where_adyen_differs_from_iso(currency: str, minor: int, major: str) -> None:
    assert money.text(money.from_minor_units(minor, currency, adyen.EXPONENT_OVERRIDES)) == major


@pytest.mark.parametrize("secret", ["", "xyz", "abc", "00" * 8, KEY + "0"])
def test_malformed_secrets_are_value_errors(secret: str) -> None:
    with pytest.raises(ValueError):
        adyen.parse_secret(secret, {})


@settings(max_examples=200, deadline=None)
@given(signature=st.text(max_size=80))
def test_any_signature_value_is_only_ever_a_signature_error(signature: str) -> None:
    delivery = json.loads(adyen_delivery([item_of("adyen/AUTHORISATION.json")], KEY))
    delivery["notificationItems"][0]["NotificationRequestItem"]["additionalData"]["hmacSignature"] = signature
    with pytest.raises(adyen.SignatureError):
        receive(json.dumps(delivery))


@settings(max_examples=200, deadline=None)
@given(body=st.binary(max_size=300), headers=st.dictionaries(st.text(max_size=20), st.text(max_size=80), max_size=4))
def test_arbitrary_bodies_are_refused_as_401_or_400_only(body: bytes, headers: dict[str, str]) -> None:
    with pytest.raises((adyen.SignatureError, adyen.InvalidEventError)):
        adyen.receive(request(headers, body), KEYS, {}, NOW)


def test_amounts_are_exact_decimals() -> None:
    [event] = receive(adyen_delivery([item_of("adyen/AUTHORISATION.json")], KEY))
    assert event.amount == Decimal(10100)
