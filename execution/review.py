"""Human review: tasks opened by `review` steps, claimed and answered by reviewers.

A task holds what a reviewer needs (decision, inputs, outputs, fired rules, the reason), a queue
and optionally a person it is assigned to, and a due time; when the due time passes without an
answer, the step's escalation workflow starts (once).

The answer is stored on the task first. The run reads it when it gets there, so timing cannot
lose it: an answer given while the run is waiting wakes the run (made ready in the same
transaction); an answer given at any other moment is found when the run reaches, or retries,
its review step. Both sides lock the run row first, so "the run starts waiting" and "the
answer arrives" are serialised.

An override replaces outputs of the decision for the rest of the workflow, and is recorded
against the decision record in `decision_overrides` (who, when, why, before, after).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from execution.claims import Effect
from execution.errors import ExecutionConflict, ExecutionNotFound
from execution.tables import TASK_OUTCOMES, TASK_STATES, OverrideRow, ReviewTaskRow, RunRow
from execution.workflow import Bindings, ReviewSpec
from registry.errors import Invalid
from registry.ids import new_ulid
from registry.pages import (
    MAX_LIMIT,
    Page,
    QueryError,
    check_limit,
    filters_digest,
    from_micros,
    make_cursor,
    micros,
    read_cursor,
)
from registry.tables import UTCDateTime, utcnow

TASKS = ReviewTaskRow.__table__  # type: ignore[attr-defined]
RUNS = RunRow.__table__  # type: ignore[attr-defined]
OVERRIDES = OverrideRow.__table__  # type: ignore[attr-defined]


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


@dataclass(frozen=True)
class ReviewTask:
    id: str
    run_id: str
    step_index: int
    decision_id: str
    model_key: str
    version: int
    workflow: str
    queue: str
    assignee: str | None
    reason: str | None
    inputs: Any
    outputs: Any
    fired: Any
    state: str
    claimed_by: str | None
    claimed_at: datetime | None
    due_at: datetime | None
    escalate_workflow: str | None
    escalated_at: datetime | None
    outcome: str | None
    override_outputs: Any
    answer_reason: str | None
    decided_by: str | None
    decided_at: datetime | None
    created_at: datetime

    @classmethod
    def of(cls, row: Any) -> ReviewTask:
        return cls(**{name: getattr(row, name) for name in cls.__dataclass_fields__})

    def to_dict(self) -> dict[str, Any]:
        data = {name: getattr(self, name) for name in self.__dataclass_fields__}
        for name, value in data.items():
            if isinstance(value, datetime):
                data[name] = value.isoformat()
        return data


def answer_of(task: Any) -> dict[str, Any]:
    """The answer as the run sees it: `review` in conditions and templates."""
    outputs = dict(task.outputs or {})
    if task.outcome == "override" and isinstance(task.override_outputs, Mapping):
        outputs.update(task.override_outputs)
    return {"task_id": task.id, "outcome": task.outcome, "outputs": outputs, "reason": task.answer_reason,
            "by": task.decided_by, "at": _iso(task.decided_at)}


def apply_answer(context: dict[str, Any], step_name: str, answer: Mapping[str, Any]) -> None:
    context["review"] = dict(answer)
    context.setdefault("steps", {})[step_name] = dict(answer)
    if answer.get("outcome") == "override":
        context["outputs"] = dict(answer.get("outputs") or {})


# --- the run's side (effects inside the runner's completion transaction) ------------------------


def review_step_effect(*, run_id: str, step_index: int, step_name: str, workflow: str, spec: ReviewSpec,
                       assignee: str | None, reason: str | None, next_index: int) -> Effect:
    """Open the step's task if it is new; if it is answered, move on; else make the run wait."""

    def effect(session: Session, values: dict[str, Any]) -> None:
        now = utcnow()
        context = values["context"]
        task = _task_for(session, run_id, step_index)
        if task is None:
            decision = context.get("decision") or {}
            due = now + timedelta(seconds=spec.due) if spec.due is not None else None
            session.execute(sa.insert(TASKS).values(
                id=new_ulid(), run_id=run_id, step_index=step_index, decision_id=decision.get("id"),
                model_key=decision.get("key"), version=decision.get("version"), workflow=workflow,
                queue=spec.queue, assignee=assignee or None, reason=reason, inputs=context.get("inputs") or {},
                outputs=context.get("outputs") or {}, fired=context.get("fired") or {}, state="open",
                due_at=due, escalate_workflow=spec.escalate, created_at=now))
            values.update(state="waiting", due_at=due if spec.escalate else None, attempt=0)
        elif task.outcome is not None:
            apply_answer(context, step_name, answer_of(task))
            values.update(state="ready", step_index=next_index, attempt=0, due_at=now)
        else:
            values.update(state="waiting", due_at=_escalation_due(task), attempt=0)

    return effect


