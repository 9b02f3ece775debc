"""Looking at runs and acting on them: a decision's runs step by step, dead letters, retry, cancel.

Operators retry or cancel dead-lettered runs one by one or in bulk, by a filter (workflow,
model key, step name, error text, decision, time). Retrying puts the run back at the step that
failed with a fresh set of attempts (same idempotency key: a receiver that did get it earlier
still sees it once). Every operator action is written into the run's attempt history.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from execution.errors import ExecutionConflict, ExecutionNotFound
from execution.review import cancel_tasks_of
from execution.tables import ACTIVE_RUN_STATES, RUN_STATES, AttemptRow, RunRow
from registry.errors import Invalid
from registry.tables import utcnow

RUNS = RunRow.__table__  # type: ignore[attr-defined]
ATTEMPTS = AttemptRow.__table__  # type: ignore[attr-defined]
MAX_BULK = 10_000


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


@dataclass(frozen=True)
class RunView:
    id: str
    decision_id: str
    model_key: str
    version: int
    content_hash: str
    bindings_hash: str
    workflow: str
    origin: str
    state: str
    step_index: int
    attempt: int  # attempts started on the current step
    crashes: int  # times a worker lost the run's lease without finishing (not attempts)
    due_at: datetime | None
    target: str | None
    lease_owner: str | None
    lease_expires: datetime | None
    last_error: str | None
    last_status: int | None
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None
    context: Any

    @classmethod
    def of(cls, row: Any) -> RunView:
        return cls(**{name: getattr(row, name) for name in cls.__dataclass_fields__})

    def to_dict(self, *, with_context: bool = False) -> dict[str, Any]:
        data = {name: getattr(self, name) for name in self.__dataclass_fields__ if name != "context"}
        for name, value in data.items():
            if isinstance(value, datetime):
                data[name] = value.isoformat()
        if with_context:
            data["context"] = self.context
        return data


@dataclass(frozen=True)
class AttemptView:
    step_index: int
    step_name: str
    kind: str
    attempt: int
    worker: str
    started_at: datetime
    finished_at: datetime
    duration_ms: float
    outcome: str
    status_code: int | None
    error: str | None

    @classmethod
    def of(cls, row: Any) -> AttemptView:
        return cls(**{name: getattr(row, name) for name in cls.__dataclass_fields__})

    def to_dict(self) -> dict[str, Any]:
        data = {name: getattr(self, name) for name in self.__dataclass_fields__}
        data["started_at"] = _iso(self.started_at)
        data["finished_at"] = _iso(self.finished_at)
        data["duration_ms"] = round(self.duration_ms, 3)
        return data


@dataclass(frozen=True)
class RunFilter:
    """Which runs: every field given must match. `error` is a substring of the last error."""

    state: str | None = None
    workflow: str | None = None
    key: str | None = None
    step: str | None = None  # the name of the step the run is at
    error: str | None = None
    decision_id: str | None = None
    since: datetime | None = None  # last updated at or after
    until: datetime | None = None  # last updated before
    decisions: Any = None  # a SELECT of decision ids: only their runs (a reader's scope)

    def where(self) -> list[Any]:
        clauses: list[Any] = []
        if self.state is not None:
            if self.state not in RUN_STATES:
                raise Invalid(f"a run state is one of {', '.join(RUN_STATES)}, not {self.state!r}")
            clauses.append(RUNS.c.state == self.state)
        if self.workflow is not None:
            clauses.append(RUNS.c.workflow == self.workflow)
        if self.key is not None:
            clauses.append(RUNS.c.model_key == self.key)
        if self.decision_id is not None:
            clauses.append(RUNS.c.decision_id == self.decision_id)
        if self.decisions is not None:
            clauses.append(RUNS.c.decision_id.in_(self.decisions))
        if self.error is not None:
            clauses.append(RUNS.c.last_error.contains(self.error, autoescape=True))
        if self.since is not None:
            clauses.append(RUNS.c.updated_at >= self.since)
        if self.until is not None:
            clauses.append(RUNS.c.updated_at < self.until)
        if self.step is not None:
            # The step a run is at is known by name in the attempt history.
            clauses.append(sa.exists().where(ATTEMPTS.c.run_id == RUNS.c.id,
                                             ATTEMPTS.c.step_index == RUNS.c.step_index,
                                             ATTEMPTS.c.step_name == self.step))
        return clauses


def list_runs(session: Session, run_filter: RunFilter | None = None, *, limit: int = 100,
              before: str | None = None) -> list[RunView]:
    """Runs matching the filter, newest first; page with `before=<last id seen>`."""
    query = sa.select(RUNS).where(*(run_filter or RunFilter()).where())
    if before is not None:
        query = query.where(RUNS.c.id < before)
    rows = session.execute(query.order_by(RUNS.c.id.desc()).limit(max(1, min(limit, 1000)))).all()
    return [RunView.of(r) for r in rows]


def get_run(session: Session, run_id: str) -> RunView:
    row = session.execute(sa.select(RUNS).where(RUNS.c.id == run_id)).first()
    if row is None:
        raise ExecutionNotFound(f"no workflow run {run_id!r}")
    return RunView.of(row)


def attempts_of(session: Session, run_id: str) -> list[AttemptView]:
    rows = session.execute(sa.select(ATTEMPTS).where(ATTEMPTS.c.run_id == run_id).order_by(ATTEMPTS.c.id)).all()
    return [AttemptView.of(r) for r in rows]


def runs_of_decision(session: Session, decision_id: str) -> list[tuple[RunView, list[AttemptView]]]:
    """Every run a decision started (escalations included), oldest first, with their attempts."""
    rows = session.execute(sa.select(RUNS).where(RUNS.c.decision_id == decision_id).order_by(RUNS.c.id)).all()
    return [(RunView.of(r), attempts_of(session, r.id)) for r in rows]


def retry_run(session: Session, run_id: str, *, by: str) -> RunView:
    """Put a dead-lettered run back at its failed step with fresh attempts."""
    return _act(session, run_id, "retry", by)


def cancel_run(session: Session, run_id: str, *, by: str) -> RunView:
    """Stop a run that is not finished (ready, waiting or dead); its open review tasks are cancelled."""
    return _act(session, run_id, "cancel", by)


def retry_runs(session: Session, run_filter: RunFilter, *, by: str) -> int:
    return _bulk(session, run_filter, "retry", by)


def cancel_runs(session: Session, run_filter: RunFilter, *, by: str) -> int:
    return _bulk(session, run_filter, "cancel", by)


def _bulk(session: Session, run_filter: RunFilter, action: str, by: str) -> int:
    states = ("dead",) if action == "retry" else ("dead", *ACTIVE_RUN_STATES)
    if run_filter.state is not None and run_filter.state not in states:
        raise Invalid(f"only runs that are {' or '.join(states)} can be {action}ed")
    query = sa.select(RUNS.c.id).where(*run_filter.where(), RUNS.c.state.in_(states)).order_by(RUNS.c.id)
    ids = [r.id for r in session.execute(query.limit(MAX_BULK)).all()]
    done = 0
    for run_id in ids:
        try:
            _act(session, run_id, action, by)
            done += 1
        except ExecutionConflict:
            continue  # changed state meanwhile
    return done


def _act(session: Session, run_id: str, action: str, by: str) -> RunView:
    if not isinstance(by, str) or not by.strip():
        raise Invalid("say who is acting")
    run = session.execute(sa.select(RUNS).where(RUNS.c.id == run_id).with_for_update()).first()
    if run is None:
        raise ExecutionNotFound(f"no workflow run {run_id!r}")
    now = utcnow()
    if action == "retry":
        if run.state != "dead":
            raise ExecutionConflict(f"run {run_id} is {run.state}: only dead-lettered runs can be retried")
        values: dict[str, Any] = {"state": "ready", "attempt": 0, "due_at": now, "finished_at": None}
    else:
        if run.state not in ("dead", *ACTIVE_RUN_STATES):
            raise ExecutionConflict(f"run {run_id} is {run.state}: it cannot be cancelled")
        values = {"state": "cancelled", "due_at": None, "finished_at": now}
        cancel_tasks_of(session, run_id)
    values.update(updated_at=now, lease_owner=None, lease_token=None, lease_expires=None, prev_lease_owner=None,
                  attempt_started_at=None)
    session.execute(sa.update(RUNS).where(RUNS.c.id == run_id).values(**values))
    step_name = _step_name(session, run_id, run.step_index)
    session.execute(sa.insert(ATTEMPTS).values(
        run_id=run_id, step_index=run.step_index, step_name=step_name, kind="operator", attempt=0,
        worker=by[:100], started_at=now, finished_at=now, duration_ms=0.0, outcome=f"operator-{action}",
        error=f"{action} by {by}"))
    return get_run(session, run_id)


def _step_name(session: Session, run_id: str, index: int) -> str:
    row = session.execute(sa.select(ATTEMPTS.c.step_name).where(
        ATTEMPTS.c.run_id == run_id, ATTEMPTS.c.step_index == index, ATTEMPTS.c.kind != "operator"
    ).limit(1)).first()
    return str(row.step_name) if row is not None else f"step {index + 1}"
