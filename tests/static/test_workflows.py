"""The GitHub workflows: actionlint clean, and the rules that keep credentials away from unreviewed
code (tests/static/workflow_rules.py), each shown to catch a planted copy of what it replaced."""

from __future__ import annotations

import copy
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.static import workflow_rules as rules

pytestmark = pytest.mark.static

PROJECT = Path(__file__).resolve().parents[2]
GITHUB = PROJECT / ".github"
WORKFLOWS = GITHUB / "workflows"
ACTIONLINT = Path(sys.executable).parent / "actionlint"


def _actionlint(*paths: Path) -> subprocess.CompletedProcess[str]:
    assert ACTIONLINT.is_file(), f"{ACTIONLINT} is missing: run `make install`"
    return subprocess.run(
        [str(ACTIONLINT), "-no-color", *map(str, paths)], cwd=PROJECT, capture_output=True, text=True, check=False
    )


def _load(path: Path) -> dict[str, Any]:
    return yaml.safe_load(path.read_text())


@pytest.fixture
def workflows() -> dict[str, dict[str, Any]]:
    return {path.name: _load(path) for path in sorted(WORKFLOWS.glob("*.yml"))}


@pytest.fixture
def actions() -> dict[str, dict[str, Any]]:
    return {f"./.github/actions/{path.parent.name}": _load(path) for path in GITHUB.glob("actions/*/action.yml")}


def test_the_workflows_exist_and_lint_clean() -> None:
    workflows = sorted(WORKFLOWS.glob("*.yml"))
    assert [path.name for path in workflows] == ["ci.yml", "deploy-environment.yml", "deploy.yml", "plan.yml"]
    result = _actionlint(*workflows)
    assert result.returncode == 0, result.stdout + result.stderr


def test_ci_runs_the_readme_test_command() -> None:
    assert "run: bash .ci/run" in (WORKFLOWS / "ci.yml").read_text()
    assert "make test" in (PROJECT / ".ci" / "run").read_text()


def test_prod_is_deployed_only_after_dev_and_through_its_protected_environment() -> None:
    deploy = _load(WORKFLOWS / "deploy.yml")
    assert deploy["jobs"]["prod"]["needs"] == "dev"
    assert {job["with"]["environment"] for job in deploy["jobs"].values()} == {"dev", "prod"}
    jobs = _load(WORKFLOWS / "deploy-environment.yml")["jobs"]
    for name in ("deploy", "apply-approved"):  # the two jobs that apply (issue 22: a dangerous plan waits)
        assert jobs[name]["environment"] == "${{ inputs.environment }}"
        assert jobs[name]["concurrency"]["cancel-in-progress"] is False


def test_a_broken_workflow_is_caught(tmp_path: Path) -> None:
    broken = tmp_path / ".github" / "workflows"
    broken.mkdir(parents=True)
    text = (WORKFLOWS / "plan.yml").read_text().replace("needs.dev.outputs", "needs.development.outputs")
    shutil.copy(WORKFLOWS / "plan.yml", broken / "original.yml")
    (broken / "plan.yml").write_text(text)
    result = _actionlint(broken / "plan.yml")
    assert result.returncode == 1 and 'property "development" is not defined' in result.stdout


# --- every action pinned to a commit -------------------------------------------------------------


def test_every_action_is_pinned_to_a_commit_sha_with_its_tag() -> None:
    files = [*WORKFLOWS.glob("*.yml"), *GITHUB.glob("actions/*/action.yml")]
    assert len(files) == 6
    assert {str(path): rules.unpinned_actions(path.read_text()) for path in files} == {str(p): [] for p in files}


@pytest.mark.parametrize(
    "line",
    [
        "      - uses: actions/checkout@v4",  # a tag: whoever controls the repository can move it
        "      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683",  # no tag comment
        "      - uses: actions/checkout@11bd719 # v4.2.2",  # a short SHA can collide
    ],
)
def test_a_tag_or_an_unreadable_pin_is_caught(line: str) -> None:
    assert rules.unpinned_actions(f"steps:\n{line}\n") == [f"line 2: {line.strip()}"]


def test_dependabot_keeps_the_pins_of_workflows_and_the_composite_actions_current() -> None:
    [update] = _load(GITHUB / "dependabot.yml")["updates"]
    assert update["package-ecosystem"] == "github-actions"
    assert {"/", "/.github/actions/*"} <= set(update["directories"])


