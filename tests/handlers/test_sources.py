"""Provider sources end to end against moto: `validator.handler` on `POST /webhook/<name>`, then the router.

One source of each provider is configured through `SOURCES`, each with its own Secrets Manager secret
holding `{"secrets": [...]}` in the provider's own format. Every sample of `tests/fixtures/providers/` is
signed the way its provider signs (the independent test signers of `tests/handlers/providers/`, and the
`standardwebhooks` package), must be stored with exactly the canonical values of the fixtures' README,
and must then be delivered by the router (through the SQS stand-in) to the right queue.

Import order matters: `fresh_import` drops every handler module, and the validator imports provider
modules lazily (on a source's first request) from the `providers` package it was imported with. So the
router is imported first and the validator last (fixture `validator` below); importing a handler after
the validator would make its provider modules raise another `SignatureError` class than it catches.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime
import json
import re
import sys
import time
import urllib.parse
from collections.abc import Callable, Iterator
from decimal import Decimal
from types import ModuleType
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from tests.handlers.conftest import QUEUE_NAMES
from tests.handlers.helpers import (
    REGION,
    SIGNING_SECRET,
    FakeContext,
    fresh_import,
    make_event,
    route_stored,
    stored_items,
    stored_payload,
)
from tests.handlers.providers.signing import (
    FIXTURES,
    body_hex_signature,
    paddle_header,
    square_signature,
    stripe_header,
)
from tests.handlers.providers.signing_b import (
    adyen_delivery,
    braintree_signature,
    gocardless_signature,
    mollie_signature,
)

DOMAIN = "abc123.execute-api.us-east-1.amazonaws.com"
STAGE = "test"
BRAINTREE_PUBLIC_KEY = "bt_public_key_test"
RAZORPAY_EVENT_ID = "HdK9ZMp1bLLq8D"
RAZORPAY_ID = "pay_DESp9bgForNoUd:payment.captured:1691735748"
SVIX_MESSAGE_ID = "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W"
SW_SECRET = "whsec_" + base64.b64encode(b"svix-sender-signing-key-0123456").decode()
SW_OTHER = "whsec_" + base64.b64encode(b"another-svix-signing-key-9876543").decode()


@dataclasses.dataclass(frozen=True)
class SourceSpec:
    """One configured source: its provider, a good secret, a well-formed wrong one, a malformed entry."""

    provider: str
    secret: str
    other_secret: str
    malformed: str
    options: dict[str, Any] = dataclasses.field(default_factory=dict)


SOURCES: dict[str, SourceSpec] = {
    "stripe": SourceSpec(
        "stripe",
        "whsec_stripe0test0secret0123456789",
        "whsec_stripe0other0secret0987654321",
        "sk_test_not_an_endpoint_secret",
    ),
    "adyen": SourceSpec(
        "adyen",
        "44782DEF547AAA06C910C43932B1EB0C71FC68D9D0C057550C48EC2ACF6BA056",
        "11112222333344445555666677778888999900001111222233334444555566AA",
        "not hex at all",
    ),
    "square": SourceSpec("square", "square-signature-key-0123", "square-signature-key-9876", "has a space"),
    "checkout": SourceSpec("checkout", "cko-signature-key-0123", "cko-signature-key-9876", "tab\tinside"),
    "razorpay": SourceSpec("razorpay", "razorpay-secret-0123", "razorpay-secret-9876", " leading-space"),
    "paddle": SourceSpec("paddle", "pdl_ntfset_01hv_secret_0123", "pdl_ntfset_01hv_secret_9876", "caf\u00e9"),
    "gocardless": SourceSpec("gocardless", "gocardless-secret-0123", "gocardless-secret-9876", ""),
    "braintree": SourceSpec(
        "braintree",
        "bt_private_key_0123456789",
        "bt_private_key_9876543210",
        "private key with spaces",
        {"public_key": BRAINTREE_PUBLIC_KEY},
    ),
    "mollie": SourceSpec("mollie", "mollie-signing-secret-0123", "mollie-signing-secret-9876", " padded "),
    "svix-sender": SourceSpec(
        "standard-webhooks",
        SW_SECRET,
        SW_OTHER,
        "whsec_!!!not-base64",
        {
            "amount_field": "data.amount",
            "currency_field": "data.currency",
            "amount_unit": "minor",
            "object_id_field": "data.id",  # a money fact without an object_id is parked (missing_object_id)
            "type_map": {"payment.succeeded": "payment"},
        },
    ),
}
SOURCE_OF_PROVIDER = {spec.provider: name for name, spec in SOURCES.items()}


def stage_url(name: str) -> str:
    return f"https://{DOMAIN}/{STAGE}/webhook/{name}"


def fixture_bytes(path: str) -> bytes:
    return (FIXTURES / path).read_bytes()


def sign(name: str, raw: bytes, secret: str | None = None, *, url: str | None = None) -> tuple[bytes, dict[str, str]]:
    """(body, headers) of a delivery of `raw` to source `name`, signed the way its provider signs.

    `raw` is the fixture's content: the body itself, except for Adyen (items re-signed inside the body)
    and Braintree (the fixture holds the form fields).
    """
    spec = SOURCES[name]
    secret = spec.secret if secret is None else secret
    now = int(time.time())
    provider = spec.provider
    if provider == "stripe":
        return raw, {"Stripe-Signature": stripe_header([secret], raw, now)}
    if provider == "adyen":
        document = json.loads(raw)
        items = [entry["NotificationRequestItem"] for entry in document["notificationItems"]]
        return adyen_delivery(items, secret).encode(), {}
    if provider == "square":
        return raw, {"X-Square-HmacSha256-Signature": square_signature(secret, url or stage_url(name), raw)}
    if provider == "checkout":
        return raw, {"Cko-Signature": body_hex_signature(secret, raw)}
    if provider == "razorpay":
        return raw, {"X-Razorpay-Signature": body_hex_signature(secret, raw), "X-Razorpay-Event-Id": RAZORPAY_EVENT_ID}
    if provider == "paddle":
        return raw, {"Paddle-Signature": paddle_header([secret], raw, now)}
    if provider == "gocardless":
        return raw, {"Webhook-Signature": gocardless_signature(raw, secret)}
    if provider == "braintree":
        payload = json.loads(raw)["form"]["bt_payload"]
        form = {"bt_signature": braintree_signature(payload, BRAINTREE_PUBLIC_KEY, secret), "bt_payload": payload}
        return urllib.parse.urlencode(form).encode(), {"Content-Type": "application/x-www-form-urlencoded"}
    if provider == "mollie":
        return raw, {"X-Mollie-Signature": mollie_signature(raw, secret)}
    if provider == "standard-webhooks":
        from standardwebhooks.webhooks import Webhook  # the reference implementation, not ours

        moment = datetime.datetime.fromtimestamp(now, tz=datetime.UTC)
        signature = Webhook(secret).sign(SVIX_MESSAGE_ID, moment, raw.decode())
        return raw, {"webhook-id": SVIX_MESSAGE_ID, "webhook-timestamp": str(now), "webhook-signature": signature}
    raise AssertionError(provider)


def api_event(name: str, body: bytes, headers: dict[str, str], **overrides: Any) -> dict[str, Any]:
    """An API Gateway proxy event for `POST /webhook/<name>` on stage `test`."""
    event = {
        "resource": f"/webhook/{name}",
        "path": f"/webhook/{name}",
        "httpMethod": "POST",
        "headers": {"Content-Type": "application/json", **headers},
        "pathParameters": None,
        "isBase64Encoded": False,
        "body": body.decode(),
        "requestContext": {
            "requestId": "req-1",
            "stage": STAGE,
            "domainName": DOMAIN,
            "path": f"/{STAGE}/webhook/{name}",
        },
    }
    event.update(overrides)
    return event


def call(validator: ModuleType, event: dict[str, Any]) -> tuple[int, str]:
    response = validator.handler(event, FakeContext())
    return response["statusCode"], response["body"]


def post(validator: ModuleType, name: str, raw: bytes, secret: str | None = None, **overrides: Any) -> tuple[int, str]:
    body, headers = sign(name, raw, secret)
    return call(validator, api_event(name, body, headers, **overrides))


def error_of(body: str) -> str:
    return json.loads(body)["error"]


def items_by_id() -> dict[str, dict[str, Any]]:
    return {item["event_id"]["S"]: item for item in stored_items()}


def drain(queue_name: str) -> list[dict[str, Any]]:
    sqs = boto3.client("sqs", region_name=REGION)
    url = sqs.get_queue_url(QueueName=queue_name)["QueueUrl"]
    messages = []
    while batch := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"]).get(
        "Messages", []
    ):
        messages += batch
        for message in batch:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return messages


def queue_contents() -> dict[str, list[dict[str, Any]]]:
    """Every queue's messages, by queue name (drained)."""
    return {queue: drain(queue) for queue in QUEUE_NAMES.values()}


