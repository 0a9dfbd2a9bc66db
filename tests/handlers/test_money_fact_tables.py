"""Table-driven: every row of the Square and Checkout.com mapping tables in docs/providers/<id>.md, run
through the provider module, the canonical event and the routing decision (issue 17).

The rows are read from the docs, so the documentation is what is tested: each row's transaction type,
outcome, queue, amount field and object ids must be what a delivery of that kind (and status) gives; and
every kind of the module's table has a row (tests/handlers/test_provider_fact_docs.py checks the links).
Square events are built with the `squareup` SDK's models; Checkout.com publishes no Python SDK for
webhook events, so its bodies follow its documented sample.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from square.types.dispute import Dispute
from square.types.payment import Payment
from square.types.payment_refund import PaymentRefund

from tests.handlers import lifecycle
from tests.handlers.providers.signing import NOW, STAGE_URL, body_hex_signature, request, square_signature

import providers
import routing

DOCS = Path(__file__).resolve().parents[2] / "docs" / "providers"
QUEUES = {"**money**": None, "lifecycle": "lifecycle"}


def doc_rows(provider_id: str) -> list[list[str]]:
    """The mapping table's rows (cells stripped), header and separator left out."""
    lines = (DOCS / f"{provider_id}.md").read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("| event kind"))
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("| "):
            break
        rows.append([cell.strip() for cell in line.strip("|").split(" | ")])
    return rows


def routed(provider_id: str, request_: Any, secret: str) -> Any:
    source = lifecycle.source(provider_id)
    keys = [source.module.parse_secret(secret, {})]
    [event] = source.module.receive(request_, keys, {}, NOW)
    return event, lifecycle.sources.canonical(source, event)


# --- Square -------------------------------------------------------------------------------------------
SQUARE_SECRET = "sq0wss-table-signature-key-0123456789"
SQUARE_ROWS = doc_rows("square")
# Distinct amounts per Money field, so the row's amount field is the one read: minor units of USD.
MONEY_FIELDS = {"approved_money": 1000, "total_money": 1100, "amount_money": 1050}
ROW = re.compile(r"`(?P<kind>[a-z.]+)`(?:, `(?:status|state)` (?P<status>[A-Z_]+|any))?$")


def square_body(kind: str, status: str | None, refunded: bool = False) -> bytes:
    object_type = kind.split(".")[0]
    money = {name: {"amount": cents, "currency": "USD"} for name, cents in MONEY_FIELDS.items()}
    subject: Any
    if object_type == "payment":
        subject = Payment(id="pay_t", status=status, **money,
                          refunded_money={"amount": 500, "currency": "USD"} if refunded else None)  # fmt: skip
    elif object_type == "refund":
        subject = PaymentRefund(id="ref_t", status=status, amount_money=money["amount_money"], payment_id="pay_t")
    else:
        state = None if status in (None, "any") else status
        subject = Dispute(id="dsp_t", state=state or "EVIDENCE_REQUIRED", amount_money=money["amount_money"],
                          version=7, disputed_payment={"payment_id": "pay_t"})  # fmt: skip
    member = object_type if object_type in ("payment", "refund") else "object"
    body = {"merchant_id": "M", "type": kind, "event_id": "e7a1d4c2-0000-4000-8000-000000000001",
            "created_at": "2026-11-20T10:00:00Z",
            "data": {"type": object_type, "id": subject.id, "object": {member: subject.model_dump(mode="json",
                                                                                              exclude_none=True)}}}  # fmt: skip
    return json.dumps(body).encode()


