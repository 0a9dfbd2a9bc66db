"""Our Standard Webhooks implementation against the independent `standardwebhooks` package, both ways."""

from __future__ import annotations

import base64
import datetime
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from tests.handlers.helpers import SIGNING_SECRET, fresh_import

signature = fresh_import("webhook_signature")
KEY = signature.decode_secret(SIGNING_SECRET)
NOW = 1_795_000_000


def headers(webhook_id: str, timestamp: int, value: str) -> dict[str, str]:
    return {"webhook-id": webhook_id, "webhook-timestamp": str(timestamp), "webhook-signature": value}


@given(webhook_id=st.from_regex(r"msg_[A-Za-z0-9]{1,30}", fullmatch=True), body=st.text(max_size=500))
def test_our_signatures_equal_the_reference_implementation(webhook_id: str, body: str) -> None:
    moment = datetime.datetime.fromtimestamp(NOW, tz=datetime.UTC)
    reference = Webhook(SIGNING_SECRET).sign(webhook_id, moment, body)
    assert signature.sign(KEY, webhook_id, NOW, body.encode()) == reference
    assert (
        signature.verify(headers(webhook_id, NOW, reference), body.encode(), [KEY], now=NOW, tolerance_seconds=300)
        == webhook_id
    )


def test_reference_implementation_accepts_our_signature() -> None:
    body = b'{"event_id":"evt_1"}'
    webhook = Webhook(SIGNING_SECRET)
    now = int(time.time())  # the reference checks against the real clock
    value = signature.sign(KEY, "msg_1", now, body)
    assert webhook.verify(body, headers("msg_1", now, value)) == {"event_id": "evt_1"}
    with pytest.raises(WebhookVerificationError):
        webhook.verify(body + b" ", headers("msg_1", now, value))


@pytest.mark.parametrize(
    "secret",
    ["plain", "whsec_", "whsec_!!!notbase64", "whsec_" + base64.b64encode(b"short").decode()],
)
def test_malformed_secrets_are_refused(secret: str) -> None:
    with pytest.raises(ValueError):
        signature.decode_secret(secret)


def test_the_signed_timestamp_text_is_used_as_sent() -> None:
    # A leading zero changes the signed content: verification must use the header text, not int().
    value = signature.sign(KEY, "msg_1", NOW, b"{}")
    with pytest.raises(signature.SignatureError):
        signature.verify(
            headers("msg_1", NOW, value) | {"webhook-timestamp": f"0{NOW}"},
            b"{}",
            [KEY],
            now=NOW,
            tolerance_seconds=300,
        )
