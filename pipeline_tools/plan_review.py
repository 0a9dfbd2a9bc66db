"""Turn `terraform show -json <planfile>` into a Markdown review for a pull-request comment.

The review leads with what can lose data or break delivery (deletes and replacements, stateful
resources first), then every IAM/KMS/policy change with its statements before and after, then counts,
then the full plan folded away, all within GitHub's 65,536-character comment limit.
"""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from typing import Any

COMMENT_LIMIT = 65_536
# Losing one of these loses events, keys or state: listed first and marked as critical.
STATEFUL_TYPES = {
    "aws_dynamodb_table": "event store",
    "aws_sqs_queue": "queue",
    "aws_kms_key": "encryption key",
    "aws_secretsmanager_secret": "signing secret",
    "aws_s3_bucket": "state bucket",
}
POLICY_ATTRIBUTES = {  # resource type -> attributes holding a policy document
    "aws_iam_role": ("assume_role_policy",),
    "aws_iam_role_policy": ("policy",),
    "aws_iam_policy": ("policy",),
    "aws_kms_key": ("policy",),
    "aws_sqs_queue_policy": ("policy",),
    "aws_s3_bucket_policy": ("policy",),
    "aws_sns_topic_policy": ("policy",),
    "aws_secretsmanager_secret_policy": ("policy",),
    "aws_lambda_permission": (),
}
ACTION_ORDER = ("create", "update", "replace", "delete")


class PlanFormatError(ValueError):
    """The input is not the JSON of `terraform show -json <planfile>`."""


@dataclasses.dataclass(frozen=True)
class Change:
    address: str
    resource_type: str
    action: str  # create | update | replace | delete
    before: dict[str, Any]
    after: dict[str, Any]
    after_unknown: dict[str, Any]
    replace_paths: tuple[str, ...]

    @property
    def dangerous(self) -> bool:
        return self.action in ("replace", "delete")

    @property
    def critical(self) -> bool:
        return self.dangerous and self.resource_type in STATEFUL_TYPES


@dataclasses.dataclass(frozen=True)
class Review:
    markdown: str
    changes: list[Change]

    @property
    def dangerous(self) -> list[Change]:
        return [change for change in self.changes if change.dangerous]


def _action(actions: list[str]) -> str | None:
    if actions in (["no-op"], ["read"]):
        return None
    if sorted(actions) == ["create", "delete"]:
        return "replace"
    if len(actions) == 1 and actions[0] in ("create", "update", "delete"):
        return actions[0]
    raise PlanFormatError(f"unexpected action list {actions}")


def parse_changes(plan: Any) -> list[Change]:
    if not isinstance(plan, dict) or "format_version" not in plan or "planned_values" not in plan:
        raise PlanFormatError("not a Terraform plan: expected the JSON of `terraform show -json <planfile>`")
    changes = []
    for resource in plan.get("resource_changes", []):
        if resource.get("mode") != "managed":
            continue
        change = resource["change"]
        action = _action(change["actions"])
        if action is None:
            continue
        changes.append(
            Change(
                address=resource["address"],
                resource_type=resource["type"],
                action=action,
                before=change.get("before") or {},
                after=change.get("after") or {},
                after_unknown=change.get("after_unknown") or {},
                replace_paths=tuple(".".join(map(str, path)) for path in change.get("replace_paths", [])),
            )
        )
    return changes


def _statements(document: Any) -> list[str]:
    if not document:
        return []
    parsed = json.loads(document) if isinstance(document, str) else document
    statements = parsed.get("Statement", [])
    return [json.dumps(s, sort_keys=True) for s in (statements if isinstance(statements, list) else [statements])]


def _policy_section(change: Change) -> list[str]:
    lines = [f"#### `{change.address}` ({change.action})"]
    attributes = POLICY_ATTRIBUTES.get(change.resource_type, ())
    if not attributes:  # e.g. a Lambda permission: show the whole resource
        lines += [
            "```json",
            json.dumps({"before": change.before, "after": change.after}, indent=1, sort_keys=True),
            "```",
        ]
        return lines
    for attribute in attributes:
        if change.after_unknown.get(attribute):
            after: list[str] | None = None
        else:
            after = _statements(change.after.get(attribute))
        before = _statements(change.before.get(attribute))
        if after is not None and before == after:
            continue
        removed = [s for s in before if after is None or s not in after]
        added = ["(known after apply)"] if after is None else [s for s in after if s not in before]
        lines += [f"`{attribute}`:", "```diff", *(f"- {s}" for s in removed), *(f"+ {s}" for s in added), "```"]
    return lines


