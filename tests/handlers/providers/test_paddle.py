"""Paddle Billing: fixtures to canonical values, our signer against the official SDK's Verifier."""

from __future__ import annotations

import datetime
import importlib
import json
import time
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from paddle_billing.Notifications import Secret, Verifier

from tests.handlers.providers.signing import (
    NOW,
    assert_canonical,
    fixture,
    fixtures,
    load,
    paddle_header,
    reason_of,
    request,
    timestamped_header_noise,
)

module = load("paddle")
SignatureError = module.SignatureError
InvalidEventError = module.common.InvalidEventError
SECRET = "pdl_ntfset_01gkpjp8bkm3tm53kdgkx6sms7_6h3qd3uFSi9YCD3OLYAShQI90XTI5vEI"  # the docs' example
OLD_SECRET = "pdl_ntfset_01gkpjp8bkm3tm53kdgkx6sms7_oldoldoldoldoldoldoldoldoldold1"
KEY, OLD_KEY = module.parse_secret(SECRET, {}), module.parse_secret(OLD_SECRET, {})

CANONICAL = {
    "transaction.completed.json": (
        "evt_01hv8x2bqcm3kzw6b1y4n9p0t1", "transaction.completed", "payment", "652.15", "USD",
        "2024-04-12T10:18:49.621022Z"),
    "adjustment.created_refund.json": (
        "evt_01hvgf2sbe0x3h1b8v9s7kq2ma", "adjustment.created", "refund", "1.00", "USD", "2024-04-15T08:48:20.814312Z"),
}  # fmt: skip


class SdkRequest:
    """The duck-typed request the SDK's Verifier reads (`headers.get`, `body`)."""

    def __init__(self, headers: dict[str, str], body: bytes) -> None:
        self.headers, self.body = headers, body


def receive(body: bytes, header: str | None, *, keys=(KEY,), now: int = NOW, options=None):
    headers = {} if header is None else {"Paddle-Signature": header}
    return module.receive(request(headers, body), list(keys), options or {}, now)


def refusal(body: bytes, header: str | None, **kwargs) -> str:
    return reason_of(SignatureError, receive, body, header, **kwargs)


def test_every_fixture_has_canonical_values() -> None:
    assert sorted(CANONICAL) == fixtures("paddle")


@pytest.mark.parametrize("name", sorted(CANONICAL))
def test_fixture_maps_to_its_canonical_values(name: str) -> None:
    body = fixture("paddle", name)
    [event] = receive(body, paddle_header([SECRET], body, NOW))
    assert_canonical(module, event, *CANONICAL[name])
    assert event.payload == body.decode()


