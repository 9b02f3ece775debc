"""Fixtures of the execution tests: real receivers on 127.0.0.1, a real SMTP sink, published
models with bindings, decisions recorded the way the service records them, and workers.

- `receiver`: execution.receiver.Receiver (threaded http.server) that verifies signatures with
  SECRET and processes each idempotency key once; tests tell it to fail or be slow.
- `smtp_sink`: an aiosmtpd Controller on a free port of 127.0.0.1 that keeps every message.
- `engine` (tests/conftest.py): a fresh migrated database, SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from sqlalchemy.engine import Engine

from decisions.feel.values import to_json
from execution.bindings_store import LoadedVersions, attach_bindings
from execution.config import ExecutionConfig, HostLimit
from execution.outbox import enqueue_runs
from execution.receiver import Receiver
from execution.worker import Worker, WorkerOptions
from registry import approve, create_draft, publish, record_decision, resolve, set_alias, submit, unit_of_work
from tests.api.conftest import Live, start_live, stop_live

SECRET = "test-secret-1"
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
LOAN_DMN = EXAMPLES / "loan-approval.dmn"
LOAN_BINDINGS = EXAMPLES / "bindings" / "loan-approval.yaml"

APPROVE = {"Applicant Age": 35, "Monthly Income": 5200, "Monthly Debt": 1100, "Credit Score": 712,
           "Employment Status": "Employed", "Requested Amount": 25000}
REJECT = {**APPROVE, "Applicant Age": 16}
REFER = {**APPROVE, "Requested Amount": 45000}
LARGE = {**APPROVE, "Monthly Income": 15200, "Requested Amount": 85000}

# A tiny model for workflow tests: one input, one decision.
SCORE_YAML = """\
model: score
namespace: https://decisionary.dev/tests/score
inputs:
  Amount: number
  Email: string
decisions:
  Outcome:
    type: string
    requires: [Amount]
    expression: 'if Amount > 100 then "big" else "small"'
