"""Identities: API keys are issued to a person (or service), and the two-person rule compares those.

    identities   id, name, name_key (unique: case-folded, spaces collapsed), created_at, created_by
    api_keys     + identity_id (not null, references identities)

Every existing key becomes its own identity, named like the key, so every key keeps working and
acts under the name it had. Two keys whose names are one once case-folded ("Admin", "admin")
cannot both give their name to an identity: the later key's identity is named
"<name> (key <id>)", and an admin can reissue keys to the right identity afterwards.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | None = None
depends_on: str | None = None


def _name_key(name: str) -> str:  # registry.keys.name_key, as of this revision
    return " ".join(name.split()).casefold()


def upgrade() -> None:
    identities = op.create_table(
        "identities",
        sa.Column("id", sa.String(26), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("name_key", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=True),
        sa.UniqueConstraint("name_key", name="uq_identities_name_key"),
    )
    with op.batch_alter_table("api_keys") as batch:
        batch.add_column(sa.Column("identity_id", sa.String(26), nullable=True))
    connection = op.get_bind()
    keys = sa.table("api_keys", sa.column("id", sa.String), sa.column("name", sa.String),
                    sa.column("created_at", sa.DateTime(timezone=True)), sa.column("identity_id", sa.String))
    taken: set[str] = set()
    for key in connection.execute(sa.select(keys.c.id, keys.c.name, keys.c.created_at).order_by(keys.c.id)).all():
        name = " ".join(str(key.name).split()) or key.id
        if _name_key(name) in taken:
            name = f"{name[:160]} (key {key.id})"
        taken.add(_name_key(name))
        connection.execute(sa.insert(identities).values(id=key.id, name=name, name_key=_name_key(name),
                                                        created_at=key.created_at, created_by="migration 0007"))
        connection.execute(sa.update(keys).where(keys.c.id == key.id).values(identity_id=key.id))
    with op.batch_alter_table("api_keys") as batch:
        batch.alter_column("identity_id", existing_type=sa.String(26), nullable=False)
        batch.create_foreign_key("fk_api_keys_identity_id", "identities", ["identity_id"], ["id"])
        batch.create_index("ix_api_keys_identity_id", ["identity_id"])


def downgrade() -> None:
    with op.batch_alter_table("api_keys") as batch:
        batch.drop_index("ix_api_keys_identity_id")
        batch.drop_constraint("fk_api_keys_identity_id", type_="foreignkey")
        batch.drop_column("identity_id")
    op.drop_table("identities")
