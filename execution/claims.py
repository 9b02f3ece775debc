"""Claiming due steps under a lease, and recording what became of them.

Claim (one statement, any number of workers on one database):

    UPDATE workflow_runs SET lease_owner = :worker, lease_token = :token, lease_expires = now + lease,
                             prev_lease_owner = lease_owner,
                             crashes = crashes + (1 if lease_owner IS NOT NULL)
    WHERE id IN (SELECT id FROM workflow_runs
                 WHERE state IN ('ready', 'waiting') AND due_at <= now
                   AND (lease_expires IS NULL OR lease_expires < now)
                 ORDER BY due_at LIMIT :n
                 FOR UPDATE SKIP LOCKED)          -- PostgreSQL; SQLite's write lock serialises claims
    RETURNING ...

A lease is renewed by the worker's heartbeat while the step runs. A worker that dies stops
renewing; once the lease has expired the run matches the claim again and another worker takes
it: no recovery job. A run claimed while another worker's lease on it had run out counts a
crash (`crashes`), never an attempt: a worker that keeps dying before it sends anything cannot
use up a step's attempts. An attempt counts when it starts (`start_attempt`, just before the
request is sent, fenced by the claim's token); an attempt started and never finished
(`attempt_started_at` still set when the run is claimed again) is recorded in the step's
history as lost, and the step runs again with the same idempotency key.

Completion is fenced: it commits only while the claim's token is still the run's token, so a
worker whose lease was taken over cannot overwrite the newer owner's progress.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session

from execution.tables import ACTIVE_RUN_STATES, AttemptRow, RunRow
from registry.db import unit_of_work
from registry.tables import utcnow

RUNS = RunRow.__table__  # type: ignore[attr-defined]
ATTEMPTS = AttemptRow.__table__  # type: ignore[attr-defined]


@dataclass
class Claim:
    """A run this worker holds: its state when claimed, and the token that fences its updates."""

    run_id: str
    token: str
    decision_id: str
    model_key: str
    version: int
    content_hash: str
    bindings_hash: str
    workflow: str
    origin: str
    state: str
    step_index: int
    attempt: int
    context: dict[str, Any]
    prev_owner: str | None
    created_at: datetime
    attempt_started_at: datetime | None = None  # an attempt started and not finished: lost
    crashes: int = 0


class LeaseLost(Exception):
    """The claim's lease was taken over (or ran out) before this worker could go on."""


_CLAIM_COLUMNS = ("id", "lease_token", "decision_id", "model_key", "version", "content_hash", "bindings_hash",
                  "workflow", "origin", "state", "step_index", "attempt", "context", "prev_lease_owner",
                  "created_at", "attempt_started_at", "crashes")


def claim_runs(engine: Engine, worker: str, limit: int, lease_seconds: float, *,
               exclude_targets: Iterable[str] = (), now: datetime | None = None) -> list[Claim]:
    """Lease up to `limit` due runs to `worker`; the oldest due first."""
    if limit <= 0:
        return []
    now = now or utcnow()
    token = secrets.token_hex(16)
    due = (sa.select(RUNS.c.id)
           .where(RUNS.c.state.in_(ACTIVE_RUN_STATES), RUNS.c.due_at <= now,
                  sa.or_(RUNS.c.lease_expires.is_(None), RUNS.c.lease_expires < now)))
    excluded = sorted(set(exclude_targets))
    if excluded:
        due = due.where(sa.or_(RUNS.c.target.is_(None), RUNS.c.target.not_in(excluded)))
    # A read first: an idle worker polling an empty queue takes no write lock (SQLite) and no
    # row locks (PostgreSQL).
    with engine.execution_options(decisionary_read_only=True).connect() as connection:
        if connection.execute(due.limit(1)).first() is None:
            return []
    due = due.order_by(RUNS.c.due_at).limit(limit)
    if engine.dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    statement = (
        sa.update(RUNS)
        .where(RUNS.c.id.in_(due.scalar_subquery()))
        .values(lease_owner=worker, lease_token=token, lease_expires=now + timedelta(seconds=lease_seconds),
                prev_lease_owner=RUNS.c.lease_owner,
                crashes=RUNS.c.crashes + sa.case((RUNS.c.lease_owner.is_not(None), 1), else_=0))
        .returning(*(RUNS.c[name] for name in _CLAIM_COLUMNS))
    )
    with engine.begin() as connection:
        rows = connection.execute(statement).all()
    claims = [Claim(row.id, row.lease_token, row.decision_id, row.model_key, row.version, row.content_hash,
                    row.bindings_hash, row.workflow, row.origin, row.state, row.step_index, row.attempt,
                    dict(row.context or {}), row.prev_lease_owner, row.created_at, row.attempt_started_at,
                    int(row.crashes)) for row in rows]
    claims.sort(key=lambda c: c.run_id)
    return claims


