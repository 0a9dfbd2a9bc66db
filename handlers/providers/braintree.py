"""Braintree webhooks: a form post `bt_signature=...&bt_payload=...`, verified as Braintree's SDKs do.

`bt_payload` is base64 of the notification XML; `bt_signature` holds `public_key|hex HMAC-SHA1` pairs
separated by `&`. The HMAC is keyed with SHA-1 of the private key and computed over `bt_payload` exactly
as received (the SDKs also accept it computed over `bt_payload + "\\n"`: so does this module). Only the
pairs whose public key is the source's `public_key` option count; every such pair is compared with
every configured private key, in constant time.

The XML is parsed only after verification, with the stdlib parser refusing any DOCTYPE: no DTD, so no
entity declarations (billion laughs, quadratic blowup) and no external entities.

Event id: `<kind>:<subject id>:<epoch seconds of timestamp>`, the subject id being the `<id>` of the
subject's entity (`-` when it has none, e.g. the `check` kind). Braintree does not send an event id and
its `timestamp` is the notification's own time, so a retried delivery of the same notification yields
the same id; two notifications of one kind for one subject in the same second would collide (accepted:
the second is a duplicate in all but its time). There is no signed timestamp beyond the payload's
`timestamp`, which is signed but not checked for freshness (Braintree retries failed deliveries for hours):
deduplication on the event id is the replay defence.

Money facts (`FACTS`; docs/providers/braintree.md links each row), amounts in major units as written:
- a payment by `transaction_settled` of a `sale` (Braintree sends it for ACH / US bank account
  transactions, whose money moves at settlement), or by `subscription_charged_successfully` (its
  `transactions/transaction`: the charge of this cycle) unless that transaction is a US bank account
  one (then `transaction_settled` carries it later; the charge is `pending`);
- a refund by `transaction_settled` of a `credit` (parent: `refunded-transaction-id`);
- a dispute by `dispute_opened` (`amount-disputed`; a `retrieval` is an inquiry: `pending`, for every
  kind), `dispute_won` and `dispute_lost`; `dispute_accepted`, `dispute_auto_accepted` and
  `dispute_expired` end a dispute as lost but are known `other` facts (lost moves no money, so the
  ledger is the same whichever Braintree sends, and `dispute_lost` alone is the money fact).
Declined settlements, failed refunds and subscription charges, reviews, disbursements and subscription
bookkeeping are known facts that move no money. Braintree sends no version: `object_version` is the
notification's `timestamp` in microseconds.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import urllib.parse
import xml.etree.ElementTree as ElementTree
from collections.abc import Mapping, Sequence
from typing import Any

import money
from errors import (
    INVALID_SIGNATURE,
    MALFORMED_FORM,
    MALFORMED_PAYLOAD,
    MISSING_SIGNATURE,
    NOT_CONFIGURED,
    NOT_PROVIDER_SHAPE,
    UNKNOWN_PUBLIC_KEY,
    XML_DOCTYPE,
)
from providers import ProviderEvent, WebhookRequest, common, spec
from providers.facts import microseconds
from webhook_event import InvalidEventError
from webhook_signature import SignatureError

EXPONENT_OVERRIDES: Mapping[str, int] = money.provider_exponents("braintree")  # provider_exponents/braintree.json

_PRIVATE_KEY = re.compile(r"[\x21-\x7e]{1,256}")  # printable ASCII, no spaces (the SDK encodes it as ASCII)
_PAYLOAD = re.compile(rb"[A-Za-z0-9+=/\n]+")  # the SDK's own check before verifying
_HEX_SHA1 = re.compile(r"[0-9a-fA-F]{40}")
_MAX_FIELDS = 8
# kind -> (transaction_type, outcome) (https://developer.paypal.com/braintree/docs/reference/general/webhooks/);
# the `transaction_*` rows are for a `sale`: a `credit` (a refund) is the `refund` row of `_CREDIT`.
FACTS: Mapping[str, tuple[str, str]] = {
    "transaction_settled": ("payment", "succeeded"),
    "transaction_settlement_declined": ("payment", "failed"),
    "transaction_disbursed": ("other", "succeeded"),  # the payout of a settled transaction
    "transaction_reviewed": ("payment", "pending"),
    "refund_failed": ("refund", "failed"),
    "subscription_charged_successfully": ("payment", "succeeded"),
    "subscription_charged_unsuccessfully": ("payment", "failed"),
    "subscription_went_active": ("other", "pending"),
    "subscription_went_past_due": ("other", "pending"),
    "subscription_trial_ended": ("other", "pending"),
    "subscription_billing_skipped": ("other", "pending"),
    "subscription_canceled": ("other", "canceled"),
    "subscription_expired": ("other", "canceled"),
    "dispute_opened": ("dispute", "opened"),
    "dispute_under_review": ("dispute", "pending"),
    "dispute_disputed": ("dispute", "pending"),
    "dispute_won": ("dispute", "won"),
    "dispute_lost": ("dispute", "lost"),
    "dispute_accepted": ("other", "lost"),
    "dispute_auto_accepted": ("other", "lost"),
    "dispute_expired": ("other", "lost"),
    "disbursement": ("other", "succeeded"),
    "disbursement_exception": ("other", "failed"),
}
_CREDIT: Mapping[str, tuple[str, str]] = {
    "transaction_settled": ("refund", "succeeded"),
    "transaction_settlement_declined": ("refund", "failed"),
}
DEFAULT_MAPPING: Mapping[str, str] = {kind: fact[0] for kind, fact in FACTS.items()}


def parse_secret(text: str, options: Mapping[str, Any]) -> bytes:
    """The private key -> the HMAC key Braintree uses (SHA-1 of the private key). Raises ValueError."""
    if not _PRIVATE_KEY.fullmatch(text):
        raise ValueError("a Braintree private key is printable ASCII without spaces")
    common.strong_enough(text, rule="a Braintree private key is 16 or more generated characters (32 hex digits)")
    return hashlib.sha1(text.encode("ascii")).digest()  # noqa: S324 - Braintree's scheme, not our choice


def sign(key: bytes, public_key: str, payload: str) -> str:
    """The `bt_signature` value Braintree sends for `payload` (`key` from `parse_secret`)."""
    return f"{public_key}|{hmac.new(key, payload.encode('ascii'), hashlib.sha1).hexdigest()}"


def _form(body: bytes) -> tuple[str, bytes]:
    """(`bt_signature`, `bt_payload`) of the form body. The signature travels in the body, so a body
    without them is unsigned (401)."""
    try:
        text = body.decode("ascii")
        fields = urllib.parse.parse_qsl(text, keep_blank_values=True, max_num_fields=_MAX_FIELDS)
    except (UnicodeDecodeError, ValueError):
        raise SignatureError(MALFORMED_FORM, "body is not a form with bt_signature and bt_payload") from None
    values: dict[str, list[str]] = {}
    for name, value in fields:
        values.setdefault(name, []).append(value)
    signature, payload = values.get("bt_signature", []), values.get("bt_payload", [])
    if len(signature) != 1 or len(payload) != 1 or not signature[0] or not payload[0]:
        raise SignatureError(MISSING_SIGNATURE, "the form needs exactly one bt_signature and one bt_payload")
    try:
        payload_bytes = payload[0].encode("ascii")
    except UnicodeEncodeError:
        raise SignatureError(MALFORMED_PAYLOAD, "bt_payload holds characters outside base64") from None
    if not _PAYLOAD.fullmatch(payload_bytes):
        raise SignatureError(MALFORMED_PAYLOAD, "bt_payload holds characters outside base64")
    return signature[0], payload_bytes


def verify(body: bytes, keys: Sequence[bytes], public_key: str) -> bytes:
    """Check the form's signature; return the verified `bt_payload` bytes. Raises `SignatureError`."""
    signature, payload = _form(body)
    candidates = []
    for pair in signature.split("&"):
        name, separator, digest = pair.partition("|")
        if separator and name == public_key and _HEX_SHA1.fullmatch(digest):
            candidates.append(bytes.fromhex(digest))
    if not candidates:
        raise SignatureError(UNKNOWN_PUBLIC_KEY, "bt_signature holds no signature for the configured public key")
    # Both messages are always compared (`|`, not `or`): the time taken does not tell which one matched.
    as_received = common.any_match(keys, payload, candidates, hashlib.sha1)
    with_newline = common.any_match(keys, payload + b"\n", candidates, hashlib.sha1)
    if not (as_received | with_newline):
        raise SignatureError(INVALID_SIGNATURE, "no signature matches an active private key")
    return payload


