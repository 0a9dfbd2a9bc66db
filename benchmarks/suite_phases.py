"""Figure 2: the processes that import the AWS provider during the test suite, and its wall time by
phase (install, lint, synth, unit, handlers, static checks, sandbox).

Runs the suite exactly as `make test` does (`PIPELINE_SANDBOX=1 pytest`), with an audit-hook probe
on PYTHONPATH that every Python process loads, and a pytest plugin that times the phases.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# Written by the Makefile's install steps when they last ran.
INSTALL_RECORDS = (ROOT / ".venv" / ".install-seconds", ROOT / "node_modules" / ".install-seconds",
                   ROOT / ".tool-venvs" / "checkov" / ".install-seconds")  # fmt: skip


def main() -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as work:
        imports_log, phases_file = Path(work) / "imports.log", Path(work) / "phases.json"
        env = {
            **os.environ,
            "PIPELINE_SANDBOX": "1",
            "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT / "benchmarks" / "import_probe"), os.environ.get("PYTHONPATH")])),
            "BENCH_PROVIDER_IMPORT_LOG": str(imports_log),
            "BENCH_PHASES_FILE": str(phases_file),
        }  # fmt: skip
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "ruff", "check", "."], cwd=ROOT, check=True, capture_output=True)
        subprocess.run(
            [sys.executable, "-m", "ruff", "format", "--check", "."], cwd=ROOT, check=True, capture_output=True
        )
        lint = time.perf_counter() - start
        start = time.perf_counter()
        result = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "benchmarks.phase_timer", "-p", "no:cacheprovider"],
            cwd=ROOT, env=env, capture_output=True, text=True, check=False,
        )  # fmt: skip
        suite = time.perf_counter() - start
        if result.returncode != 0:
            raise RuntimeError(f"the test suite failed under the benchmark:\n{result.stdout[-4000:]}")
        importers = imports_log.read_text().splitlines() if imports_log.exists() else []
        phases = json.loads(phases_file.read_text())
    recorded = [float(path.read_text()) for path in INSTALL_RECORDS if path.exists()]
    install = sum(recorded) if len(recorded) == len(INSTALL_RECORDS) else None
    return {
        "provider_importing_processes": len(importers),
        "provider_importers": [line.split(" ", 1)[1] for line in importers],
        "phases_s": {"install (last make install)": install, "lint": lint, **phases},
        "pytest_wall_s": suite,
        "tests": result.stdout.strip().splitlines()[-1],
    }


if __name__ == "__main__":
    print(json.dumps(main(), indent=2))
