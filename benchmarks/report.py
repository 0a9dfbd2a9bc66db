"""docs/PERFORMANCE.md from bench-results.json: one table of figure, value, baseline, ratio, target."""

from __future__ import annotations

from typing import Any

Row = tuple[str, str, str, str, str, str]  # figure, value, baseline, ratio, target, verdict


def _verdict(met: bool | None) -> str:
    return "n/a" if met is None else ("meets" if met else "**misses**")


def _time_and_memory(figure: dict[str, Any]) -> str:
    return f"{figure['median_s']:.2f} s, {figure['peak_rss_bytes'] / 1e9:.2f} GB"


def _synth_rows(synth: dict[str, Any]) -> list[Row]:
    v, phases = synth["variants"], synth["fast_phases_s"]
    eager, fast, before, now = v["eager"], v["fast"], v["make_synth_before"], v["make_synth"]
    fast_ratio, make_ratio, make_rss = (
        synth["ratio_fast_vs_eager"],
        synth["ratio_make_synth"],
        synth["ratio_make_synth_rss"],
    )
    cli_s = now["median_s"] - fast["median_s"]
    return [
        (f"1. synth of all stacks (`main.py`), provider imported as shipped (eager), median of {synth['runs']}; peak RSS",
         _time_and_memory(eager), f"bare stack importing only the provider (the old floor): {_time_and_memory(v['bare'])}",
         f"{eager['median_s'] / v['bare']['median_s']:.2f}", "", "n/a"),
        ("1. synth on the loader's eager fallback (GC paused, then frozen); peak RSS", _time_and_memory(v["eager_gc_paused"]),
         f"eager as shipped: {eager['median_s']:.2f} s", f"{v['eager_gc_paused']['median_s'] / eager['median_s']:.2f}", "", "n/a"),
        ("1. **fast synth** (the loader's fast path) vs. eager synth; peak RSS", _time_and_memory(fast),
         f"eager synth: {_time_and_memory(eager)}", f"{fast_ratio:.2f}", "≤ 0.35", _verdict(fast_ratio <= 0.35)),
        ("1. fast synth peak RSS (Python + node)", f"{fast['peak_rss_bytes'] / 1e9:.2f} GB",
         f"eager synth: {eager['peak_rss_bytes'] / 1e9:.2f} GB", f"{fast['peak_rss_bytes'] / eager['peak_rss_bytes']:.2f}", "", "n/a"),
        ("1. **`make synth`** end to end (CLI + app), median", f"{now['median_s']:.2f} s",
         f"`make synth` before (`pipenv run`, eager): {before['median_s']:.2f} s", f"{make_ratio:.2f}", "≤ 0.50",
         _verdict(make_ratio <= 0.5)),
        ("1. **`make synth`** peak RSS (CLI + Python + node)", f"{now['peak_rss_bytes'] / 1e9:.2f} GB",
         f"before: {before['peak_rss_bytes'] / 1e9:.2f} GB", f"{make_rss:.2f}", "≤ 0.65", _verdict(make_rss <= 0.65)),
        ("1. fast synth, inside: `import cdktf` (starts node, loads cdktf)", f"{phases['import_cdktf_and_start_node_s']:.2f} s",
         "", "", "", "n/a"),
        ("1. fast synth, inside: provider package (node loads the provider assembly)", f"{phases['provider_package_s']:.2f} s",
         "", "", "", "n/a"),
        ("1. fast synth, inside: both stacks built and synthesized", f"{phases['stacks_and_synth_s']:.2f} s", "", "", "", "n/a"),
        ("1. fast synth: CPU of node (jsii runtime) / of Python", f"{phases['node_cpu_s']:.2f} s / {phases['python_cpu_s']:.2f} s",
         "", "", "", "n/a"),
        ("1. the cdktf CLI's share of `make synth` (make synth − fast synth)", f"{cli_s:.2f} s",
         f"`make synth`: {now['median_s']:.2f} s", f"{cli_s / now['median_s']:.2f}", "", "n/a"),
        ("1. unchanged `handlers/` rebuilt on the next synth", "no" if not synth["unchanged_handlers_rebuilt"] else "yes",
         "", "", "no", _verdict(not synth["unchanged_handlers_rebuilt"])),
        ("1. Lambda zip build: content-key hit", f"{synth['unchanged_hit_s'] * 1000:.0f} ms",
         f"cold build (fresh folder): {synth['cold_build_s']:.2f} s", f"{synth['unchanged_hit_s'] / synth['cold_build_s']:.3f}",
         "", "n/a"),
    ]  # fmt: skip


