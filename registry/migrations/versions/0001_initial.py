"""The registry: models, versions and their lifecycle, aliases, decision records, API keys.

Besides the tables, triggers make the database itself refuse what the store already refuses:
changing a version's content once it left the draft state, sending it back to draft, deleting it,
and rewriting the append-only histories (transitions, alias moves).

Revision ID: 0001
Revises:
Create Date: 2025-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None

STATES = "'draft', 'submitted', 'approved', 'published', 'retired', 'rejected'"
FORMATS = "'dmn', 'yaml', 'xlsx'"
ROLES = "'viewer', 'author', 'approver', 'caller', 'reviewer', 'admin'"
# Columns that make up a version's content: frozen once the version is submitted.
CONTENT_COLUMNS = ("model_id", "number", "format", "content", "content_hash", "hash_method", "test_cases", "author")
APPEND_ONLY = ("transitions", "alias_moves")


def _when() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "models",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("key", sa.String(100), nullable=False),
        sa.Column("created_at", _when(), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("last_number", sa.Integer, nullable=False, server_default="0"),
        sa.UniqueConstraint("key", name="uq_models_key"),
    )
    op.create_table(
        "versions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("model_id", sa.Integer, sa.ForeignKey("models.id", name="fk_versions_model"), nullable=False),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("format", sa.String(8), nullable=False),
        sa.Column("content", sa.LargeBinary, nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("hash_method", sa.String(16), nullable=False),
        sa.Column("test_cases", sa.Text, nullable=True),
        sa.Column("author", sa.String(200), nullable=False),
        sa.Column("comment", sa.Text, nullable=True),
        sa.Column("created_at", _when(), nullable=False),
        sa.Column("updated_at", _when(), nullable=False),
        sa.UniqueConstraint("model_id", "number", name="uq_versions_model_number"),
        sa.CheckConstraint(f"state IN ({STATES})", name="ck_versions_state"),
        sa.CheckConstraint(f"format IN ({FORMATS})", name="ck_versions_format"),
        sa.CheckConstraint("number >= 1", name="ck_versions_number"),
    )
    op.create_index("ix_versions_model_state", "versions", ["model_id", "state"])
    op.create_table(
        "transitions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("version_id", sa.Integer, sa.ForeignKey("versions.id", name="fk_transitions_version"),
                  nullable=False),
        sa.Column("from_state", sa.String(16), nullable=True),
        sa.Column("to_state", sa.String(16), nullable=False),
        sa.Column("by", sa.String(200), nullable=False),
        sa.Column("at", _when(), nullable=False),
        sa.Column("comment", sa.Text, nullable=True),
    )
    op.create_index("ix_transitions_version_id", "transitions", ["version_id"])
    op.create_table(
        "aliases",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("model_id", sa.Integer, sa.ForeignKey("models.id", name="fk_aliases_model"), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("version_id", sa.Integer, sa.ForeignKey("versions.id", name="fk_aliases_version"),
                  nullable=False),
        sa.Column("updated_at", _when(), nullable=False),
        sa.Column("updated_by", sa.String(200), nullable=False),
        sa.UniqueConstraint("model_id", "name", name="uq_aliases_model_name"),
    )
    op.create_table(
        "alias_moves",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("model_id", sa.Integer, sa.ForeignKey("models.id", name="fk_alias_moves_model"),
                  nullable=False),
        sa.Column("alias", sa.String(100), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("from_number", sa.Integer, nullable=True),
        sa.Column("to_number", sa.Integer, nullable=False),
        sa.Column("by", sa.String(200), nullable=False),
        sa.Column("at", _when(), nullable=False),
        sa.Column("why", sa.Text, nullable=True),
        sa.CheckConstraint("kind IN ('set', 'rollback')", name="ck_alias_moves_kind"),
    )
    op.create_index("ix_alias_moves_model_alias", "alias_moves", ["model_id", "alias", "id"])
    op.create_table(
        "decision_records",
        sa.Column("id", sa.String(26), primary_key=True),
        sa.Column("model_key", sa.String(100), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("alias", sa.String(100), nullable=True),
        sa.Column("inputs", sa.JSON, nullable=False),
        sa.Column("outputs", sa.JSON, nullable=False),
        sa.Column("fired", sa.JSON, nullable=False),
        sa.Column("problems", sa.JSON, nullable=False),
        sa.Column("latency_us", sa.Integer, nullable=False),
        sa.Column("caller", sa.String(200), nullable=True),
        sa.Column("idempotency_key", sa.String(200), nullable=True),
        sa.Column("request_hash", sa.String(64), nullable=True),
        sa.Column("created_at", _when(), nullable=False),
    )
    op.create_index("ix_decision_records_key_created", "decision_records", ["model_key", "created_at"])
    op.create_index("ix_decision_records_created_at", "decision_records", ["created_at"])
    op.create_table(
        "idempotency_keys",
        sa.Column("caller", sa.String(200), primary_key=True),
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("record_id", sa.String(26),
                  sa.ForeignKey("decision_records.id", name="fk_idempotency_keys_record"), nullable=False),
        sa.Column("created_at", _when(), nullable=False),
    )
    op.create_table(
        "api_keys",
        sa.Column("id", sa.String(26), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("key_hash", sa.String(64), nullable=False),
        sa.Column("prefix", sa.String(16), nullable=False),
        sa.Column("created_at", _when(), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=True),
        sa.Column("revoked_at", _when(), nullable=True),
        sa.Column("revoked_by", sa.String(200), nullable=True),
        sa.UniqueConstraint("key_hash", name="uq_api_keys_key_hash"),
        sa.CheckConstraint(f"role IN ({ROLES})", name="ck_api_keys_role"),
    )
    if op.get_bind().dialect.name == "postgresql":
        _postgresql_guards()
    else:
        _sqlite_guards()


def _sqlite_guards() -> None:
    columns = ", ".join(CONTENT_COLUMNS)
    op.execute(
        f"CREATE TRIGGER versions_content_frozen BEFORE UPDATE OF {columns} ON versions "
        "WHEN OLD.state <> 'draft' "
        "BEGIN SELECT RAISE(ABORT, 'version content is immutable once submitted'); END"
    )
    op.execute(
        "CREATE TRIGGER versions_no_return_to_draft BEFORE UPDATE OF state ON versions "
        "WHEN OLD.state <> 'draft' AND NEW.state = 'draft' "
        "BEGIN SELECT RAISE(ABORT, 'a submitted version cannot go back to draft'); END"
    )
    op.execute(
        "CREATE TRIGGER versions_no_delete BEFORE DELETE ON versions WHEN OLD.state <> 'draft' "
        "BEGIN SELECT RAISE(ABORT, 'only draft versions can be deleted'); END"
    )
    for table in APPEND_ONLY:
        for event in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{event.lower()} BEFORE {event} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
            )


def _postgresql_guards() -> None:
    changed = " OR ".join(f"NEW.{c} IS DISTINCT FROM OLD.{c}" for c in CONTENT_COLUMNS)
    op.execute(f"""
        CREATE FUNCTION decisionary_versions_guard() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'DELETE' THEN
                IF OLD.state <> 'draft' THEN
                    RAISE EXCEPTION 'only draft versions can be deleted' USING ERRCODE = 'check_violation';
                END IF;
                RETURN OLD;
            END IF;
            IF OLD.state <> 'draft' AND ({changed}) THEN
                RAISE EXCEPTION 'version content is immutable once submitted' USING ERRCODE = 'check_violation';
            END IF;
            IF OLD.state <> 'draft' AND NEW.state = 'draft' THEN
                RAISE EXCEPTION 'a submitted version cannot go back to draft' USING ERRCODE = 'check_violation';
            END IF;
            RETURN NEW;
        END $$
    """)
    op.execute(
        "CREATE TRIGGER versions_guard BEFORE UPDATE OR DELETE ON versions "
        "FOR EACH ROW EXECUTE FUNCTION decisionary_versions_guard()"
    )
    op.execute("""
        CREATE FUNCTION decisionary_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = 'check_violation';
        END $$
    """)
    for table in APPEND_ONLY:
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION decisionary_append_only()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS versions_guard ON versions")
        for table in APPEND_ONLY:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
        op.execute("DROP FUNCTION IF EXISTS decisionary_versions_guard()")
        op.execute("DROP FUNCTION IF EXISTS decisionary_append_only()")
    for table in ("api_keys", "idempotency_keys", "decision_records", "alias_moves", "aliases",
                  "transitions", "versions", "models"):
        op.drop_table(table)
