"""docs/CI-SETUP.md: the trust policies and plan permissions it gives are the ones the workflows need,
and every action they name exists."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.static

DOC = Path(__file__).resolve().parents[2] / "docs" / "CI-SETUP.md"
_BLOCK = re.compile(r"<!-- policy: ([\w-]+) -->\n```json\n(.*?)\n```", re.S)


@pytest.fixture(scope="module")
def policies() -> dict[str, dict[str, Any]]:
    return {name: json.loads(body) for name, body in _BLOCK.findall(DOC.read_text())}


def _subject(policy: dict[str, Any]) -> str:
    [statement] = policy["Statement"]
    return statement["Condition"]["StringEquals"]["token.actions.githubusercontent.com:sub"]


def test_the_doc_gives_every_policy(policies: dict[str, dict[str, Any]]) -> None:
    assert set(policies) == {"dev-plan-trust", "prod-plan-trust", "plan-permissions", "apply-trust"}


def test_prod_credentials_need_an_environment(policies: dict[str, dict[str, Any]]) -> None:
    assert _subject(policies["prod-plan-trust"]) == "repo:ORG/REPO:environment:prod-plan"
    assert _subject(policies["apply-trust"]) == "repo:ORG/REPO:environment:ENV"
    assert _subject(policies["dev-plan-trust"]) == "repo:ORG/REPO:pull_request"


def test_plan_roles_read_and_never_write_state_or_the_lock(policies: dict[str, dict[str, Any]]) -> None:
    statements = policies["plan-permissions"]["Statement"]
    allowed = [a for s in statements if s["Effect"] == "Allow" for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])]  # fmt: skip
    assert not [a for a in allowed if a.startswith("s3:") and a not in ("s3:GetObject", "s3:ListBucket")]
    assert "secretsmanager:GetSecretValue" not in allowed and not [a for a in allowed if "*" in a]
    [deny] = [s for s in statements if s["Effect"] == "Deny"]
    assert {"s3:PutObject", "s3:DeleteObject"} <= set(deny["Action"]) and deny["Resource"].endswith("/*")


def test_every_action_in_the_doc_exists(policies: dict[str, dict[str, Any]]) -> None:
    from policy_sentry.querying.actions import get_action_data

    actions = {
        action
        for policy in policies.values()
        for statement in policy["Statement"]
        for action in ([statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"])
    }
    unknown = sorted(a for a in actions if not get_action_data(*a.split(":", 1)))
    assert unknown == []


def test_the_codeowners_list_covers_everything_the_plan_job_runs() -> None:
    """Every file the plan job runs or the gate decides on has an owner: the workflows and their scripts,
    what `make synth` executes, the locked dependencies, and the review tool whose exit code is the gate."""
    block = re.search(r"<!-- codeowners -->\n\s*```\n(.*?)\n\s*```", DOC.read_text(), re.S)
    assert block, "docs/CI-SETUP.md lost its CODEOWNERS block"
    owned = {line.split()[0] for line in block.group(1).splitlines() if line.strip()}
    root = DOC.parents[1]
    required = {"/.github/", "/Makefile", "/main.py", "/cdktf.json", "/bin/", "/modules/", "/handlers/",
                "/pipeline_tools/", "/terraform-state-config/", "/Pipfile", "/Pipfile.lock", "/package.json",
                "/package-lock.json", "/security/"}  # fmt: skip
    assert required <= owned
    assert all((root / path.strip("/")).exists() for path in owned), "an owned path does not exist"
