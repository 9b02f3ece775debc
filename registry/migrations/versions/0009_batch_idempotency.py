"""Idempotent batches: a retried evaluate-batch or evaluate-csv answers its first answer.

    idempotent_batches   caller, key (the primary key), request_hash, answer (the JSON body
                         answered: each row's decision id and outputs, or its problem), created_at

A batch's answer cannot be rebuilt from its decision records alone: rows refused for their
inputs have no record, and which record answered which row is not kept on the record.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "idempotent_batches",
        sa.Column("caller", sa.String(200), primary_key=True),
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("answer", sa.JSON, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("idempotent_batches")
