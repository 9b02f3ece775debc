"""Retention: remove decision records older than a cutoff and leave every chain verifiable.

A chain (registry/chain.py) can only lose records from its start: per chain, retention removes
the longest prefix (by place, after the chain's latest checkpoint) whose records are all older
than the cutoff, have no workflow run still active (ready, waiting) and no review task still
open or claimed. The first record that is newer, or still in use, is kept with everything after
it. Before removing a record retention checks its link and hash as `verify` does, and stops at a
broken link: evidence of tampering is never removed.

In one transaction per chain (per `per_transaction` records on long prefixes) it deletes the
records' dependents (DEPENDENTS, children first), the records, the chain's head rows at or
before the removed places (except the newest, which `verify` compares the chain's end with), and
appends a checkpoint: the last removed place and hash (the next record's link), how many were
removed and the SHA-256 over their hashes in order. `verify` then starts the chain from there,
and a record missing after it is still a gap. Records without a chain that are older than the
cutoff (and not in use) are removed too, and counted apart. Stored answers of idempotent
batches (registry/idempotency.py) older than the cutoff go as well: they repeat their records'
ids and outputs.

This module stays below the execution layer: it names the execution tables it clears by their
SQL names only (their FOREIGN KEYs on decision_records are in migration 0002).
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from registry.chain import CHECKPOINTS, HEADS, RECORDS, genesis, record_hash
from registry.tables import IdempotencyRow, IdempotentBatchRow, UTCDateTime, utcnow

IDEMPOTENCY = IdempotencyRow.__table__  # type: ignore[attr-defined]
BATCHES = IdempotentBatchRow.__table__  # type: ignore[attr-defined]
RUNS = sa.table("workflow_runs", sa.column("id", sa.String), sa.column("decision_id", sa.String),
                sa.column("state", sa.String))
ATTEMPTS = sa.table("step_attempts", sa.column("run_id", sa.String))
TASKS = sa.table("review_tasks", sa.column("id", sa.String), sa.column("run_id", sa.String),
                 sa.column("decision_id", sa.String), sa.column("state", sa.String))
OVERRIDES = sa.table("decision_overrides", sa.column("decision_id", sa.String), sa.column("task_id", sa.String))

ACTIVE_RUN_STATES = ("ready", "waiting")  # execution.tables.ACTIVE_RUN_STATES
OPEN_TASK_STATES = ("open", "claimed")
# Every foreign key that points at a removed row, as (table, column -> the table it points at).
DEPENDENTS = (("step_attempts", "run_id", "workflow_runs"), ("decision_overrides", "task_id", "review_tasks"),
              ("decision_overrides", "decision_id", "decision_records"), ("review_tasks", "run_id", "workflow_runs"),
              ("review_tasks", "decision_id", "decision_records"),
              ("workflow_runs", "decision_id", "decision_records"),
              ("idempotency_keys", "record_id", "decision_records"))

_IN_BATCH = 500  # ids per IN (...) list


@dataclass
class ChainRetention:
    """What retention removed (or would remove) from one chain."""

    chain_id: str
    removed: int = 0
    up_to_seq: int = 0  # the chain now starts after this place
    kept_from: int | None = None  # the first place kept, None when nothing is left after the prefix
    reason: str = ""  # why the prefix ends there
    checkpoints: int = 0


@dataclass
class RetentionSummary:
    cutoff: datetime
    dry_run: bool
    chains: list[ChainRetention] = field(default_factory=list)
    unchained: int = 0  # records without a chain removed
    kept_in_use: int = 0  # records without a chain that are old enough but still in use
    dependents: dict[str, int] = field(default_factory=dict)  # table -> rows removed with the records

    @property
    def removed(self) -> int:
        return sum(chain.removed for chain in self.chains) + self.unchained

    def __str__(self) -> str:
        verb = "would remove" if self.dry_run else "removed"
        text = (f"{verb} {self.removed:,} records older than {self.cutoff.isoformat()}: "
                f"{self.removed - self.unchained:,} from {sum(1 for c in self.chains if c.removed)} chain(s), "
                f"{self.unchained:,} without a chain")
        extra = ", ".join(f"{n:,} {table}" for table, n in sorted(self.dependents.items()) if n)
        return text + (f" (and {extra})" if extra else "")


def remove_older_than(engine: Engine, cutoff: datetime, *, by: str, dry_run: bool = False,
                      batch: int = 1000, per_transaction: int = 50_000) -> RetentionSummary:
    """Remove what is older than `cutoff` as the module docstring says; `by` is who asked, kept
    on each checkpoint. With `dry_run` nothing changes and the summary says what would go."""
    if cutoff.tzinfo is None:
        raise ValueError("the cutoff must be an aware datetime")
    if not by:
        raise ValueError("retention needs who runs it (`by`)")
    summary = RetentionSummary(cutoff, dry_run)
    for chain_id in _chains_with_old_records(engine, cutoff):
        summary.chains.append(_retain_chain(engine, chain_id, cutoff, by, dry_run, batch, per_transaction,
                                            summary.dependents))
    _retain_unchained(engine, cutoff, dry_run, batch, summary)
    _remove_batch_answers(engine, cutoff, dry_run, summary)
    return summary


def _remove_batch_answers(engine: Engine, cutoff: datetime, dry_run: bool, summary: RetentionSummary) -> None:
    old = BATCHES.c.created_at < sa.bindparam("cutoff", cutoff, type_=UTCDateTime)
    with engine.begin() as connection:
        if dry_run:
            count = connection.execute(sa.select(sa.func.count()).select_from(BATCHES).where(old)).scalar_one()
        else:
            count = connection.execute(BATCHES.delete().where(old)).rowcount
    if count:
        summary.dependents["idempotent_batches"] = summary.dependents.get("idempotent_batches", 0) + int(count)


def _chains_with_old_records(engine: Engine, cutoff: datetime) -> list[str]:
    with engine.execution_options(decisionary_read_only=True).connect() as connection:
        return sorted(r[0] for r in connection.execute(
            sa.select(RECORDS.c.chain_id).where(RECORDS.c.created_at < cutoff, RECORDS.c.chain_id.is_not(None))
            .distinct()))


def _retain_chain(engine: Engine, chain_id: str, cutoff: datetime, by: str, dry_run: bool, batch: int,
                  per_transaction: int, dependents: dict[str, int]) -> ChainRetention:
    result = ChainRetention(chain_id)
    while True:
        with engine.begin() as connection:
            _lock(connection, chain_id)
            seq, head = _checkpoint(connection, chain_id)
            if result.checkpoints == 0:
                result.up_to_seq = seq
            removable: list[tuple[str, str]] = []  # (id, record_hash), in place order
            walk = _prefix(connection, chain_id, seq, head, cutoff, batch, dry_run, result)
            for record_id, place, hashed in walk:
                removable.append((record_id, hashed))
                seq = place
                if not dry_run and len(removable) >= per_transaction:
                    result.reason = ""
                    break
            if not removable:
                return result
            result.removed += len(removable)
            result.up_to_seq = seq
            if dry_run:
                return result
            ids = [record_id for record_id, _ in removable]
            _remove(connection, ids, dependents)
            _trim_heads(connection, chain_id, seq)
            digest = hashlib.sha256("".join(hashed for _, hashed in removable).encode()).hexdigest()
            connection.execute(CHECKPOINTS.insert().values(
                chain_id=chain_id, up_to_seq=seq, last_hash=removable[-1][1], removed=len(removable),
                removed_digest=digest, older_than=cutoff, at=utcnow(), by=by))
            result.checkpoints += 1
        if result.reason:
            return result


def _prefix(connection: Connection, chain_id: str, seq: int, head: str, cutoff: datetime, batch: int,
            dry_run: bool, result: ChainRetention) -> Iterator[tuple[str, int, str]]:
    """The records of the chain's removable prefix, after place `seq` (whose hash is `head`):
    (id, place, hash), checked link by link. Sets `result.reason` and `kept_from` where it ends."""
    result.reason, result.kept_from = "no records are left after it", None
    while True:
        found = connection.execute(
            sa.select(RECORDS).where(RECORDS.c.chain_id == chain_id, RECORDS.c.chain_seq > seq)
            .order_by(RECORDS.c.chain_seq).limit(batch)).mappings().all()
        rows = [dict(row) for row in found]
        if not rows:
            return
        in_use = _in_use(connection, [row["id"] for row in rows], lock=not dry_run)
        for row in rows:
            place = int(row["chain_seq"])
            stop = None
            if row["created_at"] >= cutoff:
                stop = "it is not older than the cutoff"
            elif row["id"] in in_use:
                stop = in_use[row["id"]]
            elif place != seq + 1:
                stop = f"places {seq + 1}..{place - 1} are missing: verify the chain"
            elif row["prev_hash"] != head or record_hash(row) != row["record_hash"]:
                stop = "its link or hash is broken: verify the chain"
            if stop is not None:
                result.reason, result.kept_from = f"place {place} is kept: {stop}", place
                return
            yield row["id"], place, row["record_hash"]
            seq, head = place, row["record_hash"]


def _in_use(connection: Connection, ids: Sequence[str], *, lock: bool) -> dict[str, str]:
    """Records among `ids` with an active workflow run or an open review task -> why they stay.
    On PostgreSQL the runs and tasks are locked until the removal commits, so a run retried
    meanwhile cannot lose its record."""
    lock = lock and connection.dialect.name == "postgresql"
    found: dict[str, str] = {}
    for part in _parts(ids):
        runs = sa.select(RUNS.c.decision_id, RUNS.c.state).where(RUNS.c.decision_id.in_(part))
        tasks = sa.select(TASKS.c.decision_id, TASKS.c.state).where(TASKS.c.decision_id.in_(part))
        for row in connection.execute(runs.with_for_update() if lock else runs):
            if row.state in ACTIVE_RUN_STATES:
                found.setdefault(row.decision_id, f"a workflow run of it is still {row.state}")
        for row in connection.execute(tasks.with_for_update() if lock else tasks):
            if row.state in OPEN_TASK_STATES:
                found.setdefault(row.decision_id, f"a review task of it is still {row.state}")
    return found


def _remove(connection: Connection, ids: Sequence[str], dependents: dict[str, int]) -> None:
    """Delete the records `ids` and every row that refers to them, children first."""
    def count(table: str, deleted: Any) -> None:
        dependents[table] = dependents.get(table, 0) + max(0, int(deleted.rowcount or 0))

    for part in _parts(ids):
        runs = [r[0] for r in connection.execute(sa.select(RUNS.c.id).where(RUNS.c.decision_id.in_(part)))]
        tasks = [r[0] for r in connection.execute(sa.select(TASKS.c.id).where(
            sa.or_(TASKS.c.decision_id.in_(part), TASKS.c.run_id.in_(runs))))]
        for run_part in _parts(runs):
            count("step_attempts", connection.execute(ATTEMPTS.delete().where(ATTEMPTS.c.run_id.in_(run_part))))
        count("decision_overrides", connection.execute(OVERRIDES.delete().where(OVERRIDES.c.decision_id.in_(part))))
        for task_part in _parts(tasks):
            count("decision_overrides", connection.execute(
                OVERRIDES.delete().where(OVERRIDES.c.task_id.in_(task_part))))
            count("review_tasks", connection.execute(TASKS.delete().where(TASKS.c.id.in_(task_part))))
        for run_part in _parts(runs):
            count("workflow_runs", connection.execute(RUNS.delete().where(RUNS.c.id.in_(run_part))))
        count("idempotency_keys", connection.execute(IDEMPOTENCY.delete().where(IDEMPOTENCY.c.record_id.in_(part))))
        connection.execute(RECORDS.delete().where(RECORDS.c.id.in_(part)))


def _trim_heads(connection: Connection, chain_id: str, up_to_seq: int) -> None:
    newest = connection.execute(
        sa.select(HEADS.c.id).where(HEADS.c.chain_id == chain_id)
        .order_by(HEADS.c.seq.desc(), HEADS.c.id.desc()).limit(1)).scalar()
    connection.execute(HEADS.delete().where(HEADS.c.chain_id == chain_id, HEADS.c.seq <= up_to_seq,
                                            HEADS.c.id != newest))


def _retain_unchained(engine: Engine, cutoff: datetime, dry_run: bool, batch: int,
                      summary: RetentionSummary) -> None:
    after: tuple[datetime, str] | None = None
    while True:
        with engine.begin() as connection:
            # Keyset pages in the order of the created_at index, which the cutoff already uses
            # (SQLite, without statistics, would rather sort every unchained record per page).
            unchained = (sa.func.coalesce(RECORDS.c.chain_id, "") == "" if connection.dialect.name == "sqlite"
                         else RECORDS.c.chain_id.is_(None))
            query = sa.select(RECORDS.c.id, RECORDS.c.created_at).where(unchained, RECORDS.c.created_at < cutoff)
            if after is not None:
                query = query.where(sa.tuple_(RECORDS.c.created_at, RECORDS.c.id) > sa.tuple_(
                    sa.bindparam("after_at", after[0], type_=UTCDateTime),
                    sa.bindparam("after_id", after[1], type_=sa.String)))
            rows = connection.execute(query.order_by(RECORDS.c.created_at, RECORDS.c.id).limit(batch)).all()
            if not rows:
                return
            after = (rows[-1].created_at, rows[-1].id)
            ids = [row.id for row in rows]
            in_use = _in_use(connection, ids, lock=not dry_run)
            removable = [record_id for record_id in ids if record_id not in in_use]
            summary.kept_in_use += len(ids) - len(removable)
            summary.unchained += len(removable)
            if not dry_run and removable:
                _remove(connection, removable, summary.dependents)


def _checkpoint(connection: Connection, chain_id: str) -> tuple[int, str]:
    found = connection.execute(
        sa.select(CHECKPOINTS.c.up_to_seq, CHECKPOINTS.c.last_hash).where(CHECKPOINTS.c.chain_id == chain_id)
        .order_by(CHECKPOINTS.c.up_to_seq.desc()).limit(1)).first()
    return (int(found.up_to_seq), str(found.last_hash)) if found is not None else (0, genesis(chain_id))


def _lock(connection: Connection, chain_id: str) -> None:
    # Two retention runs on one chain would both start from the same checkpoint. SQLite's
    # transactions here already hold its single write lock (BEGIN IMMEDIATE).
    if connection.dialect.name == "postgresql":
        connection.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"),
                           {"k": zlib.crc32(f"retention:{chain_id}".encode()) - 2**31})


def _parts(ids: Sequence[str]) -> Iterator[Sequence[str]]:
    for begin in range(0, len(ids), _IN_BATCH):
        yield ids[begin:begin + _IN_BATCH]
