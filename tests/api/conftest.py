"""A real service for the API tests: uvicorn on 127.0.0.1, on a fresh database of each backend.

`live` starts the app from `api.app.create_app` under uvicorn in a thread of the test process,
listening on a socket bound to a free port of 127.0.0.1, over the `database_url` fixture of
tests/conftest.py (so every test using it runs on SQLite and on PostgreSQL). Tests talk to it
over HTTP with httpx. One API key per role is created in the registry beforehand.

When the server stops, the fixture checks that no request reached the catch-all 500 handler:
every API test thereby proves that whatever it sent was answered by a deliberate problem.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from sqlalchemy.engine import Engine

from api.app import create_app
from api.server import listening_socket
from api.settings import Settings
from registry import create_key, make_engine, unit_of_work

ROLES = ("viewer", "author", "approver", "caller", "reviewer", "admin")
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
LOAN_DMN = EXAMPLES / "loan-approval.dmn"
LOAN_INPUT = EXAMPLES / "loan-approval-input.json"

SHIPPING_YAML = """\
model: shipping
namespace: https://decisionary.dev/tests/shipping
types:
  tSpeed:
    type: string
    allowed: '"standard", "express"'
inputs:
  Weight: number
  Speed: tSpeed
  Ship Date: date
decisions:
  Fee:
    type: number
    requires: [Weight, Speed]
    table:
      hit policy: FIRST
      inputs: [Weight, Speed]
      rules:
        - ["<= 1", '"standard"', "5"]
        - ["<= 1", '"express"', "9"]
        - ["> 1", "-", "Weight * 4"]
  Arrival:
    type: date
    requires: [Ship Date, Speed]
    expression: 'Ship Date + (if Speed = "express" then duration("P1D") else duration("P3D"))'
"""


class ServerThread:
    """uvicorn serving `app` on a free port of 127.0.0.1, in a thread, until `stop()`."""

    def __init__(self, app: FastAPI) -> None:
        self.socket = listening_socket("127.0.0.1", 0)  # the socket `decisionary serve` makes
        self.port = int(self.socket.getsockname()[1])
        config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.socket]}, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 20.0) -> None:
        self.thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the test server did not start")
            time.sleep(0.01)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=20)
        self.socket.close()


@dataclass
class Live:
    """A running service and what tests need to talk to it."""

    url: str
    app: FastAPI
    engine: Engine
    database_url: str
    keys: dict[str, str] = field(default_factory=dict)  # role -> secret
    clients: list[httpx.Client] = field(default_factory=list)

    def client(self, role: str | None = None, *, secret: str | None = None) -> httpx.Client:
        """An httpx client with the API key of `role` (or `secret`; neither: no key)."""
        key = secret if secret is not None else (self.keys[role] if role else None)
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        client = httpx.Client(base_url=self.url, headers=headers, timeout=30)
        self.clients.append(client)
        return client

    def upload(self, key: str, content: bytes | str, filename: str, *, role: str = "author",
               test_cases: str | None = None) -> httpx.Response:
        data = content.encode() if isinstance(content, str) else content
        files: dict[str, Any] = {"file": (filename, data)}
        if test_cases is not None:
            files["test_cases"] = ("cases.yaml", test_cases.encode())
        return self.client(role).post(f"/v1/models/{key}/versions", files=files)

    def publish(self, key: str, content: bytes | str, filename: str, *, alias: str | None = "production",
                test_cases: str | None = None) -> int:
        """Upload, submit (author), approve and publish (approver), point `alias` at it; the number."""
        response = self.upload(key, content, filename, test_cases=test_cases)
        assert response.status_code == 201, response.text
        number = int(response.json()["number"])
        base = f"/v1/models/{key}/versions/{number}"
        assert self.client("author").post(f"{base}/submit").status_code == 200
        for step in ("approve", "publish"):
            response = self.client("approver").post(f"{base}/{step}", json={"comment": step})
            assert response.status_code == 200, response.text
        if alias:
            response = self.client("approver").put(f"/v1/models/{key}/aliases/{alias}",
                                                   json={"version": number, "why": "test"})
            assert response.status_code == 200, response.text
        return number

    @contextlib.contextmanager
    def records_table_missing(self) -> Iterator[None]:
        """Decision records cannot be written inside the block (their table is renamed away)."""
        with self.engine.begin() as connection:
            connection.exec_driver_sql("ALTER TABLE decision_records RENAME TO decision_records_away")
        try:
            yield
        finally:  # the PostgreSQL database is shared by the module's tests: put it back
            with self.engine.begin() as connection:
                connection.exec_driver_sql("ALTER TABLE decision_records_away RENAME TO decision_records")

    def count_records(self) -> int:
        with self.engine.connect() as connection:
            return int(connection.exec_driver_sql("SELECT count(*) FROM decision_records").scalar_one())


def start_live(database_url: str, settings: Settings | None = None) -> tuple[Live, ServerThread]:
    engine = make_engine(database_url, pool_size=5)
    keys: dict[str, str] = {}
    with unit_of_work(engine) as session:
        for role in ROLES:
            _, keys[role] = create_key(session, f"{role}-person", role)
    app = create_app(settings or Settings(database_url=database_url))
    server = ServerThread(app)
    server.start()
    return Live(server.url, app, engine, database_url, keys), server


def stop_live(live: Live, server: ServerThread) -> None:
    for client in live.clients:
        client.close()
    server.stop()
    live.engine.dispose()


@pytest.fixture
def live(database_url: str) -> Iterator[Live]:
    service, server = start_live(database_url)
    try:
        yield service
    finally:
        stop_live(service, server)
    assert service.app.state.unexpected_errors == [], "requests reached the catch-all 500 handler"


@pytest.fixture
def loan(live: Live) -> Live:
    """`live` with the loan-approval example published, production -> version 1."""
    live.publish("loan-approval", LOAN_DMN.read_bytes(), LOAN_DMN.name)
    return live
