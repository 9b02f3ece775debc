"""Parquet export by day (read back and compared with the database, re-exports replace a day) and
retention (a removed prefix per chain, a checkpoint that verify continues from, records in use
kept, nothing changed by a dry run), with the CLI commands over them, on both databases."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow.dataset as ds
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from api.cli import app
from audit.export import export_records
from execution.tables import ACTIVE_RUN_STATES, AttemptRow, OverrideRow
from registry import record_decision, unit_of_work
from registry.chain import CHECKPOINTS, RECORDS, SESSION_CHAIN, WriterChain, verify
from registry.ids import new_ulid
from registry.retention import ACTIVE_RUN_STATES as RETENTION_ACTIVE_STATES
from registry.retention import DEPENDENTS, remove_older_than
from registry.tables import IdempotencyRow, IdempotentBatchRow
from registry.views import DecisionRecord
from tests.audit.test_log import T0, add_run, add_task, write_records

CUTOFF = T0 + timedelta(days=10)
runner = CliRunner()


def _db_rows(engine: Engine, sql: str, **params: Any) -> list[Any]:
    with engine.connect() as connection:
        return list(connection.execute(sa.text(sql), params))


def _count(engine: Engine, table: str) -> int:
    return int(_db_rows(engine, f"SELECT count(*) FROM {table}")[0][0])


def _ids(engine: Engine) -> set[str]:
    return {r[0] for r in _db_rows(engine, "SELECT id FROM decision_records")}


def _daily(engine: Engine, chain: WriterChain | None = None, days: int = 20, per_day: int = 2,
           key: str = "loan-approval") -> list[DecisionRecord]:
    return write_records(engine, [
        {"at": T0 + timedelta(days=d, hours=3 + 9 * i), "key": key, "outputs": {"Decision": "Approve", "n": d},
         "fired": {"Decision": [1 + i]}, "fired_ids": {"Decision": [f"rule-{1 + i}"]}, "business_key": f"b{d}",
         "arm": "challenger" if i else None, "caller": "svc"}
        for d in range(days) for i in range(per_day)], chain, batch=3)


def _unchained(engine: Engine, at: datetime) -> str:
    record_id = new_ulid()
    with engine.begin() as connection:
        connection.execute(RECORDS.insert().values(
            id=record_id, model_key="old", version=1, content_hash="ef" * 32, inputs={}, outputs={}, fired={},
            problems=[], latency_us=1, created_at=at))
    return record_id


def _snapshot(engine: Engine) -> dict[str, Any]:
    tables = ("decision_records", "record_chain_heads", "record_checkpoints", "workflow_runs", "step_attempts",
              "review_tasks", "decision_overrides", "idempotency_keys")
    return {table: sorted(tuple(str(v) for v in row) for row in _db_rows(engine, f"SELECT * FROM {table}"))
            for table in tables}


# --- export -------------------------------------------------------------------------------------

def _read_back(folder: Path) -> dict[str, dict[str, Any]]:
    table = ds.dataset(folder, format="parquet", partitioning="hive").to_table()
    return {row["id"]: row for row in table.to_pylist()}


def _assert_exported(engine: Engine, exported: dict[str, dict[str, Any]], ids: set[str]) -> None:
    assert set(exported) == ids
    with engine.connect() as connection:
        rows = connection.execute(sa.select(RECORDS).where(RECORDS.c.id.in_(ids))).mappings().all()
    for row in rows:
        got = exported[row["id"]]
        assert got["created_at"] == row["created_at"]
        assert str(got["date"]) == row["created_at"].date().isoformat()
        for name in ("model_key", "version", "alias", "arm", "caller", "business_key", "latency_us", "shadow_of",
                     "chain_id", "chain_seq", "record_hash"):
            assert got[name] == row[name], name
        for name in ("inputs", "outputs", "fired", "fired_ids", "problems"):
            assert (None if got[name] is None else json.loads(got[name])) == row[name], name


def test_export_writes_one_folder_per_day_and_reads_back_as_stored(engine: Engine, tmp_path: Path) -> None:
    records = _daily(engine, days=4, per_day=3) + _daily(engine, days=2, key="pricing")
    with unit_of_work(engine) as session:
        extra = record_decision(session, key="loan-approval", version=2, content_hash="cd" * 32,
                                inputs={"Name": "Zoë", "Amount": 1.5}, outputs={"Decision": None},
                                problems=[{"message": "m", "severity": "warning"}], latency_us=3,
                                created_at=T0 + timedelta(days=1, hours=23, minutes=59))
    out = tmp_path / "export"
    summary = export_records(engine, out, chunk=4, rows_per_file=5)
    assert summary.records == len(records) + 1
    assert summary.days == {"2026-01-01": 5, "2026-01-02": 6, "2026-01-03": 3, "2026-01-04": 3}
    assert (out / "date=2026-01-02" / "part-0.parquet").is_file()
    assert (out / "date=2026-01-02" / "part-1.parquet").is_file()  # 6 rows, at most 5 a file
    assert sorted(p.name for p in out.iterdir()) == [f"date=2026-01-0{d}" for d in range(1, 5)]
    _assert_exported(engine, _read_back(out), {r.id for r in records} | {extra.id})


def test_exporting_a_day_again_replaces_it(engine: Engine, tmp_path: Path) -> None:
    _daily(engine, days=3)
    out = tmp_path / "export"
    export_records(engine, out, key="loan-approval")
    later = write_records(engine, [{"at": T0 + timedelta(days=1, hours=20)}])
    # From mid-day: the whole day is written again, and only that day.
    summary = export_records(engine, out, key="loan-approval", start=T0 + timedelta(days=1, hours=12),
                             end=T0 + timedelta(days=1, hours=13))
    assert summary.days == {"2026-01-02": 3}
    exported = _read_back(out)
    assert later[0].id in exported
    _assert_exported(engine, exported, _ids(engine))
    assert sum(1 for _ in out.glob("date=*/*.parquet")) == 3
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no staging left behind
    nothing = export_records(engine, tmp_path / "empty", key="no-such-key")
    assert nothing.records == 0 and "no records" in str(nothing)


# --- retention ----------------------------------------------------------------------------------

def test_retention_removes_each_chains_old_prefix_and_verify_still_passes(engine: Engine) -> None:
    chain = WriterChain()
    records = _daily(engine, chain)  # 40 records over 20 days, linked in commits of 3
    other_chain = WriterChain()
    _daily(engine, other_chain, days=5, key="pricing")  # a chain wholly older than the cutoff
    unchained_old, unchained_new = _unchained(engine, T0), _unchained(engine, CUTOFF + timedelta(days=1))
    old = [r for r in records if r.created_at < CUTOFF]
    assert len(old) == 20
    # Dependents of an old record, finished with: all go with it.
    run = add_run(engine, old[3].id, "done")
    task = add_task(engine, old[3].id, run, "decided", "override")
    with engine.begin() as connection:
        connection.execute(AttemptRow.__table__.insert().values(  # type: ignore[attr-defined]
            run_id=run, step_index=0, step_name="review", kind="review", attempt=1, worker="w", started_at=T0,
            finished_at=T0, duration_ms=1.0, outcome="ok"))
        connection.execute(OverrideRow.__table__.insert().values(  # type: ignore[attr-defined]
            decision_id=old[3].id, task_id=task, by="ana", at=T0, reason="why", original={}, override={}))
        connection.execute(IdempotencyRow.__table__.insert().values(  # type: ignore[attr-defined]
            caller="svc", key="k1", request_hash="0" * 64, record_id=old[5].id, created_at=T0))
    kept_run = add_run(engine, records[-1].id, "ready")
    heads_before = _count(engine, "record_chain_heads")

    summary = remove_older_than(engine, CUTOFF, by="ops")

    assert summary.removed == 20 + 10 + 1 and summary.unchained == 1
    assert summary.dependents == {"step_attempts": 1, "decision_overrides": 1, "review_tasks": 1,
                                  "workflow_runs": 1, "idempotency_keys": 1}
    assert _ids(engine) == {r.id for r in records if r.created_at >= CUTOFF} | {unchained_new}
    assert unchained_old not in _ids(engine)
    assert _db_rows(engine, "SELECT id FROM workflow_runs") == [(kept_run,)]
    by_chain = {c.chain_id: c for c in summary.chains}
    assert (by_chain[chain.id].removed, by_chain[chain.id].up_to_seq, by_chain[chain.id].kept_from) == (20, 20, 21)
    checkpoints = _db_rows(engine, "SELECT chain_id, up_to_seq, last_hash, removed, removed_digest, by "
                                   "FROM record_checkpoints ORDER BY up_to_seq DESC")
    mine = next(c for c in checkpoints if c.chain_id == chain.id)
    assert (mine.up_to_seq, mine.removed, mine.by) == (20, 20, "ops")
    next_link = _db_rows(engine, "SELECT prev_hash FROM decision_records WHERE chain_id = :c AND chain_seq = 21",
                         c=chain.id)[0][0]
    assert mine.last_hash == next_link
    # Old head rows went, the newest of every chain stayed.
    assert _count(engine, "record_chain_heads") < heads_before
    newest = _db_rows(engine, "SELECT chain_id, max(seq) FROM record_chain_heads GROUP BY chain_id")
    assert {r[0]: r[1] for r in newest} == {chain.id: 40, other_chain.id: 10}

    result = verify(engine)
    assert result.ok, [str(b) for b in result.broken]
    assert result.records == 20 and result.heads[chain.id][0] == 40
    assert result.heads[other_chain.id][0] == 10  # emptied, and still ends where it was committed

    again = remove_older_than(engine, CUTOFF, by="ops")
    assert again.removed == 0 and _count(engine, "record_checkpoints") == 2


def test_the_digest_covers_the_removed_hashes_in_order(engine: Engine) -> None:
    chain = WriterChain()
    records = _daily(engine, chain, days=4)
    hashes = {r[0]: r[1] for r in _db_rows(engine, "SELECT id, record_hash FROM decision_records")}
    remove_older_than(engine, T0 + timedelta(days=2), by="ops")
    (digest, removed, last), = _db_rows(engine, "SELECT removed_digest, removed, last_hash FROM record_checkpoints")
    removed_records = records[:4]
    assert removed == 4 and last == hashes[removed_records[-1].id]
    assert digest == hashlib.sha256("".join(hashes[r.id] for r in removed_records).encode()).hexdigest()


def test_removing_a_kept_record_after_retention_is_still_detected(engine: Engine) -> None:
    chain = WriterChain()
    records = _daily(engine, chain)
    remove_older_than(engine, CUTOFF, by="ops")
    assert verify(engine).ok
    first_kept = records[20]
    with engine.begin() as connection:
        connection.execute(RECORDS.delete().where(RECORDS.c.id == first_kept.id))
    broken = verify(engine).first_broken
    assert broken is not None and broken.seq == 21 and "missing" in broken.problem
    with engine.begin() as connection:
        connection.execute(RECORDS.delete().where(RECORDS.c.id == records[30].id))
    broken = verify(engine).first_broken
    assert broken is not None and broken.seq == 21  # the first break is still the one named


def test_records_in_use_keep_themselves_and_the_rest_of_their_chain(engine: Engine) -> None:
    assert RETENTION_ACTIVE_STATES == ACTIVE_RUN_STATES
    waiting, claimed = WriterChain(), WriterChain()
    first = _daily(engine, waiting)
    second = _daily(engine, claimed)
    add_run(engine, first[6].id, "waiting")
    run = add_run(engine, second[2].id, "done")
    add_task(engine, second[2].id, run, "claimed")
    in_use_unchained = _unchained(engine, T0)
    add_run(engine, in_use_unchained, "ready")

    summary = remove_older_than(engine, CUTOFF, by="ops")

    by_chain = {c.chain_id: c for c in summary.chains}
    assert (by_chain[waiting.id].removed, by_chain[waiting.id].kept_from) == (6, 7)
    assert "workflow run" in by_chain[waiting.id].reason and "waiting" in by_chain[waiting.id].reason
    assert (by_chain[claimed.id].removed, by_chain[claimed.id].kept_from) == (2, 3)
    assert "review task" in by_chain[claimed.id].reason
    assert summary.unchained == 0 and summary.kept_in_use == 1
    remaining = _ids(engine)
    assert {r.id for r in first[6:]} <= remaining and not {r.id for r in first[:6]} & remaining
    assert {r.id for r in second[2:]} <= remaining and in_use_unchained in remaining
    assert verify(engine).ok


def test_a_dry_run_changes_nothing_and_says_what_a_run_would_do(engine: Engine) -> None:
    _daily(engine, WriterChain())
    records = _daily(engine, WriterChain(), days=12)
    add_run(engine, records[15].id, "ready")
    _unchained(engine, T0)
    with unit_of_work(engine) as session:  # the shared chain of callers' transactions
        record_decision(session, key="k", version=1, content_hash="ab" * 32, inputs={}, outputs={},
                        latency_us=1, created_at=T0)
    before = _snapshot(engine)
    planned = remove_older_than(engine, CUTOFF, by="ops", dry_run=True)
    assert _snapshot(engine) == before
    assert planned.dry_run and "would remove" in str(planned)
    done = remove_older_than(engine, CUTOFF, by="ops")
    assert planned.removed == done.removed == 20 + 15 + 1 + 1
    assert [(c.chain_id, c.removed, c.up_to_seq, c.kept_from) for c in planned.chains] == \
        [(c.chain_id, c.removed, c.up_to_seq, c.kept_from) for c in done.chains]
    assert SESSION_CHAIN in {c.chain_id for c in done.chains}
    assert verify(engine).ok


def test_long_prefixes_are_removed_in_several_checkpointed_transactions(engine: Engine) -> None:
    chain = WriterChain()
    _daily(engine, chain)
    summary = remove_older_than(engine, CUTOFF, by="ops", batch=4, per_transaction=7)
    (only,) = summary.chains
    assert (only.removed, only.checkpoints, only.up_to_seq) == (20, 3, 20)
    assert [r[0] for r in _db_rows(engine, "SELECT up_to_seq FROM record_checkpoints ORDER BY id")] == [7, 14, 20]
    assert verify(engine).ok
    later = remove_older_than(engine, CUTOFF + timedelta(days=5), by="ops")
    assert later.removed == 10 and verify(engine).ok


def test_a_tampered_old_record_is_never_removed(engine: Engine) -> None:
    chain = WriterChain()
    records = _daily(engine, chain)
    with engine.begin() as connection:
        connection.execute(RECORDS.update().where(RECORDS.c.id == records[4].id).values(latency_us=999))
    summary = remove_older_than(engine, CUTOFF, by="ops")
    (only,) = summary.chains
    assert (only.removed, only.kept_from) == (4, 5) and "broken" in only.reason
    broken = verify(engine).first_broken
    assert broken is not None and broken.record_id == records[4].id


def test_stored_batch_answers_older_than_the_cutoff_go_too(engine: Engine) -> None:
    with unit_of_work(engine) as session:
        for key, at in (("old", T0), ("new", CUTOFF + timedelta(days=1))):
            session.add(IdempotentBatchRow(caller="svc", key=key, request_hash="0" * 64,
                                           answer={"results": [{"row": 0, "decision_id": "x"}]}, created_at=at))
    planned = remove_older_than(engine, CUTOFF, by="ops", dry_run=True)
    assert planned.dependents == {"idempotent_batches": 1} and _count(engine, "idempotent_batches") == 2
    done = remove_older_than(engine, CUTOFF, by="ops")
    assert done.dependents == {"idempotent_batches": 1} and "1 idempotent_batches" in str(done)
    assert _db_rows(engine, "SELECT key FROM idempotent_batches") == [("new",)]


def test_retention_clears_every_table_that_refers_to_a_removed_row(engine: Engine) -> None:
    """Read from the migrated database itself: a new foreign key on the records (or on their runs
    and tasks) must be added to retention's list, or retention would fail on it."""
    inspector = sa.inspect(engine)
    found = set()
    for table in inspector.get_table_names():
        for key in inspector.get_foreign_keys(table):
            if key["referred_table"] in ("decision_records", "workflow_runs", "review_tasks"):
                found.add((table, key["constrained_columns"][0], key["referred_table"]))
    assert found == set(DEPENDENTS)


