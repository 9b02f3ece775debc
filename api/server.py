"""Running the service under uvicorn: one process, or several workers from the app factory."""

from __future__ import annotations

import contextlib
import os
import socket
from pathlib import Path

import uvicorn

from registry.db import DATA_DIR_ENV, DATABASE_URL_ENV, default_url, upgrade

APP_FACTORY = "api.app:app_from_env"


def configure(*, data_dir: Path | None = None, database_url: str | None = None) -> str:
    """Point this process (and the workers it starts) at a database; returns its URL.

    Settings travel in the environment because uvicorn workers build their app from an import
    string and see nothing else of this process.
    """
    if data_dir is not None:
        os.environ[DATA_DIR_ENV] = str(data_dir)
    if database_url:
        os.environ[DATABASE_URL_ENV] = database_url
    return default_url()


def listening_socket(host: str, port: int) -> socket.socket:
    """The socket the workers share. Made as an explicit TCP socket: asyncio turns Nagle off only
    on connections of such sockets, and uvicorn's own (protocol 0) would leave it on, which adds
    the client's delayed ACK (~40 ms) to responses on kept-alive connections."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.set_inheritable(True)
    return sock


def serve(host: str = "127.0.0.1", port: int = 8000, *, workers: int = 1, data_dir: Path | None = None,
          database_url: str | None = None, migrate: bool = True, log_level: str = "info",
          access_log: bool = False) -> None:
    """Migrate the database (unless told not to) and serve until interrupted.

    uvicorn picks httptools and uvloop (installed with uvicorn[standard]) when they are there."""
    url = configure(data_dir=data_dir, database_url=database_url)
    if migrate:
        upgrade(url)
    if workers > 1:
        from uvicorn.supervisors import Multiprocess

        config = uvicorn.Config(APP_FACTORY, factory=True, host=host, port=port, workers=workers,
                                log_level=log_level, access_log=access_log)
        with contextlib.suppress(KeyboardInterrupt):
            Multiprocess(config, sockets=[listening_socket(host, port)]).run()
    else:
        from api.app import app_from_env

        uvicorn.run(app_from_env(), host=host, port=port, log_level=log_level, access_log=access_log)
