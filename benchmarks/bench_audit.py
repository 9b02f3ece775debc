"""Audit analytics benchmark: metrics, performance and drift over 1,000,000 logged decisions.

    .venv/bin/python benchmarks/bench_audit.py              # 1,000,000 decisions, SQLite and PostgreSQL
    .venv/bin/python benchmarks/bench_audit.py --quick      # 50,000 decisions: a smoke test
    .venv/bin/python benchmarks/bench_audit.py --records 200000 --backends sqlite

The history is a loan-approval log of 180 days shaped like the real model's (examples/loan-
approval.yaml): six inputs, five decisions (one with two outputs, two numeric), the rules that
fired with their stable ids (missing on the oldest tenth of the records, as on records written
before rule ids existed), a challenger version taking a fifth of the traffic for the last 60
days (arm names), shadow records of a third version for the last 30 days, one workflow run per
decision (a few dead, the last day's partly waiting), an underwriting review for each Refer
(some overridden), and outcomes 90 days after each booked loan (2% of them restated later).
It is generated with numpy (vectorised rules, not the engine: the engine's speed is measured
elsewhere) and bulk-loaded: sqlite3 executemany into a migrated SQLite file, COPY into a
migrated database on a throwaway PostgreSQL server (tests/pg.py, fsync off), which is then
VACUUM ANALYZEd as autovacuum would after a bulk load. SQLite gets no ANALYZE: the service
never runs it.

Each function is timed 3 times on the whole 180 days (drift: the last 30 days against the 30
before) after one warm-up call, and the median is printed, with the machine it ran on. The
warm-up call is made after the model's kept days (audit.rollups) are dropped, and its time is
printed too: the first report over a history scans every day and keeps the days that are over;
the calls after it scan only what is not kept. Drift keeps nothing.
"""

from __future__ import annotations

import argparse
import os
import platform
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
from sqlalchemy.engine import Engine

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.append(str(ROOT / "tests"))  # after the project: tests/audit must not shadow audit

from audit.drift import population_stability  # noqa: E402
from audit.metrics import compute_metrics  # noqa: E402
from audit.performance import compute_performance  # noqa: E402
from audit.report import report_from_database  # noqa: E402
from audit.rollups import forget  # noqa: E402
from registry import create_draft, make_engine, unit_of_work, upgrade  # noqa: E402

KEY = "loan-approval"
END = datetime(2026, 6, 30, tzinfo=UTC)
DAYS = 180
CROCKFORD = np.array(list("0123456789ABCDEFGHJKMNPQRSTVWXYZ"))
EMPLOYMENT = np.array(["Employed", "Self-employed", "Unemployed", "Retired"])
RISK_RULES = ["Very High", "Very High", "Very High", "High", "High", "High", "Medium", "Medium", "Low"]
RULE_IDS = {  # version -> decision -> ids in rule order, as model.rule_ids gives them
    version: {
        "Risk Category": [f"risk-{i}" for i in range(1, 10)],
        "Eligibility": [f"elig-{i}" for i in range(1, 6)],
        "Decision": [f"dec-{i}" for i in range(1, 8)],
        "Credit Limit": [f"limit-{i}" for i in range(1, 6)],
    } for version in (1, 2, 3)
}
REASONS = ["Applicant is under 18", "Monthly income below the 1,000 minimum", "Applicant is over 75",
           "Risk category is Very High", "Meets age, income and risk criteria"]

RECORD_COLUMNS = ("id", "model_key", "version", "content_hash", "alias", "inputs", "outputs", "fired", "problems",
                  "latency_us", "caller", "created_at", "fired_ids", "business_key", "arm", "shadow_of")
RUN_COLUMNS = ("id", "decision_id", "model_key", "version", "content_hash", "bindings_hash", "workflow", "origin",
               "state", "step_index", "attempt", "context", "created_at", "updated_at", "finished_at")
TASK_COLUMNS = ("id", "run_id", "step_index", "decision_id", "model_key", "version", "workflow", "queue", "inputs",
                "outputs", "fired", "state", "outcome", "override_outputs", "decided_by", "decided_at",
                "created_at")
OVERRIDE_COLUMNS = ("decision_id", "task_id", "by", "at", "reason", "original", "override")
OUTCOME_COLUMNS = ("id", "model_key", "decision_id", "business_key", "labels", "values", "known_at", "received_at",
                   "source", "content_hash")


