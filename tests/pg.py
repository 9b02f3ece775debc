"""A throwaway PostgreSQL server for the test session: real, local, fast, and always stopped.

The server binaries come from Debian's `postgresql` package (/usr/lib/postgresql/<version>/bin),
or from DECISIONARY_PG_BIN, or from PATH. When none is found the tests fail (they are never
skipped) with the command that installs them: `make pg-deps`.

PostgreSQL refuses to run as root, so as root initdb and pg_ctl run as the `postgres` user
(`runuser -u postgres --`) on a data directory that user owns. The server listens on a free port
of 127.0.0.1 only, with its socket in the data directory, trust authentication, and fsync off:
durability is worthless for a database that is deleted at the end of the run.

Each pytest-xdist worker is its own process and starts its own server (own port, own directory).
"""

from __future__ import annotations

import atexit
import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from psycopg import sql

SERVER_USER = "postgres"
START_TIMEOUT_S = 60


class PostgresUnavailable(RuntimeError):
    """The server cannot be started here; the message says what to do."""


def find_bin_dir() -> Path:
    """The directory holding initdb, pg_ctl and postgres (the newest Debian version wins)."""
    candidates: list[Path] = []
    override = os.environ.get("DECISIONARY_PG_BIN")
    if override:
        candidates.append(Path(override))
    debian = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=_version_key, reverse=True)
    candidates.extend(Path(d) for d in debian)
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(Path(on_path).parent)
    for directory in candidates:
        if all((directory / tool).is_file() for tool in ("initdb", "pg_ctl", "postgres")):
            return directory
    raise PostgresUnavailable(
        "PostgreSQL server binaries (initdb, pg_ctl, postgres) were not found in "
        "/usr/lib/postgresql/*/bin, $DECISIONARY_PG_BIN or PATH. The registry tests run on a real "
        "PostgreSQL: install it with `make pg-deps` (apt-get install -y postgresql)."
    )


def _version_key(path: str) -> tuple[int, ...]:
    version = Path(path).parent.name
    return tuple(int(part) for part in version.split(".") if part.isdigit()) or (0,)


def _reachable_temp_dir(as_user: str | None) -> str:
    """The temp directory, if the server user can reach it (every parent searchable), else /tmp."""
    temp = Path(tempfile.gettempdir()).resolve()
    if as_user is None or all(os.stat(p).st_mode & 0o001 for p in (temp, *temp.parents)):
        return str(temp)
    return "/tmp"  # noqa: S108 - the directory made inside it is private (mkdtemp)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class PostgresServer:
    bin_dir: Path
    data_dir: Path
    port: int
    as_user: str | None  # run the server tools as this user (when we are root)
    _running: bool = field(default=False, init=False)
    _base: Path | None = field(default=None, init=False)

    # --- connection ------------------------------------------------------------------

    def url(self, database: str) -> str:
        """SQLAlchemy URL of `database` on this server."""
        return f"postgresql+psycopg://{SERVER_USER}@127.0.0.1:{self.port}/{database}"

    def _admin(self) -> psycopg.Connection[tuple[object, ...]]:
        return psycopg.connect(host="127.0.0.1", port=self.port, user=SERVER_USER, dbname="postgres",
                               autocommit=True, connect_timeout=10)

    def create_database(self, name: str, *, template: str | None = None) -> None:
        query = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        with self._admin() as conn:
            if template:
                query += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
                if conn.info.server_version >= 150000:
                    # A file copy of a small template is several times faster than the WAL_LOG default.
                    query += sql.SQL(" STRATEGY FILE_COPY")
            conn.execute(query)

    def drop_database(self, name: str) -> None:
        with self._admin() as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))

    # --- life cycle ------------------------------------------------------------------

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        command = [str(self.bin_dir / args[0]), *args[1:]]
        if self.as_user:
            command = ["runuser", "-u", self.as_user, "--", *command]
        return subprocess.run(command, capture_output=True, text=True, timeout=START_TIMEOUT_S, check=False)

    def initdb(self) -> None:
        done = self._run("initdb", "-D", str(self.data_dir), "-U", SERVER_USER, "--auth=trust",
                         "--encoding=UTF8", "--locale=C", "--no-sync")
        if done.returncode != 0:
            raise PostgresUnavailable(f"initdb failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")

    def start(self) -> None:
        options = " ".join([
            "-c listen_addresses=127.0.0.1", f"-p {self.port}", f"-k {self.data_dir}",
            "-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off",
            "-c max_connections=200", "-c shared_buffers=32MB",
        ])
        log = self.data_dir / "server.log"
        done = self._run("pg_ctl", "start", "-D", str(self.data_dir), "-l", str(log), "-o", options,
                         "-w", "-t", str(START_TIMEOUT_S))
        if done.returncode != 0:
            text = log.read_text(errors="replace") if log.exists() else ""
            raise PostgresUnavailable(f"pg_ctl start failed ({done.returncode}):\n{done.stderr}\n{text[-4000:]}")
        self._running = True

    def restart(self, *, mode: str = "immediate") -> None:
        """Stop the server (by default as abruptly as a crash: `-m immediate`) and start it again on
        the same port and data directory; clients see their connections drop meanwhile."""
        done = self._run("pg_ctl", "stop", "-D", str(self.data_dir), "-m", mode, "-w")
        if done.returncode != 0:
            raise PostgresUnavailable(f"pg_ctl stop failed ({done.returncode}):\n{done.stderr}")
        self._running = False
        self.start()

    def stop(self) -> None:
        """Stop the server and delete its files; safe to call twice."""
        if self._running:
            self._running = False
            self._run("pg_ctl", "stop", "-D", str(self.data_dir), "-m", "immediate", "-w")
        if self._base is not None:
            shutil.rmtree(self._base, ignore_errors=True)
            self._base = None


def start_postgres(attempts: int = 3) -> PostgresServer:
    """Initialise and start a server on a free port (retrying if the port was taken meanwhile)."""
    bin_dir = find_bin_dir()
    as_user = SERVER_USER if os.geteuid() == 0 else None
    if as_user:
        try:
            account = pwd.getpwnam(as_user)
        except KeyError:
            raise PostgresUnavailable(
                f"running as root, but there is no '{as_user}' user to run PostgreSQL as: "
                "run `make pg-deps` (the postgresql package creates it)"
            ) from None
    base = Path(tempfile.mkdtemp(prefix="decisionary-pg-", dir=_reachable_temp_dir(as_user)))
    os.chmod(base, 0o755)  # the server user must reach its data directory inside
    data_dir = base / "data"
    data_dir.mkdir(mode=0o700)
    if as_user:
        os.chown(data_dir, account.pw_uid, account.pw_gid)
    server = PostgresServer(bin_dir, data_dir, _free_port(), as_user)
    server._base = base
    atexit.register(server.stop)  # a safety net if the session dies before its finaliser runs
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


@contextlib.contextmanager
def running_postgres() -> Iterator[PostgresServer]:
    server = start_postgres()
    try:
        yield server
    finally:
        server.stop()
