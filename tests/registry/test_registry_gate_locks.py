"""Submitting and publishing run the gates (the version's test cases, which can take seconds)
without holding the write lock: evaluations keep recording decisions meanwhile, and a version
that changes while its gates run is refused (409) instead of being moved on a stale report."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from registry_samples import APPROVER, AUTHOR, KEY, LOAN_CASES, loan_dmn, published_version
from sqlalchemy.engine import Engine

import registry.models_store as models_store
from registry import Conflict, approve, create_draft, get_version, record_decision, unit_of_work, update_draft
from registry.errors import Forbidden, InvalidTransition
from registry.gates import GateReport, run_gates
from registry.models_store import publish_version, submit_version
from registry.tables import VersionRow

VERSIONS = VersionRow.__table__  # type: ignore[attr-defined]


@pytest.fixture
def during_gates(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Callable[[], None]]]:
    """Work to do while the gates run (each callable runs inside the gate run, once)."""
    actions: list[Callable[[], None]] = []
    real = run_gates

    def gates_with_hook(*args: Any, **kwargs: Any) -> GateReport:
        while actions:
            actions.pop(0)()
        return real(*args, **kwargs)

    monkeypatch.setattr(models_store, "run_gates", gates_with_hook)
    yield actions
    assert not actions, "the gates never ran"


def _write_without_waiting(engine: Engine, version_id: int) -> None:
    """Begin a write transaction that locks the version's row, failing at once if anyone holds the
    write lock (SQLite) or the row (PostgreSQL): nothing may while the gates run."""
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            connection.exec_driver_sql("PRAGMA busy_timeout=0")
            try:
                connection.exec_driver_sql("SELECT 1")  # begins: BEGIN IMMEDIATE (registry/db.py)
                connection.execute(sa.select(VERSIONS.c.id).where(VERSIONS.c.id == version_id))
            finally:
                connection.rollback()
                connection.exec_driver_sql("PRAGMA busy_timeout=10000")
        else:
            connection.execute(sa.text("SELECT id FROM versions WHERE id = :id FOR UPDATE NOWAIT"), {"id": version_id})
            connection.rollback()


def _record_in_thread(engine: Engine, number: int) -> None:
    """An evaluation's record written from another thread, finished before the gates go on."""
    failures: list[BaseException] = []

    def write() -> None:
        try:
            with unit_of_work(engine) as session:
                record_decision(session, key=KEY, version=number, content_hash="h" * 64,
                                inputs={"Applicant Age": 30}, outputs={"Risk Category": "Low"}, latency_us=5)
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            failures.append(exc)

    writer = threading.Thread(target=write)
    writer.start()
    writer.join(60)
    assert not writer.is_alive() and not failures, failures


def _version_id(engine: Engine, number: int) -> int:
    with unit_of_work(engine, read_only=True) as session:
        return int(session.execute(sa.select(VERSIONS.c.id).where(VERSIONS.c.number == number)).scalar_one())


def test_publishing_lets_writers_in_while_the_gates_run(engine: Engine,
                                                        during_gates: list[Callable[[], None]]) -> None:
    live = published_version(engine, loan_dmn(), test_cases=LOAN_CASES)
    with unit_of_work(engine) as session:
        number = create_draft(session, KEY, loan_dmn(), author=AUTHOR, test_cases=LOAN_CASES).number
    submit_version(engine, KEY, number, by=AUTHOR)  # its gates run outside the write lock too
    with unit_of_work(engine) as session:
        approve(session, KEY, number, by=APPROVER)
    during_gates.append(lambda: _write_without_waiting(engine, _version_id(engine, number)))
    during_gates.append(lambda: _record_in_thread(engine, live.number))

    version = publish_version(engine, KEY, number, by=APPROVER, comment="go")
    assert version.state == "published" and version.gates is not None and version.gates["ok"]
    assert version.gates["step"] == "publish"


def test_submitting_lets_writers_in_while_the_gates_run(engine: Engine,
                                                        during_gates: list[Callable[[], None]]) -> None:
    live = published_version(engine, loan_dmn(), test_cases=LOAN_CASES)
    with unit_of_work(engine) as session:
        number = create_draft(session, KEY, loan_dmn(), author=AUTHOR, test_cases=LOAN_CASES).number
    during_gates.append(lambda: _write_without_waiting(engine, _version_id(engine, number)))
    during_gates.append(lambda: _record_in_thread(engine, live.number))
    assert submit_version(engine, KEY, number, by=AUTHOR).state == "submitted"


def test_a_draft_edited_while_its_gates_run_is_not_submitted(engine: Engine,
                                                             during_gates: list[Callable[[], None]]) -> None:
    with unit_of_work(engine) as session:
        number = create_draft(session, KEY, loan_dmn(), author=AUTHOR, test_cases=LOAN_CASES).number

    def edit() -> None:
        with unit_of_work(engine) as session:
            update_draft(session, KEY, number, by=AUTHOR, test_cases=LOAN_CASES.replace("50000", "50001"))

    during_gates.append(edit)
    with pytest.raises(Conflict, match="changed while its gates ran"):
        submit_version(engine, KEY, number, by=AUTHOR)
    with unit_of_work(engine, read_only=True) as session:
        version = get_version(session, KEY, number)
    assert version.state == "draft" and version.gates is None


def test_a_version_moved_while_its_gates_run_is_not_published(engine: Engine,
                                                              during_gates: list[Callable[[], None]]) -> None:
    with unit_of_work(engine) as session:
        number = create_draft(session, KEY, loan_dmn(), author=AUTHOR, test_cases=LOAN_CASES).number
    submit_version(engine, KEY, number, by=AUTHOR)
    with unit_of_work(engine) as session:
        approve(session, KEY, number, by=APPROVER)

    def reject_it() -> None:
        with unit_of_work(engine) as session:
            models_store.reject(session, KEY, number, by=APPROVER, comment="no")

    during_gates.append(reject_it)
    with pytest.raises(Conflict, match="changed while its gates ran"):
        publish_version(engine, KEY, number, by=APPROVER)
    with unit_of_work(engine, read_only=True) as session:
        assert get_version(session, KEY, number).state == "rejected"


def test_a_refused_move_runs_no_gates(engine: Engine, during_gates: list[Callable[[], None]]) -> None:
    with unit_of_work(engine) as session:
        number = create_draft(session, KEY, loan_dmn(), author=AUTHOR, test_cases=LOAN_CASES).number
    ran: list[str] = []
    during_gates.append(lambda: ran.append("gates"))
    with pytest.raises(Forbidden):
        submit_version(engine, KEY, number, by=APPROVER)  # not its author
    with pytest.raises(InvalidTransition):
        publish_version(engine, KEY, number, by=APPROVER)  # a draft
    assert ran == []
    during_gates.clear()
