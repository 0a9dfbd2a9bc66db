"""Standard Webhooks v1 signatures: HMAC-SHA256 over `{webhook-id}.{webhook-timestamp}.{raw body}`.

Spec: https://www.standardwebhooks.com/ (symmetric `v1` scheme). Verification is on the raw bytes the
sender signed; the body is never re-serialized before the check.
"""

from __future__ import annotations

import base64
import binascii
import contextvars
import hashlib
import hmac
from collections.abc import Iterable, Mapping

from errors import (
    INVALID_SIGNATURE,
    MALFORMED_SIGNATURE,
    MALFORMED_SIGNATURE_HEADERS,
    MALFORMED_TIMESTAMP,
    MALFORMED_WEBHOOK_ID,
    MISSING_SIGNATURE_HEADERS,
    TIMESTAMP_IN_FUTURE,
    TIMESTAMP_TOO_OLD,
    PipelineError,
)

SECRET_PREFIX = "whsec_"  # noqa: S105 - the format marker, not a secret
SIGNATURE_VERSION = "v1"
ID_HEADER, TIMESTAMP_HEADER, SIGNATURE_HEADER = "webhook-id", "webhook-timestamp", "webhook-signature"
# Longer headers are refused before any work: a webhook id is short, and a signature header holds a
# handful of `v1,<44 base64 characters>` entries (several during a rotation).
MAX_ID_LENGTH, MAX_SIGNATURE_HEADER_LENGTH = 256, 4096


