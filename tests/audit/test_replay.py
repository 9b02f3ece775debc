"""Replay on pandas and on Dask (two local worker processes) give the same summary."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

import decisions
from audit.replay import replay, replay_dask

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _frame(n: int) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    champion = decisions.load((EXAMPLES / "loan-approval.yaml").read_text())
    inputs = pd.DataFrame({
        "Applicant Age": rng.integers(16, 80, n), "Monthly Income": rng.integers(500, 12000, n),
        "Monthly Debt": rng.integers(0, 4000, n), "Credit Score": rng.integers(400, 850, n),
        "Employment Status": rng.choice(["Employed", "Self-employed", "Unemployed", "Retired"], n),
        "Requested Amount": rng.integers(1000, 90000, n)})
    decided = champion.evaluate_batch(inputs)
    frame = inputs.copy()
    frame["decided.Decision"] = decided["Decision"].map(str)
    frame["decided.Credit Limit"] = decided["Credit Limit"]
    frame["label.defaulted"] = [None if i % 3 == 0 else bool(i % 7 == 0) for i in range(n)]
    return frame


def test_pandas_and_dask_replays_are_identical(tmp_path: Path) -> None:
    frame = _frame(6000)
    text = (EXAMPLES / "challengers" / "loan-approval.yaml").read_text()
    in_memory = replay(decisions.load(text), frame, bad_label="defaulted").to_dict()
    decision = in_memory["decisions"]["Decision"]
    assert 0 < decision["changed"] < 6000
    # the examples are the smallest row numbers of each swap
    swap = decision["swaps"][0]
    assert swap["examples"] == sorted(swap["examples"]) and len(swap["examples"]) == min(5, swap["count"])
    for part, start in enumerate(range(0, 6000, 1500)):
        frame.iloc[start:start + 1500].to_parquet(tmp_path / f"part-{part}.parquet", index=False)
    distributed = replay_dask(text, str(tmp_path) + "/", bad_label="defaulted").to_dict()
    assert distributed == in_memory


def test_an_unchanged_candidate_changes_nothing() -> None:
    frame = _frame(500)
    same = replay(decisions.load((EXAMPLES / "loan-approval.yaml").read_text()), frame).to_dict()
    assert same["decisions"]["Decision"]["changed"] == 0 and same["decisions"]["Decision"]["swaps"] == []


def test_the_replay_command_on_the_log(tmp_path: Path) -> None:
    import json
    import os
    import subprocess
    import sys
    from datetime import UTC, datetime

    import sqlalchemy as sa

    from audit.synthetic import demo_database
    from registry import make_engine

    url = demo_database(tmp_path / "demo.db", days=120, per_day=15, end=datetime(2026, 6, 1, tzinfo=UTC))
    root = Path(__file__).resolve().parents[2]

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "api.cli", "replay", "loan-approval", *args,
                               "--database-url", url], cwd=root, capture_output=True, text=True, timeout=120,
                              env=dict(os.environ), check=False)

    shown = cli("2", "--from", "2026-01-01")
    assert shown.returncode == 0, shown.stderr
    assert "Decision:" in shown.stdout and "Refer -> Approve" in shown.stdout, shown.stdout
    attached = cli("2", "--attach", "--json")
    summary = json.loads(attached.stdout)
    assert summary["decisions"]["Decision"]["changed"] > 0
    engine = make_engine(url)
    with engine.connect() as connection:
        assert connection.execute(sa.text("SELECT candidate_version FROM replays")).scalars().all() == [2]
    engine.dispose()
    missing = cli("9")
    assert missing.returncode != 0 and "9" in missing.stdout + missing.stderr
