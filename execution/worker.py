"""`decisionary worker`: a process that carries out workflow steps, batch jobs and schedules.

    claim loop    claims as many due runs as it has free threads (execution/claims.py), hands
                  each to a thread (execution/runner.py); waits `poll_interval` when idle, and
                  wakes as soon as a thread frees up
    heartbeat     renews the leases of what it holds every lease/3 seconds
    maintenance   every few seconds: starts due schedules; claims a batch job when a thread is free

Any number of workers share one database. A worker that dies loses its leases and what it held
is taken over by the others once they expire (DECISIONARY_LEASE_SECONDS, 30 s by default).
`stop()` (SIGTERM/SIGINT in the CLI) stops claiming, lets the running steps finish and commit,
stops long runs and batch jobs between steps/chunks, and gives their leases back.
"""

from __future__ import annotations

import functools
import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import httpx
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from execution.batch import claim_batch_job, extend_job_lease, process_batch_job
from execution.bindings_store import LoadedVersions
from execution.claims import Claim, claim_runs, extend_leases, release
from execution.config import ExecutionConfig
from execution.email_steps import EmailSteps
from execution.http_steps import HttpSteps
from execution.limiter import HostLimiter
from execution.runner import Runner
from execution.schedules import fire_due_schedules
from registry.ids import new_ulid

log = logging.getLogger("decisionary.execution")


@dataclass(frozen=True)
class WorkerOptions:
    threads: int = 8
    lease_seconds: float | None = None  # None: the configuration's
    poll_interval: float = 0.5  # idle wait between claims
    maintenance_interval: float = 5.0  # schedules and batch jobs
    shutdown_grace: float = 60.0  # how long stop() waits for running steps
    batch_jobs: bool = True
    schedules: bool = True
    limits: bool = True  # per-host limits (execution/limiter.py)


def default_worker_id() -> str:
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{new_ulid()[-6:]}"


