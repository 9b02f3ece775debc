"""The engine factory, the migrations and the unit of work, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

import registry.tables  # noqa: F401  (the tables the migrations must match)
from registry import create_draft, list_models, unit_of_work
from registry.db import current_revision, default_url, head_revision, make_engine, normalise_url, upgrade

TABLES = {"models", "versions", "transitions", "aliases", "alias_moves", "decision_records",
          "idempotency_keys", "api_keys"}


def test_upgrade_creates_every_table_and_is_idempotent(blank_database_url: str) -> None:
    assert current_revision(blank_database_url) is None
    upgrade(blank_database_url)
    upgrade(blank_database_url)  # a second run changes nothing and does not fail
    assert current_revision(blank_database_url) == head_revision()
    engine = make_engine(blank_database_url)
    try:
        assert TABLES <= set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_concurrent_upgrades_of_one_database_apply_the_migrations_once(blank_database_url: str) -> None:
    # Several workers starting at once each run upgrade(): a lock serialises them.
    errors: list[BaseException] = []
    barrier = threading.Barrier(3)

    def run() -> None:
        barrier.wait(timeout=30)
        try:
            upgrade(blank_database_url)
        except BaseException as err:  # noqa: BLE001 - collected for the assertion below
            errors.append(err)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert current_revision(blank_database_url) == head_revision()


def test_migrations_match_the_table_classes(engine: Engine) -> None:
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    # Other layers' migrations may add columns of their own to registry tables (the execution
    # layer's versions.bindings): a column in the database but not in registry/tables.py is theirs.
    registry_tables = [d for d in differences if _table_of(d) in TABLES and not _is_column_removal(d)]
    assert registry_tables == []


def _is_column_removal(difference: object) -> bool:
    return isinstance(difference, tuple) and difference[0] == "remove_column"


def _table_of(difference: object) -> str | None:
    # alembic reports ("add_table", Table), ("add_column", schema, table, Column), [("modify_type", ...)], ...
    item = difference[0] if isinstance(difference, list) else difference
    assert isinstance(item, tuple)
    for part in item[1:]:
        if isinstance(part, sa.Table):
            return part.name
        if isinstance(part, str) and part in TABLES:
            return part
        if hasattr(part, "table") and isinstance(getattr(part, "table", None), sa.Table):
            return str(part.table.name)
    return None


def test_unit_of_work_commits_or_rolls_back(engine: Engine) -> None:
    with pytest.raises(RuntimeError, match="boom"):
        with unit_of_work(engine) as session:
            create_draft(session, "rolled-back", "a: 1", author="ana", format="yaml")
            raise RuntimeError("boom")
    with unit_of_work(engine) as session:
        create_draft(session, "kept", "a: 1", author="ana", format="yaml")
    with unit_of_work(engine, read_only=True) as session:
        assert [m.key for m in list_models(session)] == ["kept"]


def test_sqlite_engine_uses_wal_foreign_keys_and_busy_timeout(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'nested' / 'dir' / 'x.db'}")
    try:
        with engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 10_000
        assert (tmp_path / "nested" / "dir" / "x.db").exists()
    finally:
        engine.dispose()


def test_sqlite_foreign_keys_are_enforced(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fk.db'}"
    upgrade(url)
    engine = make_engine(url)
    try:
        with pytest.raises(sa.exc.IntegrityError):
            with engine.begin() as connection:
                connection.exec_driver_sql(
                    "INSERT INTO transitions (version_id, to_state, by, at) VALUES (999, 'draft', 'x', '2025-01-01')")
    finally:
        engine.dispose()


def test_postgresql_engine_has_a_pool_for_several_workers(database_url: str) -> None:
    engine = make_engine(database_url, pool_size=7)
    try:
        if engine.dialect.name == "postgresql":
            assert engine.pool.size() == 7  # type: ignore[attr-defined]
        with engine.connect() as connection:
            assert connection.exec_driver_sql("SELECT 1").scalar() == 1
    finally:
        engine.dispose()


def test_default_url_reads_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("DECISIONARY_DATABASE_URL", raising=False)
    monkeypatch.setenv("DECISIONARY_DATA_DIR", str(tmp_path / "data"))
    assert default_url() == f"sqlite:///{tmp_path / 'data' / 'decisionary.db'}"
    monkeypatch.setenv("DECISIONARY_DATABASE_URL", "postgresql://u@h/db")
    assert default_url() == "postgresql://u@h/db"
    assert normalise_url(default_url()) == "postgresql+psycopg://u@h/db"
    assert normalise_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"


def test_unsupported_url_is_refused_clearly() -> None:
    with pytest.raises(ValueError, match="unsupported database URL"):
        make_engine("mysql://root:secret@localhost/db")