# --- prod credentials need an approval bound to the run -----------------------------------------


def test_no_pull_request_job_reaches_a_prod_role_without_an_approval_environment(
    workflows: dict[str, dict[str, Any]], actions: dict[str, dict[str, Any]]
) -> None:
    for workflow in workflows.values():
        assert rules.prod_credential_violations(workflow, actions) == []
    assert workflows["plan.yml"]["jobs"]["prod"]["environment"] == "prod-plan"


def test_a_prod_plan_without_its_environment_is_caught(
    workflows: dict[str, dict[str, Any]], actions: dict[str, dict[str, Any]]
) -> None:
    plan = copy.deepcopy(workflows["plan.yml"])
    del plan["jobs"]["prod"]["environment"]
    assert rules.prod_credential_violations(plan, actions) == [
        "job prod: reaches a prod role from a pull request without an approval environment"
    ]


def test_the_replaced_matrix_plan_is_caught() -> None:
    """The old plan.yml: one job, a dev/prod matrix, the prod role assumed on any pull request."""
    old = {
        True: {"pull_request": {"types": ["opened", "synchronize", "labeled"]}},
        "jobs": {
            "plan": {
                "strategy": {"matrix": {"include": [{"environment": "prod", "role": "AWS_PLAN_ROLE_ARN_PROD"}]}},
                "steps": [
                    {"uses": "aws-actions/configure-aws-credentials@v4", "with": {"role-to-assume": "x"}},
                    {"run": '.github/scripts/plan-environment.sh "${{ matrix.environment }}"'},
                    {"uses": "actions/upload-artifact@v4", "with": {"path": "plan-${{ matrix.environment }}/"}},
                    {"if": "!contains(github.event.pull_request.labels.*.name, 'destructive-change-approved')"},
                ],
            }
        },
    }
    assert rules.prod_credential_violations(old, {}) != []
    assert rules.unlocked_plan_violations(old, {}) != []
    assert rules.artifact_violations({"plan.yml": old}) == ["plan.yml: uploads plan-${{ matrix.environment }}/"]
    assert len(rules.destructive_gate_violations(old)) == 4


# --- pull-request plans never take the lock ------------------------------------------------------


def test_pull_request_plans_run_without_the_lock(
    workflows: dict[str, dict[str, Any]], actions: dict[str, dict[str, Any]]
) -> None:
    assert rules.unlocked_plan_violations(workflows["plan.yml"], actions) == []
    locked = copy.deepcopy(actions)
    [step] = [s for s in locked["./.github/actions/plan-review"]["runs"]["steps"] if s.get("id") == "plan"]
    step["run"] = step["run"].replace(" --no-lock", "")
    assert len(rules.unlocked_plan_violations(workflows["plan.yml"], locked)) == 1


def _stub(folder: Path, name: str, body: str) -> None:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"#!/usr/bin/env bash\n{body}\n")
    path.chmod(0o755)


