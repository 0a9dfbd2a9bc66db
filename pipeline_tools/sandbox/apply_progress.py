"""`terraform apply` with a progress line from Terraform's own output: resources done / total.

Terraform prints `Plan: N to add, M to change, K to destroy.` before it starts and one
`<address>: Creation complete after …` (or `Modifications` / `Destruction complete`) per resource.
A progress line is printed each time another tenth of the total is done, so a ~100 s apply shows
that it moves without flooding the terminal.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import TextIO

from pipeline_tools.terraform_cli import TerraformError

_PLAN = re.compile(r"^Plan: (\d+) to add, (\d+) to change, (\d+) to destroy\.")
_DONE = re.compile(r": (?:Creation|Modifications|Destruction) complete after ")
STOP_GRACE_SECONDS = 5


def progress_total(line: str) -> int | None:
    """The number of resource operations a `Plan:` line announces, else None."""
    match = _PLAN.match(line.strip())
    return sum(int(group) for group in match.groups()) if match else None


def is_done_line(line: str) -> bool:
    return bool(_DONE.search(line))


def run_with_progress(command: list[str], *, cwd: Path, env: dict[str, str], stream: TextIO) -> str:
    """Run `command` (a `terraform apply`), print `    apply: <done>/<total> resources` as it goes.

    Returns Terraform's whole output; raises `TerraformError` with its tail when it fails. If this
    process is interrupted (Ctrl-C, or a SIGTERM/SIGHUP turned into an exception), Terraform is
    stopped before the exception goes on, so no apply outlives the sandbox.
    """
    process = subprocess.Popen(  # noqa: S603 - fixed binary, arguments built by this project
        command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    output: list[str] = []
    total, done, shown = 0, 0, 0
    try:
        assert process.stdout is not None
        for line in process.stdout:
            output.append(line)
            total = progress_total(line) or total
            if is_done_line(line):
                done += 1
                if total and (done * 10 // total > shown * 10 // total or done == total):
                    shown = done
                    print(f"    apply: {done}/{total} resources", file=stream, flush=True)
        process.wait()
    except BaseException:
        process.terminate()
        try:
            process.wait(timeout=STOP_GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
        raise
    text = "".join(output)
    if process.returncode != 0:
        raise TerraformError(f"{' '.join(command[1:])} failed in {cwd}:\n{text[-6000:]}")
    return text
