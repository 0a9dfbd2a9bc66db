"""Turn `terraform show -json <planfile>` into a Markdown review for a pull-request comment.

The review leads with what can lose data or break delivery (deletes, replacements and the in-place
updates listed in `plan_rules.DATA_LOSING_TRANSITIONS`, stateful resources first), then every change
that can grant access with its statements before and after, then changes of types the review has no
rule for, then counts, then the full plan folded away, all within GitHub's 65,536-character limit.

Every value rendered passes through Terraform's sensitivity marks first (`before_sensitive`,
`after_sensitive`: `show -json` holds sensitive values in clear), and every address and value is
rendered as literal text (`markdown_safe`), so neither a secret nor markup can reach the comment.
"""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from typing import Any

from pipeline_tools.review.markdown_safe import code, fenced
from pipeline_tools.review.plan_rules import (
    ACCESS_ATTRIBUTE_PATTERN,
    BROAD_MANAGED_POLICIES,
    DATA_LOSING_TRANSITIONS,
    POLICY_ATTRIBUTES,
    STATEFUL_TYPES,
    has_rule,
    is_access_type,
)

COMMENT_LIMIT = 65_536
ACTION_ORDER = ("create", "update", "replace", "delete")
# A column of its own only when a plan forgets something (older reviews keep their exact shape).
FORGET = "forget"
SENSITIVE = "(sensitive value)"


class PlanFormatError(ValueError):
    """The input is not the JSON of `terraform show -json <planfile>`."""


def masked(value: Any, sensitive: Any) -> Any:
    """`value` with every part Terraform marks sensitive replaced by `(sensitive value)`.

    `sensitive` has the shape of `before_sensitive`/`after_sensitive`: `true` for a sensitive value, or
    objects and lists of the value's shape whose leaves say which parts are sensitive.
    """
    if sensitive is True:
        return SENSITIVE
    if isinstance(value, dict) and isinstance(sensitive, dict):
        return {key: masked(item, sensitive.get(key)) for key, item in value.items()}
    if isinstance(value, list) and isinstance(sensitive, list):
        return [masked(item, sensitive[i] if i < len(sensitive) else None) for i, item in enumerate(value)]
    return value


@dataclasses.dataclass(frozen=True)
class Change:
    """One managed resource's planned change, with sensitive values already masked."""

    address: str
    resource_type: str
    action: str  # create | update | replace | delete | forget
    before: dict[str, Any]
    after: dict[str, Any]
    after_unknown: dict[str, Any]
    replace_paths: tuple[str, ...]

    @property
    def losing_updates(self) -> list[str]:
        """What this in-place update loses (`plan_rules.DATA_LOSING_TRANSITIONS`), or why it grants
        broad access; empty for anything else."""
        if self.action != "update":
            return []
        reasons = [
            t.description
            for t in DATA_LOSING_TRANSITIONS
            if t.resource_type == self.resource_type and t.applies(self.before, self.after)
        ]
        return reasons

    @property
    def broad_access(self) -> list[str]:
        """Managed policies that grant (nearly) everything, and function URLs open to anyone."""
        if self.action not in ("create", "update", "replace"):
            return []
        text = json.dumps(self.after)
        reasons = [f"attaches {name}" for name in BROAD_MANAGED_POLICIES if f'policy/{name}"' in text]
        if self.after.get("authorization_type") == "NONE" and self.resource_type == "aws_lambda_function_url":
            reasons.append("function URL without authorization")
        return reasons

    @property
    def dangerous(self) -> bool:
        # `forget` (a `removed` block with `destroy = false`): the resource keeps running outside Terraform;
        # its protections (deletion protection, policies, alarms on it) are no longer managed here. The gate
        # asks a human, as for a delete.
        return self.action in ("replace", "delete", "forget") or bool(self.losing_updates) or bool(self.broad_access)

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
    """Every action list Terraform's JSON plan format documents (developer.hashicorp.com/terraform/internals/
    json-format, `resource_changes[].change.actions`); anything else is refused, never guessed at."""
    if actions in (["no-op"], ["read"]):
        return None
    if sorted(actions) == ["create", "delete"]:
        return "replace"
    if actions in (["forget"], ["create", "forget"]):  # `removed` block with `destroy = false` (Terraform 1.7+)
        return "forget"
    if len(actions) == 1 and actions[0] in ("create", "update", "delete"):
        return actions[0]
    raise PlanFormatError(f"unexpected action list {actions}")


def parse_changes(plan: Any) -> list[Change]:
    """The managed resources' changes (no-ops and reads left out), sensitive values masked."""
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
                before=masked(change.get("before") or {}, change.get("before_sensitive")),
                after=masked(change.get("after") or {}, change.get("after_sensitive")),
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
    if isinstance(shaped.get("Condition"), dict):
        shaped["Condition"] = {
            test: {key: as_sorted_list(values) for key, values in variables.items()}
            if isinstance(variables, dict)
            else variables
            for test, variables in shaped["Condition"].items()
        }
    return shaped


