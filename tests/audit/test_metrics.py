"""Metrics over time against figures counted here from the records the test wrote: volume and
outcome mix per window (day, week, month), rule hits with stable ids (and old records without
them), never-fired rules, reviews and override directions as of a time, workflow runs with
their latency percentiles; shadow records never count; bad arguments are named. Both databases.
The helpers at the top also feed test_performance.py and test_drift.py."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sqlalchemy.engine import Engine

from audit.log import QueryError
from audit.metrics import compute_metrics
from audit.store import OUTCOMES, OVERRIDES, RUNS, TASKS
from registry.ids import new_ulid
from registry.views import DecisionRecord
from tests.audit.test_log import write_records

KEY = "loan-approval"
MONDAY = datetime(2026, 1, 5, tzinfo=UTC)
DECISIONS = ["Approve", "Refer", "Reject"]


# --- helpers: rows as the service and the workers write them ------------------------------------

def add_run(engine: Engine, record: DecisionRecord, workflow: str, state: str, latency_s: float | None) -> str:
    run_id = new_ulid()
    finished = record.created_at + timedelta(seconds=latency_s) if latency_s is not None else None
    with engine.begin() as connection:
        connection.execute(RUNS.insert().values(
            id=run_id, decision_id=record.id, model_key=record.key, version=record.version,
            content_hash=record.content_hash, bindings_hash="cd" * 32, workflow=workflow, origin="decision",
            state=state, step_index=0, attempt=1, context={}, created_at=record.created_at,
            updated_at=finished or record.created_at, finished_at=finished))
    return run_id


def add_review(engine: Engine, record: DecisionRecord, outcome: str | None, decided_at: datetime | None,
               override: dict[str, Any] | None = None) -> str:
    """A review task (decided when `outcome` is given), and the override row for an override."""
    run_id = add_run(engine, record, "review", "waiting" if outcome is None else "done", None)
    task_id = new_ulid()
    with engine.begin() as connection:
        connection.execute(TASKS.insert().values(
            id=task_id, run_id=run_id, step_index=0, decision_id=record.id, model_key=record.key,
            version=record.version, workflow="review", queue="underwriting", inputs={}, outputs={}, fired={},
            state="open" if outcome is None else "decided", outcome=outcome, override_outputs=override,
            decided_by="ana" if outcome else None, decided_at=decided_at, created_at=record.created_at))
        if override is not None:
            connection.execute(OVERRIDES.insert().values(
                decision_id=record.id, task_id=task_id, by="ana", at=decided_at, reason="judgement",
                original={name: record.outputs.get(name) for name in override}, override=override))
    return task_id


def add_outcome(engine: Engine, record: DecisionRecord, labels: dict[str, Any], known_at: datetime,
                received_at: datetime | None = None, values: dict[str, Any] | None = None) -> str:
    outcome_id = new_ulid()
    values = values or {}
    text = json.dumps({"labels": labels, "values": values, "known_at": known_at.isoformat()}, sort_keys=True)
    with engine.begin() as connection:
        connection.execute(OUTCOMES.insert().values(
            id=outcome_id, model_key=record.key, decision_id=record.id, business_key=record.business_key,
            labels=labels, values=values, known_at=known_at, received_at=received_at or known_at, source="test",
            content_hash=hashlib.sha256(text.encode()).hexdigest()))
    return outcome_id


def frame_rows(data: pd.DataFrame, *columns: str) -> list[tuple[Any, ...]]:
    return sorted((tuple(_plain(v) for v in row) for row in data[list(columns)].itertuples(index=False)),
                  key=repr)


def _plain(value: Any) -> Any:
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, float) and np.isnan(value):
        return None
    return value


# --- the history ---------------------------------------------------------------------------------

def _spec(i: int) -> dict[str, Any]:
    version = 2 if i % 5 == 0 else 1
    eligible = i % 4 != 0
    return {
        "at": MONDAY + timedelta(hours=7 * i, minutes=1),
        "version": version,
        "alias": "production" if i % 3 else "staging",
        "arm": "challenger" if version == 2 else ("champion" if i >= 15 else None),
        "inputs": {"Score": 500 + i},
        "outputs": {"Decision": DECISIONS[i % 3],
                    "Eligibility": {"Status": "Eligible" if eligible else "Ineligible",
                                    "Reason": "meets the rules" if eligible else "under 18"},
                    "Credit Limit": 1000 + i * 37.5,  # 30 different numbers: not categorical
                    "Band": i % 3 + 1,  # 3 different numbers: categorical
                    "Manual": i % 2 == 0},
        "fired": {"Decision": [i % 3 + 1], "Eligibility": [1 if eligible else 2]},
        # The oldest records were written before rule ids were recorded.
        "fired_ids": None if i < 6 else {"Decision": [f"d{i % 3 + 1}"], "Eligibility": ["ok" if eligible else "no"]},
    }


SPECS = [_spec(i) for i in range(30)]
RULE_IDS = {1: {"Decision": ["d1", "d2", "d3", "d4"], "Eligibility": ["ok", "no", "retired"]},
            2: {"Decision": ["d1", "d2", "d3", "d4"], "Eligibility": ["ok", "no", "retired"]},
            7: {"Decision": ["x1"]}}


def history(engine: Engine) -> tuple[list[DecisionRecord], list[DecisionRecord]]:
    """30 live records over 9 days from a Monday (versions 1 and 2) and 3 shadow records (version 3)."""
    live = write_records(engine, SPECS)
    shadows = write_records(engine, [{**SPECS[i], "version": 3, "arm": None, "shadow_of": live[i].id,
                                      "outputs": {"Decision": "Reject", "Band": 9}} for i in (1, 2, 3)])
    return live, shadows


def _window(at: datetime, window: str) -> datetime:
    day = at.replace(hour=0, minute=0, second=0, microsecond=0)
    if window == "week":
        return day - timedelta(days=day.weekday())
    if window == "month":
        return day.replace(day=1)
    return day


# --- tests ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("window", ["day", "week", "month"])
def test_volume_and_outcome_mix_per_window(engine: Engine, window: str) -> None:
    live, _ = history(engine)
    metrics = compute_metrics(engine, KEY, window=window)

    volume = Counter((_window(r.created_at, window), r.version, r.alias, r.arm) for r in live)
    assert frame_rows(metrics.volume, "window_start", "version", "alias", "arm", "decisions") == \
        sorted(((*k, n) for k, n in volume.items()), key=repr)
    assert 3 not in set(metrics.volume["version"])  # the shadow version

    totals = Counter((_window(r.created_at, window), r.version, r.alias) for r in live)
    expected: Counter[tuple[Any, ...]] = Counter()
    for r in live:
        place = (_window(r.created_at, window), r.version, r.alias)
        outputs = r.outputs
        for name, value in (("Decision", outputs["Decision"]), ("Eligibility.Status", outputs["Eligibility"]["Status"]),
                            ("Eligibility.Reason", outputs["Eligibility"]["Reason"]), ("Band", outputs["Band"]),
                            ("Manual", outputs["Manual"])):
            expected[(*place, name, value)] += 1
    found = frame_rows(metrics.outputs, "window_start", "version", "alias", "decision", "value", "count", "rate")
    assert found == sorted(((*k, n, n / totals[k[:3]]) for k, n in expected.items()), key=repr)
    assert "Credit Limit" not in set(metrics.outputs["decision"])
    assert {type(v) for v in metrics.outputs.loc[metrics.outputs["decision"] == "Manual", "value"]} == {bool}
    assert str(metrics.volume["window_start"].dt.tz) == "UTC"


def test_period_versions_and_alias_narrow_the_count(engine: Engine) -> None:
    live, _ = history(engine)
    start, end = MONDAY + timedelta(days=2), MONDAY + timedelta(days=6)
    metrics = compute_metrics(engine, KEY, start=start, end=end, versions=[1], alias="production")
    chosen = [r for r in live if start <= r.created_at < end and r.version == 1 and r.alias == "production"]
    assert chosen and int(metrics.volume["decisions"].sum()) == len(chosen)
    decisions = metrics.outputs[metrics.outputs["decision"] == "Decision"]
    assert dict(decisions.groupby("value")["count"].sum()) == dict(Counter(r.outputs["Decision"] for r in chosen))
    assert compute_metrics(engine, "other-model").volume.empty


def test_rule_hits_never_fired_rules_and_old_records_without_ids(engine: Engine) -> None:
    live, _ = history(engine)
    metrics = compute_metrics(engine, KEY, rule_ids=RULE_IDS)
    per_version = Counter(r.version for r in live)
    hits: Counter[tuple[int, str, str, int]] = Counter()
    for r in live:
        for decision, positions in r.fired.items():
            for position in positions:
                rule_id = f"d{position}" if decision == "Decision" else ["ok", "no"][position - 1]
                hits[(r.version, decision, rule_id, position)] += 1
    assert frame_rows(metrics.rules, "version", "decision", "rule_id", "position", "hits", "hit_rate") == \
        sorted(((*k, n, n / per_version[k[0]]) for k, n in hits.items()), key=repr)
    # Version 7 had no decisions in the period, so its rules are not reported.
    assert frame_rows(metrics.never_fired, "version", "decision", "rule_id", "position") == sorted(
        [(1, "Decision", "d4", 4), (1, "Eligibility", "retired", 3), (2, "Decision", "d4", 4),
         (2, "Eligibility", "retired", 3)], key=repr)
    asked = compute_metrics(engine, KEY, versions=[1, 7], rule_ids=RULE_IDS)
    assert (7, "Decision", "x1", 1) in frame_rows(asked.never_fired, "version", "decision", "rule_id", "position")
    assert compute_metrics(engine, KEY).never_fired.empty  # no rule lists given


def test_rule_ids_fall_back_to_positions(engine: Engine) -> None:
    write_records(engine, [{**SPECS[i], "fired_ids": None} for i in range(3)])
    rules = compute_metrics(engine, KEY).rules
    assert set(rules["rule_id"]) == {"#1", "#2", "#3"} and set(rules["position"]) == {1, 2, 3}


def test_reviews_and_override_directions_as_of_a_time(engine: Engine) -> None:
    live, shadows = history(engine)
    at = MONDAY + timedelta(days=20)
    by_index = dict(enumerate(live))
    add_review(engine, by_index[1], "approve", at)
    add_review(engine, by_index[2], "reject", at)
    add_review(engine, by_index[4], "override", at, {"Decision": "Approve"})
    add_review(engine, by_index[7], "approve", at)  # reviewed twice: one decision reviewed
    add_review(engine, by_index[7], "override", at, {"Decision": "Reject"})
    add_review(engine, by_index[13], "override", at, {"Decision": "Approve"})
    add_review(engine, by_index[8], None, None)  # still open: not reviewed
    add_review(engine, by_index[16], "override", at + timedelta(days=5), {"Decision": "Approve"})  # later
    add_review(engine, shadows[0], "reject", at)

    metrics = compute_metrics(engine, KEY, window="week", as_of=at + timedelta(days=1))
    reviews = metrics.reviews
    assert int(reviews["decisions"].sum()) == len(live)
    assert int(reviews["reviewed"].sum()) == 5 and int(reviews["overridden"].sum()) == 3
    first_week = reviews[(reviews["window_start"] == MONDAY) & (reviews["version"] == 1)
                         & (reviews["alias"] == "production")]
    mine = [r for i, r in by_index.items() if _window(r.created_at, "week") == MONDAY and r.version == 1
            and r.alias == "production"]
    reviewed = {i for i in (1, 2, 4, 7, 13) if by_index[i] in mine}
    overridden = {i for i in (4, 7, 13) if by_index[i] in mine}
    assert first_week[["decisions", "reviewed", "overridden"]].values.tolist() == \
        [[len(mine), len(reviewed), len(overridden)]]
    assert first_week["review_rate"].item() == pytest.approx(len(reviewed) / len(mine))
    assert first_week["override_rate"].item() == pytest.approx(len(overridden) / len(reviewed))
    # Each override's direction, from what the model said to what the reviewer chose.
    directions = Counter((by_index[i].version, "Decision", by_index[i].outputs["Decision"], chosen)
                         for i, chosen in ((4, "Approve"), (7, "Reject"), (13, "Approve")))
    assert frame_rows(metrics.overrides, "version", "decision", "original", "override", "count") == \
        sorted(((*k, n) for k, n in directions.items()), key=repr)
    # By day the period is cut into parts that are counted side by side: the same figures.
    daily = compute_metrics(engine, KEY, window="day", as_of=at + timedelta(days=1)).reviews
    expected_days = Counter(_window(by_index[i].created_at, "day") for i in (1, 2, 4, 7, 13))
    found_days: Counter[datetime] = Counter()
    for day, reviewed_that_day in frame_rows(daily[daily["reviewed"] > 0], "window_start", "reviewed"):
        found_days[day] += reviewed_that_day
    assert found_days == expected_days
    assert int(daily["decisions"].sum()) == len(live) and int(daily["overridden"].sum()) == 3
    later = compute_metrics(engine, KEY, window="week", as_of=at + timedelta(days=6))
    assert int(later.reviews["overridden"].sum()) == 4 and int(later.overrides["count"].sum()) == 4


@pytest.mark.parametrize("window", ["day", "week"])
def test_workflow_runs_counts_and_latency_percentiles(engine: Engine, window: str) -> None:
    live, _ = history(engine)
    latencies: dict[tuple[datetime, int, str], list[float]] = {}
    states: Counter[tuple[datetime, int, str, str]] = Counter()
    for i, record in enumerate(live):
        workflow = "approved" if i % 2 else "notify"
        state = ["done", "done", "done", "dead", "waiting", "ready", "cancelled"][i % 7]
        latency = 0.25 + i * 1.5 + (i % 4) * 0.125
        add_run(engine, record, workflow, state, latency if state in ("done", "dead") else None)
        place = (_window(record.created_at, window), record.version, workflow)
        states[(*place, state)] += 1
        if state == "done":
            latencies.setdefault(place, []).append(latency)
    workflows = compute_metrics(engine, KEY, window=window).workflows
    places = sorted({k[:3] for k in states}, key=repr)
    assert frame_rows(workflows, "window_start", "version", "workflow") == places
    for row in workflows.to_dict("records"):
        place = (row["window_start"].to_pydatetime(), row["version"], row["workflow"])
        done, dead = states[(*place, "done")], states[(*place, "dead")]
        assert row["runs"] == sum(n for k, n in states.items() if k[:3] == place)
        assert (row["done"], row["dead"]) == (done, dead)
        assert row["waiting"] == states[(*place, "waiting")] + states[(*place, "ready")]
        assert row["success_rate"] == pytest.approx(done / (done + dead)) if done + dead else np.isnan(
            row["success_rate"])
        if place in latencies:
            p50, p95 = np.quantile(latencies[place], [0.5, 0.95])
            assert row["latency_p50_s"] == pytest.approx(p50, abs=1e-3)
            assert row["latency_p95_s"] == pytest.approx(p95, abs=1e-3)
        else:
            assert np.isnan(row["latency_p50_s"])


def test_names_that_need_quoting_are_counted(engine: Engine) -> None:
    odd = 'Risk "Category" ü'
    write_records(engine, [{"at": MONDAY + timedelta(hours=i), "outputs": {odd: ["Low", "High"][i % 2], "D": "x"},
                            "fired": {odd: [i % 2 + 1]}} for i in range(5)])
    outputs = compute_metrics(engine, KEY).outputs
    assert dict(outputs[outputs["decision"] == odd].groupby("value")["count"].sum()) == {"Low": 3, "High": 2}


def test_an_empty_period_gives_empty_frames_with_their_columns(engine: Engine) -> None:
    metrics = compute_metrics(engine, KEY, start=MONDAY, end=MONDAY + timedelta(days=1))
    assert metrics.volume.empty and list(metrics.volume.columns) == ["window_start", "version", "alias", "arm",
                                                                     "decisions"]
    assert list(metrics.workflows.columns)[-2:] == ["latency_p50_s", "latency_p95_s"]


@pytest.mark.parametrize(("arguments", "parameter"), [
    ({"window": "fortnight"}, "window"),
    ({"start": datetime(2026, 1, 1)}, "start"),  # no time zone
    ({"start": MONDAY, "end": MONDAY}, "end"),
    ({"versions": [0]}, "versions"),
    ({"versions": "1"}, "versions"),
    ({"alias": ""}, "alias"),
    ({"rule_ids": {1: {"Decision": "d1"}}}, "rule_ids[1]['Decision']"),
    ({"rule_ids": {"1": {}}}, "rule_ids"),
])
def test_bad_arguments_are_named(engine: Engine, arguments: dict[str, Any], parameter: str) -> None:
    with pytest.raises(QueryError) as raised:
        compute_metrics(engine, KEY, **arguments)
    assert raised.value.parameter == parameter


def live_values(records: Sequence[DecisionRecord], name: str) -> list[Any]:
    return [r.outputs.get(name) for r in records]
