"""The validator against moto: every response code, and never a 2xx without a stored item."""

from __future__ import annotations

import json
import sys
import threading
import time
from decimal import Decimal
from types import ModuleType
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from tests.handlers.helpers import (
    REGION,
    ROTATED_SECRET,
    SIGNING_SECRET,
    FakeContext,
    fresh_import,
    make_event,
    payment,
    stored_items,
    stored_payload,
)


def call(validator: ModuleType, event: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    response = validator.handler(event, FakeContext())
    return response["statusCode"], json.loads(response["body"])


@pytest.mark.parametrize("signer", ["ours", "standardwebhooks"])
def test_signed_event_is_stored_once_and_acknowledged_with_202(validator: ModuleType, signer: str) -> None:
    status, body = call(validator, make_event(payment("evt_new"), signer=signer))

    assert (status, body) == (202, {"event_id": "evt_new", "status": "accepted"})
    [item] = stored_items()
    assert item["event_id"] == {"S": "evt_new"}
    assert item["transaction_type"] == {"S": "payment"}
    assert item["amount"] == {"N": "19.99"}
    assert item["currency"] == {"S": "EUR"}
    assert item["webhook_id"] == {"S": "msg_test"}
    assert json.loads(stored_payload(item))["event_id"] == "evt_new"
    assert len(item["payload_sha256"]["S"]) == 64


@pytest.mark.parametrize(
    ("missing", "reason"), [("object_id", "missing_object_id"), ("currency", "unknown_currency_exponent")]
)
def test_a_money_fact_without_object_id_or_currency_is_stored_and_parked(
    validator: ModuleType, missing: str, reason: str
) -> None:
    """Red-team RT-5. README "The money contract": every money fact on a money queue carries an `object_id`
    and a `currency`; one that lacks either is stored (202, so the sender stops retrying a body it will
    never change) and parked in unrouted-events with its reason, never routed."""
    body = {key: value for key, value in payment("evt_parked").items() if key != missing}
    status, answer = call(validator, make_event(body))
    assert (status, answer) == (202, {"event_id": "evt_parked", "status": "accepted"})
    [item] = stored_items()
    assert item["unrouted_reason"] == {"S": reason}


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"currency": "XXX"}, "unknown_currency_exponent"),  # R2-3: ISO 4217 gives XXX no minor unit
        ({"currency": "ABC"}, "unknown_currency_exponent"),  # R2-3: no such code
        ({"object_id": "\u200b"}, "missing_object_id"),  # R2-4: a blank id is no id
        ({"transaction_type": "PAYMENT", "outcome": "succeeded"}, "unmapped_transaction_type"),  # R2-5
    ],
    ids=["XXX", "ABC", "zero-width-object-id", "PAYMENT-succeeded"],
)
def test_a_money_fact_the_contract_cannot_route_is_stored_and_parked(
    validator: ModuleType, fields: dict[str, str], reason: str
) -> None:
    """Red-team R2-3..R2-5 at the door: stored (202, the signed body is complete for its sender) and parked
    with the reason, as a money fact without `object_id` or `currency` is; never refused, never routed."""
    status, answer = call(validator, make_event({**payment("evt_parked"), **fields}))
    assert (status, answer) == (202, {"event_id": "evt_parked", "status": "accepted"})
    [item] = stored_items()
    assert item["unrouted_reason"] == {"S": reason}


