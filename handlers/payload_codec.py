"""The stored payload: compressed when that saves space, always self-describing, read by one function.

A 2 KB JSON delivery compresses to about 0.4 with plain zlib (tests/fixtures/providers: 0.25-0.55) and
to about 0.3 with a preset dictionary of the providers' own vocabulary, which takes a stored 2 KB event
from 2 DynamoDB write units to 1 and the table's storage and PITR by the same factor (docs/PERFORMANCE.md,
"Cost"). The item says how its payload is stored:

- `payload` (S): the exact signed text (items written before compression, and payloads too small to gain);
- `payload_encoding` (S) = `zlib` and `payload_z` (B): the UTF-8 text, zlib-compressed (RFC 1950); items
  written before issue 20, still read;
- `payload_encoding` (S) = `zlib-dict-1` and `payload_z` (B): the same with the preset dictionary
  `payload-dictionary-1.bin` (RFC 1950 FDICT; its Adler-32 is in every stream's header). Written now.

A dictionary can never change once an item uses it: a new one is a new file and a new name
(`zlib-dict-2`), and this module keeps reading every name it ever wrote. The file's SHA-256 is checked at
import, so a changed file stops the function at its cold start instead of storing unreadable items.
`benchmarks/payload_dictionary.py` builds the file reproducibly (`--check` in the suite).

Every reader (the router, replay, redrive, trace, the quarantine) goes through `stored_payload`, which
reads every form; the routed message still carries the exact signed text.
"""

from __future__ import annotations

import base64
import hashlib
import zlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

ZLIB = "zlib"
ZLIB_DICT_1 = "zlib-dict-1"
WRITTEN = ZLIB_DICT_1  # the codec new items use
DICTIONARY_PATH = Path(__file__).with_name("payload-dictionary-1.bin")
# The one dictionary `zlib-dict-1` names: fixed forever (items stored with it are read with it).
DICTIONARY_SHA256 = "54f6611ceafefca386fb9ef132eea8b05e2775fb5033c63833eb4f993fc51497"
# Below this, compression rarely saves a write unit and costs CPU.
COMPRESS_FROM_BYTES = 256
# Plain zlib (items before issue 20, and `payload_attributes(codec=ZLIB)`): a 4 KB window and little
# state, about a quarter of `zlib.compress`'s CPU on a 2 KB body for the same output size.
_WINDOW_BITS = 12
_MEMORY_LEVEL = 4
_LEVEL = 6
# With the dictionary the window must reach back over it: 32 KiB, the largest deflate has. Memory level
# 6 keeps every buffer of a copied compressor under glibc's 128 KiB mmap threshold: at 8 its 128 KiB
# hash head is mapped and faulted in afresh on every copy (measured ~110 us instead of ~40 us on a 2 KB
# payload in a fresh process), for the same output size on the provider samples.
_DICT_WINDOW_BITS = 15
_DICT_MEMORY_LEVEL = 6
# Nothing larger was ever stored: the door admits 100 KiB bodies, and an item is at most 400 KB.
MAX_PAYLOAD_BYTES = 400 * 1024


class StoredPayloadError(ValueError):
    """The item's payload cannot be read (unknown encoding, corrupt or oversized data)."""


def _load_dictionary() -> bytes:
    data = DICTIONARY_PATH.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if digest != DICTIONARY_SHA256:
        raise RuntimeError(
            f"{DICTIONARY_PATH.name} has sha256 {digest}, not the {DICTIONARY_SHA256} {ZLIB_DICT_1} names"
        )
    return data


DICTIONARY = _load_dictionary()
# Priming a compressor hashes the whole dictionary; a primed one is copied per payload instead.
_PRIMED = zlib.compressobj(_LEVEL, zlib.DEFLATED, _DICT_WINDOW_BITS, _DICT_MEMORY_LEVEL, zdict=DICTIONARY)


def _compress(raw: bytes, codec: str) -> bytes:
    if codec == ZLIB_DICT_1:
        compressor = _PRIMED.copy()
    elif codec == ZLIB:
        compressor = zlib.compressobj(_LEVEL, zlib.DEFLATED, _WINDOW_BITS, _MEMORY_LEVEL)
    else:
        raise ValueError(f"unknown codec {codec!r}")
    return compressor.compress(raw) + compressor.flush()


def payload_attributes(text: str, codec: str = WRITTEN) -> dict[str, dict[str, Any]]:
    """The item attributes (DynamoDB low-level values) that store `text` (`codec`: which compressed form,
    when compressing saves space; the default is what the validator writes)."""
    raw = text.encode("utf-8")
    if len(raw) >= COMPRESS_FROM_BYTES:
        packed = _compress(raw, codec)
        if len(packed) < len(raw):
            return {"payload_z": {"B": packed}, "payload_encoding": {"S": codec}}
    return {"payload": {"S": text}}


def stored_payload(item: Mapping[str, Any]) -> str | None:
    """The exact signed text of a stored item, in any form ever written; None when the item holds no payload.

    `item` holds DynamoDB low-level values, as boto3 returns them (`{"B": bytes}`) or as a Lambda
    stream event carries them (`{"B": "<base64>"}`). Raises `StoredPayloadError`.
    """
    text = item.get("payload")
    if isinstance(text, dict) and isinstance(text.get("S"), str):
        return text["S"]
    encoding = item.get("payload_encoding")
    if encoding is None:
        return None
    if encoding == {"S": ZLIB}:
        inflater = zlib.decompressobj()
    elif encoding == {"S": ZLIB_DICT_1}:
        inflater = zlib.decompressobj(_DICT_WINDOW_BITS, zdict=DICTIONARY)
    else:
        raise StoredPayloadError(f"unknown payload_encoding {encoding!r}")
    data = (item.get("payload_z") or {}).get("B")
    if isinstance(data, str):
        data = base64.b64decode(data, validate=True)
    if not isinstance(data, bytes | bytearray):
        raise StoredPayloadError(f"payload_encoding is {encoding['S']} but payload_z holds no binary value")
    try:
        raw = inflater.decompress(data, MAX_PAYLOAD_BYTES + 1)
        if len(raw) > MAX_PAYLOAD_BYTES or not inflater.eof:
            raise StoredPayloadError("payload_z is truncated or larger than any stored payload")
        return raw.decode("utf-8")
    except (zlib.error, UnicodeDecodeError) as error:
        raise StoredPayloadError(f"payload_z cannot be read: {error}") from None
