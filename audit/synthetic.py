"""A synthetic decision history, so that the reports, the notebooks and the metrics show
something real on a fresh install: months of loan applications decided by the published
`loan-approval` model, with what a real lender would have seen happen next.

What it writes (for `key`, ending now, nothing before the model's first version matters):
- applications drawn from fixed distributions (age, income, debt, credit score, employment,
  amount), a few hundred a day with weekly seasonality, decided by the REAL model: each record's
  outputs and fired rules are what the engine gives for its inputs;
- a challenger version (examples/challengers/<key>.yaml, published beside the champion, not
  aliased) that took a share of the traffic from `challenger_from` on, split on the applicant's
  id so an applicant always meets the same version; each record says its arm;
- a drift in one input: credit scores of the last `drift_days` days are lower (a new broker
  channel), which the PSI report flags;
- the workflow runs the bindings would have run (approved, rejected, referred), nearly all done,
  a few dead, with their latency; an underwriting review for each Refer, decided approve, reject
  or override (with the override's direction recorded);
- outcomes 90 days after each booked loan (approved, or approved on review): `defaulted` drawn
  from a logistic model of the applicant's risk, and the `loss` when it did; loans younger than
  90 days have no outcome yet, as in life.
Every record is linked into a hash chain of its own, so `decisionary audit verify` passes.
Records are marked with caller `synthetic-history`; `has_history` tells whether they exist.
The same seed gives the same history.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import sqlalchemy as sa
from sqlalchemy.engine import Engine

import decisions
from audit.outcomes import outcome_hash
from audit.tables import OutcomeRow
from decisions.feel.values import to_json
from execution.tables import OverrideRow, ReviewTaskRow, RunRow
from registry import approve, create_draft, list_versions, publish, resolve, submit, unit_of_work
from registry.bulk import write_all
from registry.chain import HEADS, WriterChain
from registry.records import record_rows
from registry.tables import DecisionRecordRow
from registry.views import DecisionRecord

CALLER = "synthetic-history"
AUTHOR = "examples"
APPROVER = "examples-approver"
CHALLENGERS = Path(__file__).resolve().parent.parent / "examples" / "challengers"
OUTCOME_DELAY = timedelta(days=90)
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
EMPLOYMENT = ("Employed", "Self-employed", "Unemployed", "Retired")
EMPLOYMENT_SHARES = (0.70, 0.15, 0.07, 0.08)


@dataclass(frozen=True)
class History:
    key: str
    champion: int
    challenger: int | None
    decisions: int
    outcomes: int
    reviews: int
    start: datetime
    end: datetime
    drift_from: datetime

    def __str__(self) -> str:
        versions = f"version {self.champion}" + (f" and challenger {self.challenger}" if self.challenger else "")
        return (f"{self.decisions:,} decisions of {self.key} ({versions}) from {self.start:%Y-%m-%d} to "
                f"{self.end:%Y-%m-%d}, {self.outcomes:,} outcomes, {self.reviews:,} reviews")


def demo_database(path: str | Path, key: str = "loan-approval", **options: Any) -> str:
    """A SQLite database at `path` holding the example model (published, production) and its
    synthetic history, made once: the notebooks' data when no service is named. Its URL."""
    from registry import create_draft as draft
    from registry import make_engine, set_alias, upgrade

    url = f"sqlite:///{Path(path).resolve()}"
    upgrade(url)
    engine = make_engine(url)
    try:
        if not has_history(engine, key):
            example = CHALLENGERS.parent / f"{key}.yaml"
            with unit_of_work(engine) as session:
                version = draft(session, key, example.read_bytes(), author=AUTHOR, format="yaml",
                                filename=example.name)
                submit(session, key, version.number, by=AUTHOR)
                approve(session, key, version.number, by=APPROVER)
                publish(session, key, version.number, by=APPROVER)
                set_alias(session, key, "production", version.number, by=APPROVER, why="demo database")
            generate_history(engine, key, **options)
    finally:
        engine.dispose()
    return url


def has_history(engine: Engine, key: str) -> bool:
    records = DecisionRecordRow.__table__  # type: ignore[attr-defined]
    with engine.connect() as connection:
        found = connection.execute(sa.select(records.c.id).where(
            records.c.model_key == key, records.c.caller == CALLER).limit(1)).first()
    return found is not None


