"""Fresh databases for the service benchmark, made ready the way an operator would, and counted.

Each run gets a new database:
- SQLite: a file in a new temp data directory, with the registry's own engine settings (WAL,
  synchronous=NORMAL, BEGIN IMMEDIATE for writes);
- PostgreSQL: a throwaway server (Debian's binaries, found and run as tests/pg.py does: as root
  through `runuser -u postgres`, on a free port of 127.0.0.1) with PostgreSQL's durable defaults
  (fsync on, synchronous_commit on, full_page_writes on) unlike the test server, which turns
  durability off: the benchmark's records are meant to be persisted. One server serves the
  whole benchmark; each run gets a new database on it.

Then `prepare` migrates it (registry.db.upgrade), publishes the example model through its
whole lifecycle with a maker and a checker and points `production` at it (api/devserver.py's
helper), and creates a `caller` API key. `count_records` counts decision records afterwards.
"""

from __future__ import annotations

import atexit
import itertools
import os
import pwd
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from api.devserver import publish_examples
from execution.examples import EXAMPLE_RECEIVER
from execution.tables import RunRow
from registry import create_key, make_engine, unit_of_work, upgrade
from registry.tables import DecisionRecordRow
from tests.pg import (
    SERVER_USER,
    START_TIMEOUT_S,
    PostgresServer,
    PostgresUnavailable,
    _free_port,
    find_bin_dir,
)

EXAMPLE_MODEL = Path(__file__).resolve().parent.parent / "examples" / "loan-approval.dmn"
_names = itertools.count(1)


@dataclass(frozen=True)
class Prepared:
    url: str
    key: str  # the model's registry key
    version: int
    caller_secret: str


class DurablePostgres(PostgresServer):
    """tests/pg.py's server, started with PostgreSQL's default durability instead of none."""

    def start(self) -> None:
        options = " ".join([
            "-c listen_addresses=127.0.0.1", f"-p {self.port}", f"-k {self.data_dir}",
            "-c max_connections=200", "-c shared_buffers=128MB",
        ])
        log = self.data_dir / "server.log"
        done = self._run("pg_ctl", "start", "-D", str(self.data_dir), "-l", str(log), "-o", options,
                         "-w", "-t", str(START_TIMEOUT_S))
        if done.returncode != 0:
            text = log.read_text(errors="replace") if log.exists() else ""
            raise PostgresUnavailable(f"pg_ctl start failed ({done.returncode}):\n{done.stderr}\n{text[-4000:]}")
        self._running = True


def start_postgres(attempts: int = 3) -> PostgresServer:
    """A durable throwaway server on a free port; stop() it (it deletes its files)."""
    bin_dir = find_bin_dir()
    as_user = SERVER_USER if os.geteuid() == 0 else None
    base = Path(tempfile.mkdtemp(prefix="decisionary-bench-pg-", dir="/tmp"))  # noqa: S108 - mkdtemp: private
    os.chmod(base, 0o755)  # the server user must reach its data directory inside
    data_dir = base / "data"
    data_dir.mkdir(mode=0o700)
    if as_user:
        try:
            account = pwd.getpwnam(as_user)
        except KeyError:
            shutil.rmtree(base, ignore_errors=True)
            raise PostgresUnavailable(f"running as root, but there is no '{as_user}' user to run PostgreSQL as: "
                                      "run `make pg-deps` (the postgresql package creates it)") from None
        os.chown(data_dir, account.pw_uid, account.pw_gid)
    server = DurablePostgres(bin_dir, data_dir, _free_port(), as_user)
    server._base = base
    atexit.register(server.stop)  # a safety net if the benchmark dies before it stops the server
    try:
        server.initdb()
        for attempt in range(attempts):
            try:
                server.start()
                return server
            except PostgresUnavailable:
                if attempt == attempts - 1:
                    raise
                server.port = _free_port()
    except BaseException:
        server.stop()
        raise
    raise AssertionError("unreachable")  # pragma: no cover


class Databases:
    """Hands out a fresh database per run; owns the temp directories and the PostgreSQL server."""

    def __init__(self) -> None:
        self._postgres: PostgresServer | None = None
        self._dirs: list[Path] = []

    def new(self, kind: str) -> str:
        if kind == "sqlite":
            data_dir = Path(tempfile.mkdtemp(prefix="decisionary-bench-sqlite-"))
            self._dirs.append(data_dir)
            return f"sqlite:///{data_dir / 'decisionary.db'}"
        if kind == "postgresql":
            if self._postgres is None:
                self._postgres = start_postgres()
            name = f"bench_{os.getpid()}_{next(_names)}"
            self._postgres.create_database(name)
            return self._postgres.url(name)
        raise ValueError(f"unknown database {kind!r}: expected sqlite or postgresql")

    def server_pid(self, kind: str) -> int | None:
        """The PostgreSQL server's main process (its backends are its children); None for SQLite,
        whose work runs inside the service's workers."""
        if kind != "postgresql" or self._postgres is None:
            return None
        try:
            return int((self._postgres.data_dir / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def close(self) -> None:
        if self._postgres is not None:
            self._postgres.stop()
            self._postgres = None
        for directory in self._dirs:
            shutil.rmtree(directory, ignore_errors=True)
        self._dirs.clear()

    def __enter__(self) -> Databases:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def prepare(url: str, model: Path = EXAMPLE_MODEL, *, actions: bool = False) -> Prepared:
    """Migrate, publish `model` (maker/checker, production alias) and create a caller key.

    `actions`: publish it with its example bindings (examples/bindings/), so that every decision
    also queues its workflow runs in its record's transaction."""
    upgrade(url)
    engine = make_engine(url, pool_size=1)
    try:
        with tempfile.TemporaryDirectory(prefix="decisionary-bench-model-") as folder:
            shutil.copy(model, Path(folder) / model.name)
            bindings = model.parent / "bindings" / f"{model.stem}.yaml"
            if actions:
                (Path(folder) / "bindings").mkdir()
                shutil.copy(bindings, Path(folder) / "bindings" / bindings.name)
            problems: list[str] = []
            published = publish_examples(engine, Path(folder), say=problems.append,
                                         receiver_url=EXAMPLE_RECEIVER if actions else None)
        if len(published) != 1:
            raise RuntimeError(f"could not publish {model.name}: {'; '.join(problems) or 'nothing published'}")
        with unit_of_work(engine) as session:
            _, secret = create_key(session, "bench-caller", "caller", by="benchmarks/bench_service.py")
    finally:
        engine.dispose()
    return Prepared(url, published[0].key, published[0].number, secret)


def count_records(url: str) -> int:
    """How many decision records the database holds."""
    return _count(url, DecisionRecordRow.__table__)  # type: ignore[attr-defined]


def count_runs(url: str) -> int:
    """How many workflow runs the decisions queued."""
    return _count(url, RunRow.__table__)  # type: ignore[attr-defined]


def _count(url: str, table: sa.Table) -> int:
    engine = make_engine(url, pool_size=1)
    try:
        with engine.connect() as connection:
            return int(connection.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())
    finally:
        engine.dispose()
