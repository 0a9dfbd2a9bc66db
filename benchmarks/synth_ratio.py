"""Figure 1: what a synth costs, side by side in one run, with the peak memory of each.

Variants, run in alternation (each round runs every variant once, so all see the same machine
noise; medians are reported), all for ENVIRONMENT_SUFFIX=bench into a temporary folder:

- `bare`: a stack that only imports the AWS provider as shipped (the old "floor");
- `eager`: `main.py` with the provider imported as shipped (`CDKTF_AWS_PROVIDER_IMPORT=stock`);
- `eager_gc_paused`: `main.py` on the loader's fallback (`=eager`: GC paused, then frozen);
- `fast`: `main.py` as it runs now (the fast-path loader);
- `make_synth_before`: `make synth` as it was (`npx cdktf`, app `pipenv run python main.py`, the
  provider as shipped);
- `make_synth`: `make synth` as it is.

Peak memory: `benchmarks/process_tree.py` (Python + node + the CLI). Also: where a fast synth's
time goes (one probe process per round), and whether an unchanged `handlers/` is rebuilt.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks import process_tree

ROOT = Path(__file__).resolve().parent.parent
BARE = """
import cdktf_cdktf_provider_aws.provider as p
from cdktf import App, TerraformStack
app = App()
stack = TerraformStack(app, "bare")
p.AwsProvider(stack, "aws", region="us-east-1")
app.synth()
"""
# The phases of one fast synth, timed from inside; node's CPU read from /proc before exit.
PROBE = """
import json, os, sys, time
start = time.perf_counter()
import modules
from modules.config import load_settings
import cdktf
started_node = time.perf_counter()
import cdktf_cdktf_provider_aws
provider = time.perf_counter()
from main import synthesize
synthesize(load_settings("bench"))
synthesized = time.perf_counter()
sys.path.insert(0, "benchmarks")
import process_tree
tick = os.sysconf("SC_CLK_TCK")
def cpu(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / tick
children = process_tree._descendants(os.getpid()) - {os.getpid()}
json.dump({"import_cdktf_and_start_node_s": started_node - start, "provider_package_s": provider - started_node,
           "stacks_and_synth_s": synthesized - provider, "python_cpu_s": cpu(os.getpid()),
           "node_cpu_s": sum(cpu(pid) for pid in children)}, open(sys.argv[1], "w"))
"""
MODE = "CDKTF_AWS_PROVIDER_IMPORT"


def _variants(outdir: Path) -> dict[str, tuple[list[str], dict[str, str]]]:
    python = sys.executable
    make = ["make", "--no-print-directory", "synth"]
    return {
        "bare": ([python, "-c", BARE], {MODE: "stock"}),
        "eager": ([python, "main.py"], {MODE: "stock"}),
        "eager_gc_paused": ([python, "main.py"], {MODE: "eager"}),
        "fast": ([python, "main.py"], {}),
        "make_synth_before": (
            [
                *make,
                f"SYNTH_OUT={outdir / 'make-before'}",
                "CDKTF_CLI=npx --no-install cdktf",
                "SYNTH_ARGS=--app 'pipenv run python main.py'",
            ],
            {MODE: "stock"},
        ),
        "make_synth": ([*make, f"SYNTH_OUT={outdir / 'make'}"], {}),
    }


def _zips() -> dict[str, int]:
    from modules.lambda_package import BUILD_DIR

    return {path.name: path.stat().st_mtime_ns for path in BUILD_DIR.glob("handlers-*.zip")}


def asset_build() -> dict[str, Any]:
    """A cold build of the zip (fresh build folder) vs. the content-key hit every later synth takes."""
    from modules.lambda_package import build_lambda_package

    with tempfile.TemporaryDirectory() as build_dir:
        start = time.perf_counter()
        build_lambda_package(build_dir=Path(build_dir))
        cold = time.perf_counter() - start
        start = time.perf_counter()
        build_lambda_package(build_dir=Path(build_dir))
        hit = time.perf_counter() - start
    return {"cold_build_s": cold, "unchanged_hit_s": hit}


def main(runs: int = 5) -> dict[str, Any]:
    """Figures of `runs` alternating rounds; seconds and bytes (see the module docstring)."""
    base_env = {**os.environ, "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20", "ENVIRONMENT_SUFFIX": "bench",
                "PIPELINE_DECLARED_ENVIRONMENT": "bench"}  # fmt: skip
    base_env.pop(MODE, None)
    measured: dict[str, list[process_tree.Measured]] = {}
    phases: list[dict[str, float]] = []
    with tempfile.TemporaryDirectory() as work:
        outdir = Path(work)
        base_env["CDKTF_OUTDIR"] = str(outdir / "main")  # keep cdktf.out/ as `make synth` left it
        variants = _variants(outdir)
        process_tree.run([sys.executable, "main.py"], cwd=ROOT, env=base_env)  # builds the zip if not built yet
        zips_before = _zips()
        for _ in range(runs):
            for name, (arguments, extra) in variants.items():
                measured.setdefault(name, []).append(process_tree.run(arguments, cwd=ROOT, env={**base_env, **extra}))
            probe = outdir / "phases.json"
            process_tree.run([sys.executable, "-c", PROBE, str(probe)], cwd=ROOT, env=base_env)
            phases.append(json.loads(probe.read_text()))
        rebuilt = _zips() != zips_before
    figures = {
        name: {
            "median_s": statistics.median(m.wall_s for m in runs_of),
            "peak_rss_bytes": statistics.median(m.peak_rss_bytes for m in runs_of),
            "wall_s": [m.wall_s for m in runs_of],
        }
        for name, runs_of in measured.items()
    }
    result: dict[str, Any] = {
        "runs": runs,
        "variants": figures,
        "fast_phases_s": {key: statistics.median(p[key] for p in phases) for key in phases[0]},
        "unchanged_handlers_rebuilt": rebuilt,
        **asset_build(),
    }
    result["ratio_fast_vs_eager"] = figures["fast"]["median_s"] / figures["eager"]["median_s"]
    result["ratio_make_synth"] = figures["make_synth"]["median_s"] / figures["make_synth_before"]["median_s"]
    result["ratio_make_synth_rss"] = (
        figures["make_synth"]["peak_rss_bytes"] / figures["make_synth_before"]["peak_rss_bytes"]
    )
    return result


if __name__ == "__main__":
    print(json.dumps(main(int(sys.argv[1]) if len(sys.argv) > 1 else 5), indent=2))
