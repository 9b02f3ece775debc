"""Decisionary against zen-engine and hand-written baselines on the synthetic credit table.

    .venv/bin/python benchmarks/bench_engine.py [--quick] [--rounds N] [--out FILE]

For the FIRST and UNIQUE variants of a 60-rule table, in one process:
1. agreement: zen-engine, the hand-written loop and Decisionary answer alike on random
   applicants (the run aborts on the first difference, naming the applicant);
2. single evaluation: p50/p99 latency per call and row-by-row throughput;
3. batch: `Model.evaluate_batch` over a million rows, against numpy masks over the same rows
   and zen row by row (timed on fewer rows and extrapolated, as the table says);
4. a table-size sweep (60, 500, 3,000 rules, FIRST) of the cost per call.
Timed sections run in several rounds and report the median round. Results are printed as
markdown and written as JSON to benchmarks/results/.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from importlib import metadata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: make the repository importable
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from benchmarks import credit_table as ct  # noqa: E402
from benchmarks.batch import batch_outcomes  # noqa: E402
from benchmarks.engines import (  # noqa: E402
    DisagreementError,
    Engine,
    check_agreement,
    decisionary_engine,
    hand_written_engine,
    zen_api_paths,
    zen_engine,
)
from benchmarks.report import markdown_report  # noqa: E402
from benchmarks.timing import Latency, measure_latency, median_latency, time_once, timer_overhead_ns  # noqa: E402

VARIANTS: tuple[ct.HitPolicy, ...] = ("FIRST", "UNIQUE")
INPUT_SEED = 2024


@dataclass(frozen=True)
class Sizes:
    rules: int
    agreement: int
    latency_calls: int
    warmup: int
    batch_rows: int
    row_by_row_rows: int
    batch_check_rows: int
    sweep_rules: tuple[int, ...]
    sweep_calls: int
    sweep_agreement: int


FULL = Sizes(60, 10_000, 20_000, 2_000, 1_000_000, 100_000, 1_000, (60, 500, 3_000), 5_000, 1_000)
QUICK = Sizes(60, 2_000, 1_000, 200, 20_000, 5_000, 200, (60, 300), 500, 200)


def build_engines(table: ct.CreditTable) -> list[Engine]:
    """The hand-written loop first: it is the reference the others are checked against."""
    return [hand_written_engine(table), zen_engine(table), decisionary_engine(table)]


def latency_rounds(engines: Sequence[Engine], applicants: Sequence[dict[str, Any]], sizes: Sizes,
                   rounds: int) -> dict[str, list[Latency]]:
    """Each round times every engine in turn, so that a noisy moment hurts all of them alike."""
    native = {e.name: [e.prepare(a) for a in applicants] for e in engines}
    results: dict[str, list[Latency]] = {e.name: [] for e in engines}
    for _ in range(rounds):
        for engine in engines:
            results[engine.name].append(measure_latency(engine.call, native[engine.name], sizes.warmup))
    return results


def summarise(rounds: dict[str, list[Latency]]) -> dict[str, Any]:
    return {
        name: {**median_latency(rs).as_dict(), "rounds": [r.as_dict() for r in rs]}
        for name, rs in rounds.items()
    }


def ratios(latency: dict[str, Any]) -> dict[str, float]:
    """How Decisionary compares: latency ratios above 1 and throughput ratios below 1 mean slower."""
    dec, zen, hand = latency["Decisionary"], latency["zen-engine"], latency["hand-written loop"]
    return {
        "p50 Decisionary/zen": dec["p50_us"] / zen["p50_us"],
        "p99 Decisionary/zen": dec["p99_us"] / zen["p99_us"],
        "calls/CPU-s Decisionary/zen": dec["calls_per_cpu_s"] / zen["calls_per_cpu_s"],
        "calls/s Decisionary/zen": dec["calls_per_s"] / zen["calls_per_s"],
        "p50 Decisionary/hand-written": dec["p50_us"] / hand["p50_us"],
        "calls/CPU-s Decisionary/hand-written": dec["calls_per_cpu_s"] / hand["calls_per_cpu_s"],
    }


def run_batch(table: ct.CreditTable, engines: Sequence[Engine], sizes: Sizes, rounds: int) -> dict[str, Any]:
    by_name = {e.name: e for e in engines}
    model = by_name["Decisionary"].handle
    frame = ct.applicants_frame(sizes.batch_rows, INPUT_SEED + 1)
    rows = records(frame.head(sizes.row_by_row_rows))
    scale = sizes.batch_rows / sizes.row_by_row_rows
    wall: dict[str, list[float]] = {"batch": [], "numpy": [], "zen": [], "hand": [], "rows": []}
    cpu: dict[str, list[float]] = {key: [] for key in wall}
    native = {name: [by_name[name].prepare(r) for r in rows] for name in by_name}
    batch_out = None
    numpy_out: tuple[np.ndarray, np.ndarray] | None = None
    for _ in range(rounds):
        seconds, cpu_s, batch_out = time_once(lambda: model.evaluate_batch(frame))
        wall["batch"].append(seconds)
        cpu["batch"].append(cpu_s)
        seconds, cpu_s, numpy_out = time_once(lambda: ct.numpy_first_hit(table, frame))
        wall["numpy"].append(seconds)
        cpu["numpy"].append(cpu_s)
        for key, name in (("zen", "zen-engine"), ("hand", "hand-written loop"), ("rows", "Decisionary")):
            seconds, cpu_s, _ = time_once(partial(row_by_row, by_name[name].call, native[name]))
            wall[key].append(seconds * scale)
            cpu[key].append(cpu_s * scale)
    assert batch_out is not None and numpy_out is not None
    verified = verify_batch(table, by_name["Decisionary"], frame, batch_out, numpy_out, sizes.batch_check_rows)
    n = sizes.batch_rows

    def entry(key: str, method: str, note: str) -> dict[str, Any]:
        seconds, cpu_s = statistics.median(wall[key]), statistics.median(cpu[key])
        return {"method": method, "seconds": seconds, "rows_per_s": n / seconds, "cpu_seconds": cpu_s,
                "rows_per_cpu_s": n / max(cpu_s, 1e-9), "note": note, "rounds_s": wall[key],
                "rounds_cpu_s": cpu[key]}

    extrapolated = f"row by row on {sizes.row_by_row_rows:,} rows, extrapolated to {n:,}"
    return {
        "rows": n,
        "verified": verified,
        "methods": [
            entry("batch", "Decisionary evaluate_batch", "measured"),
            entry("numpy", "hand-written numpy masks", "measured"),
            entry("zen", "zen-engine evaluate", extrapolated),
            entry("rows", "Decisionary evaluate", extrapolated),
            entry("hand", "hand-written loop", extrapolated),
        ],
    }


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as plain Python dicts (int, float, str), as a caller evaluating one by one has them."""
    columns = [frame[name].tolist() for name in frame.columns]
    return [dict(zip(frame.columns, row, strict=True)) for row in zip(*columns, strict=True)]


