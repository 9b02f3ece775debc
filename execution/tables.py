"""The execution layer's tables (SQLModel). The schema is made by the alembic migration
registry/migrations/versions/0002_execution.py; never by `create_all`.

    workflow_runs      one row per (decision, workflow): the outbox and the run's state at once
    step_attempts      every attempt of every step (worker, outcome, status, error, duration)
    review_tasks       human review tasks opened by `review` steps, with the reviewer's answer
    decision_overrides outcomes a reviewer overrode, against the decision record (for audit)
    target_slots       per-host concurrency permits, leased (the cross-process limiter)
    target_rates       per-host token bucket (GCRA: the theoretical arrival time of the next call)
    batch_jobs         CSV/Parquet files evaluated row by row, with a resumable position
    schedules          cron expressions that start batch jobs

Bindings are stored on the registry's `versions` table (two columns added by the same
migration): see `VERSION_BINDINGS`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from registry.tables import UTCDateTime, utcnow

RUN_STATES = ("ready", "waiting", "done", "dead", "cancelled")
ACTIVE_RUN_STATES = ("ready", "waiting")
TASK_STATES = ("open", "claimed", "decided", "cancelled")
TASK_OUTCOMES = ("approve", "reject", "override")
JOB_STATES = ("queued", "running", "done", "failed", "cancelled")
ATTEMPT_OUTCOMES = ("ok", "retry", "failed", "lease-lost", "released", "waiting")

# The registry's versions table, seen through the two columns this layer adds to it.
VERSION_BINDINGS = sa.table(
    "versions",
    sa.column("id", sa.Integer),
    sa.column("model_id", sa.Integer),
    sa.column("number", sa.Integer),
    sa.column("state", sa.String),
    sa.column("author", sa.String),
    sa.column("content", sa.LargeBinary),
    sa.column("format", sa.String),
    sa.column("content_hash", sa.String),
    sa.column("bindings", sa.Text),
    sa.column("bindings_hash", sa.String),
    sa.column("updated_at", UTCDateTime),
)


def _json() -> Any:
    return sa.JSON()


class RunRow(SQLModel, table=True):
    """One workflow of one decision. Inserted in the decision record's transaction (the outbox);
    claimed by workers through a lease; its step pointer advances as steps complete."""

    __tablename__ = "workflow_runs"
    __table_args__ = (
        sa.Index("ix_workflow_runs_due", "state", "due_at"),
        sa.Index("ix_workflow_runs_workflow_state", "workflow", "state"),
    )

    id: str = Field(primary_key=True, max_length=26)  # ULID
    decision_id: str = Field(foreign_key="decision_records.id", max_length=26, index=True)
    model_key: str = Field(max_length=100)
    version: int
    content_hash: str = Field(max_length=64)
    bindings_hash: str = Field(max_length=64)
    workflow: str = Field(max_length=100)
    origin: str = Field(max_length=100, default="decision")  # decision, batch:<id>, escalation:<task id>
    state: str = Field(max_length=16, default="ready")
    step_index: int = 0
    attempt: int = 0  # attempts started on the current step (a request about to be sent, not a claim)
    attempt_started_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # the attempt in flight
    crashes: int = Field(default=0, sa_column_kwargs={"server_default": "0"})  # leases lost unfinished
    due_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    target: str | None = Field(default=None, max_length=255)  # host of the current step, if it calls one
    lease_owner: str | None = Field(default=None, max_length=100)
    lease_token: str | None = Field(default=None, max_length=32)
    lease_expires: datetime | None = Field(default=None, sa_type=UTCDateTime)
    prev_lease_owner: str | None = Field(default=None, max_length=100)
    context: Any = Field(sa_type=_json())
    last_error: str | None = Field(default=None, sa_type=sa.Text)
    last_status: int | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class AttemptRow(SQLModel, table=True):
    """One attempt of one step (append-mostly): the history a dead letter is inspected with."""

    __tablename__ = "step_attempts"

    id: int | None = Field(default=None, primary_key=True)
    run_id: str = Field(foreign_key="workflow_runs.id", max_length=26, index=True)
    step_index: int
    step_name: str = Field(max_length=100)
    kind: str = Field(max_length=16)
    attempt: int
    worker: str = Field(max_length=100)
    started_at: datetime = Field(sa_type=UTCDateTime)
    finished_at: datetime = Field(sa_type=UTCDateTime, index=True)
    duration_ms: float
    outcome: str = Field(max_length=16)
    status_code: int | None = None
    error: str | None = Field(default=None, sa_type=sa.Text)


class ReviewTaskRow(SQLModel, table=True):
    """A human review opened by a `review` step. The answer is stored here first; the run reads
    it when it gets there, so an answer is never lost to timing."""

    __tablename__ = "review_tasks"
    __table_args__ = (
        sa.UniqueConstraint("run_id", "step_index", name="uq_review_tasks_run_step"),
        sa.Index("ix_review_tasks_queue_state", "queue", "state"),
    )

    id: str = Field(primary_key=True, max_length=26)
    run_id: str = Field(foreign_key="workflow_runs.id", max_length=26)
    step_index: int
    decision_id: str = Field(foreign_key="decision_records.id", max_length=26, index=True)
    model_key: str = Field(max_length=100)
    version: int
    workflow: str = Field(max_length=100)
    queue: str = Field(max_length=100)
    assignee: str | None = Field(default=None, max_length=200, index=True)
    reason: str | None = Field(default=None, sa_type=sa.Text)
    inputs: Any = Field(sa_type=_json())
    outputs: Any = Field(sa_type=_json())
    fired: Any = Field(sa_type=_json())
    state: str = Field(max_length=16, default="open")
    claimed_by: str | None = Field(default=None, max_length=200)
    claimed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    due_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    escalate_workflow: str | None = Field(default=None, max_length=100)
    escalated_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    outcome: str | None = Field(default=None, max_length=16)
    override_outputs: Any = Field(default=None, sa_type=_json(), nullable=True)
    answer_reason: str | None = Field(default=None, sa_type=sa.Text)
    decided_by: str | None = Field(default=None, max_length=200)
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class OverrideRow(SQLModel, table=True):
    """A reviewer replaced a decision's outcome: who, when, why, before and after."""

    __tablename__ = "decision_overrides"

    id: int | None = Field(default=None, primary_key=True)
    decision_id: str = Field(foreign_key="decision_records.id", max_length=26, index=True)
    task_id: str = Field(foreign_key="review_tasks.id", max_length=26)
    by: str = Field(max_length=200)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    reason: str = Field(sa_type=sa.Text)
    original: Any = Field(sa_type=_json())
    override: Any = Field(sa_type=_json())