def _suite_rows(suite: dict[str, Any]) -> list[Row]:
    count = suite["provider_importing_processes"]
    steps = suite["synth_steps"]
    rows: list[Row] = [
        ("2. processes importing the AWS provider in `make test`", str(count),
         f"stack-synthesizing steps: {steps}", f"{count / steps:.2f}", "1 per step", _verdict(count <= steps)),
        ("2. `make test` pytest wall time", f"{suite['pytest_wall_s']:.0f} s", "", "", "", "n/a"),
    ]  # fmt: skip
    order = [
        "install (last make install)",
        "lint",
        "synth",
        "unit",
        "handlers",
        "static checks",
        "sandbox (integration suite)",
    ]
    for phase, seconds in sorted(
        suite["phases_s"].items(), key=lambda item: order.index(item[0]) if item[0] in order else 99
    ):
        value = "not recorded" if seconds is None else f"{seconds:.1f} s"
        rows.append((f"2. phase: {phase}", value, "", "", "", "n/a"))
    return rows


def _cold_rows(cold: dict[str, Any]) -> list[Row]:
    rows: list[Row] = []
    for module, figures in cold["handlers"].items():
        rows += [
            (f"3. cold import of `{module}` from the zip, median of {cold['runs']}", f"{figures['import_ms']:.0f} ms",
             f"`import boto3`: {cold['boto3_ms']:.0f} ms", f"{figures['ratio_to_boto3']:.2f}", "≤ 1.50",
             _verdict(figures["ratio_to_boto3"] <= 1.5)),
            (f"3. cold import of `{module}`, against boto3 + its clients", f"{figures['import_ms']:.0f} ms",
             f"`import boto3` + the same clients: {figures['boto3_and_clients_ms']:.0f} ms",
             f"{figures['ratio_to_boto3_and_clients']:.2f}", "", "n/a"),
        ]  # fmt: skip
    rows += [
        ("3. `validator` without the shipped byte-code", f"{cold['validator_without_shipped_bytecode_ms']:.0f} ms",
         f"with it: {cold['handlers']['validator']['import_ms']:.0f} ms",
         f"{cold['validator_without_shipped_bytecode_ms'] / cold['handlers']['validator']['import_ms']:.2f}", "", "n/a"),
        ("3. deployment zip (both functions)", f"{cold['zip_bytes'] / 1e6:.2f} MB", "", "", "< 50 MB", _verdict(cold["zip_bytes"] < 50e6)),
    ]  # fmt: skip
    return rows


