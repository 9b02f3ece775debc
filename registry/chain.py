"""The decision records' hash chain: editing, removing or reordering a record shows.

Every record belongs to a chain and has a place in it (`chain_seq`, from 1). It carries the hash
of the record before it (`prev_hash`; the first record of a chain carries the chain's genesis
hash) and its own hash (`record_hash`), SHA-256 over its canonical JSON: every stored field and
its link, so changing any field, or moving a record to another place, breaks the hash of that
record or the link of the next one.

Who appends to which chain:
- the service's record writer (api/record_writer.py) owns a chain of its own: one thread per
  worker process writes its records in order, so it keeps the chain's head in memory
  (`WriterChain`) and links each group commit's rows before they are written, in the same
  statement or transaction. A failed commit does not advance the head.
- every other writer (records written in a caller's transaction by `record_decision`: calls with
  an idempotency key, batches, workflow steps) appends to the shared chain `SESSION_CHAIN`. Its
  head is read inside the committing transaction, under the database's lock for that chain
  (SQLite's single writer; a transaction-scoped advisory lock on PostgreSQL), so concurrent
  transactions of any process link one after another, and a rollback leaves no gap.

The head is also appended to `record_chain_heads`: by the shared chain at each commit, by a
writer's chain at most every second and when the writer stops. Removing the newest records of a
chain shows against it, except records written after the last head stored (at most the last
second before a crash). Like everything in the database, the heads can themselves be removed
by whoever can write to it: `decisionary audit verify` prints each chain's head, to keep
elsewhere and compare later. `verify` walks every chain and names the first broken link.
Retention (registry/retention.py) removes a chain's oldest records and leaves a checkpoint with
the hash the chain continues from.
"""

from __future__ import annotations

import hashlib
import json
import zlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

from registry.ids import new_ulid
from registry.tables import DecisionRecordRow, RecordChainHeadRow, RecordCheckpointRow, utcnow

RECORDS = DecisionRecordRow.__table__  # type: ignore[attr-defined]
HEADS = RecordChainHeadRow.__table__  # type: ignore[attr-defined]
CHECKPOINTS = RecordCheckpointRow.__table__  # type: ignore[attr-defined]

SESSION_CHAIN = "0" * 26  # the shared chain of records written in callers' transactions

# The stored fields a record's hash covers, besides its link (chain_id, chain_seq, prev_hash).
HASHED = ("id", "model_key", "version", "content_hash", "alias", "inputs", "outputs", "fired", "fired_ids",
          "problems", "latency_us", "caller", "idempotency_key", "request_hash", "created_at", "business_key",
          "arm", "shadow_of")  # and "reasons" when there are any: see record_hash
_LINKED = (*HASHED, "chain_id", "chain_seq", "prev_hash")

_PENDING = "decisionary.unchained_records"


def genesis(chain_id: str) -> str:
    """The `prev_hash` of a chain's first record."""
    return hashlib.sha256(f"decisionary record chain {chain_id}".encode()).hexdigest()


def canonical_json(fields: Mapping[str, Any]) -> bytes:
    """The bytes a record's hash is taken over: JSON with sorted keys and no spaces, UTF-8.

    orjson writes this several times faster than the standard library, which matters on the
    service's write path. A record holding an integer beyond 64 bits (which orjson refuses) is
    written by the standard library instead; which of the two applies depends only on the data,
    so a record is always hashed the same way when it is verified. Its form is part of the
    stored evidence: changing it needs a new kind of chain, never a silent switch."""
    try:
        return orjson.dumps(fields, option=orjson.OPT_SORT_KEYS)
    except TypeError:
        return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                          allow_nan=False).encode()


def record_hash(row: Mapping[str, Any]) -> str:
    """SHA-256 of a record's canonical JSON, link included.

    Reason codes, kept since revision 0005, are covered when a record has some: a record
    without any (stored as {} or NULL) hashes as records written before that revision did."""
    fields = {name: row.get(name) for name in _LINKED}
    if row.get("reasons"):
        fields["reasons"] = row["reasons"]
    created = fields["created_at"]  # the only field that is not JSON data already
    if isinstance(created, datetime):
        fields["created_at"] = created.astimezone(UTC).isoformat()
    return hashlib.sha256(canonical_json(fields)).hexdigest()


