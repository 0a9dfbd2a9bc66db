"""The warm validator's CPU per provider event (`POST /webhook/<source>`), for one handlers tree.

`python -m benchmarks.provider_cpu [--handlers DIR] [--provider stripe]` prints the p50/mean CPU of
the validator handler per signed Stripe `payment_intent.succeeded` delivery (the shared sample), AWS
answered by botocore `before-send` stubs. Pass `--handlers` of another tree (e.g. `git archive main
handlers | tar -x -C /tmp/base`) to compare two trees on the same machine in the same run.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
WARM_EVENTS = 3000
SOURCE_SECRET = "whsec_bench_0123456789abcdefghijklmnopqr"  # noqa: S105 - a benchmark's own key


def _stripe_event(index: int) -> dict[str, Any]:
    from tests.handlers.providers.signing import stripe_header

    body = json.loads(
        (ROOT / "tests" / "fixtures" / "providers" / "stripe" / "payment_intent.succeeded.json").read_text()
    )
    body["id"] = f"evt_bench_{index}"
    raw = json.dumps(body).encode()
    headers = {"Stripe-Signature": stripe_header([SOURCE_SECRET], raw, int(time.time()))}
    return {
        "resource": "/webhook/shop", "path": "/test/webhook/shop", "httpMethod": "POST", "headers": headers,
        "body": raw.decode(), "isBase64Encoded": False, "pathParameters": {"source": "shop"},
        "requestContext": {"domainName": "abc.execute-api.us-east-1.amazonaws.com", "path": "/test/webhook/shop"},
    }  # fmt: skip


def figures(handlers: Path) -> dict[str, float]:
    from benchmarks.lambda_environment import HANDLER_ENVIRONMENT

    os.environ.update(HANDLER_ENVIRONMENT)
    secret_arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:source-AbCdEf"  # noqa: S105 - an ARN
    os.environ["SOURCES"] = json.dumps({"shop": {"provider": "stripe", "secret_arn": secret_arn}})
    sys.path[:0] = [str(ROOT), str(handlers)]
    from benchmarks.stubbed_aws import StubbedAws
    from tests.handlers.helpers import FakeContext

    import validator

    aws = StubbedAws()
    aws.attach(validator._dynamodb, {"PutItem": lambda _: {}})
    answer = {"SecretString": json.dumps({"secrets": [SOURCE_SECRET], "signing_secrets": []}), "Name": "s"}
    aws.attach(validator._secrets.client, {"GetSecretValue": lambda _: answer})
    validator.logger.logger_handler.setStream(io.StringIO())
    context = FakeContext()
    events = [_stripe_event(i) for i in range(WARM_EVENTS + 1)]
    samples = []
    with contextlib.redirect_stdout(io.StringIO()):
        assert validator.handler(events[0], context)["statusCode"] == 202
        for event in events[1:]:
            start = time.process_time_ns()
            response = validator.handler(event, context)
            samples.append(time.process_time_ns() - start)
            assert response["statusCode"] == 202, response
    cuts = statistics.quantiles(samples, n=100)
    return {"p50_us": cuts[49] / 1000, "mean_us": statistics.fmean(samples) / 1000, "events": WARM_EVENTS}


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--handlers", type=Path, default=ROOT / "handlers")
    arguments = parser.parse_args()
    print(json.dumps({"handlers": str(arguments.handlers), **figures(arguments.handlers.resolve())}))
