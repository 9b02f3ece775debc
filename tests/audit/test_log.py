"""The decision log query: every filter against a plain Python reading of the same records, keyset
pages that add up to the whole answer, cursors bound to their filters, bad values named, on both
databases. The helpers at the top also feed tests/audit/test_export_retention.py."""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from audit.log import QueryError, parse_fired, parse_output, parse_time, query_records
from execution.tables import ReviewTaskRow, RunRow
from registry import new_record, record_rows
from registry.bulk import write_all
from registry.chain import HEADS, WriterChain
from registry.ids import new_ulid
from registry.views import DecisionRecord

RUNS = RunRow.__table__  # type: ignore[attr-defined]
TASKS = ReviewTaskRow.__table__  # type: ignore[attr-defined]
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def write_records(engine: Engine, specs: Sequence[dict[str, Any]], chain: WriterChain | None = None,
                  batch: int = 7) -> list[DecisionRecord]:
    """Records made from `specs` (fields of `new_record`, plus `at`, the creation time), in time
    order, linked into `chain` (a new one by default) in commits of `batch` records."""
    chain = chain or WriterChain()
    records = []
    for spec in sorted(specs, key=lambda s: s["at"]):
        fields = {"key": "loan-approval", "version": 1, "content_hash": "ab" * 32, "inputs": {"Age": 30},
                  "outputs": {"Decision": "Approve"}, "fired": {}, "problems": [], "latency_us": 5, **spec}
        at = fields.pop("at")
        shadow_of = fields.pop("shadow_of", None)
        record = new_record(**fields)
        ms = int(at.timestamp() * 1000)
        records.append(dataclasses.replace(record, id=new_ulid(ms), created_at=at, shadow_of=shadow_of))
    for begin in range(0, len(records), batch):
        table, rows = record_rows(records[begin:begin + batch])
        seq, head, head_row = chain.link(rows)  # type: ignore[arg-type]
        write_all(engine, [(table, rows), (HEADS, [head_row])])
        chain.advance(seq, head)
    return records


def add_run(engine: Engine, record_id: str, state: str, workflow: str = "approve") -> str:
    run_id = new_ulid()
    with engine.begin() as connection:
        connection.execute(RUNS.insert().values(
            id=run_id, decision_id=record_id, model_key="loan-approval", version=1, content_hash="ab" * 32,
            bindings_hash="cd" * 32, workflow=workflow, origin="decision", state=state, step_index=0, attempt=0,
            context={}, created_at=T0, updated_at=T0))
    return run_id


def add_task(engine: Engine, record_id: str, run_id: str, state: str, outcome: str | None = None) -> str:
    task_id = new_ulid()
    with engine.begin() as connection:
        connection.execute(TASKS.insert().values(
            id=task_id, run_id=run_id, step_index=0, decision_id=record_id, model_key="loan-approval", version=1,
            workflow="review", queue="underwriting", inputs={}, outputs={}, fired={}, state=state,
            outcome=outcome, decided_by="ana" if state == "decided" else None, created_at=T0))
    return task_id


# --- a history with something to find ------------------------------------------------------------

DECISIONS = ["Approve", "Refer", "Reject"]


