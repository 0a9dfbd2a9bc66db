"""Wall time and peak memory of a command together with every process it starts (Linux /proc).

Peak memory is the largest sum, over one sample, of the resident sets (`VmRSS`) of the command and
all its descendants alive then (Python, the two node processes of the jsii runtime, the cdktf CLI's
node, npm, make, the short `terraform version` checks the CLI runs), sampled every 50 ms: what the
machine had to hold at once. For a synth it is reached at the end, where Python and jsii's node are
largest and alive together; a sum of each process's own peak would count the CLI's sequential
helper processes as if they overlapped.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import tempfile
import time
from pathlib import Path

_SAMPLE_SECONDS = 0.05


@dataclasses.dataclass(frozen=True)
class Measured:
    wall_s: float
    peak_rss_bytes: int  # the largest simultaneous sum of VmRSS, see the module docstring
    processes: int  # how many processes were seen in the tree


def _parents() -> dict[int, int]:
    parents = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
        except OSError:  # it ended while we looked
            continue
        # pid (comm) state ppid ...; comm may hold spaces and parentheses
        parents[int(entry.name)] = int(stat[stat.rindex(")") + 2 :].split()[1])
    return parents


def _descendants(root: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for pid, parent in _parents().items():
        children.setdefault(parent, []).append(pid)
    found, todo = {root}, [root]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def _rss_kib(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def run(arguments: list[str], *, cwd: Path, env: dict[str, str]) -> Measured:
    """Run `arguments` to completion (CalledProcessError on a non-zero exit, with its stderr)."""
    peak_kib, seen = 0, set()
    with tempfile.TemporaryFile() as errors:  # a file, not a pipe: a chatty command cannot block on it
        start = time.perf_counter()
        process = subprocess.Popen(arguments, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=errors)  # noqa: S603
        while process.poll() is None:
            tree = _descendants(process.pid)
            seen |= tree
            peak_kib = max(peak_kib, sum(_rss_kib(pid) or 0 for pid in tree))
            time.sleep(_SAMPLE_SECONDS)
        wall = time.perf_counter() - start
        errors.seek(0)
        stderr = errors.read().decode(errors="replace")
    if process.returncode != 0:
        raise subprocess.CalledProcessError(process.returncode, arguments, stderr=stderr[-4000:])
    return Measured(wall_s=wall, peak_rss_bytes=peak_kib * 1024, processes=len(seen))