QUEUE_OF_TYPE = {
    "payment": QUEUE_NAMES["PAYMENTS_QUEUE_URL"],
    "refund": QUEUE_NAMES["REFUNDS_QUEUE_URL"],
    "dispute": QUEUE_NAMES["DISPUTES_QUEUE_URL"],
    "other": QUEUE_NAMES["UNROUTED_QUEUE_URL"],
    "lifecycle": QUEUE_NAMES["LIFECYCLE_QUEUE_URL"],
}
MONEY_OUTCOME_OF = {"payment": "succeeded", "refund": "succeeded", "dispute": "opened"}


def json_lines(text: str) -> list[dict[str, Any]]:
    lines = []
    for line in text.splitlines():
        try:
            value = json.loads(line)
        except ValueError:
            continue
        if isinstance(value, dict):
            lines.append(value)
    return lines


@pytest.fixture
def capture_logs() -> Iterator[Callable[..., None]]:
    """Send the handlers' log lines to the stream capsys captures, and back afterwards (the handlers share
    one stdlib logger across fresh imports: a stream left pointing at a closed capture breaks later tests)."""
    restore: list[tuple[Any, Any]] = []

    def capture(*modules: ModuleType) -> None:
        for module in modules:
            handler = module.logger.logger_handler
            restore.append((handler, handler.setStream(sys.stdout)))

    yield capture
    for handler, stream in reversed(restore):
        handler.stream = stream  # not setStream: it would flush the capture, already closed here


# --- fixtures ---------------------------------------------------------------------------------------