def test_ttl_is_received_time_plus_configured_days(validator: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EVENT_TTL_DAYS", "7")
    before = int(time.time())
    call(validator, make_event(payment()))
    [item] = stored_items()
    ttl = int(item["ttl"]["N"])
    assert before + 7 * 86400 <= ttl <= int(time.time()) + 7 * 86400


def test_extra_fields_are_kept_verbatim(validator: ModuleType) -> None:
    raw = '{"event_id":"evt_x","transaction_type":"refund","amount":5,"timestamp":"2026-11-28T10:00:00+01:00","meta":{"k":[1,2.50]}}'
    status, _ = call(validator, make_event(raw))
    assert status == 202
    [item] = stored_items()
    assert stored_payload(item) == raw  # the exact signed text, not a re-serialization


@pytest.mark.parametrize(
    ("amount_text", "stored"),
    [
        ("0.1", "0.1"),
        ("19.99", "19.99"),
        ("1e-2", "0.01"),
        ("19.990", "19.99"),
        ("123456789012345678901234.123456789", "123456789012345678901234.123456789"),
    ],
)
def test_amounts_are_stored_exactly(validator: ModuleType, amount_text: str, stored: str) -> None:
    raw = f'{{"event_id":"evt_amount","transaction_type":"payment","amount":{amount_text},"timestamp":"2026-11-28T10:00:00Z"}}'
    status, _ = call(validator, make_event(raw))
    assert status == 202
    [item] = stored_items()
    assert item["amount"] == {"N": stored}
    assert Decimal(item["amount"]["N"]) == Decimal(amount_text)


@pytest.mark.parametrize(
    ("amount_text", "currency", "status"),
    [("12.5", "JPY", 400), ("0.000000001", "JPY", 400), ("10.005", "USD", 400), ("1.0001", "KWD", 400),
     ("12", "JPY", 202), ("12.000", "JPY", 202), ("10.50", "USD", 202), ("1.234", "KWD", 202)],
)  # fmt: skip
def test_an_amount_finer_than_its_currencys_minor_unit_is_refused(
    validator: ModuleType, amount_text: str, currency: str, status: int
) -> None:
    """`amount` is major units with the currency's exponent (DESIGN.md): `12.5` JPY moved no money that
    exists, and was stored and routed as such (red-team finding). ISO 4217 exponents."""
    raw = (f'{{"event_id":"evt_minor","transaction_type":"payment","amount":{amount_text},'
           f'"currency":"{currency}","timestamp":"2026-11-28T10:00:00Z"}}')  # fmt: skip
    answer, body = call(validator, make_event(raw))
    assert answer == status, body
    if status == 400:
        assert (body["error"], body["field"]) == ("invalid_amount", "amount")
        assert stored_items() == []


def test_base64_encoded_body_is_decoded_before_verifying(validator: ModuleType) -> None:
    status, _ = call(validator, make_event(payment("evt_b64"), base64_body=True))
    assert status == 202
    assert stored_items()[0]["event_id"] == {"S": "evt_b64"}


@pytest.mark.parametrize("case", [str.upper, str.title, str.lower])
def test_signature_headers_are_found_in_any_case(validator: ModuleType, case: Any) -> None:
    status, _ = call(validator, make_event(payment(), header_case=case))
    assert status == 202


def test_repeated_delivery_is_acknowledged_as_duplicate_without_a_second_item(validator: ModuleType) -> None:
    first = call(validator, make_event(payment("evt_dup")))
    # Same event, other key order and whitespace: the canonical hash makes it the same payload.
    reordered = json.dumps(dict(reversed(list(payment("evt_dup").items()))), indent=2)
    second = call(validator, make_event(reordered, webhook_id="msg_retry"))

    assert first[0] == 202
    assert second == (200, {"event_id": "evt_dup", "status": "duplicate"})
    assert len(stored_items()) == 1


def test_same_event_id_with_other_payload_is_a_conflict(validator: ModuleType) -> None:
    call(validator, make_event(payment("evt_conflict")))
    status, body = call(validator, make_event(payment("evt_conflict", amount=1000)))

    assert status == 409
    assert body["error"] == "conflict"
    [item] = stored_items()
    assert item["amount"] == {"N": "19.99"}  # the first write stands


def test_duplicate_check_reuses_the_failed_write_instead_of_reading(validator: ModuleType) -> None:
    call(validator, make_event(payment("evt_once")))
    calls: list[str] = []
    validator._dynamodb.meta.events.register("before-call.dynamodb.*", lambda model, **_: calls.append(model.name))
    call(validator, make_event(payment("evt_once")))
    assert calls == ["PutItem"]


def test_concurrent_duplicates_store_one_item_and_both_are_acknowledged(
    validator: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    # DynamoDB evaluates a conditional PutItem atomically; moto checks, then writes, without a lock, so two
    # threads can both pass the check (a full-suite run saw [202, 202]). The lock gives moto DynamoDB's
    # atomicity; the race through the validator itself stays.
    from moto.dynamodb.models import DynamoDBBackend

    atomic = threading.Lock()
    put_item = DynamoDBBackend.put_item

    def atomic_put_item(self: Any, *args: Any, **kwargs: Any) -> Any:
        with atomic:
            return put_item(self, *args, **kwargs)

    monkeypatch.setattr(DynamoDBBackend, "put_item", atomic_put_item)
    event = make_event(payment("evt_race"))
    results: list[int] = []
    barrier = threading.Barrier(2)

    def deliver() -> None:
        barrier.wait()
        results.append(call(validator, event)[0])

    threads = [threading.Thread(target=deliver) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(results) == [200, 202]
    assert len(stored_items()) == 1


def test_both_old_and_new_secret_verify_during_rotation(validator: ModuleType, signing_secret: Any) -> None:
    signing_secret([ROTATED_SECRET, SIGNING_SECRET])
    rotated = fresh_import("validator")
    assert call(rotated, make_event(payment("evt_old"), secret=SIGNING_SECRET))[0] == 202
    assert call(rotated, make_event(payment("evt_new"), secret=ROTATED_SECRET))[0] == 202


def test_retired_secret_is_rejected_once_the_cached_value_expires(validator: ModuleType, signing_secret: Any) -> None:
    assert call(validator, make_event(payment("evt_a")))[0] == 202
    signing_secret([ROTATED_SECRET])
    assert call(validator, make_event(payment("evt_c"), secret=SIGNING_SECRET))[0] == 202  # cached until expiry
    assert 0 < validator.SECRET_CACHE_SECONDS <= 300
    validator._secrets.clear_cache()  # what the passing of SECRET_CACHE_SECONDS does
    status, body = call(validator, make_event(payment("evt_b"), secret=SIGNING_SECRET))
    assert (status, body["error"]) == (401, "invalid_signature")


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda e: e["headers"].pop("webhook-signature"), "missing_signature_headers"),
        (lambda e: e["headers"].pop("webhook-id"), "missing_signature_headers"),
        (lambda e: e["headers"].pop("webhook-timestamp"), "missing_signature_headers"),
        (lambda e: e["headers"].update({"webhook-timestamp": "soon"}), "malformed_timestamp"),
        (lambda e: e["headers"].update({"webhook-signature": "v2,abc"}), "malformed_signature"),
        (lambda e: e["headers"].update({"webhook-signature": "v1,AAAA"}), "invalid_signature"),
        (lambda e: e.update({"body": e["body"].replace("19.99", "99.99")}), "invalid_signature"),
        (lambda e: e["headers"].update({"webhook-id": "msg_other"}), "invalid_signature"),
    ],
)
def test_unsigned_or_tampered_requests_get_401_and_store_nothing(
    validator: ModuleType, mutate: Any, reason: str
) -> None:
    event = make_event(payment())
    mutate(event)
    status, body = call(validator, event)
    assert (status, body["error"]) == (401, reason)
    assert stored_items() == []


