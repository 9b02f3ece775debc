"""Replay of a candidate version over logged decisions: pandas in memory, and Dask with local workers.

    .venv/bin/python benchmarks/bench_replay.py [--rows 1000000] [--rounds 3] [--workers 2]

1,000,000 loan applications are drawn with numpy (seeded) and decided by the published
loan-approval example (examples/loan-approval.yaml) with `evaluate_batch`, as the decision log
would hold them, with a `defaulted` label on two thirds of them. The challenger
(examples/challengers/loan-approval.yaml) is then replayed on them:
- pandas: `audit.replay.replay` on the frame in memory;
- Dask: `audit.replay.replay_dask` on the same rows written as 8 Parquet files, on a local
  cluster of `--workers` worker processes (one thread each), started before the clock.
Both summaries must be identical (the run fails otherwise). Medians of the rounds are printed.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import decisions  # noqa: E402
from audit.replay import replay, replay_dask  # noqa: E402

EXAMPLES = ROOT / "examples"


def applications(n: int, seed: int = 11) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "Applicant Age": np.clip(np.round(rng.normal(41, 13, n)), 16, 85).astype(int),
        "Monthly Income": (np.round(np.exp(rng.normal(np.log(4200), 0.45, n)) / 50) * 50).astype(int),
        "Monthly Debt": rng.integers(0, 3000, n),
        "Credit Score": np.clip(np.round(rng.normal(695, 65, n)), 350, 850).astype(int),
        "Employment Status": rng.choice(["Employed", "Self-employed", "Unemployed", "Retired"], n,
                                        p=[0.7, 0.15, 0.07, 0.08]),
        "Requested Amount": (np.round(np.exp(rng.normal(np.log(16000), 0.6, n)) / 500) * 500).astype(int),
    })


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    from distributed import Client, LocalCluster

    champion = decisions.load((EXAMPLES / "loan-approval.yaml").read_text())
    text = (EXAMPLES / "challengers" / "loan-approval.yaml").read_text()
    candidate = decisions.load(text)
    started = time.perf_counter()
    frame = applications(args.rows)
    decided = champion.evaluate_batch(frame, decisions=["Decision"])
    frame["decided.Decision"] = decided["Decision"].map(str)
    frame["label.defaulted"] = np.where(np.arange(args.rows) % 3 == 0, None,
                                        np.arange(args.rows) % 17 == 0).astype(object)
    print(f"{args.rows:,} logged decisions made in {time.perf_counter() - started:.1f} s", file=sys.stderr)

    pandas_s: list[float] = []
    dask_s: list[float] = []
    with tempfile.TemporaryDirectory(prefix="decisionary-replay-") as folder:
        step = -(-args.rows // 8)
        for part, start in enumerate(range(0, args.rows, step)):
            frame.iloc[start:start + step].to_parquet(Path(folder) / f"part-{part}.parquet", index=False)
        cluster = LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True,  # type: ignore[no-untyped-call]
                               dashboard_address=":0")
        try:
            address = cluster.scheduler_address
            with Client(cluster):  # type: ignore[no-untyped-call]
                for round_number in range(1, args.rounds + 1):
                    t = time.perf_counter()
                    in_memory = replay(candidate, frame, bad_label="defaulted").to_dict()
                    pandas_s.append(time.perf_counter() - t)
                    t = time.perf_counter()
                    distributed = replay_dask(text, folder + "/", bad_label="defaulted", scheduler=address).to_dict()
                    dask_s.append(time.perf_counter() - t)
                    if distributed != in_memory:
                        print("FAILED: the Dask summary differs from the pandas one", file=sys.stderr)
                        return 1
                    changed = in_memory["decisions"]["Decision"]["changed"]
                    print(f"round {round_number}: pandas {pandas_s[-1]:.2f} s, Dask {dask_s[-1]:.2f} s; "
                          f"{changed:,} decisions change", file=sys.stderr)
        finally:
            cluster.close()
    print(f"| rows | pandas (median of {args.rounds}) | Dask, {args.workers} local workers | identical |")
    print("|---|---|---|---|")
    print(f"| {args.rows:,} | {statistics.median(pandas_s):.2f} s | {statistics.median(dask_s):.2f} s | yes |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
