"""Compile time of large decision tables: `decisions.load(text)` against the rule count.

    .venv/bin/python benchmarks/bench_compile.py [--sizes 60,5000,50000] [--rounds 5] [--formats dmn,yaml]

For FIRST and UNIQUE tables from `large_tables` (most rules bring endpoints and product
codes of their own), as DMN XML and as YAML, each size is loaded `--rounds` times (3 for
50,000 rules and more) in this process and the median is reported, with the ratio to the
previous size, of CPU times (steadier than the wall clock on a shared machine), scaled to one
per tenfold growth of the table: about 10 to 13 is n log n, 100 is quadratic. The peak of the
process's resident memory is printed at the end.
"""

from __future__ import annotations

import argparse
import gc
import math
import resource
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


def compile_seconds(text: str, rounds: int) -> list[tuple[float, float]]:
    """(wall, process CPU) seconds of each load: on a shared machine the wall clock also counts
    the waits for a core, which the CPU time does not."""
    times = []
    for _ in range(rounds):
        gc.collect()
        start, cpu = time.perf_counter(), time.process_time()
        decisions.load(text)
        times.append((time.perf_counter() - start, time.process_time() - cpu))
    return times


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="60,5000,50000", help="rule counts, comma-separated")
    parser.add_argument("--rounds", type=int, default=5, help="loads per size (3 from 50,000 rules)")
    parser.add_argument("--formats", default="dmn,yaml", help="dmn, yaml or both, comma-separated")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    formats = args.formats.split(",")
    texts = {"dmn": lt.dmn_text, "yaml": lt.yaml_text}
    decisions.load(lt.dmn_text("FIRST", 60))  # warm up: the FEEL grammar loads on first use
    medians: dict[tuple[str, str, int], tuple[float, float]] = {}
    for fmt in formats:
        for variant in VARIANTS:
            for n in sizes:
                text = texts[fmt](variant, n)
                rounds = min(args.rounds, 3) if n >= 50_000 else args.rounds
                times = compile_seconds(text, rounds)
                medians[fmt, variant, n] = (statistics.median(w for w, _ in times),
                                            statistics.median(c for _, c in times))
                print(f"{fmt} {variant} {n}: " + ", ".join(f"{w:.3f}/{c:.3f}" for w, c in times)
                      + " s (wall/CPU)", file=sys.stderr)
    print("| input | table | rules | load + compile s (median) | CPU s (median) | CPU ratio per 10x rules |")
    print("|---|---|---|---|---|---|")
    for fmt in formats:
        for variant in VARIANTS:
            previous: tuple[int, float] | None = None
            for n in sizes:
                t, cpu = medians[fmt, variant, n]
                ratio = "" if previous is None else \
                    f"{(cpu / previous[1]) ** (1 / math.log10(n / previous[0])):.1f}"
                print(f"| {fmt.upper() if fmt == 'dmn' else 'YAML'} | {variant} | {n:,} | {t:.3f} | {cpu:.3f} | {ratio} |")
                previous = (n, cpu)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    print(f"\npeak resident memory of the run: {peak / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
