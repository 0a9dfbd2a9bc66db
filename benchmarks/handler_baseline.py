"""Figure 7: this tree's validator against the baseline's (main before the admission contract and the
provider sources), side by side in one run: warm CPU per event on the standard source, cold import,
and the largest accepted body's routed message against the queue's maximum size.

The baseline handlers come from git (`git archive BASELINE_REF handlers`); both trees run in their own
processes, interleaved round by round, with the same vendored packages (this venv) and byte-code
compiled beforehand, so the machine's noise falls on both alike. CPU is `time.process_time_ns`.
"""

from __future__ import annotations

import argparse
import compileall
import contextlib
import io
import json
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.lambda_environment import HANDLER_ENVIRONMENT

ROOT = Path(__file__).resolve().parent.parent
# main at the start of the admission-contract and sources work (issues 10 and 11).
BASELINE_REF = "14e24e5"
ROUNDS = 9
EVENTS_PER_ROUND = 600
IMPORT_RUNS = 9


def _export(ref: str, destination: Path) -> Path:
    archive = subprocess.run(["git", "archive", ref, "handlers"], cwd=ROOT, capture_output=True, check=True)  # noqa: S603,S607
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(destination, filter="data")
    return destination / "handlers"


def _warm_cpu_in_this_process(tree: Path, events: int) -> float:
    """Median CPU µs per accepted 2 KB event through `validator.handler`, AWS stubbed at botocore."""
    sys.path[:0] = [str(tree), str(ROOT)]
    os.environ.update(HANDLER_ENVIRONMENT)
    from benchmarks.handler_cpu import _padded_payment
    from benchmarks.stubbed_aws import StubbedAws, secret_responder
    from tests.handlers.helpers import SIGNING_SECRET, FakeContext, make_event

    import validator

    aws = StubbedAws()
    aws.attach(validator._dynamodb, {"PutItem": lambda _: {}})
    aws.attach(validator._secrets.client, {"GetSecretValue": secret_responder(SIGNING_SECRET)})
    validator.logger.logger_handler.setStream(io.StringIO())
    context = FakeContext()
    requests = [make_event(_padded_payment(f"evt_{i}"), webhook_id=f"msg_{i}") for i in range(events + 1)]
    samples = []
    with contextlib.redirect_stdout(io.StringIO()):
        validator.handler(requests[0], context)
        for request in requests[1:]:
            start = time.process_time_ns()
            response = validator.handler(request, context)
            samples.append(time.process_time_ns() - start)
            assert response["statusCode"] == 202, response
    return statistics.median(samples) / 1000


def _warm_cpu(tree: Path) -> float:
    result = subprocess.run(  # noqa: S603 - this interpreter, fixed arguments
        [sys.executable, "-m", "benchmarks.handler_baseline", "--warm", str(tree), "--events", str(EVENTS_PER_ROUND)],
        cwd=ROOT, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return float(result.stdout.strip().splitlines()[-1])


def _import_ms(tree: Path) -> float:
    env = {**os.environ, **HANDLER_ENVIRONMENT, "AWS_REGION": "us-east-1", "PYTHONPATH": str(tree),
           "PYTHONDONTWRITEBYTECODE": "1"}  # fmt: skip
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import validator"],
        env=env, cwd=tree, capture_output=True, text=True, check=True,
    )  # fmt: skip
    for line in result.stderr.splitlines():
        if line.startswith("import time:") and line.split("|")[-1].strip() == "validator":
            return int(line.split("|")[1]) / 1000
    raise RuntimeError(f"no importtime line for validator:\n{result.stderr[-2000:]}")


def largest_message() -> dict[str, int]:
    """The accepted body whose routed message grows most (every character escaped), and that message."""
    sys.path.insert(0, str(ROOT / "handlers"))
    import datetime

    from routed_message import MAX_MESSAGE_BYTES
    from webhook_event import MAX_BODY_BYTES, parse_event

    head = '{"event_id":"m","transaction_type":"t","amount":1,"timestamp":"2026-11-28T10:00:00Z","x":"'
    body = head + '\\"' * ((MAX_BODY_BYTES - len(head) - 2) // 2) + '"}'
    event = parse_event(body.encode())
    event.item(now=datetime.datetime.now(datetime.UTC), ttl_days=30)  # admitted: the item can be stored
    message = event.message("2026-11-28T10:00:00.000Z").body.encode()
    return {"body_bytes": len(body.encode()), "message_bytes": len(message), "queue_maximum_bytes": MAX_MESSAGE_BYTES}


def main() -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as work:
        baseline = _export(BASELINE_REF, Path(work) / "baseline")
        current = ROOT / "handlers"
        for tree in (baseline, current):
            compileall.compile_dir(str(tree), quiet=1)
        cpu: dict[str, list[float]] = {"baseline": [], "current": []}
        imports: dict[str, list[float]] = {"baseline": [], "current": []}
        for _ in range(ROUNDS):
            for name, tree in (("baseline", baseline), ("current", current)):
                cpu[name].append(_warm_cpu(tree))
        for _ in range(IMPORT_RUNS):
            for name, tree in (("baseline", baseline), ("current", current)):
                imports[name].append(_import_ms(tree))
    warm = {name: statistics.median(values) for name, values in cpu.items()}
    # On this shared VM another tenant's load only ever adds CPU time to a round: the least round median
    # is the cost of the code itself, the median of rounds includes the noise. Both are reported.
    floor = {name: min(values) for name, values in cpu.items()}
    cold = {name: statistics.median(values) for name, values in imports.items()}
    return {
        "baseline_ref": BASELINE_REF,
        "rounds": ROUNDS,
        "events_per_round": EVENTS_PER_ROUND,
        "warm_cpu_us_p50": warm,
        "warm_cpu_ratio": warm["current"] / warm["baseline"],
        "warm_cpu_us_p50_least_round": floor,
        "warm_cpu_ratio_least_round": floor["current"] / floor["baseline"],
        "warm_cpu_us_p50_rounds": cpu,
        "import_runs": IMPORT_RUNS,
        "validator_import_ms": cold,
        "validator_import_ratio": cold["current"] / cold["baseline"],
        "largest_message": largest_message(),
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--warm", type=Path)
    parser.add_argument("--events", type=int, default=EVENTS_PER_ROUND)
    args = parser.parse_args()
    if args.warm:
        print(_warm_cpu_in_this_process(args.warm, args.events))
    else:
        print(json.dumps(main(), indent=2))
