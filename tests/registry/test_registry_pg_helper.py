"""The throwaway PostgreSQL helper: it says what to do when the server is missing."""

from __future__ import annotations

from pathlib import Path

import pg
import psycopg
import pytest


def test_missing_binaries_fail_with_the_install_command(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DECISIONARY_PG_BIN", str(tmp_path))  # an empty directory
    monkeypatch.setattr(pg.glob, "glob", lambda pattern: [])
    monkeypatch.setattr(pg.shutil, "which", lambda name: None)
    with pytest.raises(pg.PostgresUnavailable, match="make pg-deps"):
        pg.find_bin_dir()


def test_the_session_server_is_local_and_fast(postgres_server: pg.PostgresServer) -> None:
    assert postgres_server.url("x").startswith(f"postgresql+psycopg://postgres@127.0.0.1:{postgres_server.port}/")
    with psycopg.connect(host="127.0.0.1", port=postgres_server.port, user="postgres", dbname="postgres") as conn:
        settings: dict[str, str] = dict(conn.execute(
            "SELECT name, setting FROM pg_settings WHERE name IN ('fsync', 'listen_addresses')").fetchall())
    assert settings == {"fsync": "off", "listen_addresses": "127.0.0.1"}


def test_a_server_can_be_started_and_stopped_again(tmp_path: Path) -> None:
    with pg.running_postgres() as server:
        data_dir = server.data_dir
        server.create_database("scratch")
        with psycopg.connect(host="127.0.0.1", port=server.port, user="postgres", dbname="scratch") as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)
    assert not data_dir.exists()
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(host="127.0.0.1", port=server.port, user="postgres", dbname="postgres", connect_timeout=2)
