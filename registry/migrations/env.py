"""Alembic environment of the registry's schema.

`registry.db.upgrade()` passes an open connection in `config.attributes["connection"]`; the
alembic command line (`alembic -c registry/alembic.ini ...`) gets here without one and connects
to `registry.db.default_url()` (DECISIONARY_DATABASE_URL or the SQLite file in the data directory).
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection
from sqlmodel import SQLModel

import registry.tables  # noqa: F401  (registers the tables on SQLModel.metadata for autogenerate)
from registry.db import make_engine

config = context.config


# The execution layer's tables (migration 0002 on) register themselves on the same metadata when
# `execution.tables` is imported; import it before autogenerating a revision that touches them.
# The registry does not import the layers above it.


def run_migrations(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=SQLModel.metadata,
        compare_type=True,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


def main() -> None:
    if context.is_offline_mode():
        raise SystemExit("offline (SQL script) migrations are not supported: run registry.db.upgrade()")
    connection = config.attributes.get("connection")
    if connection is not None:
        run_migrations(connection)
        return
    engine = make_engine(config.get_main_option("sqlalchemy.url") or None)
    try:
        with engine.begin() as connection:
            run_migrations(connection)
    finally:
        engine.dispose()


main()
