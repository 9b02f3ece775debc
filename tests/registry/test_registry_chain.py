"""The decision records' hash chain: edits, removals and reorderings are detected, on both
databases, for records written in callers' transactions and by the service's record writer."""

from __future__ import annotations

import threading
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from registry import new_record, record_decision, record_rows, unit_of_work
from registry.bulk import write_all
from registry.chain import HEADS, RECORDS, SESSION_CHAIN, WriterChain, verify
from registry.records import record_decisions


def _write_in_session(engine: Engine, count: int, **overrides: Any) -> list[str]:
    ids = []
    for i in range(count):
        with unit_of_work(engine) as session:
            record = record_decision(
                session, key="loan-approval", version=1, content_hash="ab" * 32, alias="production",
                inputs={"Credit Score": 600 + i, "Monthly Income": 5200.5}, outputs={"Decision": "Approve"},
                fired={"Decision": [2]}, fired_ids={"Decision": ["rule-2"]}, problems=[], latency_us=10 + i,
                caller="svc", **overrides)
            ids.append(record.id)
    return ids


def _write_as_the_writer(engine: Engine, chain: WriterChain, batches: list[int]) -> list[str]:
    ids = []
    for size in batches:
        records = [new_record(key="loan-approval", version=2, content_hash="cd" * 32, alias=None,
                              inputs={"Credit Score": 700 + i, "Name": "Zoë \u2028"}, outputs={"Decision": "Refer"},
                              fired={"Decision": [3]}, fired_ids={"Decision": ["h0123456789ab"]},
                              problems=[{"message": "x", "severity": "information"}], latency_us=5)
                   for i in range(size)]
        table, rows = record_rows(records)
        seq, head, head_row = chain.link(rows)  # type: ignore[arg-type]
        write_all(engine, [(table, rows), (HEADS, [head_row])])
        chain.advance(seq, head)
        ids.extend(r.id for r in records)
    return ids


def _execute(engine: Engine, statement: Any, **params: Any) -> None:
    with engine.begin() as connection:
        connection.execute(statement, params)


def _seq(engine: Engine, record_id: str) -> int:
    with engine.connect() as connection:
        return int(connection.execute(sa.select(RECORDS.c.chain_seq).where(RECORDS.c.id == record_id)).scalar_one())


def test_records_from_both_paths_are_chained_and_verify(engine: Engine) -> None:
    session_ids = _write_in_session(engine, 4)
    chain = WriterChain()
    writer_ids = _write_as_the_writer(engine, chain, [3, 1, 5])
    result = verify(engine)
    assert result.ok, [str(b) for b in result.broken]
    assert result.records == len(session_ids) + len(writer_ids) == 13
    assert result.chains == 2 and result.unchained == 0
    assert result.heads[SESSION_CHAIN][0] == 4
    assert result.heads[chain.id] == (9, chain.head)
    assert [_seq(engine, i) for i in session_ids] == [1, 2, 3, 4]
    assert [_seq(engine, i) for i in writer_ids] == list(range(1, 10))


def test_an_edited_record_is_named(engine: Engine) -> None:
    ids = _write_in_session(engine, 5)
    _execute(engine, RECORDS.update().where(RECORDS.c.id == ids[2]).values(outputs={"Decision": "Reject"}))
    result = verify(engine)
    assert not result.ok
    broken = result.first_broken
    assert broken is not None
    assert (broken.record_id, broken.seq) == (ids[2], 3)
    assert "changed" in broken.problem


def test_an_edited_number_in_the_inputs_is_detected(engine: Engine) -> None:
    ids = _write_as_the_writer(engine, WriterChain(), [4])
    _execute(engine, RECORDS.update().where(RECORDS.c.id == ids[1]).values(latency_us=6))
    broken = verify(engine).first_broken
    assert broken is not None and broken.record_id == ids[1]