def test_wrong_secret_is_rejected(validator: ModuleType) -> None:
    status, body = call(validator, make_event(payment(), secret=ROTATED_SECRET))
    assert (status, body["error"]) == (401, "invalid_signature")


def test_one_valid_signature_among_several_is_enough(validator: ModuleType) -> None:
    event = make_event(payment())
    event["headers"]["webhook-signature"] = "v1,bm90LXRoaXMtb25l " + event["headers"]["webhook-signature"]
    assert call(validator, event)[0] == 202


@pytest.mark.parametrize(("offset", "reason"), [(-301, "timestamp_too_old"), (301, "timestamp_in_future")])
def test_timestamps_outside_tolerance_are_rejected_both_ways(validator: ModuleType, offset: int, reason: str) -> None:
    status, body = call(validator, make_event(payment(), timestamp=int(time.time()) + offset))
    assert (status, body["error"]) == (401, reason)
    assert stored_items() == []


@pytest.mark.parametrize("offset", [-290, 290])
def test_timestamps_inside_tolerance_are_accepted(validator: ModuleType, offset: int) -> None:
    assert call(validator, make_event(payment(), timestamp=int(time.time()) + offset))[0] == 202


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"transaction_type": "payment", "amount": 1, "timestamp": "2026-11-28T10:00:00Z"}, "event_id"),
        (payment(amount=0), "amount"),
        (payment(amount=-5), "amount"),
        (payment(amount="10.00"), "amount"),
        (payment(amount=True), "amount"),
        (payment(transaction_type=""), "transaction_type"),
        (payment(currency="eur"), "currency"),
        (payment(timestamp="yesterday"), "timestamp"),
        (payment(timestamp="2026-13-45T10:00:00Z"), "timestamp"),
        # In range as written, out of `datetime`'s range once converted to UTC: 400, not a 500.
        (payment(timestamp="0001-01-01T00:30:00+01:00"), "timestamp"),
        (payment(timestamp="9999-12-31T23:30:00-01:00"), "timestamp"),
        (payment(event_id="has space"), "event_id"),
    ],
)
def test_schema_violations_get_400_naming_the_field(validator: ModuleType, body: dict[str, Any], field: str) -> None:
    status, response = call(validator, make_event(body))
    assert status == 400
    assert response["field"] == field
    assert stored_items() == []


