"""Figure 8: the warm validator's CPU per delivery on every provider route, against its floor.

The floor of one delivery is what any validator storing with boto3 must do: one HMAC-SHA256 over the
body and a constant-time compare, one decimal-safe `json.loads`, and one PutItem of the item the
validator stored, through the same botocore client. AWS is answered at `before-send`
(`stubbed_aws`), so signing and response parsing are on both sides. Handler and floor are measured
in interleaved rounds in this one process; the ratio is of the least round medians (the VM's
neighbours inflate single rounds, never shrink them) and the median of rounds is reported as well.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import io
import json
import statistics
import sys
import time
import urllib.parse
from decimal import Decimal
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

from benchmarks.handler_cpu import ROOT, _environment

ROUNDS = 5
PER_ROUND = 200
# One sample per provider (tests/fixtures/providers), delivered to the source of that provider.
SAMPLES = {
    "stripe": "stripe/payment_intent.succeeded.json",
    "adyen": "adyen/AUTHORISATION.json",
    "square": "square/payment.created.json",
    "checkout": "checkout/payment_captured.json",
    "razorpay": "razorpay/payment.captured.json",
    "paddle": "paddle/transaction.completed.json",
    "gocardless": "gocardless/sdk_fixture_webhook_body.json",
    "braintree": "braintree/transaction_settled.json",
    "mollie": "mollie/nextgen_payment-link.paid_full.json",
    "svix-sender": "standard-webhooks/payment.succeeded_svix_style.json",
}


def _parse_json(body: bytes) -> None:
    json.loads(body, parse_float=Decimal)


def _parse_braintree(body: bytes) -> None:
    """Braintree posts a form whose `bt_payload` is base64 XML: the least parse is that."""
    form = urllib.parse.parse_qs(body.decode())
    ElementTree.fromstring(base64.b64decode(form["bt_payload"][0]))  # noqa: S314 (our own fixture)


def _floor_ns(client: Any, body: bytes, items: list[dict[str, Any]], parse: Any) -> int:
    start = time.process_time_ns()
    digest = hmac.new(b"k" * 32, body, hashlib.sha256).hexdigest()
    hmac.compare_digest(digest, digest)
    parse(body)
    for item in items:  # one PutItem per event of the delivery, as the validator makes
        client.put_item(TableName="t", Item=item, ConditionExpression="attribute_not_exists(event_id)",
                        ReturnValuesOnConditionCheckFailure="ALL_OLD")  # fmt: skip
    return time.process_time_ns() - start


def main(handlers: Path | None = None, rounds: int = ROUNDS, *, uncompressed: bool = False) -> dict[str, Any]:
    """Figures per provider route. `handlers`: another tree's handlers (figure 9 runs the code before
    the money-facts work this way); the floor is the same code either way. `uncompressed`: the tree's
    validator stores every payload as text (its `payload_codec.COMPRESS_FROM_BYTES` raised past any body),
    as the code before issue 20's compressed payloads did: figure 9 separates the money-facts work's CPU
    from the compression's this way."""
    _environment()
    import os

    if handlers is not None:
        sys.path.insert(0, str(handlers))

    from tests.handlers import test_sources as sources

    arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:webhook-source-{}-bench"
    config = {
        name: {"provider": spec.provider, "secret_arn": arn.format(name), **spec.options}
        for name, spec in sources.SOURCES.items()
    }
    os.environ["SOURCES"] = json.dumps(config)
    secrets = {arn.format(name): spec.secret for name, spec in sources.SOURCES.items()}
    sys.modules.pop("validator", None)
    if handlers is not None:
        # The test helpers imported this tree's handler modules and put them first on the path: the other
        # tree goes before, and the validator must import every module of its own tree.
        sys.path.insert(0, str(handlers))
        here = ROOT / "handlers"
        for module_name, module in list(sys.modules.items()):
            if Path(getattr(module, "__file__", None) or "/").is_relative_to(here):
                del sys.modules[module_name]
    from benchmarks.stubbed_aws import StubbedAws, secret_responder
    from tests.handlers.helpers import SIGNING_SECRET, FakeContext

    import validator

    if handlers is not None:
        mixed = [
            m.__file__
            for m in list(sys.modules.values())
            if Path(getattr(m, "__file__", None) or "/").is_relative_to(ROOT / "handlers")
        ]
        if mixed or not Path(validator.__file__).is_relative_to(handlers):
            raise RuntimeError(f"the validator under {handlers} imported this tree's {mixed[:3]}")
    if uncompressed:
        import payload_codec  # the validator's own module (its tree is first on the path)

        payload_codec.COMPRESS_FROM_BYTES = 1 << 40
    stored: list[dict[str, Any]] = []

    def put_item(params: dict[str, Any]) -> dict[str, Any]:
        stored.append(params["Item"])
        return {}

    def get_secret(params: dict[str, Any]) -> dict[str, Any]:
        if params["SecretId"] in secrets:
            value = json.dumps({"secrets": [secrets[params["SecretId"]]]})
            return {"ARN": params["SecretId"], "Name": "source", "SecretString": value}
        return secret_responder(SIGNING_SECRET)(params)

    aws = StubbedAws()
    aws.attach(validator._dynamodb, {"PutItem": put_item})
    aws.attach(validator._secrets.client, {"GetSecretValue": get_secret})
    validator.logger.logger_handler.setStream(io.StringIO())
    context = FakeContext()
    deliveries = {}
    with contextlib.redirect_stdout(io.StringIO()):
        for name, path in SAMPLES.items():
            body, headers = sources.sign(name, sources.fixture_bytes(path))
            event = sources.api_event(name, body, headers)
            stored.clear()
            response = validator.handler(event, context)
            assert response["statusCode"] in (200, 202), (name, response)
            deliveries[name] = (event, body, list(stored))
        handler_rounds: dict[str, list[float]] = {name: [] for name in SAMPLES}
        floor_rounds: dict[str, list[float]] = {name: [] for name in SAMPLES}
        for _ in range(rounds):
            for name, (event, body, items) in deliveries.items():
                samples = []
                for _ in range(PER_ROUND):
                    start = time.process_time_ns()
                    validator.handler(event, context)
                    samples.append(time.process_time_ns() - start)
                handler_rounds[name].append(statistics.median(samples) / 1000)
                parse = _parse_braintree if name == "braintree" else _parse_json
                floor = [_floor_ns(validator._dynamodb, body, items, parse) for _ in range(PER_ROUND)]
                floor_rounds[name].append(statistics.median(floor) / 1000)
    figures = {}
    for name in SAMPLES:
        handler, floor = handler_rounds[name], floor_rounds[name]
        figures[name] = {
            "provider": sources.SOURCES[name].provider,
            "body_bytes": len(deliveries[name][1]),
            "events": len(deliveries[name][2]),
            "handler_us": min(handler),
            "floor_us": min(floor),
            "ratio": min(handler) / min(floor),
            "ratio_median_of_rounds": statistics.median(handler) / statistics.median(floor),
        }
    return figures


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    if len(sys.argv) > 1 and sys.argv[1] == "--json":  # figure 9's child process: one tree, one round
        uncompressed = "--uncompressed" in sys.argv
        arguments = [argument for argument in sys.argv[2:] if argument != "--uncompressed"]
        tree = Path(arguments[0]) if arguments else None
        print(json.dumps(main(tree, rounds=1, uncompressed=uncompressed)))
        sys.exit(0)
    for name, figure in main().items():
        print(f"{name:<12} {figure['body_bytes']:>6} B {figure['events']} ev  handler {figure['handler_us']:7.0f} us  "
              f"floor {figure['floor_us']:6.0f} us  ratio {figure['ratio']:.2f} (median of rounds "
              f"{figure['ratio_median_of_rounds']:.2f})")  # fmt: skip
