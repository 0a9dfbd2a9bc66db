"""Test signers for the Adyen, Braintree, GoCardless, Mollie and standard-webhooks sources.

Written from each provider's documentation, independently of the modules under test; each is checked
against the provider's official SDK where that SDK only verifies (GoCardless), and the SDKs sign
directly where they can (Adyen, Braintree, Standard Webhooks, Svix).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import importlib
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

HANDLERS_DIR = Path(__file__).resolve().parents[3] / "handlers"
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "providers"
URL = "https://example.execute-api.us-east-1.amazonaws.com/test/webhook/src"

if str(HANDLERS_DIR) not in sys.path:
    sys.path.insert(0, str(HANDLERS_DIR))


def provider(module: str) -> ModuleType:
    """A provider module, imported Lambda-style (`handlers/` on sys.path)."""
    return importlib.import_module(f"providers.{module}")


def fixture_text(path: str) -> str:
    return (FIXTURES / path).read_text(encoding="utf-8")


def request(headers: dict[str, str], body: bytes | str) -> Any:
    """A `WebhookRequest` as the validator builds it (lower-case header names)."""
    from providers import WebhookRequest

    raw = body.encode("utf-8") if isinstance(body, str) else body
    return WebhookRequest(
        headers={name.lower(): value for name, value in headers.items()},
        body=raw,
        text=raw.decode("utf-8", errors="replace"),
        url=URL,
    )


# Adyen: base64 HMAC-SHA256 (hex key) over the eight values joined with ":" (empty when absent).
def adyen_signature(item: dict[str, Any], hex_key: str) -> str:
    amount = item.get("amount", {})
    values = [
        item.get("pspReference", ""),
        item.get("originalReference", ""),
        item.get("merchantAccountCode", ""),
        item.get("merchantReference", ""),
        amount.get("value", ""),
        amount.get("currency", ""),
        item.get("eventCode", ""),
        item.get("success", ""),
    ]
    message = ":".join(str(value) for value in values).encode("utf-8")
    return base64.b64encode(hmac.new(bytes.fromhex(hex_key), message, hashlib.sha256).digest()).decode()


def adyen_delivery(items: list[dict[str, Any]], hex_key: str, signer: Any = None) -> str:
    """A delivery whose items are each signed with `hex_key` (by `signer(item, key)` when given)."""
    sign = signer or adyen_signature
    signed = []
    for item in items:
        item = json.loads(json.dumps(item))
        item.setdefault("additionalData", {})["hmacSignature"] = sign(
            {k: v for k, v in item.items() if k != "additionalData"}, hex_key
        )
        signed.append({"NotificationRequestItem": item})
    return json.dumps({"live": "false", "notificationItems": signed})


# Braintree: `public|hex HMAC-SHA1` keyed with SHA-1 of the private key, over bt_payload as sent.
def braintree_signature(payload: str, public_key: str, private_key: str) -> str:
    key = hashlib.sha1(private_key.encode("ascii")).digest()
    return f"{public_key}|{hmac.new(key, payload.encode('ascii'), hashlib.sha1).hexdigest()}"


def braintree_payload(xml: str) -> str:
    return base64.encodebytes(xml.encode("utf-8")).decode("ascii")


# GoCardless: hex HMAC-SHA256 of the body with the secret's text.
def gocardless_signature(body: bytes, secret: str) -> str:
    return hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


# Mollie: `sha256=` + hex HMAC-SHA256 of the body with the signing secret's text.
def mollie_signature(body: bytes, secret: str) -> str:
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