def row_by_row(call: Callable[[Any], Any], inputs: Sequence[Any]) -> list[Any]:
    return [call(x) for x in inputs]


def verify_batch(table: ct.CreditTable, decisionary: Engine, frame: pd.DataFrame, batch_out: Any,
                 numpy_out: tuple[np.ndarray, np.ndarray], sample: int) -> dict[str, int]:
    """Batch results must equal row-by-row `evaluate` on a sample and numpy masks on every row."""
    decisions, rates = batch_outcomes(batch_out, len(frame))
    expected_decisions = ct.decision_labels(numpy_out[0])
    wrong = [i for i, (a, b) in enumerate(zip(decisions, expected_decisions, strict=True)) if a != b]
    if wrong:
        i = wrong[0]
        raise DisagreementError(f"{table.name}: evaluate_batch row {i} gave {decisions[i]!r}, numpy masks "
                                f"{expected_decisions[i]!r} ({len(wrong)} rows differ)")
    if not np.allclose(rates, numpy_out[1], rtol=1e-12, atol=1e-12, equal_nan=True):
        i = int(np.flatnonzero(~np.isclose(rates, numpy_out[1], rtol=1e-12, atol=1e-12, equal_nan=True))[0])
        raise DisagreementError(f"{table.name}: evaluate_batch row {i} rate {rates[i]} != {numpy_out[1][i]}")
    picks = np.random.default_rng(INPUT_SEED).choice(len(frame), size=min(sample, len(frame)), replace=False)
    sampled = frame.iloc[np.sort(picks)]
    for i, row in zip(sampled.index.tolist(), records(sampled), strict=True):
        one = decisionary.evaluate(row)
        rate = np.nan if one.rate is None else one.rate
        if one.decision != decisions[i] or not np.isclose(rate, rates[i], equal_nan=True):
            raise DisagreementError(f"{table.name}: evaluate_batch row {i} gave {decisions[i]!r}/{rates[i]}, "
                                    f"evaluate gave {one.decision!r}/{one.rate}")
    return {"all_rows_vs_numpy": len(frame), "sample_vs_evaluate": len(sampled)}


