"""README's operator table lists every command of `python -m pipeline_tools`, each with a runnable example
(the examples run in tests/infrastructure and tests/integration test_documented_commands.py)."""

from __future__ import annotations

import argparse
import re

from pipeline_tools.__main__ import _parser
from tests.documented_commands import PROJECT, runner_of


def _table_rows() -> list[list[str]]:
    text = (PROJECT / "README.md").read_text(encoding="utf-8")
    start = text.index("| command | what it does | example |")
    rows = text[start:].split("\n\n", 1)[0].splitlines()[2:]
    return [[cell.strip() for cell in re.split(r"(?<!\\)\|", row)[1:-1]] for row in rows]


def _commands() -> list[str]:
    [subparsers] = [a for a in _parser()._actions if isinstance(a, argparse._SubParsersAction)]
    return sorted(subparsers.choices)


def test_every_command_has_a_row_with_one_runnable_example() -> None:
    rows = _table_rows()
    listed = {row[0].strip("`").split()[0] for row in rows}
    assert set(_commands()) <= listed, f"commands missing from README's operator table: {set(_commands()) - listed}"
    for row in rows:
        examples = re.findall(r"`([^`]+)`", row[2])
        assert len(examples) == 1, row
        assert len(runner_of(examples[0])) == 1 and runner_of(examples[0]) != ["mention"], examples[0]
