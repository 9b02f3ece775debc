"""Leases, attempts and permits: a worker that dies costs a crash, not an attempt, unless it had
started sending; and a host permit is held exactly as long as the lease of the run it was taken
for, so a killed worker's permits come back when its leases expire, not a step timeout later."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from api.routes.execution import run_out
from execution.claims import claim_runs, start_attempt
from execution.config import HostLimit
from execution.limiter import HostLimiter, Lease, Permit, Refusal
from execution.operations import get_run
from execution.receiver import Receiver
from execution.stats import execution_stats, prometheus_text
from execution.tables import RunRow
from registry import make_engine, unit_of_work
from registry.tables import utcnow
from tests.execution.conftest import (
    SCORE_YAML,
    SECRET,
    config_for,
    count,
    decide,
    publish_model,
    rows,
    settled,
    work,
)

ROOT = Path(__file__).resolve().parents[2]
RUNS = RunRow.__table__  # type: ignore[attr-defined]


def bindings(url: str, *, attempts: int = 3, timeout: str = "2s") -> str:
    return f"""
defaults: {{timeout: {timeout}, retry: {{attempts: {attempts}, backoff: 10ms, max_backoff: 20ms}}}}
workflows:
  main:
    steps:
      - call: {{url: "{url}/hook"}}