class Worker:
    def __init__(self, engine: Engine, config: ExecutionConfig, options: WorkerOptions | None = None, *,
                 worker_id: str | None = None) -> None:
        self.engine = engine
        self.config = config
        self.options = options or WorkerOptions()
        self.id = worker_id or default_worker_id()
        self.lease_seconds = self.options.lease_seconds or config.lease_seconds
        threads = max(1, self.options.threads)
        self.threads = threads
        self.client = httpx.Client(limits=httpx.Limits(max_connections=threads * 2,
                                                       max_keepalive_connections=threads * 2),
                                   follow_redirects=False, trust_env=False)
        self.limiter = HostLimiter(engine, config, self.id) if self.options.limits else None
        self.versions = LoadedVersions()
        self.stopping = threading.Event()
        self.runner = Runner(engine, config, self.id, self.versions, HttpSteps(config, self.client, self.limiter),
                             EmailSteps(config), limiter=self.limiter, stopping=self.stopping,
                             lease_seconds=self.lease_seconds, on_limited=self._host_limited)
        self._wake = threading.Event()
        self._lock = threading.Lock()
        self._in_flight: dict[str, Future[None]] = {}
        self._batch: Future[str] | None = None
        self._batch_job_id: str | None = None
        self._blocked_hosts: dict[str, float] = {}
        self._next_maintenance = 0.0
        self.stats = self.runner.stats

    # --- control -------------------------------------------------------------------------------

    def stop(self) -> None:
        """Stop claiming; running steps finish (see the module docstring)."""
        self.stopping.set()
        self._wake.set()

    def run(self, *, until: Callable[[], bool] | None = None) -> None:
        """Work until stop() (or until `until()` is true), then shut down gracefully."""
        log.info("worker %s: %d thread(s), lease %.0f s", self.id, self.threads, self.lease_seconds)
        pool = ThreadPoolExecutor(self.threads, thread_name_prefix="decisionary-step")
        heartbeat = threading.Thread(target=self._heartbeat, name="decisionary-heartbeat", daemon=True)
        heartbeat.start()
        failures = 0
        try:
            while not self.stopping.is_set():
                if until is not None and until():
                    break
                try:
                    busy = self._tick(pool)
                    failures = 0
                except SQLAlchemyError as exc:
                    failures += 1
                    wait = min(5.0, 0.2 * 2 ** min(failures, 5))
                    log.warning("worker %s: database unavailable (%s); retrying in %.1f s", self.id,
                                type(exc).__name__, wait)
                    self.stopping.wait(wait)
                    continue
                if not busy:
                    self._wake.wait(self.options.poll_interval)
                    self._wake.clear()
        finally:
            self.stopping.set()
            self._drain(pool)
            self.client.close()
            log.info("worker %s stopped", self.id)

    # --- the loop ------------------------------------------------------------------------------

    def _tick(self, pool: ThreadPoolExecutor) -> bool:
        now = time.monotonic()
        if now >= self._next_maintenance:
            self._next_maintenance = now + self.options.maintenance_interval
            self._maintenance(pool)
        # Up to twice as many runs as threads are held: the next ones wait in the pool's queue (their
        # leases renewed like the others), so one claim serves several steps.
        free = 2 * self.threads - self._busy_threads()
        if free < self.threads:
            return False  # woken when a thread frees up
        claims = claim_runs(self.engine, self.id, free, self.lease_seconds, exclude_targets=self._excluded())
        for claim in claims:
            future = pool.submit(self._execute, claim)
            with self._lock:
                self._in_flight[claim.run_id] = future
            future.add_done_callback(functools.partial(self._done, claim.run_id))
        return len(claims) == free

    def _maintenance(self, pool: ThreadPoolExecutor) -> None:
        if self.options.schedules:
            try:
                fired = fire_due_schedules(self.engine)
                if fired:
                    log.info("worker %s: schedules started batch job(s) %s", self.id, ", ".join(fired))
            except SQLAlchemyError as exc:
                log.warning("worker %s: schedules not checked: %s", self.id, type(exc).__name__)
        if self.options.batch_jobs and self._batch is None and self._busy_threads() < self.threads:
            # a batch job takes a thread for as long as it runs: only when one is idle
            job = claim_batch_job(self.engine, self.id, self.lease_seconds)
            if job is not None:
                self._batch_job_id = job.id
                self._batch = pool.submit(process_batch_job, self.engine, job, self.versions, self.config,
                                          stopping=self.stopping, lease_seconds=self.lease_seconds)
                self._batch.add_done_callback(lambda _f: self._batch_done())

    def _execute(self, claim: Claim) -> None:
        if self.stopping.is_set():  # claimed but not started when the worker was told to stop
            try:
                release(self.engine, claim)
            except SQLAlchemyError:
                pass  # the lease runs out instead
            return
        self.runner.run(claim)

    def _busy_threads(self) -> int:
        with self._lock:
            return len(self._in_flight) + (1 if self._batch is not None else 0)

    def _done(self, run_id: str, _future: Future[None] | None = None) -> None:
        with self._lock:
            self._in_flight.pop(run_id, None)
        self._wake.set()

    def _batch_done(self) -> None:
        future = self._batch
        if future is not None and future.exception() is not None:
            log.error("worker %s: batch job %s stopped: %s", self.id, self._batch_job_id, future.exception())
        self._batch = None
        self._batch_job_id = None
        self._wake.set()

    def _host_limited(self, host: str, wait: float) -> None:
        with self._lock:
            self._blocked_hosts[host] = max(self._blocked_hosts.get(host, 0.0), time.monotonic() + wait)

    def _excluded(self) -> list[str]:
        now = time.monotonic()
        with self._lock:
            for host in [h for h, until in self._blocked_hosts.items() if until <= now]:
                del self._blocked_hosts[host]
            return list(self._blocked_hosts)

    def _heartbeat(self) -> None:
        interval = max(0.2, self.lease_seconds / 3)
        while not self.stopping.wait(interval) or self._busy_threads():
            with self._lock:
                run_ids = list(self._in_flight)
            job_id = self._batch_job_id
            try:
                extend_leases(self.engine, self.id, run_ids, self.lease_seconds)
                if job_id is not None:
                    extend_job_lease(self.engine, self.id, job_id, self.lease_seconds)
            except SQLAlchemyError as exc:
                log.warning("worker %s: leases not renewed: %s", self.id, type(exc).__name__)
            if self.stopping.is_set():
                time.sleep(interval)

    def _drain(self, pool: ThreadPoolExecutor) -> None:
        deadline = time.monotonic() + self.options.shutdown_grace
        while self._busy_threads() and time.monotonic() < deadline:
            time.sleep(0.05)
        if self._busy_threads():
            log.warning("worker %s: %d step(s) still running after %.0f s; their leases will expire", self.id,
                        self._busy_threads(), self.options.shutdown_grace)
        pool.shutdown(wait=False)
