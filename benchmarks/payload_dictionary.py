"""Builds, checks and measures `handlers/payload-dictionary-1.bin`, the preset dictionary of `zlib-dict-1`.

`python -m benchmarks.payload_dictionary` writes the file; `--check` rebuilds it and fails unless the
committed file is byte-identical and its SHA-256 is the one `handlers/payload_codec.py` checks at import
(the suite runs it: tests/handlers/test_payload_codec.py); `--measure` prints the held-out figures of
docs/PERFORMANCE.md (stored item sizes and compress CPU, plain `zlib` against `zlib-dict-1`).

Training data: the providers' published sample deliveries (tests/fixtures/providers, the same files as
/work/shared/providers), minus the held-out ones: of every provider with two samples, the last in path
order is held out (7 of 17) and never seen by the builder. Each training sample goes in as delivered and,
for JSON, also in its compact spelling (Adyen's and GoCardless's stored items are compact JSON of one
event); Braintree's as the form body it posts. Compact spellings first, delivered ones last: deflate
reaches back at most 32 KiB, and the end of the dictionary is closest to the payload. The input is fixed
files and the procedure has no randomness, so the output is reproducible byte for byte.
"""

from __future__ import annotations

import hashlib
import json
import sys
import urllib.parse
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "tests" / "fixtures" / "providers"
OUTPUT = ROOT / "handlers" / "payload-dictionary-1.bin"
DICTIONARY_BYTES = 32 * 1024  # deflate's largest window: bytes further back can never be referenced


def samples() -> list[Path]:
    """Every sample delivery, in path order."""
    return sorted(SAMPLES.glob("*/*.json"))


def held_out() -> list[Path]:
    """The samples the builder never sees: the last of every provider that has two or more."""
    by_provider: dict[str, list[Path]] = defaultdict(list)
    for path in samples():
        by_provider[path.parent.name].append(path)
    return [paths[-1] for paths in by_provider.values() if len(paths) > 1]


def held_out_names() -> list[str]:
    """`held_out`, as paths under tests/fixtures/providers."""
    return [str(path.relative_to(SAMPLES)) for path in held_out()]


def training() -> list[Path]:
    excluded = set(held_out())
    return [path for path in samples() if path not in excluded]


def delivered_text(path: Path) -> bytes:
    """What the provider posts: the file itself, or Braintree's form body built from its fields."""
    raw = path.read_bytes()
    document = json.loads(raw)
    if isinstance(document, dict) and isinstance(document.get("form"), dict):
        return urllib.parse.urlencode(document["form"]).encode()
    return raw


def build() -> bytes:
    """The dictionary: compact spellings of the training samples, then the delivered texts, the last
    `DICTIONARY_BYTES` of that."""
    compact, delivered = [], []
    for path in training():
        text = delivered_text(path)
        delivered.append(text)
        if text.lstrip()[:1] in (b"{", b"["):
            compact.append(json.dumps(json.loads(text), separators=(",", ":"), ensure_ascii=False).encode())
    return b"".join(compact + delivered)[-DICTIONARY_BYTES:]


def check() -> list[str]:
    """What is wrong with the committed dictionary (empty when nothing is)."""
    problems = []
    built = build()
    committed = OUTPUT.read_bytes() if OUTPUT.is_file() else b""
    if committed != built:
        problems.append(f"{OUTPUT.name} is not what the builder makes: run python -m benchmarks.payload_dictionary")
    codec_source = (ROOT / "handlers" / "payload_codec.py").read_text()
    digest = hashlib.sha256(committed).hexdigest()
    if f'DICTIONARY_SHA256 = "{digest}"' not in codec_source:
        problems.append(f"payload_codec.DICTIONARY_SHA256 is not the committed file's sha256 {digest}")
    return problems


def item_bytes(item: dict[str, dict[str, object]]) -> int:
    """DynamoDB's size of an item in low-level form: attribute name bytes plus value bytes (S: UTF-8,
    B: raw, N: one byte per two significant digits plus one, L: 3 bytes plus each element and 1 byte per
    element). Source:
    https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html"""
    return sum(len(name.encode()) + _value_bytes(value) for name, value in item.items())


def _value_bytes(value: dict[str, object]) -> int:
    ((kind, data),) = value.items()
    if kind == "S":
        return len(str(data).encode())
    if kind == "B":
        return len(data)  # type: ignore[arg-type]
    if kind == "N":
        digits = str(data).lstrip("-").replace(".", "").strip("0") or "0"
        return (len(digits) + 1) // 2 + 1
    if kind == "L":
        return 3 + sum(1 + _value_bytes(element) for element in data)  # type: ignore[attr-defined]
    raise ValueError(f"no size rule for {kind}")


def main(argv: list[str]) -> int:
    if "--check" in argv:
        problems = check()
        print("\n".join(problems) or f"{OUTPUT.name}: reproducible, sha256 matches payload_codec")
        return 1 if problems else 0
    if "--measure" in argv:
        from benchmarks.payload_measure import report

        print(report())
        return 0
    data = build()
    OUTPUT.write_bytes(data)
    print(f"{OUTPUT.relative_to(ROOT)}: {len(data):,} B from {len(training())} samples "
          f"(held out: {', '.join(str(p.relative_to(SAMPLES)) for p in held_out())}); "
          f"sha256 {hashlib.sha256(data).hexdigest()}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
