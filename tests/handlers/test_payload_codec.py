"""The stored payload's two forms (handlers/payload_codec.py): every text round-trips exactly."""

from __future__ import annotations

import base64
import json
import zlib
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "providers"
# Text SQS can carry (the door admits nothing else): no surrogates.
legal_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=3000)


@given(legal_text)
def test_every_text_comes_back_exactly_from_either_form(text: str) -> None:
    import payload_codec

    item = payload_codec.payload_attributes(text)
    assert payload_codec.stored_payload(item) == text
    if "payload_z" in item:  # as a Lambda stream event carries a binary attribute
        as_stream = {**item, "payload_z": {"B": base64.b64encode(item["payload_z"]["B"]).decode()}}
        assert payload_codec.stored_payload(as_stream) == text
        assert len(item["payload_z"]["B"]) < len(text.encode())


@pytest.mark.parametrize("path", sorted(FIXTURES.glob("*/*.json")), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_provider_deliveries_are_stored_compressed_and_smaller(path: Path) -> None:
    import payload_codec

    text = path.read_text(encoding="utf-8")
    item = payload_codec.payload_attributes(text)
    if len(text.encode()) >= 512:
        assert item["payload_encoding"] == {"S": "zlib"}
        assert len(item["payload_z"]["B"]) <= 0.6 * len(text.encode())
    assert payload_codec.stored_payload(item) == text
    json.loads(payload_codec.stored_payload(item))


def test_items_written_before_compression_stay_readable() -> None:
    import payload_codec

    assert payload_codec.stored_payload({"payload": {"S": '{"a": 1}'}}) == '{"a": 1}'
    assert payload_codec.stored_payload({"event_id": {"S": "x"}}) is None


@pytest.mark.parametrize(
    "item",
    [
        {"payload_encoding": {"S": "brotli"}, "payload_z": {"B": b"x"}},
        {"payload_encoding": {"S": "zlib"}},
        {"payload_encoding": {"S": "zlib"}, "payload_z": {"B": b"not zlib"}},
        {"payload_encoding": {"S": "zlib"}, "payload_z": {"B": zlib.compress(b"\xff\xfe")}},
        {"payload_encoding": {"S": "zlib"}, "payload_z": {"B": zlib.compress(b"a" * (401 * 1024))}},
        {"payload_encoding": {"S": "zlib"}, "payload_z": {"B": zlib.compress(b"abc" * 200)[:-4]}},
    ],
    ids=["unknown-encoding", "missing-data", "not-zlib", "not-utf8", "too-large", "truncated"],
)
def test_unreadable_payloads_are_an_error_never_a_wrong_text(item: dict) -> None:
    import payload_codec

    with pytest.raises(payload_codec.StoredPayloadError):
        payload_codec.stored_payload(item)
