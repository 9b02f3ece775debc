"""Faults that count: 2,000 decisions answered by the service while worker processes are killed
with SIGKILL at random moments, the receiver answers 500 or stalls past the timeout at random,
and (on PostgreSQL) the database is restarted once, abruptly. Afterwards every answered
decision's actions were received, none twice after de-duplication by idempotency key, none
pending, none dead.
"""

from __future__ import annotations

import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from execution.receiver import Receiver
from registry import create_key, make_engine, unit_of_work
from tests.execution.conftest import SCORE_YAML, SECRET, count, publish_model

ROOT = Path(__file__).resolve().parents[2]
DECISIONS = 2000
PRODUCERS = 4
WORKERS = 3
LEASE_SECONDS = 2
MIN_KILLS = 6

BINDINGS = """
defaults:
  timeout: 400ms
  retry: {{attempts: 40, backoff: 50ms, max_backoff: 500ms, on: [timeout, connection, 5xx]}}
on:
  - when: Outcome = "big"
    run: big
always: [every]
workflows:
  big:
    steps:
      - call: {{url: "{url}/a", body: {{decision: "{{{{ decision.id }}}}", action: a}}}}
  every:
    steps:
      - notify: {{webhook: {{url: "{url}/b", body: {{decision: "{{{{ decision.id }}}}", action: b}}}}}}
      - call: {{url: "{url}/c", body: {{decision: "{{{{ decision.id }}}}", action: c}}}}
"""


class WorkerFleet:
    """Worker processes (`decisionary worker`), killed with SIGKILL at random and replaced."""

    def __init__(self, database_url: str, size: int, logs: Path) -> None:
        self.database_url = database_url
        self.logs = logs
        self.started = 0
        self.log_of: dict[int, Path] = {}
        self.env = {**os.environ, "DECISIONARY_ALLOWED_HOSTS": "127.0.0.1", "DECISIONARY_WEBHOOK_SECRET": SECRET,
                    "DECISIONARY_LEASE_SECONDS": str(LEASE_SECONDS), "DECISIONARY_HOST_CONCURRENCY": "none"}
        self.processes = [self._start() for _ in range(size)]
        self.kills = 0
        self.rng = random.Random(20251126)  # noqa: S311 - chaos, not security

    def _start(self) -> subprocess.Popen[bytes]:
        self.started += 1
        path = self.logs / f"worker-{self.started}.log"
        log = open(path, "wb")  # noqa: SIM115 - the child writes it
        process = subprocess.Popen([sys.executable, "-m", "api.cli", "worker", "--database-url", self.database_url,
                                    "--threads", "4", "--poll", "0.05", "--no-migrate"], cwd=ROOT, env=self.env,
                                   stdout=subprocess.DEVNULL, stderr=log)
        self.log_of[process.pid] = path
        return process

    def errors(self) -> list[str]:
        """Lines of the workers' logs that report something going wrong (for the failure message)."""
        found = []
        for path in sorted(self.logs.glob("worker-*.log")):
            found += [f"{path.name}: {line}" for line in path.read_text(errors="replace").splitlines()
                      if "ERROR" in line or "Traceback" in line or "Error:" in line]
        return found[-20:]

    def kill_one(self) -> None:
        index = self.rng.randrange(len(self.processes))
        victim = self.processes[index]
        victim.send_signal(signal.SIGKILL)
        victim.wait(timeout=30)
        self.kills += 1
        self.processes[index] = self._start()

    def stop(self) -> list[int | None]:
        # A replacement still importing has no SIGTERM handler yet: let it come up first.
        deadline = time.monotonic() + 60
        for process in self.processes:
            log = self.log_of[process.pid]
            while "thread(s), lease" not in log.read_text(errors="replace") and time.monotonic() < deadline:
                time.sleep(0.1)
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        codes = []
        for process in self.processes:
            try:
                codes.append(process.wait(timeout=60))
            except subprocess.TimeoutExpired:
                process.kill()
                codes.append(None)
        return codes