# --- the CLI ----------------------------------------------------------------------------------------

def test_the_audit_commands(engine: Engine, database_url: str, tmp_path: Path) -> None:
    records = _daily(engine, WriterChain())
    db = ["--database-url", database_url]
    verified = runner.invoke(app, ["audit", "verify", *db])
    assert verified.exit_code == 0, verified.output
    assert "ok: 40 records in 1 chains" in verified.stdout

    exported = runner.invoke(app, ["audit", "export", "--out", str(tmp_path / "x"), "--from", "2026-01-03",
                                   "--to", "2026-01-05", *db])
    assert exported.exit_code == 0, exported.output
    assert "exported 4 records of 2 day(s)" in exported.stdout
    assert len(_read_back(tmp_path / "x")) == 4
    bad = runner.invoke(app, ["audit", "export", "--out", str(tmp_path / "y"), "--from", "soon", *db])
    assert bad.exit_code == 2 and "--from" in bad.output

    age = (datetime.now(UTC) - CUTOFF).days
    planned = runner.invoke(app, ["audit", "retain", "--older-than", f"{age}d", "--dry-run", *db])
    assert planned.exit_code == 0, planned.output
    assert "would remove" in planned.stdout and _count(engine, "decision_records") == 40
    retained = runner.invoke(app, ["audit", "retain", "--older-than", f"{age}d", "--by", "ops", *db])
    assert retained.exit_code == 0, retained.output
    assert _count(engine, "decision_records") < 40
    assert runner.invoke(app, ["audit", "verify", *db]).exit_code == 0
    refused = runner.invoke(app, ["audit", "retain", "--older-than", "a year", *db])
    assert refused.exit_code == 2 and "--older-than" in refused.output

    with engine.begin() as connection:
        connection.execute(RECORDS.update().where(RECORDS.c.id == records[-3].id).values(caller="mallory"))
    broken = runner.invoke(app, ["audit", "verify", *db])
    assert broken.exit_code == 1
    assert f"record {records[-3].id}" in broken.stdout and "changed" in broken.stdout


def test_checkpoints_cannot_be_removed(engine: Engine) -> None:
    _daily(engine, WriterChain(), days=12)
    remove_older_than(engine, CUTOFF, by="ops")
    with pytest.raises(sa.exc.DBAPIError), engine.begin() as connection:
        connection.execute(CHECKPOINTS.delete())
    assert _count(engine, "record_checkpoints") == 1