@dataclass
class History:
    tables: dict[str, tuple[tuple[str, ...], list[tuple[Any, ...]]]]
    live: int
    shadows: int

    def __str__(self) -> str:
        sizes = ", ".join(f"{len(rows):,} {name}" for name, (_, rows) in self.tables.items())
        return f"{self.live:,} live decisions and {self.shadows:,} shadow records ({sizes})"


# --- generation ------------------------------------------------------------------------------------

def _ulids(rng: np.random.Generator, ms: np.ndarray) -> np.ndarray:
    """ULIDs (26 Crockford characters) for millisecond timestamps: 10 of time, 16 random."""
    ms = ms.astype(np.int64)
    time_digits = np.stack([(ms >> (5 * i)) & 31 for i in range(9, -1, -1)], axis=1)
    random_digits = rng.integers(0, 32, size=(len(ms), 16))
    chars = CROCKFORD[np.concatenate([time_digits, random_digits], axis=1)]
    return np.ascontiguousarray(chars).view("<U26").ravel()


def _times(ms: np.ndarray) -> list[str]:
    """Naive UTC text as SQLAlchemy stores a DateTime on SQLite (PostgreSQL reads it with a zone added)."""
    text = np.datetime_as_string(ms.astype("datetime64[ms]").astype("datetime64[us]"), unit="us")
    return [t.replace("T", " ") for t in text.tolist()]