def generate_history(engine: Engine, key: str = "loan-approval", *, days: int = 180, per_day: int = 300,
                     seed: int = 7, end: datetime | None = None, challenger_share: float = 0.2,
                     challenger_from_day: int = 120, drift_days: int = 30) -> History:
    """Write the history described in the module docstring; the model must be published under
    `key` (its production version is the champion)."""
    rng = random.Random(seed)
    np_rng = np.random.default_rng(seed)
    end = (end or datetime.now(UTC)).replace(microsecond=0)
    start = (end - timedelta(days=days)).replace(hour=0, minute=0, second=0)
    drift_from = end - timedelta(days=drift_days)
    challenger_from = start + timedelta(days=challenger_from_day)

    with unit_of_work(engine) as session:
        champion = resolve(session, key)
    champion_version = champion.version
    champion_model = decisions.load(champion_version.content.decode())
    challenger_version = _publish_challenger(engine, key) if challenger_share > 0 else None
    challenger_model = decisions.load(challenger_version.content.decode()) if challenger_version else None

    times = _arrival_times(np_rng, start, end, per_day)
    applications = _applications(np_rng, times, drift_from)
    chain = WriterChain(_ulid(start, rng))  # of its own, named by the seed: the same history hashes the same
    records: list[DecisionRecord] = []
    runs: list[dict[str, Any]] = []
    tasks: list[dict[str, Any]] = []
    overrides: list[dict[str, Any]] = []
    outcomes: list[dict[str, Any]] = []
    for i, (when, inputs) in enumerate(zip(times, applications, strict=True)):
        applicant = f"A{seed:02d}{i:08d}"
        use_challenger = (challenger_version is not None and when >= challenger_from
                          and _bucket(key, applicant) < challenger_share)
        version = challenger_version if use_challenger else champion_version
        model = challenger_model if use_challenger else champion_model
        assert version is not None and model is not None
        result = model.evaluate(inputs)
        outputs = {name: to_json(value) for name, value in result.outputs.items()}
        fired = {name: list(positions) for name, positions in result.fired.items()}
        fired_ids = _fired_ids(model, fired)
        record_id = _ulid(when, rng)
        arm = ("challenger" if use_challenger else "champion") if when >= challenger_from else None
        records.append(DecisionRecord(
            record_id, key, version.number, version.content_hash, "production", dict(inputs), outputs, fired,
            [p.to_dict() for p in result.problems], int(rng.uniform(40, 400)), CALLER, None, None, when,
            fired_ids, applicant, arm, None))
        decision = outputs.get("Decision")
        booked = decision == "Approve"
        workflow = {"Approve": "approved", "Reject": "rejected", "Refer": "referred"}.get(str(decision))
        if workflow is None:
            continue
        run_id = _ulid(when + timedelta(milliseconds=1), rng)
        dead = rng.random() < 0.006
        latency = timedelta(seconds=rng.lognormvariate(0.3, 0.6))
        if workflow == "referred":
            reviewed_at = when + timedelta(hours=rng.uniform(1, 40))
            answer = rng.choices(("approve", "reject", "override"), (0.55, 0.35, 0.10))[0]
            override = None
            if answer == "override":
                override = {"Decision": rng.choice(("Approve", "Reject"))}
                overrides.append({"decision_id": record_id, "by": rng.choice(("maria", "tomas", "ines")),
                                  "at": reviewed_at, "reason": "synthetic history: reviewer's judgement",
                                  "original": {"Decision": decision}, "override": override})
            task_id = _ulid(when + timedelta(milliseconds=2), rng)
            tasks.append({"id": task_id, "run_id": run_id, "step_index": 0, "decision_id": record_id,
                          "model_key": key, "version": version.number, "workflow": workflow,
                          "queue": "underwriting", "assignee": None, "reason": "Refer", "inputs": dict(inputs),
                          "outputs": outputs, "fired": fired, "state": "decided",
                          "claimed_by": "maria", "claimed_at": reviewed_at - timedelta(minutes=20),
                          "due_at": when + timedelta(days=2), "escalate_workflow": None, "escalated_at": None,
                          "outcome": answer, "override_outputs": override,
                          "answer_reason": "synthetic history", "decided_by": "maria", "decided_at": reviewed_at,
                          "created_at": when})
            if overrides and overrides[-1]["decision_id"] == record_id:
                overrides[-1]["task_id"] = task_id
            latency = reviewed_at - when + latency
            booked = answer == "approve" or (override is not None and override["Decision"] == "Approve")
        finished = when + latency
        runs.append({"id": run_id, "decision_id": record_id, "model_key": key, "version": version.number,
                     "content_hash": version.content_hash, "bindings_hash": "0" * 64, "workflow": workflow,
                     "origin": "decision", "state": "dead" if dead else "done", "step_index": 0, "attempt": 1,
                     "due_at": None, "target": None, "lease_owner": None, "lease_token": None,
                     "lease_expires": None, "prev_lease_owner": None, "context": {},
                     "last_error": "receiver answered 503 on every attempt" if dead else None,
                     "last_status": 503 if dead else 200, "created_at": when, "updated_at": finished,
                     "finished_at": finished})
        known_at = when + OUTCOME_DELAY
        if booked and known_at <= end:
            defaulted = rng.random() < _default_probability(inputs)
            values = {"loss": round(float(outputs.get("Credit Limit") or 0) * rng.uniform(0.3, 0.8), 2)
                      if defaulted else 0}
            labels = {"defaulted": defaulted}
            outcomes.append({"id": _ulid(known_at, rng), "model_key": key, "decision_id": record_id,
                             "business_key": applicant, "labels": labels, "values": values, "known_at": known_at,
                             "received_at": known_at, "source": CALLER, "by": CALLER,
                             "content_hash": outcome_hash(labels, values, known_at)})

    _write(engine, chain, records, runs, tasks, overrides, outcomes)
    return History(key, champion_version.number, challenger_version.number if challenger_version else None,
                   len(records), len(outcomes), len(tasks), start, end, drift_from)


