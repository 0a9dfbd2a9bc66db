"""Figure 1: synth wall time of all stacks (`main.py`) vs. a bare stack that only imports the AWS
provider and synthesizes nothing, in the same process set-up; and whether an unchanged `handlers/`
is rebuilt.

Runs alternate, so both sides see the same machine noise; medians and their ratio are reported.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BARE = """
import cdktf_cdktf_provider_aws.provider as p
from cdktf import App, TerraformStack
app = App()
stack = TerraformStack(app, "bare")
p.AwsProvider(stack, "aws", region="us-east-1")
app.synth()
"""


def _timed(arguments: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(arguments, cwd=ROOT, env=env, check=True, capture_output=True)  # noqa: S603
    return time.perf_counter() - start


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
    env = {**os.environ, "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20", "ENVIRONMENT_SUFFIX": "bench",
           "PIPELINE_DECLARED_ENVIRONMENT": "bench"}  # fmt: skip
    full, bare = [], []
    with tempfile.TemporaryDirectory() as outdir:
        env["CDKTF_OUTDIR"] = outdir  # keep cdktf.out/ as `make synth` left it
        _timed([sys.executable, "main.py"], env)  # builds the zip if this tree's is not built yet
        zips_before = _zips()
        for _ in range(runs):
            bare.append(_timed([sys.executable, "-c", BARE], env))
            full.append(_timed([sys.executable, "main.py"], env))
        rebuilt = _zips() != zips_before
    result: dict[str, Any] = {
        "runs": runs,
        "bare_median_s": statistics.median(bare),
        "full_median_s": statistics.median(full),
        "unchanged_handlers_rebuilt": rebuilt,
        **asset_build(),
    }
    result["ratio"] = result["full_median_s"] / result["bare_median_s"]
    return result


if __name__ == "__main__":
    import json

    print(json.dumps(main(int(sys.argv[1]) if len(sys.argv) > 1 else 5), indent=2))