@pytest.fixture
def configure(
    events_table: str, signing_secret: Any, queues: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> Callable[..., tuple[ModuleType, ModuleType]]:
    """Configure every source (options and secret lists overridable per source); return (validator, router).

    Call once per test: the router is imported first, the validator last (see the module docstring).
    """

    def configure(
        options: dict[str, dict[str, Any]] | None = None, secrets: dict[str, list[Any]] | None = None
    ) -> tuple[ModuleType, ModuleType]:
        client = boto3.client("secretsmanager", region_name=REGION)
        config = {}
        for name, spec in SOURCES.items():
            entries = (secrets or {}).get(name, [spec.secret])
            arn = client.create_secret(
                Name=f"webhook-source-{name}-test", SecretString=json.dumps({"secrets": entries})
            )["ARN"]
            config[name] = {
                "provider": spec.provider,
                "secret_arn": arn,
                **spec.options,
                **(options or {}).get(name, {}),
            }
        monkeypatch.setenv("SOURCES", json.dumps(config))
        router = fresh_import("router")
        validator = fresh_import("validator")  # after SOURCES: the validator caches it (_SOURCES_CACHE)
        return validator, router

    return configure


@pytest.fixture
def pipeline(configure: Callable[..., tuple[ModuleType, ModuleType]]) -> tuple[ModuleType, ModuleType]:
    return configure()


@pytest.fixture
def validator(pipeline: tuple[ModuleType, ModuleType]) -> ModuleType:
    return pipeline[0]


# --- the samples and their canonical values (tests/fixtures/providers/README.md) --------------------


@dataclasses.dataclass(frozen=True)
class Expected:
    provider_id: str  # the provider's event id (event_id is "<source>:" + this)
    provider_event_type: str
    transaction_type: str
    amount: str | None  # exactly as written in the routed message
    currency: str | None
    timestamp: str  # the instant, ISO-8601
    # The money fact: None means the type's money outcome (payment/refund succeeded, dispute opened).
    outcome: str | None = None
    object_id: str | None = None  # checked when given

    @property
    def fact_outcome(self) -> str | None:
        return self.outcome or MONEY_OUTCOME_OF.get(self.transaction_type)

    @property
    def queue(self) -> str:
        """Money facts to their type's queue, other known facts to lifecycle, unknown kinds unrouted."""
        if self.fact_outcome is None:
            return QUEUE_OF_TYPE["other"]
        import money_facts  # a handler module: handlers/ is on sys.path (conftest)

        money = money_facts.is_money_fact(self.transaction_type, self.fact_outcome)
        return QUEUE_OF_TYPE[self.transaction_type if money else "lifecycle"]


@dataclasses.dataclass(frozen=True)
class Sample:
    path: str
    events: tuple[Expected, ...]

    @property
    def source(self) -> str:
        return SOURCE_OF_PROVIDER[self.path.split("/")[0]]


SAMPLES = [
    Sample(
        "stripe/payment_intent.succeeded.json",
        (
            Expected(
                "evt_1Pgc76B7WZ01zgkWwyRHS12y",
                "payment_intent.succeeded",
                "payment",
                "10.99",
                "USD",
                "2009-02-13T23:31:30Z",
                object_id="pi_1PgafyB7WZ01zgkWSjxsAJo3",
            ),
        ),
    ),
    Sample(
        "stripe/charge.dispute.created.json",
        (
            Expected(
                "evt_1Pgc71B7WZ01zgkWMevJiAUx",
                "charge.dispute.created",
                "dispute",
                "10.00",
                "USD",
                "2009-02-13T23:31:30Z",
                # An inquiry (`warning_needs_response`): no funds withdrawn yet, so the lifecycle queue.
                outcome="pending",
                object_id="dp_1Pgc71B7WZ01zgkWMevJiAUx",
            ),
        ),
    ),
    Sample(
        "adyen/AUTHORISATION.json",
        (
            Expected(
                "123456789:AUTHORISATION:true", "AUTHORISATION", "payment", "101.00", "EUR", "2017-01-19T15:42:03Z"
            ),
        ),
    ),
    Sample(
        "adyen/REFUND.json",
        (Expected("PSP_REFERENCE:REFUND:true", "REFUND", "refund", "15.00", "EUR", "2017-02-17T10:11:44Z"),),
    ),
    Sample(
        "square/payment.created.json",
        (
            Expected(
                "13b867cf-db3d-4b1c-90b6-2f32a9d78124",
                "payment.created",
                "payment",
                "1.00",
                "USD",
                "2020-02-06T21:27:30.792Z",
                # APPROVED: authorized, not captured (issue 17): the lifecycle queue; amount approved_money.
                outcome="authorized",
                object_id="hYy9pRFVxpDsO1FB05SunFWUe9JZY",
            ),
        ),
    ),
    Sample(
        "square/dispute.created.json",
        (
            Expected(
                # A chargeback (EVIDENCE_REQUIRED) is a money fact: its id is derived from the dispute and
                # the outcome so Square's repeated statements of it dedupe (issue 17; docs/providers/square.md).
                "dispute:ORSEVtZAJxb37RA1EiGw:opened",
                "dispute.created",
                "dispute",
                "88.01",
                "USD",
                "2020-02-19T21:24:53.258Z",
                object_id="ORSEVtZAJxb37RA1EiGw",
            ),
        ),
    ),
    Sample(
        "checkout/payment_captured.json",
        (
            Expected(
                "evt_fkfqht6yonme7bk7jawrgzbbxq",
                "payment_captured",
                "payment",
                "0.20",
                "EUR",
                "2023-05-24T09:12:32.357Z",
                object_id="act_uqlj3642dyyuroivzdwfg2fysq",  # the capture; its payment is the parent
            ),
        ),
    ),
    Sample(
        "checkout/dispute_evidence_required.json",
        (
            Expected(
                "evt_b6anegml5j6u7kwzuzdg6r4sem",
                "dispute_evidence_required",
                "dispute",
                "81.50",
                "GBP",
                "2022-12-15T15:20:32.582Z",
                object_id="dsp_9rjdlsd4epepfjyyf9vl",
            ),
        ),
    ),
    # Braintree sends no event id: <kind>:<subject id>:<epoch seconds of the notification's timestamp>.
    Sample(
        "braintree/transaction_settled.json",
        (
            Expected(
                "transaction_settled:txn_settled_0001:1795959451",
                "transaction_settled",
                "payment",
                "100.00",
                "USD",
                "2026-11-29T13:37:31Z",
            ),
        ),
    ),
    Sample(
        "braintree/dispute_opened.json",
        (
            Expected(
                "dispute_opened:dispute_0001:1795959451",
                "dispute_opened",
                "dispute",
                "100.00",
                "USD",
                "2026-11-29T13:37:31Z",
            ),
        ),
    ),
    Sample(
        "razorpay/payment.captured.json",
        # The id is what the body signs (entity id, event, created_at), never the unsigned header.
        (Expected(RAZORPAY_ID, "payment.captured", "payment", "1.00", "INR", "2023-08-11T06:35:48Z"),),
    ),
    Sample(
        "paddle/transaction.completed.json",
        (
            Expected(
                "evt_01hv8x2bqcm3kzw6b1y4n9p0t1",
                "transaction.completed",
                "payment",
                "652.15",
                "USD",
                "2024-04-12T10:18:49.621022Z",
            ),
        ),
    ),
    Sample(
        "paddle/adjustment.created_refund.json",
        (
            Expected(
                "evt_01hvgf2sbe0x3h1b8v9s7kq2ma",
                "adjustment.created",
                "refund",
                "1.00",
                "USD",
                "2024-04-15T08:48:20.814312Z",
                outcome="pending",  # pending_approval: no money until Paddle approves it (lifecycle queue)
            ),
        ),
    ),
    Sample(
        "gocardless/sdk_fixture_webhook_body.json",
        (
            # Known bookkeeping, not unknown kinds: the lifecycle queue, no alarm.
            Expected(
                "EV00BD05S5VM2T",
                "subscriptions.created",
                "other",
                None,
                None,
                "2018-07-05T09:13:51.404Z",
                outcome="pending",
            ),
            Expected(
                "EV00BD05TB8K63", "mandates.created", "other", None, None, "2018-07-05T09:13:56.893Z", outcome="pending"
            ),
        ),
    ),
    Sample(
        "mollie/nextgen_payment-link.paid_full.json",
        (
            # A snapshot of the link, naming no payment: a lifecycle fact (the payment's payment.paid is the money).
            Expected(
                "event_GvJ8WHrp5isUdRub9CJyH",
                "payment-link.paid",
                "other",
                "24.95",
                "EUR",
                "2024-12-16T15:57:04Z",
                outcome="succeeded",
            ),
        ),
    ),
    Sample(
        "standard-webhooks/payment.succeeded_svix_style.json",
        (
            Expected(
                SVIX_MESSAGE_ID,
                "payment.succeeded",
                "payment",
                "19.99",
                "EUR",
                "2026-11-20T10:00:00Z",
                object_id="pay_2KWPBgLlAfxdpx2AI54pPJ85f4W",
            ),
        ),
    ),
]
SAMPLE_IDS = [sample.path for sample in SAMPLES]


def instant(text: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))


