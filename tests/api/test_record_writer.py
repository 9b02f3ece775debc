"""The record writer on SQLite: group commit, and WAL checkpoints moved off the write path."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from api import record_writer
from api.record_writer import PendingRecord, RecordWriter
from decisions.result import EvaluationResult
from registry import make_engine, new_record, upgrade


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
