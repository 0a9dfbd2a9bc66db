"""Synth wall time of both stacks vs. a bare stack that only imports the AWS provider (same process set-up).

Runs alternate, so both sides see the same machine noise; the median of each is reported with the
ratio. `.venv/bin/python -m benchmarks.synth_ratio [runs]`.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BARE = """
import cdktf_cdktf_provider_aws.provider as p
from cdktf import App, TerraformStack
app = App(outdir={outdir!r})
stack = TerraformStack(app, "bare")
p.AwsProvider(stack, "aws", region="us-east-1")
app.synth()
"""


def timed(arguments: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(arguments, cwd=ROOT, env=env, check=True, capture_output=True)  # noqa: S603
    return time.perf_counter() - start


def main(runs: int = 3) -> dict[str, float]:
    env = {**os.environ, "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20", "ENVIRONMENT_SUFFIX": "bench"}
    full, bare = [], []
    with tempfile.TemporaryDirectory() as outdir:
        for _ in range(runs):
            bare.append(timed([sys.executable, "-c", BARE.format(outdir=outdir)], env))
            full.append(timed([sys.executable, "main.py"], env))
    result = {"bare_median_s": statistics.median(bare), "full_median_s": statistics.median(full)}
    result["ratio"] = result["full_median_s"] / result["bare_median_s"]
    return result


if __name__ == "__main__":
    print(json.dumps(main(int(sys.argv[1]) if len(sys.argv) > 1 else 3), indent=2))