def _history(engine: Engine) -> tuple[list[DecisionRecord], dict[str, set[str]], dict[str, set[str]]]:
    rng = random.Random(7)
    specs = []
    for i in range(60):
        decision = DECISIONS[i % 3]
        position = 1 + i % 4
        specs.append({
            "at": T0 + timedelta(hours=i * 5, microseconds=0 if i % 10 else 1),
            "key": "loan-approval" if i % 6 else "pricing",
            "version": 1 + (i % 4 == 0),
            "alias": "production" if i % 2 else None,
            "arm": "challenger" if i % 5 == 0 else None,
            "caller": f"svc-{i % 3}",
            "business_key": f"app-{i % 8}",
            "outputs": {"Decision": decision, "Credit Limit": [0, 15000, 15000.0, 2500.5][i % 4],
                        "Manual": i % 7 == 0, "Risk \"Category\" ü": "High" if i % 3 else None},
            "fired": {"Decision": [position], "Risk \"Category\" ü": [position, 9]},
            "fired_ids": {"Decision": [f"rule-{position}"], "Risk \"Category\" ü": [f"r{position}", "r9"]},
        })
    records = write_records(engine, specs)
    live = [r for r in records if r.key == "loan-approval"]
    shadows = write_records(engine, [{"at": T0 + timedelta(hours=3 + i * 10), "shadow_of": live[i].id,
                                      "outputs": {"Decision": "Reject"}} for i in range(5)])
    states: dict[str, set[str]] = {}
    outcomes: dict[str, set[str]] = {}
    for record in rng.sample(records, 25):
        state = rng.choice(["ready", "waiting", "done", "dead"])
        run = add_run(engine, record.id, state)
        states.setdefault(record.id, set()).add(state)
        if rng.random() < 0.6:
            task_state, outcome = rng.choice([("open", None), ("claimed", None), ("decided", "approve"),
                                              ("decided", "reject"), ("decided", "override")])
            add_task(engine, record.id, run, task_state, outcome)
            if outcome:
                outcomes.setdefault(record.id, set()).add(outcome)
    return records + shadows, states, outcomes


def _all_pages(engine: Engine, limit: int, **filters: Any) -> list[str]:
    ids: list[str] = []
    cursor = None
    for _ in range(200):
        page = query_records(engine, limit=limit, cursor=cursor, **filters)
        assert len(page.records) <= limit
        ids.extend(r.id for r in page.records)
        cursor = page.next_cursor
        if cursor is None:
            return ids
    raise AssertionError("the pages never ended")


def _newest_first(records: Sequence[DecisionRecord]) -> list[str]:
    return [r.id for r in sorted(records, key=lambda r: (r.created_at, r.id), reverse=True)]


def _same_json(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool) or a is None or b is None:
        return a is b or (a == b and type(a) is type(b))
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return float(a) == float(b)
    return type(a) is type(b) and a == b


CASES: list[tuple[str, dict[str, Any], Callable[[DecisionRecord], bool]]] = [
    ("key", {"key": "pricing"}, lambda r: r.key == "pricing"),
    ("key+version", {"key": "loan-approval", "version": 2}, lambda r: r.key == "loan-approval" and r.version == 2),
    ("alias", {"alias": "production"}, lambda r: r.alias == "production"),
    ("arm", {"arm": "challenger"}, lambda r: r.arm == "challenger"),
    ("time", {"start": T0 + timedelta(days=3), "end": T0 + timedelta(days=8)},
     lambda r: T0 + timedelta(days=3) <= r.created_at < T0 + timedelta(days=8)),
    ("caller", {"caller": "svc-1"}, lambda r: r.caller == "svc-1"),
    ("business key", {"key": "loan-approval", "business_key": "app-3"},
     lambda r: r.key == "loan-approval" and r.business_key == "app-3"),
    ("output text", {"output": ("Decision", "Refer")}, lambda r: r.outputs.get("Decision") == "Refer"),
    ("output number", {"output": ("Credit Limit", 15000)},
     lambda r: _same_json(r.outputs.get("Credit Limit", "absent"), 15000)),
    ("output decimal", {"output": parse_output("Credit Limit:2500.50")},
     lambda r: _same_json(r.outputs.get("Credit Limit", "absent"), 2500.5)),
    ("output true", {"output": ("Manual", True)}, lambda r: r.outputs.get("Manual") is True),
    ("output false", {"output": ("Manual", False)}, lambda r: r.outputs.get("Manual") is False),
    ("output null, odd name", {"output": ('Risk "Category" ü', None)},
     lambda r: 'Risk "Category" ü' in r.outputs and r.outputs['Risk "Category" ü'] is None),
    ("fired id", {"fired": ("Decision", "rule-2")}, lambda r: "rule-2" in (r.fired_ids or {}).get("Decision", [])),
    ("fired position", {"fired": ("Decision", 3)}, lambda r: 3 in r.fired.get("Decision", [])),
    ("fired id, odd name", {"fired": parse_fired('Risk "Category" ü:r9')},
     lambda r: "r9" in (r.fired_ids or {}).get('Risk "Category" ü', [])),
    ("shadows too", {"include_shadow": True}, lambda r: True),
    ("combined", {"key": "loan-approval", "output": ("Decision", "Approve"), "start": T0 + timedelta(days=1)},
     lambda r: r.key == "loan-approval" and r.outputs.get("Decision") == "Approve"
     and r.created_at >= T0 + timedelta(days=1)),
]


