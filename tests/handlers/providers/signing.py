"""Our own test signers for the providers' schemes (independent of handlers/providers) and small helpers.

The signers are written from each provider's documentation; every test module also checks them against
the provider's official SDK where one exists, so a shared misreading cannot pass unnoticed.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import importlib
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from hypothesis import strategies as st

from tests.handlers.helpers import HANDLERS_DIR

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "providers"
NOW = 1_795_000_000  # a fixed clock for the tests that do not go through an SDK's own time.time()
STAGE_URL = "https://abc123.execute-api.us-east-1.amazonaws.com/test/webhook/shop"

if str(HANDLERS_DIR) not in sys.path:
    sys.path.insert(0, str(HANDLERS_DIR))


def load(provider_id: str) -> ModuleType:
    """The provider's module, imported through the registry the way the validator loads it."""
    providers = importlib.import_module("providers")
    return providers.load(provider_id)


def fixture(provider_id: str, name: str) -> bytes:
    return (FIXTURES / provider_id / name).read_bytes()


def fixtures(provider_id: str) -> list[str]:
    return sorted(path.name for path in (FIXTURES / provider_id).glob("*.json"))


def request(headers: dict[str, str], body: bytes, url: str = STAGE_URL):
    """A `WebhookRequest` as the validator builds it: lower-case header names, strict UTF-8 text."""
    # Imported, not looked up: a test that re-imports the handlers cold (`helpers.fresh_import`) drops
    # `providers` from sys.modules, and tests collected after it still build requests.
    providers = importlib.import_module("providers")
    return providers.WebhookRequest(
        headers={name.lower(): value for name, value in headers.items()}, body=body, text=body.decode("utf-8"), url=url
    )


def hmac_sha256(key: str, message: bytes) -> bytes:
    return hmac.new(key.encode("utf-8"), message, hashlib.sha256).digest()


def stripe_header(secrets: Iterable[str], body: bytes, timestamp: int) -> str:
    """`t=<ts>,v1=<hex>[,v1=<hex>...]`: one v1 per secret (Stripe sends several while a secret rolls)."""
    signed = f"{timestamp}.".encode() + body
    return ",".join([f"t={timestamp}"] + [f"v1={hmac_sha256(secret, signed).hex()}" for secret in secrets])


def paddle_header(secrets: Iterable[str], body: bytes, timestamp: int) -> str:
    """`ts=<ts>;h1=<hex>[;h1=<hex>...]` over `"{ts}:{body}"`."""
    signed = f"{timestamp}:".encode() + body
    return ";".join([f"ts={timestamp}"] + [f"h1={hmac_sha256(secret, signed).hex()}" for secret in secrets])


def square_signature(signature_key: str, notification_url: str, body: bytes) -> str:
    """base64 HMAC-SHA256 over notification URL + body."""
    return base64.b64encode(hmac_sha256(signature_key, notification_url.encode() + body)).decode()


def body_hex_signature(secret: str, body: bytes) -> str:
    """Checkout.com's `Cko-Signature` and Razorpay's `X-Razorpay-Signature`: hex HMAC-SHA256 of the body."""
    return hmac_sha256(secret, body).hex()


def reason_of(error: type[Exception], call: Callable[..., object], *args: Any, **kwargs: Any) -> str:
    """The reason code of the `error` that `call(*args, **kwargs)` must raise."""
    with pytest.raises(error) as raised:
        call(*args, **kwargs)
    return raised.value.reason


def instant(text: str) -> datetime.datetime:
    """`2020-02-06T21:27:30.792Z` (the fixtures' README) -> an aware datetime."""
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))


def assert_canonical(
    module: ModuleType,
    event: Any,
    event_id: str,
    event_type: str,
    transaction_type: str,
    amount: str,
    currency: str,
    timestamp: str,
) -> None:
    """A minor-unit provider event has exactly the canonical values of the fixtures' README (the order of
    the test modules' `CANONICAL` rows)."""
    import money  # a handler module (handlers/ is on sys.path): whichever copy the test imported

    assert (event.provider_event_id, event.provider_event_type) == (event_id, event_type)
    assert module.default_transaction_type(event) == transaction_type
    assert event.amount_unit == "minor"
    assert str(money.from_minor_units(event.amount, event.currency, module.EXPONENT_OVERRIDES)) == amount
    assert event.currency == currency
    assert event.timestamp == instant(timestamp)


def timestamped_header_noise(timestamp_name: str, scheme: str, separator: str) -> st.SearchStrategy[str]:
    """Headers of the Stripe/Paddle shape made of near-miss items: timestamps, signatures and stray text."""
    alphabet = "".join(dict.fromkeys(f"{timestamp_name}{scheme}=,; \t\x00é"))
    return st.lists(
        st.one_of(
            st.from_regex(rf"{timestamp_name}=[0-9 +-]{{0,14}}", fullmatch=True),
            st.from_regex(rf"{scheme}=[0-9a-fA-F ]{{0,70}}", fullmatch=True),
            st.text(alphabet=alphabet, max_size=12),
        ),
        max_size=5,
    ).map(separator.join)