@pytest.mark.parametrize("name", fixtures("paddle"))
def test_the_official_verifier_accepts_our_signer(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TEST_MODE", raising=False)  # TEST_MODE=1 would switch the SDK's time check off
    body = fixture("paddle", name)
    now = int(time.time())
    header = paddle_header([SECRET], body, now)
    assert Verifier().verify(SdkRequest({"Paddle-Signature": header}, body), Secret(SECRET)) is True
    assert Verifier().verify(SdkRequest({"Paddle-Signature": header}, body), [Secret(OLD_SECRET), Secret(SECRET)])
    assert Verifier().verify(SdkRequest({"Paddle-Signature": header}, body), Secret(OLD_SECRET)) is False
    assert receive(body, header, now=now)
    stale = paddle_header([SECRET], body, now - 60)
    assert Verifier().verify(SdkRequest({"Paddle-Signature": stale}, body), Secret(SECRET)) is False  # SDK: 5 s
    assert receive(body, stale, now=now)  # ours: 300 s by default (see the module docstring)
    assert refusal(body, stale, now=now, options={"tolerance_seconds": 5}) == "timestamp_too_old"


BODY = fixture("paddle", "transaction.completed.json")


def test_altered_body_and_wrong_secret_are_refused() -> None:
    header = paddle_header([SECRET], BODY, NOW)
    assert refusal(BODY.replace(b"65215", b"99999"), header) == "invalid_signature"
    assert refusal(BODY, header, keys=[OLD_KEY]) == "invalid_signature"
    assert refusal(BODY, paddle_header(["whsec_abc"], BODY, NOW)) == "invalid_signature"


def test_stale_and_future_timestamps_are_refused_beyond_the_tolerance() -> None:
    assert refusal(BODY, paddle_header([SECRET], BODY, NOW - 301)) == "timestamp_too_old"
    assert refusal(BODY, paddle_header([SECRET], BODY, NOW + 301)) == "timestamp_in_future"
    assert receive(BODY, paddle_header([SECRET], BODY, NOW - 300))
    assert receive(BODY, paddle_header([SECRET], BODY, NOW + 300))


def test_rotated_secrets_and_several_signatures() -> None:
    assert receive(BODY, paddle_header([OLD_SECRET], BODY, NOW), keys=[OLD_KEY, KEY])
    assert receive(BODY, paddle_header([SECRET], BODY, NOW), keys=[OLD_KEY, KEY])
    assert receive(BODY, paddle_header([OLD_SECRET, SECRET], BODY, NOW))
    assert receive(BODY, paddle_header(["other", SECRET], BODY, NOW).replace(";", " ; "))


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        (None, "missing_signature_header"),
        ("  ", "missing_signature_header"),
        ("h1=" + "0" * 64, "malformed_signature_header"),
        (f"ts={NOW};ts={NOW};h1=" + "0" * 64, "malformed_signature_header"),
        ("ts=-5;h1=" + "0" * 64, "malformed_timestamp"),
        (f"ts={NOW}", "no_signature"),
        (f"ts={NOW};h1=zz", "no_signature"),
        (f"ts={NOW},h1=" + "0" * 64, "malformed_timestamp"),  # Stripe's separator
        (f"ts={NOW};h1=" + "0" * 64, "invalid_signature"),
        (f"ts={NOW};h1=" + "0" * 64 + "é", "malformed_signature_header"),
        (f"ts={NOW};h1=" + "0" * 5000, "oversized_signature_header"),
    ],
)
def test_malformed_headers_have_stable_reasons(header: str | None, reason: str) -> None:
    assert refusal(BODY, header) == reason


@given(st.text(max_size=300))
def test_arbitrary_header_text_raises_only_signature_error(header: str) -> None:
    with pytest.raises(SignatureError):
        receive(BODY, header)


@given(timestamped_header_noise("ts", "h1", ";"))
def test_structured_header_noise_raises_only_signature_error(header: str) -> None:
    with pytest.raises(SignatureError):
        receive(BODY, header)


def event_body(event_type: str, data: dict | None, occurred_at: object = "2024-04-15T08:48:20.814312Z") -> bytes:
    return json.dumps(
        {"event_id": "evt_01", "event_type": event_type, "occurred_at": occurred_at, "data": data}
    ).encode()


def read(body: bytes):
    return receive(body, paddle_header([SECRET], body, NOW))[0]


def adjustment(action: str, status: str = "approved") -> dict:
    return {"id": "adj_1", "transaction_id": "txn_1", "action": action, "status": status, "currency_code": "EUR",
            "totals": {"total": "1999", "currency_code": "EUR"}}  # fmt: skip


TRANSACTION = {"id": "txn_1", "currency_code": "USD", "details": {"totals": {"grand_total": "100"}}}


@pytest.mark.parametrize(
    ("event_type", "data", "expected", "outcome"),
    [
        ("transaction.completed", TRANSACTION, "payment", "succeeded"),
        ("transaction.paid", TRANSACTION, "other", "succeeded"),
        ("transaction.billed", None, "payment", "pending"),
        ("transaction.payment_failed", TRANSACTION, "payment", "failed"),
        ("transaction.canceled", TRANSACTION, "payment", "canceled"),
        ("adjustment.created", adjustment("refund", "pending_approval"), "refund", "pending"),
        ("adjustment.updated", adjustment("refund"), "refund", "succeeded"),
        ("adjustment.updated", adjustment("refund", "rejected"), "refund", "failed"),
        ("adjustment.updated", adjustment("refund", "reversed"), "refund", "reversed"),
        ("adjustment.created", adjustment("chargeback"), "dispute", "opened"),
        ("adjustment.updated", adjustment("chargeback_reverse"), "dispute", "reversed"),
        ("adjustment.updated", adjustment("chargeback", "reversed"), "other", "reversed"),  # RT-1: lifecycle
        ("adjustment.updated", adjustment("chargeback_reverse", "reversed"), "other", "reversed"),  # R2-6
        ("adjustment.updated", adjustment("credit", "reversed"), "other", "reversed"),
        ("adjustment.updated", adjustment("credit_reverse", "reversed"), "other", "reversed"),
        ("adjustment.created", adjustment("chargeback_warning"), "dispute", "pending"),
        ("adjustment.created", adjustment("credit"), "other", "succeeded"),
        ("adjustment.created", {"totals": {"total": "1"}, "currency_code": "EUR"}, "other", None),
        ("subscription.created", {"id": "sub_1"}, "other", "pending"),
        ("subscription.canceled", {"id": "sub_1"}, "other", "canceled"),
        ("customer.created", {"id": "ctm_1"}, "other", None),
    ],
)
def test_default_mapping(event_type: str, data: dict | None, expected: str, outcome: str | None) -> None:
    """Issue 17: each kind's (type, outcome) from Paddle's status and adjustment action."""
    event = read(event_body(event_type, data))
    assert (module.default_transaction_type(event), event.outcome) == (expected, outcome)


