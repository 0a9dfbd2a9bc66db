"""Event identity (issue 18): every `event_id` comes from values the signature fixes, and belongs to one source.

Each test here failed on the code before the change (the shifted Adyen copy was stored as a second
payment; `POST /webhook` could take `stripe:evt_...`; Razorpay's unsigned header minted new ids).
"""

from __future__ import annotations

import json
from types import ModuleType
from typing import Any

import pytest
from Adyen.util import is_valid_hmac_notification

from tests.handlers.helpers import make_event, payment, stored_items
from tests.handlers.providers.signing import body_hex_signature
from tests.handlers.providers.signing_b import adyen_delivery
from tests.handlers.test_sources import (
    SOURCES,
    api_event,
    call,
    configure,  # noqa: F401 - the pytest fixture, used by name
    error_of,
    fixture_bytes,
    post,
)

STRIPE_SAMPLE = "stripe/payment_intent.succeeded.json"
STRIPE_ID = "stripe:evt_1Pgc76B7WZ01zgkWwyRHS12y"


@pytest.fixture
def validator(configure: Any) -> ModuleType:  # noqa: F811 - every source configured (test_sources.SOURCES)
    return configure()[0]


def _adyen_item(merchant_reference: str) -> dict[str, Any]:
    raw = json.loads(fixture_bytes("adyen/AUTHORISATION.json"))
    item = raw["notificationItems"][0]["NotificationRequestItem"]
    item["merchantReference"] = merchant_reference
    item["originalReference"] = ""
    return item


def _shifted(item: dict[str, Any]) -> dict[str, Any]:
    """The same signed string re-split one field to the right: `psp:` + `` -> pspReference `psp:`,
    merchantAccountCode -> originalReference, `order` -> merchantAccountCode, `42` -> merchantReference."""
    order, rest = item["merchantReference"].split(":", 1)
    return {
        **item,
        "pspReference": f"{item['pspReference']}:{item['originalReference']}",
        "originalReference": item["merchantAccountCode"],
        "merchantAccountCode": order,
        "merchantReference": rest,
    }


def test_an_adyen_item_re_split_at_a_colon_is_not_a_second_payment(validator: Any) -> None:
    key = SOURCES["adyen"].secret
    genuine = json.loads(adyen_delivery([_adyen_item("order:42")], key))
    assert call(validator, api_event("adyen", json.dumps(genuine).encode(), {}))[0] == 202
    # The attacker moves the captured signature onto a re-split copy: the signed string is the same.
    shifted = _shifted(genuine["notificationItems"][0]["NotificationRequestItem"])
    forged = {"live": "false", "notificationItems": [{"NotificationRequestItem": shifted}]}
    assert is_valid_hmac_notification(shifted, key)  # Adyen's own library accepts it
    status, body = call(validator, api_event("adyen", json.dumps(forged).encode(), {}))
    assert (status, error_of(body), json.loads(body)["field"]) == (
        400,
        "invalid_field",
        "notificationItems[0].NotificationRequestItem.pspReference",
    )
    assert [item["event_id"]["S"] for item in stored_items()] == ["adyen:123456789:AUTHORISATION:true"]


def test_a_merchant_reference_with_colons_is_accepted(validator: Any) -> None:
    """The one signed value that may hold `:` (the rest splits it off unambiguously)."""
    key = SOURCES["adyen"].secret
    body = adyen_delivery([_adyen_item("order:42:x")], key).encode()
    assert call(validator, api_event("adyen", body, {}))[0] == 202


def test_post_webhook_cannot_store_into_a_sources_namespace(validator: Any) -> None:
    status, body = call(validator, make_event(payment(STRIPE_ID)))
    assert (status, error_of(body), json.loads(body)["field"]) == (400, "reserved_event_id", "event_id")
    # Stripe's genuine event is then stored, not a 409 on every retry.
    assert post(validator, "stripe", fixture_bytes(STRIPE_SAMPLE))[0] == 202
    # An id with a colon whose prefix is no source's name is still the standard source's own.
    assert call(validator, make_event(payment("order:42")))[0] == 202
    assert sorted(item["event_id"]["S"] for item in stored_items()) == ["order:42", STRIPE_ID]


def test_razorpay_replayed_under_fresh_header_ids_is_one_event(validator: Any) -> None:
    raw = fixture_bytes("razorpay/payment.captured.json")
    signature = body_hex_signature(SOURCES["razorpay"].secret, raw)
    answers = [
        call(validator, api_event("razorpay", raw, {"X-Razorpay-Signature": signature, "X-Razorpay-Event-Id": id_}))[0]
        for id_ in ("evt_genuine", "replay_1", "replay_2")
    ]
    assert answers == [202, 200, 200]
    assert [item["event_id"]["S"] for item in stored_items()] == [
        "razorpay:pay_DESp9bgForNoUd:payment.captured:1691735748"
    ]


def test_braintree_id_parts_cannot_hold_the_separator() -> None:
    import importlib

    common = importlib.import_module("providers.common")
    assert common.joined_id([("a", "x"), ("b", "y")]) == "a:b"
    for bad in ("a:b", "-", "", ":", "x" * 201):
        try:
            common.id_part(bad, "field")
        except common.InvalidEventError as error:
            assert error.field == "field"
        else:
            raise AssertionError(bad)
