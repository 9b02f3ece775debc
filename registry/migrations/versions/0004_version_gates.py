"""The gates' report on a version: run at submit (a model with errors cannot be submitted)
and again at publish, so an approver sees the results before approving.

    versions.gates   {"ok", "passed", "skipped", "failures": [{"gate", "reasons"}], "at", "step"}

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.add_column("versions", sa.Column("gates", sa.JSON, nullable=True))


def downgrade() -> None:
    op.drop_column("versions", "gates")