class SignatureError(PipelineError):
    """The request is not provably from a holder of a signing secret; `reason` is a stable code (401)."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(reason, message, status=401)


def decode_secret(secret: str) -> bytes:
    """`whsec_<base64>` -> key bytes. Raises ValueError for anything else."""
    if not secret.startswith(SECRET_PREFIX):
        raise ValueError(f"signing secrets start with '{SECRET_PREFIX}'")
    try:
        key = base64.b64decode(secret[len(SECRET_PREFIX) :], validate=True)
    except binascii.Error as error:
        raise ValueError("signing secret is not valid base64 after 'whsec_'") from error
    if len(key) < 16:
        raise ValueError("signing secret is shorter than 16 bytes")
    return key


def sign(key: bytes, webhook_id: str, timestamp: int, body: bytes) -> str:
    """Return the `webhook-signature` header value (`v1,<base64>`) for `body`."""
    signed = f"{webhook_id}.{timestamp}.".encode() + body
    digest = hmac.new(key, signed, hashlib.sha256).digest()
    return f"{SIGNATURE_VERSION},{base64.b64encode(digest).decode()}"


def _signatures(header: str) -> list[bytes]:
    """The decoded `v1,<base64>` entries of a signature header; anything malformed is ignored."""
    if len(header) > MAX_SIGNATURE_HEADER_LENGTH or not header.isascii():
        return []
    candidates = []
    for part in header.split(" "):
        version, _, encoded = part.partition(",")
        if version != SIGNATURE_VERSION or not encoded:
            continue
        try:
            candidates.append(base64.b64decode(encoded, validate=True))
        except (binascii.Error, ValueError):
            continue
    return candidates


SVIX_HEADERS = {ID_HEADER: "svix-id", TIMESTAMP_HEADER: "svix-timestamp", SIGNATURE_HEADER: "svix-signature"}


def with_svix_aliases(headers: Mapping[str, str]) -> Mapping[str, str]:
    """Headers (lower-cased) where Svix's `svix-id`/`svix-timestamp`/`svix-signature` stand in for the
    Standard Webhooks names when none of those is present (Svix signs the same way under its own names).
    """
    if any(name in headers for name in SVIX_HEADERS):
        return headers
    aliased = dict(headers)
    for name, svix_name in SVIX_HEADERS.items():
        if svix_name in headers:
            aliased[name] = headers[svix_name]
    return aliased


# Whether a signature matched an active key during this request (set by `verify` and by the providers'
# `common.any_match`; reset by the validator before each request). The validator keeps a refused delivery
# in the quarantine only when this is true: a refusal before or without a matching signature is an
# unauthenticated request, and keeping those would let anyone fill the quarantine. Lambda runs one
# request at a time per process; a ContextVar keeps that true under threads too.
_SIGNATURE_MATCHED: contextvars.ContextVar[bool] = contextvars.ContextVar("signature_matched", default=False)


def reset_signature_matched() -> None:
    _SIGNATURE_MATCHED.set(False)


def note_signature_matched() -> None:
    _SIGNATURE_MATCHED.set(True)


def signature_matched() -> bool:
    return _SIGNATURE_MATCHED.get()


# Signature headers a sender may repeat while it rotates secrets, and how their values are joined into
# the one list each verifier already reads (RFC 9110 §5.3: repeated fields are one comma-joined list;
# Standard Webhooks separates its signatures with spaces). API Gateway's REST proxy event keeps only the
# last value of a repeated header in `headers`, every value in `multiValueHeaders` (FIELD-NOTES).
REPEATABLE_SIGNATURE_HEADERS = {SIGNATURE_HEADER: " ", "svix-signature": " ", "x-mollie-signature": ","}


def request_headers(event: Mapping[str, object]) -> dict[str, str]:
    """The request's headers (lower-case names); a repeated signature header of
    `REPEATABLE_SIGNATURE_HEADERS` carries every value API Gateway delivered, joined, not only the last."""
    headers = lower_case_headers(event.get("headers"))  # type: ignore[arg-type]
    multi = event.get("multiValueHeaders")
    if not isinstance(multi, Mapping):
        return headers
    for name, values in multi.items():
        if not isinstance(name, str) or name.lower() not in REPEATABLE_SIGNATURE_HEADERS:
            continue
        if isinstance(values, list) and len(values) > 1 and all(isinstance(value, str) for value in values):
            headers[name.lower()] = REPEATABLE_SIGNATURE_HEADERS[name.lower()].join(value.strip() for value in values)
    return headers


def lower_case_headers(headers: Mapping[str, str] | None) -> dict[str, str]:
    """HTTP header names are case-insensitive; API Gateway passes them as the client sent them."""
    if not isinstance(headers, Mapping):
        return {}  # not what API Gateway sends; treated as no headers (an unsigned request: 401)
    return {name.lower(): value for name, value in headers.items() if isinstance(name, str) and isinstance(value, str)}


def verify(
    headers: Mapping[str, str],
    body: bytes,
    keys: Iterable[bytes],
    *,
    now: int,
    tolerance_seconds: int,
) -> str:
    """Check the signature headers (already lower-cased) of `body`; return the webhook id.

    Any of `keys` may match (secret rotation), and any of the space-separated `v1,` signatures in the
    header may be the one. Raises `SignatureError` naming what is wrong.
    """
    webhook_id = headers.get(ID_HEADER, "").strip()
    timestamp_text = headers.get(TIMESTAMP_HEADER, "").strip()
    signature_header = headers.get(SIGNATURE_HEADER, "").strip()
    missing = [name for name, value in ((ID_HEADER, webhook_id), (TIMESTAMP_HEADER, timestamp_text),
                                        (SIGNATURE_HEADER, signature_header)) if not value]  # fmt: skip
    if missing:
        raise SignatureError(MISSING_SIGNATURE_HEADERS, f"missing header(s): {', '.join(missing)}")
    if len(webhook_id) > MAX_ID_LENGTH or not webhook_id.isascii() or not webhook_id.isprintable():
        raise SignatureError(
            MALFORMED_WEBHOOK_ID, f"{ID_HEADER} must be at most {MAX_ID_LENGTH} printable ASCII characters"
        )
    # isascii() first: str.isdigit() is also true for '²' and other digits int() refuses.
    if not (timestamp_text.isascii() and timestamp_text.isdigit()) or len(timestamp_text) > 12:
        raise SignatureError(MALFORMED_TIMESTAMP, f"{TIMESTAMP_HEADER} must be integer seconds since the epoch")
    timestamp = int(timestamp_text)
    candidates = _signatures(signature_header)
    if not candidates:
        raise SignatureError(
            MALFORMED_SIGNATURE, f"{SIGNATURE_HEADER} holds no '{SIGNATURE_VERSION},<base64>' signature"
        )
    try:
        signed = f"{webhook_id}.{timestamp_text}.".encode() + body
    except UnicodeEncodeError:  # a lone surrogate in the id header
        raise SignatureError(MALFORMED_SIGNATURE_HEADERS, f"{ID_HEADER} is not valid text") from None
    matched = False
    for key in keys:
        expected = hmac.new(key, signed, hashlib.sha256).digest()
        for candidate in candidates:
            # Evaluate every pair: no early exit that would tell an attacker which key matched.
            matched |= hmac.compare_digest(expected, candidate)
    if not matched:
        raise SignatureError(INVALID_SIGNATURE, "no signature matches an active signing secret")
    # Freshness after the signature (errors.py, "Order of checks"): a forged timestamp is an invalid
    # signature, not a stale one, as for every provider (providers/common.py).
    if timestamp < now - tolerance_seconds:
        raise SignatureError(TIMESTAMP_TOO_OLD, f"{TIMESTAMP_HEADER} is more than {tolerance_seconds} s in the past")
    if timestamp > now + tolerance_seconds:
        raise SignatureError(
            TIMESTAMP_IN_FUTURE, f"{TIMESTAMP_HEADER} is more than {tolerance_seconds} s in the future"
        )
    note_signature_matched()
    return webhook_id
