"""The record writer: group commit, WAL checkpoints moved off the write path (SQLite), and the
hash chain it links each batch into (both databases)."""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from pathlib import Path

from api import record_writer
from api.record_writer import PendingRecord, RecordWriter
from decisions.result import EvaluationResult
from registry import make_engine, new_record, upgrade
from registry.chain import verify


def pending(i: int) -> PendingRecord:
    record = new_record(key="loans", version=1, content_hash="a" * 64, inputs={"Amount": i},
                        outputs={"Decision": "Approve"}, fired={"Decision": [1]}, problems=[], latency_us=10,
                        alias="production", caller="K1")
    return PendingRecord(record, EvaluationResult({}, {}, []), None)


def test_records_commit_in_batches_and_the_wal_is_checkpointed_in_the_background(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'decisionary.db'}"
    upgrade(url)
    engine = make_engine(url)
    writer = RecordWriter(engine, [])
    database = tmp_path / "decisionary.db"
    with engine.connect() as connection:  # start from a checkpointed database file
        connection.exec_driver_sql("SELECT 1")
    raw = engine.raw_connection()
    raw.cursor().execute("PRAGMA wal_checkpoint(TRUNCATE)").close()
    raw.close()
    size_before = database.stat().st_size

    async def write_all(n: int) -> list[str]:
        done = await asyncio.gather(*(writer.write(pending(i)) for i in range(n)))
        return [record.id for record in done]

    try:
        ids = asyncio.run(write_all(2000))
        assert len(set(ids)) == 2000
        assert writer.written == 2000 and writer.batches < 2000
        own = writer.engine
        assert own is not engine  # the writer's own engine, whose commits do not checkpoint
        with own.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar_one() == 0
        with engine.connect() as connection:
            assert connection.exec_driver_sql("SELECT count(*) FROM decision_records").scalar_one() == 2000
        time.sleep(record_writer.CHECKPOINT_S * 3)
        # No commit checkpointed (the writer's engine does not), yet the records reached the
        # database file itself: the background checkpoint copied them from the WAL.
        assert database.stat().st_size > size_before + 2000 * 100
    finally:
        writer.close()
        engine.dispose()


def test_the_writers_records_form_one_unbroken_chain_with_a_failed_batch_in_between(database_url: str) -> None:
    engine = make_engine(database_url)
    writer = RecordWriter(engine, [])
    first = pending(0)
    # A record the database refuses (its id is taken) fails its batch: the writer then writes each
    # record alone, and the failed one must leave no gap in the chain.
    bad = PendingRecord(replace(pending(-1).record, id=first.record.id), EvaluationResult({}, {}, []), None)

    async def write_some(n: int) -> list[str]:
        jobs = [writer.write(first)] + [writer.write(pending(i)) for i in range(1, n)] + [writer.write(bad)]
        jobs += [writer.write(pending(n + i)) for i in range(n)]
        done = await asyncio.gather(*jobs, return_exceptions=True)
        return [record.id for record in done if not isinstance(record, BaseException)]

    try:
        ids = asyncio.run(write_some(150))
        assert len(ids) == 300
    finally:
        writer.close()
    result = verify(engine)
    engine.dispose()
    assert result.ok, [str(b) for b in result.broken]
    assert writer.chain is not None
    assert result.records == 300 and result.heads[writer.chain.id] == (300, writer.chain.head)


def test_with_chaining_off_records_are_written_without_links(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'decisionary.db'}"
    upgrade(url)
    engine = make_engine(url)
    writer = RecordWriter(engine, [], chained=False)
    try:
        asyncio.run(writer.write(pending(1)))
    finally:
        writer.close()
    result = verify(engine)
    engine.dispose()
    assert (result.records, result.unchained, result.chains) == (0, 1, 0)
