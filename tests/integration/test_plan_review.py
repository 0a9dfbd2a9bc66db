"""The plan-review tool on real Terraform plans of the synthesized stack, against the sandbox's emulator:
empty state (all creates), then the sandbox's applied state with a forced replacement and a policy change."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from pipeline_tools import terraform_cli
from pipeline_tools.__main__ import DANGEROUS_CHANGES, main
from pipeline_tools.review.plan_review import render
from pipeline_tools.sandbox.emulator import OVERRIDE_FILE, write_override

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def sandbox(outputs: dict[str, Any]) -> dict[str, Any]:
    if not outputs.get("sandbox"):
        pytest.skip("plans against the sandbox's emulator and state; against AWS the plan workflow does this")
    return outputs


def _plan(sandbox: dict[str, Any], work: Path, state: Path, edit: Any = None) -> tuple[Path, Path]:
    """Plan a copy of the synthesized stack (optionally edited) against `state` on the emulator."""
    stack = work / "stack"
    shutil.copytree(sandbox["sandbox_stack_dir"], stack, ignore=shutil.ignore_patterns(OVERRIDE_FILE, ".terraform*"))
    if edit is not None:
        config = json.loads((stack / "cdk.tf.json").read_text())
        edit(config)
        (stack / "cdk.tf.json").write_text(json.dumps(config, indent=2))
    config = json.loads((stack / "cdk.tf.json").read_text())
    write_override(stack, sandbox["aws_endpoint_url"], config["provider"]["aws"][0]["region"], state)
    env = terraform_cli.terraform_env(terraform_cli.write_cli_config(work), work / "terraform-data")
    terraform_cli.run(["init", "-input=false", "-no-color"], cwd=stack, env=env)
    terraform_cli.run(["plan", "-input=false", "-no-color", "-lock=false", "-out=tfplan"], cwd=stack, env=env)
    plan_json, plan_text = work / "plan.json", work / "plan.txt"
    plan_json.write_text(terraform_cli.run(["show", "-json", "tfplan"], cwd=stack, env=env).stdout)
    plan_text.write_text(terraform_cli.run(["show", "-no-color", "tfplan"], cwd=stack, env=env).stdout)
    return plan_json, plan_text


def test_empty_state_plans_only_creates(sandbox: dict[str, Any], tmp_path: Path) -> None:
    plan_json, plan_text = _plan(sandbox, tmp_path, tmp_path / "empty.tfstate")
    review = render(json.loads(plan_json.read_text()), title="sandbox", full_plan=plan_text.read_text())
    assert {change.action for change in review.changes} == {"create"}
    assert len(review.changes) >= 56 and review.dangerous == []
    assert (
        "No deletes, replacements or data-losing updates." in review.markdown
        and "<details><summary>Full plan" in review.markdown
    )
    assert main(["review-plan", str(plan_json), "--title", "sandbox", "--output", str(tmp_path / "review.md")]) == 0


def _rename_payments_queue_and_widen_router_policy(config: dict[str, Any]) -> None:
    [queue] = [q for q in config["resource"]["aws_sqs_queue"].values() if q["name"].startswith("payments-queue-")]
    queue["name"] = queue["name"].replace("payments-queue-", "payments-queue-v2-")
    documents = config["data"]["aws_iam_policy_document"]
    [router] = [d for name, d in documents.items() if name.startswith("router_role-policy-document")]
    [send] = [s for s in router["statement"] if s.get("sid") == "SendToRoutedQueues"]
    send["actions"] = [*send["actions"], "sqs:GetQueueAttributes"]


def test_replacement_and_policy_change_are_named(sandbox: dict[str, Any], tmp_path: Path) -> None:
    state = tmp_path / "applied.tfstate"
    shutil.copyfile(sandbox["sandbox_state_path"], state)  # the sandbox's own state stays untouched
    plan_json, plan_text = _plan(sandbox, tmp_path, state, _rename_payments_queue_and_widen_router_policy)
    review_file = tmp_path / "review.md"
    exit_code = main(
        [
            "review-plan",
            str(plan_json),
            "--plan-text",
            str(plan_text),
            "--title",
            "sandbox",
            "--output",
            str(review_file),
        ]
    )
    markdown = review_file.read_text()
    print(markdown[:6000])
    assert exit_code == DANGEROUS_CHANGES
    danger = markdown.split("#### Danger list", 1)[1].split("####", 1)[0]
    assert "**CRITICAL (queue)** `aws_sqs_queue.payments-queues_source_" in danger
    assert "will be **replaced**; forced by `name`" in danger
    policies = markdown.split("#### IAM, KMS and resource-policy changes", 1)[1].split("#### Changes by", 1)[0]
    assert "`aws_iam_role_policy.router_role-policy_" in policies
    added = [line for line in policies.splitlines() if line.startswith("+ ") and "SendToRoutedQueues" in line]
    assert added and "sqs:GetQueueAttributes" in added[0]
    assert len(markdown) <= 65_536
