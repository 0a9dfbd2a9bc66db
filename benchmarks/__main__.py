"""`make bench`: run every benchmark, write bench-results.json and docs/PERFORMANCE.md.

`python -m benchmarks [--skip-suite] [--skip-sandbox] [--only FIGURES]`: the two long figures (the whole
test suite, and a sandbox bring-up with 1,000 events) can be left out for a quick run; `--only
providers,provider_growth` measures just those figures (8 and 9) and carries every other one over from
the last run. The report says which figures were carried over and when they were measured.
"""

from __future__ import annotations

import argparse
import datetime
import json
import platform
import subprocess
import sys
from pathlib import Path
from typing import Any

from benchmarks import cold_start, handler_baseline, handler_cpu, provider_cpu, provider_growth, report, synth_ratio
from pipeline_tools.progress import Steps

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench-results.json"
REPORT = ROOT / "docs" / "PERFORMANCE.md"
FINDINGS = Path(__file__).with_name("findings.md")
# make test's stack-synthesizing steps: the pytest session (every construct and static test shares
# it, on the fast path), the guard's fresh process (eager on purpose), the sandbox's synth.
SYNTH_STEPS = 3
# Every figure's key in bench-results.json, in the order they run.
FIGURES = ("synth", "suite", "cold_start", "baseline", "provider_growth", "sandbox", "handlers", "providers")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--skip-suite", action="store_true", help="leave out figure 2 (runs the whole test suite)")
    parser.add_argument("--skip-sandbox", action="store_true", help="leave out figure 6 (a sandbox bring-up)")
    parser.add_argument("--report-only", action="store_true", help="rewrite the report from bench-results.json")
    parser.add_argument("--only", type=lambda text: set(text.split(",")), default=None,
                        help=f"measure only these figures ({', '.join(FIGURES)}); carry the others over")  # fmt: skip
    args = parser.parse_args(argv)
    if args.report_only:
        results = json.loads(RESULTS.read_text(encoding="utf-8"))
        REPORT.write_text(report.markdown(results, FINDINGS.read_text(encoding="utf-8")), encoding="utf-8")
        return 0
    steps = Steps("bench")
    results: dict[str, Any] = {
        "machine": f"{platform.machine()}, {platform.python_implementation()} {platform.python_version()}",
        "measured_at": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }
    # Figures left out by option keep their last measurement, labelled with its date in the report.
    previous = json.loads(RESULTS.read_text(encoding="utf-8")) if RESULTS.exists() else {}
    unknown = (args.only or set()) - set(FIGURES)
    if unknown:
        parser.error(f"--only: no figure {', '.join(sorted(unknown))}; figures: {', '.join(FIGURES)}")

    def wanted(key: str) -> bool:
        return args.only is None or key in args.only

    skipped_by_option = {"suite": args.skip_suite, "sandbox": args.skip_sandbox}
    for key in FIGURES:
        if (skipped_by_option.get(key) or not wanted(key)) and key in previous:
            results[key] = previous[key]
            results.setdefault("carried_over", {})[key] = previous.get("carried_over", {}).get(
                key, previous["measured_at"]
            )
    try:
        if wanted("synth"):
            with steps.step("1. synth: eager, GC-paused, fast, make synth before/now (5 alternating rounds)"):
                results["synth"] = synth_ratio.main()
        if not args.skip_suite and wanted("suite"):
            from benchmarks import suite_phases

            with steps.step("2. the test suite as make test runs it (sandbox included)"):
                results["suite"] = {**suite_phases.main(), "synth_steps": SYNTH_STEPS}
        if wanted("cold_start"):
            with steps.step("3. cold imports from the zip vs. import boto3"):
                results["cold_start"] = cold_start.main()
        if wanted("baseline"):
            with steps.step("7. validator vs. the baseline before issues 10 and 11 (interleaved, own processes)"):
                results["baseline"] = handler_baseline.main()
        if wanted("provider_growth"):
            with steps.step("9. validator per provider route vs. the code before the money facts (own processes)"):
                results["provider_growth"] = provider_growth.main()
        if not args.skip_sandbox and wanted("sandbox"):
            with steps.step("6. sandbox: ready time, latency, 1,000 events (in its own process)"):
                # Its own process: the handlers it loads from the deployed zip must not meet the
                # stubbed ones figure 4 imported.
                figures = ROOT / ".build" / "sandbox-figures.json"
                subprocess.run([sys.executable, "-m", "benchmarks.sandbox_figures", str(figures)],  # noqa: S603
                               cwd=ROOT, stdout=subprocess.DEVNULL, check=True)  # fmt: skip
                results["sandbox"] = json.loads(figures.read_text(encoding="utf-8"))
        if wanted("handlers"):
            with steps.step("4-5. warm validator and router CPU, AWS calls (run last: it imports the handlers)"):
                handler_cpu._environment()
                results["handlers"] = {
                    "validator": handler_cpu.validator_figures(),
                    "router": handler_cpu.router_figures(),
                }
        if wanted("providers"):
            with steps.step("8. warm validator CPU per provider route against its floor (interleaved rounds)"):
                results["providers"] = provider_cpu.main()
    except Exception as error:
        print(
            f"bench failed: {error}\nFix the cause above; `make synth` and `make test` must pass first.",
            file=sys.stderr,
        )
        return 1
    RESULTS.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    REPORT.write_text(report.markdown(results, FINDINGS.read_text(encoding="utf-8")), encoding="utf-8")
    steps.summary(f"wrote {RESULTS.name} and {REPORT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
