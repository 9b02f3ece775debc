"""Rows for several tables in one statement: the write path of the service's group commit.

A batch of the service's decisions is its records plus what the record hooks add for them (the
execution layer's workflow runs). On PostgreSQL every statement, and every BEGIN and COMMIT,
is a round trip that costs the client and the server more CPU than the rows it carries
(psycopg's executemany even runs one INSERT per row). So the whole batch travels as one
statement, each table's rows as ONE JSON document that the server unpacks:

    WITH t1 AS (INSERT INTO t1 (a, b) SELECT a, b FROM json_populate_recordset(NULL::t1, :p0))
    INSERT INTO t2 (c, d) SELECT c, d FROM json_populate_recordset(NULL::t2, :p1)

A single statement is atomic on its own, so `write_all` sends it in autocommit: one round trip
for the batch instead of four (BEGIN, two INSERTs, COMMIT). The text is fixed per tables and
columns (prepared once per connection), the client makes one `json.dumps` per table in C, and
the server converts each field with the column type's own input function. Foreign keys between
the parts hold: PostgreSQL checks them at the end of the statement. Figures in
benchmarks/README.md ("Workflow runs in the record's transaction").

What a JSON document cannot carry exactly goes the ordinary way instead (a transaction with
an executemany per table), so the stored values are always what SQLAlchemy itself would store:
- a JSON column holding Python None, unless the column stores None as SQL NULL
  (`sa.JSON(none_as_null=True)`): otherwise SQLAlchemy stores JSON `null`, and the document
  would give SQL NULL;
- NaN or infinity anywhere (not JSON);
- a NUL character anywhere (PostgreSQL's JSON functions refuse it; a json column takes it);
- a column type other than text, numbers, booleans, timestamps with time zone and JSON, or a
  type of our own that changes values on their way in.
Other databases (SQLite runs in-process, where executemany is one C loop and a transaction
costs no round trip) always go the ordinary way.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from registry.db import unit_of_work
from registry.tables import UTCDateTime

Rows = tuple[sa.Table, Sequence[Mapping[str, Any]]]  # rows for one table, dicts keyed by column name

_PLAIN_TYPES = (sa.String, sa.Integer, sa.Float, sa.Numeric, sa.Boolean, sa.DateTime, sa.JSON)


def insert_rows(session: Session, table: sa.Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert `rows` (dicts with the same keys, named as the table's columns) in `session`'s
    transaction, without committing."""
    insert_all(session, [(table, rows)])


def insert_all(session: Session, parts: Sequence[Rows]) -> None:
    """Insert every part, in order (a part may refer to rows of the parts before it), in
    `session`'s transaction, without committing: one statement on PostgreSQL when it can."""
    parts = [(table, rows) for table, rows in parts if rows]
    if not parts:
        return
    statement = one_statement(parts, session.get_bind().dialect)
    if statement is not None:
        session.execute(*statement)
    else:
        _insert_each(session, parts)


def write_all(engine: Engine, parts: Sequence[Rows]) -> None:
    """Insert every part, all or nothing, and commit: one statement in autocommit (one round
    trip) on PostgreSQL when it can, else one transaction."""
    parts = [(table, rows) for table, rows in parts if rows]
    if not parts:
        return
    statement = one_statement(parts, engine.dialect)
    if statement is not None:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(*statement)
        return
    with unit_of_work(engine) as session:
        _insert_each(session, parts)


def _insert_each(session: Session, parts: Sequence[Rows]) -> None:
    """The ordinary way: an executemany per part, in order."""
    for table, rows in parts:
        session.execute(sa.insert(table), list(rows))


def one_statement(parts: Sequence[Rows], dialect: sa.Dialect) -> tuple[sa.TextClause, dict[str, str]] | None:
    """The PostgreSQL statement inserting every (non-empty) part, with its parameters; None
    where it cannot carry the rows exactly (see the module docstring) or on other databases."""
    if dialect.name != "postgresql" or not parts:
        return None
    shapes: list[tuple[sa.Table, tuple[str, ...]]] = []
    params: dict[str, str] = {}
    for index, (table, rows) in enumerate(parts):
        document = _document(table, rows)
        if document is None:
            return None
        shapes.append((table, tuple(rows[0])))
        params[f"p{index}"] = document
    return _statement(tuple(shapes), dialect), params


def _document(table: sa.Table, rows: Sequence[Mapping[str, Any]]) -> str | None:
    """The rows as one JSON array, or None when JSON cannot carry them exactly."""
    columns = tuple(rows[0])
    json_columns = _json_columns(table, columns)
    if json_columns is None:
        return None
    for row in rows:
        if row.keys() != rows[0].keys() or any(row[name] is None for name in json_columns):
            return None
    try:
        document = json.dumps(rows, default=_timestamp, allow_nan=False)
    except (ValueError, TypeError):  # NaN, infinity, a value the columns refuse: the ordinary way says why
        return None
    # PostgreSQL's JSON functions refuse the escape of a NUL character, which a json column
    # stores as written. (An escaped backslash before "u0000" matches too: only a needless detour.)
    return None if "\\u0000" in document else document


@lru_cache(maxsize=64)
def _json_columns(table: sa.Table, columns: tuple[str, ...]) -> tuple[str, ...] | None:
    """Which of `columns` are JSON storing None as JSON null; None when a column's values have no
    exact JSON form."""
    if not all(name in table.c and table.c[name].name == name for name in columns):
        return None
    kinds = [table.c[name].type for name in columns]
    if any(isinstance(kind, sa.types.TypeDecorator) and not isinstance(kind, UTCDateTime)
           and type(kind).process_bind_param is not sa.types.TypeDecorator.process_bind_param for kind in kinds):
        # A type that changes values on their way in. UTCDateTime only moves an aware time to
        # UTC, which a timestamptz column does itself, and refuses a naive one, which the
        # document refuses too (so the ordinary way raises UTCDateTime's error).
        return None
    bare = [kind.impl_instance if isinstance(kind, sa.types.TypeDecorator) else kind for kind in kinds]
    if not all(isinstance(kind, _PLAIN_TYPES) for kind in bare):
        return None
    if any(isinstance(kind, sa.DateTime) and not kind.timezone for kind in bare):
        return None  # an offset in the text would be dropped, not applied
    # The JSON columns where None means JSON null, which the document cannot say.
    return tuple(name for name, kind in zip(columns, bare, strict=True)
                 if isinstance(kind, sa.JSON) and not kind.none_as_null)


def _timestamp(value: object) -> str:
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.isoformat()
    raise ValueError(f"{type(value).__name__} has no exact JSON form")  # json.dumps's caller falls back


@lru_cache(maxsize=64)
def _statement(shapes: tuple[tuple[sa.Table, tuple[str, ...]], ...], dialect: sa.Dialect) -> sa.TextClause:
    preparer = dialect.identifier_preparer
    inserts = []
    for index, (table, columns) in enumerate(shapes):
        name = preparer.format_table(table)
        names = ", ".join(preparer.quote(column) for column in columns)
        inserts.append(f"INSERT INTO {name} ({names}) SELECT {names} "  # noqa: S608 - names from the metadata
                       f"FROM json_populate_recordset(NULL::{name}, CAST(:p{index} AS json))")
    *before, last = inserts
    prefix = ("WITH " + ", ".join(f"part{index} AS ({insert})" for index, insert in enumerate(before)) + " "
              if before else "")
    return sa.text(prefix + last)
