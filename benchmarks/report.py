"""Markdown tables of a benchmark run (the JSON results hold the same figures and every round)."""

from __future__ import annotations

from typing import Any


def _us(x: float) -> str:
    return f"{x:,.1f}" if x < 100 else f"{x:,.0f}"


def _rate(x: float) -> str:
    return f"{x:,.0f}"


def _ratio(x: float) -> str:
    return f"{x:.2f}×"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def markdown_report(results: dict[str, Any]) -> str:
    env = results["environment"]
    rounds = env["rounds"]
    out = [
        f"# Decisionary vs zen-engine {env['zen-engine']} — {env['when']}",
        "",
        f"Python {env['python']}, {env['cpus']} CPUs, {env['platform']}; "
        f"median of {rounds} round{'s' if rounds > 1 else ''}{' (quick sizes)' if env['quick'] else ''}; "
        f"timer overhead {env['timer_overhead_ns']:.0f} ns per call.",
        "",
        "## Single evaluation",
        "",
    ]
    rows = []
    for variant, v in results["variants"].items():
        table = v["table"]
        for engine, m in v["latency"].items():
            rows.append([f"{variant} ({table['rules']} rules)", engine, _us(m["p50_us"]), _us(m["p99_us"]),
                         _rate(m["calls_per_s"]), _rate(m["calls_per_cpu_s"]),
                         f"{v['load_s'][engine] * 1e3:,.1f}"])
    out += _table(["table", "engine", "p50 µs", "p99 µs", "calls/s", "calls/CPU-s", "load ms"], rows)
    out += ["", "## Ratios (Decisionary ÷ other; latency > 1 and throughput < 1 mean Decisionary is slower)", ""]
    rows = [[variant] + [_ratio(x) for x in v["ratios"].values()] for variant, v in results["variants"].items()]
    header = list(next(iter(results["variants"].values()))["ratios"])
    out += _table(["table", *header], rows)

    for variant, v in results["variants"].items():
        batch = v["batch"]
        out += ["", f"## Batch, {variant}: {batch['rows']:,} rows "
                f"(checked: all rows vs numpy masks, {batch['verified']['sample_vs_evaluate']:,} vs evaluate)", ""]
        rows = [[m["method"], f"{m['seconds']:,.2f}", _rate(m["rows_per_s"]), f"{m['cpu_seconds']:,.2f}",
                 _rate(m["rows_per_cpu_s"]), m["note"]] for m in batch["methods"]]
        out += _table(["method", "seconds", "rows/s", "CPU s", "rows/CPU-s", "how"], rows)

    if results.get("sweep"):
        out += ["", "## Table size (FIRST): p50 µs per call (mean 1-based rule that fires)", ""]
        engines = list(results["sweep"][0]["latency"])
        rows = []
        for point in results["sweep"]:
            t = point["table"]
            rows.append([f"{t['rules']:,}", f"{t['mean_hit_rule']:,.0f}"]
                        + [_us(point["latency"][e]["p50_us"]) for e in engines]
                        + [f"{point['load_s']['Decisionary'] * 1e3:,.0f}"])
        out += _table(["rules", "mean hit rule", *engines, "Decisionary load ms"], rows)

    if results.get("zen_paths"):
        out += ["", "## zen-engine API paths (FIRST table, same contexts)", ""]
        rows = [[name, _us(m["p50_us"]), _us(m["p99_us"]), _rate(m["calls_per_s"]), _rate(m["calls_per_cpu_s"])]
                for name, m in results["zen_paths"].items()]
        out += _table(["path", "p50 µs", "p99 µs", "calls/s", "calls/CPU-s"], rows)
    return "\n".join(out)
