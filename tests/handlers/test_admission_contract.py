"""The admission contract: a 2xx means the event is stored *and* its routed message is one SQS accepts;
input that can never succeed gets a final 4xx, never a 5xx (README, "The admission contract").

Each input below once got a 202 that was never delivered or a 5xx that the sender retried for days.
"""

from __future__ import annotations

import json
from types import ModuleType
from typing import Any

import pytest

from tests.handlers.helpers import SIGNING_SECRET, FakeContext, make_event, route_stored, stored_items, stored_payload
from tests.handlers.sqs_stand_in import QUEUE_MAXIMUM_MESSAGE_SIZE, message_size

E = '"event_id":"m","transaction_type":"t","amount":1,"timestamp":"2026-11-28T10:00:00Z"'


def call(validator: ModuleType, event: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    response = validator.handler(event, FakeContext())
    return response["statusCode"], json.loads(response["body"])


@pytest.fixture
def pipeline(validator: ModuleType, router: ModuleType) -> tuple[ModuleType, ModuleType]:
    return validator, router


def test_noncharacter_escape_is_delivered_with_an_sqs_legal_message(pipeline: tuple[ModuleType, ModuleType]) -> None:
    validator, router = pipeline
    assert call(validator, make_event("{" + E + ',"n":"\\uffff"}'))[0] == 202
    [entry] = route_stored(router)
    assert "\\uffff" in entry["MessageBody"]
    assert json.loads(json.loads(entry["MessageBody"])["payload"])["n"] == "\uffff"


def test_raw_noncharacter_in_utf8_is_escaped_in_the_message(pipeline: tuple[ModuleType, ModuleType]) -> None:
    validator, router = pipeline
    body = ("{" + E + ',"n":"\ufffe\uffff"}').encode()  # raw U+FFFE U+FFFF: valid UTF-8, refused by SQS
    assert call(validator, make_event(body))[0] == 202
    [entry] = route_stored(router)
    assert json.loads(json.loads(entry["MessageBody"])["payload"])["n"] == "\ufffe\uffff"
    assert stored_payload(stored_items()[0]) == body.decode()  # the stored payload is the exact signed text


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("{" + E + ',"n":"\\ud800"}', "lone_surrogate"),
        ("{" + E + ',"\\udc00":1}', "lone_surrogate"),
        (b"\xef\xbb\xbf{" + E.encode() + b"}", "byte_order_mark"),
        (("{" + E + "}").encode("utf-16"), "invalid_utf8"),
        (("{" + E + "}").encode("utf-16-le"), "malformed_json"),
        (b"{" + E.encode() + b',"n":"\xff"}', "invalid_utf8"),
        ("{" + E + ',"x":' + "[" * 330 + "]" * 330 + "}", "too_deep"),
        ("{" + E + ',"x":' + "[" * 5000 + "]" * 5000 + "}", "too_deep"),
        ("{" + E + ',"x":1e1000000}', "number_out_of_range"),
        ("{" + E + ',"x":1e-1000000}', "number_out_of_range"),
        ("{" + E + ',"x":' + "9" * 5000 + "}", "malformed_json"),
        ("{" + E + ',"event_id":"other"}', "duplicate_key"),
        ("{" + E + ',"x":{"a":1,"a":1}}', "duplicate_key"),
    ],
)
def test_input_that_cannot_be_carried_is_refused_with_its_reason(
    validator: ModuleType, body: str | bytes, reason: str
) -> None:
    status, response = call(validator, make_event(body))
    assert (status, response["error"]) == (400, reason)
    assert stored_items() == []


def test_huge_exponent_is_carried_compactly(pipeline: tuple[ModuleType, ModuleType]) -> None:
    validator, router = pipeline
    body = "{" + E + ',"x":1e300000}'
    assert call(validator, make_event(body))[0] == 202
    [entry] = route_stored(router)
    assert message_size(entry) < 2_000
    assert stored_payload(stored_items()[0]) == body


def test_tiny_exponents_do_not_collide_with_zero(validator: ModuleType) -> None:
    assert call(validator, make_event("{" + E + ',"x":1e-999999}'))[0] == 202
    assert call(validator, make_event("{" + E + ',"x":0}'))[0] == 409  # a different payload, not a duplicate


def test_amount_of_zero_after_underflow_is_refused(validator: ModuleType) -> None:
    body = '{"event_id":"m","transaction_type":"t","amount":1e-1000000,"timestamp":"2026-11-28T10:00:00Z"}'
    assert call(validator, make_event(body))[0] == 400
    body = '{"event_id":"m","transaction_type":"t","amount":1e-200,"timestamp":"2026-11-28T10:00:00Z"}'
    status, response = call(validator, make_event(body))
    assert (status, response.get("field")) == (400, "amount")  # outside DynamoDB's number range


