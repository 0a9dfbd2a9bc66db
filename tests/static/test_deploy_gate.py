"""The merge-time gate (issue 22): `deploy-environment.yml` applied a plan that review-plan calls
dangerous (exit 3) on push to main without an approval in environments without reviewers (dev).
Now a dangerous plan waits for the destructive-change environment of the same run, in every
environment, and the approved changes' digest is checked against the plan that is applied."""

from __future__ import annotations

import copy
import json
import os
import stat
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from pipeline_tools.review.changes_digest import changes_digest
from tests.static import workflow_rules as rules

pytestmark = pytest.mark.static

PROJECT = Path(__file__).resolve().parents[2]
DEPLOY = PROJECT / ".github" / "workflows" / "deploy-environment.yml"
APPLY_SCRIPT = PROJECT / ".github" / "scripts" / "apply-environment.sh"


def _deploy() -> dict[str, Any]:
    return yaml.safe_load(DEPLOY.read_text())


def test_every_apply_waits_for_an_approval_of_a_dangerous_plan() -> None:
    workflow = _deploy()
    assert rules.deploy_gate_violations(workflow) == []
    approval = workflow["jobs"]["destructive-change-approval"]
    assert approval["needs"] == "deploy" and "needs.deploy.outputs.destructive == 'true'" in approval["if"]
    assert "environment" not in str(approval["if"])  # every environment, dev included


def test_the_old_single_job_apply_is_caught() -> None:
    old = copy.deepcopy(_deploy())
    del old["jobs"]["destructive-change-approval"], old["jobs"]["apply-approved"]
    steps = old["jobs"]["deploy"]["steps"]
    steps[-2]["run"] = (
        '.github/scripts/plan-environment.sh "$DEPLOY_ENVIRONMENT" || [ $? -eq 3 ]\n'
        'terraform -chdir="$stack" apply -input=false -no-color tfplan'
    )  # what it did: exit 3 was accepted
    assert rules.deploy_gate_violations(old) == [
        "job deploy: runs terraform apply itself, not through apply-environment.sh",
    ]
    unguarded = copy.deepcopy(_deploy())
    unguarded["jobs"]["apply-approved"]["if"] = "github.ref == 'refs/heads/main'"
    assert rules.deploy_gate_violations(unguarded) == [
        "job apply-approved: applies an approved digest without needing a successful destructive-change job"
    ]


def _plan(action: str) -> dict[str, Any]:
    return {"format_version": "1.2", "planned_values": {}, "resource_changes": [{
        "address": "aws_sqs_queue.payments", "type": "aws_sqs_queue", "name": "payments", "mode": "managed",
        "change": {"actions": [action], "before": {"name": "payments-queue-dev"}, "after": {"name": "payments-queue-dev"},
                   "before_sensitive": {}, "after_sensitive": {}},
    }]}  # fmt: skip


def test_the_changes_digest_tells_plans_apart() -> None:
    assert changes_digest(_plan("delete")) == changes_digest(json.loads(json.dumps(_plan("delete"))))
    assert changes_digest(_plan("delete")) != changes_digest(_plan("update"))


@pytest.fixture
def stubbed(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A project folder with stand-ins: the plan script (its exit code and digest chosen per test) and
    a `terraform` that records an apply."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    terraform = bin_dir / "terraform"
    terraform.write_text('#!/bin/sh\necho "$@" >>"$RECORD"\n[ "$2" = output ] && echo "{}"\nexit 0\n')
    plan = tmp_path / "plan.sh"
    plan.write_text('#!/bin/sh\nmkdir -p "plan-$1"\necho "$DIGEST" >"plan-$1/changes.sha256"\nexit "$PLAN_EXIT"\n')
    for path in (terraform, plan):
        path.chmod(stat.S_IRWXU)
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "PLAN_SCRIPT": str(plan),
           "RECORD": str(tmp_path / "record"), "GITHUB_OUTPUT": str(tmp_path / "output")}  # fmt: skip
    return tmp_path, env


@pytest.mark.parametrize(
    ("plan_exit", "digest", "approved", "exit_code", "applied", "output"),
    [
        ("0", "d1", "", 0, True, "applied=true"),
        ("3", "d1", "", 0, False, "destructive=true\nchanges-sha256=d1"),  # dev too: waits for the approval
        ("3", "d1", "d1", 0, True, "applied=true"),
        ("3", "d2", "d1", 1, False, ""),  # the plan changed after the approval
        ("1", "d1", "", 1, False, ""),
    ],
)
def test_apply_environment_applies_a_dangerous_plan_only_with_its_approval(
    stubbed: tuple[Path, dict[str, str]], plan_exit: str, digest: str, approved: str, exit_code: int, applied: bool,
    output: str,
) -> None:  # fmt: skip
    work, env = stubbed
    args = [str(APPLY_SCRIPT), "dev", *([approved] if approved else [])]
    result = subprocess.run(args, cwd=work, env={**env, "PLAN_EXIT": plan_exit, "DIGEST": digest},
                            capture_output=True, text=True, timeout=30)  # fmt: skip
    assert result.returncode == exit_code, result.stdout + result.stderr
    record = (work / "record").read_text() if (work / "record").exists() else ""
    assert ("apply -input=false -no-color tfplan" in record) is applied
    written = (work / "output").read_text().strip() if (work / "output").exists() else ""
    assert written == output