def run_sweep(sizes: Sizes, rounds: int) -> list[dict[str, Any]]:
    """Cost per call as the FIRST table grows: rules are finer, so hits land ever deeper."""
    out = []
    applicants = ct.applicants(sizes.sweep_calls, INPUT_SEED + 2)
    for n_rules in sizes.sweep_rules:
        table = ct.generate("FIRST", n_rules)
        engines = build_engines(table)
        check_agreement(engines, ct.applicants(sizes.sweep_agreement, INPUT_SEED + 3), table.name)
        latency = summarise(latency_rounds(engines, applicants, sizes, rounds))
        out.append({
            "table": ct.describe(table, applicants),
            "load_s": {e.name: e.load_s for e in engines},
            "latency": latency,
        })
    return out


def run_zen_paths(table: ct.CreditTable, sizes: Sizes, rounds: int) -> dict[str, Any]:
    contexts = [ct.zen_context(a) for a in ct.applicants(sizes.sweep_calls, INPUT_SEED + 4)]
    paths = zen_api_paths(table)
    measured = {name: [measure_latency(call, contexts, sizes.warmup // 4) for _ in range(rounds)]
                for name, call in paths.items()}
    return summarise(measured)


def environment(quick: bool, rounds: int) -> dict[str, Any]:
    def version(dist: str) -> str | None:
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            return None

    return {
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "quick": quick,
        "rounds": rounds,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "zen-engine": version("zen-engine"),
        "numpy": version("numpy"),
        "pandas": version("pandas"),
        "decisionary": version("decisionary"),
        "timer_overhead_ns": timer_overhead_ns(),
    }


def run(sizes: Sizes, rounds: int, *, quick: bool = False) -> dict[str, Any]:
    """Every section, in one process; raises `DisagreementError` if the engines ever differ."""
    results: dict[str, Any] = {"environment": environment(quick, rounds), "variants": {}}
    for variant in VARIANTS:
        table = ct.generate(variant, sizes.rules)
        engines = build_engines(table)
        applicants = ct.applicants(sizes.agreement, INPUT_SEED)
        checked = check_agreement(engines, applicants, table.name)
        print(f"{table.name}: {len(engines)} engines agree on {checked:,} applicants", file=sys.stderr)
        timed = ct.applicants(sizes.latency_calls, INPUT_SEED + 5)
        latency = summarise(latency_rounds(engines, timed, sizes, rounds))
        results["variants"][variant] = {
            "table": ct.describe(table, applicants),
            "agreement_checked": checked,
            "load_s": {e.name: e.load_s for e in engines},
            "latency": latency,
            "ratios": ratios(latency),
            "batch": run_batch(table, engines, sizes, rounds),
        }
        print(f"{table.name}: timed", file=sys.stderr)
    results["sweep"] = run_sweep(sizes, rounds)
    print("table-size sweep: timed", file=sys.stderr)
    results["zen_paths"] = run_zen_paths(ct.generate("FIRST", sizes.rules), sizes, rounds)
    return results


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, one round: a smoke test")
    parser.add_argument("--rounds", type=int, help="rounds of every timed section (default 3, quick 1)")
    parser.add_argument("--out", type=Path, help="JSON results file (default benchmarks/results/...)")
    args = parser.parse_args(argv)
    sizes = QUICK if args.quick else FULL
    rounds = args.rounds or (1 if args.quick else 3)
    try:
        results = run(sizes, rounds, quick=args.quick)
    except DisagreementError as err:
        print(f"ABORTED: the engines disagree, so timings would compare different work.\n{err}", file=sys.stderr)
        return 1
    print(markdown_report(results))
    out = args.out or ROOT / "benchmarks" / "results" / (
        f"bench-{dt.datetime.now().strftime('%Y%m%d-%H%M%S')}{'-quick' if args.quick else ''}.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    print(f"\nresults written to {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
