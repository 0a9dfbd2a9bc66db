"""The stored event's size in DynamoDB: one model for what an item costs (`pipeline_tools cost`) and for how
many events a second the table takes (`pipeline_tools capacity`, the synth's shard estimate).

An item is its payload, compressed when that saves space (handlers/payload_codec.py), plus the other
attributes. How well a payload compresses and how large the other attributes are is measured on held-out
provider samples of 1-4 KB (benchmarks/payload_dictionary.py `held_out`, never seen by the dictionary
builder; `python -m benchmarks.payload_dictionary --measure`), not assumed: per sample, the codec's
stored/payload byte ratio and the item's other attributes in bytes, codec name and `payload_z` included
(braintree/transaction_settled, checkout/payment_captured, square/payment.created,
stripe/payment_intent.succeeded; Paddle's 11 KB sample compresses to 0.25/0.21 and is left out, a ratio of
a body five times the priced one). tests/tools/test_cost_model.py re-measures them through the validator.

DynamoDB bills and throttles writes in write units of 1 KB of item, rounded up per item
(https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/read-write-operations.html).
"""

from __future__ import annotations

import math

DYNAMODB_WRITE_UNIT_BYTES = 1_024
# Storage (not write units) bills each item's raw bytes plus a per-item overhead: 100 bytes for an item of a
# table without global secondary indexes or global tables, as the events table is
# (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html; the
# pricing page: "the raw byte size of your data plus a per-item storage overhead").
DYNAMODB_ITEM_STORAGE_OVERHEAD_BYTES = 100
ZLIB, ZLIB_DICT_1 = "zlib", "zlib-dict-1"  # handlers/payload_codec.py codec names
WRITTEN_CODEC = ZLIB_DICT_1  # what the validator writes now (payload_codec.WRITTEN)
STORED_PAYLOAD_SAMPLE_NAMES = (
    "braintree/transaction_settled.json",
    "checkout/payment_captured.json",
    "square/payment.created.json",
    "stripe/payment_intent.succeeded.json",
)
# (ratio, other attribute bytes) per sample of STORED_PAYLOAD_SAMPLE_NAMES, per codec.
STORED_PAYLOAD_SAMPLES: dict[str, tuple[tuple[float, int], ...]] = {
    ZLIB: ((0.491, 418), (0.430, 463), (0.413, 418), (0.349, 409)),
    ZLIB_DICT_1: ((0.334, 425), (0.327, 470), (0.339, 425), (0.226, 416)),
}
# A text payload's item names `payload` (7 B) instead of `payload_encoding` + its value + `payload_z`.
TEXT_FORM_SAVES_BYTES = {ZLIB: 16 + 4 + 9 - 7, ZLIB_DICT_1: 16 + 11 + 9 - 7}
# Attributes besides the payload text in a text-form item: the median of the samples' other bytes, less
# the compressed form's extra names.
TEXT_ITEM_OVERHEAD_BYTES = 396


def item_sizes(
    payload_bytes: int,
    codec: str | None,
    samples: dict[str, tuple[tuple[float, int], ...]] | None = None,
    text_overhead_bytes: int = TEXT_ITEM_OVERHEAD_BYTES,
) -> list[int]:
    """Bytes of the item storing a `payload_bytes` payload with `codec` (None: as text), one per sample's
    ratio and attributes; the validator keeps the text when compressing does not make it smaller.
    Raises KeyError for a codec without samples."""
    if codec is None:
        return [payload_bytes + text_overhead_bytes]
    sizes = []
    for ratio, other_bytes in (samples or STORED_PAYLOAD_SAMPLES)[codec]:
        compressed = math.ceil(payload_bytes * ratio) + other_bytes
        sizes.append(min(compressed, payload_bytes + other_bytes - TEXT_FORM_SAVES_BYTES[codec]))
    return sizes


def write_units(item_bytes: int) -> int:
    """DynamoDB write units of one PutItem of an `item_bytes` item (1 KB each, rounded up)."""
    return math.ceil(item_bytes / DYNAMODB_WRITE_UNIT_BYTES)
