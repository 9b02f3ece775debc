"""Shared fixtures: databases for the registry (and any layer that stores data).

`database_url` is parametrised over ["sqlite", "postgresql"], so every test that uses it runs on
both, each time on a fresh, migrated database:
- SQLite: a new file in the test's tmp_path, migrated with `registry.db.upgrade`.
- PostgreSQL: a new database per test module on the session's throwaway server (tests/pg.py),
  migrated with `registry.db.upgrade`, and emptied (every row of every table deleted) before
  each test. Creating a database costs a checkpoint (up to a second on a busy machine); emptying
  one takes a few milliseconds, and the test sees the same clean, migrated schema.
`blank_database_url` is a new database without the migrations, for testing the migrations.

The PostgreSQL server starts on first use only: a run that needs no database starts none.
"""

from __future__ import annotations

import itertools
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import Engine

sys.path.append(str(Path(__file__).resolve().parent))  # for `pg`; appended, so tests/audit never shadows audit

from pg import PostgresServer, start_postgres  # noqa: E402

from registry.db import make_engine, upgrade  # noqa: E402

BACKENDS = ["sqlite", "postgresql"]
_names = itertools.count(1)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    server = start_postgres()
    try:
        yield server
    finally:
        server.stop()


def _new_postgres_database(server: PostgresServer) -> str:
    name = f"test_{os.getpid()}_{next(_names)}"
    server.create_database(name)
    return name


class ModuleDatabase:
    """A migrated PostgreSQL database shared by one test module, emptied before each test."""

    def __init__(self, server: PostgresServer, name: str) -> None:
        self.url = server.url(name)
        self._connection = psycopg.connect(host="127.0.0.1", port=server.port, user="postgres", dbname=name,
                                           autocommit=True)
        self._tables = [row[0] for row in self._connection.execute(
            "SELECT quote_ident(tablename) FROM pg_tables "
            "WHERE schemaname = current_schema() AND tablename <> 'alembic_version'")]

    def empty(self) -> None:
        # DELETE with triggers and foreign key checks off (replica role): the append-only and
        # immutability triggers would refuse it otherwise, and it is several times faster than
        # TRUNCATE on tables this small.
        with self._connection.transaction():
            self._connection.execute("SET LOCAL session_replication_role = replica")
            for table in self._tables:
                self._connection.execute(f"DELETE FROM {table}")

    def close(self) -> None:
        self._connection.close()


@pytest.fixture(scope="module")
def postgres_module_database(postgres_server: PostgresServer) -> Iterator[ModuleDatabase]:
    name = _new_postgres_database(postgres_server)
    try:
        upgrade(postgres_server.url(name))
        database = ModuleDatabase(postgres_server, name)
        try:
            yield database
        finally:
            database.close()
    finally:
        postgres_server.drop_database(name)


@pytest.fixture(params=BACKENDS)
def blank_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A new, empty database (no tables)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'blank.db'}"
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    name = _new_postgres_database(server)
    try:
        yield server.url(name)
    finally:
        server.drop_database(name)


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A clean database migrated to the latest schema."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'registry.db'}"
        upgrade(url)
        return url
    database: ModuleDatabase = request.getfixturevalue("postgres_module_database")
    database.empty()  # before the test, so that it starts clean whatever ran before it
    return str(database.url)


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url, pool_size=5)
    try:
        yield engine
    finally:
        engine.dispose()
