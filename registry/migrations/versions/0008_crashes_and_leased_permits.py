"""Crashes apart from attempts, and host permits held under a run's lease.

    workflow_runs.crashes              times a worker lost the run's lease without finishing
                                       (killed, or cut off from the database)
    workflow_runs.attempt_started_at   when the attempt now in flight started (NULL: none is):
                                       an attempt counts once its request is about to be sent,
                                       not when the run is claimed
    target_slots.run_id, lease_token   the run (and its claim) a permit was taken for: the
                                       permit is held exactly as long as that lease

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("workflow_runs") as runs:
        runs.add_column(sa.Column("crashes", sa.Integer, nullable=False, server_default="0"))
        runs.add_column(sa.Column("attempt_started_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("target_slots") as slots:
        slots.add_column(sa.Column("run_id", sa.String(26), nullable=True))
        slots.add_column(sa.Column("lease_token", sa.String(32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("target_slots") as slots:
        slots.drop_column("lease_token")
        slots.drop_column("run_id")
    with op.batch_alter_table("workflow_runs") as runs:
        runs.drop_column("attempt_started_at")
        runs.drop_column("crashes")