def _document_statements(document: Any) -> list[dict[str, Any]] | str:
    """The statements of a policy attribute, or the attribute itself when it is not a readable policy
    (masked, unknown or not JSON: shown as it is rather than guessed at)."""
    if not document:
        return []
    if document in (SENSITIVE, UNKNOWN):
        return str(document)
    try:
        parsed = json.loads(document) if isinstance(document, str) else document
    except json.JSONDecodeError:
        return str(document)
    if not isinstance(parsed, dict):
        return json.dumps(parsed, sort_keys=True)
    statements = parsed.get("Statement", [])
    statements = statements if isinstance(statements, list) else [statements]
    return [_normalized(s) if isinstance(s, dict) else {"statement": s} for s in statements]


def _planned_document_statements(plan: dict[str, Any], change: Change, attribute: str) -> list[dict[str, Any]] | None:
    """The statements an unknown policy will hold, from the policy-document data source the plan reads
    (its sensitive parts masked like any other value)."""
    from pipeline_tools.review.iam_review import iam_statement

    configured = {r["address"]: r for r in plan.get("configuration", {}).get("root_module", {}).get("resources", [])}
    references = configured.get(change.address, {}).get("expressions", {}).get(attribute, {}).get("references", [])
    reads = {r["address"]: r["change"] for r in plan.get("resource_changes", []) if r.get("mode") == "data"}
    for reference in references:
        read = reads.get(reference.removesuffix(".json"))
        if read and read.get("after") is not None:
            after = masked(read["after"], read.get("after_sensitive"))
            blocks = _with_unknowns(after, read.get("after_unknown", {})).get("statement") or []
            if not isinstance(blocks, list):
                return [{"statement": blocks}]
            return [_normalized(iam_statement(block)) for block in blocks]
    return None


def _statement_diff(before: list[dict[str, Any]] | str, after: list[dict[str, Any]] | str | None) -> list[str]:
    if isinstance(before, str) or isinstance(after, str):  # not comparable statement by statement
        return [f"- {json.dumps(before, sort_keys=True)}", f"+ {json.dumps(after or UNKNOWN, sort_keys=True)}"]
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


def _changed(change: Change, attribute: str) -> bool:
    if change.action == "create":
        return change.after.get(attribute) not in (None, [], {}, "") or bool(change.after_unknown.get(attribute))
    if change.action == "delete":
        return change.before.get(attribute) not in (None, [], {}, "")
    return bool(change.after_unknown.get(attribute)) or change.before.get(attribute) != change.after.get(attribute)


def _access_attributes(change: Change) -> list[str]:
    """Changed attributes that can grant access: policy documents, and anything named like one."""
    names = set(change.before) | set(change.after) | set(change.after_unknown)
    documents = set(POLICY_ATTRIBUTES.get(change.resource_type, ()))
    return sorted(n for n in names if (n in documents or ACCESS_ATTRIBUTE_PATTERN.search(n)) and _changed(change, n))


def _is_access_change(change: Change) -> bool:
    return is_access_type(change.resource_type) or bool(_access_attributes(change))


def _json_block(value: Any) -> list[str]:
    return fenced("json", json.dumps(value, indent=1, sort_keys=True).splitlines())


def _access_section(plan: dict[str, Any], change: Change) -> list[str]:
    lines = [f"#### {code(change.address)} ({change.action})"]
    attributes = _access_attributes(change)
    if is_access_type(change.resource_type) and not set(attributes) & set(
        POLICY_ATTRIBUTES.get(change.resource_type, ())
    ):
        # e.g. a permission, grant, attachment or function URL: the whole resource, masked.
        return [
            *lines,
            *_json_block({"before": change.before, "after": _with_unknowns(change.after, change.after_unknown)}),
        ]
    for attribute in attributes:
        if attribute in POLICY_ATTRIBUTES.get(change.resource_type, ()) and attribute != "inline_policy":
            before = _document_statements(change.before.get(attribute))
            if change.after_unknown.get(attribute) is True:
                after = _planned_document_statements(plan, change, attribute)
            else:
                after = _document_statements(change.after.get(attribute))
            diff = _statement_diff(before, after)
            if any(line.startswith(("-", "+")) for line in diff):
                lines += [f"{code(attribute)}:", *fenced("diff", diff)]
        else:
            after = _with_unknowns(change.after, change.after_unknown).get(attribute)
            lines += [f"{code(attribute)}:", *_json_block({"before": change.before.get(attribute), "after": after})]
    if len(lines) == 1:  # the text changed (formatting, order) but no statement did: say so in one line
        lines.append("No statement changed (the policy text differs only in formatting or order).")
    return lines


