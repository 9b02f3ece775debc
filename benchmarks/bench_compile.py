"""Compile time of large decision tables: `decisions.load(dmn_text)` against the rule count.

    .venv/bin/python benchmarks/bench_compile.py [--sizes 60,5000,50000] [--rounds 5]

For FIRST and UNIQUE tables from `large_tables` (most rules bring endpoints and product
codes of their own), each size is loaded `--rounds` times (3 for 50,000 rules and more) in
this process and the median is reported, with the ratio to the previous size scaled to one
per tenfold growth of the table: about 10 to 13 is n log n, 100 is quadratic.
"""

from __future__ import annotations

import argparse
import gc
import math
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: make the repository importable
    sys.path.insert(0, str(ROOT))

import decisions  # noqa: E402
from benchmarks import large_tables as lt  # noqa: E402

VARIANTS: tuple[lt.HitPolicy, ...] = ("FIRST", "UNIQUE")


def compile_seconds(text: str, rounds: int) -> list[float]:
    times = []
    for _ in range(rounds):
        gc.collect()
        start = time.perf_counter()
        decisions.load(text)
        times.append(time.perf_counter() - start)
    return times


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="60,5000,50000", help="rule counts, comma-separated")
    parser.add_argument("--rounds", type=int, default=5, help="loads per size (3 from 50,000 rules)")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    decisions.load(lt.dmn_text("FIRST", 60))  # warm up: the FEEL grammar loads on first use
    medians: dict[tuple[str, int], float] = {}
    for variant in VARIANTS:
        for n in sizes:
            text = lt.dmn_text(variant, n)
            rounds = min(args.rounds, 3) if n >= 50_000 else args.rounds
            times = compile_seconds(text, rounds)
            medians[variant, n] = statistics.median(times)
            print(f"{variant} {n}: " + ", ".join(f"{t:.3f}" for t in times) + " s", file=sys.stderr)
    print("| table | rules | compile s (median) | ratio per 10x rules |")
    print("|---|---|---|---|")
    for variant in VARIANTS:
        previous: tuple[int, float] | None = None
        for n in sizes:
            t = medians[variant, n]
            ratio = "" if previous is None else \
                f"{(t / previous[1]) ** (1 / math.log10(n / previous[0])):.1f}"
            print(f"| {variant} | {n:,} | {t:.3f} | {ratio} |")
            previous = (n, t)


if __name__ == "__main__":
    main()
