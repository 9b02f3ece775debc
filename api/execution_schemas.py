"""Request and response bodies of the execution routes (workflow runs, dead letters, reviews,
bindings, batch jobs, schedules)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from api.schemas import RequestBody

_STRICT = ConfigDict(extra="forbid")
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$"
REF_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}(@[A-Za-z0-9][A-Za-z0-9._-]{0,99})?$"
RunState = Literal["ready", "waiting", "done", "dead", "cancelled"]


class BindingsBody(RequestBody):
    model_config = _STRICT

    bindings: str | None = Field(max_length=1_000_000, description="The bindings YAML; null removes them.")


class BindingsOut(BaseModel):
    key: str
    number: int
    state: str
    bindings: str | None
    bindings_hash: str | None


class AttemptOut(BaseModel):
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


class RunOut(BaseModel):
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
    attempt: int = Field(description="Attempts started on the current step (a request about to be sent).")
    crashes: int = Field(0, description="Times a worker lost the run's lease before finishing (killed, or cut "
                                        "off from the database); these are not attempts.")
    due_at: datetime | None
    target: str | None
    lease_owner: str | None
    lease_expires: datetime | None
    last_error: str | None
    last_status: int | None
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None
    context: dict[str, Any] | None = None
    attempts: list[AttemptOut] | None = None


class RunFilterBody(RequestBody):
    """Which runs a bulk action applies to: every field given must match."""

    model_config = _STRICT

    workflow: str | None = Field(default=None, max_length=100)
    key: str | None = Field(default=None, max_length=100)
    step: str | None = Field(default=None, max_length=100, description="The step the run is at, by name.")
    error: str | None = Field(default=None, max_length=1000, description="Text the last error contains.")
    decision_id: str | None = Field(default=None, max_length=26)
    since: datetime | None = Field(default=None, description="Last changed at or after.")
    until: datetime | None = Field(default=None, description="Last changed before.")


class BulkOut(BaseModel):
    count: int = Field(description="How many runs the action applied to.")


class ReviewTaskOut(BaseModel):
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


class ReviewAnswer(RequestBody):
    model_config = _STRICT

    outcome: Literal["approve", "reject", "override"]
    reason: str = Field(min_length=1, max_length=5000, pattern=r"\S")
    outputs: dict[str, Any] | None = Field(default=None, description="With `override`: the outputs that "
                                           "replace the decision's, by name.")


class BatchSubmit(RequestBody):
    model_config = _STRICT

    model: str = Field(pattern=REF_PATTERN, description="key, key@alias or key@version: resolved now, then pinned.")
    source: str = Field(min_length=1, max_length=1000, description="A CSV or Parquet file the workers can read, "
                        "inside DECISIONARY_BATCH_DIR.")
    format: Literal["csv", "parquet"] | None = None


class BatchJobOut(BaseModel):
    id: str
    model_key: str
    version: int
    alias: str | None
    source: str
    format: str
    state: str
    position: int
    total: int | None
    problem_rows: int
    schedule_id: int | None
    error: str | None
    created_by: str
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None


class ScheduleBody(RequestBody):
    model_config = _STRICT

    name: str = Field(pattern=NAME_PATTERN)
    cron: str = Field(min_length=1, max_length=100, description="Five cron fields, UTC (e.g. '0 2 * * *').")
    model: str = Field(pattern=REF_PATTERN)
    source: str = Field(min_length=1, max_length=1000)
    format: Literal["csv", "parquet"] | None = None


class ScheduleOut(BaseModel):
    id: int
    name: str
    cron: str
    model_ref: str
    source: str
    format: str
    enabled: bool
    next_run_at: datetime
    last_run_at: datetime | None
    created_by: str
    created_at: datetime