def link(rows: Sequence[dict[str, Any]], chain_id: str, seq: int, head: str) -> tuple[int, str]:
    """Give `rows` (record rows as dicts, in order) their places after (seq, head) in the chain;
    returns the new head."""
    for row in rows:
        seq += 1
        row["chain_id"] = chain_id
        row["chain_seq"] = seq
        row["prev_hash"] = head
        head = row["record_hash"] = record_hash(row)
    return seq, head


@dataclass
class WriterChain:
    """A chain with one appender (the record writer's thread), its head kept in memory."""

    id: str = field(default_factory=new_ulid)
    seq: int = 0
    head: str = ""

    def __post_init__(self) -> None:
        self.head = self.head or genesis(self.id)

    def link(self, rows: Sequence[dict[str, Any]]) -> tuple[int, str, dict[str, Any]]:
        """Link `rows` after the head without moving it; returns (seq, head, the head row to store
        with them). Call `advance(seq, head)` once they are committed."""
        seq, head = link(rows, self.id, self.seq, self.head)
        return seq, head, {"chain_id": self.id, "seq": seq, "hash": head, "at": utcnow()}

    def advance(self, seq: int, head: str) -> None:
        self.seq, self.head = seq, head


# Records written in a caller's session: linked when that session commits -----------------------

def chain_on_commit(session: Session, row: DecisionRecordRow) -> None:
    """Have `row` (added to `session`) linked into the shared chain when the session commits."""
    session.info.setdefault(_PENDING, []).append(row.id)


@event.listens_for(Session, "before_commit")
def _link_pending(session: Session) -> None:
    pending: list[str] | None = session.info.pop(_PENDING, None)
    if not pending:
        return
    session.flush()
    connection = session.connection()
    _lock_chain(connection, SESSION_CHAIN)
    seq, head = _stored_head(connection, SESSION_CHAIN)
    rows = [dict(row._mapping) for row in connection.execute(
        sa.select(RECORDS).where(RECORDS.c.id.in_(pending)))]
    order = {record_id: i for i, record_id in enumerate(pending)}
    if not rows:  # rolled back with a savepoint (an idempotent request that lost its race)
        return
    rows.sort(key=lambda row: order[row["id"]])
    seq, head = link(rows, SESSION_CHAIN, seq, head)
    connection.execute(
        RECORDS.update().where(RECORDS.c.id == sa.bindparam("record_id")).values(
            chain_id=sa.bindparam("chain_id"), chain_seq=sa.bindparam("chain_seq"),
            prev_hash=sa.bindparam("prev_hash"), record_hash=sa.bindparam("record_hash")),
        [{"record_id": row["id"], "chain_id": row["chain_id"], "chain_seq": row["chain_seq"],
          "prev_hash": row["prev_hash"], "record_hash": row["record_hash"]} for row in rows])
    connection.execute(HEADS.insert().values(chain_id=SESSION_CHAIN, seq=seq, hash=head, at=utcnow()))