def _handler_rows(handlers: dict[str, Any]) -> list[Row]:
    v = handlers["validator"]
    rows: list[Row] = [
        (f"4. warm validator CPU per {v['event_bytes']} B event, p50 (p99)",
         f"{v['handler']['p50_us']:.0f} µs ({v['handler']['p99_us']:.0f} µs)",
         f"hmac + `json.loads(parse_float=Decimal)`: {v['floor']['p50_us']:.1f} µs ({v['floor']['p99_us']:.1f} µs)",
         f"{v['ratio_p50']:.1f}", "≤ 5", _verdict(v["ratio_p50"] <= 5)),
        ("4. warm validator CPU, against floor + one PutItem through botocore", f"{v['handler']['p50_us']:.0f} µs",
         f"{v['floor_with_put_item']['p50_us']:.0f} µs", f"{v['ratio_p50_to_floor_with_put_item']:.2f}", "", "n/a"),
        ("4. AWS calls per accepted event, warm", " + ".join(v["calls_per_accepted_event_warm"]) or "none",
         f"cold start: {' + '.join(v['calls_cold_start'])}", str(len(v["calls_per_accepted_event_warm"])), "exactly 1",
         _verdict(v["calls_per_accepted_event_warm"] == ["PutItem"])),
        ("4. AWS calls per rejected event", str(len(v["calls_per_rejected_event"])), "", "", "0",
         _verdict(not v["calls_per_rejected_event"])),
    ]  # fmt: skip
    for size, r in handlers["router"].items():
        ok = r["send_message_batch_calls"] == r["expected_calls"]
        rows.append((f"5. router, batch of {size} over 3 types: CPU per record; SendMessageBatch calls",
                     f"{r['cpu_per_record_us']:.0f} µs; {r['send_message_batch_calls']} calls",
                     f"Σ ceil(n_queue / 10) = {r['expected_calls']}", f"{r['send_message_batch_calls'] / r['expected_calls']:.2f}",
                     "calls = Σ ceil(n/10)", _verdict(ok)))  # fmt: skip
    return rows


def _baseline_rows(b: dict[str, Any]) -> list[Row]:
    warm, cold, message = b["warm_cpu_us_p50"], b["validator_import_ms"], b["largest_message"]
    least = b.get("warm_cpu_us_p50_least_round", warm)
    return [
        (f"7. warm validator CPU per 2 KB event on `POST /webhook`: least of {b['rounds']} interleaved round medians "
         f"({b['events_per_round']} events each)", f"{least['current']:.0f} µs",
         f"baseline `{b['baseline_ref']}`: {least['baseline']:.0f} µs",
         f"{least['current'] / least['baseline']:.2f}", "≤ 1.10", _verdict(least["current"] / least["baseline"] <= 1.10)),
        ("7. the same, median of the round medians (includes the machine's noise)", f"{warm['current']:.0f} µs",
         f"baseline: {warm['baseline']:.0f} µs", f"{b['warm_cpu_ratio']:.2f}", "", "n/a"),
        (f"7. validator cold import (byte-code compiled), median of {b['import_runs']}",
         f"{cold['current']:.0f} ms", f"baseline `{b['baseline_ref']}`: {cold['baseline']:.0f} ms",
         f"{b['validator_import_ratio']:.2f}", "≤ 1.10", _verdict(b["validator_import_ratio"] <= 1.10)),
        ("7. largest accepted body's routed message (every payload character escaped)",
         f"{message['message_bytes']:,} B from a {message['body_bytes']:,} B body",
         f"queue MaximumMessageSize: {message['queue_maximum_bytes']:,} B",
         f"{message['message_bytes'] / message['queue_maximum_bytes']:.2f}", "≤ 1.00",
         _verdict(message["message_bytes"] <= message["queue_maximum_bytes"])),
    ]  # fmt: skip


def _sandbox_rows(sandbox: dict[str, Any]) -> list[Row]:
    lat, burst = sandbox["latency"], sandbox["throughput"]
    clean = burst["lost"] == 0 and burst["duplicates"] == 0 and burst["accepted_202"] == burst["events"]
    return [
        ("6. sandbox: time to a ready endpoint", f"{sandbox['ready_s']:.0f} s",
         f"`terraform apply` of {sandbox['resources']} resources: {sandbox['apply_s']:.0f} s",
         f"{sandbox['ready_s'] / sandbox['apply_s']:.2f}", "", "n/a"),
        (f"6. sandbox: POST → message in its queue, p50 (p99) of {lat['events']}", f"{lat['p50_s']:.2f} s ({lat['p99_s']:.2f} s)",
         f"router batching window: {lat['batching_window_s']} s", f"{lat['p50_s'] / lat['batching_window_s']:.2f}", "", "n/a"),
        (f"6. sandbox: {burst['events']} signed events end to end", f"{burst['end_to_end_rate_per_s']:.0f} events/s",
         f"gateway accepting them: {burst['accept_rate_per_s']:.0f} events/s",
         f"{burst['end_to_end_rate_per_s'] / burst['accept_rate_per_s']:.2f}", "0 lost, 0 duplicates",
         _verdict(clean) + f" ({burst['lost']} lost, {burst['duplicates']} duplicates)"),
    ]  # fmt: skip


