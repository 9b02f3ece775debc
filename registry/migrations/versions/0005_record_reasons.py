"""Reason codes on decision records: what moved each score, kept with the answer it explains.

    decision_records.reasons   {decision: [{"input", "value", "baseline", "contribution", ...}]}

NULL on records written before; a record's hash covers its reasons only when it has some
(registry/chain.py), so earlier records verify as they did.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.add_column("decision_records", sa.Column("reasons", sa.JSON, nullable=True))


def downgrade() -> None:
    op.drop_column("decision_records", "reasons")
