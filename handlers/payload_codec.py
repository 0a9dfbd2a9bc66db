"""The stored payload: compressed when that saves space, always self-describing, read by one function.

A 2 KB JSON delivery compresses to about a third (tests/fixtures/providers: 0.25-0.55), which takes a
stored event from 3 DynamoDB write units to 1-2 and the table's storage and PITR by the same factor
(docs/PERFORMANCE.md, "Cost"). The item says how its payload is stored:

- `payload` (S): the exact signed text (items written before compression, and payloads too small to gain);
- `payload_encoding` (S) = `zlib` and `payload_z` (B): the UTF-8 text, zlib-compressed (RFC 1950).

Every reader (the router, replay, redrive, trace, the quarantine) goes through `stored_payload`, which
reads either form; the routed message still carries the exact signed text.
"""

from __future__ import annotations

import base64
import zlib
from collections.abc import Mapping
from typing import Any

ZLIB = "zlib"
# Below this, compression rarely saves a write unit and costs CPU.
COMPRESS_FROM_BYTES = 256
# A 4 KB window and little state: about a quarter of `zlib.compress`'s CPU on a 2 KB body (most of
# which is allocating the default 256 KB of state), for the same output size on webhook bodies.
_WINDOW_BITS = 12
_MEMORY_LEVEL = 4
_LEVEL = 6
# Nothing larger was ever stored: the door admits 100 KiB bodies, and an item is at most 400 KB.
MAX_PAYLOAD_BYTES = 400 * 1024


class StoredPayloadError(ValueError):
    """The item's payload cannot be read (unknown encoding, corrupt or oversized data)."""


def payload_attributes(text: str) -> dict[str, dict[str, Any]]:
    """The item attributes (DynamoDB low-level values) that store `text`."""
    raw = text.encode("utf-8")
    if len(raw) >= COMPRESS_FROM_BYTES:
        compressor = zlib.compressobj(_LEVEL, zlib.DEFLATED, _WINDOW_BITS, _MEMORY_LEVEL)
        packed = compressor.compress(raw) + compressor.flush()
        if len(packed) < len(raw):
            return {"payload_z": {"B": packed}, "payload_encoding": {"S": ZLIB}}
    return {"payload": {"S": text}}


def stored_payload(item: Mapping[str, Any]) -> str | None:
    """The exact signed text of a stored item, in either form; None when the item holds no payload.

    `item` holds DynamoDB low-level values, as boto3 returns them (`{"B": bytes}`) or as a Lambda
    stream event carries them (`{"B": "<base64>"}`). Raises `StoredPayloadError`.
    """
    text = item.get("payload")
    if isinstance(text, dict) and isinstance(text.get("S"), str):
        return text["S"]
    encoding = item.get("payload_encoding")
    if encoding is None:
        return None
    if encoding != {"S": ZLIB}:
        raise StoredPayloadError(f"unknown payload_encoding {encoding!r}")
    data = (item.get("payload_z") or {}).get("B")
    if isinstance(data, str):
        data = base64.b64decode(data, validate=True)
    if not isinstance(data, bytes | bytearray):
        raise StoredPayloadError("payload_encoding is zlib but payload_z holds no binary value")
    try:
        inflater = zlib.decompressobj()
        raw = inflater.decompress(data, MAX_PAYLOAD_BYTES + 1)
        if len(raw) > MAX_PAYLOAD_BYTES or not inflater.eof:
            raise StoredPayloadError("payload_z is truncated or larger than any stored payload")
        return raw.decode("utf-8")
    except (zlib.error, UnicodeDecodeError) as error:
        raise StoredPayloadError(f"payload_z cannot be read: {error}") from None
