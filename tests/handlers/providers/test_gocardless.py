"""GoCardless: body HMAC checked against the official verifier, the batch sample, the mapping."""

from __future__ import annotations

import datetime
import json

import pytest
from gocardless_pro import webhooks as gocardless_webhooks
from gocardless_pro.errors import InvalidSignatureError
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.handlers.providers.signing_b import fixture_text, gocardless_signature, provider, request

gocardless = provider("gocardless")
SECRET, OLD_SECRET = "gc-webhook-secret-0123456789", "gc-webhook-secret-old"
KEYS = [gocardless.parse_secret(SECRET, {})]
NOW = 1_800_000_000
BODY = fixture_text("gocardless/sdk_fixture_webhook_body.json")


def receive(body: str, signature: str, keys: list[bytes] = KEYS) -> list:
    return gocardless.receive(request({"Webhook-Signature": signature}, body), keys, {}, NOW)


def test_our_test_signer_is_accepted_by_the_official_verifier() -> None:
    signature = gocardless_signature(BODY.encode(), SECRET)
    assert signature == gocardless.sign(KEYS[0], BODY.encode())
    events = gocardless_webhooks.parse(BODY, SECRET, signature)
    assert [event.id for event in events] == ["EV00BD05S5VM2T", "EV00BD05TB8K63"]
    with pytest.raises(InvalidSignatureError):
        gocardless_webhooks.parse(BODY, OLD_SECRET, signature)


def test_the_sample_batch_maps_to_its_canonical_values() -> None:
    events = receive(BODY, gocardless_signature(BODY.encode(), SECRET))
    assert [event.provider_event_id for event in events] == ["EV00BD05S5VM2T", "EV00BD05TB8K63"]
    assert [event.provider_event_type for event in events] == ["subscriptions.created", "mandates.created"]
    # Issue 17: known non-money facts (bookkeeping of a subscription and a mandate), no longer unknown:
    # type `other` with an outcome goes to the lifecycle queue, not unrouted-events.
    assert [gocardless.default_transaction_type(event) for event in events] == ["other", "other"]
    assert [(event.outcome, event.object_id) for event in events] == [
        ("pending", "SB0003JJQ2MR06"),
        ("pending", "MD000AMA19XGEC"),
    ]
    assert all(event.amount is None and event.currency is None and event.amount_unit is None for event in events)
    assert [event.timestamp for event in events] == [
        datetime.datetime(2018, 7, 5, 9, 13, 51, 404000, tzinfo=datetime.UTC),
        datetime.datetime(2018, 7, 5, 9, 13, 56, 893000, tzinfo=datetime.UTC),
    ]
    assert json.loads(events[1].payload) == json.loads(BODY)["events"][1]


def test_wrong_secret_is_refused() -> None:
    with pytest.raises(gocardless.SignatureError) as refused:
        receive(BODY, gocardless_signature(BODY.encode(), OLD_SECRET))
    assert refused.value.reason == "invalid_signature"


def test_altered_body_is_refused() -> None:
    signature = gocardless_signature(BODY.encode(), SECRET)
    with pytest.raises(gocardless.SignatureError):
        receive(BODY.replace("EV00BD05S5VM2T", "EV00BD05S5VM2X"), signature)


def test_rotated_secret_list_accepts_old_and_new() -> None:
    keys = [gocardless.parse_secret(OLD_SECRET, {}), gocardless.parse_secret(SECRET, {})]
    for secret in (OLD_SECRET, SECRET):
        assert len(receive(BODY, gocardless_signature(BODY.encode(), secret), keys)) == 2


def test_upper_case_hex_is_accepted() -> None:
    assert len(receive(BODY, gocardless_signature(BODY.encode(), SECRET).upper())) == 2


@pytest.mark.parametrize(("signature", "reason"), [("", "missing_signature_headers"), ("zz", "malformed_signature")])
def test_missing_or_malformed_signature(signature: str, reason: str) -> None:
    with pytest.raises(gocardless.SignatureError) as refused:
        receive(BODY, signature)
    assert refused.value.reason == reason


@pytest.mark.parametrize(
    "body", ['{"events": []}', '{"other": 1}', "[1]", '{"events": [1]}', '{"events": [{"id": "a b"}]}']
)
def test_a_signed_body_of_another_shape_is_400(body: str) -> None:
    with pytest.raises(gocardless.InvalidEventError):
        receive(body, gocardless_signature(body.encode(), SECRET))


@pytest.mark.parametrize(
    ("resource_type", "action", "expected", "outcome"),
    [
        ("payments", "confirmed", "payment", "succeeded"),
        ("payments", "paid_out", "other", "succeeded"),
        ("payments", "failed", "payment", "failed"),
        ("payments", "late_failure_settled", "payment", "reversed"),
        ("refunds", "paid", "refund", "succeeded"),
        ("refunds", "funds_returned", "refund", "reversed"),
        ("payments", "charged_back", "dispute", "opened"),
        ("payments", "chargeback_cancelled", "dispute", "won"),
        ("payments", "created", "payment", "pending"),
        ("refunds", "created", "refund", "pending"),
        ("mandates", "created", "other", "pending"),
        ("billing_requests", "created", "other", None),
    ],
)
def test_default_mapping_rows(resource_type: str, action: str, expected: str, outcome: str | None) -> None:
    document = json.loads(BODY)
    document["events"][0] |= {"resource_type": resource_type, "action": action,
                              "links": {"payment": "PM1", "refund": "RF1", "mandate": "MD1"}}  # fmt: skip
    body = json.dumps(document)
    event = receive(body, gocardless_signature(body.encode(), SECRET))[0]
    assert event.provider_event_type == f"{resource_type}.{action}"
    assert (gocardless.default_transaction_type(event), event.outcome) == (expected, outcome)
    assert event.amount is None  # GoCardless sends none: fetch it by object id
    ids = {"payments": ("PM1", None), "refunds": ("RF1", "PM1"), "mandates": ("MD1", None)}
    assert (event.object_id, event.parent_object_id) == ids.get(resource_type, (None, None))


@settings(max_examples=300, deadline=None)
@given(signature=st.text(max_size=100), body=st.binary(max_size=200))
def test_any_header_value_is_only_ever_a_signature_error(signature: str, body: bytes) -> None:
    with pytest.raises(gocardless.SignatureError):
        gocardless.receive(request({"webhook-signature": signature}, body), KEYS, {}, NOW)


@pytest.mark.parametrize("created_at", ["0001-01-01T00:30:00+01:00", "9999-12-31T23:30:00-01:00"])
def test_a_time_that_leaves_datetimes_range_in_utc_is_a_400_not_a_crash(created_at: str) -> None:
    # common.iso_timestamp is shared by Adyen, GoCardless, Mollie, Braintree and Standard Webhooks.
    document = json.loads(BODY)
    document["events"][0]["created_at"] = created_at
    body = json.dumps(document)
    with pytest.raises(gocardless.InvalidEventError) as raised:
        receive(body, gocardless_signature(body.encode(), SECRET))
    assert (raised.value.reason, raised.value.field) == ("invalid_timestamp", "events[0].created_at")
