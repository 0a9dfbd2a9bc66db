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


UNKNOWN = "(known after apply)"


def _with_unknowns(value: Any, unknown: Any) -> Any:
    """A planned value with what Terraform marks unknown spelled out."""
    if unknown is True:
        return UNKNOWN
    if isinstance(value, dict):
        unknown = unknown if isinstance(unknown, dict) else {}
        keys = set(value) | {k for k, v in unknown.items() if v is True}
        return {key: _with_unknowns(value.get(key), unknown.get(key)) for key in keys}
    if isinstance(value, list):
        unknown = unknown if isinstance(unknown, list) else []
        return [_with_unknowns(item, unknown[i] if i < len(unknown) else None) for i, item in enumerate(value)]
    return value


def _normalized(statement: dict[str, Any]) -> dict[str, Any]:
    """AWS returns one-item lists as strings and in any order: compare statements in one shape."""

    def as_sorted_list(value: Any) -> Any:
        return sorted(value if isinstance(value, list) else [value], key=str)

    shaped = dict(statement)
    for key in ("Action", "NotAction", "Resource", "NotResource"):
        if key in shaped:
            shaped[key] = as_sorted_list(shaped[key])
    if isinstance(shaped.get("Principal"), dict):
        shaped["Principal"] = {kind: as_sorted_list(ids) for kind, ids in shaped["Principal"].items()}
    if "Condition" in shaped:
        shaped["Condition"] = {
            test: {key: as_sorted_list(values) for key, values in variables.items()}
            for test, variables in shaped["Condition"].items()
        }
    return shaped


def _document_statements(document: Any) -> list[dict[str, Any]]:
    if not document:
        return []
    parsed = json.loads(document) if isinstance(document, str) else document
    statements = parsed.get("Statement", [])
    return [_normalized(s) for s in (statements if isinstance(statements, list) else [statements])]


def _planned_document_statements(plan: dict[str, Any], change: Change, attribute: str) -> list[dict[str, Any]] | None:
    """The statements an unknown policy will hold, from the policy-document data source the plan reads."""
    from pipeline_tools.review.iam_review import iam_statement

    configured = {r["address"]: r for r in plan.get("configuration", {}).get("root_module", {}).get("resources", [])}
    references = configured.get(change.address, {}).get("expressions", {}).get(attribute, {}).get("references", [])
    reads = {r["address"]: r["change"] for r in plan.get("resource_changes", []) if r.get("mode") == "data"}
    for reference in references:
        read = reads.get(reference.removesuffix(".json"))
        if read and read.get("after") is not None:
            blocks = _with_unknowns(read["after"], read.get("after_unknown", {})).get("statement") or []
            return [_normalized(iam_statement(block)) for block in blocks]
    return None


def _statement_diff(before: list[dict[str, Any]], after: list[dict[str, Any]] | None) -> list[str]:
    if after is None:
        return [f"- {json.dumps(s, sort_keys=True)}" for s in before] + [f"+ {UNKNOWN}"]
    keyed_before = {s.get("Sid", f"#{i}"): s for i, s in enumerate(before)}
    keyed_after = {s.get("Sid", f"#{i}"): s for i, s in enumerate(after)}
    lines, unchanged = [], 0
    for sid in [*keyed_before, *(k for k in keyed_after if k not in keyed_before)]:
        old, new = keyed_before.get(sid), keyed_after.get(sid)
        if old == new:
            unchanged += 1
            continue
        lines += [f"- {json.dumps(old, sort_keys=True)}"] if old else []
        lines += [f"+ {json.dumps(new, sort_keys=True)}"] if new else []
    return [*lines, f"  ({unchanged} statement(s) unchanged)"] if unchanged else lines


def _policy_section(plan: dict[str, Any], change: Change) -> list[str]:
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
        before = _document_statements(change.before.get(attribute))
        if change.after_unknown.get(attribute):
            after = _planned_document_statements(plan, change, attribute)
        else:
            after = _document_statements(change.after.get(attribute))
        diff = _statement_diff(before, after)
        if any(line.startswith(("-", "+")) for line in diff):
            lines += [f"`{attribute}`:", "```diff", *diff, "```"]
    if len(lines) == 1:  # the text changed (formatting, order) but no statement did: say so in one line
        lines.append("No statement changed (the policy text differs only in formatting or order).")
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
            lines += [*_policy_section(plan, change), ""]
    lines += ["#### Changes by action and resource type", "", *_counts(changes), ""]
    body = "\n".join(lines)
    if full_plan is not None:
        body += "\n" + "\n".join(_fold(full_plan, COMMENT_LIMIT - len(body) - 1)) + "\n"
    if len(body) > COMMENT_LIMIT:  # the policy diffs alone were too long: keep the head, which holds the danger list
        note = "\n\n... review truncated to fit a GitHub comment; the full plan is in the workflow artifact\n"
        body = body[: COMMENT_LIMIT - len(note)] + note
    return Review(markdown=body, changes=changes)