def test_every_filter_finds_what_a_plain_reading_finds(engine: Engine) -> None:
    records, states, outcomes = _history(engine)
    shadowless = [r for r in records if r.shadow_of is None]
    for name, filters, keep in CASES:
        pool = records if filters.get("include_shadow") else shadowless
        expected = _newest_first([r for r in pool if keep(r)])
        assert expected, f"{name}: the history has nothing to find"
        assert _all_pages(engine, 1000, **filters) == expected, name
    for state in ("ready", "waiting", "done", "dead"):
        expected = _newest_first([r for r in shadowless if state in states.get(r.id, set())])
        assert expected and _all_pages(engine, 1000, workflow_state=state) == expected, state
    for outcome in ("approve", "reject", "override"):
        expected = _newest_first([r for r in shadowless if outcome in outcomes.get(r.id, set())])
        assert _all_pages(engine, 1000, review_outcome=outcome) == expected, outcome
    assert any(outcomes.values())
    # A text that reads like SQL is only ever a value.
    assert _all_pages(engine, 100, output=("Decision' OR 1=1 --", "x")) == []
    assert _all_pages(engine, 100, fired=("Decision", "rule-1' OR '1'='1")) == []


def test_pages_add_up_to_the_whole_answer_newest_first(engine: Engine) -> None:
    records, _, _ = _history(engine)
    everything = _newest_first([r for r in records if r.shadow_of is None])
    first = query_records(engine, limit=1000)
    assert [r.id for r in first.records] == everything and first.next_cursor is None
    for limit in (1, 7, 59, 60):
        assert _all_pages(engine, limit) == everything, limit
    loans = _newest_first([r for r in records if r.key == "loan-approval" and r.shadow_of is None])
    assert _all_pages(engine, 4, key="loan-approval") == loans
    page = query_records(engine, limit=3, key="loan-approval")
    assert page.records[0].chain_id is not None and page.records[0].record_hash is not None
    newest = next(r for r in records if r.id == page.records[0].id)
    assert page.records[0] == newest and page.records[0].fired_ids == newest.fired_ids


def test_a_cursor_only_continues_the_query_that_gave_it(engine: Engine) -> None:
    _history(engine)
    page = query_records(engine, key="loan-approval", output=("Decision", "Approve"), limit=2)
    assert page.next_cursor is not None
    again = query_records(engine, key="loan-approval", output=("Decision", "Approve"), limit=5,
                          cursor=page.next_cursor)
    assert again.records and again.records[0].id not in {r.id for r in page.records}
    for other in ({"key": "pricing"}, {"key": "loan-approval", "output": ("Decision", "Reject")},
                  {"key": "loan-approval", "output": ("Decision", "Approve"), "include_shadow": True}):
        with pytest.raises(QueryError) as refused:
            query_records(engine, cursor=page.next_cursor, **other)
        assert refused.value.parameter == "cursor" and "other filters" in str(refused.value)
    for garbage in ("nonsense", "", "YWJj", "Zm9vLmJhci5iYXo", "!!!!"):
        with pytest.raises(QueryError) as refused:
            query_records(engine, cursor=garbage)
        assert refused.value.parameter == "cursor"


