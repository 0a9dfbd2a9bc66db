"""`plan --sandbox`: a real `terraform plan` of the current code against the running sandbox's state.

The current code is synthesized into `.sandbox/<env>/plan/cdktf.out` (so `cdktf.out/`, which the
sandbox applied, is untouched), pointed at the sandbox's emulator with the same override the sandbox
uses, and planned against a copy of the sandbox's state (`-lock=false`: the sandbox keeps its own).
The plan is then shown as JSON and text for `review-plan`, so the review tool works without AWS.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pipeline_tools import terraform_cli
from pipeline_tools.sandbox.emulator import OVERRIDE_FILE, write_override

PROJECT_ROOT = Path(__file__).resolve().parents[2]


class SandboxPlanError(RuntimeError):
    """The outputs are not a running sandbox's, or the synth failed; the message says which."""


def plan_against_sandbox(
    outputs: dict[str, Any], progress: Callable[[str], None] = lambda _: None
) -> tuple[Path, Path]:
    """Return (plan.json, plan.txt) of the current code planned against the sandbox's applied state."""
    if not outputs.get("sandbox") or not outputs.get("sandbox_stack_dir"):
        raise SandboxPlanError("these outputs are not a sandbox's: `plan --sandbox` needs a running `make sandbox`")
    stack_name = Path(outputs["sandbox_stack_dir"]).name
    environment = stack_name.removeprefix("webhook-pipeline-")
    # Beside the sandbox's own state (`<state root>/<env>/plan`): two instances never share it.
    work = Path(outputs["sandbox_state_path"]).parent / "plan"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    progress(f"synthesizing the current code for {environment} into {work / 'cdktf.out'}")
    env = {**os.environ, "ENVIRONMENT_SUFFIX": environment, "CDKTF_OUTDIR": str(work / "cdktf.out"),
           "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20"}  # fmt: skip
    # The running sandbox already synthesized this environment, declared by a tool or by its own file.
    env.setdefault("PIPELINE_DECLARED_ENVIRONMENT", environment)
    result = subprocess.run(
        [sys.executable, "main.py"], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise SandboxPlanError(f"synth failed:\n{result.stderr[-4000:]}")
    stack = work / "cdktf.out" / "stacks" / stack_name
    state = work / "sandbox.tfstate"
    shutil.copyfile(outputs["sandbox_state_path"], state)
    region = json.loads((stack / "cdk.tf.json").read_text())["provider"]["aws"][0].get("region", "us-east-1")
    (stack / OVERRIDE_FILE).unlink(missing_ok=True)
    write_override(stack, outputs["aws_endpoint_url"], region, state)
    tf_env = terraform_cli.terraform_env(terraform_cli.write_cli_config(work), work / "terraform-data")
    progress("terraform init + plan against the sandbox's state")
    terraform_cli.run(["init", "-input=false", "-no-color"], cwd=stack, env=tf_env)
    terraform_cli.run(["plan", "-input=false", "-no-color", "-lock=false", "-out=tfplan"], cwd=stack, env=tf_env)
    plan_json, plan_text = work / "plan.json", work / "plan.txt"
    plan_json.write_text(terraform_cli.run(["show", "-json", "tfplan"], cwd=stack, env=tf_env).stdout)
    plan_text.write_text(terraform_cli.run(["show", "-no-color", "tfplan"], cwd=stack, env=tf_env).stdout)
    progress(f"plan in {plan_json} and {plan_text}")
    return plan_json, plan_text
