"""Table verification speed: a 500-rule decision table with 6 inputs, verified whole.

    .venv/bin/python benchmarks/bench_verify.py                 # 500 rules, 3 rounds
    .venv/bin/python benchmarks/bench_verify.py --rules 1000 --rounds 5

Two tables are generated from one seed. UNIQUE: the input space (four numbers, two texts with
allowed values) cut into 500 boxes by recursive splits at random points, so the rules cover it
exactly: no overlap and no gap in real values, which is the verifier's hardest case (every
region must be shown covered). FIRST: the same boxes, a fifth of them widened (overlaps,
rules that never fire) and a tenth dropped (gaps), then a catch-all. Each is loaded once, then
`decisions.verify(model)` is timed; the median is printed with the findings counted by kind.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import decisions  # noqa: E402

NUMBERS = {"Age": (18, 100), "Income": (0, 20000), "Credit Score": (300, 850), "Debt Ratio": (0, 2)}
TEXTS = {"Employment": ["Employed", "Self-employed", "Unemployed", "Retired"],
         "Region": ["North", "South", "East", "West", "Abroad"]}
OUTCOMES = ["Approve", "Refer", "Decline"]


@dataclass
class Box:
    numbers: dict[str, tuple[float, float]]  # [low, high)
    texts: dict[str, list[str]]


def partition(n: int, rng: random.Random) -> list[Box]:
    boxes = [Box(dict(NUMBERS), {k: list(v) for k, v in TEXTS.items()})]
    while len(boxes) < n:
        box = boxes.pop(rng.randrange(len(boxes)))
        name = rng.choice([*NUMBERS, *TEXTS])
        if name in NUMBERS:
            low, high = box.numbers[name]
            cut = round(rng.uniform(low + (high - low) * 0.2, high - (high - low) * 0.2), 2)
            if not low < cut < high:
                boxes.append(box)
                continue
            halves = [(low, cut), (cut, high)]
            boxes += [Box({**box.numbers, name: half}, box.texts) for half in halves]
        else:
            values = box.texts[name]
            if len(values) < 2:
                boxes.append(box)
                continue
            k = rng.randrange(1, len(values))
            boxes += [Box(box.numbers, {**box.texts, name: part}) for part in (values[:k], values[k:])]
    return boxes


def cells(box: Box) -> list[str]:
    out = []
    for name, (low, high) in box.numbers.items():
        whole = NUMBERS[name]
        if (low, high) == whole:
            out.append("-")
        elif low == whole[0]:
            out.append(f"< {high:g}")
        elif high == whole[1]:
            out.append(f">= {low:g}")
        else:
            out.append(f"[{low:g}..{high:g})")
    for name, values in box.texts.items():
        out.append("-" if len(values) == len(TEXTS[name]) else ", ".join(json.dumps(v) for v in values))
    return out


def model_yaml(hit_policy: str, rules: list[list[str]]) -> str:
    inputs = "\n".join(f"  {name}: number" for name in NUMBERS) + "\n" + "\n".join(
        f"  {name}: string" for name in TEXTS)
    columns = [f"        - {{expression: {name}, type: number}}" for name in NUMBERS] + [
        f"        - {{expression: {name}, type: string, values: {json.dumps(', '.join(json.dumps(v) for v in vs))}}}"
        for name, vs in TEXTS.items()]
    rows = "\n".join("        - [" + ", ".join(json.dumps(c) for c in rule) + "]" for rule in rules)
    return f"""\
model: verify-bench
namespace: https://decisionary.dev/benchmarks/verify
inputs:
{inputs}
decisions:
  Decision:
    requires: [{", ".join([*NUMBERS, *TEXTS])}]
    table:
      hit policy: {hit_policy}
      inputs:
{chr(10).join(columns)}
      outputs:
        - {{name: Decision, type: string}}
      rules:
{rows}
"""


def tables(n: int, seed: int) -> dict[str, str]:
    rng = random.Random(seed)
    boxes = partition(n, rng)
    unique = [[*cells(b), json.dumps(rng.choice(OUTCOMES))] for b in boxes]
    first = []
    for box in boxes:
        if rng.random() < 0.1:
            continue  # a gap
        if rng.random() < 0.2:  # widened: overlaps its neighbours
            name = rng.choice(list(NUMBERS))
            low, high = box.numbers[name]
            box = Box({**box.numbers, name: (NUMBERS[name][0], high)}, box.texts)
        first.append([*cells(box), json.dumps(rng.choice(OUTCOMES))])
    first = first[: n - 1] + [["-"] * (len(NUMBERS) + len(TEXTS)) + ['"Refer"']]
    return {"UNIQUE": model_yaml("UNIQUE", unique), "FIRST": model_yaml("FIRST", first)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rules", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()
    print(f"# Table verification: {args.rules} rules, 6 inputs\n")
    print(f"Machine: {platform.platform()}, Python {platform.python_version()}, {os.cpu_count()} CPUs. "
          f"Median of {args.rounds} runs.\n")
    print("| table | rules | median (s) | runs (s) | findings |")
    print("|---|---:|---:|---|---|")
    for policy, text in tables(args.rules, args.seed).items():
        model = decisions.load(text)
        times = []
        for _ in range(args.rounds):
            started = time.perf_counter()
            report = decisions.verify(model)
            times.append(time.perf_counter() - started)
        kinds = Counter(f"{f.kind} ({f.severity})" for f in report.findings)
        rules = len(model.rule_ids["Decision"])
        print(f"| {policy} | {rules} | {statistics.median(times):.2f} | {', '.join(f'{t:.2f}' for t in times)} | "
              f"{', '.join(f'{k}: {v}' for k, v in sorted(kinds.items())) or 'none'} |")


if __name__ == "__main__":
    main()