@pytest.mark.parametrize("row", SQUARE_ROWS, ids=[row[0] for row in SQUARE_ROWS])
def test_every_square_row(row: list[str]) -> None:
    label, transaction_type, outcome, queue, amount_field, ids = row[:6]
    refunded = "refunded_money" in label
    if refunded:
        kinds, status = ["payment.created", "payment.updated"], "COMPLETED"
    else:
        match = ROW.fullmatch(label)
        assert match, label
        kinds, status = [match["kind"]], match["status"]
    for kind in kinds:
        body = square_body(kind, status, refunded)
        signature = square_signature(SQUARE_SECRET, STAGE_URL, body)
        event, canonical = routed("square", request({"X-Square-HmacSha256-Signature": signature}, body), SQUARE_SECRET)
        assert (canonical.transaction_type, canonical.outcome) == (transaction_type, outcome)
        destination = routing.destination(canonical.transaction_type, canonical.outcome, lifecycle.QUEUE_URLS)
        assert destination == (QUEUES[queue] or transaction_type)
        cents = MONEY_FIELDS[amount_field.strip("`")]
        assert canonical.amount == Decimal(cents) / 100
        object_type = kind.split(".")[0]
        assert canonical.object_id == {"payment": "pay_t", "refund": "ref_t", "dispute": "dsp_t"}[object_type]
        assert canonical.parent_object_id == (None if object_type == "payment" else "pay_t"), ids
        assert canonical.object_version == (7 if object_type == "dispute" else 1795168800 * 1_000_000)
        # A money fact's id is derived from the fact; every other delivery keeps Square's event_id.
        money = QUEUES[queue] is None
        expected_id = (
            f"{object_type}:{canonical.object_id}:{outcome}" if money else "e7a1d4c2-0000-4000-8000-000000000001"
        )
        assert event.provider_event_id == expected_id


def test_every_square_kind_and_status_has_a_row() -> None:
    module = providers.load("square")
    labels = {row[0] for row in SQUARE_ROWS}
    for kind, (object_type, _, fixed) in module.FACTS.items():
        field, table = module._STATUS_TABLES[object_type]
        wanted = [f"`{kind}`"] if fixed else [f"`{kind}`, `{field}` {status}" for status in table]
        assert set(wanted) <= labels, kind


# --- Checkout.com -------------------------------------------------------------------------------------
CHECKOUT_SECRET = "cko-table-signature-key-0123456789"
CHECKOUT_ROWS = doc_rows("checkout")
CHECKOUT_DATA = {"id": "pay_t", "action_id": "act_t", "payment_id": "pay_p", "amount": 1234, "currency": "EUR"}


@pytest.mark.parametrize("row", CHECKOUT_ROWS, ids=[row[0] for row in CHECKOUT_ROWS])
def test_every_checkout_row(row: list[str]) -> None:
    label, transaction_type, outcome, queue, amount_field, ids = row[:6]
    kind = label.strip("`")
    body = json.dumps({"id": "evt_table", "type": kind, "created_on": "2026-11-20T10:00:00Z",
                       "data": CHECKOUT_DATA}).encode()  # fmt: skip
    _, canonical = routed("checkout", request({"Cko-Signature": body_hex_signature(CHECKOUT_SECRET, body)}, body),
                          CHECKOUT_SECRET)  # fmt: skip
    assert (canonical.transaction_type, canonical.outcome) == (transaction_type, outcome)
    destination = routing.destination(canonical.transaction_type, canonical.outcome, lifecycle.QUEUE_URLS)
    assert destination == (QUEUES[queue] or transaction_type)
    assert amount_field == "`data.amount`" and canonical.amount == Decimal("12.34")
    object_field, _, parent = ids.partition(" (")
    assert canonical.object_id == CHECKOUT_DATA[object_field.strip("`").removeprefix("data.")]
    parent_field = parent.strip("()`").removeprefix("data.")
    assert canonical.parent_object_id == (CHECKOUT_DATA[parent_field] if parent_field else None)
    assert canonical.object_version == 1795168800 * 1_000_000


def test_every_checkout_kind_has_a_row_and_unknown_kinds_stay_parked() -> None:
    assert [row[0].strip("`") for row in CHECKOUT_ROWS] == list(providers.load("checkout").FACTS)
    body = json.dumps({"id": "evt_x", "type": "payout_paid", "created_on": "2026-11-20T10:00:00Z",
                       "data": CHECKOUT_DATA}).encode()  # fmt: skip
    _, canonical = routed("checkout", request({"Cko-Signature": body_hex_signature(CHECKOUT_SECRET, body)}, body),
                          CHECKOUT_SECRET)  # fmt: skip
    assert (canonical.transaction_type, canonical.outcome) == ("other", None)
    assert routing.destination("other", None, lifecycle.QUEUE_URLS) == "unrouted"
