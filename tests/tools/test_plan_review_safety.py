"""The review hides sensitive values, shows every change that can grant access, gates data-losing
in-place updates and renders no markup from its input (the findings of issue 12, one test each)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from pipeline_tools.review.markdown_safe import code, fenced
from pipeline_tools.review.plan_review import SENSITIVE, render
from pipeline_tools.review.plan_rules import DATA_LOSING_TRANSITIONS
from tests.tools.test_plan_review import _change, _plan

SECRET = "whsec_TOPSECRET"
ACCESS_HEADING = "#### IAM, KMS and resource-policy changes"
UNRULED_HEADING = "#### Resource types without a review rule"


def _section(markdown: str, heading: str) -> str:
    return markdown.split(heading, 1)[1].split("\n#### ", 1)[0] if heading in markdown else ""


def _access_section(markdown: str) -> str:
    return markdown.split(ACCESS_HEADING, 1)[1].split("#### Changes by", 1)[0] if ACCESS_HEADING in markdown else ""


# --- sensitive values: masked on every path that renders a value ---------------------------------


def test_the_whole_resource_dump_masks_sensitive_attributes() -> None:
    change = _change(
        "aws_lambda_permission.p",
        ["update"],
        {"statement_id": "a", "qualifier": SECRET},
        {"statement_id": "b", "qualifier": SECRET},
        before_sensitive={"qualifier": True},
        after_sensitive={"qualifier": True},
    )
    markdown = render(_plan(change), title="dev").markdown
    assert "aws_lambda_permission.p" in _access_section(markdown)
    assert SECRET not in markdown and SENSITIVE in markdown


def test_a_sensitive_policy_attribute_is_masked() -> None:
    policy = json.dumps(
        {"Statement": [{"Sid": "S", "Effect": "Allow", "Action": "sqs:SendMessage", "Resource": SECRET}]}
    )
    change = _change(
        "aws_sqs_queue_policy.q",
        ["update"],
        {"policy": policy},
        {"policy": policy.replace("S", "T", 1)},
        before_sensitive={"policy": True},
        after_sensitive={"policy": True},
    )
    markdown = render(_plan(change), title="dev").markdown
    assert "aws_sqs_queue_policy.q" in _access_section(markdown)
    assert SECRET not in markdown and SENSITIVE in markdown


def test_a_sensitive_access_attribute_of_another_type_is_masked() -> None:
    change = _change(
        "aws_sqs_queue.q",
        ["update"],
        {"redrive_policy": "{}"},
        {"redrive_policy": SECRET},
        after_sensitive={"redrive_policy": True},
    )
    markdown = render(_plan(change), title="dev").markdown
    assert "redrive_policy" in _access_section(markdown) and SECRET not in markdown


def test_a_policy_document_read_masks_its_sensitive_parts() -> None:
    change = _change("aws_iam_role_policy.p", ["update"], {"policy": json.dumps({"Statement": []})}, {"policy": None})
    change["change"]["after_unknown"] = {"policy": True}
    statement = {
        "sid": "Read",
        "effect": "Allow",
        "actions": ["s3:GetObject"],
        "resources": ["arn:aws:s3:::b/*"],
        "condition": [{"test": "StringEquals", "variable": "aws:PrincipalTag/x", "values": [SECRET]}],
    }
    read = {
        "address": "data.aws_iam_policy_document.d",
        "mode": "data",
        "type": "aws_iam_policy_document",
        "change": {
            "actions": ["read"],
            "before": None,
            "after": {"statement": [statement]},
            "after_unknown": {},
            "after_sensitive": {"statement": [{"condition": [{"values": [True]}]}]},
        },
    }
    plan = _plan(change, read)
    plan["configuration"] = {
        "root_module": {
            "resources": [
                {
                    "address": "aws_iam_role_policy.p",
                    "expressions": {
                        "policy": {
                            "references": ["data.aws_iam_policy_document.d.json", "data.aws_iam_policy_document.d"]
                        }
                    },
                }
            ]
        }
    }
    markdown = render(plan, title="dev").markdown
    assert "s3:GetObject" in _access_section(markdown)
    assert SECRET not in markdown and SENSITIVE in markdown


def test_no_sensitive_leaf_of_any_change_reaches_the_review() -> None:
    """Every attribute of every kind of change is secret and marked so: none may appear."""
    secret_attributes = {"policy": SECRET, "name": SECRET, "tags": {"k": SECRET}, "grant": [{"x": SECRET}]}
    marks = {"policy": True, "name": True, "tags": {"k": True}, "grant": [{"x": True}]}
    changes = [
        _change(
            f"{resource_type}.r{i}",
            actions,
            secret_attributes,
            secret_attributes,
            before_sensitive=marks,
            after_sensitive=marks,
        )
        for i, (resource_type, actions) in enumerate(
            [
                ("aws_kms_key", ["update"]),
                ("aws_kms_grant", ["create"]),
                ("aws_instance", ["update"]),
                ("aws_sqs_queue", ["delete", "create"]),
                ("aws_iam_role", ["update"]),
                ("aws_lambda_function", ["delete"]),
            ]
        )
    ]
    changes[0]["change"]["after"] = {**secret_attributes, "policy": SECRET + "2"}
    assert SECRET not in render(_plan(*changes), title="dev", full_plan="(redacted by terraform)").markdown


# --- fail-closed classification ------------------------------------------------------------------

ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"
QUEUE_POLICY = json.dumps({"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "sqs:*", "Resource": "*"}]})


@pytest.mark.parametrize(
    ("change", "dangerous"),
    [
        (_change("aws_iam_role_policy_attachment.admin", ["create"], None, {"role": "r", "policy_arn": ADMIN}), True),
        (_change("aws_iam_role.r", ["update"], {"managed_policy_arns": []}, {"managed_policy_arns": [ADMIN]}), True),
        (_change("aws_kms_grant.g", ["create"], None, {"grantee_principal": "arn:aws:iam::1:root"}), False),
        (_change("aws_sqs_queue.q", ["update"], {"policy": ""}, {"policy": QUEUE_POLICY}), False),
        (_change("aws_secretsmanager_secret.s", ["update"], {"policy": None}, {"policy": QUEUE_POLICY}), False),
        (_change("aws_api_gateway_rest_api_policy.p", ["create"], None, {"policy": QUEUE_POLICY}), False),
        (_change("aws_lambda_function_url.u", ["create"], None, {"authorization_type": "NONE"}), True),
        (_change("aws_dynamodb_resource_policy.t", ["create"], None, {"policy": QUEUE_POLICY}), False),
    ],
    ids=lambda value: value["address"] if isinstance(value, dict) else str(value),
)
def test_every_change_that_can_grant_access_is_shown(change: dict[str, Any], dangerous: bool) -> None:
    review = render(_plan(change), title="dev")
    assert code(change["address"]) in _access_section(review.markdown)
    assert bool(review.dangerous) is dangerous


def test_a_type_without_a_rule_is_listed_under_its_own_heading() -> None:
    review = render(
        _plan(
            _change("aws_instance.web", ["create"], None, {"ami": "ami-1"}),
            _change("aws_cloudwatch_log_group.g", ["create"], None, {"name": "g"}),
        ),
        title="dev",
    )
    unruled = _section(review.markdown, UNRULED_HEADING)
    assert "`aws_instance.web` (create)" in unruled and "aws_cloudwatch_log_group" not in unruled


# --- data- and delivery-losing in-place updates exit 3 -------------------------------------------


def _at(path: tuple[str | int, ...], value: Any) -> Any:
    for step in reversed(path):
        value = [value] if isinstance(step, int) else {step: value}
    return value


# description -> (before, after) at the transition's path; one pair per documented transition.
LOSING = {
    "key disabled": (True, False),
    "deletion protection turned off": (True, False),
    "table stream turned off": (True, False),
    "point-in-time recovery turned off": (True, False),
    "retention cut": (1_209_600, 345_600),
    "dead-letter queue removed": ('{"deadLetterTargetArn":"arn"}', None),
    "stream mapping disabled": (True, False),
    "on-failure destination removed": ("arn:aws:sqs:us-east-1:1:dlq", None),
    "reserved concurrency set to 0": (20, 0),
    "alarm actions removed": (["arn:topic"], []),
    "alarm actions disabled": (True, False),
    "versioning suspended": ("Enabled", "Suspended"),
}


@pytest.mark.parametrize("transition", DATA_LOSING_TRANSITIONS, ids=lambda t: t.description.split(":")[0])
def test_each_documented_losing_update_exits_like_a_deletion(transition: Any) -> None:
    before, after = LOSING[transition.description.split(":")[0]]
    change = _change(
        f"{transition.resource_type}.x", ["update"], _at(transition.path, before), _at(transition.path, after)
    )
    review = render(_plan(change), title="dev")
    assert [c.address for c in review.dangerous] == [f"{transition.resource_type}.x"]
    assert transition.description in _section(review.markdown, "#### Danger list")
    reverted = _change(
        f"{transition.resource_type}.x", ["update"], _at(transition.path, after), _at(transition.path, before)
    )
    assert render(_plan(reverted), title="dev").dangerous == []  # the opposite direction loses nothing


def test_every_documented_transition_has_a_test_case() -> None:
    assert {t.description.split(":")[0] for t in DATA_LOSING_TRANSITIONS} == set(LOSING)


# --- no markup from addresses or values ----------------------------------------------------------

PAYLOADS = [
    '<img src=x onerror="alert(1)">',
    "**bold** [link](https://evil.example) <a href='x'>y</a>",
    "``` `` ` </details> <!--",
    "line\n\n# heading\n<script>",
]


def _outside_code(markdown: str) -> str:
    """The text GitHub would interpret as Markdown: fenced blocks and code spans removed (CommonMark)."""
    kept, fence = [], None
    for line in markdown.splitlines():
        opening = re.match(r"^(`{3,})", line)
        if fence is None and opening:
            fence = opening[1]
        elif fence is not None and set(line.strip()) == {"`"} and len(line.strip()) >= len(fence):
            fence = None
        elif fence is None:
            kept.append(re.sub(r"(?<!`)(`+)(?!`).*?(?<!`)\1(?!`)", "", line))
    return "\n".join(kept)


@pytest.mark.parametrize("payload", PAYLOADS)
def test_addresses_and_values_render_no_markup(payload: str) -> None:
    address = f'aws_sqs_queue.q["{payload}"]'
    changes = [
        _change(address, ["delete", "create"], {"name": payload}, {"name": payload}, replace_paths=[[payload]]),
        _change(f'aws_lambda_permission.p["{payload}"]', ["create"], None, {"principal": payload}),
        _change(f'aws_instance.i["{payload}"]', ["create"], None, {}),
        _change(
            f'aws_iam_role_policy.r["{payload}"]',
            ["update"],
            {"policy": "{}"},
            {"policy": json.dumps({"Statement": [{"Sid": payload, "Effect": "Allow", "Action": payload}]})},
        ),
    ]
    markdown = render(_plan(*changes), title="dev", full_plan=payload).markdown
    interpreted = _outside_code(markdown)
    for markup in ("<img", "<a ", "<script", "**bold**", "](https", "# heading", "</details> <!--"):
        assert markup not in interpreted, interpreted


@pytest.mark.parametrize("text", ["plain", "a`b", "``x``", "`", " lead", "x\ny"])
def test_a_code_span_shows_its_text_verbatim(text: str) -> None:
    span = code(text)
    fence = re.match(r"`+", span)[0]
    inner = span[len(fence) : -len(fence)]
    assert "\n" not in span and "`" * len(fence) not in inner
    assert inner.strip(" ") == text.replace("\n", "\\n") or inner[1:-1] == text


def test_a_fenced_block_cannot_be_closed_from_inside() -> None:
    block = fenced("json", ["```", "````x"])
    assert block[0] == "`````json" and block[-1] == "`````"
