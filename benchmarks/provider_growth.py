"""Figure 9: the warm validator's CPU per provider delivery, this tree against the code before the
money-facts work (issue 17's criterion: growth at most 10 % per provider), and each against its floor.

The earlier handlers come from git (`git archive MONEY_BASELINE_REF handlers`). Each round runs
`benchmarks.provider_cpu` once per tree, each in its own process (a module can be imported once per
process), alternating which tree goes first, so the machine's noise falls on both alike; the floor is
measured in the same processes. Reported per provider: the least round median of each tree (another
tenant's load only ever adds CPU time) and the growth between them, and the median-of-rounds growth.
"""

from __future__ import annotations

import compileall
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from benchmarks.handler_baseline import ROOT, _export

# The contract commit of issue 17 ("money facts"), before any provider's money-fact code.
MONEY_BASELINE_REF = "69418d0"
ROUNDS = 6


def _one_round(tree: Path | None, *, uncompressed: bool = False) -> dict[str, Any]:
    command = [sys.executable, "-m", "benchmarks.provider_cpu", "--json"] + ([str(tree)] if tree else [])
    command += ["--uncompressed"] if uncompressed else []
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=True)  # noqa: S603
    return json.loads(result.stdout.strip().splitlines()[-1])


def main(rounds: int = ROUNDS) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as work:
        before = _export(MONEY_BASELINE_REF, Path(work) / "before")
        compileall.compile_dir(str(before), quiet=1)
        compileall.compile_dir(str(ROOT / "handlers"), quiet=1)
        # "now_uncompressed": this tree storing payloads as text, as the baseline did (issue 20 compressed
        # them later, trading CPU for write units): the money-facts work's own growth.
        runs: dict[str, list[dict[str, Any]]] = {"before": [], "now": [], "now_uncompressed": []}
        trees = [("before", before, False), ("now", None, False), ("now_uncompressed", None, True)]
        for index in range(rounds):
            shift = index % len(trees)
            for name, tree, uncompressed in trees[shift:] + trees[:shift]:
                runs[name].append(_one_round(tree, uncompressed=uncompressed))
    figures: dict[str, Any] = {}
    for provider in runs["now"][0]:
        now = [run[provider]["handler_us"] for run in runs["now"]]
        then = [run[provider]["handler_us"] for run in runs["before"] if provider in run]
        floor = [run[provider]["floor_us"] for run in runs["now"]]
        figure = {
            "now_us": min(now),
            "floor_us": min(floor),
            "ratio_to_floor": min(now) / min(floor),
            "ratio_to_floor_median_of_rounds": statistics.median(now) / statistics.median(floor),
        }
        if then:
            plain = [run[provider]["handler_us"] for run in runs["now_uncompressed"]]
            figure |= {
                "before_us": min(then),
                "growth": min(now) / min(then) - 1,
                "growth_median_of_rounds": statistics.median(now) / statistics.median(then) - 1,
                "now_uncompressed_us": min(plain),
                "growth_uncompressed": min(plain) / min(then) - 1,
            }
        figures[provider] = figure
    return {"baseline_ref": MONEY_BASELINE_REF, "rounds": rounds, "providers": figures}


def steps(refs: list[tuple[str, str]], rounds: int = ROUNDS) -> dict[str, Any]:
    """Each change's effect: the handlers of each `(label, git ref)` in turn, interleaved round by round
    (order rotated each round), per provider the least round median and its ratio to the floor."""
    with tempfile.TemporaryDirectory() as work:
        trees = []
        for index, (label, ref) in enumerate(refs):
            tree = _export(ref, Path(work) / f"tree{index}")
            compileall.compile_dir(str(tree), quiet=1)
            trees.append((label, tree))
        runs: dict[str, list[dict[str, Any]]] = {label: [] for label, _ in trees}
        for index in range(rounds):
            shift = index % len(trees)
            for label, tree in trees[shift:] + trees[:shift]:
                runs[label].append(_one_round(tree))
    table: dict[str, Any] = {}
    for label, _ in trees:
        table[label] = {
            provider: {
                "handler_us": min(run[provider]["handler_us"] for run in runs[label]),
                "floor_us": min(run[provider]["floor_us"] for run in runs[label]),
            }
            for provider in runs[label][0]
        }
        for figure in table[label].values():
            figure["ratio"] = figure["handler_us"] / figure["floor_us"]
    return {"rounds": rounds, "steps": [label for label, _ in trees], "figures": table}


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    if len(sys.argv) > 2 and sys.argv[1] == "--steps":  # label=ref,label=ref,... [rounds]
        pairs = [tuple(item.split("=", 1)) for item in sys.argv[2].split(",")]
        print(json.dumps(steps(pairs, int(sys.argv[3]) if len(sys.argv) > 3 else ROUNDS), indent=2))  # type: ignore[arg-type]
        sys.exit(0)
    result = main(int(sys.argv[1]) if len(sys.argv) > 1 else ROUNDS)
    print(f"against {result['baseline_ref']}, {result['rounds']} interleaved rounds (least round medians)")
    for provider, f in result["providers"].items():
        growth = (
            f"{f['growth']:+.1%} (median of rounds {f['growth_median_of_rounds']:+.1%})" if "growth" in f else "n/a"
        )
        plain = f"{f['growth_uncompressed']:+.1%}" if "growth_uncompressed" in f else "n/a"
        print(f"{provider:<12} now {f['now_us']:6.0f} us  before {f.get('before_us', float('nan')):6.0f} us  "
              f"growth {growth}  uncompressed {plain}  floor {f['floor_us']:5.0f} us  "
              f"ratio {f['ratio_to_floor']:.2f}")  # fmt: skip
