"""Render untrusted text (resource addresses, attribute values) so that no input can produce markup.

Addresses carry `for_each` keys and values carry whatever the configuration or the provider holds:
`<img src=…>`, `**bold**`, links or a closing fence must reach the comment as literal text.
"""

from __future__ import annotations

import re

_BACKTICK_RUNS = re.compile(r"`+")
# Line breaks would end a code span's paragraph (a blank line) or a list item: shown escaped instead.
_CONTROL = {code: f"\\x{code:02x}" for code in [*range(0x00, 0x20), 0x7F]}
_CONTROL.update({ord("\n"): "\\n", ord("\r"): "\\r", ord("\t"): "\\t"})


def _longest_backtick_run(text: str) -> int:
    return max((len(run) for run in _BACKTICK_RUNS.findall(text)), default=0)


def code(text: str) -> str:
    """An inline code span GitHub shows verbatim, whatever `text` holds.

    The fence is one backtick longer than the longest run inside (CommonMark: a span ends only at a
    run of equal length); a space pads text that starts or ends with a backtick or a space, and control
    characters are written as escapes so the span stays on one line.
    """
    text = str(text).translate(_CONTROL)
    fence = "`" * (_longest_backtick_run(text) + 1)
    pad = " " if text[:1] in ("`", " ") or text[-1:] in ("`", " ") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def fenced(language: str, lines: list[str]) -> list[str]:
    """A fenced code block whose fence no line inside can close (at least three backticks, and longer
    than any backtick run in the content)."""
    fence = "`" * max(3, max((_longest_backtick_run(line) for line in lines), default=0) + 1)
    return [f"{fence}{language}", *lines, fence]
