"""Stack outputs, from a flat file (`terraform output`, the sandbox) or the nested one `cdktf deploy --outputs-file` writes."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import boto3

REQUIRED = ("api_endpoint", "dynamodb_table_name", "payments_queue_url", "refunds_queue_url", "disputes_queue_url")


class OutputsError(ValueError):
    """The outputs file is missing, unreadable or lacks a required output."""


def default_outputs_path(environ: dict[str, str] | None = None, state_root: Path | None = None) -> Path:
    """The outputs file a command reads when `--outputs` is not given.

    `$PIPELINE_OUTPUTS`; else the sandbox of `$ENVIRONMENT_SUFFIX` (`.sandbox/<env>/outputs.json`);
    else the one sandbox running (`.sandbox/*/outputs.json`). Several running and no environment
    named raises `OutputsError` listing them; none running names the file `make sandbox` writes.
    """
    env = os.environ if environ is None else environ
    state_root = state_root or Path(env.get("PIPELINE_SANDBOX_STATE_DIR") or ".sandbox")
    if env.get("PIPELINE_OUTPUTS"):
        return Path(env["PIPELINE_OUTPUTS"])
    if env.get("ENVIRONMENT_SUFFIX"):
        return state_root / env["ENVIRONMENT_SUFFIX"] / "outputs.json"
    running = sorted(state_root.glob("*/outputs.json"))
    if len(running) > 1:
        names = ", ".join(path.parent.name for path in running)
        raise OutputsError(
            f"sandboxes of several environments are running ({names}): name one with ENVIRONMENT_SUFFIX=<env> "
            "or pass --outputs"
        )
    return running[0] if running else state_root / "sandbox" / "outputs.json"


def environment_of(outputs: dict[str, Any]) -> str:
    """The environment an outputs file belongs to: the sandbox's `environment`, else the table name's suffix."""
    if outputs.get("environment"):
        return str(outputs["environment"])
    return str(outputs.get("dynamodb_table_name", "")).removeprefix("transaction-events-") or "?"


def load_outputs(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise OutputsError(
            f"{path}: no such outputs file (is `make sandbox` running? Or pass --outputs <cdktf deploy --outputs-file>)"
        ) from error
    except json.JSONDecodeError as error:
        raise OutputsError(f"{path}: not JSON ({error})") from error
    if not isinstance(data, dict):
        raise OutputsError(f"{path}: expected a JSON object")
    if "api_endpoint" not in data:
        # cdktf's nested form: {"webhook-pipeline-<env>": {...}}
        stacks = [
            value for key, value in data.items() if key.startswith("webhook-pipeline-") and isinstance(value, dict)
        ]
        if len(stacks) != 1:
            raise OutputsError(f"{path}: expected flat outputs or exactly one webhook-pipeline-<env> stack")
        data = stacks[0]
    flat = {
        key: value.get("value") if isinstance(value, dict) and "value" in value else value
        for key, value in data.items()
    }
    missing = [name for name in REQUIRED if not flat.get(name)]
    if missing:
        raise OutputsError(f"{path}: missing output(s) {', '.join(missing)}")
    return flat


def region_of(outputs: dict[str, Any]) -> str:
    return str(outputs["validator_lambda_arn"]).split(":")[3] if outputs.get("validator_lambda_arn") else "us-east-1"


def client(outputs: dict[str, Any], service: str) -> Any:
    """A boto3 client for the deployment: the emulator's endpoint in the sandbox, AWS otherwise."""
    endpoint = outputs.get("aws_endpoint_url")
    options: dict[str, Any] = {"region_name": region_of(outputs)}
    if endpoint:
        options.update(endpoint_url=endpoint, aws_access_key_id="sandbox", aws_secret_access_key="sandbox")  # noqa: S106
    return boto3.client(service, **options)
