"""`python -m pipeline_tools reconcile --source <name> [--since <ISO>] [--dry-run]`: the reconciler, from a laptop.

Runs the deployed reconciler's own code (handlers/reconciler.py) with the deployed function's own
configuration (`RECONCILE_SOURCES`, table names, read back from Lambda), against AWS or the sandbox
(the outputs file says which), with the operator's credentials: reading the source's API secret,
the state table and, for `--dry-run`, the events table (GetItem); writing, without `--dry-run`,
through the door's path like the scheduled runs. A dry run writes nothing, not even the checkpoint.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import importlib
import io
import os
import sys
from collections.abc import Callable
from typing import Any

from pipeline_tools.operations import OperationError, _handlers_on_path
from pipeline_tools.outputs import client, region_of


def reconcile_source(
    outputs: dict[str, Any],
    source: str,
    *,
    since: datetime.datetime | None,
    dry_run: bool,
    progress: Callable[[str], None],
    now: datetime.datetime | None = None,
) -> dict[str, Any]:
    """One run for `source`; the report as a dict (`found`, `already_stored`, `would_write` or `wrote`,
    `missing_ids`, `gap`, `complete`, `error`). Raises `OperationError` for an unknown source."""
    arn = outputs.get("reconciler_lambda_arn")
    if not arn:
        raise OperationError("these outputs have no reconciler_lambda_arn: no source sets `reconcile`")
    configuration = client(outputs, "lambda").get_function_configuration(FunctionName=arn)
    variables = configuration.get("Environment", {}).get("Variables", {})
    _prepare_environment(outputs, variables)
    _handlers_on_path()
    reconciler = importlib.import_module("reconciler")
    settings = reconciler.load_settings(variables.get("RECONCILE_SOURCES"))
    if source not in settings:
        known = ", ".join(sorted(settings)) or "none"
        raise OperationError(f"no reconciling source named {source!r}; reconciling sources: {known}")
    chosen = settings[source]
    stub_url = (outputs.get("provider_api_stubs") or {}).get(source)
    if stub_url:  # the sandbox serves this source's provider API here (it may differ from the synthesized port)
        chosen = dataclasses.replace(chosen, api_base_url=stub_url)
    state_module = importlib.import_module("reconcile_state")
    dynamodb = client(outputs, "dynamodb")
    state = state_module.ReconcileState(dynamodb, variables["RECONCILER_STATE_TABLE"])
    events_table = variables["EVENTS_TABLE_NAME"]

    def is_stored(event_id: str) -> bool:
        answer = dynamodb.get_item(
            TableName=events_table, Key={"event_id": {"S": event_id}}, ProjectionExpression="event_id"
        )
        return "Item" in answer

    progress(f"listing {chosen.provider} events of {source} at {chosen.api_base_url}")
    provider_api = importlib.import_module("provider_api")
    try:
        api = reconciler.api_client(chosen, reconciler.credential(chosen.api_secret_arn, source))
        # Powertools flushes its metric buffer to stdout every 100 values: keep stdout for the report.
        with contextlib.redirect_stdout(io.StringIO()):
            report = reconciler.reconcile(
                chosen,
                client=api,
                state=state,
                now=now or datetime.datetime.now(tz=datetime.UTC),
                since=since,
                dry_run=dry_run,
                event_ttl_days=int(variables.get("EVENT_TTL_DAYS", "30")),
                is_stored=is_stored if dry_run else None,
            )
    except (provider_api.ProviderApiError, reconciler.StoreUnavailableError, ValueError) as error:
        partial = getattr(error, "report", None)
        result = partial.as_dict() if partial is not None else {"source": source}
        result["error"] = str(error)
        return _summary(result, dry_run)
    return _summary(report.as_dict(), dry_run)


def _summary(report: dict[str, Any], dry_run: bool) -> dict[str, Any]:
    summary = {key: report.get(key) for key in ("source", "since", "until", "found", "already_stored", "refused")}
    summary["dry_run"] = dry_run
    if dry_run:
        summary["would_write"] = report.get("missing", 0)
    else:
        summary["wrote"] = report.get("written", 0)
    summary.update(
        missing_ids=report.get("missing_ids", []),
        gap=report.get("gap", False),
        complete=report.get("complete", False),
        requests=report.get("requests", 0),
    )
    if report.get("error"):
        summary["error"] = report["error"]
    return summary


def _prepare_environment(outputs: dict[str, Any], variables: dict[str, str]) -> None:
    """The handlers read their settings and endpoints from the environment, as in Lambda."""
    for name in ("EVENTS_TABLE_NAME", "RECONCILER_STATE_TABLE", "EVENT_TTL_DAYS", "RECONCILE_SOURCES"):
        if name in variables:
            os.environ[name] = variables[name]
    os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "pipeline-tools-reconcile")
    os.environ.setdefault(
        "POWERTOOLS_METRICS_NAMESPACE", variables.get("POWERTOOLS_METRICS_NAMESPACE", "WebhookPipeline")
    )
    os.environ["AWS_DEFAULT_REGION"] = region_of(outputs)
    endpoint = outputs.get("aws_endpoint_url")
    if endpoint:  # the sandbox
        os.environ["AWS_ENDPOINT_URL"] = endpoint
        os.environ.setdefault("AWS_ACCESS_KEY_ID", "sandbox")
        os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "sandbox")
        os.environ["AWS_ACCOUNT_ID_ENDPOINT_MODE"] = "disabled"
    if "reconciler" in sys.modules:  # settings are cached per import
        sys.modules["reconciler"]._SETTINGS_CACHE = None
