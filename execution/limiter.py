"""Per-host limits that hold across every worker process: the database is the limiter.

Concurrency: a host with a limit of N has N permit rows (`target_slots`). Taking one is an
atomic UPDATE of a free row to this worker; giving it back clears it. A permit taken for a
workflow run follows that run's lease (execution/claims.py): it names the run and the claim's
token, and it is free as soon as the run is no longer held under that token with a lease that
has not run out. So it is renewed with the lease (the worker's heartbeat) and comes back the
moment the lease is lost: a worker killed while holding permits frees them when its leases
expire, not a step timeout later. A permit taken for nothing in particular is held until its
own `expires`.

Rate: a token bucket per host in GCRA form (`target_rates.tat`, the "theoretical arrival
time"): a call is allowed when `tat <= now + burst*interval - interval`, and moves `tat` to
max(tat, now) + interval, in one conditional UPDATE. So `rate` calls per second on average,
bursts of up to `burst`.

Both are taken in one transaction (the permit first; if the rate refuses, the transaction
rolls back and the permit is not taken). A refusal says how long to wait; the worker puts the
step back with that delay (it is not an attempt) and leaves the host out of its next claims
meanwhile, so a slow or rate-limited partner neither gets flooded nor holds up the runs for
other hosts. Times are the workers' clocks (epoch seconds): keep them in sync (NTP).
"""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine

from execution.config import ExecutionConfig
from execution.tables import RunRow, TargetRateRow, TargetSlotRow

SLOTS = TargetSlotRow.__table__  # type: ignore[attr-defined]
RATES = TargetRateRow.__table__  # type: ignore[attr-defined]
RUNS = RunRow.__table__  # type: ignore[attr-defined]
CONCURRENCY_RETRY_S = 0.25  # how long to wait for a permit before trying again (plus jitter)


@dataclass(frozen=True)
class Lease:
    """The claim a permit is taken for: held while `run_id` is leased under `token`."""

    run_id: str
    token: str


@dataclass(frozen=True)
class Permit:
    host: str
    slot: int | None  # None: the host has no concurrency limit
    holder: str


@dataclass(frozen=True)
class Refusal:
    host: str
    wait: float  # seconds until trying again makes sense
    reason: str


class _RateRefused(Exception):
    def __init__(self, wait: float) -> None:
        self.wait = wait


class HostLimiter:
    def __init__(self, engine: Engine, config: ExecutionConfig, holder: str) -> None:
        self.engine = engine
        self.config = config
        self.holder = holder
        self._ensured: set[tuple[str, str]] = set()
        self._lock = threading.Lock()
        self._pg = engine.dialect.name == "postgresql"

    def acquire(self, host: str, lease_seconds: float = 30.0, *, lease: Lease | None = None) -> Permit | Refusal:
        """A permit for a call to `host`: held as long as `lease` holds, or else `lease_seconds`."""
        host = host.lower()
        limit = self.config.limit_for(host)
        if not limit.limited:
            return Permit(host, None, self.holder)
        self._ensure_rows(host, limit.concurrency, limit.rate is not None)
        now = time.time()
        try:
            with self.engine.begin() as connection:
                slot = None
                if limit.concurrency is not None:
                    slot = self._take_slot(connection, host, limit.concurrency, now, lease_seconds, lease)
                    if slot is None:
                        return Refusal(host, CONCURRENCY_RETRY_S * (1 + random.random()),  # noqa: S311 - jitter
                                       f"{host} has {limit.concurrency} call(s) in flight (its concurrency limit)")
                if limit.rate is not None:
                    interval = 1.0 / limit.rate
                    window = limit.burst * interval
                    taken = connection.execute(
                        sa.update(RATES)
                        .where(RATES.c.host == host, RATES.c.tat <= now + window - interval)
                        .values(tat=sa.case((RATES.c.tat > now, RATES.c.tat), else_=now) + interval)
                    ).rowcount
                    if not taken:
                        tat = connection.execute(sa.select(RATES.c.tat).where(RATES.c.host == host)).scalar_one()
                        # Leaving the block by an exception rolls back: the permit is not taken.
                        raise _RateRefused(max(0.01, float(tat) - (now + window - interval)))
        except _RateRefused as refused:
            return Refusal(host, refused.wait, f"{host} is at its rate limit ({limit.rate:g}/s)")
        return Permit(host, slot, self.holder)

    def release(self, permit: Permit, connection: Connection | None = None) -> None:
        """Give a permit back (in the caller's transaction when given one)."""
        if permit.slot is None:
            return
        statement = (sa.update(SLOTS)
                     .where(SLOTS.c.host == permit.host, SLOTS.c.slot == permit.slot, SLOTS.c.holder == permit.holder)
                     .values(holder=None, expires=0.0, run_id=None, lease_token=None))
        if connection is not None:
            connection.execute(statement)
            return
        with self.engine.begin() as own:
            own.execute(statement)

    def _take_slot(self, connection: Connection, host: str, concurrency: int, now: float,
                   lease_seconds: float, lease: Lease | None) -> int | None:
        leased = sa.exists().where(RUNS.c.id == SLOTS.c.run_id, RUNS.c.lease_token == SLOTS.c.lease_token,
                                   RUNS.c.lease_expires >= datetime.fromtimestamp(now, UTC))
        free = sa.and_(SLOTS.c.host == host, SLOTS.c.slot < concurrency,
                       sa.or_(SLOTS.c.holder.is_(None),
                              sa.and_(SLOTS.c.run_id.is_(None), SLOTS.c.expires < now),
                              sa.and_(SLOTS.c.run_id.is_not(None), ~leased)))
        candidate = sa.select(SLOTS.c.slot).where(free).order_by(SLOTS.c.slot).limit(1)
        if self._pg:
            candidate = candidate.with_for_update(skip_locked=True)
        row = connection.execute(
            sa.update(SLOTS).where(free, SLOTS.c.slot == candidate.scalar_subquery())
            .values(holder=self.holder, expires=now + lease_seconds, run_id=lease.run_id if lease else None,
                    lease_token=lease.token if lease else None).returning(SLOTS.c.slot)
        ).first()
        return int(row[0]) if row is not None else None

    def _ensure_rows(self, host: str, concurrency: int | None, rated: bool) -> None:
        key = (host, f"{concurrency}:{rated}")
        with self._lock:
            if key in self._ensured:
                return
        insert = postgresql.insert if self._pg else sqlite.insert
        with self.engine.begin() as connection:
            if concurrency:
                connection.execute(insert(SLOTS).values([{"host": host, "slot": i, "holder": None, "expires": 0.0}
                                                         for i in range(concurrency)]).on_conflict_do_nothing())
            if rated:
                connection.execute(insert(RATES).values(host=host, tat=0.0).on_conflict_do_nothing())
        with self._lock:
            self._ensured.add(key)
