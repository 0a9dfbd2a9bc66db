"""Provider sources end to end: one real delivery per provider, signed the provider's way by the CLI's
own functions, through `POST /webhook/<name>` to the canonical message in its queue.

Runs against the sandbox (`make test`: the `sandbox` environment configures one source of each
provider) or a real deployment whose outputs carry `source_secrets` (`{name: {"provider": id,
"secret": ..., "public_key": ... for braintree}}`); otherwise it is skipped, saying why. Every run
sends ids of its own (a suffix on the sample's id), so a rerun against the same deployment is new.
"""

from __future__ import annotations

import base64
import datetime
import json
import time
import uuid
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from pipeline_tools import operations
from tests.integration.helpers import collect, stored

pytestmark = pytest.mark.integration
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "providers"
QUEUES = {"payment": "payments_queue_url", "refund": "refunds_queue_url", "dispute": "disputes_queue_url",
          "other": "unrouted_queue_url", "lifecycle": "lifecycle_queue_url"}  # fmt: skip


@dataclass(frozen=True)
class Expected:
    event_id: str  # the provider's part; {run} is this run's suffix
    transaction_type: str
    amount: str | None
    currency: str | None
    timestamp: str
    provider_event_type: str
    # A known fact that moves no money (issue 17) goes to the lifecycle queue, with its outcome.
    outcome: str | None = None

    @property
    def queue(self) -> str:
        return "lifecycle" if self.outcome else self.transaction_type


@dataclass(frozen=True)
class Sample:
    provider: str
    file: str
    original_id: str | None  # the id in the body, made unique per run; None: the id is a header we set
    events: tuple[Expected, ...]


# The canonical values of tests/fixtures/providers/README.md, one delivery per provider.
SAMPLES = {
    "stripe": Sample("stripe", "stripe/payment_intent.succeeded.json", "evt_1Pgc76B7WZ01zgkWwyRHS12y", (
        Expected("evt_1Pgc76B7WZ01zgkWwyRHS12y-{run}", "payment", "10.99", "USD", "2009-02-13T23:31:30Z",
                 "payment_intent.succeeded"),)),
    "adyen": Sample("adyen", "adyen/REFUND.json", "PSP_REFERENCE", (
        Expected("PSP_REFERENCE-{run}:REFUND:true", "refund", "15.00", "EUR", "2017-02-17T10:11:44Z", "REFUND"),)),
    # A chargeback is a money fact: its id is derived from the dispute and the outcome (issue 17), so the
    # dispute's id is what is made unique per run.
    "square": Sample("square", "square/dispute.created.json", "ORSEVtZAJxb37RA1EiGw", (
        Expected("dispute:ORSEVtZAJxb37RA1EiGw-{run}:opened", "dispute", "88.01", "USD", "2020-02-19T21:24:53.258Z",
                 "dispute.created"),)),
    "checkout": Sample("checkout", "checkout/payment_captured.json", "evt_fkfqht6yonme7bk7jawrgzbbxq", (
        Expected("evt_fkfqht6yonme7bk7jawrgzbbxq-{run}", "payment", "0.20", "EUR", "2023-05-24T09:12:32.357Z",
                 "payment_captured"),)),
    # The id is what the body signs (entity id, event, created_at), never the unsigned x-razorpay-event-id.
    "razorpay": Sample("razorpay", "razorpay/payment.captured.json", "pay_DESp9bgForNoUd", (
        Expected("pay_DESp9bgForNoUd-{run}:payment.captured:1691735748", "payment", "1.00", "INR",
                 "2023-08-11T06:35:48Z", "payment.captured"),)),
    "paddle": Sample("paddle", "paddle/adjustment.created_refund.json", "evt_01hvgf2sbe0x3h1b8v9s7kq2ma", (
        Expected("evt_01hvgf2sbe0x3h1b8v9s7kq2ma-{run}", "refund", "1.00", "USD", "2024-04-15T08:48:20.814312Z",
                 "adjustment.created", outcome="pending"),)),  # a refund awaiting Paddle's approval
    "gocardless": Sample("gocardless", "gocardless/sdk_fixture_webhook_body.json", "EV00BD05", (
        Expected("EV00BD05-{run}S5VM2T", "other", None, None, "2018-07-05T09:13:51.404Z", "subscriptions.created",
                 outcome="pending"),
        Expected("EV00BD05-{run}TB8K63", "other", None, None, "2018-07-05T09:13:56.893Z", "mandates.created",
                 outcome="pending"),
    )),
    "braintree": Sample("braintree", "braintree/dispute_opened.json", "dispute_0001", (
        Expected("dispute_opened:dispute_0001-{run}:1795959451", "dispute", "100.00", "USD", "2026-11-29T13:37:31Z",
                 "dispute_opened"),)),
    # A snapshot of the payment link, naming no payment: lifecycle (its payment's payment.paid is the money).
    "mollie": Sample("mollie", "mollie/nextgen_payment-link.paid_full.json", "event_GvJ8WHrp5isUdRub9CJyH", (
        Expected("event_GvJ8WHrp5isUdRub9CJyH-{run}", "other", "24.95", "EUR", "2024-12-16T15:57:04Z",
                 "payment-link.paid", outcome="succeeded"),)),
    "standard-webhooks": Sample("standard-webhooks", "standard-webhooks/payment.succeeded_svix_style.json", None, (
        Expected("msg_{run}", "payment", "19.99", "EUR", "2026-11-20T10:00:00Z", "payment.succeeded"),)),
}  # fmt: skip