always: main
"""


def _abandon(engine: Engine, times: int) -> None:
    """Claim the due run `times` times, each by a worker that dies at once (before sending):
    every claim is made after the one before it has expired, all in the past."""
    base = utcnow() - timedelta(seconds=10 * times + 10)
    with engine.begin() as connection:
        connection.execute(sa.update(RUNS).values(due_at=base))
    for i in range(times):
        claimed = claim_runs(engine, f"doomed-{i}", 10, lease_seconds=1, now=base + timedelta(seconds=5 * i + 1))
        assert len(claimed) == 1


def test_a_run_abandoned_before_sending_more_times_than_its_attempts_is_delivered_once(
        engine: Engine, receiver: Receiver) -> None:
    config = config_for()
    publish_model(engine, "score", SCORE_YAML, bindings(receiver.url, attempts=3), config=config)
    _, runs = decide(engine, "score", {"Amount": 5, "Email": "a@b.c"})
    crashes = 5  # more than the step's 3 attempts
    _abandon(engine, crashes)

    work(engine, config, settled(engine))
    run = rows(engine, "SELECT state, attempt, crashes, last_error FROM workflow_runs WHERE id = :id", id=runs[0])[0]
    assert run.state == "done", run.last_error
    assert receiver.processed_count() == 1 and len(receiver.deliveries) == 1
    # The first claim found no lease to take over; each later one (the healthy worker's too) did.
    assert run.crashes == crashes
    assert [(a.attempt, a.outcome) for a in rows(engine, "SELECT attempt, outcome FROM step_attempts")] == [(1, "ok")]

    with unit_of_work(engine, read_only=True) as session:
        stats = execution_stats(session)
        view = get_run(session, runs[0])
    assert stats["workflows"]["main"]["crashes"] == crashes
    # The run view the API (GET /v1/execution/runs/{id}) and `decisionary runs` show.
    shown = run_out(view, attempts=[])
    assert (shown.crashes, shown.attempt, shown.state) == (crashes, 0, "done")
    assert f'decisionary_workflow_crashes_total{{workflow="main"}} {crashes}.0' in prometheus_text(stats).decode()


def test_an_attempt_started_and_lost_counts_and_is_recorded(engine: Engine, receiver: Receiver) -> None:
    config = config_for()
    publish_model(engine, "score", SCORE_YAML, bindings(receiver.url, attempts=3), config=config)
    _, runs = decide(engine, "score", {"Amount": 5, "Email": "a@b.c"})
    base = utcnow() - timedelta(seconds=60)
    with engine.begin() as connection:
        connection.execute(sa.update(RUNS).values(due_at=base))
    for i in range(3):  # each worker started sending, then died: three real attempts
        claim = claim_runs(engine, f"sender-{i}", 10, lease_seconds=1, now=base + timedelta(seconds=5 * i))[0]
        start_attempt(engine, claim, claim.attempt + 1)

    work(engine, config, settled(engine))
    run = rows(engine, "SELECT state, crashes, last_error FROM workflow_runs WHERE id = :id", id=runs[0])[0]
    assert run.state == "dead" and "started 3 time(s)" in run.last_error
    assert run.crashes == 3
    history = rows(engine, "SELECT attempt, outcome, worker FROM step_attempts ORDER BY id")
    assert [(h.attempt, h.outcome, h.worker) for h in history] == [(3, "lease-lost", "sender-2")]
    assert receiver.deliveries == []  # the healthy worker found the step's attempts used up


def test_a_permit_follows_the_lease_of_its_run(engine: Engine, receiver: Receiver) -> None:
    config = config_for(host_limits={"partner": HostLimit(concurrency=1)})
    publish_model(engine, "score", SCORE_YAML, bindings(receiver.url), config=config)
    _, runs = decide(engine, "score", {"Amount": 5, "Email": "a@b.c"})
    claim = claim_runs(engine, "w1", 10, lease_seconds=600)[0]
    first, second = HostLimiter(engine, config, "w1"), HostLimiter(engine, config, "w2")
    assert isinstance(first.acquire("partner", lease=Lease(claim.run_id, claim.token)), Permit)
    assert isinstance(second.acquire("partner", 600), Refusal)  # held while the lease holds, however long
    with engine.begin() as connection:  # the lease runs out (w1 stopped renewing it)
        connection.execute(sa.update(RUNS).where(RUNS.c.id == runs[0])
                           .values(lease_expires=utcnow() - timedelta(seconds=1)))
    assert isinstance(second.acquire("partner", 600), Permit)


def test_a_killed_worker_frees_its_permit_when_its_lease_expires(database_url: str, tmp_path: Path) -> None:
    lease = 6.0
    engine = make_engine(database_url, pool_size=5)
    slow = Receiver(secret=SECRET, delay=40.0).start()  # the call is in flight until the worker is killed
    log = open(tmp_path / "worker.log", "wb")  # noqa: SIM115 - the child writes it
    worker = None
    try:
        config = config_for(host_limits={"127.0.0.1": HostLimit(concurrency=1)})
        publish_model(engine, "score", SCORE_YAML, bindings(slow.url, timeout="60s"), config=config)
        _, runs = decide(engine, "score", {"Amount": 5, "Email": "a@b.c"})
        env = {**os.environ, "DECISIONARY_ALLOWED_HOSTS": "127.0.0.1", "DECISIONARY_WEBHOOK_SECRET": SECRET,
               "DECISIONARY_LEASE_SECONDS": str(lease), "DECISIONARY_HOST_CONCURRENCY": "1"}
        worker = subprocess.Popen([sys.executable, "-m", "api.cli", "worker", "--database-url", database_url,
                                   "--threads", "2", "--poll", "0.05", "--no-migrate"], cwd=ROOT, env=env,
                                  stdout=subprocess.DEVNULL, stderr=log)
        deadline = time.monotonic() + 120
        while slow.in_flight == 0:
            assert worker.poll() is None and time.monotonic() < deadline, (tmp_path / "worker.log").read_text()
            time.sleep(0.05)
        other = HostLimiter(engine, config, "other-worker")
        # Alive, the worker keeps its lease and with it the permit, past the first lease's end.
        _wait_past(_lease_expires(engine, runs[0]) + timedelta(seconds=1))
        assert worker.poll() is None and slow.in_flight == 1
        assert isinstance(other.acquire("127.0.0.1", 600), Refusal)

        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=30)
        _wait_past(_lease_expires(engine, runs[0]))  # nobody renews it now
        permit = other.acquire("127.0.0.1", 600)
        assert isinstance(permit, Permit), permit  # not 60 s (the step's timeout) + 30 s later
        assert count(engine, "SELECT count(*) FROM target_slots WHERE holder = 'other-worker'") == 1
    finally:
        if worker is not None and worker.poll() is None:
            worker.kill()
            worker.wait(timeout=30)
        log.close()
        slow.stop()
        engine.dispose()


def _lease_expires(engine: Engine, run_id: str) -> datetime:
    with engine.connect() as connection:
        found = connection.execute(sa.select(RUNS.c.lease_expires).where(RUNS.c.id == run_id)).scalar_one()
    assert isinstance(found, datetime)
    return found


def _wait_past(moment: datetime) -> None:
    """Until the clock has passed `moment` (a lease's end): waiting for time, not for work."""
    while utcnow() <= moment:
        time.sleep(0.05)
