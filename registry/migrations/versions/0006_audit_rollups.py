"""Per-day results of the audit's scans of the records, for days that are over (audit/rollups.py).

    audit_rollups   model_key, query, day -> records (the model's count that day), rows, computed_at

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "audit_rollups",
        sa.Column("model_key", sa.String(100), primary_key=True),
        sa.Column("query", sa.String(64), primary_key=True),
        sa.Column("day", sa.String(10), primary_key=True),
        sa.Column("records", sa.BigInteger, nullable=False),
        sa.Column("rows", sa.JSON, nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("audit_rollups")
