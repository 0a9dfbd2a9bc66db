"""Rules on the GitHub workflows and actions that keep credentials away from unreviewed code.

Each rule takes parsed YAML (or the file's text, for the pin comments) and returns violations as
human-readable strings; an empty list means the rule holds. The tests apply them to `.github/` and to
planted copies of the behaviour they replaced, so each rule is shown to fail.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

# `owner/repo[/path]@<40 hex> # v<version>`: a tag cannot be moved under a commit SHA, and the comment
# keeps the version readable (and lets Dependabot update both).
_PINNED = re.compile(r"^\s*-?\s*uses:\s*[\w.-]+/[\w./-]+@[0-9a-f]{40}\s+#\s*v\d[\w.-]*\s*$")
_USES = re.compile(r"^\s*-?\s*uses:\s*(\S+)")
# Files that may leave a run as artifacts: the rendered, masked review only.
ALLOWED_ARTIFACT = re.compile(r"^plan-[\w${}. -]+/review\.md$")
MAIN_REF_GUARD = "github.ref == 'refs/heads/main'"
PULL_REQUEST_EVENTS = ("pull_request", "pull_request_target")


def triggers(workflow: dict[str, Any]) -> set[str]:
    """Event names of a workflow (PyYAML reads the `on:` key as the boolean True)."""
    on = workflow.get("on", workflow.get(True))
    if isinstance(on, str):
        return {on}
    return set(on or ())


def unpinned_actions(text: str) -> list[str]:
    """Every remote `uses:` line not pinned to a full commit SHA with its tag in a comment."""
    violations = []
    for number, line in enumerate(text.splitlines(), 1):
        match = _USES.match(line)
        if not match or match[1].startswith("./"):
            continue
        if not _PINNED.match(line):
            violations.append(f"line {number}: {line.strip()}")
    return violations


def _steps(job: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield from job.get("steps", [])


def _assumes_a_role(job: dict[str, Any], actions: dict[str, dict[str, Any]]) -> bool:
    for step in _steps(job):
        uses = str(step.get("uses", ""))
        if "configure-aws-credentials" in uses:
            return True
        if uses in actions and _assumes_a_role(actions[uses]["runs"], {}):
            return True
    return False


def prod_credential_violations(workflow: dict[str, Any], actions: dict[str, dict[str, Any]]) -> list[str]:
    """In a pull-request workflow, a job that assumes an AWS role for prod must name a GitHub
    environment (whose required reviewers approve the run, and whose OIDC subject the prod role trusts).

    `actions` maps local action paths (`./.github/actions/x`) to their parsed `action.yml`.
    """
    if not triggers(workflow) & set(PULL_REQUEST_EVENTS):
        return []
    violations = []
    for name, job in workflow.get("jobs", {}).items():
        if not _assumes_a_role(job, actions):
            continue
        if "prod" in str(job).lower() and not job.get("environment"):
            violations.append(f"job {name}: reaches a prod role from a pull request without an approval environment")
    return violations


def unlocked_plan_violations(workflow: dict[str, Any], actions: dict[str, dict[str, Any]]) -> list[str]:
    """Pull-request plans run `plan-environment.sh <env> --no-lock` (their roles cannot write the lock)."""
    if not triggers(workflow) & set(PULL_REQUEST_EVENTS):
        return []
    runs = [str(step.get("run", "")) for job in workflow.get("jobs", {}).values() for step in _steps(job)]
    runs += [str(step.get("run", "")) for action in actions.values() for step in action["runs"].get("steps", [])]
    return [
        f"a pull-request plan takes the state lock: {line.strip()}"
        for run in runs
        for line in run.splitlines()
        if "plan-environment.sh" in line and "--no-lock" not in line
    ]


def artifact_violations(documents: dict[str, dict[str, Any]]) -> list[str]:
    """Uploads hold nothing but rendered reviews: no plan file, plan JSON or raw outputs."""
    violations = []
    for source, document in documents.items():
        jobs = document.get("jobs", {}).values() if "jobs" in document else [document.get("runs", {})]
        for job in jobs:
            for step in _steps(job):
                if "upload-artifact" not in str(step.get("uses", "")):
                    continue
                paths = [p.strip() for p in str(step.get("with", {}).get("path", "")).splitlines() if p.strip()]
                violations += [f"{source}: uploads {path}" for path in paths if not ALLOWED_ARTIFACT.match(path)]
    return violations


def main_only_violations(workflow: dict[str, Any]) -> list[str]:
    """A workflow that can be dispatched by hand (or called) applies only when the ref is main."""
    if not triggers(workflow) & {"workflow_dispatch", "workflow_call"}:
        return []
    return [
        f"job {name}: may run from any ref (no `if: {MAIN_REF_GUARD}`)"
        for name, job in workflow.get("jobs", {}).items()
        if MAIN_REF_GUARD not in str(job.get("if", ""))
    ]


def destructive_gate_violations(workflow: dict[str, Any]) -> list[str]:
    """Destructive plans are approved through an environment on the run that carries them, never by a
    pull-request label (which the author can add and which survives new pushes)."""
    violations = []
    if {"labeled", "unlabeled"} & set(_pull_request_types(workflow)):
        violations.append("re-runs on labels: a label is no approval")
    if "labels" in str(workflow.get("jobs", {})):
        violations.append("a job reads pull-request labels: the author can add them and they survive pushes")
    jobs = workflow.get("jobs", {})
    approvals = [name for name, job in jobs.items() if job.get("environment") == "destructive-change"]
    if not approvals:
        violations.append("no job of this run asks the destructive-change environment for approval")
    gates = [name for name, job in jobs.items() if "plan-gate.sh" in str(job.get("steps", []))]
    for gate in gates:
        needs = jobs[gate].get("needs", [])
        if not set(approvals) <= set(needs) or jobs[gate].get("if") != "always()":
            violations.append(f"job {gate}: must always run and need the approval job")
    if not gates:
        violations.append("no gate job runs .github/scripts/plan-gate.sh")
    return violations


def _pull_request_types(workflow: dict[str, Any]) -> list[str]:
    on = workflow.get("on", workflow.get(True))
    if not isinstance(on, dict):
        return []
    return [kind for event in PULL_REQUEST_EVENTS for kind in ((on.get(event) or {}).get("types") or [])]


_TERRAFORM_APPLY = re.compile(r"\bterraform\b[^\n|;&]*\bapply\b")
_APPLY_SCRIPT = re.compile(r"apply-environment\.sh\s+(\"[^\"]*\"|\S+)(\s+(\"[^\"]*\"|\S+))?")


def deploy_gate_violations(workflow: dict[str, Any]) -> list[str]:
    """A plan that review-plan calls dangerous is applied on main only after an approval of the
    destructive-change environment in the same run, in every environment (issue 22).

    Applies go through `.github/scripts/apply-environment.sh`, which refuses a dangerous plan unless
    given the digest of approved changes; a job that passes that digest must need a
    destructive-change job and run only when that job succeeded."""
    jobs = workflow.get("jobs", {})
    approvals = {name for name, job in jobs.items() if job.get("environment") == "destructive-change"}
    violations = []
    for name, job in jobs.items():
        for step in _steps(job):
            run = str(step.get("run", ""))
            if _TERRAFORM_APPLY.search(run):
                violations.append(f"job {name}: runs terraform apply itself, not through apply-environment.sh")
            for match in _APPLY_SCRIPT.finditer(run):
                if not match.group(2):
                    continue
                needs = job.get("needs", [])
                needed = set([needs] if isinstance(needs, str) else needs) & approvals
                condition = str(job.get("if", ""))
                if not needed or not any(f"needs.{a}.result == 'success'" in condition for a in needed):
                    violations.append(
                        f"job {name}: applies an approved digest without needing a successful destructive-change job"
                    )
    if any(_APPLY_SCRIPT.search(str(job.get("steps", []))) for job in jobs.values()) and not approvals:
        violations.append("no job asks the destructive-change environment to approve a dangerous plan")
    return violations