def _danger_line(change: Change) -> str:
    marker = f"**CRITICAL ({STATEFUL_TYPES[change.resource_type]})** " if change.critical else ""
    if change.action == "forget":
        return f"- {marker}{code(change.address)} will be **forgotten** (removed from state, left running unmanaged)"
    if change.action in ("replace", "delete"):
        forced = f"; forced by {', '.join(code(path) for path in change.replace_paths)}" if change.replace_paths else ""
        verb = "replaced" if change.action == "replace" else "destroyed"
        return f"- {marker}{code(change.address)} will be **{verb}**{forced}"
    reasons = [*change.losing_updates, *change.broad_access]
    return f"- {marker}{code(change.address)} will be **updated**: {'; '.join(reasons)}"


def _counts(changes: list[Change]) -> list[str]:
    by_action = Counter(change.action for change in changes)
    order = (*ACTION_ORDER, FORGET) if by_action.get(FORGET) else ACTION_ORDER
    lines = ["| action | count |", "|---|---:|", *(f"| {a} | {by_action.get(a, 0)} |" for a in order), ""]
    by_type: dict[str, Counter[str]] = {}
    for change in changes:
        by_type.setdefault(change.resource_type, Counter())[change.action] += 1
    lines += ["| resource type | " + " | ".join(order) + " |", "|---|" + "---:|" * len(order)]
    lines += [
        f"| {code(resource_type.replace('|', '/'))} | " + " | ".join(str(counts.get(a, 0) or "") for a in order) + " |"
        for resource_type, counts in sorted(by_type.items())
    ]
    return lines


def _fold(full_plan: str, room: int) -> list[str]:
    opening, closing = ["<details><summary>Full plan</summary>", ""], ["</details>"]
    text = full_plan
    overhead = sum(len(line) + 1 for line in opening + closing) + 2 * (len(fenced("text", [text])[0]) + 1) + 100
    if len(text) > room - overhead:
        keep = max(room - overhead, 0)
        text = (
            text[:keep]
            + f"\n... truncated: {len(full_plan) - keep:,} more characters (run `terraform show` on the plan)"
        )
    return [*opening, *fenced("text", [text]), *closing]


def render(plan: dict[str, Any], *, title: str, full_plan: str | None = None, context: str | None = None) -> Review:
    """The Markdown review of a plan; `context` (e.g. commit and plan digest) goes under the heading."""
    changes = parse_changes(plan)
    dangerous = sorted((c for c in changes if c.dangerous), key=lambda c: (not c.critical, c.address))
    counts = Counter(change.action for change in changes)
    verdict = (
        f"**{len(dangerous)} dangerous change(s)**: review the list below before merging."
        if dangerous
        else "No deletes, replacements or data-losing updates."
    )
    lines = [f"<!-- plan-review:{title} -->", f"### Terraform plan: {title}", ""]
    if context:
        lines += [context, ""]
    lines += [
        f"{counts['create']} to create, {counts['update']} to update, {counts['replace']} to replace, "
        f"{counts['delete']} to destroy"
        + (f", {counts[FORGET]} to forget (removed from state, not destroyed)" if counts[FORGET] else "")
        + f". {verdict}",
        "",
    ]
    if dangerous:
        lines += ["#### Danger list", *map(_danger_line, dangerous), ""]
    access_changes = [c for c in changes if _is_access_change(c)]
    if access_changes:
        lines += ["#### IAM, KMS and resource-policy changes", ""]
        for change in access_changes:
            lines += [*_access_section(plan, change), ""]
    unruled = [c for c in changes if not has_rule(c.resource_type) and not _is_access_change(c)]
    if unruled:
        lines += [
            "#### Resource types without a review rule",
            "",
            "The review does not know what these types can do: check them by hand in the full plan.",
            *(f"- {code(c.address)} ({c.action})" for c in unruled),
            "",
        ]
    lines += ["#### Changes by action and resource type", "", *_counts(changes), ""]
    body = "\n".join(lines)
    if full_plan is not None:
        body += "\n" + "\n".join(_fold(full_plan, COMMENT_LIMIT - len(body) - 1)) + "\n"
    if len(body) > COMMENT_LIMIT:  # the policy diffs alone were too long: keep the head, which holds the danger list
        note = "\n\n... review truncated to fit a GitHub comment; run `terraform show` on the plan for the rest\n"
        # Cut at a line end: a code span cut in half would let the rest of its line render as markup.
        body = body[: body.rfind("\n", 0, COMMENT_LIMIT - len(note))] + note
    return Review(markdown=body, changes=changes)