def run_suffix() -> str:
    return uuid.uuid4().hex[:10]


def unique_body(sample: Sample, run: str) -> bytes:
    """The sample with its provider id made unique to this run (the signer signs the result)."""
    text = (FIXTURES / sample.file).read_text(encoding="utf-8")
    if sample.original_id is None:
        return text.encode()
    if sample.provider != "braintree":
        assert sample.original_id in text
        return text.replace(sample.original_id, f"{sample.original_id}-{run}").encode()
    wrapper = json.loads(text)  # the id is in the base64 XML of bt_payload: re-encode it as the SDK does
    xml = base64.b64decode(wrapper["form"]["bt_payload"]).decode()
    xml = xml.replace(f"<id>{sample.original_id}</id>", f"<id>{sample.original_id}-{run}</id>", 1)
    wrapper["form"]["bt_payload"] = base64.encodebytes(xml.encode()).decode()
    return json.dumps(wrapper).encode()


@pytest.fixture(scope="module")
def source_secrets(outputs: dict[str, Any]) -> dict[str, dict[str, str]]:
    secrets = outputs.get("source_secrets")
    if not secrets:
        pytest.skip(
            "provider sources: these outputs carry no source_secrets; add "
            '{"source_secrets": {"<name>": {"provider": "<id>", "secret": "...", "public_key": "... (braintree)"}}} '
            "to the outputs file to run them against a deployment"
        )
    return secrets


def source_of(outputs: dict[str, Any], source_secrets: dict[str, dict[str, str]], provider: str) -> str:
    names = sorted(name for name, entry in source_secrets.items() if entry.get("provider") == provider)
    if not names:
        pytest.skip(f"no {provider} source in the outputs' source_secrets")
    if provider == "standard-webhooks" and "svix" in names:
        return "svix"  # the sandbox's source with amount_field/currency_field/type_map (README of the fixtures)
    return names[0]


def instant(text: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))


@pytest.mark.parametrize("provider", sorted(SAMPLES))
def test_a_signed_provider_delivery_lands_in_its_queue_as_the_canonical_event(
    outputs: dict[str, Any], source_secrets: dict[str, dict[str, str]], provider: str
) -> None:
    sample, run = SAMPLES[provider], run_suffix()
    name = source_of(outputs, source_secrets, provider)
    target = operations.source_target(outputs, name)
    header_id = sample.events[0].event_id.format(run=run) if sample.original_id is None else None
    status, text = operations.send_to_source(target, unique_body(sample, run), event_id=header_id)
    assert 200 <= status < 300, text
    assert status == 202, text  # new ids every run
    if provider == "adyen":
        assert text == "[accepted]"
    expected = {f"{name}:{event.event_id.format(run=run)}": event for event in sample.events}
    queue_url = outputs[QUEUES[sample.events[0].queue]]
    messages = collect(outputs, queue_url, set(expected))
    assert sorted(m["MessageAttributes"]["event_id"]["StringValue"] for m in messages) == sorted(expected)
    for message in messages:
        body = json.loads(message["Body"], parse_float=Decimal)
        event = expected[body["event_id"]]
        attributes = {key: value["StringValue"] for key, value in message["MessageAttributes"].items()}
        assert attributes["event_id"] == body["event_id"]
        assert attributes["transaction_type"] == event.transaction_type == body["transaction_type"]
        assert attributes["source"] == name == body["source"]
        assert body["provider_event_type"] == event.provider_event_type
        if event.outcome:
            assert body["outcome"] == event.outcome
        assert instant(body["timestamp"]) == instant(event.timestamp) and body["timestamp"].endswith("Z")
        if event.amount is None:
            assert "amount" not in body and "currency" not in body
        else:
            assert str(body["amount"]) == event.amount  # written with the currency's exponent
            assert body["currency"] == event.currency


def test_a_provider_route_refuses_unsigned_and_wrongly_signed_requests(
    outputs: dict[str, Any], source_secrets: dict[str, dict[str, str]]
) -> None:
    name = source_of(outputs, source_secrets, "stripe")
    target = operations.source_target(outputs, name)
    run = run_suffix()
    body = unique_body(SAMPLES["stripe"], run)
    event_id = f"{name}:evt_1Pgc76B7WZ01zgkWwyRHS12y-{run}"
    # No signature header at all: API Gateway's own refusal (the method requires the header), 401.
    status, text = operations.post(target.url, body, {"Content-Type": "application/json"})
    assert status == 401, text
    assert json.loads(text)["error"] == "missing_signature_header"
    # The header present but made with another secret: the validator's 401.
    wrong = operations.SourceTarget(target.name, target.provider, target.url, "whsec_not_the_sources_secret")
    status, text = operations.send_to_source(wrong, body)
    assert status == 401, text
    assert json.loads(text)["error"] == "invalid_signature"
    time.sleep(1)
    assert stored(outputs, event_id) is None


def test_an_unknown_source_path_is_refused_and_nothing_is_stored(
    outputs: dict[str, Any], source_secrets: dict[str, dict[str, str]]
) -> None:
    url = f"{outputs['api_endpoint'].rstrip('/')}/no-such-source"
    status, _ = operations.post(url, b"{}", {"Content-Type": "application/json", "Stripe-Signature": "t=1,v1=00"})
    assert status in (403, 404)