def append_shared(connection: Connection, rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Link `rows` (record rows as dicts, not yet written) after the shared chain's head, in the
    caller's write transaction, which must insert them with the head row returned (one part of
    a bulk insert). For many records at once: no per-row read back and update as for records
    written one by one (`chain_on_commit`)."""
    _lock_chain(connection, SESSION_CHAIN)
    seq, head = _stored_head(connection, SESSION_CHAIN)
    seq, head = link(rows, SESSION_CHAIN, seq, head)
    return {"chain_id": SESSION_CHAIN, "seq": seq, "hash": head, "at": utcnow()}


def _lock_chain(connection: Connection, chain_id: str) -> None:
    # SQLite: the flush above already holds the database's single write lock.
    if connection.dialect.name == "postgresql":
        connection.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"),
                           {"k": zlib.crc32(f"chain:{chain_id}".encode()) - 2**31})


def _stored_head(connection: Connection, chain_id: str) -> tuple[int, str]:
    found = connection.execute(
        sa.select(HEADS.c.seq, HEADS.c.hash).where(HEADS.c.chain_id == chain_id)
        .order_by(HEADS.c.seq.desc()).limit(1)).first()
    return (int(found.seq), str(found.hash)) if found is not None else (0, genesis(chain_id))


# Verification -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class BrokenLink:
    chain_id: str
    seq: int
    record_id: str | None
    problem: str

    def __str__(self) -> str:
        where = f"record {self.record_id}" if self.record_id else "no record"
        return f"chain {self.chain_id}, place {self.seq} ({where}): {self.problem}"


@dataclass
class Verification:
    chains: int = 0
    records: int = 0
    unchained: int = 0  # records without a place in any chain (written before chaining existed)
    broken: list[BrokenLink] = field(default_factory=list)
    heads: dict[str, tuple[int, str]] = field(default_factory=dict)  # chain -> (seq, hash) verified

    @property
    def ok(self) -> bool:
        return not self.broken

    @property
    def first_broken(self) -> BrokenLink | None:
        return self.broken[0] if self.broken else None


def verify(engine: Engine, *, chain_ids: Sequence[str] | None = None, batch: int = 5000,
           progress: Callable[[int], None] | None = None) -> Verification:
    """Walk every chain (or those named) and report the first broken link of each."""
    result = Verification()
    # A read transaction: on SQLite it does not take the write lock the service needs.
    with engine.execution_options(decisionary_read_only=True).connect() as connection:
        chains = list(chain_ids) if chain_ids is not None else _chain_ids(connection)
        result.unchained = int(connection.execute(
            sa.select(sa.func.count()).select_from(RECORDS).where(RECORDS.c.chain_id.is_(None))).scalar_one())
        for chain_id in chains:
            result.chains += 1
            broken = _verify_chain(connection, chain_id, result, batch, progress)
            if broken is not None:
                result.broken.append(broken)
    return result


def _chain_ids(connection: Connection) -> list[str]:
    found: set[str] = set()
    for table in (RECORDS, HEADS, CHECKPOINTS):
        column = table.c.chain_id
        found.update(r[0] for r in connection.execute(sa.select(column).where(column.is_not(None)).distinct()))
    return sorted(found)


def _verify_chain(connection: Connection, chain_id: str, result: Verification, batch: int,
                  progress: Callable[[int], None] | None) -> BrokenLink | None:
    checkpoint = connection.execute(
        sa.select(CHECKPOINTS.c.up_to_seq, CHECKPOINTS.c.last_hash).where(CHECKPOINTS.c.chain_id == chain_id)
        .order_by(CHECKPOINTS.c.up_to_seq.desc()).limit(1)).first()
    seq, head = (int(checkpoint.up_to_seq), str(checkpoint.last_hash)) if checkpoint else (0, genesis(chain_id))
    for row in _chain_rows(connection, chain_id, batch):
        result.records += 1
        if progress is not None and result.records % 100_000 == 0:
            progress(result.records)
        place = int(row["chain_seq"])
        if place <= seq:
            return BrokenLink(chain_id, place, row["id"], f"place {place} repeats or precedes place {seq}: "
                              "records were reordered or copied")
        if place != seq + 1:
            return BrokenLink(chain_id, seq + 1, None, f"records at places {seq + 1}..{place - 1} are missing "
                              f"(the next record, {row['id']}, is at place {place})")
        if row["prev_hash"] != head:
            return BrokenLink(chain_id, place, row["id"], "its link does not match the record before it: "
                              "a record before it was changed, or records were reordered")
        if record_hash(row) != row["record_hash"]:
            return BrokenLink(chain_id, place, row["id"], "its content does not match its hash: the record "
                              "was changed")
        seq, head = place, row["record_hash"]
    newest = connection.execute(
        sa.select(HEADS.c.seq, HEADS.c.hash).where(HEADS.c.chain_id == chain_id)
        .order_by(HEADS.c.seq.desc()).limit(1)).first()
    if newest is not None and int(newest.seq) > seq:
        return BrokenLink(chain_id, seq + 1, None, f"the chain was committed up to place {newest.seq}, but "
                          f"its records end at place {seq}: the newest records were removed")
    if newest is not None and int(newest.seq) == seq and newest.hash != head:
        return BrokenLink(chain_id, seq, None, "the newest record's hash differs from the one committed")
    result.heads[chain_id] = (seq, head)
    return None


def _chain_rows(connection: Connection, chain_id: str, batch: int) -> Iterator[dict[str, Any]]:
    # Keyset pagination by place: constant memory on chains of any length.
    after = -1
    while True:
        rows = connection.execute(
            sa.select(RECORDS).where(RECORDS.c.chain_id == chain_id, RECORDS.c.chain_seq > after)
            .order_by(RECORDS.c.chain_seq).limit(batch)).mappings().all()
        if not rows:
            return
        for row in rows:
            yield dict(row)
        after = int(rows[-1]["chain_seq"])