@pytest.mark.parametrize("raw", ["{not json", "[1, 2]", '"text"', '{"amount": NaN}', ""])
def test_malformed_json_gets_400(validator: ModuleType, raw: str) -> None:
    status, response = call(validator, make_event(raw))
    assert status == 400
    assert response["error"] in {"malformed_json", "schema_violation"}
    assert stored_items() == []


def test_oversized_body_gets_413(validator: ModuleType) -> None:
    status, response = call(validator, make_event(payment(padding="x" * 120_000)))
    assert (status, response["error"]) == (413, "payload_too_large")
    assert stored_items() == []


def test_missing_signing_secret_value_answers_500_and_never_accepts(
    events_table: str, aws: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    arn = boto3.client("secretsmanager", region_name=REGION).create_secret(Name="empty-secret")["ARN"]
    monkeypatch.setenv("SIGNING_SECRET_ARN", arn)
    validator = fresh_import("validator")
    status, body = call(validator, make_event(payment()))
    assert (status, body["error"]) == (500, "unavailable")
    assert stored_items() == []


def test_malformed_signing_secret_answers_500(validator: ModuleType, signing_secret: Any) -> None:
    signing_secret(["not-a-whsec-secret"])
    status, _ = call(fresh_import("validator"), make_event(payment()))
    assert status == 500
    assert stored_items() == []


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("ProvisionedThroughputExceededException", 503),
        ("ThrottlingException", 503),
        ("InternalServerError", 500),
        ("ResourceNotFoundException", 500),
    ],
)
def test_aws_failures_answer_5xx_so_the_sender_retries(validator: ModuleType, code: str, status: int) -> None:
    with Stubber(validator._dynamodb) as stubber:
        stubber.add_client_error("put_item", service_error_code=code, http_status_code=400)
        got, body = call(validator, make_event(payment()))
    assert (got, body["error"]) == (status, "unavailable")
    assert stored_items() == []


def test_missing_table_answers_500(validator: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EVENTS_TABLE_NAME", "no-such-table")
    status, _ = call(validator, make_event(payment()))
    assert status == 500


def test_logs_never_carry_the_body_or_signature(capsys: pytest.CaptureFixture[str], validator: ModuleType) -> None:
    validator.logger.logger_handler.setStream(sys.stdout)  # the stream capsys captures
    event = make_event(payment("evt_private", card_last4="4242"))
    call(validator, event)
    call(validator, make_event(payment("evt_private", amount=3)))  # conflict: the warning path
    logs = capsys.readouterr().out
    assert "evt_private" in logs  # correlation id present
    assert "4242" not in logs and "19.99" not in logs
    assert event["headers"]["webhook-signature"].split(",")[1] not in logs


def test_metrics_are_emitted_as_emf(capsys: pytest.CaptureFixture[str], validator: ModuleType) -> None:
    call(validator, make_event(payment("evt_m")))
    call(validator, make_event(payment("evt_m")))
    emf = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    names = [metric["Name"] for blob in emf for metric in blob["_aws"]["CloudWatchMetrics"][0]["Metrics"]]
    assert "Accepted" in names and "Duplicate" in names
