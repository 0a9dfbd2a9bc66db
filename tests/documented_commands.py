"""Every command line README.md and docs/ show, and how the suite runs each (issue 22).

A line is collected from fenced shell blocks (continuation lines joined, `# comments` dropped) and from
code spans in prose, when it starts like a command (`make`, `npx`, `cd`, `aws`, `curl`, `terraform`,
`python -m`, `.venv/bin/python -m`, `.ci/`, or `VAR=value` before one of them). Each collected line must
match exactly one runner below, so a new documented command without a test fails
`test_every_documented_command_line_has_a_runner`:

- `deploy`: synth/deploy/destroy lines, run verbatim with recorders for `npx`/`terraform`/`aws`
  (`tests/infrastructure/test_documented_commands.py`);
- `local`: run for real in the project (no sandbox, no AWS) and must exit 0;
- `aws`: AWS CLI lines, run with a stand-in `aws` that checks the arguments (`--secret-string` is the
  JSON the validator parses) since they need an account;
- `sandbox`: run for real against the integration suite's sandbox (`tests/integration/test_documented_commands.py`);
- `sandbox_start`: `make sandbox …` lines, run while the environment's lock is held, which they must name;
- `suite`: the test and benchmark runners themselves (`make test` runs this very file);
- `mention`: not a command line but the name of one inside a sentence (`terraform plan`), listed by text.
"""

from __future__ import annotations

import re
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
DOCUMENTS = ("README.md", *sorted(str(p.relative_to(PROJECT)) for p in (PROJECT / "docs").rglob("*.md")),
             "terraform-state-config/README.md")  # fmt: skip
_COMMAND = re.compile(
    r"^(?:[A-Z_]+=\S+ )*(?:make |npx |cd |aws |curl |terraform |(?:\.venv/bin/)?python3? -m |\.ci/|ENVIRONMENT_SUFFIX=)"
)

RUNNERS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (runner, re.compile(pattern))
    for runner, pattern in (
        (
            "mention",
            r"^(?:terraform (?:plan|apply|validate|init|version|plan -detailed-exitcode|plan -lock=false"
            r"|show -json <planfile>)|ENVIRONMENT_SUFFIX=<env>|(?:\.venv/bin/)?python -m pipeline_tools(?: …)?"
            r"|\.venv/bin/python -m pipeline_tools send …|\.ci/run|aws signer start-signing-job"
            r"|aws --export|aws <service> <operation> …"
            r"|python -m pipeline_tools (?:review-plan|sandbox --state-dir DIR)"
            r"|python -m pipeline_tools cost --events-per-month N .*|make cost EVENTS=… PAYLOAD_BYTES=…"
            # a usage synopsis (optional arguments in brackets), not a line to run
            r"|python -m pipeline_tools [a-z-]+(?: \[[^]]+\])+)$",
        ),
        (
            "suite",
            r"^(?:make (?:test|test-fast|bench|verify|install|tools)|python -m benchmarks\.[a-z_]+"
            r"|PIPELINE_OUTPUTS=\S+ WEBHOOK_SIGNING_SECRET=\S+ \.venv/bin/python -m pytest tests/integration)$",
        ),
        ("sandbox_start", r"^make sandbox(?: .*)?$"),
        ("deploy", r"\bcdktf (?:synth|deploy|destroy|diff)\b|\bmake synth\b|\bcd cdktf\.out/"),
        ("aws", r"^aws "),
        (
            "sandbox",
            r"^(?:make plan|make load\b.*|(?:\.venv/bin/)?python -m pipeline_tools (?:send|trace|replay|redrive"
            r"|status|events|resend|listen|secret|aws|plan|quarantine|check-secrets|load|reconcile --source)\b.*)$",
        ),
        (
            "local",
            r"^(?:make (?:help|cost)\b.*|(?:\.venv/bin/)?python -m (?:pipeline_tools (?:cost|review-plan|capacity|reconcile --help)"
            r"|modules\.currency_table|pytest tests/examples)\b.*)$",
        ),
    )
)


def command_lines() -> list[tuple[str, str]]:
    """(document, line) for every command line the documents show, in order, repeats included."""
    found = []
    for document in DOCUMENTS:
        path = PROJECT / document
        if not path.is_file():
            continue
        fenced, prose, fence = [], [], None
        for line in path.read_text(encoding="utf-8").splitlines():
            marker = re.match(r"\s*(```+)(\S*)", line)
            if marker and fence is None:
                fence = (marker.group(1), marker.group(2) in ("", "bash", "sh", "console", "shell"))
                block: list[str] = []
                continue
            if marker and fence is not None and marker.group(1) == fence[0]:
                if fence[1]:
                    fenced += _joined(block)
                fence = None
                continue
            (block if fence is not None else prose).append(line)
        spans = re.findall(r"`([^`\n]+(?:\n[^`\n]+)?)`", "\n".join(prose))
        candidates = [line.split(" #", 1)[0] for line in fenced] + [" ".join(span.split()) for span in spans]
        found += [(document, " ".join(c.split())) for c in candidates if _COMMAND.match(c.strip())]
    return found


def _joined(block: list[str]) -> list[str]:
    lines, current = [], ""
    for line in block:
        current += line.strip() + " "
        if not line.rstrip().endswith("\\"):
            lines.append(current.replace("\\ ", " ").strip())
            current = ""
    return lines


def lines_for(runner: str) -> list[str]:
    """The distinct lines (first-seen order) a runner executes."""
    return list(dict.fromkeys(line for _, line in command_lines() if runner_of(line) == [runner]))


def runner_of(line: str) -> list[str]:
    """Every runner whose pattern matches (exactly one for a well-classified line)."""
    matches = [runner for runner, pattern in RUNNERS if pattern.search(line)]
    return matches[:1] if matches[:1] == ["mention"] else matches