def waiting_effect(*, run_id: str, step_index: int, bindings: Bindings, insert_runs: Any) -> Effect:
    """A waiting run came due: resume it if answered, else start the escalation workflow (once)."""

    def effect(session: Session, values: dict[str, Any]) -> None:
        now = utcnow()
        task = _task_for(session, run_id, step_index)
        if task is None or task.outcome is not None or task.state == "cancelled":
            values.update(state="ready", due_at=now)  # the review step opens or reads the task
            return
        if task.escalate_workflow and task.escalated_at is None and task.due_at is not None and task.due_at <= now:
            session.execute(sa.update(TASKS).where(TASKS.c.id == task.id).values(escalated_at=now))
            if task.escalate_workflow in bindings.workflows:
                run = session.execute(sa.select(RUNS).where(RUNS.c.id == run_id)).first()
                assert run is not None
                insert_runs(session, run=run, workflows=[task.escalate_workflow], origin=f"escalation:{task.id}")
            values.update(state="waiting", due_at=None)
            return
        values.update(state="waiting", due_at=_escalation_due(task))

    return effect


def _task_for(session: Session, run_id: str, step_index: int) -> Any:
    return session.execute(
        sa.select(TASKS).where(TASKS.c.run_id == run_id, TASKS.c.step_index == step_index).with_for_update()
    ).first()


def _escalation_due(task: Any) -> datetime | None:
    if task.escalate_workflow and task.escalated_at is None:
        return task.due_at  # type: ignore[no-any-return]
    return None


# --- the reviewer's side -----------------------------------------------------------------------


def get_task(session: Session, task_id: str) -> ReviewTask:
    row = session.execute(sa.select(TASKS).where(TASKS.c.id == task_id)).first()
    if row is None:
        raise ExecutionNotFound(f"no review task {task_id!r}")
    return ReviewTask.of(row)


def list_tasks(session: Session, *, queue: str | None = None, person: str | None = None, mine: bool = False,
               state: str | None = "open", decision_id: str | None = None, limit: int = 100) -> list[ReviewTask]:
    """Tasks, oldest first (the first page of `query_tasks`)."""
    return query_tasks(session, queue=queue, person=person, mine=mine, state=state, decision_id=decision_id,
                       limit=max(1, min(limit, MAX_LIMIT))).items


def query_tasks(session: Session, *, queue: str | None = None, person: str | None = None, mine: bool = False,
                state: str | None = "open", decision_id: str | None = None, claimed_by: str | None = None,
                model_key: str | None = None, start: datetime | None = None, end: datetime | None = None,
                limit: int = 100, cursor: str | None = None) -> Page[ReviewTask]:
    """Tasks, oldest first, a keyset page at a time (registry/pages.py). `state` "open" means not
    answered yet (open or claimed); `mine`: assigned to or claimed by `person`, or in the queue
    unassigned; `start`/`end` bound the creation time (inclusive, exclusive)."""
    check_limit(limit)
    if state is not None and state not in ("open", *TASK_STATES):
        raise QueryError("state", f"must be one of {', '.join(TASK_STATES)}, got {state!r}")
    for name, value in (("start", start), ("end", end)):
        if value is not None and value.tzinfo is None:
            raise QueryError(name, "must be a date-time with a time zone")
    if start is not None and end is not None and start >= end:
        raise QueryError("end", f"must be after start ({start.isoformat()}), got {end.isoformat()}")
    digest = filters_digest({"queue": queue, "person": person if mine else None, "mine": mine, "state": state,
                             "decision_id": decision_id, "claimed_by": claimed_by, "model_key": model_key,
                             "start": start, "end": end})
    query = sa.select(TASKS)
    if state == "open":
        query = query.where(TASKS.c.state.in_(("open", "claimed")))
    elif state is not None:
        query = query.where(TASKS.c.state == state)
    for column, wanted in (("queue", queue), ("decision_id", decision_id), ("claimed_by", claimed_by),
                           ("model_key", model_key)):
        if wanted is not None:
            query = query.where(TASKS.c[column] == wanted)
    if start is not None:
        query = query.where(TASKS.c.created_at >= start)
    if end is not None:
        query = query.where(TASKS.c.created_at < end)
    if mine and person is not None:
        query = query.where(sa.or_(TASKS.c.assignee == person, TASKS.c.claimed_by == person,
                                   sa.and_(TASKS.c.assignee.is_(None), TASKS.c.claimed_by.is_(None))))
    if cursor is not None:
        at, last_id = read_cursor(cursor, digest, (int, str))
        try:
            after = from_micros(at)
        except (ValueError, OverflowError, OSError):
            raise QueryError("cursor", "not a cursor given by this query") from None
        query = query.where(sa.tuple_(TASKS.c.created_at, TASKS.c.id)
                            > sa.tuple_(sa.bindparam("after_at", after, type_=UTCDateTime),
                                        sa.bindparam("after_id", last_id, type_=sa.String)))
    rows = session.execute(query.order_by(TASKS.c.created_at, TASKS.c.id).limit(limit + 1)).all()
    tasks = [ReviewTask.of(row) for row in rows[:limit]]
    last = rows[limit - 1] if len(rows) > limit else None
    return Page(tasks, make_cursor((micros(last.created_at), last.id), digest) if last is not None else None)