@pytest.mark.parametrize(("option", "lock_argument"), [(["--no-lock"], True), ([], False)])
def test_the_plan_script_plans_without_the_lock_and_keeps_the_plan_json_private(
    tmp_path: Path, option: list[str], lock_argument: bool
) -> None:
    """The real script with stand-ins for make, terraform and review-plan that log their arguments."""
    bin_dir, log = tmp_path / "bin", tmp_path / "calls.log"
    _stub(bin_dir, "make", f'echo "make $*" >>{log}')
    _stub(
        bin_dir,
        "terraform",
        f'echo "terraform $*" >>{log}\n'
        'case "$*" in *" plan "*) touch "${1#-chdir=}/tfplan";; *"show -json"*) echo \'{"secret": "clear"}\';; esac',
    )
    _stub(tmp_path, ".venv/bin/python", f'echo "review $*" >>{log}\n'
          'while [ $# -gt 0 ]; do case "$1" in --output) echo "# review" >"$2";; '
          '--changes-digest) echo "abc" >"$2";; esac; shift; done\nexit 3')  # fmt: skip
    (tmp_path / "cdktf.out/stacks/webhook-pipeline-dev").mkdir(parents=True)
    result = subprocess.run(
        ["bash", str(GITHUB / "scripts" / "plan-environment.sh"), "dev", *option],
        cwd=tmp_path,
        env={**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "RUNNER_TEMP": str(tmp_path)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 3, result.stderr  # review-plan's code, passed through
    [plan_call] = [line for line in log.read_text().splitlines() if line.startswith("terraform") and " plan " in line]
    assert ("-lock=false" in plan_call.split()) is lock_argument
    assert sorted(path.name for path in (tmp_path / "plan-dev").iterdir()) == [
        "changes.sha256", "plan.sha256", "review.md",
    ]  # fmt: skip
    assert not list(tmp_path.glob("plan-dev.*")), "the private folder with plan.json is removed on exit"


# --- no plan, plan JSON or outputs as artifacts --------------------------------------------------


def test_only_rendered_reviews_leave_a_run(
    workflows: dict[str, dict[str, Any]], actions: dict[str, dict[str, Any]]
) -> None:
    assert rules.artifact_violations({**workflows, **actions}) == []
    leaky = copy.deepcopy(actions)
    [upload] = [
        s for s in leaky["./.github/actions/plan-review"]["runs"]["steps"] if "upload-artifact" in s.get("uses", "")
    ]
    upload["with"]["path"] = "plan-${{ inputs.environment }}/\noutputs-dev.json"
    assert rules.artifact_violations(leaky) == [
        "./.github/actions/plan-review: uploads plan-${{ inputs.environment }}/",
        "./.github/actions/plan-review: uploads outputs-dev.json",
    ]


# --- applies from main only ----------------------------------------------------------------------


def test_applies_run_from_main_only(workflows: dict[str, dict[str, Any]]) -> None:
    for name in ("deploy.yml", "deploy-environment.yml"):
        assert rules.main_only_violations(workflows[name]) == []
    unguarded = copy.deepcopy(workflows["deploy.yml"])
    del unguarded["jobs"]["dev"]["if"]
    assert rules.main_only_violations(unguarded) == ["job dev: may run from any ref (no `if: github.ref == 'refs/heads/main'`)"]  # fmt: skip


# --- destructive changes: approved on the run that carries the plan, not by the author -----------


def test_destructive_plans_need_an_environment_approval_of_the_same_run(workflows: dict[str, dict[str, Any]]) -> None:
    plan = workflows["plan.yml"]
    assert rules.destructive_gate_violations(plan) == []
    approval = plan["jobs"]["destructive-change-approval"]
    assert set(approval["needs"]) == {"dev", "prod"} and "destructive == 'true'" in approval["if"]
    assert plan["jobs"]["gate"]["needs"] == ["dev", "prod", "destructive-change-approval"]


def test_a_label_gate_is_caught(workflows: dict[str, dict[str, Any]]) -> None:
    plan = copy.deepcopy(workflows["plan.yml"])
    plan[True]["pull_request"]["types"].append("labeled")
    plan["jobs"]["gate"]["if"] = "!contains(github.event.pull_request.labels.*.name, 'destructive-change-approved')"
    assert rules.destructive_gate_violations(plan) == [
        "re-runs on labels: a label is no approval",
        "a job reads pull-request labels: the author can add them and they survive pushes",
        "job gate: must always run and need the approval job",
    ]


@pytest.mark.parametrize(
    ("plans", "destructive", "approval", "passes"),
    [
        ("success success", "false false", "skipped", True),
        ("success success", "false true", "success", True),
        ("success success", "true false", "skipped", False),  # destructive, nobody approved
        ("success success", "true true", "failure", False),  # rejected
        ("success success", "false true", "cancelled", False),
        ("success failure", "false ", "skipped", False),  # a plan failed
        ("skipped skipped", " ", "skipped", False),  # fork pull request: nothing was planned
    ],
)
def test_the_gate_script(plans: str, destructive: str, approval: str, passes: bool) -> None:
    result = subprocess.run(
        ["bash", str(GITHUB / "scripts" / "plan-gate.sh")],
        env={**os.environ, "PLAN_RESULTS": plans, "DESTRUCTIVE": destructive, "APPROVAL_RESULT": approval},
        capture_output=True,
        text=True,
        check=False,
    )
    assert (result.returncode == 0) is passes, result.stdout