@pytest.mark.parametrize(("filters", "parameter"), [
    ({"workflow_state": "running"}, "workflow_state"),
    ({"review_outcome": "maybe"}, "review_outcome"),
    ({"limit": 0}, "limit"),
    ({"limit": 1001}, "limit"),
    ({"version": 0}, "version"),
    ({"start": datetime(2026, 1, 2)}, "start"),
    ({"start": T0 + timedelta(days=2), "end": T0}, "end"),
    ({"output": ("Decision", [1])}, "output"),
    ({"output": ("Credit Limit", float("nan"))}, "output"),
    ({"output": ("Credit Limit", 10**400)}, "output"),
    ({"fired": ("Decision", 0)}, "fired"),
    ({"fired": ("Decision", "")}, "fired"),
    ({"key": ""}, "key"),
])
def test_bad_filter_values_are_named(engine: Engine, filters: dict[str, Any], parameter: str) -> None:
    with pytest.raises(QueryError) as refused:
        query_records(engine, **filters)
    assert refused.value.parameter == parameter


def test_the_text_forms() -> None:
    assert parse_output("Decision:Approve") == ("Decision", "Approve")
    assert parse_output("Credit Limit: 15000") == ("Credit Limit", 15000)
    assert parse_output('Code:"15000"') == ("Code", "15000")
    assert parse_output("Manual:true") == ("Manual", True)
    assert parse_output("Reason:null") == ("Reason", None)
    assert parse_output("Start:10:30") == ("Start", "10:30")
    assert parse_fired("Risk Category:rule-7") == ("Risk Category", "rule-7")
    assert parse_fired("Risk Category:7") == ("Risk Category", 7)
    assert parse_time("2026-03-01", "start") == datetime(2026, 3, 1, tzinfo=UTC)
    assert parse_time("2026-03-01T12:00:00Z", "start") == datetime(2026, 3, 1, 12, tzinfo=UTC)
    assert parse_time("2026-03-01T13:00:00+01:00", "end") == datetime(2026, 3, 1, 12, tzinfo=UTC)
    for bad, parse in (("Decision", parse_output), (":x", parse_output), ("Decision:", parse_fired),
                       ("D:[1,2]", parse_output)):
        with pytest.raises(QueryError):
            parse(bad)
    with pytest.raises(QueryError) as refused:
        parse_time("yesterday", "end")
    assert refused.value.parameter == "end"


def test_key_and_time_pages_are_read_from_the_index(engine: Engine) -> None:
    """A page of a key's records in a time range walks the (model_key, created_at) index in order
    and stops after the page, instead of sorting every record of the key."""
    write_records(engine, [{"at": T0 + timedelta(minutes=i), "key": f"k{i % 3}"} for i in range(300)], batch=100)
    query = _compiled_query(engine, key="k1", start=T0, end=T0 + timedelta(days=1))
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.exec_driver_sql("ANALYZE decision_records")
            connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
            connection.exec_driver_sql("SET LOCAL enable_bitmapscan = off")
            plan = "\n".join(r[0] for r in connection.exec_driver_sql("EXPLAIN " + query))
            # Either index on created_at gives the order; only ties are sorted (Incremental Sort).
            assert "Index Scan Backward using ix_decision_records_" in plan, plan
            assert not any(line.strip().startswith("->  Sort") for line in plan.splitlines()), plan
        else:
            plan = "\n".join(str(r[-1]) for r in connection.exec_driver_sql("EXPLAIN QUERY PLAN " + query))
            assert "ix_decision_records_key_created" in plan, plan
            assert "USE TEMP B-TREE FOR ORDER BY" not in plan, plan


def _compiled_query(engine: Engine, **filters: Any) -> str:
    """The SQL `query_records` runs, with its parameters written in (to EXPLAIN it)."""
    seen: list[str] = []

    def capture(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        if "FROM decision_records" in statement and "LIMIT" in statement:
            seen.append(context.compiled.statement.compile(dialect=engine.dialect,
                                                           compile_kwargs={"literal_binds": True}).string)

    sa.event.listen(engine, "before_cursor_execute", capture)
    try:
        query_records(engine, limit=10, **filters)
    finally:
        sa.event.remove(engine, "before_cursor_execute", capture)
    assert seen
    return seen[-1]