def test_a_deleted_record_is_named_by_its_place(engine: Engine) -> None:
    ids = _write_as_the_writer(engine, WriterChain(), [2, 3])
    _execute(engine, RECORDS.delete().where(RECORDS.c.id == ids[1]))
    broken = verify(engine).first_broken
    assert broken is not None
    assert broken.seq == 2 and "missing" in broken.problem and ids[2] in broken.problem


def test_reordered_records_are_detected(engine: Engine) -> None:
    ids = _write_in_session(engine, 4)
    # Swap the places of records 2 and 3 (through a free place, for the unique index).
    _execute(engine, RECORDS.update().where(RECORDS.c.id == ids[1]).values(chain_seq=1000))
    _execute(engine, RECORDS.update().where(RECORDS.c.id == ids[2]).values(chain_seq=2))
    _execute(engine, RECORDS.update().where(RECORDS.c.id == ids[1]).values(chain_seq=3))
    broken = verify(engine).first_broken
    assert broken is not None
    assert broken.seq == 2 and broken.record_id == ids[2]


def test_removing_the_newest_records_is_detected(engine: Engine) -> None:
    chain = WriterChain()
    ids = _write_as_the_writer(engine, chain, [3, 2])
    _execute(engine, RECORDS.delete().where(RECORDS.c.id.in_(ids[-2:])))
    broken = verify(engine).first_broken
    assert broken is not None
    assert "newest records were removed" in broken.problem and broken.seq == 4


def test_a_rolled_back_transaction_leaves_no_gap(engine: Engine) -> None:
    _write_in_session(engine, 2)
    with pytest.raises(RuntimeError), unit_of_work(engine) as session:
        record_decision(session, key="k", version=1, content_hash="ef" * 32, inputs={}, outputs={},
                        latency_us=1)
        raise RuntimeError("the caller's transaction fails")
    _write_in_session(engine, 2)
    result = verify(engine)
    assert result.ok, [str(b) for b in result.broken]
    assert result.heads[SESSION_CHAIN][0] == 4


def test_several_records_in_one_transaction_are_linked_in_order(engine: Engine) -> None:
    with unit_of_work(engine) as session:
        ids = [record_decision(session, key="k", version=1, content_hash="ef" * 32, inputs={"i": i},
                               outputs={"o": i}, latency_us=1).id for i in range(5)]
    assert [_seq(engine, i) for i in ids] == [1, 2, 3, 4, 5]
    assert verify(engine).ok


def test_concurrent_transactions_of_many_threads_keep_one_unbroken_chain(engine: Engine) -> None:
    errors: list[BaseException] = []

    def work() -> None:
        try:
            _write_in_session(engine, 6)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    result = verify(engine)
    assert result.ok, [str(b) for b in result.broken]
    assert result.heads[SESSION_CHAIN][0] == 24


def test_records_written_in_bulk_join_the_shared_chain_between_single_ones(engine: Engine) -> None:
    """A batch's records (registry.records.record_decisions: one insert, linked under the chain's
    lock) and records written one by one share the session chain, in commit order."""
    before = _write_in_session(engine, 2)
    records = [new_record(key="loan-approval", version=1, content_hash="ab" * 32, inputs={"Credit Score": 600 + i},
                          outputs={"Decision": "Approve"}, fired={"Decision": [1]}, problems=[], latency_us=3)
               for i in range(250)]
    with unit_of_work(engine) as session:
        record_decisions(session, records)
    after = _write_in_session(engine, 2)
    result = verify(engine)
    assert result.ok, [str(b) for b in result.broken]
    assert result.records == 254 and result.chains == 1 and result.unchained == 0
    assert result.heads[SESSION_CHAIN][0] == 254
    assert [_seq(engine, i) for i in before] == [1, 2]
    assert [_seq(engine, r.id) for r in records[:2]] == [3, 4] and _seq(engine, records[-1].id) == 252
    assert [_seq(engine, i) for i in after] == [253, 254]