def _provider_rows(providers: dict[str, Any]) -> list[Row]:
    """Figure 8: each provider route's warm CPU against its floor, measured in the same rounds."""
    return [
        (f"8. validator warm CPU, source `{name}` ({figure['provider']}, {figure['body_bytes']:,} B, "
         f"{figure['events']} event{'s' if figure['events'] > 1 else ''}); ratio of least round medians "
         f"(median of rounds {figure['ratio_median_of_rounds']:.2f})",
         f"{figure['handler_us']:.0f} µs", f"floor (HMAC + parse + PutItem per event): {figure['floor_us']:.0f} µs",
         f"{figure['ratio']:.2f}", "≤ 1.5", _verdict(figure["ratio"] <= 1.5))
        for name, figure in providers.items()
    ]  # fmt: skip


def _growth_rows(growth: dict[str, Any]) -> list[Row]:
    """Figure 9: each provider route against the code before the money-facts work (issue 17's criterion):
    9 as it runs (stored payloads compressed since issue 20), 9b storing payloads as text as the
    baseline did, i.e. the money-facts work's own growth."""
    return [
        (f"9. validator warm CPU, source `{name}`, vs. `{growth['baseline_ref']}` (before the money facts), "
         f"{growth['rounds']} interleaved rounds; growth of least round medians (median of rounds "
         f"{figure['growth_median_of_rounds']:+.1%})",
         f"{figure['now_us']:.0f} µs", f"before: {figure['before_us']:.0f} µs", f"{figure['growth']:+.1%}",
         "≤ +10 %", _verdict(figure["growth"] <= 0.10))
        for name, figure in growth["providers"].items()
        if "growth" in figure
    ] + [
        (f"9b. the same, payloads stored as text as at `{growth['baseline_ref']}` (without issue 20's "
         f"compression), source `{name}`",
         f"{figure['now_uncompressed_us']:.0f} µs", f"before: {figure['before_us']:.0f} µs",
         f"{figure['growth_uncompressed']:+.1%}", "≤ +10 %", _verdict(figure["growth_uncompressed"] <= 0.10))
        for name, figure in growth["providers"].items()
        if "growth_uncompressed" in figure
    ]  # fmt: skip


def markdown(results: dict[str, Any], findings: str) -> str:
    rows: list[Row] = []
    for key, build in (("synth", _synth_rows), ("suite", _suite_rows), ("cold_start", _cold_rows),
                       ("handlers", _handler_rows), ("baseline", _baseline_rows), ("sandbox", _sandbox_rows),
                       ("providers", _provider_rows), ("provider_growth", _growth_rows)):  # fmt: skip
        if key in results:
            rows += build(results[key])
    table = ["| figure | value | baseline (same run) | ratio | target | |", "|---|---|---|---|---|---|"]
    table += ["| " + " | ".join(row) + " |" for row in rows]
    skipped = [key for key in ("suite", "sandbox") if key not in results]
    note = f"\n\nNot measured in this run (skipped by option): {', '.join(skipped)}." if skipped else ""
    carried = results.get("carried_over", {})
    if carried:
        shown = ", ".join(f"{key} (measured {when})" for key, when in sorted(carried.items()))
        note += f"\n\nLeft out of this run by option, shown from an earlier one: {shown}."
    return (
        "# Performance\n\n"
        f"Written by `make bench` on {results['machine']} at {results['measured_at']} "
        f"(bench-results.json has every number). Each ratio compares two figures measured side by side in "
        f"the same run, because the machine is noisy.{note}\n\n" + "\n".join(table) + "\n\n" + findings
    )