class _NoDoctype(ElementTree.TreeBuilder):
    """A tree builder that refuses any DOCTYPE (so any DTD, entity declaration or external entity)."""

    def doctype(self, name: str, pubid: str, system: str) -> None:
        raise InvalidEventError(XML_DOCTYPE, "the notification XML holds a DOCTYPE, which is refused", "bt_payload")


def _parse_xml(payload: bytes) -> ElementTree.Element:
    try:
        document = base64.b64decode(payload.replace(b"\n", b""), validate=True)
    except (binascii.Error, ValueError):
        raise InvalidEventError(MALFORMED_PAYLOAD, "bt_payload is not base64", "bt_payload") from None
    # Verified payload, and the builder refuses any DOCTYPE (see _NoDoctype): defusedxml is not available.
    parser = ElementTree.XMLParser(target=_NoDoctype())  # noqa: S314
    try:
        parser.feed(document)
        return parser.close()
    # LookupError: an unknown encoding in the XML declaration; ValueError (UnicodeError among them): an
    # encoding Python knows but cannot decode the bytes with, or will not hand to expat (UTF-7, UTF-32, idna).
    except (ElementTree.ParseError, LookupError, ValueError):
        raise InvalidEventError(MALFORMED_PAYLOAD, "bt_payload is not well-formed XML", "bt_payload") from None