def generate(n: int, seed: int = 11) -> History:
    rng = np.random.default_rng(seed)
    start_ms = int((END - timedelta(days=DAYS)).timestamp() * 1000)
    end_ms = int(END.timestamp() * 1000)
    ms = np.sort(rng.integers(start_ms, end_ms, n))
    day = (ms - start_ms) // 86_400_000

    age = np.clip(np.round(rng.normal(41, 13, n)), 16, 85).astype(int)
    income = (np.round(np.exp(rng.normal(np.log(4200), 0.45, n)) / 50) * 50).astype(int)
    debt = (np.round(income * rng.beta(2.0, 6.0, n) / 25) * 25).astype(int)
    score = rng.normal(695, 65, n) - np.where(day >= DAYS - 30, 45, 0)  # the last month drifts down
    score = np.clip(np.round(score), 350, 850).astype(int)
    employment = rng.choice(4, n, p=[0.70, 0.15, 0.07, 0.08])
    amount = np.clip(np.round(np.exp(rng.normal(np.log(16000), 0.6, n)) / 500) * 500, 1000, 150000).astype(int)
    dti = debt / np.maximum(income, 1)
    lti = amount / np.maximum(income, 1)
    unemployed = employment == 2

    risk_rule = np.select(
        [score < 580, dti > 0.5, (score >= 580) & (score < 670), (dti > 0.36) & (dti <= 0.5), unemployed,
         (score >= 670) & (score < 740), (dti > 0.2) & (dti <= 0.36)], [1, 2, 4, 5, 6, 7, 8], 9)
    risk = np.array(RISK_RULES)[risk_rule - 1]
    elig_rule = np.select([age < 18, income < 1000, age > 75, risk == "Very High"], [1, 2, 3, 4], 5)
    challenger = (day >= DAYS - 60) & (rng.random(n) < 0.2)
    version = np.where(challenger, 2, 1)
    low_limit = np.where(challenger, 8, 12)  # the challenger is stricter on low-risk amounts
    eligible = elig_rule == 5
    decision_rule = np.select(
        [~eligible, (risk == "Low") & (lti <= low_limit), (risk == "Medium") & (lti <= 6),
         np.isin(risk, ["Low", "Medium"]), (risk == "High") & (lti <= 3), risk == "High"], [1, 2, 3, 4, 5, 6], 7)
    decision = np.array(["Reject", "Approve", "Approve", "Refer", "Refer", "Reject", "Refer"])[decision_rule - 1]
    limit_rule = np.select([(decision == "Approve") & (risk == "Low"), (decision == "Approve") & (risk == "Medium"),
                            decision == "Approve", decision == "Refer"], [1, 2, 3, 4], 5)
    multiple = np.array([12, 6, 2, 3, 0])[limit_rule - 1]
    credit_limit = np.minimum(amount, income * multiple)

    ids = _ulids(rng, ms)
    created = _times(ms)
    arm = np.where(day >= DAYS - 60, np.where(challenger, "challenger", "champion"), None)
    old = np.arange(n) < n // 10  # written before stable rule ids were recorded
    records: list[tuple[Any, ...]] = []
    for i in range(n):
        inputs = (f'{{"Applicant Age": {age[i]}, "Monthly Income": {income[i]}, "Monthly Debt": {debt[i]}, '
                  f'"Credit Score": {score[i]}, "Employment Status": "{EMPLOYMENT[employment[i]]}", '
                  f'"Requested Amount": {amount[i]}}}')
        status = "Eligible" if elig_rule[i] == 5 else "Ineligible"
        outputs = (f'{{"Debt To Income": {float(dti[i])!r}, "Risk Category": "{risk[i]}", "Eligibility": '
                   f'{{"Status": "{status}", "Reason": "{REASONS[elig_rule[i] - 1]}"}}, "Decision": "{decision[i]}", '
                   f'"Credit Limit": {credit_limit[i]}}}')
        fired = (f'{{"Risk Category": [{risk_rule[i]}], "Eligibility": [{elig_rule[i]}], '
                 f'"Decision": [{decision_rule[i]}], "Credit Limit": [{limit_rule[i]}]}}')
        fired_ids = None if old[i] else (
            f'{{"Risk Category": ["risk-{risk_rule[i]}"], "Eligibility": ["elig-{elig_rule[i]}"], '
            f'"Decision": ["dec-{decision_rule[i]}"], "Credit Limit": ["limit-{limit_rule[i]}"]}}')
        records.append((ids[i], KEY, int(version[i]), "ab" * 32, "production", inputs, outputs, fired, "[]",
                        int(rng.integers(40, 400)), "bench", created[i], fired_ids, f"A{i:09d}", arm[i], None))

    shadow_index = np.flatnonzero((day >= DAYS - 30) & (rng.random(n) < 0.05))
    shadow_ids = _ulids(rng, ms[shadow_index] + 1)
    for j, i in enumerate(shadow_index):
        live = records[i]
        records.append((shadow_ids[j], KEY, 3, "cd" * 32, "production", live[5], live[6], live[7], "[]",
                        live[9], "bench", live[11], live[12], live[13], None, live[0]))

    workflow = np.array(["approved", "rejected", "referred"])[
        np.select([decision == "Approve", decision == "Reject"], [0, 1], 2)]
    latency_s = rng.lognormal(0.3, 0.6, n)
    referred = decision == "Refer"
    review_hours = rng.uniform(1, 40, n)
    latency_s = np.where(referred, latency_s + review_hours * 3600, latency_s)
    recent = day >= DAYS - 1
    state = np.where(rng.random(n) < 0.006, "dead", "done")
    state = np.where(recent & (rng.random(n) < 0.3), "waiting", state)
    run_ids = _ulids(rng, ms + 1)
    finished = _times(ms + np.round(latency_s * 1000).astype(np.int64))
    runs = [(run_ids[i], ids[i], KEY, int(version[i]), "ab" * 32, "0" * 64, str(workflow[i]), "decision",
             str(state[i]), 0, 1, "{}", created[i], finished[i] if state[i] != "waiting" else created[i],
             finished[i] if state[i] != "waiting" else None) for i in range(n)]

    answer = rng.choice(3, n, p=[0.55, 0.35, 0.10])
    override_to = np.where(rng.random(n) < 0.5, "Approve", "Reject")
    task_ids = _ulids(rng, ms + 2)
    decided_ms = ms + np.round(review_hours * 3_600_000).astype(np.int64)
    decided_at = _times(decided_ms)
    tasks, overrides = [], []
    booked = decision == "Approve"
    for i in np.flatnonzero(referred & (state != "waiting")):
        outcome = ("approve", "reject", "override")[answer[i]]
        override = f'{{"Decision": "{override_to[i]}"}}' if outcome == "override" else None
        tasks.append((task_ids[i], run_ids[i], 0, ids[i], KEY, int(version[i]), "referred", "underwriting", "{}",
                      "{}", "{}", "decided", outcome, override, "maria", decided_at[i], created[i]))
        if override is not None:
            overrides.append((ids[i], task_ids[i], "maria", decided_at[i], "reviewer's judgement",
                              '{"Decision": "Refer"}', override))
        booked[i] = outcome == "approve" or (outcome == "override" and override_to[i] == "Approve")

    known_ms = ms + 90 * 86_400_000
    z = -2.9 - 0.014 * (score - 690) + 3.2 * (dti - 0.25) + 0.12 * (lti - 4) + np.where(unemployed, 0.7, 0)
    defaulted = rng.random(n) < 1 / (1 + np.exp(-z))
    with_outcome = np.flatnonzero(booked & (known_ms <= end_ms))
    outcome_ids = _ulids(rng, known_ms[with_outcome])
    restated_ids = _ulids(rng, known_ms[with_outcome] + 86_400_000 * 30)
    known_text = _times(known_ms[with_outcome])
    restated_text = _times(known_ms[with_outcome] + 86_400_000 * 30)
    restate = rng.random(len(with_outcome)) < 0.02
    outcomes = []
    for j, i in enumerate(with_outcome):
        labels = f'{{"defaulted": {"true" if defaulted[i] else "false"}}}'
        values = f'{{"loss": {round(float(credit_limit[i]) * 0.5, 2) if defaulted[i] else 0}}}'
        outcomes.append((outcome_ids[j], KEY, ids[i], f"A{i:09d}", labels, values, known_text[j], known_text[j],
                         "bench", f"{i:064x}"))
        if restate[j]:
            labels = f'{{"defaulted": {"false" if defaulted[i] else "true"}}}'
            outcomes.append((restated_ids[j], KEY, ids[i], f"A{i:09d}", labels, values, restated_text[j],
                             restated_text[j], "bench", f"{i:063x}f"))
    return History({"decision_records": (RECORD_COLUMNS, records), "workflow_runs": (RUN_COLUMNS, runs),
                    "review_tasks": (TASK_COLUMNS, tasks), "decision_overrides": (OVERRIDE_COLUMNS, overrides),
                    "outcomes": (OUTCOME_COLUMNS, outcomes)}, n, len(shadow_index))


