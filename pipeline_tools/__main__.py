"""`python -m pipeline_tools {sandbox,send,trace,replay,redrive,reconcile,plan,review-plan,cost}`: see `--help` of each."""

from __future__ import annotations

import argparse
import datetime
import json
import os
import signal
import socket
import sys
import urllib.error
import urllib.parse
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from modules.config import ConfigError, environment_suffix
from pipeline_tools import operations
from pipeline_tools.cost_model import CostInputError
from pipeline_tools.outputs import OutputsError, load_outputs
from pipeline_tools.redrive import QUEUES, redrive
from pipeline_tools.review.plan_review import PlanFormatError


def _timestamp(text: str) -> datetime.datetime:
    try:
        moment = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
        moment = moment if moment.tzinfo else moment.replace(tzinfo=datetime.UTC)
        # In UTC now, so an offset that leaves datetime's range (year 1 +01:00) is this error, not a traceback later.
        return moment.astimezone(datetime.UTC)
    except (ValueError, OverflowError) as error:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an ISO-8601 date-time (e.g. 2026-11-28T00:00:00Z or 2026-11-28)"
        ) from error


TIME_HELP = "ISO-8601 date-time, UTC unless it carries an offset (2026-11-28T09:30:00Z, 2026-11-28)"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m pipeline_tools", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True, metavar="command")

    sandbox = commands.add_parser("sandbox", help="deploy the stack to a local emulator and serve it until Ctrl-C")
    sandbox.add_argument("--outputs", type=Path, default=Path("sandbox-outputs.json"),
                         help="where to write the outputs while the sandbox serves (default sandbox-outputs.json)")  # fmt: skip
    sandbox.add_argument("--no-synth", action="store_true",
                         help="skip the synth and apply cdktf.out/ as the last `make synth` left it (saves ~15 s)")  # fmt: skip
    sandbox.add_argument("--outdir", type=Path, default=None,
                         help="synthesize and apply there (default: cdktf.out)")  # fmt: skip
    sandbox.add_argument("--ready-file", type=Path, help="touched once the sandbox serves (for scripts)")

    def with_outputs(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("--outputs", type=Path, default=Path(os.environ.get("PIPELINE_OUTPUTS", "sandbox-outputs.json")),
                         help="flat outputs file or cdktf's --outputs-file (default: $PIPELINE_OUTPUTS or sandbox-outputs.json)")  # fmt: skip

    send = commands.add_parser("send", help="POST one signed event (or print it as a curl command)")
    with_outputs(send)
    send.add_argument("--type", dest="transaction_type", help="transaction_type (default payment)")
    send.add_argument("--amount", help="decimal amount, sent exactly as written (default 19.99)")
    send.add_argument("--currency", help="ISO 4217 code (default USD)")
    send.add_argument(
        "--event-id",
        help="event_id (default a new evt_<uuid>); the same id sends the same body. "
        "With --source: the x-razorpay-event-id or webhook-id header (default derived from the file)",
    )
    send.add_argument(
        "--timestamp", help="the event's timestamp field, ISO-8601 (default: now, or derived from --event-id)"
    )
    send.add_argument("--file", type=Path, help="send this JSON body as it is (not with --type/--amount/--currency/--event-id/--timestamp)")  # fmt: skip
    send.add_argument("--secret", default=None,
                      help="whsec_... (default: $WEBHOOK_SIGNING_SECRET, or the sandbox's); with --source, the "
                           "source's secret in its provider's format (default: the outputs' source_secrets)")  # fmt: skip
    send.add_argument(
        "--source",
        help="a provider source's name: POST --file to <api_endpoint>/<name>, signed the way its provider signs",
    )
    send.add_argument(
        "--provider", help="with --source: the source's provider id, when the outputs do not say (no source_secrets)"
    )
    send.add_argument(
        "--public-key", help="with --source of a braintree source: its public key, when the outputs do not say"
    )
    send.add_argument("--print-curl", action="store_true",
                      help="print a ready-to-run curl command with valid signature headers instead of sending (valid for the 300 s tolerance)")  # fmt: skip

    trace = commands.add_parser("trace", help="where one event went: stored item, routing decision, dead-letter queues")
    with_outputs(trace)
    trace.add_argument("event_id", help="the event_id to look up")

    replay = commands.add_parser("replay", help="route stored events received in a window again")
    with_outputs(replay)
    replay.add_argument("--since", type=_timestamp, required=True, help=f"start of the window, inclusive: {TIME_HELP}")
    replay.add_argument("--until", type=_timestamp, help=f"end of the window, exclusive (default now): {TIME_HELP}")
    replay.add_argument("--type", dest="transaction_type", help="only events of this transaction_type")
    replay.add_argument("--dry-run", action="store_true", help="count the events per destination queue, send nothing")

    redrive = commands.add_parser(
        "redrive", help="empty an alarmed queue by its runbook (README, 'Redrive and replay')"
    )
    with_outputs(redrive)
    redrive.add_argument("queue", choices=QUEUES,
                         help="payments|refunds|disputes: DLQ back to its queue; unrouted: route parked events again; "
                              "router: replay each failed stream batch's window")  # fmt: skip

    reconcile = commands.add_parser(
        "reconcile", help="list a source's events at its provider and store those the door never got"
    )
    with_outputs(reconcile)
    reconcile.add_argument("--source", required=True, help="a source with `reconcile` set")
    reconcile.add_argument("--since", type=_timestamp,
                           help=f"list from here (default: the checkpoint minus its overlap; never before the provider's window): {TIME_HELP}")  # fmt: skip
    reconcile.add_argument("--dry-run", action="store_true", help="print what would be written; write nothing")

    plan = commands.add_parser("plan", help="terraform plan of the current code against the running sandbox, reviewed")
    plan.add_argument(
        "--sandbox", action="store_true", required=True, help="plan against the running sandbox (the only target)"
    )
    plan.add_argument("--outputs", type=Path, default=Path("sandbox-outputs.json"), help="the sandbox's outputs file (default sandbox-outputs.json)")  # fmt: skip
    plan.add_argument("--output", type=Path, help="write the review's Markdown here instead of stdout")

    review = commands.add_parser(
        "review-plan",
        help="Markdown review of `terraform show -json <planfile>`; exit 3 if it deletes, replaces or loses data",
    )
    review.add_argument("plan_json", type=Path, help="output of `terraform show -json <planfile>`")
    review.add_argument("--plan-text", type=Path, help="output of `terraform show -no-color <planfile>`, folded in")
    review.add_argument("--title", default="plan", help="heading, and the marker a sticky PR comment is found by")
    review.add_argument("--context", help="a line under the heading, e.g. the commit and the plan file's digest")
    review.add_argument("--output", type=Path, help="write the Markdown here instead of stdout")

    cost = commands.add_parser("cost", help="monthly AWS cost of an environment for an event volume")
    cost.add_argument(
        "--events-per-month", type=_positive_int, required=True, help="events per month (10000000 or 10_000_000)"
    )
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
    review = render(plan, title=args.title, full_plan=full_plan, context=args.context)
    if args.output:
        args.output.write_text(review.markdown, encoding="utf-8")
    else:
        print(review.markdown)
    dangerous = len(review.dangerous)
    print(f"plan review {args.title}: {len(review.changes)} changes, {dangerous} dangerous", file=sys.stderr)
    return DANGEROUS_CHANGES if dangerous else 0


class SandboxStopSignal(Exception):
    """SIGTERM or SIGHUP, raised in the main thread so every phase unwinds through `finally`."""


def _raise_stop(signum: int, _frame: object) -> None:
    raise SandboxStopSignal(signal.Signals(signum).name)


def _run_sandbox(args: argparse.Namespace) -> int:
    from pipeline_tools.sandbox.runner import Sandbox, SandboxBusyError

    sandbox = Sandbox(
        environment_suffix(),
        args.outputs.resolve(),
        synth=not args.no_synth,
        outdir=args.outdir and args.outdir.resolve(),
    )
    # As Ctrl-C does: stop the current phase (a running terraform apply included), then clean up.
    for stop_signal in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(stop_signal, _raise_stop)
    try:
        sandbox.acquire()
        outputs = sandbox.up()
        python = ".venv/bin/python" if Path(".venv/bin/python").exists() else sys.executable
        print(f"\nWebhook endpoint: {outputs['api_endpoint']}\nOutputs: {args.outputs}\n"
              f"Try: {python} -m pipeline_tools send --outputs {args.outputs} --type refund --amount 12.50\n"
              f"     {python} -m pipeline_tools trace <event_id from the answer>\n"
              + _source_hint(python, args.outputs, outputs) +
              "Live log below (one line per request and per routing decision). Stop with Ctrl-C.", flush=True)  # fmt: skip
        if args.ready_file:
            args.ready_file.write_text("ready\n")
        while True:
            signal.pause()
    except SandboxBusyError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except (KeyboardInterrupt, SandboxStopSignal) as stop:
        print(
            f"\nstopping the sandbox ({type(stop).__name__ if isinstance(stop, KeyboardInterrupt) else stop})",
            file=sys.stderr,
        )
    finally:
        for ignored in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(ignored, signal.SIG_IGN)  # a second signal must not cut the clean-up short
        sandbox.down()
        print("sandbox stopped; emulator, gateway and poller ended; outputs file and override removed", file=sys.stderr)
    return 0


def _source_hint(python: str, outputs_path: Path, outputs: dict) -> str:
    """The sources the sandbox serves, and a ready-to-run `send --source` with a sample delivery."""
    sources = outputs.get("source_secrets") or {}
    if not sources:
        return ""
    listed = ", ".join(f"{name} ({entry['provider']})" for name, entry in sorted(sources.items()))
    sample = "tests/fixtures/providers/stripe/payment_intent.succeeded.json"
    name = next((n for n, e in sorted(sources.items()) if e["provider"] == "stripe"), None)
    example = (
        f"     {python} -m pipeline_tools send --outputs {outputs_path} --source {name} --file {sample}\n"
        if name
        else ""
    )
    return f"Sources (POST {outputs['api_endpoint']}/<name>): {listed}\n{example}"


def _progress(line: str) -> None:
    print(f"    {line}", file=sys.stderr, flush=True)


def _send_to_source(args: argparse.Namespace, outputs: dict) -> int:
    fields = {"--type": args.transaction_type, "--amount": args.amount, "--currency": args.currency,
              "--timestamp": args.timestamp}  # fmt: skip
    given = [name for name, value in fields.items() if value is not None]
    if given:
        raise operations.OperationError(
            f"--source sends a provider's delivery (--file): {', '.join(given)} do not apply"
        )
    if not args.file:
        raise operations.OperationError(
            "--source needs --file <delivery.json>: a delivery as the provider sends it "
            "(samples in tests/fixtures/providers/)"
        )
    target = operations.source_target(
        outputs, args.source, secret=args.secret, provider=args.provider, public_key=args.public_key
    )
    body = args.file.read_bytes()
    if args.print_curl:
        delivery = operations.sign_for_source(target, body, event_id=args.event_id)
        print(operations.curl_command(target.url, delivery.body, delivery.headers))
        return 0
    status, response = operations.send_to_source(target, body, event_id=args.event_id)
    print(f"{status} {response}")
    return 0 if status < 300 else 1


def _send(args: argparse.Namespace, outputs: dict) -> int:
    if args.source:
        return _send_to_source(args, outputs)
    if args.provider or args.public_key:
        raise operations.OperationError("--provider and --public-key go with --source")
    args.secret = args.secret or os.environ.get("WEBHOOK_SIGNING_SECRET")
    fields = {"--type": args.transaction_type, "--amount": args.amount, "--currency": args.currency,
              "--event-id": args.event_id, "--timestamp": args.timestamp}  # fmt: skip
    given = [name for name, value in fields.items() if value is not None]
    if args.file and given:
        raise operations.OperationError(
            f"--file sends its body as it is: {', '.join(given)} would be ignored; drop one"
        )
    secret = args.secret or outputs.get("signing_secret")
    if not secret:
        raise operations.OperationError("no signing secret: pass --secret whsec_... or set WEBHOOK_SIGNING_SECRET")
    body = args.file.read_bytes() if args.file else operations.build_event(
        args.transaction_type or "payment", args.amount or "19.99", args.currency or "USD", args.event_id, args.timestamp
    )  # fmt: skip
    if args.print_curl:
        print(operations.curl_command(outputs["api_endpoint"], body, operations.signed_headers(body, secret)))
        return 0
    status, response = operations.send(outputs, body, secret)
    print(f"{status} {response}")
    return 0 if status < 300 else 1


def _replay(args: argparse.Namespace, outputs: dict) -> int:
    until = args.until or datetime.datetime.now(tz=datetime.UTC)
    operations.check_window(args.since, until, until_given=args.until is not None)
    selection = operations.replay_messages(outputs, args.since, until, args.transaction_type, _progress)
    counts = operations.counts_by_queue(selection.messages)
    skipped = [{"event_id": event_id, "reason": reason} for event_id, reason in selection.skipped]
    for entry in skipped:
        print(f"skipped {entry['event_id']}: {entry['reason']} (it stays in the table)", file=sys.stderr)
    summary: dict[str, Any] = {"by_queue": counts, "skipped": len(skipped), "not_routed": selection.not_routed}
    if args.dry_run:
        print(json.dumps({"dry_run": True, "would_replay": len(selection.messages), **summary}))
    else:
        sent = operations.send_messages(outputs, selection.messages, _progress)
        print(json.dumps({"replayed": sent, **summary}))
    # Exit 4: the window was replayed, but some events could not be (named above).
    return 4 if skipped else 0


def _reconcile(args: argparse.Namespace, outputs: dict) -> int:
    from pipeline_tools.reconcile import reconcile_source

    summary = reconcile_source(outputs, args.source, since=args.since, dry_run=args.dry_run, progress=_progress)
    print(json.dumps(summary))
    return 1 if summary.get("error") else 0


def _trace(args: argparse.Namespace, outputs: dict) -> int:
    from pipeline_tools.trace import render, trace

    found = trace(outputs, args.event_id)
    print(render(found, outputs["dynamodb_table_name"]))
    return 0 if found.item is not None else 1


def _plan(args: argparse.Namespace) -> int:
    from pipeline_tools.sandbox.plan import plan_against_sandbox

    outputs = load_outputs(args.outputs)
    _check_reachable(outputs)
    args.plan_json, args.plan_text, args.title = *plan_against_sandbox(outputs, progress=_progress), "sandbox"
    return _review_plan(args)


def _check_reachable(outputs: dict) -> None:
    """A sandbox's outputs file outlives a killed sandbox: say so instead of a connection traceback."""
    if not outputs.get("sandbox"):
        return
    for url in (outputs.get("aws_endpoint_url"), outputs.get("api_endpoint")):
        parts = urllib.parse.urlsplit(str(url))
        try:
            socket.create_connection((parts.hostname, parts.port or 80), timeout=2).close()
        except OSError:
            raise operations.OperationError(
                f"the sandbox at {url} is not answering: is `make sandbox` running?"
            ) from None


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
        if args.command == "plan":
            return _plan(args)
        outputs = load_outputs(args.outputs)
        _check_reachable(outputs)
        if args.command == "send":
            return _send(args, outputs)
        if args.command == "trace":
            return _trace(args, outputs)
        if args.command == "replay":
            return _replay(args, outputs)
        if args.command == "reconcile":
            return _reconcile(args, outputs)
        print(json.dumps(redrive(outputs, args.queue, _progress)))
        return 0
    except (OutputsError, operations.OperationError, ConfigError, OSError, PlanFormatError, CostInputError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except (BotoCoreError, ClientError, urllib.error.URLError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