def batch_items(body: bytes) -> list[dict[str, Any]] | None:
    """The items of a batch delivery (Adyen, GoCardless), parsed with exact decimals; None for one event."""
    try:
        document = json.loads(body, parse_float=Decimal)
    except ValueError:  # Braintree's form
        return None
    if isinstance(document, dict) and "notificationItems" in document:
        return [entry["NotificationRequestItem"] for entry in document["notificationItems"]]
    if isinstance(document, dict) and isinstance(document.get("events"), list):
        return document["events"]
    return None


def test_every_fixture_has_a_sample_here() -> None:
    on_disk = {str(path.relative_to(FIXTURES)) for path in FIXTURES.glob("*/*.json")}
    on_disk.remove("standard-webhooks/product_contract_payment.json")  # POST /webhook: the next test
    assert on_disk == set(SAMPLE_IDS)


@pytest.mark.parametrize("sample", SAMPLES, ids=SAMPLE_IDS)
def test_sample_is_stored_with_its_canonical_values_and_routed(
    pipeline: tuple[ModuleType, ModuleType], sample: Sample
) -> None:
    validator, router = pipeline
    name = sample.source
    body, headers = sign(name, fixture_bytes(sample.path))
    status, response = call(validator, api_event(name, body, headers))
    assert status == 202, response
    if SOURCES[name].provider == "adyen":
        assert response == "[accepted]"

    stored = items_by_id()
    expected_ids = [f"{name}:{event.provider_id}" for event in sample.events]
    assert sorted(stored) == sorted(expected_ids)
    items = batch_items(body)
    for index, (event_id, expected) in enumerate(zip(expected_ids, sample.events, strict=True)):
        item = stored[event_id]
        assert item["source"] == {"S": name}
        assert item["provider_event_type"] == {"S": expected.provider_event_type}
        assert item["transaction_type"] == {"S": expected.transaction_type}
        assert item["timestamp"]["S"].endswith("Z")
        assert instant(item["timestamp"]["S"]) == instant(expected.timestamp)
        if expected.amount is None:
            assert "amount" not in item and "currency" not in item
        else:
            assert Decimal(item["amount"]["N"]) == Decimal(expected.amount)
            assert item["currency"] == {"S": expected.currency}
        if items is None:
            assert stored_payload(item) == body.decode()  # the exact signed text
        else:  # a batch item: that item's own JSON, not the delivery
            assert json.loads(stored_payload(item), parse_float=Decimal) == items[index]
        assert "routing" not in item and "unrouted_reason" not in item
        assert item.get("outcome", {}).get("S") == expected.fact_outcome
        if expected.object_id is not None:
            assert item["object_id"] == {"S": expected.object_id}

    sent = route_stored(router)
    assert len(sent) == len(sample.events)
    queues = queue_contents()
    for event_id, expected in zip(expected_ids, sample.events, strict=True):
        destination = expected.queue
        [message] = [m for m in queues[destination] if m["MessageAttributes"]["event_id"]["StringValue"] == event_id]
        attributes = {key: value["StringValue"] for key, value in message["MessageAttributes"].items()}
        wanted = {"event_id": event_id, "transaction_type": expected.transaction_type, "source": name}
        if expected.fact_outcome is not None:
            wanted["outcome"] = expected.fact_outcome
        assert attributes == wanted
        text = message["Body"]
        content = json.loads(text, parse_float=Decimal)
        assert content["event_id"] == event_id
        assert content["source"] == name
        assert content["provider_event_type"] == expected.provider_event_type
        assert content["transaction_type"] == expected.transaction_type
        assert content["payload"] == stored_payload(stored[event_id])
        assert content["timestamp"] == stored[event_id]["timestamp"]["S"]
        if expected.amount is None:
            assert "amount" not in content and "currency" not in content
        else:  # the amount is written with the currency's exponent: 101.00, not 101 or 101.0
            assert re.search(r'"amount":([-0-9.eE+]+)', text).group(1) == expected.amount
            assert content["currency"] == expected.currency
    assert sum(len(messages) for messages in queues.values()) == len(sample.events)


def test_the_standard_source_sample_on_post_webhook(pipeline: tuple[ModuleType, ModuleType]) -> None:
    validator, router = pipeline
    body = fixture_bytes("standard-webhooks/product_contract_payment.json")
    status, _ = call(validator, make_event(body, secret=SIGNING_SECRET))
    assert status == 202
    [item] = stored_items()
    assert item["event_id"] == {"S": "evt_sw_0001"}
    assert item["transaction_type"] == {"S": "payment"}
    assert Decimal(item["amount"]["N"]) == Decimal("19.99")
    assert item["currency"] == {"S": "EUR"}
    assert instant(item["timestamp"]["S"]) == instant("2026-11-20T10:00:00Z")
    assert stored_payload(item) == body.decode()
    [entry] = route_stored(router)
    assert '"amount":19.99' in entry["MessageBody"]
    [message] = queue_contents()[QUEUE_OF_TYPE["payment"]]
    assert message["MessageAttributes"]["event_id"]["StringValue"] == "evt_sw_0001"