class TargetSlotRow(SQLModel, table=True):
    """One concurrency permit of a host. A permit taken for a run (`run_id`, `lease_token`) is held
    exactly as long as that claim's lease; one taken for nothing in particular, until `expires`
    (epoch seconds). So a dead worker's permits come back by themselves, with its leases."""

    __tablename__ = "target_slots"

    host: str = Field(primary_key=True, max_length=255)
    slot: int = Field(primary_key=True)
    holder: str | None = Field(default=None, max_length=64)
    expires: float = 0.0
    run_id: str | None = Field(default=None, max_length=26)
    lease_token: str | None = Field(default=None, max_length=32)


class TargetRateRow(SQLModel, table=True):
    """A host's token bucket as GCRA: `tat` is when the bucket is full again (epoch seconds)."""

    __tablename__ = "target_rates"

    host: str = Field(primary_key=True, max_length=255)
    tat: float = 0.0


class BatchJobRow(SQLModel, table=True):
    """A file of inputs evaluated row by row against one pinned version. `position` (rows done)
    advances in the same transaction as the rows' decision records and runs."""

    __tablename__ = "batch_jobs"
    __table_args__ = (sa.Index("ix_batch_jobs_state", "state"),)

    id: str = Field(primary_key=True, max_length=26)
    model_key: str = Field(max_length=100)
    version: int
    alias: str | None = Field(default=None, max_length=100)
    source: str = Field(sa_type=sa.Text)
    format: str = Field(max_length=8)  # csv or parquet
    state: str = Field(max_length=16, default="queued")
    position: int = 0
    total: int | None = None
    problem_rows: int = 0  # rows answered with error problems (still recorded)
    schedule_id: int | None = Field(default=None, foreign_key="schedules.id")
    lease_owner: str | None = Field(default=None, max_length=100)
    lease_token: str | None = Field(default=None, max_length=32)
    lease_expires: datetime | None = Field(default=None, sa_type=UTCDateTime)
    error: str | None = Field(default=None, sa_type=sa.Text)
    created_by: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ScheduleRow(SQLModel, table=True):
    """A cron expression that starts a batch job over a file, with a model reference resolved at
    each start (key, key@alias or key@number)."""

    __tablename__ = "schedules"
    __table_args__ = (sa.UniqueConstraint("name", name="uq_schedules_name"),)

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100)
    cron: str = Field(max_length=100)
    model_ref: str = Field(max_length=200)
    source: str = Field(sa_type=sa.Text)
    format: str = Field(max_length=8)
    enabled: bool = True
    next_run_at: datetime = Field(sa_type=UTCDateTime)
    last_run_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_by: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
