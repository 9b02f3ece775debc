"""Group commit of decision records: concurrent evaluations share one write transaction.

Every answer waits for its record to be committed (no answer without a record), but a commit
costs far more than an insert: on SQLite each write transaction takes the database's single
write lock, on PostgreSQL each commit waits for a WAL flush. So one thread per worker writes
the records: it takes every record that is waiting, writes them together with their record
hooks' rows (the execution layer's workflow runs: the transactional outbox) in ONE transaction
(on PostgreSQL, one statement: registry/bulk.py), and then wakes the requests. A commit's cost
is mostly fixed (about 0.5 ms of CPU on SQLite, against 0.06 ms per record), so under load
the writer also waits up to `GATHER_S` after the first record for others to join it; a record
arriving after a quiet spell is written at once.

If a batch fails, each of its records is tried again in its own transaction, so one record
that cannot be written fails only its own request (a 503), never its neighbours'.

On SQLite the writer has its own engine whose commits never checkpoint the WAL: a checkpoint
writes pages back into the database file and syncs it, tens of milliseconds that a commit
would otherwise pay every few thousand records, and every request waiting on that commit with
it. A second thread checkpoints in the background instead (PASSIVE: it neither waits for nor
blocks the writers).
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field

from sqlalchemy.engine import Engine
from sqlmodel import Session

from decisions.result import EvaluationResult
from registry import make_engine
from registry.bulk import Rows, write_all
from registry.chain import HEADS, WriterChain
from registry.db import SqliteFileLock, checkpoint
from registry.records import record_rows
from registry.tables import utcnow
from registry.views import DecisionRecord

log = logging.getLogger("decisionary.api")

# Rows to write with the records, in the same statement or transaction: the execution layer
# queues the decisions' actions here (transactional outbox), and they commit together with the
# records or not at all. Each decision comes with its evaluation and the callback URL its request
# named; the session is for reads (a hook must not write with it). A hook that raises fails the
# batch (each record is then tried alone).
Recorded = tuple[DecisionRecord, EvaluationResult, str | None]
RecordHook = Callable[[Session, Sequence[Recorded]], Sequence[Rows]]

MAX_BATCH = 500  # records in one transaction
CHECKPOINT_S = 0.5  # SQLite: how often the background checkpoint runs
HEAD_S = 1.0  # how often the chain's head is stored with a batch
GATHER_S = 0.003  # under load, how long a batch waits for more records before it is written
BUSY_S = 0.02  # "under load": the previous batch was written less than this before


@dataclass
class PendingRecord:
    record: DecisionRecord
    result: EvaluationResult  # for the record hooks (bindings match on the FEEL outputs)
    callback_url: str | None
    done: Future[DecisionRecord] = field(default_factory=Future)


class RecordWriter:
    def __init__(self, engine: Engine, hooks: Sequence[RecordHook], *, chained: bool = True) -> None:
        # An engine of the writer's own, made on first use: on SQLite, one whose commits do not
        # checkpoint (see the module docstring; an in-memory database cannot be shared, so it
        # keeps the service's); on PostgreSQL, one that does not test its connection with a
        # round trip before every batch (a batch that fails is retried on a fresh connection).
        self.sqlite = engine.dialect.name == "sqlite"
        in_memory = self.sqlite and engine.url.database in (None, "", ":memory:")
        self._url = None if in_memory else engine.url
        self.engine = engine
        self._reads = self._readers(engine)
        self.hooks = hooks  # the service's record hooks; read at write time, so later additions count
        self._queue: queue.SimpleQueue[PendingRecord | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._checkpointer: threading.Thread | None = None
        self._stopped = threading.Event()
        self._start_lock = threading.Lock()
        self._turn = SqliteFileLock(engine, "records")
        self.batches = 0
        self.written = 0
        # This writer's hash chain (registry/chain.py), begun in the process that writes. Off only
        # to measure what chaining costs (benchmarks/bench_service.py --chain).
        self.chained = chained
        self.chain: WriterChain | None = None
        self._head_written = (0, 0.0)  # (place, monotonic time) of the chain head last stored

    @staticmethod
    def _readers(engine: Engine) -> Engine:
        """The engine for the hooks' reads (a version's bindings on first use): on SQLite it reads
        without taking the write lock."""
        return engine.execution_options(decisionary_read_only=True)

    async def write(self, pending: PendingRecord) -> DecisionRecord:
        """Queue `pending` and wait until its transaction has committed (or failed)."""
        self._ensure_started()
        self._queue.put(pending)
        return await asyncio.wrap_future(pending.done)

    def close(self) -> None:
        """Write what is queued, then stop the thread."""
        thread = self._thread
        if thread is not None and thread.is_alive():
            self._queue.put(None)
            thread.join(timeout=30)
            self._store_head()
        self._stopped.set()
        if self._checkpointer is not None:
            self._checkpointer.join(timeout=30)
        self._turn.close()
        if self._url is not None and self.engine is not None and self._thread is not None:
            self.engine.dispose()  # closing the last connection checkpoints what is left

    def _ensure_started(self) -> None:
        if self._thread is not None:
            return
        with self._start_lock:
            if self._thread is None:
                # Started on first use, in the process that serves (uvicorn workers are forked
                # or spawned after the app is configured).
                if self._url is not None:
                    self.engine = make_engine(self._url.render_as_string(hide_password=False), pool_size=2,
                                              wal_autocheckpoint=False, pre_ping=False)
                    self._reads = self._readers(self.engine)
                if self._url is not None and self.sqlite:
                    self._checkpointer = threading.Thread(target=self._checkpoint, name="wal-checkpoint",
                                                          daemon=True)
                    self._checkpointer.start()
                if self.chained:
                    self.chain = WriterChain()
                self._thread = threading.Thread(target=self._run, name="decision-records", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        stopping = False
        last_write = 0.0
        while not stopping:
            first = self._queue.get()
            if first is None:
                break
            batch = [first]
            now = time.monotonic()
            deadline = now + GATHER_S if now - last_write < BUSY_S else now
            while len(batch) < MAX_BATCH:
                try:
                    wait = deadline - time.monotonic()
                    item = self._queue.get(timeout=wait) if wait > 0 else self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    stopping = True
                    break
                batch.append(item)
            self._write(batch)
            last_write = time.monotonic()

    def _checkpoint(self) -> None:
        while not self._stopped.wait(CHECKPOINT_S):
            try:
                checkpoint(self.engine)
            except Exception as exc:  # noqa: BLE001 - the next round tries again; commits go on
                log.warning("background WAL checkpoint failed: %s", exc)

    def _write(self, batch: list[PendingRecord]) -> None:
        try:
            self._commit(batch)
        except Exception as exc:  # noqa: BLE001 - each request gets its own outcome below
            if len(batch) == 1:
                log.error("decision record %s not written: %s", batch[0].record.id, type(exc).__name__)
                batch[0].done.set_exception(exc)
                return
            for item in batch:
                self._write([item])
            return
        self.batches += 1
        self.written += len(batch)
        for item in batch:
            item.done.set_result(item.record)

    def _commit(self, batch: list[PendingRecord]) -> None:
        # On SQLite the workers' writers take turns on a file lock, which wakes the next one at
        # once, rather than on SQLite's busy handler, which polls with sleeps.
        recorded = [(item.record, item.result, item.callback_url) for item in batch]
        records = record_rows([item.record for item in batch])
        parts = [records]
        chain = self.chain
        store_head = False
        if chain is not None:
            seq, head, head_row = chain.link(records[1])  # type: ignore[arg-type]
            # The head is stored with a batch at most every HEAD_S (and when the writer stops): a
            # statement per batch would cost more than the hashing, and it only serves to show a
            # removed tail (see registry/chain.py).
            store_head = time.monotonic() - self._head_written[1] >= HEAD_S
            if store_head:
                parts.append((HEADS, [head_row]))
        if self.hooks:
            with Session(self._reads) as session:  # connects only if a hook reads
                for hook in self.hooks:
                    parts.extend(hook(session, recorded))
        with self._turn:  # only the write itself: the other worker's writer waits on this
            write_all(self.engine, parts)
        if chain is not None:
            chain.advance(seq, head)  # only once committed: a failed batch is linked again
            if store_head:
                self._head_written = (seq, time.monotonic())

    def _store_head(self) -> None:
        """Store the chain's head if it moved since it was last stored (when the writer stops)."""
        chain = self.chain
        if chain is None or chain.seq == self._head_written[0]:
            return
        try:
            write_all(self.engine, [(HEADS, [{"chain_id": chain.id, "seq": chain.seq, "hash": chain.head,
                                              "at": utcnow()}])])
            self._head_written = (chain.seq, time.monotonic())
        except Exception as exc:  # noqa: BLE001 - the records are written; only the marker is missing
            log.warning("the record chain's head was not stored: %s", exc)
