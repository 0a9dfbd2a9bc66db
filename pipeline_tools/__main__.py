"""`python -m pipeline_tools {sandbox,send,trace,replay,redrive,reconcile,secret,quarantine,plan,review-plan,cost,capacity,...}`: see `--help` of each."""

from __future__ import annotations

import argparse
import dataclasses
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
from modules.sources_config import PROVIDER_SPECS
from pipeline_tools import operations
from pipeline_tools.cost_model import CostInputError
from pipeline_tools.outputs import OutputsError, default_outputs_path, environment_of, load_outputs
from pipeline_tools.redrive import QUEUES, redrive
from pipeline_tools.review.plan_review import PlanFormatError
from pipeline_tools.terraform_cli import TerraformError


def _outcome(text: str) -> str:
    """An `outcome` of handlers/money_facts.py; anything else is a usage error naming the vocabulary."""
    operations._handlers_on_path()
    from money_facts import OUTCOMES

    if text not in OUTCOMES:
        raise argparse.ArgumentTypeError(f"{text!r} is not an outcome; outcomes: {', '.join(OUTCOMES)}")
    return text


def _event_id(text: str) -> str:
    if not text or len(text) > 1024:  # the table's key: 1 to 1024 bytes (handlers/event_schema.json)
        raise argparse.ArgumentTypeError("an event_id is 1 to 1024 characters")
    return text


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
    sandbox.add_argument("--outputs", type=Path, default=None,
                         help="where to write the outputs while the sandbox serves (default .sandbox/<env>/outputs.json)")  # fmt: skip
    sandbox.add_argument("--state-dir", type=Path, default=None,
                         help="where this instance keeps its lock, outputs, synth and state (default .sandbox; "
                              "the test suite passes its own so it runs beside a user's sandbox)")  # fmt: skip
    sandbox.add_argument("--no-synth", action="store_true",
                         help="skip the synth and apply cdktf.out/ as the last `make synth` left it (saves ~15 s)")  # fmt: skip
    sandbox.add_argument("--outdir", type=Path, default=None,
                         help="synthesize and apply there (default: <state dir>/<env>/cdktf.out)")  # fmt: skip
    sandbox.add_argument("--ready-file", type=Path, help="touched once the sandbox serves (for scripts)")
    sandbox.add_argument("--persist", action="store_true",
                         help="keep the emulator's data across restarts: saved on stop, restored on the next --persist start")  # fmt: skip
    sandbox.add_argument(
        "--clean", action="store_true", help="with --persist: delete the saved data first (start clean)"
    )
    sandbox.add_argument("--no-reload", action="store_true",
                         help="do not serve edits under handlers/ without a restart (default: reload within ~1 s)")  # fmt: skip
    sandbox.add_argument("--handlers-dir", type=Path, default=None,
                         help="watch this copy of handlers/ for edits instead (measurements, experiments)")  # fmt: skip

    def with_outputs(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("--outputs", type=Path, default=None,
                         help="flat outputs file or cdktf's --outputs-file (default: $PIPELINE_OUTPUTS, else the "
                              "sandbox of $ENVIRONMENT_SUFFIX, else the one sandbox running: .sandbox/<env>/outputs.json)")  # fmt: skip

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
    send.add_argument("--drop", action="store_true",
                      help="sandbox, with --source of a reconciling source: the provider (its API stub) creates this "
                           "event (new id, created now) and its webhook never reaches the door; the reconciler recovers it")  # fmt: skip

    trace = commands.add_parser("trace", help="where one event went: stored item, routing decision, dead-letter queues")
    with_outputs(trace)
    trace.add_argument("event_id", type=_event_id, help="the event_id to look up")

    replay = commands.add_parser("replay", help="route stored events received in a window again")
    with_outputs(replay)
    replay.add_argument("--since", type=_timestamp, required=True, help=f"start of the window, inclusive: {TIME_HELP}")
    replay.add_argument("--until", type=_timestamp, help=f"end of the window, exclusive (default now): {TIME_HELP}")
    replay.add_argument("--type", dest="transaction_type", choices=("payment", "refund", "dispute", "other"),
                        help="only events of this transaction_type")  # fmt: skip
    replay.add_argument("--dry-run", action="store_true", help="count the events per destination queue, send nothing")

    redrive = commands.add_parser(
        "redrive", help="empty an alarmed queue by its runbook (README, 'Redrive and replay')"
    )
    with_outputs(redrive)
    redrive.add_argument("queue", choices=QUEUES,
                         help="payments|refunds|disputes: DLQ back to its queue; unrouted: route parked events again; "
                              "router: replay each failed stream batch's window")  # fmt: skip

    check = commands.add_parser(
        "check-secrets", help="parse every configured secret as the validator will; exit 1 on a weak or malformed one"
    )
    with_outputs(check)

    kept = commands.add_parser("quarantine", help="signed deliveries the door refused: list, show, readmit")
    with_outputs(kept)
    kept.add_argument("action", choices=("list", "show", "readmit"),
                      help="list: one JSON line each; show ID: in full; readmit ID: today's door on the kept bytes")  # fmt: skip
    kept.add_argument("quarantine_id", nargs="?", help="with show/readmit: the quarantine_id (<source>:<sha256>)")

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
    plan.add_argument("--outputs", type=Path, default=None, help="the sandbox's outputs file (default as for send)")
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
    review.add_argument("--changes-digest", type=Path,
                        help="also write the sha256 of the plan's changes here (what an approval is bound to)")  # fmt: skip

    secret = commands.add_parser(
        "secret", help="set, rotate or describe a source's signing secret (checked against its provider's format)"
    )
    with_outputs(secret)
    secret.add_argument("action", choices=("set", "rotate", "show-format"),
                        help="set: replace; rotate: add the new one first, keep the others (--finish: keep only the "
                             "newest); show-format: what the provider's secret looks like and where to find it")  # fmt: skip
    secret.add_argument("--source", required=True, help="the source's name (`webhook`: POST /webhook's own secret)")
    secret.add_argument("--value", help="the secret (visible in shell history: prefer stdin or --value-file)")
    secret.add_argument("--value-file", type=Path, help="read the secret from this file")
    secret.add_argument("--finish", action="store_true", help="with rotate: drop every entry but the newest")

    aws = commands.add_parser("aws", help="the AWS CLI pointed at the deployment (--export: the shell variables)")
    with_outputs(aws)
    aws.add_argument("--export", action="store_true", help="print `export` lines for the AWS CLI and SDKs instead")
    aws.add_argument("arguments", nargs=argparse.REMAINDER, help="aws CLI arguments, e.g. sqs list-queues")

    status = commands.add_parser("status", help="queue and DLQ depths, the last events, alarm states")
    with_outputs(status)
    status.add_argument("--last", type=_positive_int, default=10, help="how many recent events (default 10)")

    events = commands.add_parser("events", help="stored events, newest first, with their routing")
    with_outputs(events)
    events.add_argument("action", choices=("list",), help="list: one line per stored event")
    events.add_argument("--source", help="only this source (`standard`: POST /webhook's)")
    events.add_argument(
        "--outcome", type=_outcome, help="only facts with this outcome (handlers/money_facts.py), e.g. succeeded"
    )
    events.add_argument("--limit", type=_positive_int, default=50, help="at most this many (default 50)")

    resend = commands.add_parser("resend", help="route one stored event again through the router's code")
    with_outputs(resend)
    resend.add_argument("--event-id", required=True, help="the stored event_id")

    listen = commands.add_parser("listen", help="receive a routed queue's messages as a consumer would")
    with_outputs(listen)
    listen.add_argument(
        "--queue",
        required=True,
        help="payments, refunds, disputes, unrouted, or any *_queue_url / *_dlq_url output's name",
    )
    listen.add_argument("--forward-to", help="POST each message body here; delete it only on a 2xx")
    listen.add_argument("--exit-when-empty", action="store_true", help="stop once the queue is empty")
    listen.add_argument("--keep", action="store_true", help="peek: print without deleting")

    cost = commands.add_parser("cost", help="monthly AWS cost of an environment for an event volume")
    cost.add_argument(
        "--events-per-month",
        type=_positive_int,
        help="events per month (10000000 or 10_000_000); without it: the cost per million events at 1 M, 10 M "
        "and 100 M a month, before and after each cost reduction",
    )
    cost.add_argument(
        "--payload-bytes",
        type=_positive_int,
        default=None,
        help="average body size in bytes (default: the environment's typical_payload_bytes)",
    )
    cost.add_argument("--environment", default=None, help="settings to price (default: $ENVIRONMENT_SUFFIX or dev)")
    cost.add_argument("--json", action="store_true", help="print the estimate, or the per-million table, as JSON")
    cost.add_argument(
        "--front-door",
        choices=("rest", "http_api", "compare"),
        help="price the environment with this front door instead of its own (http_api drops the WAF: HTTP APIs "
        "cannot have one); compare: per-million cost at 1 M, 10 M and 100 M a month of REST, REST + WAF and HTTP "
        "API (docs/FRONT-DOOR.md)",
    )

    capacity = commands.add_parser(
        "capacity", help="events/s each stage takes (sustained, burst), which binds first, what a provider sees"
    )
    capacity.add_argument("--environment", default=None, help="settings to read (default: $ENVIRONMENT_SUFFIX or dev)")
    capacity.add_argument("--json", action="store_true", help="print the model as JSON")

    load = commands.add_parser(
        "load", help="bursts of signed deliveries from several sources; accepted, refused, lost, duplicated"
    )
    with_outputs(load)
    load.add_argument("--count", type=_positive_int, default=200, help="deliveries (default 200)")
    load.add_argument("--rate", type=float, default=50.0, help="deliveries per second on average (default 50)")
    load.add_argument("--burst", type=_positive_int, default=25, help="sent at once, per burst (default 25)")
    load.add_argument("--concurrency", type=_positive_int, default=8, help="connections at once (default 8)")
    load.add_argument("--attempts", type=_positive_int, default=8, help="tries per delivery, as a provider retries")
    load.add_argument("--sources", help="comma-separated, e.g. standard,svix,stripe (default: every one it can send)")
    load.add_argument("--throttle", type=float, default=0.0,
                      help="sandbox only: this share of the events table's PutItems throttled during the run")  # fmt: skip
    load.add_argument("--json", action="store_true", help="print the report as JSON")
    return parser


def _load_run(args: argparse.Namespace, outputs: dict) -> int:
    """`load`: exit 0 only when nothing was lost or duplicated and every refusal carried Retry-After."""
    import dataclasses

    from pipeline_tools import load

    try:
        result = load.run(
            outputs, count=args.count, rate=args.rate, burst=args.burst, concurrency=args.concurrency,
            attempts=args.attempts, sources=args.sources.split(",") if args.sources else None, throttle=args.throttle,
        )  # fmt: skip
    except load.LoadError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(json.dumps(dataclasses.asdict(result), indent=2, sort_keys=True) if args.json else result.text())
    return 0 if result.ok else 1


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
    settings = load_settings(environment)
    # The environment's own figure unless one is given: the capacity command sizes the table with it too.
    payload = args.payload_bytes or settings.typical_payload_bytes
    where = "--payload-bytes" if args.payload_bytes else f"typical_payload_bytes of {environment}"
    # Checked before any line is printed, so a refused input prints the error alone.
    cost_model.check_inputs(args.events_per_month or 1, payload)
    if args.front_door not in (None, "compare"):
        # What the synth would build: an HTTP API cannot have a WAF (modules/config.py refuses the pair).
        waf = settings.waf_enabled and args.front_door == "rest"
        settings = dataclasses.replace(settings, front_door=args.front_door, waf_enabled=waf)
    if args.front_door == "compare" or args.events_per_month is None:
        compare = args.front_door == "compare"
        rows = (cost_model.front_door_rows if compare else cost_model.reduction_rows)(payload, settings)
        if args.json:
            table = "front_doors" if compare else "reductions"
            print(json.dumps({"environment": environment, "payload_bytes": payload, "payload_bytes_from": where,
                              table: rows}, indent=2))  # fmt: skip
            return 0
        if compare:
            print(f"Cost per million events of webhook-pipeline-{environment} by front door, {payload:,} B events "
                  f"({where}; API Gateway + WAF share in brackets):")  # fmt: skip
            print(cost_model.front_door_table(payload, settings))
        else:
            print(f"Cost per million events of webhook-pipeline-{environment}, {payload:,} B events ({where}):")
            print(cost_model.reduction_table(payload, settings))
        return 0
    estimate = cost_model.estimate(args.events_per_month, payload, settings)
    if args.json:
        print(json.dumps({**cost_model.as_dict(estimate), "payload_bytes_from": where}, indent=2))
    else:
        print(cost_model.render(estimate, environment, where))
    return 0


def _capacity(args: argparse.Namespace) -> int:
    from modules import capacity
    from modules.config import load_settings

    plan = capacity.plan_capacity(load_settings(args.environment or environment_suffix()))
    print(json.dumps(capacity.as_dict(plan), indent=2) if args.json else capacity.render(plan))
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
    if getattr(args, "changes_digest", None):
        from pipeline_tools.review.changes_digest import changes_digest

        args.changes_digest.write_text(changes_digest(plan) + "\n", encoding="utf-8")
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
    from pipeline_tools.sandbox.lambda_runtime import CodeMismatchError
    from pipeline_tools.sandbox.runner import Sandbox, SandboxBusyError, SandboxError

    sandbox = Sandbox(
        environment_suffix(),
        args.outputs and args.outputs.resolve(),
        synth=not args.no_synth,
        outdir=args.outdir and args.outdir.resolve(),
        state_root=args.state_dir and args.state_dir.resolve(),
        reload=not args.no_reload,
        persist=args.persist or args.clean,
        clean=args.clean,
        handlers_dir=args.handlers_dir and args.handlers_dir.resolve(),
    )
    args.outputs = sandbox.outputs_path
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
    except (SandboxError, TerraformError, CodeMismatchError) as error:
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
        removed = sandbox.down()
        if removed:
            print(f"sandbox {sandbox.environment} stopped: {'; '.join(removed)}", file=sys.stderr)
    return 0


def _source_hint(python: str, outputs_path: Path, outputs: dict) -> str:
    """The sources the sandbox serves, and a ready-to-run `send --source` with a sample delivery."""
    sources = outputs.get("source_secrets") or {}
    if not sources:
        return ""
    listed = ", ".join(f"{name} ({entry['provider']})" for name, entry in sorted(sources.items()))
    stubs = outputs.get("provider_api_stubs") or {}
    # A source whose provider declares a sample delivery (SPEC.load_sample); one with a reconcile stub
    # first, so the example can also show a dropped webhook recovered.
    samples = {
        n: PROVIDER_SPECS[e["provider"]].load_sample for n, e in sources.items() if e["provider"] in PROVIDER_SPECS
    }
    candidates = sorted((n not in stubs, n) for n, s in samples.items() if s is not None)
    name = candidates[0][1] if candidates else None
    sample = f"tests/fixtures/providers/{samples[name]}" if name else ""
    example = (
        f"     {python} -m pipeline_tools send --outputs {outputs_path} --source {name} --file {sample}\n"
        if name
        else ""
    )
    if name and name in stubs:
        every = (outputs.get("reconcile_schedules") or {}).get(name, "on its schedule")
        example += (
            f"Reconciled {every} from their providers' API stubs: {', '.join(sorted(stubs))}. Drop a webhook "
            f"(the provider holds it, the door never gets it) and watch it recovered:\n"
            f"     {python} -m pipeline_tools send --outputs {outputs_path} --source {name} --file {sample} --drop\n"
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
    if args.drop:
        return _drop_webhook(args.source, body, outputs)
    if args.print_curl:
        delivery = operations.sign_for_source(target, body, event_id=args.event_id)
        print(operations.curl_command(target.url, delivery.body, delivery.headers))
        return 0
    status, response = operations.send_to_source(target, body, event_id=args.event_id)
    print(f"{status} {response}")
    return 0 if status < 300 else 1


def _drop_webhook(source: str, body: bytes, outputs: dict) -> int:
    from pipeline_tools.sandbox.provider_apis import drop_events

    stubs = outputs.get("provider_api_stubs") or {}
    if source not in stubs:
        raise operations.OperationError(
            f"--drop needs the sandbox's provider API stub of {source}; stubs: {', '.join(sorted(stubs)) or 'none'} "
            "(sources with `reconcile` in terraform-state-config/sandbox.json)"
        )
    try:
        [event] = drop_events(stubs[source], {"event": json.loads(body)})
    except (RuntimeError, ValueError) as error:
        raise operations.OperationError(str(error)) from None
    event_id = event.get("id") or event.get("event_id")
    every = (outputs.get("reconcile_schedules") or {}).get(source, "on its schedule")
    print(f"dropped {source}:{event_id}: the provider holds it, the door never got it. The reconciler stores it "
          f"{every}, or now: python -m pipeline_tools reconcile --source {source}")  # fmt: skip
    return 0


def _send(args: argparse.Namespace, outputs: dict) -> int:
    if args.source:
        return _send_to_source(args, outputs)
    if args.provider or args.public_key or args.drop:
        raise operations.OperationError("--provider, --public-key and --drop go with --source")
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


def _quarantine(args: argparse.Namespace, outputs: dict) -> int:
    """Exit 0: done (readmit: stored and released); 1: readmitted but refused again (still kept)."""
    from pipeline_tools import quarantine

    if args.action != "list" and not args.quarantine_id:
        raise operations.OperationError(f"quarantine {args.action} needs a quarantine_id (see quarantine list)")
    try:
        if args.action == "list":
            for entry in quarantine.list_kept(outputs):
                print(json.dumps(entry))
            return 0
        if args.action == "show":
            print(json.dumps(quarantine.show(outputs, args.quarantine_id), indent=2))
            return 0
        answer = quarantine.readmit(outputs, args.quarantine_id)
    except quarantine.QuarantineError as error:
        raise operations.OperationError(str(error)) from None
    print(json.dumps(answer))
    return 0 if answer.get("released") else 1


def _plan(args: argparse.Namespace) -> int:
    from pipeline_tools.sandbox.plan import SandboxPlanError, plan_against_sandbox

    outputs = _load(args)
    try:
        args.plan_json, args.plan_text = plan_against_sandbox(outputs, progress=_progress)
    except SandboxPlanError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    # review-plan's own options, which `plan` does not take (their absence crashed `make plan`).
    args.title = environment_of(outputs)  # the sandbox's environment, not always `sandbox`
    args.context = f"current code planned against the running sandbox ({args.outputs})"
    return _review_plan(args)


def _secret(args: argparse.Namespace, outputs: dict) -> int:
    from pipeline_tools import secret as secrets_tool
    from pipeline_tools.provider_signing import random_secret

    target = secrets_tool.target(outputs, args.source)
    where = f"secret of {target.name} ({target.provider}) in environment {environment_of(outputs)}"
    if args.action == "show-format":
        print(f"{where}: {secrets_tool.FORMATS[target.provider]}")
        print(f"stored as {{\"{target.key}\": [\"<newest>\", \"<older, while rotating>\"]}}; "
              f"e.g. a value shaped like {random_secret(target.provider)[:12]}…")  # fmt: skip
        return 0
    current = secrets_tool.current_entries(outputs, target)
    was_usable = secrets_tool.usable(target.provider, current, target.options)
    if args.action == "rotate" and args.finish:
        if not current:
            raise operations.OperationError(f"{where} holds no entry to keep")
        entries = current[:1]
    else:
        value = secrets_tool.read_value(args.value, args.value_file)
        secrets_tool.check_value(target.provider, value, target.options)
        entries = [value] if args.action == "set" else [value, *(e for e in current if e != value)]
    secrets_tool.write(outputs, args.outputs, target, entries)
    print(f"{where}: {len(entries)} entr{'y' if len(entries) == 1 else 'ies'} stored, newest first; "
          f"{secrets_tool.when_it_takes_effect(was_usable)}")  # fmt: skip
    if args.action == "rotate" and not args.finish and len(entries) > 1:
        print(f"next: switch {target.provider} to the new secret, then "
              f"`python -m pipeline_tools secret rotate --source {target.name} --finish`")  # fmt: skip
    return 0


def _observe(args: argparse.Namespace, outputs: dict) -> int:
    from pipeline_tools import observe

    if args.command == "resend":
        print(f"{args.event_id} -> {observe.resend(outputs, args.event_id)}")
        return 0
    if args.command == "listen":
        forward = observe.forwarder(args.forward_to) if args.forward_to else None
        observe.queue_url(outputs, args.queue)  # an unknown queue is an error before "listening on"
        print(f"listening on {args.queue} (Ctrl-C to stop)", file=sys.stderr, flush=True)
        try:
            for delivery, acknowledged in observe.listen(
                outputs, args.queue, exit_when_empty=args.exit_when_empty, keep=args.keep, forward=forward
            ):
                state = "kept" if args.keep else "acknowledged" if acknowledged else "not acknowledged (comes back)"
                # The body as SQS holds it (exact amounts: never through a float), spliced in as JSON.
                head = json.dumps(
                    {"message_id": delivery.message_id, "attributes": delivery.attributes, "state": state}
                )
                print(f'{head[:-1]}, "body": {delivery.body}}}', flush=True)
        except KeyboardInterrupt:
            pass
        return 0
    limit = args.last if args.command == "status" else args.limit
    events, truncated = observe.stored_events(
        outputs, source=getattr(args, "source", None), outcome=getattr(args, "outcome", None)
    )
    if args.command == "status":
        print(f"queues ({environment_of(outputs)})")
        for depth in observe.queue_depths(outputs):
            print(f"  {depth['queue']:<32} {depth['visible']:>6} visible {depth['in_flight']:>6} in flight")
        print("alarms" + (" (evaluated here against the emulator)" if outputs.get("sandbox") else " (CloudWatch)"))
        for alarm in observe.alarm_states(outputs):
            print(f"  {alarm['state']:<14} {alarm['name']}  {alarm['why']}")
        print(
            f"last {min(limit, len(events))} of {len(events)} events"
            + (" (scan stopped at 10,000 items)" if truncated else "")
        )
    for row in observe.event_rows(outputs, events[:limit]):
        print(f"  {row}" if args.command == "status" else row)
    return 0


def _load(args: argparse.Namespace) -> dict:
    """The outputs a command works on, named on stderr with their environment (which deployment answers)."""
    args.outputs = args.outputs or default_outputs_path()
    outputs = load_outputs(args.outputs)
    print(f"environment {environment_of(outputs)} (outputs {args.outputs})", file=sys.stderr)
    _check_reachable(outputs)
    return outputs


def _check_reachable(outputs: dict) -> None:
    """A sandbox's outputs file outlives a killed sandbox: say so instead of a connection traceback."""
    if not outputs.get("sandbox"):
        return
    for url in filter(None, (outputs.get("aws_endpoint_url"), outputs.get("api_endpoint"))):
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
        if args.command == "capacity":
            return _capacity(args)
        if args.command == "plan":
            return _plan(args)
        outputs = _load(args)
        if args.command == "send":
            return _send(args, outputs)
        if args.command == "trace":
            return _trace(args, outputs)
        if args.command == "replay":
            return _replay(args, outputs)
        if args.command == "quarantine":
            return _quarantine(args, outputs)
        if args.command == "check-secrets":
            from pipeline_tools.secret_check import problems

            found = problems(outputs)
            for line in found:
                print(line)
            print("every secret is usable" if not found else f"{len(found)} problem(s)", file=sys.stderr)
            return 1 if found else 0
        if args.command == "secret":
            return _secret(args, outputs)
        if args.command in ("status", "events", "resend", "listen"):
            return _observe(args, outputs)
        if args.command == "aws":
            from pipeline_tools import aws_cli

            if args.export or not args.arguments:
                print(aws_cli.export_lines(outputs))
                return 0
            return aws_cli.run(outputs, args.arguments)
        if args.command == "reconcile":
            return _reconcile(args, outputs)
        if args.command == "load":
            return _load_run(args, outputs)
        print(json.dumps(redrive(outputs, args.queue, _progress)))
        return 0
    except (OutputsError, operations.OperationError, ConfigError, OSError, PlanFormatError, CostInputError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except (BotoCoreError, ClientError, urllib.error.URLError, TerraformError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
