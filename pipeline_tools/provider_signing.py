"""Sign a delivery the way each payment provider signs it, for `send --source` (pure stdlib).

Written from each provider's documentation and independent of `handlers/providers/` (which verify):
`tests/tools/test_provider_signing.py` checks every signer against the provider's official SDK, and
the integration suite checks that the deployed validator accepts what they sign.

`sign(provider, body, secret, ...)` returns the body to send (Adyen and Braintree carry the signature
in the body, so theirs is rewritten) and the headers to send with it. Which function signs for which
provider is declared by name in the provider's `SPEC.signer` (handlers/providers/spec.py); `SIGNERS`
is built from the specs, so the signing code stays independent while the registry is one.

| provider | secret | what is signed and where |
| --- | --- | --- |
| `stripe` | the whole `whsec_...` string, as text | `Stripe-Signature: t=<ts>,v1=<hex HMAC-SHA256 of "<ts>.<body>">` |
| `paddle` | the secret key, as text | `Paddle-Signature: ts=<ts>;h1=<hex HMAC-SHA256 of "<ts>:<body>">` |
| `square` | the signature key, as text | `X-Square-HmacSha256-Signature: <base64 HMAC-SHA256 of notification URL + body>` |
| `checkout` | the signature key, as text | `Cko-Signature: <hex HMAC-SHA256 of the body>` |
| `razorpay` | the webhook secret, as text | `X-Razorpay-Signature: <hex HMAC-SHA256 of the body>`, plus `x-razorpay-event-id` |
| `gocardless` | the endpoint secret, as text | `Webhook-Signature: <hex HMAC-SHA256 of the body>` |
| `mollie` | the signing secret, as text | `X-Mollie-Signature: sha256=<hex HMAC-SHA256 of the body>` |
| `mollie-classic` | a Mollie API key (`test_…`), not used to sign | nothing: the form `id=tr_…` (from a JSON body's `id`); the door fetches it |
| `standard-webhooks` | `whsec_<base64 key>` | `webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64 HMAC-SHA256 of "<id>.<ts>.<body>">` |
| `adyen` | the HMAC key, hex | each item's `additionalData.hmacSignature`: base64 HMAC-SHA256 of `pspReference:originalReference:merchantAccountCode:merchantReference:value:currency:eventCode:success` |
| `braintree` | the private key (+ the public key) | form `bt_signature=<public key>\\|<hex HMAC-SHA1 keyed with SHA-1(private key) of bt_payload>&bt_payload=...` |
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import hashlib
import hmac
import json
import re
import secrets
import string
import time
import urllib.parse
from collections.abc import Callable, Mapping
from typing import Any

JSON = "application/json"
FORM = "application/x-www-form-urlencoded"


class SigningError(ValueError):
    """The delivery or the secret cannot be signed as this provider signs; the message says why."""


@dataclasses.dataclass(frozen=True)
class SigningContext:
    """What a signer may need besides the body and the secret.

    `url`: the notification URL (Square signs it); `timestamp`: epoch seconds (Stripe, Paddle,
    Standard Webhooks); `public_key`: Braintree's; `event_id`: Razorpay's `x-razorpay-event-id`, the
    Standard Webhooks `webhook-id` (None: derived from the body, so the same file sends the same id).
    """

    url: str = ""
    timestamp: int | None = None
    public_key: str | None = None
    event_id: str | None = None

    def now(self) -> int:
        return int(time.time()) if self.timestamp is None else self.timestamp


@dataclasses.dataclass(frozen=True)
class SignedDelivery:
    body: bytes
    headers: dict[str, str]


def _hmac_sha256(key: bytes, message: bytes) -> bytes:
    return hmac.new(key, message, hashlib.sha256).digest()


def _text_key(secret: str) -> bytes:
    if not secret:
        raise SigningError("the secret is empty")
    return secret.encode("utf-8")


def derived_id(prefix: str, body: bytes) -> str:
    """An id derived from the body: the same file always gets the same id (a resend is a duplicate)."""
    return prefix + hashlib.sha256(body).hexdigest()[:14]


def sign_stripe(body: bytes, secret: str, context: SigningContext) -> SignedDelivery:
    timestamp = context.now()
    signature = _hmac_sha256(_text_key(secret), f"{timestamp}.".encode() + body).hex()
    return SignedDelivery(body, {"Content-Type": JSON, "Stripe-Signature": f"t={timestamp},v1={signature}"})


def sign_paddle(body: bytes, secret: str, context: SigningContext) -> SignedDelivery:
    timestamp = context.now()
    signature = _hmac_sha256(_text_key(secret), f"{timestamp}:".encode() + body).hex()
    return SignedDelivery(body, {"Content-Type": JSON, "Paddle-Signature": f"ts={timestamp};h1={signature}"})


def sign_square(body: bytes, secret: str, context: SigningContext) -> SignedDelivery:
    if not context.url:
        raise SigningError("Square signs the notification URL: it is needed")
    signature = base64.b64encode(_hmac_sha256(_text_key(secret), context.url.encode() + body)).decode()
    return SignedDelivery(body, {"Content-Type": JSON, "X-Square-HmacSha256-Signature": signature})


def sign_checkout(body: bytes, secret: str, context: SigningContext) -> SignedDelivery:
    return SignedDelivery(body, {"Content-Type": JSON, "Cko-Signature": _hmac_sha256(_text_key(secret), body).hex()})


def sign_razorpay(body: bytes, secret: str, context: SigningContext) -> SignedDelivery:
    event_id = context.event_id or derived_id("evt_", body)
    return SignedDelivery(
        body,
        {
            "Content-Type": JSON,
            "X-Razorpay-Signature": _hmac_sha256(_text_key(secret), body).hex(),
            "x-razorpay-event-id": event_id,
        },
    )


def sign_gocardless(body: bytes, secret: str, context: SigningContext) -> SignedDelivery:
    signature = _hmac_sha256(_text_key(secret), body).hex()
    return SignedDelivery(body, {"Content-Type": JSON, "Webhook-Signature": signature})


def sign_mollie(body: bytes, secret: str, context: SigningContext) -> SignedDelivery:
    signature = "sha256=" + _hmac_sha256(_text_key(secret), body).hex()
    return SignedDelivery(body, {"Content-Type": JSON, "X-Mollie-Signature": signature})


def sign_mollie_classic(body: bytes, secret: str, context: SigningContext) -> SignedDelivery:
    """Mollie's classic webhook is unsigned: the form `id=tr_...`. A JSON body (a payment object, e.g. the
    Get payment example) is sent as its `id`; a form body as it is."""
    text = body.decode("utf-8", errors="replace").strip()
    if text.startswith("{"):
        try:
            identifier = json.loads(text).get("id")
        except (ValueError, AttributeError):
            identifier = None
        if not isinstance(identifier, str):
            raise SigningError("a Mollie classic webhook carries a payment id: the JSON body needs an 'id'")
        text = urllib.parse.urlencode({"id": identifier})
    return SignedDelivery(text.encode("utf-8"), {"Content-Type": FORM})


def standard_webhooks_key(secret: str) -> bytes:
    """`whsec_<base64>` -> the key bytes (the prefix is optional in the spec's libraries)."""
    encoded = secret.removeprefix("whsec_")
    try:
        key = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise SigningError("a Standard Webhooks secret is whsec_<base64>") from None
    if not key:
        raise SigningError("a Standard Webhooks secret is whsec_<base64>")
    return key


def sign_standard_webhooks(body: bytes, secret: str, context: SigningContext) -> SignedDelivery:
    message_id = context.event_id or derived_id("msg_", body)
    timestamp = context.now()
    signed = f"{message_id}.{timestamp}.".encode() + body
    signature = base64.b64encode(_hmac_sha256(standard_webhooks_key(secret), signed)).decode()
    return SignedDelivery(
        body,
        {
            "Content-Type": JSON,
            "webhook-id": message_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": f"v1,{signature}",
        },
    )


# --- Adyen: the signature is inside each notification item -------------------------------------------
ADYEN_SIGNED_FIELDS = ("pspReference", "originalReference", "merchantAccountCode", "merchantReference")
_HMAC_SIGNATURE = re.compile(r'("hmacSignature"\s*:\s*)"((?:[^"\\]|\\.)*)"')


def adyen_signing_string(item: Mapping[str, Any]) -> str:
    """`pspReference:originalReference:merchantAccountCode:merchantReference:value:currency:eventCode:success`,
    an absent value written as the empty string."""
    amount = item.get("amount") if isinstance(item.get("amount"), dict) else {}
    values = [*(item.get(name) for name in ADYEN_SIGNED_FIELDS), amount.get("value"), amount.get("currency"),
              item.get("eventCode"), item.get("success")]  # fmt: skip
    return ":".join("" if value is None else str(value) for value in values)


def adyen_item_signature(item: Mapping[str, Any], hex_key: str) -> str:
    try:
        key = bytes.fromhex(hex_key)
    except ValueError:
        raise SigningError("an Adyen HMAC key is a hex string") from None
    if not key:
        raise SigningError("an Adyen HMAC key is a hex string")
    return base64.b64encode(_hmac_sha256(key, adyen_signing_string(item).encode("utf-8"))).decode()


def sign_adyen(body: bytes, secret: str, context: SigningContext) -> SignedDelivery:
    """Recompute every item's `additionalData.hmacSignature`. The body keeps its bytes except for those
    values when every item already carries one (the usual case); otherwise it is written out again."""
    try:
        text = body.decode("utf-8")
        document = json.loads(text)
        items = [entry["NotificationRequestItem"] for entry in document["notificationItems"]]
    except (UnicodeDecodeError, ValueError, KeyError, TypeError):
        raise SigningError("an Adyen delivery is JSON with notificationItems[].NotificationRequestItem") from None
    if not items or not all(isinstance(item, dict) for item in items):
        raise SigningError("an Adyen delivery needs at least one NotificationRequestItem")
    signatures = [adyen_item_signature(item, secret) for item in items]
    present = [
        isinstance(item.get("additionalData"), dict) and "hmacSignature" in item["additionalData"] for item in items
    ]
    if all(present) and len(_HMAC_SIGNATURE.findall(text)) == len(items):
        replacements = iter(signatures)
        text = _HMAC_SIGNATURE.sub(lambda match: f'{match.group(1)}"{next(replacements)}"', text)
        new_body = text.encode("utf-8")
    else:
        for item, signature in zip(items, signatures, strict=True):
            additional = item.get("additionalData")
            if not isinstance(additional, dict):
                additional = item["additionalData"] = {}
            additional["hmacSignature"] = signature
        new_body = json.dumps(document, indent=2, ensure_ascii=False).encode("utf-8")
    return SignedDelivery(new_body, {"Content-Type": JSON})


# --- Braintree: a form post; the fixture files wrap it in JSON -----------------------------------------
def braintree_signature(payload: str, public_key: str, private_key: str) -> str:
    """`<public key>|<hex HMAC-SHA1 of bt_payload>`, keyed with SHA-1 of the private key (Braintree's SDKs)."""
    key = hashlib.sha1(private_key.encode("utf-8")).digest()  # noqa: S324 - Braintree's scheme
    return f"{public_key}|{hmac.new(key, payload.encode('utf-8'), hashlib.sha1).hexdigest()}"


def braintree_payload(body: bytes) -> str:
    """`bt_payload` of a delivery file: a form body, or JSON `{"form": {"bt_payload": ...}}` (the
    fixture files) or `{"bt_payload": ...}`."""
    text = body.decode("utf-8", "replace").strip()
    if text.startswith("{"):
        try:
            document = json.loads(text)
        except ValueError:
            raise SigningError("a Braintree delivery file is a form body or JSON with bt_payload") from None
        form = document.get("form", document) if isinstance(document, dict) else None
        payload = form.get("bt_payload") if isinstance(form, dict) else None
    else:
        values = urllib.parse.parse_qs(text, keep_blank_values=True)
        payload = (values.get("bt_payload") or [None])[0]
    if not isinstance(payload, str) or not payload:
        raise SigningError("the Braintree delivery has no bt_payload")
    return payload


def sign_braintree(body: bytes, secret: str, context: SigningContext) -> SignedDelivery:
    if not context.public_key:
        raise SigningError("Braintree signs with a key pair: the public key is needed")
    payload = braintree_payload(body)
    form = urllib.parse.urlencode(
        {"bt_signature": braintree_signature(payload, context.public_key, secret), "bt_payload": payload}
    )
    return SignedDelivery(form.encode("ascii"), {"Content-Type": FORM})


Signer = Callable[[bytes, str, SigningContext], SignedDelivery]


def _specs() -> Mapping[str, Any]:
    from modules.sources_config import PROVIDER_SPECS  # the providers' own declarations

    return PROVIDER_SPECS


# Provider id -> its signer: the function of this module its SPEC names (`sign_<provider>`).
SIGNERS: Mapping[str, Signer] = {provider: globals()[spec.signer] for provider, spec in _specs().items()}


def sign(provider: str, body: bytes, secret: str, context: SigningContext | None = None) -> SignedDelivery:
    """Sign `body` the way `provider` does. Raises `SigningError` (unknown provider, bad secret or body)."""
    signer = SIGNERS.get(provider)
    if signer is None:
        raise SigningError(f"no signer for provider {provider!r}; providers: {', '.join(SIGNERS)}")
    return signer(body, secret, context or SigningContext())


def random_secret(provider: str) -> str:
    """A fresh secret in the provider's own format (what its dashboard would show), for the sandbox.

    Stripe `whsec_<random>` (used as text); Standard Webhooks `whsec_<base64 of 32 bytes>`; Adyen a
    64-digit hex HMAC key; Braintree a private key (32 hex digits, like Braintree's); the others random text.
    """
    specs = _specs()
    if provider not in specs:
        raise SigningError(f"no secret format for provider {provider!r}")
    shape = specs[provider].secret_shape
    if shape == "whsec_hex":
        return "whsec_" + secrets.token_hex(16)
    if shape == "whsec_base64":
        return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
    if shape == "hex64_upper":
        return secrets.token_hex(32).upper()
    if shape == "hex32":
        return secrets.token_hex(16)
    if shape == "mollie_api_key":
        return "test_" + "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(30))
    return secrets.token_urlsafe(32)