"""


def config_for(*, limits: HostLimit | None = None, smtp: Any = None, lease: float = 30.0,
               **changes: Any) -> ExecutionConfig:
    settings: dict[str, Any] = {"allowed_hosts": ("127.0.0.1",), "default_secret": SECRET,
                                "default_limit": limits or HostLimit(concurrency=None), "smtp": smtp,
                                "lease_seconds": lease, **changes}
    return ExecutionConfig(**settings)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver(secret=SECRET, slow_seconds=1.5, seed=7) as running:
        yield running


@dataclass
class SmtpSink:
    host: str
    port: int
    messages: list[Message] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's name
        with self.lock:
            self.messages.append(message_from_bytes(envelope.content))
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def smtp_sink() -> Iterator[SmtpSink]:
    sink = SmtpSink("127.0.0.1", _free_port())
    controller = Controller(sink, hostname=sink.host, port=sink.port)
    controller.start()
    try:
        yield sink
    finally:
        controller.stop()


def publish_model(engine: Engine, key: str, content: bytes | str, bindings: str | None, *, fmt: str | None = None,
                  config: ExecutionConfig | None = None) -> int:
    """Draft (with bindings), submit, approve, publish, production -> it; the version number."""
    with unit_of_work(engine) as session:
        version = create_draft(session, key, content, author="ana", format=fmt)
        if bindings is not None:
            attach_bindings(session, key, version.number, bindings, by="ana", config=config)
        submit(session, key, version.number, by="ana")
        approve(session, key, version.number, by="bob")
        publish(session, key, version.number, by="bob")
        set_alias(session, key, "production", version.number, by="bob")
    return version.number


def loan_bindings(receiver: Receiver) -> str:
    return LOAN_BINDINGS.read_text().replace("http://127.0.0.1:8001", receiver.url)


def decide(engine: Engine, ref: str, inputs: Mapping[str, Any], *, versions: LoadedVersions | None = None,
           callback_url: str | None = None, config: ExecutionConfig | None = None) -> tuple[str, list[str]]:
    """Evaluate and record a decision with its runs in one transaction, as the service does:
    (decision id, run ids)."""
    versions = versions or LoadedVersions()
    with unit_of_work(engine) as session:
        resolved = resolve(session, ref)
        loaded = versions.get(session, resolved.key, resolved.number, resolved.version.content_hash)
        result = loaded.model.evaluate(dict(inputs))
        record = record_decision(session, key=resolved.key, version=resolved.number,
                                 content_hash=resolved.version.content_hash, alias=resolved.alias,
                                 inputs=dict(inputs), outputs={k: to_json(v) for k, v in result.outputs.items()},
                                 fired=result.fired, problems=[p.to_dict() for p in result.problems],
                                 latency_us=1, caller="tests")
        runs = enqueue_runs(session, record, loaded, result.outputs, callback_url=callback_url, config=config)
    return record.id, runs


def count(engine: Engine, sql: str, **params: Any) -> int:
    with engine.connect() as connection:
        return int(connection.execute(sa.text(sql), params).scalar_one())


def rows(engine: Engine, sql: str, **params: Any) -> list[Any]:
    with engine.connect() as connection:
        return list(connection.execute(sa.text(sql), params).all())


def from_db(value: Any) -> Any:
    """A JSON column read with raw SQL: text on SQLite, already decoded on PostgreSQL."""
    return json.loads(value) if isinstance(value, (str, bytes)) else value


def work(engine: Engine, config: ExecutionConfig, until: Callable[[], bool], *, timeout: float = 30.0,
         threads: int = 4, lease: float | None = None, **options: Any) -> Worker:
    """Run a worker in this thread until `until()` holds; fails the test after `timeout` seconds."""
    worker = Worker(engine, config, WorkerOptions(threads=threads, poll_interval=0.05, lease_seconds=lease,
                                                  maintenance_interval=options.pop("maintenance_interval", 0.2),
                                                  **options))
    deadline = time.monotonic() + timeout
    timed_out = []

    def finished() -> bool:
        if time.monotonic() > deadline:
            timed_out.append(True)
            return True
        return until()

    worker.run(until=finished)
    assert not timed_out, f"the worker did not get there within {timeout} s: {dict(worker.stats.counts)}"
    return worker


def settled(engine: Engine) -> Callable[[], bool]:
    """No run is ready any more (all done, dead, cancelled or waiting for a person)."""
    return lambda: count(engine, "SELECT count(*) FROM workflow_runs WHERE state = 'ready'") == 0


@pytest.fixture
def service(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Live]:
    """A live service that may call back the test receiver (127.0.0.1) and signs with SECRET."""
    monkeypatch.setenv("DECISIONARY_ALLOWED_HOSTS", "127.0.0.1")
    monkeypatch.setenv("DECISIONARY_WEBHOOK_SECRET", SECRET)
    running, server = start_live(database_url)
    try:
        yield running
    finally:
        stop_live(running, server)
    assert running.app.state.unexpected_errors == [], "requests reached the catch-all 500 handler"


def publish_with_bindings(live: Live, bindings: str) -> None:
    """loan-approval version 1 with `bindings`, through the API: uploaded, submitted, approved,
    published and made production."""
    upload = live.upload("loan-approval", LOAN_DMN.read_bytes(), LOAN_DMN.name)
    assert upload.status_code == 201, upload.text
    put = live.client("author").put("/v1/models/loan-approval/versions/1/bindings", json={"bindings": bindings})
    assert put.status_code == 200, put.text
    base = "/v1/models/loan-approval/versions/1"
    assert live.client("author").post(f"{base}/submit").status_code == 200
    for step in ("approve", "publish"):
        assert live.client("approver").post(f"{base}/{step}", json={"comment": step}).status_code == 200
    assert live.client("approver").put("/v1/models/loan-approval/aliases/production",
                                       json={"version": 1, "why": "test"}).status_code == 200