# --- repeats and conflicts -------------------------------------------------------------------------


@pytest.mark.parametrize("sample", SAMPLES, ids=SAMPLE_IDS)
def test_a_repeat_delivery_is_200_and_stores_nothing_more(validator: ModuleType, sample: Sample) -> None:
    raw = fixture_bytes(sample.path)
    assert post(validator, sample.source, raw)[0] == 202
    before = stored_items()
    status, body = post(validator, sample.source, raw)  # signed again (a fresh timestamp where one is signed)
    assert status == 200
    if SOURCES[sample.source].provider == "adyen":
        assert body == "[accepted]"
    assert stored_items() == before


def _changed(document: dict[str, Any], provider: str) -> dict[str, Any]:
    """The same event (same provider id) with a different payload."""
    if provider == "adyen":
        document["notificationItems"][0]["NotificationRequestItem"]["merchantReference"] = "changed"
    elif provider == "gocardless":
        document["events"][0]["details"]["description"] = "changed"
    else:
        document["changed"] = True
    return document


@pytest.mark.parametrize(
    "path",
    [
        "stripe/payment_intent.succeeded.json",
        "adyen/AUTHORISATION.json",
        "square/payment.created.json",
        "checkout/payment_captured.json",
        "razorpay/payment.captured.json",
        "paddle/transaction.completed.json",
        "gocardless/sdk_fixture_webhook_body.json",
        "mollie/nextgen_payment-link.paid_full.json",
        "standard-webhooks/payment.succeeded_svix_style.json",
    ],
)
def test_same_event_id_with_another_payload_is_a_conflict(validator: ModuleType, path: str) -> None:
    name = SOURCE_OF_PROVIDER[path.split("/")[0]]
    raw = fixture_bytes(path)
    assert post(validator, name, raw)[0] == 202
    before = stored_items()
    changed = json.dumps(_changed(json.loads(raw), SOURCES[name].provider)).encode()
    status, body = post(validator, name, changed)
    assert (status, error_of(body)) == (409, "conflict")
    assert stored_items() == before


def test_a_paddle_replay_under_a_new_notification_id_is_a_duplicate_not_a_conflict(validator: ModuleType) -> None:
    """Paddle's Replay and a second destination deliver the same `event_id` with another `notification_id`
    (https://developer.paddle.com/api-reference/notifications/replay-notification.md): it was a 409 kept in
    quarantine for good, since no readmission could ever store it."""
    raw = fixture_bytes("paddle/transaction.completed.json")
    assert post(validator, "paddle", raw)[0] == 202
    before = stored_items()
    replay = json.loads(raw)
    replay["notification_id"] = "ntf_01hvreplayed0000000000000"
    status, body = post(validator, "paddle", json.dumps(replay, indent=1).encode())
    assert (status, json.loads(body)["status"]) == (200, "duplicate")
    assert stored_items() == before
    other = {**replay, "occurred_at": "2024-04-12T10:18:50.000000Z"}  # any other change is still a conflict
    assert (post(validator, "paddle", json.dumps(other).encode())[0]) == 409


@pytest.mark.parametrize(
    ("fixture", "member", "value", "field"),
    [("stripe/payment_intent.succeeded.json", "id", "pi_" + "x" * 300, "object_id"),
     ("stripe/payment_intent.succeeded.json", "id", "", "object_id"),
     ("stripe/charge.dispute.created.json", "payment_intent", "pi_" + "p" * 254, "parent_object_id")],
)  # fmt: skip
def test_an_object_id_outside_the_published_schema_is_refused(
    validator: ModuleType, fixture: str, member: str, value: str, field: str
) -> None:
    """Consumers parse with the published schema (1 to 256 characters): such a message reached the money
    queue and then failed every receive into the consumer's DLQ (red-team finding). Now a 400 naming it
    (a signed refusal: kept in quarantine)."""
    body = json.loads(fixture_bytes(fixture))
    body["data"]["object"][member] = value
    status, answer = post(validator, "stripe", json.dumps(body).encode())
    assert (status, error_of(answer), json.loads(answer)["field"]) == (400, "invalid_field", field)
    assert stored_items() == []


# --- batches: all or nothing -------------------------------------------------------------------------


def adyen_two_items() -> list[dict[str, Any]]:
    return [
        json.loads(fixture_bytes(f"adyen/{name}.json"))["notificationItems"][0]["NotificationRequestItem"]
        for name in ("AUTHORISATION", "REFUND")
    ]


def test_adyen_batch_of_two_signed_items_stores_both(validator: ModuleType) -> None:
    key = SOURCES["adyen"].secret
    document = json.loads(adyen_delivery(adyen_two_items(), key))
    assert call(validator, api_event("adyen", json.dumps(document).encode(), {}))[0] == 202  # control: both signed
    assert len(stored_items()) == 2


@pytest.mark.parametrize("broken", [0, 1])
def test_adyen_batch_with_one_item_not_signed_stores_nothing(validator: ModuleType, broken: int) -> None:
    document = json.loads(adyen_delivery(adyen_two_items(), SOURCES["adyen"].secret))
    item = document["notificationItems"][broken]["NotificationRequestItem"]
    item["additionalData"]["hmacSignature"] = base64.b64encode(b"\0" * 32).decode()
    status, body = call(validator, api_event("adyen", json.dumps(document).encode(), {}))
    assert (status, error_of(body)) == (401, "invalid_signature")
    assert stored_items() == []


def test_adyen_batch_with_the_second_item_altered_after_signing_stores_nothing(validator: ModuleType) -> None:
    document = json.loads(adyen_delivery(adyen_two_items(), SOURCES["adyen"].secret))
    document["notificationItems"][1]["NotificationRequestItem"]["amount"]["value"] = 1  # signed value changed
    status, _ = call(validator, api_event("adyen", json.dumps(document).encode(), {}))
    assert status == 401
    assert stored_items() == []