@dataclass
class Service:
    """`decisionary serve` in its own process (its own core, as deployed), and what talks to it."""

    url: str
    engine: Engine
    caller_key: str
    process: subprocess.Popen[bytes]


@pytest.fixture
def service(database_url: str, tmp_path: Path) -> Iterator[Service]:
    engine = make_engine(database_url, pool_size=5)
    if engine.dialect.name == "postgresql":
        # The test server runs with synchronous_commit=off; this database commits for real (from the
        # next connection on), so an abrupt restart loses nothing that was answered.
        with engine.connect() as connection:
            name = engine.url.database
            connection.execute(sa.text(f'ALTER DATABASE "{name}" SET synchronous_commit = on'))
            connection.commit()
        engine.dispose()
    with unit_of_work(engine) as session:
        _, secret = create_key(session, "producer", "caller")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "DECISIONARY_ALLOWED_HOSTS": "127.0.0.1"}
    log = open(tmp_path / "service.log", "wb")  # noqa: SIM115 - the child writes it
    process = subprocess.Popen([sys.executable, "-m", "api.cli", "serve", "--database-url", database_url,
                                "--port", str(port), "--no-migrate"], cwd=ROOT, env=env, stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        assert process.poll() is None and time.monotonic() < deadline, (tmp_path / "service.log").read_text()
        time.sleep(0.2)
    try:
        yield Service(url, engine, secret, process)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
        engine.dispose()


def produce(service: Service, numbers: range, answered: dict[int, str], sent: Counter[str]) -> None:
    """Decide every number: one in four alone with an idempotency key (retried with the same key
    until answered), the others ten to a batch call (one transaction: a refused batch wrote nothing
    and is sent again)."""
    rng = random.Random(numbers.start)  # noqa: S311
    inputs = {n: {"Amount": rng.randint(0, 200), "Email": f"p{n}@x.y"} for n in numbers}
    singles = [n for n in numbers if n % 4 == 0]
    rest = [n for n in numbers if n % 4]
    batches = [rest[i:i + 10] for i in range(0, len(rest), 10)]
    with httpx.Client(base_url=service.url, headers={"Authorization": f"Bearer {service.caller_key}"},
                      timeout=60) as client:
        for n in singles:
            body = _answer(client, "/v1/decisions/score/evaluate", {"inputs": inputs[n]},
                           {"Idempotency-Key": f"decision-{n}"}, sent)
            answered[n] = body["decision_id"]
        for batch in batches:
            body = _answer(client, "/v1/decisions/score/evaluate-batch", {"rows": [inputs[n] for n in batch]}, {},
                           sent)
            for n, result in zip(batch, body["results"], strict=True):
                answered[n] = result["decision_id"]


def _answer(client: httpx.Client, path: str, body: dict[str, object], headers: dict[str, str],
            sent: Counter[str]) -> dict[str, Any]:
    while True:
        sent["calls"] += 1
        try:
            response = client.post(path, json=body, headers=headers)
        except httpx.TimeoutException:
            # Ambiguous (it may have been answered): only an idempotent call may be sent again.
            assert "Idempotency-Key" in headers, f"a batch call to {path} timed out"
            sent["unreachable"] += 1
            continue
        if response.status_code == 200:
            answer: dict[str, Any] = response.json()
            return answer
        assert response.status_code == 503, response.text  # the database is away: try again
        sent["refused"] += 1
        time.sleep(0.2)


def test_every_action_arrives_once_through_kills_failures_and_a_restart(
        service: Service, database_url: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    postgres = request.getfixturevalue("postgres_server") if database_url.startswith("postgresql") else None
    receiver = Receiver(secret=SECRET, fail_rate=0.15, timeout_rate=0.05, slow_seconds=0.8, seed=11).start()
    started = time.monotonic()
    try:
        publish_model(service.engine, "score", SCORE_YAML, BINDINGS.format(url=receiver.url))
        fleet = WorkerFleet(database_url, WORKERS, tmp_path)
        answered: dict[int, str] = {}
        sent: Counter[str] = Counter()
        share = DECISIONS // PRODUCERS
        producers = [threading.Thread(target=produce, args=(service, range(i * share, (i + 1) * share), answered,
                                                                 sent)) for i in range(PRODUCERS)]
        for thread in producers:
            thread.start()
        restarted = 0
        produced_in: float | None = None
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            time.sleep(fleet.rng.uniform(7.0, 12.0))
            fleet.kill_one()
            if produced_in is None and len(answered) == DECISIONS:
                produced_in = time.monotonic() - started
            if postgres is not None and not restarted and len(answered) >= DECISIONS // 2:
                postgres.restart(mode="immediate")
                restarted += 1
            if fleet.kills >= MIN_KILLS and len(answered) == DECISIONS and count(
                    service.engine, "SELECT count(*) FROM workflow_runs WHERE state IN ('ready', 'waiting')") == 0:
                break
        for thread in producers:
            thread.join(timeout=60)
        receiver.chaos = False
        codes = fleet.stop()

        records = count(service.engine, "SELECT count(*) FROM decision_records")
        pending = count(service.engine, "SELECT count(*) FROM workflow_runs WHERE state IN ('ready', 'waiting')")
        dead = count(service.engine, "SELECT count(*) FROM workflow_runs WHERE state = 'dead'")
        lost = count(service.engine, "SELECT count(*) FROM step_attempts WHERE outcome = 'lease-lost'")
        with service.engine.connect() as connection:
            outcomes = {row.id: row.outputs for row in connection.execute(
                sa.text("SELECT id, outputs FROM decision_records")).all()}
        expected: set[tuple[str, str]] = set()
        for decision in answered.values():
            outputs = outcomes[decision]
            if isinstance(outputs, str):
                outputs = json.loads(outputs)
            expected |= {(decision, "b"), (decision, "c")} | ({(decision, "a")} if outputs["Outcome"] == "big" else set())
        keys_per_action: dict[tuple[str, str], set[str]] = {}
        for key, delivery in receiver.processed.items():
            body = delivery.json()
            keys_per_action.setdefault((body["decision"], body["action"]), set()).add(key)
        received = set(keys_per_action)
        twice = [action for action, keys in keys_per_action.items() if len(keys) > 1]
        deliveries = len(receiver.deliveries)
        induced_500 = sum(1 for d in receiver.deliveries if d.answer == 500)
        duplicates = sum(receiver.duplicates.values())
        print(f"\nfault test on {sa.engine.make_url(database_url).get_backend_name()}: "
              f"{len(answered)} decisions answered ({records} records; {sent['calls']} calls, "
              f"{sent['refused']} refused while the database was away), "
              f"{len(expected)} actions expected, {len(received)} received, {len(twice)} received twice, "
              f"{pending} pending, {dead} dead; {deliveries} deliveries, {induced_500} induced 500s, "
              f"{duplicates} duplicate deliveries suppressed by idempotency key, {fleet.kills} workers SIGKILLed, "
              f"{lost} lost attempts taken over, {restarted} database restart(s), "
              f"{time.monotonic() - started:.0f} s (all answered after {produced_in or 0:.0f} s)")
    finally:
        receiver.stop()
    assert len(answered) == DECISIONS and records == DECISIONS
    assert received == expected and len(expected) > 2 * DECISIONS
    assert twice == []
    assert pending == 0 and dead == 0, fleet.errors()
    assert receiver.bad_signatures == 0
    assert fleet.kills >= MIN_KILLS and induced_500 > 100 and duplicates > 0 and lost > 0
    assert postgres is None or restarted == 1
    assert all(code == 0 for code in codes), codes  # the last workers stopped gracefully