def _is_policy_change(change: Change) -> bool:
    if change.resource_type not in POLICY_ATTRIBUTES:
        return False
    attributes = POLICY_ATTRIBUTES[change.resource_type]
    if not attributes or change.action != "update":
        return True
    return any(change.after_unknown.get(a) or change.before.get(a) != change.after.get(a) for a in attributes)


def _danger_line(change: Change) -> str:
    marker = f"**CRITICAL ({STATEFUL_TYPES[change.resource_type]})** " if change.critical else ""
    forced = f"; forced by `{'`, `'.join(change.replace_paths)}`" if change.replace_paths else ""
    return (
        f"- {marker}`{change.address}` will be **{'replaced' if change.action == 'replace' else 'destroyed'}**{forced}"
    )


def _counts(changes: list[Change]) -> list[str]:
    by_action = Counter(change.action for change in changes)
    lines = ["| action | count |", "|---|---:|", *(f"| {a} | {by_action.get(a, 0)} |" for a in ACTION_ORDER), ""]
    by_type: dict[str, Counter[str]] = {}
    for change in changes:
        by_type.setdefault(change.resource_type, Counter())[change.action] += 1
    lines += ["| resource type | " + " | ".join(ACTION_ORDER) + " |", "|---|" + "---:|" * len(ACTION_ORDER)]
    lines += [
        f"| `{resource_type}` | " + " | ".join(str(counts.get(a, 0) or "") for a in ACTION_ORDER) + " |"
        for resource_type, counts in sorted(by_type.items())
    ]
    return lines


def _fold(full_plan: str, room: int) -> list[str]:
    opening, closing = ["<details><summary>Full plan</summary>", "", "```text"], ["```", "</details>"]
    overhead = sum(len(line) + 1 for line in opening + closing) + 100
    text = full_plan.replace("```", "'''")  # a fence inside would end the block
    if len(text) > room - overhead:
        keep = max(room - overhead, 0)
        text = text[:keep] + f"\n... truncated: {len(full_plan) - keep:,} more characters in the plan artifact"
    return [*opening, text, *closing]


def render(plan: dict[str, Any], *, title: str, full_plan: str | None = None) -> Review:
    changes = parse_changes(plan)
    dangerous = sorted((c for c in changes if c.dangerous), key=lambda c: (not c.critical, c.address))
    counts = Counter(change.action for change in changes)
    verdict = (
        f"**{len(dangerous)} dangerous change(s)**: review the list below before merging."
        if dangerous
        else "No deletes or replacements."
    )
    lines = [
        f"<!-- plan-review:{title} -->",
        f"### Terraform plan: {title}",
        "",
        f"{counts['create']} to create, {counts['update']} to update, {counts['replace']} to replace, "
        f"{counts['delete']} to destroy. {verdict}",
        "",
    ]
    if dangerous:
        lines += ["#### Danger list", *map(_danger_line, dangerous), ""]
    policy_changes = [c for c in changes if _is_policy_change(c)]
    if policy_changes:
        lines += ["#### IAM, KMS and resource-policy changes", ""]
        for change in policy_changes:
            lines += [*_policy_section(change), ""]
    lines += ["#### Changes by action and resource type", "", *_counts(changes), ""]
    body = "\n".join(lines)
    if full_plan is not None:
        body += "\n" + "\n".join(_fold(full_plan, COMMENT_LIMIT - len(body) - 1)) + "\n"
    if len(body) > COMMENT_LIMIT:  # the policy diffs alone were too long: keep the head, which holds the danger list
        note = "\n\n... review truncated to fit a GitHub comment; the full plan is in the workflow artifact\n"
        body = body[: COMMENT_LIMIT - len(note)] + note
    return Review(markdown=body, changes=changes)
