"""No 5xx for verified input, and every 2xx delivered: hypothesis over every node of every provider sample.

Each example takes one sample of tests/fixtures/providers/, replaces the value at one path (any leaf or
container) with another type or an extreme value (None, booleans, huge integers, floats, empty and huge
strings, lists, objects, control characters, lone surrogates), signs the result the way the provider
signs (the same signers as test_sources.py), and posts it through `validator.handler`. The answer must
be 2xx or 4xx; after a 2xx, the router must deliver every newly stored event (routed, or parked with its
reason) through the SQS stand-in, with no batch item failure. Braintree's XML is fuzzed the same way at
element level, plus the encoding its XML declaration names.
"""

from __future__ import annotations

import base64
import json
import os
import urllib.parse
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.handlers.helpers import FakeContext, stream_records
from tests.handlers.providers.signing_b import braintree_signature
from tests.handlers.sqs_stand_in import enforce_on
from tests.handlers.test_sources import (
    BRAINTREE_PUBLIC_KEY,
    SAMPLES,
    SOURCES,
    api_event,
    call,
    configure,  # noqa: F401 - the pytest fixture, used by name
    fixture_bytes,
    sign,
)

JSON_SAMPLES = [sample for sample in SAMPLES if not sample.path.startswith("braintree/")]
VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**80), max_value=2**80),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=40),
    st.sampled_from(["", "x" * 3000, "\x00", "\ud800", "1e400", "-0", "0012", "10.999", "１２３", "2024-02-30T25:61:00Z",
                     "EUR:1", "a:b", "evt_1", " ", "é" * 50]),
    st.lists(st.one_of(st.text(max_size=5), st.integers()), max_size=3),
    st.dictionaries(st.text(max_size=5), st.one_of(st.text(max_size=5), st.integers()), max_size=3),
)  # fmt: skip
SETTINGS = settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "25")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    paths = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, child in value.items():
            paths += _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            paths += _paths(child, (*prefix, index))
    return paths


def _replaced(document: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    copy = json.loads(json.dumps(document))
    target = copy
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return copy


def _delivered_after(router: Any, before: int) -> None:
    """Every record stored since `before` is sent by the router (a queue or unrouted-events), none failed."""
    records = stream_records()[before:]
    sent = enforce_on(router)
    assert router.handler({"Records": records}, FakeContext()) == {"batchItemFailures": []}
    assert len(sent) == sum(1 for r in records if r["eventName"] == "INSERT")


def _check(validator: Any, router: Any, name: str, body: bytes, headers: dict[str, str]) -> None:
    before = len(stream_records())
    status, answer = call(validator, api_event(name, body, headers))
    assert status < 500, (status, answer)
    if 200 <= status < 300:
        _delivered_after(router, before)


@pytest.fixture
def pipeline_pair(configure: Any) -> tuple[Any, Any]:  # noqa: F811
    return configure()


@SETTINGS
@given(data=st.data())
@pytest.mark.parametrize("sample", JSON_SAMPLES, ids=[s.path for s in JSON_SAMPLES])
def test_any_node_of_a_signed_sample_gives_2xx_delivered_or_4xx(
    pipeline_pair: tuple[Any, Any], sample: Any, data: st.DataObject
) -> None:
    validator, router = pipeline_pair
    document = json.loads(fixture_bytes(sample.path))
    path = data.draw(st.sampled_from(_paths(document)), label="path")
    mutated = _replaced(document, path, data.draw(VALUES, label="value"))
    raw = json.dumps(mutated).encode()
    if SOURCES[sample.source].provider == "adyen":
        body, headers = _adyen_signed(mutated), {}
    else:
        body, headers = sign(sample.source, raw)
    _check(validator, router, sample.source, body, headers)


def _adyen_signed(document: Any) -> bytes:
    """Each item's hmacSignature computed over its (fuzzed) values the way Adyen signs, where they can be
    signed at all (strings and integers); anything else is left as it is (and must be a 4xx)."""
    import base64 as b64
    import hashlib
    import hmac

    import providers

    adyen = providers.load("adyen")
    key = bytes.fromhex(SOURCES["adyen"].secret)
    entries = document.get("notificationItems") if isinstance(document, dict) else None
    for entry in entries if isinstance(entries, list) else []:
        item = entry.get("NotificationRequestItem") if isinstance(entry, dict) else None
        if not isinstance(item, dict):
            continue
        try:
            signed = adyen.signing_string(item).encode()
        except (adyen.SignatureError, UnicodeEncodeError):  # no sender can sign these: left unsigned
            continue
        signature = b64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
        if not isinstance(item.get("additionalData"), dict):
            item["additionalData"] = {}
        item["additionalData"]["hmacSignature"] = signature
    return json.dumps(document).encode()


ENCODINGS = st.sampled_from([None, "UTF-8", "utf-16", "ISO-8859-1", "cp500", "x-unknown", "US-ASCII"])


@SETTINGS
@given(data=st.data())
@pytest.mark.parametrize("path", ["braintree/transaction_settled.json", "braintree/dispute_opened.json"])
def test_any_element_of_a_signed_braintree_notification_gives_2xx_delivered_or_4xx(
    pipeline_pair: tuple[Any, Any], path: str, data: st.DataObject
) -> None:
    from xml.etree import ElementTree

    validator, router = pipeline_pair
    xml = json.loads(fixture_bytes(path))["decoded_payload_xml"]
    root = ElementTree.fromstring(xml)
    elements = list(root.iter())
    element = data.draw(st.sampled_from(elements), label="element")
    text = data.draw(st.one_of(st.text(max_size=40), st.sampled_from(["", "x" * 3000, "1e400", "-0", "a:b", "１２３"])))
    element.text = "".join(c for c in text if c in "\t\n\r" or (" " <= c <= "\ud7ff") or ("\ue000" <= c <= "\ufffd"))
    encoding = data.draw(ENCODINGS, label="encoding")
    document = ElementTree.tostring(root, encoding="unicode")
    if encoding is None:
        payload_bytes = document.encode()
    else:
        declaration = f'<?xml version="1.0" encoding="{encoding}"?>\n'
        try:
            payload_bytes = (declaration + document).encode(encoding)
        except (LookupError, UnicodeEncodeError):
            payload_bytes = (declaration + document).encode()
    payload = base64.encodebytes(payload_bytes).decode()
    form = {"bt_signature": braintree_signature(payload, BRAINTREE_PUBLIC_KEY, SOURCES["braintree"].secret),
            "bt_payload": payload}  # fmt: skip
    body = urllib.parse.urlencode(form).encode()
    _check(validator, router, "braintree", body, {"Content-Type": "application/x-www-form-urlencoded"})


def test_a_signed_square_body_with_a_list_for_data_type_is_not_a_500(pipeline_pair: tuple[Any, Any]) -> None:
    """Found by the property above: `data.type` `[]` made `in frozenset` raise (unhashable) -> 500."""
    validator, router = pipeline_pair
    document = json.loads(fixture_bytes("square/dispute.created.json"))
    document["data"]["type"] = []
    body, headers = sign("square", json.dumps(document).encode())
    _check(validator, router, "square", body, headers)
