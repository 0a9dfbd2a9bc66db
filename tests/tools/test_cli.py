"""The operator CLI: clear errors and a non-zero exit for bad arguments, before touching AWS."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline_tools.__main__ import main
from pipeline_tools.operations import OperationError, build_event, signature_header
from pipeline_tools.outputs import OutputsError, load_outputs

FLAT = {
    "api_endpoint": "http://127.0.0.1:1/v1/webhook",
    "dynamodb_table_name": "transaction-events-x",
    "payments_queue_url": "p",
    "refunds_queue_url": "r",
    "disputes_queue_url": "d",
}


def test_missing_outputs_file_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["send", "--outputs", str(tmp_path / "none.json"), "--secret", "whsec_AAAA"]) == 2
    assert "no such outputs file" in capsys.readouterr().err


def test_send_without_a_secret_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps(FLAT))
    assert main(["send", "--outputs", str(path)]) == 2
    assert "no signing secret" in capsys.readouterr().err


def test_bad_amount_is_refused(tmp_path: Path) -> None:
    with pytest.raises(OperationError, match="is not a number"):
        build_event("payment", "ten", "USD", None)


def test_amount_is_sent_exactly_as_written() -> None:
    body = json.loads(build_event("payment", "19.990", "USD", "evt_1"), parse_float=str)
    assert body["amount"] == "19.990"


def test_bad_redrive_queue_and_bad_dates_exit_non_zero(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as error:
        main(["redrive", "nonsense"])
    assert error.value.code == 2
    with pytest.raises(SystemExit):
        main(["replay", "--since", "yesterday"])
    assert "not an ISO-8601 date-time" in capsys.readouterr().err


def test_nested_cdktf_outputs_are_flattened(tmp_path: Path) -> None:
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps({"webhook-pipeline-prod": FLAT}))
    assert load_outputs(path) == FLAT


def test_outputs_missing_a_required_key_are_rejected(tmp_path: Path) -> None:
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps({k: v for k, v in FLAT.items() if k != "payments_queue_url"}))
    with pytest.raises(OutputsError, match="payments_queue_url"):
        load_outputs(path)


def test_signature_header_requires_whsec() -> None:
    with pytest.raises(OperationError):
        signature_header("secret", "msg", 1, b"{}")


@pytest.mark.parametrize("moment", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"])
def test_a_time_outside_datetimes_range_in_utc_is_an_argument_error(
    moment: str, capsys: pytest.CaptureFixture[str]
) -> None:
    for option in ("--since", "--until"):
        arguments = ["replay", "--since", "2026-01-01", "--dry-run", option, moment]
        with pytest.raises(SystemExit) as error:
            main(arguments)
        assert error.value.code == 2
        assert "not an ISO-8601 date-time" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("arguments", "message"),
    [(["trace", ""], "an event_id is 1 to 1024 characters"),
     (["events", "list", "--outcome", "captured"], "'captured' is not an outcome; outcomes: succeeded"),
     (["replay", "--since", "2026-11-28", "--type", "bogus"], "invalid choice: 'bogus'")],
)  # fmt: skip
def test_arguments_that_could_only_find_nothing_are_usage_errors(
    arguments: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """They answered nothing with exit 0, or a raw DynamoDB ValidationException (red-team finding)."""
    with pytest.raises(SystemExit) as exit_info:
        main(arguments)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err
