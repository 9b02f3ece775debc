"""The audit layer's tables (SQLModel). The schema is made by the alembic migration
registry/migrations/versions/0003_audit.py; never by `create_all`.

    outcomes      what became known about a decision later (labels such as defaulted: true, values
                  such as loss: 1200), append-only: a late or repeated outcome adds a row, and
                  figures are computed from the latest outcome known at a chosen time
    replays       a candidate version replayed on logged decisions, optionally attached to it
    audit_alerts  a monitor's threshold crossed (drift), with the workflow runs it started
    audit_rollups one day's result of a scan of the records, kept once the day is over
                  (audit/rollups.py; migration 0006)
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from registry.tables import UTCDateTime, utcnow


class OutcomeRow(SQLModel, table=True):
    __tablename__ = "outcomes"
    __table_args__ = (
        sa.UniqueConstraint("decision_id", "content_hash", name="uq_outcomes_decision_content"),
        sa.Index("ix_outcomes_key_decision", "model_key", "decision_id"),
        sa.Index("ix_outcomes_key_known", "model_key", "known_at"),
    )

    id: str = Field(primary_key=True, max_length=26)  # ULID
    model_key: str = Field(max_length=100)
    decision_id: str = Field(max_length=26)  # no foreign key: retention may remove the record
    business_key: str | None = Field(default=None, max_length=200)
    labels: Any = Field(sa_type=sa.JSON)
    values: Any = Field(sa_type=sa.JSON)
    known_at: datetime = Field(sa_type=UTCDateTime)
    received_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    source: str = Field(max_length=200)
    by: str | None = Field(default=None, max_length=200)
    # SHA-256 of (labels, values, known_at): the same outcome sent again is recognised, not added.
    content_hash: str = Field(max_length=64)


class ReplayRow(SQLModel, table=True):
    __tablename__ = "replays"
    __table_args__ = (sa.Index("ix_replays_key_version", "model_key", "candidate_version"),)

    id: str = Field(primary_key=True, max_length=26)
    model_key: str = Field(max_length=100)
    candidate_version: int
    version_id: int | None = Field(default=None, foreign_key="versions.id")  # attached to this version
    source: str = Field(sa_type=sa.Text)  # what was replayed: "log <from>..<to>", or a file name
    summary: Any = Field(sa_type=sa.JSON)
    created_by: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class AuditAlertRow(SQLModel, table=True):
    __tablename__ = "audit_alerts"
    __table_args__ = (sa.Index("ix_audit_alerts_key_created", "model_key", "created_at"),)

    id: str = Field(primary_key=True, max_length=26)
    model_key: str = Field(max_length=100)
    kind: str = Field(max_length=32)  # "drift"
    subject: str = Field(max_length=200)  # the input or output that crossed its threshold
    value: float
    threshold: float
    detail: Any = Field(sa_type=sa.JSON)
    run_ids: Any = Field(sa_type=sa.JSON)  # the workflow runs started for it
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class RollupRow(SQLModel, table=True):
    """What one scan of the records (`query`, a digest of what it reads and how) gave for one
    closed UTC day of one model, and how many records the model had that day when it ran."""

    __tablename__ = "audit_rollups"

    model_key: str = Field(primary_key=True, max_length=100)
    query: str = Field(primary_key=True, max_length=64)
    day: str = Field(primary_key=True, max_length=10)  # YYYY-MM-DD (UTC)
    records: int = Field(sa_type=sa.BigInteger)
    rows: Any = Field(sa_type=sa.JSON)  # the scan's rows for that day, without the day
    computed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
