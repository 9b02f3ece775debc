"""The registry's tables (SQLModel). The schema itself is made by the alembic migrations.

Every table here has a hand-reviewed migration in registry/migrations/versions; a change to a
class below needs a new migration, never `create_all`. Times are stored in UTC and read back as
aware datetimes on both SQLite and PostgreSQL (see `UTCDateTime`).

Version content is kept as bytes: DMN and YAML are UTF-8 text, xlsx is binary.
These row classes stay inside the registry: its functions return the frozen views of
registry/views.py, so callers cannot change stored rows behind the store's back.
"""

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlmodel import Field, SQLModel

STATES = ("draft", "submitted", "approved", "published", "retired", "rejected")
FORMATS = ("dmn", "yaml", "xlsx")
ROLES = ("viewer", "author", "approver", "caller", "reviewer", "admin")


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    """A timestamp stored in UTC and always returned timezone-aware.

    SQLite has no time zone type and hands back naive datetimes; PostgreSQL returns aware ones.
    Normalising here keeps comparisons and JSON output identical on both databases.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _json(*, none_as_null: bool = False) -> Any:
    # Plain JSON (not JSONB) on PostgreSQL too: it keeps key order as written, so a record's
    # outputs read back in evaluation order. `none_as_null`: Python None is stored as SQL NULL
    # (not JSON null), which also lets registry/bulk.py carry it in its one-statement path.
    return sa.JSON(none_as_null=none_as_null)


class ModelRow(SQLModel, table=True):
    """A decision model registered under a key; its versions are numbered from 1."""

    __tablename__ = "models"
    __table_args__ = (sa.UniqueConstraint("key", name="uq_models_key"),)

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=100)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    created_by: str = Field(max_length=200)
    # Highest version number handed out so far; bumped under a row lock so numbers never collide.
    last_number: int = Field(default=0)


class VersionRow(SQLModel, table=True):
    """One version of a model. Content is editable while a draft, immutable from submitted on."""

    __tablename__ = "versions"
    __table_args__ = (
        sa.UniqueConstraint("model_id", "number", name="uq_versions_model_number"),
        sa.Index("ix_versions_model_state", "model_id", "state"),
    )

    id: int | None = Field(default=None, primary_key=True)
    model_id: int = Field(foreign_key="models.id")
    number: int
    state: str = Field(max_length=16, default="draft")
    format: str = Field(max_length=8)
    content: bytes = Field(sa_type=sa.LargeBinary)
    content_hash: str = Field(max_length=64)
    hash_method: str = Field(max_length=16)  # "model-yaml" or "text": how the hash was computed
    test_cases: str | None = Field(default=None, sa_type=sa.Text)  # YAML text, as attached
    author: str = Field(max_length=200)
    comment: str | None = Field(default=None, sa_type=sa.Text)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # The gates' last report (registry/gates.py), from submit or publish; None before submit.
    gates: Any = Field(default=None, sa_type=_json(none_as_null=True), nullable=True)



class TransitionRow(SQLModel, table=True):
    """One lifecycle move of a version (append-only). Creation is recorded as None -> draft."""

    __tablename__ = "transitions"

    id: int | None = Field(default=None, primary_key=True)
    version_id: int = Field(foreign_key="versions.id", index=True)
    from_state: str | None = Field(default=None, max_length=16)
    to_state: str = Field(max_length=16)
    by: str = Field(max_length=200)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    comment: str | None = Field(default=None, sa_type=sa.Text)


class AliasRow(SQLModel, table=True):
    """An environment name (production, staging, ...) pointing at a published version."""

    __tablename__ = "aliases"
    __table_args__ = (sa.UniqueConstraint("model_id", "name", name="uq_aliases_model_name"),)

    id: int | None = Field(default=None, primary_key=True)
    model_id: int = Field(foreign_key="models.id")
    name: str = Field(max_length=100)
    version_id: int = Field(foreign_key="versions.id")
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_by: str = Field(max_length=200)
    # Champion/challenger split and shadow versions (registry/routing.py); None: the version alone.
    routing: Any = Field(default=None, sa_type=_json(none_as_null=True), nullable=True)


class AliasMoveRow(SQLModel, table=True):
    """One move of an alias (append-only): the history that rollback replays."""

    __tablename__ = "alias_moves"
    __table_args__ = (sa.Index("ix_alias_moves_model_alias", "model_id", "alias", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    model_id: int = Field(foreign_key="models.id")
    alias: str = Field(max_length=100)
    kind: str = Field(max_length=16)  # "set" or "rollback"
    from_number: int | None = None
    to_number: int
    by: str = Field(max_length=200)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    why: str | None = Field(default=None, sa_type=sa.Text)
    routing: Any = Field(default=None, sa_type=_json(none_as_null=True), nullable=True)


class DecisionRecordRow(SQLModel, table=True):
    """What one evaluation answered: the audit trail. Key, version and hash are copied, not
    referenced, so a record reads on its own."""

    __tablename__ = "decision_records"
    __table_args__ = (
        sa.Index("ix_decision_records_key_created", "model_key", "created_at"),
        sa.Index("ix_decision_records_key_version_created", "model_key", "version", "created_at"),
        sa.Index("ix_decision_records_key_business", "model_key", "business_key"),
        sa.Index("ix_decision_records_shadow_of", "shadow_of"),
        sa.Index("uq_decision_records_chain", "chain_id", "chain_seq", unique=True),
    )

    id: str = Field(primary_key=True, max_length=26)  # ULID: sortable by creation time
    model_key: str = Field(max_length=100)
    version: int
    content_hash: str = Field(max_length=64)
    alias: str | None = Field(default=None, max_length=100)
    inputs: Any = Field(sa_type=_json())
    outputs: Any = Field(sa_type=_json())
    fired: Any = Field(sa_type=_json())
    problems: Any = Field(sa_type=_json())
    latency_us: int
    caller: str | None = Field(default=None, max_length=200)
    idempotency_key: str | None = Field(default=None, max_length=200)
    request_hash: str | None = Field(default=None, max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    # Stable rule identities beside the positions in `fired`: the DMN rule id, or a content hash.
    fired_ids: Any = Field(default=None, sa_type=_json(none_as_null=True), nullable=True)
    business_key: str | None = Field(default=None, max_length=200)  # the model's named business key
    arm: str | None = Field(default=None, max_length=100)  # which arm of an alias's split answered
    shadow_of: str | None = Field(default=None, max_length=26)  # a shadow version's record of that call
    # Reason codes of scoring decisions: {decision: [reason, ...]}; {} or NULL when there are none.
    reasons: Any = Field(default=None, sa_type=_json(none_as_null=True), nullable=True)
    # The hash chain (registry/chain.py): each record carries its predecessor's hash.
    chain_id: str | None = Field(default=None, max_length=26)
    chain_seq: int | None = Field(default=None, sa_type=sa.BigInteger)
    prev_hash: str | None = Field(default=None, max_length=64)
    record_hash: str | None = Field(default=None, max_length=64)


class RecordChainHeadRow(SQLModel, table=True):
    """Where a record chain stood after one commit: a tail removed from the chain shows against it."""

    __tablename__ = "record_chain_heads"
    __table_args__ = (sa.Index("ix_record_chain_heads_chain_seq", "chain_id", "seq"),)

    id: int | None = Field(default=None, primary_key=True)
    chain_id: str = Field(max_length=26)
    seq: int = Field(sa_type=sa.BigInteger)
    hash: str = Field(max_length=64)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class RecordCheckpointRow(SQLModel, table=True):
    """What retention removed from the start of a chain (append-only): the chain verifies from here."""

    __tablename__ = "record_checkpoints"
    __table_args__ = (sa.Index("ix_record_checkpoints_chain", "chain_id", "up_to_seq"),)

    id: int | None = Field(default=None, primary_key=True)
    chain_id: str = Field(max_length=26)
    up_to_seq: int = Field(sa_type=sa.BigInteger)  # the last removed record's place in the chain
    last_hash: str = Field(max_length=64)  # its hash: the next record's prev_hash
    removed: int
    removed_digest: str = Field(max_length=64)  # SHA-256 over the removed records' hashes, in order
    older_than: datetime = Field(sa_type=UTCDateTime)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    by: str = Field(max_length=200)


class IdempotencyRow(SQLModel, table=True):
    """(caller, idempotency key) -> the request it answered and the record of that answer."""

    __tablename__ = "idempotency_keys"

    caller: str = Field(primary_key=True, max_length=200)
    key: str = Field(primary_key=True, max_length=200)
    request_hash: str = Field(max_length=64)
    record_id: str = Field(foreign_key="decision_records.id", max_length=26)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class IdempotentBatchRow(SQLModel, table=True):
    """(caller, idempotency key) of an evaluate-batch or evaluate-csv call -> the request it
    answered and that answer (rows refused for their inputs have no record to rebuild it from)."""

    __tablename__ = "idempotent_batches"

    caller: str = Field(primary_key=True, max_length=200)
    key: str = Field(primary_key=True, max_length=200)
    request_hash: str = Field(max_length=64)
    answer: Any = Field(default=None, sa_type=_json(none_as_null=True), nullable=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class IdentityRow(SQLModel, table=True):
    """A person (or a service) that API keys are issued to; the two-person rule compares these.
    `name_key` is the name case-folded with its spaces collapsed: unique, so "Ana" and "ana "
    cannot be two identities."""

    __tablename__ = "identities"
    __table_args__ = (sa.UniqueConstraint("name_key", name="uq_identities_name_key"),)

    id: str = Field(primary_key=True, max_length=26)
    name: str = Field(max_length=200)
    name_key: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    created_by: str | None = Field(default=None, max_length=200)


class ApiKeyRow(SQLModel, table=True):
    """An API key: only the SHA-256 of its secret is stored, never the secret. It belongs to an
    identity: whoever holds it acts as that identity."""

    __tablename__ = "api_keys"
    __table_args__ = (sa.UniqueConstraint("key_hash", name="uq_api_keys_key_hash"),)

    id: str = Field(primary_key=True, max_length=26)
    name: str = Field(max_length=200)
    role: str = Field(max_length=16)
    key_hash: str = Field(max_length=64)  # unique: verify_key is one index lookup
    prefix: str = Field(max_length=16)  # the first characters of the secret, to tell keys apart
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    created_by: str | None = Field(default=None, max_length=200)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_by: str | None = Field(default=None, max_length=200)
    identity_id: str = Field(foreign_key="identities.id", max_length=26, index=True)
