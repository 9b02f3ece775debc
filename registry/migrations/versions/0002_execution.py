"""The execution layer: bindings on versions, workflow runs (the outbox), step attempts, review
tasks and overrides, the per-host limiter, batch jobs and schedules (execution/tables.py).

`versions.bindings` (YAML text) and `versions.bindings_hash` are frozen once the version leaves
the draft state, like its content: a trigger refuses the change in the database itself.

Revision ID: 0002
Revises: 0001
Create Date: 2025-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None

RUN_STATES = "'ready', 'waiting', 'done', 'dead', 'cancelled'"
TASK_STATES = "'open', 'claimed', 'decided', 'cancelled'"
TASK_OUTCOMES = "'approve', 'reject', 'override'"
JOB_STATES = "'queued', 'running', 'done', 'failed', 'cancelled'"
JOB_FORMATS = "'csv', 'parquet'"


def _when() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    # Plain ALTER TABLE ADD/DROP COLUMN (SQLite >= 3.35 has both): a batch "move and copy" would
    # drop the registry's triggers on versions.
    op.add_column("versions", sa.Column("bindings", sa.Text, nullable=True))
    op.add_column("versions", sa.Column("bindings_hash", sa.String(64), nullable=True))

    op.create_table(
        "workflow_runs",
        sa.Column("id", sa.String(26), primary_key=True),
        sa.Column("decision_id", sa.String(26),
                  sa.ForeignKey("decision_records.id", name="fk_workflow_runs_decision"), nullable=False),
        sa.Column("model_key", sa.String(100), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("bindings_hash", sa.String(64), nullable=False),
        sa.Column("workflow", sa.String(100), nullable=False),
        sa.Column("origin", sa.String(100), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("step_index", sa.Integer, nullable=False),
        sa.Column("attempt", sa.Integer, nullable=False),
        sa.Column("due_at", _when(), nullable=True),
        sa.Column("target", sa.String(255), nullable=True),
        sa.Column("lease_owner", sa.String(100), nullable=True),
        sa.Column("lease_token", sa.String(32), nullable=True),
        sa.Column("lease_expires", _when(), nullable=True),
        sa.Column("prev_lease_owner", sa.String(100), nullable=True),
        sa.Column("context", sa.JSON, nullable=False),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.Column("last_status", sa.Integer, nullable=True),
        sa.Column("created_at", _when(), nullable=False),
        sa.Column("updated_at", _when(), nullable=False),
        sa.Column("finished_at", _when(), nullable=True),
        sa.CheckConstraint(f"state IN ({RUN_STATES})", name="ck_workflow_runs_state"),
        sa.CheckConstraint("step_index >= 0 AND attempt >= 0", name="ck_workflow_runs_counters"),
    )
    op.create_index("ix_workflow_runs_decision_id", "workflow_runs", ["decision_id"])
    op.create_index("ix_workflow_runs_due", "workflow_runs", ["state", "due_at"])
    op.create_index("ix_workflow_runs_workflow_state", "workflow_runs", ["workflow", "state"])

    op.create_table(
        "step_attempts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("run_id", sa.String(26), sa.ForeignKey("workflow_runs.id", name="fk_step_attempts_run"),
                  nullable=False),
        sa.Column("step_index", sa.Integer, nullable=False),
        sa.Column("step_name", sa.String(100), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("attempt", sa.Integer, nullable=False),
        sa.Column("worker", sa.String(100), nullable=False),
        sa.Column("started_at", _when(), nullable=False),
        sa.Column("finished_at", _when(), nullable=False),
        sa.Column("duration_ms", sa.Float, nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("status_code", sa.Integer, nullable=True),
        sa.Column("error", sa.Text, nullable=True),
    )
    op.create_index("ix_step_attempts_run_id", "step_attempts", ["run_id"])
    op.create_index("ix_step_attempts_finished_at", "step_attempts", ["finished_at"])

    op.create_table(
        "review_tasks",
        sa.Column("id", sa.String(26), primary_key=True),
        sa.Column("run_id", sa.String(26), sa.ForeignKey("workflow_runs.id", name="fk_review_tasks_run"),
                  nullable=False),
        sa.Column("step_index", sa.Integer, nullable=False),
        sa.Column("decision_id", sa.String(26),
                  sa.ForeignKey("decision_records.id", name="fk_review_tasks_decision"), nullable=False),
        sa.Column("model_key", sa.String(100), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("workflow", sa.String(100), nullable=False),
        sa.Column("queue", sa.String(100), nullable=False),
        sa.Column("assignee", sa.String(200), nullable=True),
        sa.Column("reason", sa.Text, nullable=True),
        sa.Column("inputs", sa.JSON, nullable=False),
        sa.Column("outputs", sa.JSON, nullable=False),
        sa.Column("fired", sa.JSON, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("claimed_by", sa.String(200), nullable=True),
        sa.Column("claimed_at", _when(), nullable=True),
        sa.Column("due_at", _when(), nullable=True),
        sa.Column("escalate_workflow", sa.String(100), nullable=True),
        sa.Column("escalated_at", _when(), nullable=True),
        sa.Column("outcome", sa.String(16), nullable=True),
        sa.Column("override_outputs", sa.JSON, nullable=True),
        sa.Column("answer_reason", sa.Text, nullable=True),
        sa.Column("decided_by", sa.String(200), nullable=True),
        sa.Column("decided_at", _when(), nullable=True),
        sa.Column("created_at", _when(), nullable=False),
        sa.UniqueConstraint("run_id", "step_index", name="uq_review_tasks_run_step"),
        sa.CheckConstraint(f"state IN ({TASK_STATES})", name="ck_review_tasks_state"),
        sa.CheckConstraint(f"outcome IS NULL OR outcome IN ({TASK_OUTCOMES})", name="ck_review_tasks_outcome"),
    )
    op.create_index("ix_review_tasks_queue_state", "review_tasks", ["queue", "state"])
    op.create_index("ix_review_tasks_assignee", "review_tasks", ["assignee"])
    op.create_index("ix_review_tasks_decision_id", "review_tasks", ["decision_id"])

    op.create_table(
        "decision_overrides",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("decision_id", sa.String(26),
                  sa.ForeignKey("decision_records.id", name="fk_decision_overrides_decision"), nullable=False),
        sa.Column("task_id", sa.String(26), sa.ForeignKey("review_tasks.id", name="fk_decision_overrides_task"),
                  nullable=False),
        sa.Column("by", sa.String(200), nullable=False),
        sa.Column("at", _when(), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("original", sa.JSON, nullable=False),
        sa.Column("override", sa.JSON, nullable=False),
    )
    op.create_index("ix_decision_overrides_decision_id", "decision_overrides", ["decision_id"])

    op.create_table(
        "target_slots",
        sa.Column("host", sa.String(255), primary_key=True),
        sa.Column("slot", sa.Integer, primary_key=True),
        sa.Column("holder", sa.String(64), nullable=True),
        sa.Column("expires", sa.Float, nullable=False, server_default="0"),
    )
    op.create_table(
        "target_rates",
        sa.Column("host", sa.String(255), primary_key=True),
        sa.Column("tat", sa.Float, nullable=False, server_default="0"),
    )

    op.create_table(
        "schedules",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("cron", sa.String(100), nullable=False),
        sa.Column("model_ref", sa.String(200), nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("format", sa.String(8), nullable=False),
        sa.Column("enabled", sa.Boolean, nullable=False),
        sa.Column("next_run_at", _when(), nullable=False),
        sa.Column("last_run_at", _when(), nullable=True),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", _when(), nullable=False),
        sa.UniqueConstraint("name", name="uq_schedules_name"),
        sa.CheckConstraint(f"format IN ({JOB_FORMATS})", name="ck_schedules_format"),
    )
    op.create_table(
        "batch_jobs",
        sa.Column("id", sa.String(26), primary_key=True),
        sa.Column("model_key", sa.String(100), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("alias", sa.String(100), nullable=True),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("format", sa.String(8), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("total", sa.Integer, nullable=True),
        sa.Column("problem_rows", sa.Integer, nullable=False),
        sa.Column("schedule_id", sa.Integer, sa.ForeignKey("schedules.id", name="fk_batch_jobs_schedule"),
                  nullable=True),
        sa.Column("lease_owner", sa.String(100), nullable=True),
        sa.Column("lease_token", sa.String(32), nullable=True),
        sa.Column("lease_expires", _when(), nullable=True),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", _when(), nullable=False),
        sa.Column("updated_at", _when(), nullable=False),
        sa.Column("finished_at", _when(), nullable=True),
        sa.CheckConstraint(f"state IN ({JOB_STATES})", name="ck_batch_jobs_state"),
        sa.CheckConstraint(f"format IN ({JOB_FORMATS})", name="ck_batch_jobs_format"),
    )
    op.create_index("ix_batch_jobs_state", "batch_jobs", ["state"])

    if op.get_bind().dialect.name == "postgresql":
        op.execute("""
            CREATE FUNCTION decisionary_bindings_guard() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF OLD.state <> 'draft' AND (NEW.bindings IS DISTINCT FROM OLD.bindings
                                             OR NEW.bindings_hash IS DISTINCT FROM OLD.bindings_hash) THEN
                    RAISE EXCEPTION 'version bindings are immutable once submitted'
                        USING ERRCODE = 'check_violation';
                END IF;
                RETURN NEW;
            END $$
        """)
        op.execute("CREATE TRIGGER versions_bindings_guard BEFORE UPDATE ON versions "
                   "FOR EACH ROW EXECUTE FUNCTION decisionary_bindings_guard()")
    else:
        op.execute(
            "CREATE TRIGGER versions_bindings_frozen BEFORE UPDATE OF bindings, bindings_hash ON versions "
            "WHEN OLD.state <> 'draft' "
            "BEGIN SELECT RAISE(ABORT, 'version bindings are immutable once submitted'); END"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS versions_bindings_guard ON versions")
        op.execute("DROP FUNCTION IF EXISTS decisionary_bindings_guard()")
    else:
        op.execute("DROP TRIGGER IF EXISTS versions_bindings_frozen")
    for table in ("batch_jobs", "schedules", "target_rates", "target_slots", "decision_overrides",
                  "review_tasks", "step_attempts", "workflow_runs"):
        op.drop_table(table)
    op.drop_column("versions", "bindings_hash")
    op.drop_column("versions", "bindings")
