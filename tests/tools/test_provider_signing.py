"""`pipeline_tools/provider_signing.py` against the providers' official SDKs (oracles), per provider.

Where an SDK can sign, its signature must equal ours; where it only verifies, it must accept ours and
refuse ours under another secret. Checkout.com and Mollie ship no Python verifier: there the validator's
own provider module is the second opinion (and the integration suite the third).
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import json
import sys
import time
import urllib.parse
from pathlib import Path

import pytest
import razorpay
import stripe
from Adyen.util import generate_notification_sig, is_valid_hmac_notification
from braintree import BraintreeGateway, Configuration, Environment
from braintree.exceptions.invalid_signature_error import InvalidSignatureError as BraintreeInvalidSignature
from gocardless_pro import webhooks as gocardless_webhooks
from gocardless_pro.errors import InvalidSignatureError as GoCardlessInvalidSignature
from paddle_billing.Notifications import Secret, Verifier
from razorpay.errors import SignatureVerificationError
from square.utils.webhooks_helper import verify_signature as square_verify
from standardwebhooks.webhooks import Webhook as StandardWebhook
from standardwebhooks.webhooks import WebhookVerificationError
from svix.webhooks import Webhook as SvixWebhook

from pipeline_tools import provider_signing
from pipeline_tools.provider_signing import SIGNERS, SigningContext, SigningError, random_secret, sign

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "providers"
HANDLERS = Path(__file__).resolve().parents[2] / "handlers"
URL = "https://abc123.execute-api.us-east-1.amazonaws.com/v1/webhook/square"


def fixture(path: str) -> bytes:
    return (FIXTURES / path).read_bytes()


def handler_module(provider: str):
    if str(HANDLERS) not in sys.path:
        sys.path.insert(0, str(HANDLERS))
    import providers

    return providers.load(provider)


def handler_accepts(provider: str, delivery, secret: str, options: dict | None = None, url: str = URL) -> list:
    module = handler_module(provider)
    request = sys.modules["providers"].WebhookRequest(
        headers={name.lower(): value for name, value in delivery.headers.items()},
        body=delivery.body,
        text=delivery.body.decode(),
        url=url,
    )
    keys = [module.parse_secret(secret, options or {})]
    return module.receive(request, keys, options or {}, int(time.time()))


def test_every_provider_has_a_signer_and_a_secret_format() -> None:
    handler_module("stripe")
    assert set(SIGNERS) == set(sys.modules["providers"].REGISTRY)
    for provider in SIGNERS:
        secret = random_secret(provider)
        assert secret != random_secret(provider)
        handler_module(provider).parse_secret(secret, {"public_key": "pk"})  # the validator accepts its format


def test_stripe_equals_the_official_signer_and_verifies() -> None:
    body, secret, now = fixture("stripe/payment_intent.succeeded.json"), random_secret("stripe"), int(time.time())
    delivery = sign("stripe", body, secret, SigningContext(timestamp=now))
    header = delivery.headers["Stripe-Signature"]
    assert header == stripe.WebhookSignature.generate_signature_header(body.decode(), secret, timestamp=now)
    assert stripe.Webhook.construct_event(body.decode(), header, secret).id == "evt_1Pgc76B7WZ01zgkWwyRHS12y"
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.WebhookSignature.verify_header(body.decode(), header, random_secret("stripe"), tolerance=300)


def test_paddle_is_accepted_by_the_official_verifier() -> None:
    body, secret = fixture("paddle/transaction.completed.json"), random_secret("paddle")
    delivery = sign("paddle", body, secret)

    class SdkRequest:
        headers, body = delivery.headers, delivery.body

    assert Verifier().verify(SdkRequest(), Secret(secret)) is True
    assert Verifier().verify(SdkRequest(), Secret(random_secret("paddle"))) is False


def test_square_is_accepted_by_the_official_verifier_for_its_url_only() -> None:
    body, secret = fixture("square/payment.created.json"), random_secret("square")
    delivery = sign("square", body, secret, SigningContext(url=URL))
    signature = delivery.headers["X-Square-HmacSha256-Signature"]
    assert square_verify(request_body=body.decode(), signature_header=signature, signature_key=secret,
                         notification_url=URL)  # fmt: skip
    assert not square_verify(request_body=body.decode(), signature_header=signature, signature_key=secret,
                             notification_url=URL + "x")  # fmt: skip
    with pytest.raises(SigningError, match="notification URL"):
        sign("square", body, secret)


def test_razorpay_is_accepted_by_the_official_verifier_and_carries_an_event_id() -> None:
    body, secret = fixture("razorpay/payment.captured.json"), random_secret("razorpay")
    utility = razorpay.Utility(razorpay.Client(auth=("rzp_test_key", "rzp_test_secret")))
    delivery = sign("razorpay", body, secret)
    assert utility.verify_webhook_signature(body.decode(), delivery.headers["X-Razorpay-Signature"], secret)
    with pytest.raises(SignatureVerificationError):
        utility.verify_webhook_signature(body.decode(), delivery.headers["X-Razorpay-Signature"], "other")
    # Derived from the body: the same file sends the same id (a duplicate); --event-id overrides it.
    assert delivery.headers["x-razorpay-event-id"] == sign("razorpay", body, secret).headers["x-razorpay-event-id"]
    given = sign("razorpay", body, secret, SigningContext(event_id="evt_given"))
    assert given.headers["x-razorpay-event-id"] == "evt_given"


def test_gocardless_is_accepted_by_the_official_parser() -> None:
    body, secret = fixture("gocardless/sdk_fixture_webhook_body.json"), random_secret("gocardless")
    signature = sign("gocardless", body, secret).headers["Webhook-Signature"]
    events = gocardless_webhooks.parse(body.decode(), secret, signature)
    assert [event.id for event in events] == ["EV00BD05S5VM2T", "EV00BD05TB8K63"]
    with pytest.raises(GoCardlessInvalidSignature):
        gocardless_webhooks.parse(body.decode(), "other-secret", signature)


@pytest.mark.parametrize("provider", ["checkout", "mollie"])
def test_checkout_and_mollie_match_the_documented_hmac_and_the_validator(provider: str) -> None:
    path = {"checkout": "checkout/payment_captured.json", "mollie": "mollie/nextgen_payment-link.paid_full.json"}
    body, secret = fixture(path[provider]), random_secret(provider)
    delivery = sign(provider, body, secret)
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    header = {"checkout": ("Cko-Signature", digest), "mollie": ("X-Mollie-Signature", f"sha256={digest}")}[provider]
    assert delivery.headers[header[0]] == header[1]
    assert handler_accepts(provider, delivery, secret)


def test_standard_webhooks_equals_the_reference_signers() -> None:
    body, secret, now = (
        fixture("standard-webhooks/payment.succeeded_svix_style.json"),
        random_secret("standard-webhooks"),
        int(time.time()),
    )
    delivery = sign("standard-webhooks", body, secret, SigningContext(timestamp=now, event_id="msg_1"))
    moment = datetime.datetime.fromtimestamp(now, tz=datetime.UTC)
    assert delivery.headers["webhook-signature"] == StandardWebhook(secret).sign("msg_1", moment, body.decode())
    assert delivery.headers["webhook-signature"] == SvixWebhook(secret).sign("msg_1", moment, body.decode())
    assert StandardWebhook(secret).verify(body, delivery.headers)["type"] == "payment.succeeded"
    with pytest.raises(WebhookVerificationError):
        StandardWebhook(random_secret("standard-webhooks")).verify(body, delivery.headers)
    with pytest.raises(SigningError, match="whsec_"):
        sign("standard-webhooks", body, "not base64!")


@pytest.mark.parametrize("name", ["AUTHORISATION.json", "REFUND.json"])
def test_adyen_recomputes_every_item_as_the_official_library_does(name: str) -> None:
    key = random_secret("adyen")
    document = json.loads(fixture(f"adyen/{name}"))
    item = document["notificationItems"][0]["NotificationRequestItem"]
    second = json.loads(json.dumps(item)) | {"pspReference": "SECOND_ITEM", "eventCode": "CAPTURE"}
    document["notificationItems"].append({"NotificationRequestItem": second})
    body = json.dumps(document, indent=1).encode()
    signed = sign("adyen", body, key)
    signed_items = [entry["NotificationRequestItem"] for entry in json.loads(signed.body)["notificationItems"]]
    for signed_item in signed_items:  # the SDK checks one item at a time (given a batch, only the first)
        assert is_valid_hmac_notification(signed_item, key)
        assert signed_item["additionalData"]["hmacSignature"] == generate_notification_sig(signed_item, key).decode()
    # Only the signatures changed: the rest of the body is byte for byte what was given.
    unsigned = [provider_signing._HMAC_SIGNATURE.sub("", text) for text in (body.decode(), signed.body.decode())]
    assert unsigned[0] == unsigned[1]
    assert len(handler_accepts("adyen", signed, key)) == 2


def test_adyen_signs_items_that_carry_no_signature_yet() -> None:
    key = random_secret("adyen")
    document = json.loads(fixture("adyen/REFUND.json"))
    for entry in document["notificationItems"]:
        entry["NotificationRequestItem"].get("additionalData", {}).pop("hmacSignature", None)
    signed = sign("adyen", json.dumps(document).encode(), key)
    [entry] = json.loads(signed.body)["notificationItems"]
    assert is_valid_hmac_notification(entry["NotificationRequestItem"], key)


def braintree_gateway(public_key: str, private_key: str) -> BraintreeGateway:
    return BraintreeGateway(Configuration(Environment.Sandbox, "merchant_id", public_key, private_key))


@pytest.mark.parametrize("name", ["transaction_settled.json", "dispute_opened.json"])
def test_braintree_re_signs_the_fixture_as_the_official_sdk_verifies(name: str) -> None:
    private_key = random_secret("braintree")
    wrapper = fixture(f"braintree/{name}")
    delivery = sign("braintree", wrapper, private_key, SigningContext(public_key="sandbox_public_key"))
    assert delivery.headers["Content-Type"] == "application/x-www-form-urlencoded"
    form = urllib.parse.parse_qs(delivery.body.decode())
    [signature], [payload] = form["bt_signature"], form["bt_payload"]
    assert payload == json.loads(wrapper)["form"]["bt_payload"]
    notification = braintree_gateway("sandbox_public_key", private_key).webhook_notification.parse(signature, payload)
    assert notification.kind == name.removesuffix(".json")
    with pytest.raises(BraintreeInvalidSignature):
        braintree_gateway("sandbox_public_key", "another_private_key").webhook_notification.parse(signature, payload)
    # The same payload as a raw form body signs the same way.
    raw = urllib.parse.urlencode({"bt_signature": "x|y", "bt_payload": payload}).encode()
    assert sign("braintree", raw, private_key, SigningContext(public_key="sandbox_public_key")).body == delivery.body
    assert handler_accepts("braintree", delivery, private_key, {"public_key": "sandbox_public_key"})


def test_braintree_needs_its_public_key_and_a_payload() -> None:
    with pytest.raises(SigningError, match="public key"):
        sign("braintree", fixture("braintree/dispute_opened.json"), "private")
    with pytest.raises(SigningError, match="bt_payload"):
        sign("braintree", b'{"form": {}}', "private", SigningContext(public_key="pk"))


def test_stripe_and_square_deliveries_are_accepted_by_the_validator() -> None:
    for provider, path, options in (
        ("stripe", "stripe/charge.dispute.created.json", {}),
        ("square", "square/dispute.created.json", {}),
        ("paddle", "paddle/adjustment.created_refund.json", {}),
        ("razorpay", "razorpay/payment.captured.json", {}),
        ("gocardless", "gocardless/sdk_fixture_webhook_body.json", {}),
    ):
        secret = random_secret(provider)
        delivery = sign(provider, fixture(path), secret, SigningContext(url=URL))
        assert handler_accepts(provider, delivery, secret, options), provider


def test_unknown_provider_and_bad_adyen_input_are_refused() -> None:
    with pytest.raises(SigningError, match="no signer"):
        sign("paypal", b"{}", "secret")
    with pytest.raises(SigningError, match="notificationItems"):
        sign("adyen", b'{"live": "false"}', "00" * 32)
    with pytest.raises(SigningError, match="hex"):
        sign("adyen", fixture("adyen/REFUND.json"), "not-hex")
    assert base64.b64decode(random_secret("standard-webhooks").removeprefix("whsec_"))


def test_mollie_classic_sends_the_unsigned_id_form_the_door_reads() -> None:
    body = (FIXTURES.parent / "provider_apis" / "mollie" / "get_payment_paid.json").read_bytes()
    delivery = sign("mollie-classic", body, random_secret("mollie-classic"))
    assert (delivery.body, delivery.headers) == (
        b"id=tr_7UhSN1zuXS",
        {"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert sign("mollie-classic", b"id=tr_x1", "k").body == b"id=tr_x1"
    module = handler_module("mollie-classic")
    request = sys.modules["providers"].WebhookRequest(
        headers={}, body=delivery.body, text=delivery.body.decode(), url=URL
    )
    assert module.payment_id(request) == "tr_7UhSN1zuXS"
    with pytest.raises(SigningError, match="'id'"):
        sign("mollie-classic", b'{"no": "id"}', "k")