# --- loading ---------------------------------------------------------------------------------------

def load_sqlite(path: Path, history: History) -> str:
    url = f"sqlite:///{path}"
    upgrade(url)
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        connection.execute("PRAGMA synchronous=OFF")
        connection.execute("BEGIN")
        for table, (columns, rows) in history.tables.items():
            marks = ", ".join("?" for _ in columns)
            names = ", ".join(f'"{c}"' for c in columns)
            connection.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)  # noqa: S608
        connection.execute("COMMIT")
    finally:
        connection.close()
    return url


def load_postgres(server: Any, name: str, history: History) -> str:
    server.create_database(name)
    url = server.url(name)
    upgrade(url)
    with psycopg.connect(host="127.0.0.1", port=server.port, user="postgres", dbname=name) as connection:
        for table, (columns, rows) in history.tables.items():
            stamped = {i for i, c in enumerate(columns) if c in ("created_at", "updated_at", "finished_at", "at",
                                                                   "decided_at", "known_at", "received_at")}
            names = ", ".join(f'"{c}"' for c in columns)
            with connection.cursor() as cursor, cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row([f"{v}+00" if i in stamped and v is not None else v for i, v in enumerate(row)])
        connection.commit()
    with psycopg.connect(host="127.0.0.1", port=server.port, user="postgres", dbname=name,
                         autocommit=True) as connection:
        connection.execute("VACUUM ANALYZE")
    return url


# --- timing ----------------------------------------------------------------------------------------

def median_seconds(call: Callable[[], Any], rounds: int = 3, *, engine: Engine | None = None) \
        -> tuple[float, list[float], float]:
    """(median, rounds, first): `first` is the untimed-so-far warm-up call, made after every kept
    day of the model was dropped (audit.rollups.forget): what a first report over a history costs,
    with the database's page cache already warm from the calls before it."""
    if engine is not None:
        forget(engine, KEY)
    t0 = time.perf_counter()
    call()  # warm-up: pays for imports, the page cache and the days not kept yet
    first = time.perf_counter() - t0
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        call()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), times, first


