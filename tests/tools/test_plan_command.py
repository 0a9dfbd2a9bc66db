"""`plan --sandbox` (`make plan`): plans, then reviews the plan it made (issue 22: it crashed on `args.context`)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline_tools import __main__ as cli

EMPTY_PLAN = {"format_version": "1.2", "planned_values": {}, "resource_changes": [], "configuration": {}}


def _fake_plan(tmp_path: Path, changes: list[dict]) -> tuple[Path, Path]:
    plan_json, plan_text = tmp_path / "plan.json", tmp_path / "plan.txt"
    plan_json.write_text(json.dumps({**EMPTY_PLAN, "resource_changes": changes}))
    plan_text.write_text("No changes.\n")
    return plan_json, plan_text


@pytest.fixture
def sandbox_outputs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps({
        "api_endpoint": "http://127.0.0.1:1/v1/webhook", "dynamodb_table_name": "transaction-events-sandbox",
        "payments_queue_url": "p", "refunds_queue_url": "r", "disputes_queue_url": "d",
    }))  # fmt: skip
    monkeypatch.setattr(cli, "_check_reachable", lambda outputs: None)
    return path


def test_plan_reviews_the_plan_it_made(
    tmp_path: Path, sandbox_outputs: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import pipeline_tools.sandbox.plan as sandbox_plan

    monkeypatch.setattr(sandbox_plan, "plan_against_sandbox", lambda outputs, progress: _fake_plan(tmp_path, []))
    assert cli.main(["plan", "--sandbox", "--outputs", str(sandbox_outputs)]) == 0
    captured = capsys.readouterr()
    assert "plan review sandbox: 0 changes, 0 dangerous" in captured.err
    assert "sandbox" in captured.out


def test_plan_exits_3_on_a_dangerous_plan(
    tmp_path: Path, sandbox_outputs: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import pipeline_tools.sandbox.plan as sandbox_plan

    deleted = {
        "address": "aws_sqs_queue.payments", "type": "aws_sqs_queue", "name": "payments", "mode": "managed",
        "change": {"actions": ["delete"], "before": {"name": "payments-queue-sandbox"}, "after": None,
                   "before_sensitive": {}, "after_sensitive": False},
    }  # fmt: skip
    monkeypatch.setattr(sandbox_plan, "plan_against_sandbox", lambda outputs, progress: _fake_plan(tmp_path, [deleted]))
    assert cli.main(["plan", "--sandbox", "--outputs", str(sandbox_outputs)]) == cli.DANGEROUS_CHANGES
    assert "1 dangerous" in capsys.readouterr().err
