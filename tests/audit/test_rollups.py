"""Days that are over are scanned once and read back from audit_rollups: the figures are the same
either way, the kept rows are what is read, and a day whose records changed (a record written
later with an earlier time, or one removed) or the day in progress is scanned again. Both
databases."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from audit import rollups
from audit.metrics import compute_metrics
from audit.performance import compute_performance
from audit.rollups import ROLLUPS
from audit.store import RECORDS
from tests.audit.test_log import write_records
from tests.audit.test_metrics import KEY, MONDAY, RULE_IDS, SPECS, add_outcome, history


def _kept(engine: Engine) -> list[Any]:
    with engine.connect() as connection:
        return list(connection.execute(sa.select(ROLLUPS.c.query, ROLLUPS.c.day, ROLLUPS.c.records)))


def _same(first: Any, second: Any) -> None:
    for name in (f.name for f in dataclasses.fields(first)):
        pd.testing.assert_frame_equal(getattr(first, name), getattr(second, name), check_dtype=False, obj=name)


def test_kept_days_give_the_same_figures_as_a_scan(engine: Engine) -> None:
    live, _ = history(engine)
    for record in live[::3]:
        add_outcome(engine, record, {"defaulted": record.outputs["Decision"] == "Reject"},
                    record.created_at + timedelta(days=1))
    assert _kept(engine) == []
    scanned = compute_metrics(engine, KEY, window="week", rule_ids=RULE_IDS)
    days = {day for _, day, _ in _kept(engine)}
    assert days == {r.created_at.date().isoformat() for r in live}  # the first day too: nothing is before it
    assert compute_metrics(engine, KEY, window="week", rule_ids=RULE_IDS).volume.equals(scanned.volume)
    _same(scanned, compute_metrics(engine, KEY, window="week", rule_ids=RULE_IDS))
    performance = compute_performance(engine, KEY, label="defaulted", decision_output="Decision")
    _same(performance, compute_performance(engine, KEY, label="defaulted", decision_output="Decision"))
    assert performance.bad_rate_by_outcome["decisions"].sum() == len(live)


def test_the_kept_rows_are_what_is_read(engine: Engine) -> None:
    history(engine)
    before = compute_metrics(engine, KEY, window="week")
    with engine.begin() as connection:  # double every kept count, leaving the day's record count alone
        for query, day, rows in connection.execute(sa.select(ROLLUPS.c.query, ROLLUPS.c.day, ROLLUPS.c.rows)):
            doubled = [[*row[:-1], row[-1] * 2] for row in rows]
            connection.execute(ROLLUPS.update().where(ROLLUPS.c.query == query, ROLLUPS.c.day == day)
                               .values(rows=doubled))
    after = compute_metrics(engine, KEY, window="week")
    assert after.volume["decisions"].sum() == 2 * before.volume["decisions"].sum()


def test_a_day_whose_records_changed_is_scanned_again(engine: Engine) -> None:
    live, _ = history(engine)
    compute_metrics(engine, KEY, window="day")
    late = write_records(engine, [{**SPECS[0], "at": MONDAY + timedelta(hours=3), "outputs": {"Decision": "Refer"}}])
    volume = compute_metrics(engine, KEY, window="day").volume
    assert volume["decisions"].sum() == len(live) + 1
    with engine.begin() as connection:
        connection.execute(RECORDS.delete().where(RECORDS.c.id.in_([late[0].id, live[-1].id])))
    assert compute_metrics(engine, KEY, window="day").volume["decisions"].sum() == len(live) - 1


def test_the_day_in_progress_is_never_kept(engine: Engine) -> None:
    now = datetime.now(UTC)
    recent = [{**SPECS[i], "at": now - timedelta(minutes=5 + i)} for i in range(4)]
    yesterday = [{**SPECS[i], "at": now - timedelta(days=1, hours=2 + i)} for i in range(3)]
    write_records(engine, recent + yesterday)
    start = now - timedelta(days=3)
    assert compute_metrics(engine, KEY, start=start, window="day").volume["decisions"].sum() == 7
    kept = {day for _, day, _ in _kept(engine)}
    assert now.date().isoformat() not in kept
    assert (now - rollups.SETTLE).date().isoformat() not in kept  # not over an hour ago
    write_records(engine, [{**SPECS[5], "at": now - timedelta(minutes=1)}])
    assert compute_metrics(engine, KEY, start=start, window="day").volume["decisions"].sum() == 8


def test_each_scan_keeps_its_own_rows(engine: Engine) -> None:
    live, _ = history(engine)
    every = compute_metrics(engine, KEY, window="week")
    version_2 = compute_metrics(engine, KEY, window="week", versions=[2])
    staging = compute_metrics(engine, KEY, window="week", alias="staging")
    assert every.volume["decisions"].sum() == len(live)
    assert version_2.volume["decisions"].sum() == sum(r.version == 2 for r in live)
    assert staging.volume["decisions"].sum() == sum(r.alias == "staging" for r in live)
    assert len({query for query, _, _ in _kept(engine)}) == 3