def receive(
    request: WebhookRequest, keys: Sequence[bytes], options: Mapping[str, Any], now: int
) -> list[ProviderEvent]:
    """Verify the form, then read the one notification it carries."""
    public_key = options.get("public_key")
    if not isinstance(public_key, str) or not public_key:
        raise SignatureError(NOT_CONFIGURED, "the source has no public_key option")
    payload = verify(request.body, keys, public_key)
    root = _parse_xml(payload)
    if root.tag != "notification":
        raise InvalidEventError(NOT_PROVIDER_SHAPE, "the XML root must be <notification>", "bt_payload")
    kind = common.event_type(_text(root, "kind"), "notification.kind")
    timestamp = common.iso_timestamp(_text(root, "timestamp"), "notification.timestamp")
    subject = root.find("subject")
    entity = subject[0] if subject is not None and len(subject) else None
    subject_id = _text(entity, "id") if entity is not None else None
    # kind, subject id, whole seconds joined with `:`: each part free of `:` (common.id_part), and a subject
    # id has a letter or digit, so the `-` of "no subject" is never someone's id.
    subject_part = "-" if subject_id is None else common.id_part(subject_id, "notification.subject.id")
    provider_event_id = common.event_id(
        f"{common.id_part(kind, 'notification.kind')}:{subject_part}:{int(timestamp.timestamp())}",
        "notification.subject.id",
    )
    transaction_type, outcome, money_entity = _fact(kind, entity)
    amount_text = _text(money_entity, "amount-disputed") or _text(money_entity, "amount")
    currency_text = _text(money_entity, "currency-iso-code") or _text(entity, "currency-iso-code")
    amount = common.major_amount(amount_text, "notification.subject.amount") if amount_text is not None else None
    code = (
        common.currency(currency_text, "notification.subject.currency-iso-code") if currency_text is not None else None
    )
    object_id = _text(money_entity, "id") or subject_id
    parent = _text(entity, "refunded-transaction-id") if transaction_type == "refund" else None
    if entity is not None and entity.tag == "dispute":
        parent = _text(entity.find("transaction"), "id")
    return [
        ProviderEvent(
            provider_event_id=provider_event_id,
            provider_event_type=kind,
            timestamp=timestamp,
            # The exact signed text: the form body as posted (the XML is its bt_payload, base64).
            payload=request.text,
            amount=amount,
            amount_unit="major" if amount is not None else None,
            currency=code,
            content=payload.decode("ascii"),  # bt_payload: the form without bt_signature
            fields={"transaction_type": transaction_type},
            outcome=outcome,
            object_id=object_id,
            parent_object_id=parent,
            object_version=microseconds(timestamp),
        )
    ]


def _fact(kind: str, entity: ElementTree.Element | None) -> tuple[str, str | None, ElementTree.Element | None]:
    """(transaction_type, outcome, the element holding this fact's amount) of one notification."""
    fact = FACTS.get(kind)
    if fact is None:
        return "other", None, entity
    transaction_type, outcome = fact
    if entity is None:
        return transaction_type, outcome, None
    if entity.tag == "transaction" and _text(entity, "type") == "credit" and kind in _CREDIT:
        return (*_CREDIT[kind], entity)
    if entity.tag == "subscription":
        charge = entity.find("transactions/transaction")  # this cycle's charge, the first listed
        if kind == "subscription_charged_successfully" and _text(charge, "payment-instrument-type") == (
            "us_bank_account"
        ):
            return "payment", "pending", charge  # money moves at settlement: transaction_settled
        return transaction_type, outcome, charge
    if entity.tag == "dispute" and _text(entity, "kind") == "retrieval" and transaction_type == "dispute":
        return "dispute", "pending", entity  # an inquiry: nothing withdrawn, nothing reinstated
    return transaction_type, outcome, entity


def _text(element: ElementTree.Element | None, tag: str) -> str | None:
    """Text of a direct child, stripped; None when absent or empty."""
    child = element.find(tag) if element is not None else None
    text = (child.text or "").strip() if child is not None else ""
    return text or None


def default_transaction_type(event: ProviderEvent) -> str:
    """The type `receive` found in `FACTS` (`fields["transaction_type"]`); an unknown kind is `other`."""
    return event.fields.get("transaction_type", "other")


# Everything about braintree that is data (handlers/providers/spec.py; docs/providers/README.md).
SPEC = spec.ProviderSpec(
    provider_id="braintree",
    signature_header=None,
    secret_format="the private key of the API key pair whose public key is the source's public_key option",  # noqa: S106
    secret_help="the API key pair's private key (Settings → API → API keys); the public key is the source's "  # noqa: S106
    "`public_key` option",
    signer="sign_braintree",
    secret_shape="hex32",  # noqa: S106
    exponent_overrides=EXPONENT_OVERRIDES,
    options={"public_key": spec.non_empty_text},
    required_options=("public_key",),
    signed_in_body=True,
    default_mapping=DEFAULT_MAPPING,
    facts=FACTS,
)
