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
    assert set(policies) == {
        "dev-plan-trust",
        "prod-plan-trust",
        "plan-permissions",
        "apply-trust",
        "apply-permissions",
    }


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


def _allowed(policy: dict[str, Any]) -> list[tuple[str, list[str], dict[str, Any]]]:
    found = []
    for statement in policy["Statement"]:
        actions = [statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"]
        resources = [statement["Resource"]] if isinstance(statement["Resource"], str) else statement["Resource"]
        found += [(action, resources, statement.get("Condition", {})) for action in actions]
    return found


def test_the_apply_role_is_a_checked_policy_scoped_to_its_environment(policies: dict[str, dict[str, Any]]) -> None:
    """Issue 22: the apply role was prose only. Now JSON with the same checks as the plan role's."""
    allowed = _allowed(policies["apply-permissions"])
    assert not [action for action, _, _ in allowed if "*" in action]  # no wildcard action
    assert "secretsmanager:GetSecretValue" not in {a for a, _, _ in allowed}
    assert "secretsmanager:PutSecretValue" not in {a for a, _, _ in allowed}
    for action, resources, condition in allowed:
        if action == "iam:PassRole":
            assert condition["StringEquals"]["iam:PassedToService"] in (
                "lambda.amazonaws.com",
                "apigateway.amazonaws.com",
            )
        if action.startswith("iam:"):
            assert all(r.startswith("arn:aws:iam::ACCOUNT:role/") and r.endswith("-ENV") for r in resources), action
        if action.startswith("s3:") and action != "s3:ListBucket":
            assert all(r.endswith(("terraform.tfstate", "terraform.tfstate.tflock")) for r in resources), action
        if resources == ["*"]:
            assert condition or action in ("kms:CreateKey", "kms:ListAliases"), action  # no new key has a name yet
        named = [
            r
            for r in resources
            if r != "*" and not r.startswith(("arn:aws:apigateway", "arn:aws:kms:REGION:ACCOUNT:key/"))
        ]
        assert all("ENV" in r or r == "STATE_KEY_ARN" for r in named), (action, named)
