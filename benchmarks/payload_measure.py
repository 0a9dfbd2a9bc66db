"""Held-out figures of the `zlib-dict-1` codec: stored item sizes and compress CPU, against plain `zlib`.

Each held-out sample (benchmarks/payload_dictionary.py `held_out`, never seen by the dictionary builder)
goes through the validator with AWS stubbed at botocore's `before-send` (benchmarks/stubbed_aws.py), so
the items measured are the ones it stores, attributes and all; each item's payload is then stored both
ways (`payload_codec.payload_attributes(text, codec)`) and its DynamoDB size computed. CPU: the median of
`REPEATS` calls of `payload_attributes` per sample and codec (one codec after the other), in process time.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import statistics
import time
from pathlib import Path
from typing import Any

from benchmarks.payload_dictionary import SAMPLES, held_out, item_bytes, training

REPEATS = 2000
WRITE_UNIT_BYTES = 1024


def stored_items(paths: list[Path]) -> list[tuple[str, dict[str, Any]]]:
    """(sample, item) for every item the validator stores for each sample delivery."""
    from tests.handlers import test_sources as sources

    arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:webhook-source-{}-bench"
    os.environ["SOURCES"] = json.dumps(
        {
            name: {"provider": s.provider, "secret_arn": arn.format(name), **s.options}
            for name, s in sources.SOURCES.items()
        }
    )
    secrets = {arn.format(name): s.secret for name, s in sources.SOURCES.items()}
    from benchmarks.stubbed_aws import StubbedAws
    from tests.handlers.helpers import FakeContext

    import validator

    stored: list[dict[str, Any]] = []
    aws = StubbedAws()
    aws.attach(validator._dynamodb, {"PutItem": lambda params: (stored.append(params["Item"]), {})[1]})
    aws.attach(validator._secrets.client, {"GetSecretValue": lambda params: {
        "ARN": params["SecretId"], "Name": "source",
        "SecretString": json.dumps({"secrets": [secrets[params["SecretId"]]]})}})  # fmt: skip
    validator.logger.logger_handler.setStream(io.StringIO())
    source_of = {spec.provider: name for name, spec in sources.SOURCES.items()} | {"standard-webhooks": "svix-sender"}
    found = []
    with contextlib.redirect_stdout(io.StringIO()):
        for path in paths:
            name = source_of[path.parent.name]
            body, headers = sources.sign(name, sources.fixture_bytes(str(path.relative_to(SAMPLES))))
            stored.clear()
            response = validator.handler(sources.api_event(name, body, headers), FakeContext())
            if response["statusCode"] not in (200, 202):
                # standard-webhooks/product_contract_payment.json is the canonical route's body (174 B,
                # stored as text either way), not a Standard Webhooks sender's: the svix source refuses it.
                continue
            found += [(str(path.relative_to(SAMPLES)), item) for item in stored]
    return found


def _cpu_us(text: str, codec: str, repeats: int) -> float:
    import payload_codec

    samples = []
    for _ in range(repeats):
        start = time.process_time_ns()
        payload_codec.payload_attributes(text, codec)
        samples.append(time.process_time_ns() - start)
    return statistics.median(samples) / 1000


def measure(paths: list[Path], repeats: int = REPEATS) -> list[dict[str, Any]]:
    """Per stored item: payload bytes, item bytes and write units with each codec, compress µs (median of
    `repeats` calls). Sets the handlers' environment in this process: run it in a process of its own."""
    from benchmarks.handler_cpu import _environment

    _environment()
    import payload_codec

    rows = []
    for sample, item in stored_items(paths):
        text = payload_codec.stored_payload(item)
        assert text is not None
        rest = {k: v for k, v in item.items() if k not in ("payload", "payload_z", "payload_encoding")}
        row: dict[str, Any] = {
            "sample": sample,
            "payload_bytes": len(text.encode()),
            "attribute_bytes": item_bytes(rest),
        }
        for codec in (payload_codec.ZLIB, payload_codec.ZLIB_DICT_1):
            attributes = payload_codec.payload_attributes(text, codec)
            assert payload_codec.stored_payload(attributes) == text
            size = item_bytes({**rest, **attributes})
            stored = len(attributes["payload_z"]["B"]) if "payload_z" in attributes else len(text.encode())
            row[codec] = {"item_bytes": size, "stored_bytes": stored, "write_units": -(-size // WRITE_UNIT_BYTES),
                          "ratio": stored / len(text.encode()), "compress_us": _cpu_us(text, codec, repeats)}  # fmt: skip
        rows.append(row)
    return rows


def report() -> str:
    from benchmarks.handler_cpu import _environment

    _environment()
    import payload_codec

    lines = []
    for title, paths in (("held out", held_out()), ("training (for reference only)", training())):
        rows = measure(paths)
        lines.append(f"{title}: {len(rows)} stored items")
        lines.append(
            f"  {'sample':<52} {'payload':>7} {'attrs':>5}   zlib: item  WRU ratio  us   dict-1: item  WRU ratio  us"
        )
        for row in rows:
            a, b = row[payload_codec.ZLIB], row[payload_codec.ZLIB_DICT_1]
            lines.append(
                f"  {row['sample']:<52} {row['payload_bytes']:>7} {row['attribute_bytes']:>5}   "
                f"{a['item_bytes']:>10} {a['write_units']:>4} {a['ratio']:.2f} {a['compress_us']:>4.0f}"
                f"   {b['item_bytes']:>12} {b['write_units']:>4} {b['ratio']:.2f} {b['compress_us']:>4.0f}"
            )
        for codec in (payload_codec.ZLIB, payload_codec.ZLIB_DICT_1):
            within = sum(row[codec]["item_bytes"] <= WRITE_UNIT_BYTES for row in rows)
            big = [row[codec]["ratio"] for row in rows if row["payload_bytes"] >= 1024]
            lines.append(f"  {codec}: {within}/{len(rows)} items <= 1,024 B; median ratio of payloads >= 1 KB "
                         f"{statistics.median(big):.3f}; median compress {statistics.median(r[codec]['compress_us'] for r in rows):.0f} us")  # fmt: skip
    return "\n".join(lines)


if __name__ == "__main__":  # the cost model's test: `python -m benchmarks.payload_measure SAMPLE...` -> JSON rows
    import sys

    print(json.dumps(measure([SAMPLES / name for name in sys.argv[1:]], repeats=1)))
