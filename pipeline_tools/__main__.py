"""`python -m pipeline_tools {sandbox,send,replay,redrive,review-plan,cost}`: see `--help` of each."""

from __future__ import annotations

import argparse
import datetime
import json
import os
import signal
import sys
import threading
from pathlib import Path

from modules.config import ConfigError, environment_suffix
from pipeline_tools import operations
from pipeline_tools.cost_model import CostInputError
from pipeline_tools.outputs import OutputsError, load_outputs
from pipeline_tools.review.plan_review import PlanFormatError


def _timestamp(text: str) -> datetime.datetime:
    try:
        moment = datetime.datetime.fromisoformat(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"{text!r} is not an ISO-8601 date-time") from error
    return moment if moment.tzinfo else moment.replace(tzinfo=datetime.UTC)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m pipeline_tools", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    sandbox = commands.add_parser("sandbox", help="deploy the stack to a local emulator and serve it until Ctrl-C")
    sandbox.add_argument("--outputs", type=Path, default=Path("sandbox-outputs.json"))
    sandbox.add_argument("--no-synth", action="store_true", help="use the synthesized stack in --outdir as it is")
    sandbox.add_argument("--outdir", type=Path, default=None, help="synthesize and apply there (default: cdktf.out)")
    sandbox.add_argument("--ready-file", type=Path, help="touched once the sandbox serves (for scripts)")

    def with_outputs(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("--outputs", type=Path, default=Path(os.environ.get("PIPELINE_OUTPUTS", "sandbox-outputs.json")),
                         help="flat outputs file or cdktf's --outputs-file (default: $PIPELINE_OUTPUTS or sandbox-outputs.json)")  # fmt: skip

    send = commands.add_parser("send", help="POST one signed event")
    with_outputs(send)
    send.add_argument("--type", default="payment", dest="transaction_type")
    send.add_argument("--amount", default="19.99")
    send.add_argument("--currency", default="USD")
    send.add_argument("--event-id")
    send.add_argument("--file", type=Path, help="send this JSON body instead")
    send.add_argument(
        "--secret",
        default=os.environ.get("WEBHOOK_SIGNING_SECRET"),
        help="whsec_... (default: $WEBHOOK_SIGNING_SECRET, or the sandbox's)",
    )

    replay = commands.add_parser("replay", help="route stored events again")
    with_outputs(replay)
    replay.add_argument("--since", type=_timestamp, required=True)
    replay.add_argument("--until", type=_timestamp, default=datetime.datetime.now(tz=datetime.UTC))
    replay.add_argument("--type", dest="transaction_type")

    redrive = commands.add_parser("redrive", help="move a dead-letter queue back to its source queue")
    with_outputs(redrive)
    redrive.add_argument("queue", choices=sorted(operations.QUEUE_OUTPUTS))

    review = commands.add_parser(
        "review-plan",
        help="Markdown review of `terraform show -json <planfile>`; exit 3 if it deletes or replaces anything",
    )
    review.add_argument("plan_json", type=Path, help="output of `terraform show -json <planfile>`")
    review.add_argument("--plan-text", type=Path, help="output of `terraform show -no-color <planfile>`, folded in")
    review.add_argument("--title", default="plan", help="heading, and the marker a sticky PR comment is found by")
    review.add_argument("--output", type=Path, help="write the Markdown here instead of stdout")

    cost = commands.add_parser("cost", help="monthly AWS cost of an environment for an event volume")
    cost.add_argument("--events-per-month", type=_positive_int, required=True)
    cost.add_argument("--payload-bytes", type=_positive_int, default=2048, help="average body size (default 2048)")
    cost.add_argument("--environment", default=None, help="settings to price (default: $ENVIRONMENT_SUFFIX or dev)")
    cost.add_argument("--json", action="store_true", help="print the estimate as JSON")
    return parser


def _positive_int(text: str) -> int:
    try:
        value = int(text.replace("_", "").replace(",", ""))
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from error
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be positive")
    return value


def _cost(args: argparse.Namespace) -> int:
    from modules.config import load_settings
    from pipeline_tools import cost_model

    environment = args.environment or environment_suffix()
    estimate = cost_model.estimate(args.events_per_month, args.payload_bytes, load_settings(environment))
    print(json.dumps(cost_model.as_dict(estimate), indent=2) if args.json else cost_model.render(estimate, environment))
    return 0


def _review_plan(args: argparse.Namespace) -> int:
    from pipeline_tools.review.plan_review import render

    try:
        plan = json.loads(args.plan_json.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise PlanFormatError(
            f"{args.plan_json} is not JSON ({error}): pass `terraform show -json <planfile>`"
        ) from error
    full_plan = args.plan_text.read_text(encoding="utf-8") if args.plan_text else None
    review = render(plan, title=args.title, full_plan=full_plan)
    if args.output:
        args.output.write_text(review.markdown, encoding="utf-8")
    else:
        print(review.markdown)
    dangerous = len(review.dangerous)
    print(f"plan review {args.title}: {len(review.changes)} changes, {dangerous} dangerous", file=sys.stderr)
    return DANGEROUS_CHANGES if dangerous else 0


def _run_sandbox(args: argparse.Namespace) -> int:
    from pipeline_tools.sandbox.runner import Sandbox

    sandbox = Sandbox(
        environment_suffix(),
        args.outputs.resolve(),
        synth=not args.no_synth,
        outdir=args.outdir and args.outdir.resolve(),
    )
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    try:
        outputs = sandbox.up()
        print(f"\nWebhook endpoint: {outputs['api_endpoint']}\nOutputs: {args.outputs}\n"
              f"Try: python -m pipeline_tools send --outputs {args.outputs} --type refund --amount 12.50\n"
              "Stop with Ctrl-C.", flush=True)  # fmt: skip
        if args.ready_file:
            args.ready_file.write_text("ready\n")
        stopped.wait()
    except KeyboardInterrupt:
        pass
    finally:
        sandbox.down()
        print("sandbox stopped; emulator, gateway and poller ended", file=sys.stderr)
    return 0


DANGEROUS_CHANGES = 3  # distinct from 1 (failure) and 2 (bad input) so CI can tell them apart


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "sandbox":
            return _run_sandbox(args)
        if args.command == "review-plan":
            return _review_plan(args)
        if args.command == "cost":
            return _cost(args)
        outputs = load_outputs(args.outputs)
        if args.command == "send":
            secret = args.secret or outputs.get("signing_secret")
            if not secret:
                raise operations.OperationError(
                    "no signing secret: pass --secret whsec_... or set WEBHOOK_SIGNING_SECRET"
                )
            body = (
                args.file.read_bytes()
                if args.file
                else operations.build_event(args.transaction_type, args.amount, args.currency, args.event_id)
            )
            status, response = operations.send(outputs, body, secret)
            print(f"{status} {response}")
            return 0 if status < 300 else 1
        if args.command == "replay":
            count = operations.replay(outputs, args.since, args.until, args.transaction_type)
            print(json.dumps({"replayed": count}))
            return 0
        result = operations.redrive(outputs, args.queue)
        print(json.dumps({"moved": result} if isinstance(result, int) else {"task_handle": result}))
        return 0
    except (OutputsError, operations.OperationError, ConfigError, OSError, PlanFormatError, CostInputError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