def run_backend(url: str, rounds: int) -> dict[str, tuple[float, list[float], float]]:
    engine = make_engine(url)
    start, end = END - timedelta(days=DAYS), END
    with unit_of_work(engine) as session:  # the report reads the model (rule lists, decision order)
        create_draft(session, KEY, (ROOT / "examples" / "loan-approval.yaml").read_bytes(), author="bench",
                     format="yaml", filename="loan-approval.yaml")
    try:
        figures = {
            "compute_metrics (window=week, rule_ids given)": median_seconds(lambda: compute_metrics(
                engine, KEY, start=start, end=end, window="week", rule_ids=RULE_IDS), rounds, engine=engine),
            "compute_metrics (window=day)": median_seconds(lambda: compute_metrics(
                engine, KEY, start=start, end=end, window="day", rule_ids=RULE_IDS), rounds, engine=engine),
            "compute_performance (label, Decision, Credit Score)": median_seconds(lambda: compute_performance(
                engine, KEY, label="defaulted", decision_output="Decision", positive={"Reject"},
                score="Credit Score", start=start, end=end), rounds, engine=engine),
            "population_stability (last 30 days vs 30 before, all fields)": median_seconds(
                lambda: population_stability(engine, KEY, reference=(end - timedelta(days=60), end - timedelta(days=30)),
                                             current=(end - timedelta(days=30), end)), rounds),
            "population_stability (last 90 days vs 90 before, all fields)": median_seconds(
                lambda: population_stability(engine, KEY, reference=(start, end - timedelta(days=90)),
                                             current=(end - timedelta(days=90), end)), rounds),
            "report_from_database (180 days; defaulted, Credit Score)": median_seconds(
                lambda: report_from_database(engine, KEY, start=start, end=end, label="defaulted",
                                             score="Credit Score"), rounds, engine=engine),
        }
    finally:
        engine.dispose()
    return figures


def _print(backend: str, figures: dict[str, tuple[float, list[float], float]]) -> None:
    print(f"\n### {backend}\n")
    print("| function | median (s) | rounds (s) | first call, no day kept (s) |")
    print("|---|---:|---|---:|")
    for name, (median, rounds, first) in figures.items():
        print(f"| {name} | {median:.2f} | {', '.join(f'{t:.2f}' for t in rounds)} | {first:.2f} |")


@dataclass
class Args:
    records: int
    backends: Sequence[str]
    rounds: int


def _args() -> Args:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--quick", action="store_true", help="50,000 records")
    parser.add_argument("--backends", nargs="+", default=["sqlite", "postgresql"], choices=["sqlite", "postgresql"])
    parser.add_argument("--rounds", type=int, default=3)
    parsed = parser.parse_args()
    return Args(50_000 if parsed.quick else parsed.records, parsed.backends, parsed.rounds)


def _postgres() -> Iterator[Any]:
    from pg import start_postgres

    server = start_postgres()
    try:
        yield server
    finally:
        server.stop()


def main() -> None:
    args = _args()
    print(f"# Audit analytics benchmark: {args.records:,} decisions\n")
    print(f"Machine: {platform.platform()}, Python {platform.python_version()}, {os.cpu_count()} CPUs, "
          f"SQLite {sqlite3.sqlite_version}. Medians of {args.rounds} timed calls after one warm-up call.")
    t0 = time.perf_counter()
    history = generate(args.records)
    print(f"\nGenerated {history} in {time.perf_counter() - t0:.0f} s.")
    with tempfile.TemporaryDirectory(prefix="bench-audit-") as folder:
        if "sqlite" in args.backends:
            t0 = time.perf_counter()
            url = load_sqlite(Path(folder) / "audit.db", history)
            print(f"SQLite: loaded in {time.perf_counter() - t0:.0f} s "
                  f"({(Path(folder) / 'audit.db').stat().st_size / 1e6:,.0f} MB).")
            _print("SQLite", run_backend(url, args.rounds))
        if "postgresql" in args.backends:
            servers = _postgres()
            server = next(servers)
            try:
                t0 = time.perf_counter()
                url = load_postgres(server, "bench_audit", history)
                with psycopg.connect(host="127.0.0.1", port=server.port, user="postgres",
                                     dbname="bench_audit") as connection:
                    version = connection.info.server_version
                print(f"\nPostgreSQL {version // 10000}.{version % 10000}: loaded in "
                      f"{time.perf_counter() - t0:.0f} s (COPY, then VACUUM ANALYZE).")
                _print("PostgreSQL", run_backend(url, args.rounds))
            finally:
                servers.close()


if __name__ == "__main__":
    main()