def throttle_second_write(validator: ModuleType, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Make the second PutItem from now on fail with throttling (once); return the ids tried."""
    real_put = validator._dynamodb.put_item
    tried: list[str] = []

    def put_item(**kwargs: Any) -> Any:
        tried.append(kwargs["Item"]["event_id"]["S"])
        if len(tried) == 2:
            raise ClientError(
                {"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow down"}}, "PutItem"
            )
        return real_put(**kwargs)

    monkeypatch.setattr(validator._dynamodb, "put_item", put_item)
    return tried


@pytest.mark.parametrize("path", ["adyen", "gocardless/sdk_fixture_webhook_body.json"])
def test_a_batch_with_a_failed_write_is_5xx_and_its_retry_stores_each_event_once(
    validator: ModuleType, monkeypatch: pytest.MonkeyPatch, path: str
) -> None:
    if path == "adyen":
        name, body, headers = "adyen", adyen_delivery(adyen_two_items(), SOURCES["adyen"].secret).encode(), {}
    else:
        name = "gocardless"
        body, headers = sign(name, fixture_bytes(path))
    tried = throttle_second_write(validator, monkeypatch)
    status, response = call(validator, api_event(name, body, headers))
    assert status >= 500, response
    assert len(tried) == 2
    assert len(stored_items()) == 1  # the first event is stored; the delivery is not acknowledged
    status, response = call(validator, api_event(name, body, headers))  # the provider resends the same delivery
    assert status == 202, response
    ids = [item["event_id"]["S"] for item in stored_items()]
    assert sorted(ids) == sorted(set(tried)) and len(ids) == 2


# --- unknown sources ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "overrides",
    [
        {"resource": "/webhook/nope", "path": "/webhook/nope"},
        {"resource": "/webhook/{source}", "pathParameters": {"source": "nope"}},
        {"resource": "/webhook/STRIPE"},
        {"resource": "/webhook/stripe/extra"},
        {"resource": "/webhook/"},
        {"resource": "/other"},
        {"resource": "/webhooks/stripe"},
        {"resource": "/other/{source}", "pathParameters": {"source": "stripe"}},
    ],
)
def test_unknown_sources_are_404_and_store_nothing(validator: ModuleType, overrides: dict[str, Any]) -> None:
    body, headers = sign("stripe", fixture_bytes("stripe/payment_intent.succeeded.json"))
    status, response = call(validator, api_event("stripe", body, headers, **overrides))
    assert (status, error_of(response)) == (404, "unknown_source")
    assert stored_items() == []


def test_the_source_path_parameter_names_the_source(validator: ModuleType) -> None:
    body, headers = sign("stripe", fixture_bytes("stripe/payment_intent.succeeded.json"))
    event = api_event("stripe", body, headers, resource="/webhook/{source}", pathParameters={"source": "stripe"})
    assert call(validator, event)[0] == 202
    assert [item["source"]["S"] for item in stored_items()] == ["stripe"]


# --- secrets ------------------------------------------------------------------------------------------

FIRST_SAMPLE = {sample.source: sample.path for sample in reversed(SAMPLES)}  # one sample per source


@pytest.mark.parametrize("name", list(SOURCES))
def test_a_wrong_secret_is_401_and_stores_nothing(validator: ModuleType, name: str) -> None:
    status, body = post(validator, name, fixture_bytes(FIRST_SAMPLE[name]), SOURCES[name].other_secret)
    assert status == 401, body
    assert stored_items() == []


def test_square_signed_for_another_url_is_401(validator: ModuleType) -> None:
    raw = fixture_bytes("square/payment.created.json")
    body, headers = sign("square", raw, url="https://example.com/webhook/square")
    assert call(validator, api_event("square", body, headers))[0] == 401
    assert stored_items() == []


def test_square_notification_url_option_is_the_signed_url(
    configure: Callable[..., tuple[ModuleType, ModuleType]],
) -> None:
    registered = "https://hooks.example.com/square"
    validator, _ = configure(options={"square": {"notification_url": registered}})
    raw = fixture_bytes("square/payment.created.json")
    body, headers = sign("square", raw)  # the stage URL: not what is registered
    assert call(validator, api_event("square", body, headers))[0] == 401
    body, headers = sign("square", raw, url=registered)
    assert call(validator, api_event("square", body, headers))[0] == 202


def test_a_standard_webhooks_secret_on_a_stripe_source_is_used_as_stripe_text(
    configure: Callable[..., tuple[ModuleType, ModuleType]],
) -> None:
    """Stripe's secret is the whole `whsec_...` text; it is never base64-decoded because of its prefix."""
    validator, _ = configure(secrets={"stripe": [SW_SECRET]})
    raw = fixture_bytes("stripe/payment_intent.succeeded.json")
    decoded_key = base64.b64decode(SW_SECRET.removeprefix("whsec_"))
    now = int(time.time())
    import hashlib
    import hmac

    guessed = hmac.new(decoded_key, f"{now}.".encode() + raw, hashlib.sha256).hexdigest()
    event = api_event("stripe", raw, {"Stripe-Signature": f"t={now},v1={guessed}"})
    assert call(validator, event)[0] == 401  # signed with the decoded key: the format was guessed
    # Standard Webhooks headers with that secret on a Stripe route: no Stripe signature at all.
    sw_body, sw_headers = sign("svix-sender", raw)
    assert call(validator, api_event("stripe", sw_body, sw_headers))[0] == 401
    assert stored_items() == []
    assert post(validator, "stripe", raw, SW_SECRET)[0] == 202  # the whole text as the key: Stripe's way


@pytest.mark.parametrize("name", list(SOURCES))
def test_a_rotated_secret_list_with_a_malformed_entry_still_accepts(
    capsys: pytest.CaptureFixture[str],
    capture_logs: Callable[..., None],
    caplog: pytest.LogCaptureFixture,
    configure: Callable[..., tuple[ModuleType, ModuleType]],
    name: str,
) -> None:
    spec = SOURCES[name]
    validator, _ = configure(secrets={name: [spec.malformed, spec.other_secret, spec.secret]})
    capture_logs(validator)
    status, body = post(validator, name, fixture_bytes(FIRST_SAMPLE[name]))
    assert status == 202, body
    logs = capsys.readouterr().out + caplog.text
    skipped = [line for line in json_lines(logs) if line.get("message") == "signing secret entry skipped"]
    assert [(line["source"], line["entry_index"]) for line in skipped] == [(name, 0)]
    if spec.malformed.strip():
        assert spec.malformed.strip() not in logs
    assert spec.secret not in logs and spec.other_secret not in logs


@pytest.mark.parametrize("name", list(SOURCES))
def test_a_rotated_secret_list_accepts_the_old_and_the_new_secret(
    configure: Callable[..., tuple[ModuleType, ModuleType]], name: str
) -> None:
    spec = SOURCES[name]
    validator, _ = configure(secrets={name: [spec.other_secret, spec.secret]})
    raw = fixture_bytes(FIRST_SAMPLE[name])
    assert post(validator, name, raw, spec.secret)[0] == 202
    assert post(validator, name, raw, spec.other_secret)[0] == 200


@pytest.mark.parametrize("name", list(SOURCES))
@pytest.mark.parametrize("entries", [["malformed"], [], [42], "not a list"])
def test_no_usable_secret_entry_is_500_and_stores_nothing(
    configure: Callable[..., tuple[ModuleType, ModuleType]], name: str, entries: Any
) -> None:
    spec = SOURCES[name]
    validator, _ = configure(secrets={name: [spec.malformed] if entries == ["malformed"] else entries})
    status, body = post(validator, name, fixture_bytes(FIRST_SAMPLE[name]))
    assert (status, error_of(body)) == (500, "unavailable")
    assert stored_items() == []


# --- mapping options ----------------------------------------------------------------------------------


def stripe_event(event_type: str, amount: int | None = 1000, currency: str = "usd", event_id: str = "evt_x") -> bytes:
    obj: dict[str, Any] = {"id": "obj_1", "object": "thing", "currency": currency, "captured": True}
    if amount is not None:
        obj["amount"] = obj["amount_captured"] = amount
    return json.dumps(
        {"id": event_id, "object": "event", "type": event_type, "created": 1_795_000_000, "data": {"object": obj}}
    ).encode()


def test_route_unmapped_false_stores_and_the_router_skips(
    capsys: pytest.CaptureFixture[str],
    capture_logs: Callable[..., None],
    configure: Callable[..., tuple[ModuleType, ModuleType]],
) -> None:
    validator, router = configure(options={"stripe": {"route_unmapped": False}})
    capture_logs(router)
    assert post(validator, "stripe", stripe_event("customer.created", amount=None, event_id="evt_cus"))[0] == 202
    assert post(validator, "stripe", stripe_event("charge.succeeded", event_id="evt_ch"))[0] == 202  # mapped: routed
    stored = items_by_id()
    assert stored["stripe:evt_cus"]["routing"] == {"S": "skip"}
    assert stored["stripe:evt_cus"]["transaction_type"] == {"S": "other"}
    assert "routing" not in stored["stripe:evt_ch"]
    capsys.readouterr()
    sent = route_stored(router)
    assert [entry["MessageAttributes"]["event_id"]["StringValue"] for entry in sent] == ["stripe:evt_ch"]
    queues = queue_contents()
    assert queues[QUEUE_OF_TYPE["other"]] == []
    assert len(queues[QUEUE_OF_TYPE["payment"]]) == 1
    decisions = [line for line in json_lines(capsys.readouterr().out) if line.get("message") == "routing decision"]
    assert {(line["event_id"], line["outcome"]) for line in decisions} == {
        ("stripe:evt_cus", "skipped"),
        ("stripe:evt_ch", "routed"),
    }


def test_route_unmapped_default_sends_unmapped_events_to_the_unrouted_queue(
    pipeline: tuple[ModuleType, ModuleType],
) -> None:
    validator, router = pipeline
    assert post(validator, "stripe", stripe_event("customer.created", amount=None, event_id="evt_cus"))[0] == 202
    assert "routing" not in items_by_id()["stripe:evt_cus"]
    route_stored(router)
    [message] = queue_contents()[QUEUE_OF_TYPE["other"]]
    assert message["MessageAttributes"]["transaction_type"]["StringValue"] == "other"


def test_type_map_overrides_the_default_mapping(configure: Callable[..., tuple[ModuleType, ModuleType]]) -> None:
    validator, router = configure(
        options={"stripe": {"type_map": {"payment_intent.succeeded": "dispute", "customer.created": "payment"}}}
    )
    assert post(validator, "stripe", fixture_bytes("stripe/payment_intent.succeeded.json"))[0] == 202
    assert post(validator, "stripe", stripe_event("customer.created", event_id="evt_cus"))[0] == 202
    assert post(validator, "stripe", stripe_event("charge.succeeded", event_id="evt_ch"))[0] == 202  # not in the map
    assert post(validator, "stripe", stripe_event("payment_intent.created", event_id="evt_pi"))[0] == 202
    stored = items_by_id()
    # The map changed these types: each takes its new type's money outcome; what it did not map keeps
    # the provider's own outcome (a created PaymentIntent is pending: the lifecycle queue).
    assert stored["stripe:evt_1Pgc76B7WZ01zgkWwyRHS12y"]["outcome"] == {"S": "opened"}
    assert stored["stripe:evt_cus"]["outcome"] == {"S": "succeeded"}
    assert stored["stripe:evt_pi"]["outcome"] == {"S": "pending"}
    assert stored["stripe:evt_1Pgc76B7WZ01zgkWwyRHS12y"]["transaction_type"] == {"S": "dispute"}
    assert stored["stripe:evt_cus"]["transaction_type"] == {"S": "payment"}
    assert stored["stripe:evt_ch"]["transaction_type"] == {"S": "payment"}
    route_stored(router)
    queues = queue_contents()
    assert [m["MessageAttributes"]["event_id"]["StringValue"] for m in queues[QUEUE_OF_TYPE["dispute"]]] == [
        "stripe:evt_1Pgc76B7WZ01zgkWwyRHS12y"
    ]
    # A customer mapped to `payment` carries no amount: a money fact without one is parked, never booked.
    assert [m["MessageAttributes"]["event_id"]["StringValue"] for m in queues[QUEUE_OF_TYPE["payment"]]] == [
        "stripe:evt_ch"
    ]
    assert stored["stripe:evt_cus"]["unrouted_reason"] == {"S": "missing_amount"}
    assert [m["MessageAttributes"]["event_id"]["StringValue"] for m in queues[QUEUE_OF_TYPE["lifecycle"]]] == [
        "stripe:evt_pi"
    ]


def test_without_its_type_map_the_svix_sample_is_other(configure: Callable[..., tuple[ModuleType, ModuleType]]) -> None:
    validator, _ = configure(options={"svix-sender": {"type_map": {}}})
    assert (
        post(validator, "svix-sender", fixture_bytes("standard-webhooks/payment.succeeded_svix_style.json"))[0] == 202
    )
    [item] = stored_items()
    assert item["transaction_type"] == {"S": "other"}


def test_an_unknown_currency_exponent_is_stored_without_amount_and_parked(
    pipeline: tuple[ModuleType, ModuleType],
) -> None:
    validator, router = pipeline
    status, _ = post(validator, "stripe", stripe_event("charge.succeeded", amount=1234, currency="xxy"))
    assert status == 202
    [item] = stored_items()
    assert "amount" not in item
    assert item["unrouted_reason"] == {"S": "unknown_currency_exponent"}
    assert item["transaction_type"] == {"S": "payment"}
    assert len(route_stored(router)) == 1
    queues = queue_contents()
    [message] = queues[QUEUE_OF_TYPE["other"]]
    assert queues[QUEUE_OF_TYPE["payment"]] == []
    content = json.loads(message["Body"])
    assert "amount" not in content
    assert content["unrouted_reason"] == "unknown_currency_exponent"
    assert message["MessageAttributes"]["source"]["StringValue"] == "stripe"


# --- metrics and logs ---------------------------------------------------------------------------------


def emf_blobs(text: str) -> list[dict[str, Any]]:
    return [line for line in json_lines(text) if "_aws" in line]


def source_metrics(text: str) -> set[tuple[str, str]]:
    """(metric name, source) of every EMF metric with a `source` dimension."""
    found = set()
    for blob in emf_blobs(text):
        for directive in blob["_aws"]["CloudWatchMetrics"]:
            if any("source" in dimensions for dimensions in directive["Dimensions"]):
                found |= {(metric["Name"], blob["source"]) for metric in directive["Metrics"]}
    return found


def test_per_source_metrics_for_accepted_and_signature_rejected(
    capsys: pytest.CaptureFixture[str], validator: ModuleType
) -> None:
    capsys.readouterr()
    assert post(validator, "mollie", fixture_bytes("mollie/nextgen_payment-link.paid_full.json"))[0] == 202
    assert post(validator, "adyen", fixture_bytes("adyen/REFUND.json"), SOURCES["adyen"].other_secret)[0] == 401
    found = source_metrics(capsys.readouterr().out)
    assert ("Accepted", "mollie") in found
    assert ("SignatureRejected", "adyen") in found
    assert ("Accepted", "adyen") not in found


def test_router_logs_one_routing_decision_per_event(
    capsys: pytest.CaptureFixture[str], capture_logs: Callable[..., None], pipeline: tuple[ModuleType, ModuleType]
) -> None:
    validator, router = pipeline
    capture_logs(router)
    assert post(validator, "gocardless", fixture_bytes("gocardless/sdk_fixture_webhook_body.json"))[0] == 202
    assert post(validator, "checkout", fixture_bytes("checkout/payment_captured.json"))[0] == 202
    capsys.readouterr()
    route_stored(router)
    decisions = [line for line in json_lines(capsys.readouterr().out) if line.get("message") == "routing decision"]
    queues = queue_contents()
    message_ids = {m["MessageId"]: queue for queue, messages in queues.items() for m in messages}
    assert sorted(line["event_id"] for line in decisions) == [
        "checkout:evt_fkfqht6yonme7bk7jawrgzbbxq",
        "gocardless:EV00BD05S5VM2T",
        "gocardless:EV00BD05TB8K63",
    ]
    for line in decisions:
        # GoCardless's subscription and mandate are known bookkeeping: lifecycle, routed (not parked).
        expected_queue = (
            QUEUE_OF_TYPE["payment"] if line["event_id"].startswith("checkout:") else QUEUE_OF_TYPE["lifecycle"]
        )
        assert line["destination"] == expected_queue
        assert message_ids[line["message_id"]] == expected_queue
        assert line["outcome"] == "routed"


def test_a_batch_conflict_names_the_conflicting_events(validator: ModuleType) -> None:
    """One event of a GoCardless batch changed after it was stored: 409 names it; the other is a duplicate."""
    raw = fixture_bytes("gocardless/sdk_fixture_webhook_body.json")
    assert post(validator, "gocardless", raw)[0] == 202
    document = json.loads(raw)
    document["events"][1]["action"] = "cancelled"
    status, body = post(validator, "gocardless", json.dumps(document).encode())
    assert status == 409
    assert json.loads(body)["conflicts"] == ["gocardless:EV00BD05TB8K63"]


def test_a_batch_item_payload_keeps_non_ascii_keys_as_written(validator: ModuleType) -> None:
    """A batch item's own JSON is stored compactly, keys unescaped: never longer than the delivery's text."""
    document = json.loads(fixture_bytes("gocardless/sdk_fixture_webhook_body.json"))
    document["events"][0]["metadata"] = {"clé": "été"}
    raw = json.dumps(document, ensure_ascii=False).encode()
    assert post(validator, "gocardless", raw)[0] == 202
    payload = stored_payload(items_by_id()["gocardless:EV00BD05S5VM2T"])
    assert '"clé":"été"' in payload
    assert len(payload.encode()) < len(raw)