@pytest.mark.parametrize("transaction_type", ["pay ment", "pay\u0000ment", "\uffff", "x" * 65, "payment\n"])
def test_transaction_type_is_restricted_to_a_safe_character_set(validator: ModuleType, transaction_type: str) -> None:
    body = json.dumps(
        {"event_id": "m", "transaction_type": transaction_type, "amount": 1, "timestamp": "2026-11-28T10:00:00Z"}
    )
    status, response = call(validator, make_event(body))
    assert (status, response.get("field")) == (400, "transaction_type")


def test_largest_accepted_body_makes_a_message_within_the_queue_limit(pipeline: tuple[ModuleType, ModuleType]) -> None:
    """The worst case for message growth: every character of the payload doubles when escaped."""
    validator, router = pipeline
    head = "{" + E + ',"x":"'
    filler = '\\"' * ((validator.MAX_BODY_BYTES - len(head) - 2) // 2)
    body = head + filler + '"}'
    assert len(body) <= validator.MAX_BODY_BYTES
    assert call(validator, make_event(body))[0] == 202
    [entry] = route_stored(router)
    assert message_size(entry) <= QUEUE_MAXIMUM_MESSAGE_SIZE


@pytest.mark.parametrize(
    "headers",
    [
        {"webhook-id": "msg_1", "webhook-timestamp": "\u00b2", "webhook-signature": "v1,abc="},
        {"webhook-id": "msg_1", "webhook-timestamp": "\u0661\u0662", "webhook-signature": "v1,abc="},
        {"webhook-id": "msg_1", "webhook-timestamp": "1700000000", "webhook-signature": "v1,\u00e9"},
        {"webhook-id": "msg_\u00e9", "webhook-timestamp": "1700000000", "webhook-signature": "v1,abc="},
        {"webhook-id": "msg_1", "webhook-timestamp": "1" * 5000, "webhook-signature": "v1," + "A" * 100_000},
        {"webhook-id": "\x00", "webhook-timestamp": "", "webhook-signature": "v1,"},
    ],
)
def test_unsigned_requests_with_odd_headers_get_401(validator: ModuleType, headers: dict[str, str]) -> None:
    event = {"headers": headers, "body": "{" + E + "}", "isBase64Encoded": False}
    assert call(validator, event)[0] == 401
    assert stored_items() == []


def test_a_malformed_secret_entry_is_skipped_not_fatal(
    capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture, validator: ModuleType, signing_secret: Any
) -> None:
    signing_secret(["not-a-secret-value-123", "whsec_!!!", 42, SIGNING_SECRET])
    assert call(validator, make_event("{" + E + "}"))[0] == 202
    logs = capsys.readouterr().out + caplog.text
    assert "not-a-secret-value-123" not in logs
    assert caplog.text.count("signing secret entry skipped") == 3
    assert '"SecretEntrySkipped":[1.0,1.0,1.0]' in logs


def test_no_usable_secret_entry_answers_500(validator: ModuleType, signing_secret: Any) -> None:
    signing_secret(["whsec_!!!"])
    assert call(validator, make_event("{" + E + "}"))[0] == 500
    assert stored_items() == []


@pytest.mark.parametrize("headers", [["webhook-id", "x"], "webhook-id: x", 42])
def test_headers_that_are_not_a_mapping_are_an_unsigned_request(validator: ModuleType, headers: Any) -> None:
    assert call(validator, {"headers": headers, "body": "{" + E + "}", "isBase64Encoded": False})[0] == 401


def test_only_a_boolean_true_flags_the_body_as_base64(validator: ModuleType) -> None:
    event = make_event("{" + E + "}")
    event["isBase64Encoded"] = "false"  # a string is not API Gateway's flag: the body is text
    assert call(validator, event)[0] == 202


@pytest.mark.parametrize("body", [42, {"event_id": "m"}, ["x"]])
def test_a_body_that_is_not_text_is_400_saying_so(validator: ModuleType, body: Any) -> None:
    status, response = call(validator, {"headers": {}, "body": body, "isBase64Encoded": False})
    assert (status, response["error"], response["message"]) == (400, "malformed_body", "body is not text")


def test_the_standard_routes_message_bound_fits_the_queue_and_holds_for_the_worst_body(validator: ModuleType) -> None:
    """POST /webhook skips the door's message check on a proof (webhook_event.MESSAGE_BOUND): check the proof."""
    import datetime

    import routed_message
    import webhook_event

    assert webhook_event.MESSAGE_BOUND <= routed_message.MAX_MESSAGE_BYTES
    long_id = "e" * 256
    head = f'{{"event_id":"{long_id}","transaction_type":"{"t" * 64}","amount":{"9" * 38},"currency":"EUR","timestamp":"2026-11-28T10:00:00.123456789+01:00","x":"'
    for unit in ('\\"', "\\\\", "\ufffe"):  # each doubles when escaped
        count = (webhook_event.MAX_BODY_BYTES - len(head.encode()) - 2) // len(unit.encode())
        body = (head + unit * count + '"}').encode()
        event = webhook_event.parse_event(body)
        message = event.message(datetime.datetime.now(datetime.UTC).isoformat())
        assert message.size <= webhook_event.MESSAGE_BOUND, unit
