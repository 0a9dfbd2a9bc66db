"""The review's arithmetic and limits on plans in Terraform's JSON shape (real plans: tests/integration)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pipeline_tools.__main__ import DANGEROUS_CHANGES, main
from pipeline_tools.review.plan_review import COMMENT_LIMIT, PlanFormatError, render


def _change(address: str, actions: list[str], before: Any = None, after: Any = None, **extra: Any) -> dict[str, Any]:
    resource_type = address.split(".")[0]
    change = {"actions": actions, "before": before, "after": after, "after_unknown": {}, **extra}
    return {"address": address, "mode": "managed", "type": resource_type, "change": change}


def _plan(*changes: dict[str, Any]) -> dict[str, Any]:
    return {"format_version": "1.2", "planned_values": {}, "resource_changes": list(changes)}


def _policy(*actions: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": list(actions), "Resource": "arn:aws:sqs:::q"}],
        }
    )


def test_counts_danger_order_and_policy_diff() -> None:
    plan = _plan(
        _change("aws_lambda_function.f", ["update"], {"memory_size": 1}, {"memory_size": 2}),
        _change("aws_cloudwatch_log_group.g", ["delete"], {"name": "g"}, None),
        _change("aws_dynamodb_table.t", ["delete", "create"], {}, {}, replace_paths=[["hash_key"]]),
        _change("aws_iam_role_policy.p", ["update"], {"policy": _policy("sqs:SendMessage")},
                {"policy": _policy("sqs:SendMessage", "sqs:DeleteMessage")}),
        _change("aws_sqs_queue.q", ["create"], None, {"name": "q"}),
        _change("aws_sqs_queue.same", ["no-op"], {}, {}),
    )  # fmt: skip
    review = render(plan, title="dev")
    assert [c.address for c in review.dangerous] == ["aws_cloudwatch_log_group.g", "aws_dynamodb_table.t"]
    danger = review.markdown.split("#### Danger list")[1].split("####")[0].strip().splitlines()
    assert danger[0].startswith(
        "- **CRITICAL (event store)** `aws_dynamodb_table.t` will be **replaced**; forced by `hash_key`"
    )
    assert danger[1] == "- `aws_cloudwatch_log_group.g` will be **destroyed**"
    assert "1 to create, 2 to update, 1 to replace, 1 to destroy" in review.markdown
    assert '- {"Action": ["sqs:SendMessage"]' in review.markdown
    assert '+ {"Action": ["sqs:DeleteMessage", "sqs:SendMessage"]' in review.markdown
    assert "| `aws_sqs_queue` | 1 |  |  |  |" in review.markdown


def test_unknown_policy_after_apply_is_shown_as_such() -> None:
    change = _change("aws_iam_role_policy.p", ["update"], {"policy": _policy("sqs:SendMessage")}, {"policy": None})
    change["change"]["after_unknown"] = {"policy": True}
    assert "+ (known after apply)" in render(_plan(change), title="dev").markdown


def test_a_huge_plan_is_folded_and_truncated_to_a_comment() -> None:
    creates = [_change(f"aws_sqs_queue.q{i}", ["create"], None, {"name": f"q{i}"}) for i in range(500)]
    review = render(_plan(*creates), title="dev", full_plan="+ resource\n" * 20_000)
    assert len(review.markdown) <= COMMENT_LIMIT
    assert (
        "<details><summary>Full plan</summary>" in review.markdown
        and "more characters (run `terraform show` on the plan)" in review.markdown
    )
    assert review.markdown.rstrip().endswith("</details>")


def test_no_changes_is_safe_and_marked_for_the_sticky_comment() -> None:
    review = render(_plan(), title="prod")
    assert (
        review.markdown.startswith("<!-- plan-review:prod -->")
        and "No deletes, replacements or data-losing updates." in review.markdown
    )


@pytest.mark.parametrize("document", [{"values": {}}, [], {"format_version": "1.2"}])
def test_not_a_plan_is_refused(document: Any) -> None:
    with pytest.raises(PlanFormatError, match="terraform show -json"):
        render(document, title="dev")


def test_cli_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    safe, dangerous, broken = tmp_path / "safe.json", tmp_path / "dangerous.json", tmp_path / "broken.json"
    safe.write_text(json.dumps(_plan(_change("aws_sqs_queue.q", ["create"], None, {}))))
    dangerous.write_text(json.dumps(_plan(_change("aws_kms_key.k", ["delete"], {}, None))))
    broken.write_text("{not json")
    assert main(["review-plan", str(safe)]) == 0
    assert main(["review-plan", str(dangerous), "--output", str(tmp_path / "r.md")]) == DANGEROUS_CHANGES
    assert "**CRITICAL (encryption key)**" in (tmp_path / "r.md").read_text()
    assert main(["review-plan", str(broken)]) == 2
    assert "is not JSON" in capsys.readouterr().err


def test_a_policy_heading_with_no_statement_change_says_so_in_one_line() -> None:
    compact, spaced = _policy("sqs:SendMessage"), json.dumps(json.loads(_policy("sqs:SendMessage")), indent=2)
    review = render(_plan(_change("aws_iam_role_policy.p", ["update"], {"policy": compact}, {"policy": spaced})),
                    title="t")  # fmt: skip
    section = review.markdown.split("#### `aws_iam_role_policy.p` (update)", 1)[1].split("####", 1)[0]
    assert section.strip() == "No statement changed (the policy text differs only in formatting or order)."


@pytest.mark.parametrize("actions", [["forget"], ["create", "forget"]])
def test_forget_from_a_removed_block_is_understood_and_gated(actions: list[str]) -> None:
    """`removed { lifecycle { destroy = false } }` plans `forget`: the table leaves Terraform's management
    (deletion protection and policies no longer kept). It was refused as an unexpected action list."""
    plan = _plan(_change("aws_dynamodb_table.t", actions, {"name": "transaction-events-dev"}, None))
    review = render(plan, title="dev")
    assert [c.action for c in review.dangerous] == ["forget"]
    assert "1 to forget (removed from state, not destroyed)" in review.markdown
    assert "will be **forgotten**" in review.markdown and "| forget | 1 |" in review.markdown


@pytest.mark.parametrize("actions", [["frobnicate"], ["update", "delete"], []])
def test_undocumented_action_lists_are_refused(actions: list[str]) -> None:
    with pytest.raises(PlanFormatError, match="unexpected action list"):
        render(_plan(_change("aws_sqs_queue.q", actions, {}, {})), title="dev")
