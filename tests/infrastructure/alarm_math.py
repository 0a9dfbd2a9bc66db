"""Evaluate a synthesized `aws_cloudwatch_metric_alarm` on synthetic per-minute metric series.

What CloudWatch does (User Guide, "Using Amazon CloudWatch alarms" and "Alarm evaluation windows"): an alarm
with a period of a minute or more is evaluated every minute over a sliding window of its period; a metric
with no datapoint in the window is missing (`FILL(m, 0)` turns that into 0); the result is compared with
the threshold by `comparison_operator`; missing results follow `treat_missing_data` (here only
`notBreaching`). The metric-math subset our alarms use: `IF(cond, a, b)`, `FILL(m, v)`, `AND`, `OR`,
comparisons, numbers and query ids.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

Series = Mapping[str, Sequence[float | None]]  # metric name -> count per minute (None: no datapoint)

_COMPARE = {
    "GreaterThanThreshold": lambda value, threshold: value > threshold,
    "GreaterThanOrEqualToThreshold": lambda value, threshold: value >= threshold,
    "LessThanThreshold": lambda value, threshold: value < threshold,
    "LessThanOrEqualToThreshold": lambda value, threshold: value <= threshold,
}
_TOKEN = re.compile(r"\s*(?:(?P<number>\d+(?:\.\d+)?)|(?P<name>[A-Za-z_]\w*)|(?P<op>>=|<=|==|!=|[()<>,]))")


def _window(values: Sequence[float | None], minute: int, period_seconds: int) -> float | None:
    points = [v for v in values[max(0, minute + 1 - period_seconds // 60) : minute + 1] if v is not None]
    return sum(points) if points else None


def _evaluate_expression(expression: str, variables: Mapping[str, float | None]) -> float | None:
    tokens = [(m.lastgroup, m.group(m.lastgroup)) for m in _TOKEN.finditer(expression)]
    assert "".join(text for _, text in tokens) == expression.replace(" ", ""), f"unsupported: {expression}"
    position = 0

    def peek() -> str | None:
        return tokens[position][1] if position < len(tokens) else None

    def take(expected: str | None = None) -> str:
        nonlocal position
        text = tokens[position][1]
        assert expected is None or text == expected, (expected, text, expression)
        position += 1
        return text

    def primary() -> float | None:
        kind, text = tokens[position]
        if kind == "number":
            take()
            return float(text)
        take()
        if text in ("IF", "FILL"):
            take("(")
            first = disjunction()
            take(",")
            second = disjunction()
            if text == "FILL":
                take(")")
                return second if first is None else first
            take(",")
            third = disjunction()
            take(")")
            return None if first is None else (second if first else third)
        if text == "(":
            value = disjunction()
            take(")")
            return value
        return variables[text]

    def comparison() -> float | None:
        left = primary()
        if peek() in (">=", "<=", "==", "!=", ">", "<"):
            operator = take()
            right = primary()
            if left is None or right is None:
                return None
            return float({">=": left >= right, "<=": left <= right, "==": left == right, "!=": left != right,
                          ">": left > right, "<": left < right}[operator])  # fmt: skip
        return left

    def conjunction() -> float | None:
        value = comparison()
        while peek() == "AND":
            take()
            other = comparison()
            value = None if value is None or other is None else float(bool(value) and bool(other))
        return value

    def disjunction() -> float | None:
        value = conjunction()
        while peek() == "OR":
            take()
            other = conjunction()
            value = None if value is None or other is None else float(bool(value) or bool(other))
        return value

    result = disjunction()
    assert position == len(tokens), expression
    return result


def value_at(alarm: Mapping[str, Any], series: Series, minute: int) -> float | None:
    """The alarm's evaluated value at `minute` (None: missing)."""
    queries = alarm.get("metric_query")
    if not queries:  # a plain metric alarm
        return _window(series.get(alarm["metric_name"], []), minute, int(alarm["period"]))
    variables: dict[str, float | None] = {}
    returned = None
    for query in queries:  # CloudWatch needs ids defined before use; ours are in that order
        if query.get("metric"):
            metric = query["metric"]
            variables[query["id"]] = _window(series.get(metric["metric_name"], []), minute, int(metric["period"]))
        else:
            variables[query["id"]] = _evaluate_expression(query["expression"], variables)
        if query.get("return_data"):
            returned = query["id"]
    assert returned is not None, "a metric-math alarm returns exactly one query"
    return variables[returned]


def in_alarm(alarm: Mapping[str, Any], series: Series, minute: int) -> bool:
    """Whether the alarm is in ALARM at `minute` (one evaluation period, as every alarm here)."""
    assert int(alarm.get("evaluation_periods", 1)) == 1
    assert alarm.get("treat_missing_data") == "notBreaching"
    value = value_at(alarm, series, minute)
    if value is None:
        return False
    return _COMPARE[alarm["comparison_operator"]](value, float(alarm["threshold"]))