def claim_task(session: Session, task_id: str, *, by: str) -> ReviewTask:
    task = _lock_task(session, task_id)
    if task.state in ("decided", "cancelled"):
        raise ExecutionConflict(f"review task {task_id} is {task.state}")
    if task.assignee and task.assignee != by:
        raise ExecutionConflict(f"review task {task_id} is assigned to {task.assignee}")
    if task.state == "claimed" and task.claimed_by != by:
        raise ExecutionConflict(f"review task {task_id} is already claimed by {task.claimed_by}")
    if task.state == "open":
        session.execute(sa.update(TASKS).where(TASKS.c.id == task_id)
                        .values(state="claimed", claimed_by=by, claimed_at=utcnow()))
    return get_task(session, task_id)


def decide_task(session: Session, task_id: str, *, by: str, outcome: str, reason: str,
                outputs: Mapping[str, Any] | None = None) -> ReviewTask:
    """Answer a task: approve, reject, or override (with `outputs`, replacing some of the
    decision's outputs). A reason is required. The waiting run, if any, is woken."""
    if outcome not in TASK_OUTCOMES:
        raise Invalid(f"the outcome is one of {', '.join(TASK_OUTCOMES)}, not {outcome!r}")
    if not isinstance(reason, str) or not reason.strip():
        raise Invalid("a review answer needs a reason")
    head = get_task(session, task_id)
    # The run row first, as the runner does: the answer and "the run starts waiting" are serialised.
    run = session.execute(sa.select(RUNS.c.id, RUNS.c.state, RUNS.c.step_index)
                          .where(RUNS.c.id == head.run_id).with_for_update()).first()
    task = _lock_task(session, task_id)
    if task.state in ("decided", "cancelled"):
        raise ExecutionConflict(f"review task {task_id} is already {task.state}"
                                + (f" ({task.outcome} by {task.decided_by})" if task.decided_by else ""))
    if task.state == "claimed" and task.claimed_by != by:
        raise ExecutionConflict(f"review task {task_id} is claimed by {task.claimed_by}")
    if task.assignee and task.assignee != by and task.state != "claimed":
        raise ExecutionConflict(f"review task {task_id} is assigned to {task.assignee}")
    override = None
    if outcome == "override":
        if not isinstance(outputs, Mapping) or not outputs:
            raise Invalid("an override gives the outputs that replace the decision's, e.g. {\"Decision\": \"Approve\"}")
        unknown = [name for name in outputs if name not in (task.outputs or {})]
        if unknown:
            raise Invalid(f"the decision has no output {', '.join(map(repr, unknown))}; its outputs: "
                          f"{', '.join(task.outputs or {})}")
        override = dict(outputs)
    elif outputs:
        raise Invalid("outputs are only given with the outcome 'override'")
    now = utcnow()
    session.execute(sa.update(TASKS).where(TASKS.c.id == task_id).values(
        state="decided", outcome=outcome, override_outputs=override, answer_reason=reason.strip(), decided_by=by,
        decided_at=now, claimed_by=task.claimed_by or by, claimed_at=task.claimed_at or now))
    if override is not None:
        original = dict(task.outputs or {})
        session.execute(sa.insert(OVERRIDES).values(
            decision_id=task.decision_id, task_id=task_id, by=by, at=now, reason=reason.strip(),
            original=original, override={**original, **override}))
    if run is not None and run.state == "waiting" and run.step_index == task.step_index:
        session.execute(sa.update(RUNS).where(RUNS.c.id == run.id, RUNS.c.state == "waiting")
                        .values(state="ready", due_at=now, updated_at=now))
    return get_task(session, task_id)


def cancel_tasks_of(session: Session, run_id: str) -> None:
    session.execute(sa.update(TASKS).where(TASKS.c.run_id == run_id, TASKS.c.state.in_(("open", "claimed")))
                    .values(state="cancelled"))


def overrides_of(session: Session, decision_id: str) -> list[dict[str, Any]]:
    rows = session.execute(sa.select(OVERRIDES).where(OVERRIDES.c.decision_id == decision_id)
                           .order_by(OVERRIDES.c.id)).all()
    return [{"task_id": r.task_id, "by": r.by, "at": r.at.isoformat(), "reason": r.reason, "original": r.original,
             "override": r.override} for r in rows]


def _lock_task(session: Session, task_id: str) -> Any:
    row = session.execute(sa.select(TASKS).where(TASKS.c.id == task_id).with_for_update()).first()
    if row is None:
        raise ExecutionNotFound(f"no review task {task_id!r}")
    return row