def _publish_challenger(engine: Engine, key: str) -> Any:
    path = CHALLENGERS / f"{key}.yaml"
    data = path.read_bytes()
    with unit_of_work(engine) as session:
        existing = [v for v in list_versions(session, key, state="published")
                    if v.content.replace(b"\r\n", b"\n") == data.replace(b"\r\n", b"\n")]
        if existing:
            return existing[-1]
        version = create_draft(session, key, data, author=AUTHOR, format="yaml", filename=path.name,
                               comment="challenger for the synthetic history")
        submit(session, key, version.number, by=AUTHOR)
        approve(session, key, version.number, by=APPROVER, comment="challenger")
        return publish(session, key, version.number, by=APPROVER)


def _arrival_times(rng: np.random.Generator, start: datetime, end: datetime, per_day: int) -> list[datetime]:
    times: list[datetime] = []
    day = start
    while day < end:
        weekday_factor = 0.55 if day.weekday() >= 5 else 1.1
        count = int(rng.poisson(per_day * weekday_factor))
        seconds = np.sort(rng.uniform(0, 86_400, count))
        times.extend(day + timedelta(seconds=float(s)) for s in seconds)
        day += timedelta(days=1)
    return [t.replace(microsecond=(t.microsecond // 1000) * 1000) for t in times if t < end]


def _applications(rng: np.random.Generator, times: list[datetime], drift_from: datetime) -> list[dict[str, Any]]:
    n = len(times)
    age = np.clip(np.round(rng.normal(41, 13, n)), 16, 85)
    income = np.round(np.exp(rng.normal(math.log(4200), 0.45, n)) / 50) * 50
    debt = np.round(income * rng.beta(2.0, 6.0, n) / 25) * 25
    score = rng.normal(695, 65, n)
    drifted = np.array([t >= drift_from for t in times])
    score = np.where(drifted, score - 45, score)
    score = np.clip(np.round(score), 350, 850)
    employment = rng.choice(len(EMPLOYMENT), n, p=EMPLOYMENT_SHARES)
    amount = np.clip(np.round(np.exp(rng.normal(math.log(16000), 0.6, n)) / 500) * 500, 1000, 150000)
    return [{"Applicant Age": int(age[i]), "Monthly Income": int(income[i]), "Monthly Debt": int(debt[i]),
             "Credit Score": int(score[i]), "Employment Status": EMPLOYMENT[employment[i]],
             "Requested Amount": int(amount[i])} for i in range(n)]


def _default_probability(inputs: dict[str, Any]) -> float:
    income = max(float(inputs["Monthly Income"]), 1.0)
    dti = float(inputs["Monthly Debt"]) / income
    lti = float(inputs["Requested Amount"]) / income
    z = (-2.9 - 0.014 * (float(inputs["Credit Score"]) - 690) + 3.2 * (dti - 0.25) + 0.12 * (lti - 4)
         + (0.7 if inputs["Employment Status"] == "Unemployed" else 0.0))
    return 1.0 / (1.0 + math.exp(-z))


def _bucket(key: str, applicant: str) -> float:
    digest = hashlib.sha256(f"{key}\x00production\x00{json.dumps(applicant)}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def _fired_ids(model: Any, fired: dict[str, list[int]]) -> dict[str, list[str]]:
    to_ids = getattr(model, "fired_ids", None)
    if callable(to_ids):
        return dict(to_ids(fired))
    return {name: [f"#{position}" for position in positions] for name, positions in fired.items()}


def _ulid(when: datetime, rng: random.Random) -> str:
    value = (int(when.timestamp() * 1000) << 80) | rng.getrandbits(80)
    return "".join(_CROCKFORD[(value >> (5 * i)) & 31] for i in range(25, -1, -1))


def _write(engine: Engine, chain: WriterChain, records: list[DecisionRecord], runs: list[dict[str, Any]],
           tasks: list[dict[str, Any]], overrides: list[dict[str, Any]], outcomes: list[dict[str, Any]]) -> None:
    run_table = RunRow.__table__  # type: ignore[attr-defined]
    task_table = ReviewTaskRow.__table__  # type: ignore[attr-defined]
    override_table = OverrideRow.__table__  # type: ignore[attr-defined]
    outcome_table = OutcomeRow.__table__  # type: ignore[attr-defined]
    records.sort(key=lambda r: r.id)
    step = 5000
    for begin in range(0, len(records), step):
        table, rows = record_rows(records[begin:begin + step])
        seq, head, head_row = chain.link(rows)  # type: ignore[arg-type]
        write_all(engine, [(table, rows), (HEADS, [head_row])])
        chain.advance(seq, head)
    for table, rows in ((run_table, runs), (task_table, tasks), (override_table, overrides),
                        (outcome_table, outcomes)):
        for begin in range(0, len(rows), step):
            write_all(engine, [(table, rows[begin:begin + step])])
