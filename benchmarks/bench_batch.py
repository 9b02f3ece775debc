"""`Model.evaluate_batch` against a careful hand-written numpy baseline, one per hit policy.

    .venv/bin/python benchmarks/bench_batch.py [--rows N] [--rounds N] [--variants "FIRST,COLLECT SUM"] [--out FILE]

For each variant of the 60-rule credit table (benchmarks/credit_table.py, `VARIANTS`), in one
process: the DMN rendering is loaded once, 1,000,000 applicants are drawn, then each round times
the baseline (benchmarks/careful_numpy.py, encoding included) and `evaluate_batch` on the same
frame, alternating which goes first. Before any timing both run once and their results are
compared row by row: decisions, rates (Decimal against float), lists, and that exactly the rows
the baseline finds unmatched or in violation carry that problem. Any difference aborts the run.
Figures are medians over the rounds; the ratio is evaluate_batch ÷ baseline.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import sys
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: make the repository importable
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

import decisions  # noqa: E402
from benchmarks import credit_table as ct  # noqa: E402
from benchmarks.careful_numpy import Answer, baseline  # noqa: E402
from benchmarks.engines import DECISION, DisagreementError  # noqa: E402
from benchmarks.timing import time_once  # noqa: E402

INPUT_SEED = 2026


def _differs(label: str, row: int, what: str, got: Any, expected: Any) -> DisagreementError:
    return DisagreementError(f"{label}: row {row}: evaluate_batch {what} {got!r}, baseline {expected!r}")


def _same_number(got: Any, expected: float) -> bool:
    if got is None:
        return bool(np.isnan(expected))
    return type(got) is Decimal and not np.isnan(expected) and float(got) == expected


def check(table: ct.CreditTable, batch: pd.DataFrame, answer: Answer) -> int:
    """Raise `DisagreementError` at the first row where `batch` and the baseline differ; return
    the number of rows compared."""
    label = table.label
    n = len(answer.no_match)
    if len(batch) != n:
        raise DisagreementError(f"{label}: evaluate_batch gave {len(batch)} rows for {n}")
    if answer.value is not None:  # an aggregation: one column, the decision's
        values = batch[DECISION].tolist()
        expected = answer.value.tolist()
        for i in range(n):
            if not _same_number(values[i], float(expected[i])):
                raise _differs(label, i, "value", values[i], expected[i])
    else:
        decisions_ = batch[f"{DECISION}.Decision"].tolist()
        rates = batch[f"{DECISION}.Rate"].tolist()
        if answer.decisions is not None and answer.rates is not None:
            for i in range(n):
                if decisions_[i] != answer.decisions[i]:
                    raise _differs(label, i, "decisions", decisions_[i], answer.decisions[i])
                expected = answer.rates[i]
                if expected is None:
                    if rates[i] is not None:
                        raise _differs(label, i, "rates", rates[i], expected)
                elif type(rates[i]) is not list or len(rates[i]) != len(expected) or not all(
                        _same_number(g, e) for g, e in zip(rates[i], expected, strict=True)):
                    raise _differs(label, i, "rates", rates[i], expected)
        else:
            assert answer.decision is not None and answer.rate is not None
            labels = [ct.DECISIONS[c] if c >= 0 else None for c in answer.decision.tolist()]
            expected_rates = answer.rate.tolist()
            for i in range(n):
                if decisions_[i] != labels[i]:
                    raise _differs(label, i, "decision", decisions_[i], labels[i])
                if not _same_number(rates[i], expected_rates[i]):
                    raise _differs(label, i, "rate", rates[i], expected_rates[i])
    # Problems: no-rule-matched exactly where nothing matched (COUNT's 0 is an answer, not a
    # gap), hit-policy exactly where the baseline finds a violation, nothing elsewhere.
    reports_no_match = table.aggregation != "COUNT"
    violation = answer.violation if answer.violation is not None else np.zeros(n, dtype=bool)
    no_match, broken = answer.no_match.tolist(), violation.tolist()
    for i, found in enumerate(batch["problems"].tolist()):
        codes = sorted(p.code for p in found) if found else []
        expected_codes = sorted((["no-rule-matched"] if no_match[i] and reports_no_match else [])
                                + (["hit-policy"] if broken[i] else []))
        if codes != expected_codes:
            raise _differs(label, i, "problems", codes, expected_codes)
    return n


def run_variant(label: str, rows: int, rounds: int) -> dict[str, Any]:
    table = ct.variant(label)
    model = decisions.load(ct.to_dmn(table))
    frame = ct.applicants_frame(rows, INPUT_SEED)
    checked = check(table, model.evaluate_batch(frame), baseline(table, frame))
    wall: dict[str, list[float]] = {"baseline": [], "batch": []}
    cpu: dict[str, list[float]] = {"baseline": [], "batch": []}
    for k in range(rounds):
        order = ("baseline", "batch") if k % 2 == 0 else ("batch", "baseline")
        for which in order:
            if which == "baseline":
                seconds, cpu_s, _ = time_once(lambda: baseline(table, frame))
            else:
                seconds, cpu_s, _ = time_once(lambda: model.evaluate_batch(frame))
            wall[which].append(seconds)
            cpu[which].append(cpu_s)
    base, batch = statistics.median(wall["baseline"]), statistics.median(wall["batch"])
    paired = [b / a for a, b in zip(wall["baseline"], wall["batch"], strict=True)]
    return {
        "variant": label,
        "rules": len(table.rules),
        "rows": rows,
        "rows_checked": checked,
        "baseline_s": base,
        "batch_s": batch,
        "ratio": batch / base,
        "ratio_paired_median": statistics.median(paired),
        "baseline_cpu_s": statistics.median(cpu["baseline"]),
        "batch_cpu_s": statistics.median(cpu["batch"]),
        "rounds_baseline_s": wall["baseline"],
        "rounds_batch_s": wall["batch"],
    }


def markdown(results: Sequence[dict[str, Any]], rounds: int) -> str:
    lines = [
        "| hit policy | baseline s | evaluate_batch s | ratio | paired ratio | rounds (baseline / batch, s) |",
        "|---|---|---|---|---|---|",
    ]
    for r in results:
        spread = " ".join(f"{a:.3f}/{b:.3f}" for a, b in zip(r["rounds_baseline_s"], r["rounds_batch_s"],
                                                                strict=True))
        lines.append(f"| {r['variant']} | {r['baseline_s']:.3f} | {r['batch_s']:.3f} | {r['ratio']:.2f}× | "
                     f"{r['ratio_paired_median']:.2f}× | {spread} |")
    lines.append(f"\nmedians of {rounds} rounds; ratio = evaluate_batch ÷ baseline (of the medians; "
                 "paired: the median of each round's ratio)")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--variants", help="comma-separated, from: " + ", ".join(ct.VARIANTS))
    parser.add_argument("--out", type=Path, help="JSON results file (default benchmarks/results/...)")
    args = parser.parse_args(argv)
    labels = [v.strip() for v in args.variants.split(",")] if args.variants else list(ct.VARIANTS)
    results = []
    try:
        for label in labels:
            results.append(run_variant(label, args.rows, args.rounds))
            r = results[-1]
            print(f"{label}: baseline {r['baseline_s']:.3f} s, evaluate_batch {r['batch_s']:.3f} s, "
                  f"{r['ratio']:.2f}×", file=sys.stderr)
    except DisagreementError as err:
        print(f"ABORTED: evaluate_batch and the baseline disagree, so timings would compare different "
              f"work.\n{err}", file=sys.stderr)
        return 1
    print(markdown(results, args.rounds))
    out = args.out or ROOT / "benchmarks" / "results" / f"batch-{dt.datetime.now().strftime('%Y%m%d-%H%M%S')}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                               "rounds": args.rounds, "results": results}, indent=2))
    print(f"\nresults written to {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
