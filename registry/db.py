"""Database plumbing: the one engine factory, schema migrations, and the unit of work.

SQLite (the default) is a file under the data directory, in WAL mode so readers never wait for
the writer. Every SQLite transaction that may write starts with BEGIN IMMEDIATE: it takes the
write lock up front, so two read-then-write transactions queue on busy_timeout instead of one
failing with "database is locked" when it tries to upgrade its read snapshot.

PostgreSQL is used when the URL says so (`postgresql+psycopg://...`), with a connection pool
sized for several workers. The schema is always made by the alembic migrations in
registry/migrations, applied by `upgrade()`: never by `create_all`.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine
from sqlmodel import Session

DATA_DIR_ENV = "DECISIONARY_DATA_DIR"
DATABASE_URL_ENV = "DECISIONARY_DATABASE_URL"
SQLITE_FILE = "decisionary.db"
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

# Waiting for the SQLite write lock: long enough to ride out a burst of writers.
SQLITE_BUSY_TIMEOUT_MS = 10_000
# Any constant works; it names the lock that serialises concurrent `upgrade()` calls on PostgreSQL.
_MIGRATION_LOCK_ID = 0x0DEC1510


def default_url() -> str:
    """DECISIONARY_DATABASE_URL if set, else a SQLite file under DECISIONARY_DATA_DIR (./data)."""
    url = os.environ.get(DATABASE_URL_ENV, "").strip()
    if url:
        return url
    data_dir = Path(os.environ.get(DATA_DIR_ENV, "data"))
    return f"sqlite:///{data_dir / SQLITE_FILE}"


def normalise_url(url: str) -> str:
    """Point bare postgres URLs at the psycopg (v3) driver, the one installed."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def make_engine(url: str | None = None, *, pool_size: int | None = None,
                wal_autocheckpoint: bool = True, pre_ping: bool = True) -> Engine:
    """The engine for `url` (default: `default_url()`), configured for its database.

    `wal_autocheckpoint=False` (SQLite only): commits on this engine never checkpoint the WAL;
    whoever asks for that must call `checkpoint` regularly (see api/record_writer.py).
    `pre_ping=False` (PostgreSQL only): no round trip to test a connection before each use, for a
    caller that retries on a fresh connection itself (a lost connection empties the pool)."""
    url = normalise_url(url or default_url())
    parsed = sa.engine.make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed, wal_autocheckpoint)
    if parsed.get_backend_name() == "postgresql":
        size = pool_size or int(os.environ.get("DECISIONARY_DB_POOL_SIZE", "10"))
        return sa.create_engine(
            parsed, pool_size=size, max_overflow=size * 2, pool_pre_ping=pre_ping, pool_recycle=1800
        )
    raise ValueError(f"unsupported database URL {parsed.render_as_string(hide_password=True)!r}: "
                     "use sqlite:///path or postgresql+psycopg://user@host/db")


def _sqlite_engine(url: sa.URL, wal_autocheckpoint: bool = True) -> Engine:
    database = url.database or ""
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(url)

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin (see _on_begin).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")  # durable in WAL mode up to the last checkpoint
        if not wal_autocheckpoint:
            cursor.execute("PRAGMA wal_autocheckpoint=0")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(connection: sa.Connection) -> None:
        read_only = connection.get_execution_options().get("decisionary_read_only", False)
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

    return engine


def checkpoint(engine: Engine) -> None:
    """Copy what the SQLite WAL holds into the database file, without waiting for (or blocking)
    readers and writers; nothing on other databases."""
    if engine.dialect.name != "sqlite":
        return
    connection = engine.raw_connection()  # outside any transaction: a checkpoint cannot run in one
    try:
        connection.cursor().execute("PRAGMA wal_checkpoint(PASSIVE)").close()
    finally:
        connection.close()


@contextmanager
def unit_of_work(engine: Engine, *, read_only: bool = False) -> Iterator[Session]:
    """A session whose work commits when the block ends and rolls back if it raises.

    Everything done with the session is one transaction: a decision record and the actions a
    later layer queues for it (the outbox) commit together or not at all. Objects stay readable
    after the block (no expiry on commit). `read_only=True` lets SQLite readers skip the write
    lock; it does not stop writes.
    """
    bind = engine.execution_options(decisionary_read_only=True) if read_only else engine
    with Session(bind, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def alembic_config() -> Config:
    """The alembic configuration of the registry's migrations (no alembic.ini needed)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise RuntimeError(f"no migrations found in {MIGRATIONS_DIR}")
    return head


def current_revision(target: str | Engine | None = None) -> str | None:
    """The schema revision the database is at (None for an empty database)."""
    engine, owned = _engine_for(target)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        if owned:
            engine.dispose()


def upgrade(target: str | Engine | None = None, revision: str = "head") -> None:
    """Apply the migrations up to `revision` on the database at `target` (URL or engine).

    Safe to run from several processes at once: on PostgreSQL an advisory lock serialises them,
    on SQLite the write lock does. Running it on an up-to-date database changes nothing.
    """
    engine, owned = _engine_for(target)
    try:
        with _sqlite_migration_lock(engine), engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_MIGRATION_LOCK_ID})")
            config = alembic_config()
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
    finally:
        if owned:
            engine.dispose()


@contextmanager
def _sqlite_migration_lock(engine: Engine) -> Iterator[None]:
    """On SQLite, serialise migrations with an exclusive lock on a file beside the database.

    SQLite's own write lock gives up after busy_timeout, and a slow migration on a busy machine
    can hold it longer than that; the file lock waits as long as it takes, across threads and
    processes alike."""
    with sqlite_file_lock(engine, "migrate"):
        yield


class SqliteFileLock:
    """On SQLite, an exclusive lock on the file `<database>.<name>.lock`; elsewhere nothing.

    For writers that would otherwise queue on SQLite's busy handler, which polls with sleeps of
    up to 100 ms: a process waiting on the file lock wakes as soon as it is released. The file
    stays open between uses (opening it is a system call on every write otherwise). Never take
    it inside a write transaction of the same thread (it would wait for itself)."""

    def __init__(self, engine: Engine, name: str) -> None:
        database = engine.url.database if engine.dialect.name == "sqlite" else None
        self.path = f"{database}.{name}.lock" if database and database != ":memory:" else None
        self._handle: Any = None

    def __enter__(self) -> None:
        if self.path is None:
            return
        if self._handle is None:
            self._handle = open(self.path, "a+b")  # noqa: SIM115 - kept open for the lock's life
        fcntl.flock(self._handle.fileno(), fcntl.LOCK_EX)

    def __exit__(self, *exc: object) -> None:
        if self._handle is not None:
            fcntl.flock(self._handle.fileno(), fcntl.LOCK_UN)

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None


@contextmanager
def sqlite_file_lock(engine: Engine, name: str) -> Iterator[None]:
    """A `SqliteFileLock` used once."""
    lock = SqliteFileLock(engine, name)
    try:
        with lock:
            yield
    finally:
        lock.close()


def _engine_for(target: str | Engine | None) -> tuple[Engine, bool]:
    if isinstance(target, Engine):
        return target, False
    return make_engine(target), True