def test_a_reversed_chargeback_reverse_is_not_a_second_debit() -> None:
    """Red-team R2-6. Paddle's Adjustment status `reversed` is "Set by Paddle when a chargeback_reverse or
    credit_reverse adjustment is created for this adjustment"
    (https://developer.paddle.com/api-reference/adjustments/overview): a `chargeback_reverse` turning
    `reversed` restates a new adjustment's fact, and a re-debit by the issuer is a new `chargeback`
    adjustment (approved -> `opened`). The status change is no money fact (was: dispute `opened`, a debit)."""
    money_facts = importlib.import_module("money_facts")
    transaction_type, outcome = module.money_fact(
        "adjustment.updated", {"action": "chargeback_reverse", "status": "reversed"}
    )
    assert not money_facts.is_money_fact(transaction_type, outcome)
    assert (transaction_type, outcome) == ("other", "reversed")


def test_adjustment_amount_is_its_total_and_its_parent_the_transaction() -> None:
    event = read(event_body("adjustment.created", adjustment("refund")))
    assert (event.amount, event.currency, event.fields["action"]) == (Decimal(1999), "EUR", "refund")
    assert (event.object_id, event.parent_object_id, event.object_version) == (
        "adj_1",
        "txn_1",
        int(event.timestamp.timestamp()) * 1_000_000 + event.timestamp.microsecond,
    )


@pytest.mark.parametrize("action", ["chargeback", "chargeback_reverse", "chargeback_warning"])
def test_a_dispute_is_named_by_its_transaction(action: str) -> None:
    """A chargeback and its reversal are two adjustments linked only by the transaction (Paddle has no
    dispute object): both name it, so the reversal is a later state of one dispute."""
    event = read(event_body("adjustment.updated", adjustment(action)))
    assert (module.default_transaction_type(event), event.object_id, event.parent_object_id) == (
        "dispute",
        "txn_1",
        "txn_1",
    )


def test_events_without_money_carry_none() -> None:
    event = read(event_body("subscription.created", {"id": "sub_1", "currency_code": "USD"}))
    assert (event.amount, event.amount_unit, event.currency) == (None, None, None)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b"null", None),
        (event_body("transaction.completed", {"currency_code": "USD", "details": {"totals": {"grand_total": 100}}}),
         "data.details.totals.grand_total"),
        (event_body("transaction.completed", {"currency_code": "USD", "details": {"totals": {"grand_total": "1.5"}}}),
         "data.details.totals.grand_total"),
        (event_body("transaction.completed", {"details": {"totals": {"grand_total": "100"}}}), "data.currency_code"),
        (event_body("transaction.completed", None, occurred_at="2024-04-15 08:48"), "occurred_at"),
        (event_body("transaction.completed", None, occurred_at="2024-04-15T08:48:20"), "occurred_at"),
        (event_body("transaction completed", None), "event_type"),
    ],
)  # fmt: skip
def test_bodies_not_of_paddles_shape_are_invalid_events(body: bytes, field: str | None) -> None:
    with pytest.raises(InvalidEventError) as raised:
        read(body)
    assert raised.value.field == field


def test_nanosecond_timestamps_are_truncated_to_microseconds() -> None:
    event = read(event_body("transaction.billed", None, occurred_at="2024-04-15T08:48:20.123456789+02:00"))
    assert event.timestamp == datetime.datetime(2024, 4, 15, 6, 48, 20, 123456, tzinfo=datetime.UTC)