def extend_leases(engine: Engine, worker: str, run_ids: Sequence[str], lease_seconds: float) -> int:
    """The heartbeat: push back the lease of runs still held by `worker`."""
    if not run_ids:
        return 0
    with engine.begin() as connection:
        return int(connection.execute(
            sa.update(RUNS).where(RUNS.c.id.in_(list(run_ids)), RUNS.c.lease_owner == worker)
            .values(lease_expires=utcnow() + timedelta(seconds=lease_seconds))
        ).rowcount)


def start_attempt(engine: Engine, claim: Claim, attempt: int, *, history: Sequence[Attempt] = ()) -> datetime:
    """Count attempt number `attempt` of the claimed run's step as started, just before its
    request goes out, with `history` (lost attempts found at the claim); LeaseLost (and nothing
    is sent) if the claim no longer holds the run."""
    now = utcnow()
    with engine.begin() as connection:
        held = connection.execute(
            sa.update(RUNS).where(RUNS.c.id == claim.run_id, RUNS.c.lease_token == claim.token)
            .values(attempt=attempt, attempt_started_at=now)
        ).rowcount
        if not held:
            raise LeaseLost(claim.run_id)
        if history:
            connection.execute(sa.insert(ATTEMPTS), [a.row(claim.run_id) for a in history])
    return now


def release(engine: Engine, claim: Claim, *, due_at: datetime | None = None) -> bool:
    """Give a claimed run back without running it (shutdown, a host at its limit). Claims count
    no attempt, so there is none to give back."""
    values: dict[str, Any] = {"lease_owner": None, "lease_token": None, "lease_expires": None,
                              "prev_lease_owner": None}
    if due_at is not None:
        values["due_at"] = due_at
    with engine.begin() as connection:
        return bool(connection.execute(
            sa.update(RUNS).where(RUNS.c.id == claim.run_id, RUNS.c.lease_token == claim.token).values(**values)
        ).rowcount)


@dataclass
class Attempt:
    step_index: int
    step_name: str
    kind: str
    attempt: int
    worker: str
    started_at: datetime
    finished_at: datetime
    outcome: str
    status_code: int | None = None
    error: str | None = None

    def row(self, run_id: str) -> dict[str, Any]:
        return {"run_id": run_id, "step_index": self.step_index, "step_name": self.step_name[:100],
                "kind": self.kind[:16], "attempt": self.attempt, "worker": self.worker[:100],
                "started_at": self.started_at, "finished_at": self.finished_at,
                "duration_ms": (self.finished_at - self.started_at).total_seconds() * 1000.0,
                "outcome": self.outcome, "status_code": self.status_code,
                "error": self.error[:4000] if self.error else None}


# Work done inside the completion transaction, after the fence: (session, run values) -> None.
# It may change the run values (e.g. a review answer found under the lock moves the run on).
Effect = Callable[[Session, dict[str, Any]], None]


@dataclass
class Completion:
    """What to write when a claim ends (or continues): the run's new values and its history."""

    values: dict[str, Any]
    attempts: list[Attempt] = field(default_factory=list)
    effects: list[Effect] = field(default_factory=list)
    keep_lease: bool = False  # the worker carries on with the next step under the same claim
    lease_seconds: float = 30.0
    release: Callable[[Connection], None] | None = None  # e.g. give a host permit back, in the same transaction


def complete(engine: Engine, claim: Claim, completion: Completion) -> bool:
    """Write the completion if the claim still holds the run; False when the lease was lost."""
    now = utcnow()
    values = dict(completion.values)
    values["updated_at"] = now
    values.setdefault("attempt_started_at", None)  # whatever attempt was in flight has ended
    if completion.keep_lease:
        values.update(lease_expires=now + timedelta(seconds=completion.lease_seconds), prev_lease_owner=None)
    else:
        values.update(lease_owner=None, lease_token=None, lease_expires=None, prev_lease_owner=None)
    fenced = sa.update(RUNS).where(RUNS.c.id == claim.run_id, RUNS.c.lease_token == claim.token)
    if not completion.effects:
        # The common case, one short transaction: the fenced update says whether the lease still holds.
        with engine.begin() as connection:
            if not connection.execute(fenced.values(**values)).rowcount:
                return False
            _history(connection, claim, completion)
        return True
    with unit_of_work(engine) as session:
        held = session.execute(
            sa.select(RUNS.c.id).where(RUNS.c.id == claim.run_id, RUNS.c.lease_token == claim.token)
            .with_for_update()
        ).first()
        if held is None:
            return False
        for effect in completion.effects:  # under the run's lock; they may change the values
            effect(session, values)
        session.execute(fenced.values(**values))
        _history(session.connection(), claim, completion)
    return True


def _history(connection: Connection, claim: Claim, completion: Completion) -> None:
    if completion.attempts:
        connection.execute(sa.insert(ATTEMPTS), [a.row(claim.run_id) for a in completion.attempts])
    if completion.release is not None:
        completion.release(connection)
