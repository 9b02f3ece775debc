"""Auditing decisions over time: the records' hash chain, stable rule ids, business keys and the
arm of a split; outcomes that arrive later; replays; audit alerts; traffic splits on aliases.

    decision_records  + fired_ids, business_key, arm, shadow_of, chain_id, chain_seq, prev_hash,
                        record_hash (the chain: registry/chain.py)
    record_chain_heads  where each chain stood after each commit (append-only): a removed tail shows
    record_checkpoints  what retention removed from a chain, and the hash it ended on
    outcomes            labels and values known later about a decision (append-only: a late or
                        repeated outcome adds a row, and earlier figures are computed as of a time)
    replays             a candidate version replayed on logged decisions, attached to the version
    audit_alerts        drift (or other monitor) thresholds crossed, with the runs they started
    aliases.routing     champion/challenger percentages and shadow versions (alias_moves keeps each)

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None

APPEND_ONLY = ("record_checkpoints", "outcomes")


def _when() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    for column in (
        sa.Column("fired_ids", sa.JSON, nullable=True),
        sa.Column("business_key", sa.String(200), nullable=True),
        sa.Column("arm", sa.String(100), nullable=True),
        sa.Column("shadow_of", sa.String(26), nullable=True),
        sa.Column("chain_id", sa.String(26), nullable=True),
        sa.Column("chain_seq", sa.BigInteger, nullable=True),
        sa.Column("prev_hash", sa.String(64), nullable=True),
        sa.Column("record_hash", sa.String(64), nullable=True),
    ):
        op.add_column("decision_records", column)
    op.create_index("ix_decision_records_key_version_created", "decision_records",
                    ["model_key", "version", "created_at"])
    op.create_index("ix_decision_records_key_business", "decision_records", ["model_key", "business_key"])
    op.create_index("ix_decision_records_shadow_of", "decision_records", ["shadow_of"])
    op.create_index("uq_decision_records_chain", "decision_records", ["chain_id", "chain_seq"], unique=True)

    op.add_column("aliases", sa.Column("routing", sa.JSON, nullable=True))
    op.add_column("alias_moves", sa.Column("routing", sa.JSON, nullable=True))

    op.create_table(
        "record_chain_heads",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("chain_id", sa.String(26), nullable=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("at", _when(), nullable=False),
    )
    op.create_index("ix_record_chain_heads_chain_seq", "record_chain_heads", ["chain_id", "seq"])

    op.create_table(
        "record_checkpoints",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("chain_id", sa.String(26), nullable=False),
        sa.Column("up_to_seq", sa.BigInteger, nullable=False),
        sa.Column("last_hash", sa.String(64), nullable=False),
        sa.Column("removed", sa.Integer, nullable=False),
        sa.Column("removed_digest", sa.String(64), nullable=False),
        sa.Column("older_than", _when(), nullable=False),
        sa.Column("at", _when(), nullable=False),
        sa.Column("by", sa.String(200), nullable=False),
    )
    op.create_index("ix_record_checkpoints_chain", "record_checkpoints", ["chain_id", "up_to_seq"])

    op.create_table(
        "outcomes",
        sa.Column("id", sa.String(26), primary_key=True),
        sa.Column("model_key", sa.String(100), nullable=False),
        sa.Column("decision_id", sa.String(26), nullable=False),
        sa.Column("business_key", sa.String(200), nullable=True),
        sa.Column("labels", sa.JSON, nullable=False),
        sa.Column("values", sa.JSON, nullable=False),
        sa.Column("known_at", _when(), nullable=False),
        sa.Column("received_at", _when(), nullable=False),
        sa.Column("source", sa.String(200), nullable=False),
        sa.Column("by", sa.String(200), nullable=True),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.UniqueConstraint("decision_id", "content_hash", name="uq_outcomes_decision_content"),
    )
    op.create_index("ix_outcomes_key_decision", "outcomes", ["model_key", "decision_id"])
    op.create_index("ix_outcomes_key_known", "outcomes", ["model_key", "known_at"])

    op.create_table(
        "replays",
        sa.Column("id", sa.String(26), primary_key=True),
        sa.Column("model_key", sa.String(100), nullable=False),
        sa.Column("candidate_version", sa.Integer, nullable=False),
        sa.Column("version_id", sa.Integer, sa.ForeignKey("versions.id", name="fk_replays_version"),
                  nullable=True),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("summary", sa.JSON, nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", _when(), nullable=False),
    )
    op.create_index("ix_replays_key_version", "replays", ["model_key", "candidate_version"])

    op.create_table(
        "audit_alerts",
        sa.Column("id", sa.String(26), primary_key=True),
        sa.Column("model_key", sa.String(100), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("value", sa.Float, nullable=False),
        sa.Column("threshold", sa.Float, nullable=False),
        sa.Column("detail", sa.JSON, nullable=False),
        sa.Column("run_ids", sa.JSON, nullable=False),
        sa.Column("created_at", _when(), nullable=False),
    )
    op.create_index("ix_audit_alerts_key_created", "audit_alerts", ["model_key", "created_at"])

    if op.get_bind().dialect.name == "postgresql":
        for table in APPEND_ONLY:
            op.execute(f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                       "FOR EACH ROW EXECUTE FUNCTION decisionary_append_only()")
    else:
        for table in APPEND_ONLY:
            for event in ("UPDATE", "DELETE"):
                op.execute(f"CREATE TRIGGER {table}_no_{event.lower()} BEFORE {event} ON {table} "
                           f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END")


def downgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    for table in APPEND_ONLY:
        if postgresql:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
        else:
            for event in ("update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{event}")
    for table in ("audit_alerts", "replays", "outcomes", "record_checkpoints", "record_chain_heads"):
        op.drop_table(table)
    op.drop_column("alias_moves", "routing")
    op.drop_column("aliases", "routing")
    for index in ("uq_decision_records_chain", "ix_decision_records_shadow_of", "ix_decision_records_key_business",
                  "ix_decision_records_key_version_created"):
        op.drop_index(index, table_name="decision_records")
    for column in ("record_hash", "prev_hash", "chain_seq", "chain_id", "shadow_of", "arm", "business_key",
                   "fired_ids"):
        op.drop_column("decision_records", column)
