"""registry/bulk.py: rows written through one JSON document read back exactly as SQLAlchemy's own
insert stores them (to the text of the JSON columns), and what JSON cannot carry goes the
ordinary way. Both databases; the JSON document is PostgreSQL's path."""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from sqlmodel import AutoString

from registry.bulk import insert_rows, write_all
from registry.db import make_engine
from registry.tables import UTCDateTime

METADATA = sa.MetaData()


def _table(name: str) -> sa.Table:
    return sa.Table(
        name, METADATA,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", AutoString(200), nullable=False),  # SQLModel's type for str fields
        sa.Column("note", sa.Text, nullable=True),
        sa.Column("score", sa.Float, nullable=True),
        sa.Column("flag", sa.Boolean, nullable=True),
        sa.Column("at", UTCDateTime, nullable=True),
        sa.Column("doc", sa.JSON, nullable=True),
    )


BULK = _table("bulk_rows")  # written by insert_rows
PLAIN = _table("plain_rows")  # written by SQLAlchemy's insert, for comparison
AMOUNTS = sa.Table("bulk_amounts", METADATA, sa.Column("id", sa.Integer, primary_key=True),
                   sa.Column("amount", sa.Numeric(12, 2)), sa.Column("blob", sa.LargeBinary, nullable=True))

PARENTS = sa.Table("bulk_parents", METADATA, sa.Column("id", sa.String(26), primary_key=True),
                   sa.Column("doc", sa.JSON, nullable=False))
# A JSON column whose None is SQL NULL (as decision_records.fired_ids): the document can carry it.
OPTIONAL_DOCS = sa.Table("bulk_optional_docs", METADATA, sa.Column("id", sa.Integer, primary_key=True),
                         sa.Column("doc", sa.JSON(none_as_null=True), nullable=True))
CHILDREN = sa.Table("bulk_children", METADATA, sa.Column("id", sa.Integer, primary_key=True),
                    sa.Column("parent_id", sa.String(26), sa.ForeignKey("bulk_parents.id"), nullable=False),
                    sa.Column("score", sa.Float, nullable=True))

EXAMPLE_ROWS: list[dict[str, Any]] = [
    {"id": 1, "name": "plain", "note": None, "score": 0.1, "flag": True,
     "at": datetime(2026, 1, 2, 3, 4, 5, 123456, tzinfo=UTC),
     "doc": {"b": 1, "a": [1, 2.5, None, True], "é": "ü", "nested": {"z": {}, "y": []}}},
    {"id": 2, "name": 'é 漢字 😀 "q" \\ \n\t\x01 \u2028', "note": "x" * 5000, "score": 5e-324, "flag": False,
     "at": datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=5, minutes=30))),
     "doc": {"s": "a\x01b", "n": 1e308, "big": 12345678901234567890, "neg": -0.0}},
    {"id": 3, "name": "", "note": "", "score": -0.0, "flag": None, "at": None, "doc": []},
    {"id": 4, "name": "x", "note": "y", "score": 1 / 3, "flag": True, "at": None, "doc": "just a string"},
    {"id": 5, "name": "x", "note": "y", "score": 2.0**53 + 1, "flag": True, "at": None, "doc": 0},
]


@pytest.fixture
def engine(blank_database_url: str) -> Iterator[Engine]:
    engine = make_engine(blank_database_url, pool_size=2)
    METADATA.create_all(engine)
    try:
        yield engine
    finally:
        engine.dispose()


def _statements(engine: Engine) -> list[str]:
    seen: list[str] = []
    sa.event.listen(engine, "before_cursor_execute", lambda _c, _cur, statement, *_: seen.append(statement))
    return seen


def _write_both(engine: Engine, rows: list[dict[str, Any]]) -> None:
    with Session(engine) as session:
        insert_rows(session, BULK, rows)
        session.execute(sa.insert(PLAIN), rows)
        session.commit()


def _read(engine: Engine, table: sa.Table) -> list[tuple[Any, ...]]:
    # The JSON column as its stored text too: the records are audit data, read by other tools.
    text = sa.cast(table.c.doc, sa.Text) if engine.dialect.name == "postgresql" else table.c.doc
    with engine.connect() as connection:
        return [tuple(row) for row in connection.execute(sa.select(table, text).order_by(table.c.id))]


def _used_document(statements: list[str]) -> bool:
    return any("json_populate_recordset" in statement for statement in statements)


def test_rows_read_back_as_sqlalchemys_insert_stores_them(engine: Engine) -> None:
    statements = _statements(engine)
    _write_both(engine, EXAMPLE_ROWS)
    bulk, plain = _read(engine, BULK), _read(engine, PLAIN)
    assert bulk == plain
    assert [row[0] for row in bulk] == [1, 2, 3, 4, 5]
    assert bulk[1][5] == datetime(2026, 1, 1, 21, 34, 5, tzinfo=UTC)  # the offset applied, kept in UTC
    assert _used_document(statements) == (engine.dialect.name == "postgresql")


@pytest.mark.parametrize("odd", [
    pytest.param({"doc": None}, id="json-null"),  # SQLAlchemy stores JSON null, not SQL NULL
    pytest.param({"doc": {"text": "a\x00b"}}, id="nul-in-json"),
])
def test_what_json_cannot_carry_goes_the_ordinary_way(engine: Engine, odd: dict[str, Any]) -> None:
    statements = _statements(engine)
    _write_both(engine, [dict(EXAMPLE_ROWS[0]), {**EXAMPLE_ROWS[3], **odd}])
    assert _read(engine, BULK) == _read(engine, PLAIN)
    assert not _used_document(statements)


def test_nan_goes_the_ordinary_way(engine: Engine) -> None:
    statements = _statements(engine)
    rows = [dict(EXAMPLE_ROWS[0]), {**EXAMPLE_ROWS[3], "doc": {"nan": math.nan}}]
    with Session(engine) as session:
        if engine.dialect.name == "postgresql":  # its JSON has no NaN: refused, as SQLAlchemy's insert is
            with pytest.raises(sa.exc.DataError, match="NaN"):
                insert_rows(session, BULK, rows)
        else:
            insert_rows(session, BULK, rows)
            session.commit()
            assert math.isnan(_read(engine, BULK)[1][6]["nan"])
    assert not _used_document(statements)


def test_columns_json_cannot_carry_exactly_go_the_ordinary_way(engine: Engine) -> None:
    statements = _statements(engine)
    rows = [{"id": 1, "amount": Decimal("12.30"), "blob": b"\x00\xff"}, {"id": 2, "amount": Decimal("0.01"),
                                                                          "blob": None}]
    with Session(engine) as session:
        insert_rows(session, AMOUNTS, rows)
        session.commit()
    with engine.connect() as connection:
        assert connection.execute(sa.select(AMOUNTS).order_by(AMOUNTS.c.id)).all() == [
            (1, Decimal("12.30"), b"\x00\xff"), (2, Decimal("0.01"), None)]
    assert not _used_document(statements)


def test_a_naive_timestamp_is_refused_as_before(engine: Engine) -> None:
    rows = [dict(EXAMPLE_ROWS[0]), {**EXAMPLE_ROWS[3], "at": datetime(2026, 1, 1, 12, 0)}]  # noqa: DTZ001
    with Session(engine) as session, pytest.raises(sa.exc.StatementError, match="naive datetime"):
        insert_rows(session, BULK, rows)


def test_a_failed_insert_writes_nothing(engine: Engine) -> None:
    rows = [dict(EXAMPLE_ROWS[0]), dict(EXAMPLE_ROWS[0])]  # the same primary key twice
    with Session(engine) as session, pytest.raises(sa.exc.IntegrityError):
        insert_rows(session, BULK, rows)
    assert _read(engine, BULK) == []


_json_leaf = (st.none() | st.booleans() | st.integers(-(2**70), 2**70)
              | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20))
_json = st.recursive(_json_leaf, lambda inner: st.lists(inner, max_size=4)
                     | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=12)
_rows = st.lists(st.fixed_dictionaries({
    "name": st.text(max_size=60).filter(lambda text: "\x00" not in text),
    "note": st.none() | st.text(max_size=60).filter(lambda text: "\x00" not in text),
    "score": st.none() | st.floats(allow_nan=False, allow_infinity=False),
    "flag": st.none() | st.booleans(),
    "at": st.none() | st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2200, 1, 1),  # noqa: DTZ001
                                   timezones=st.just(UTC)),
    "doc": st.dictionaries(st.text(max_size=8), _json, max_size=5),
}), min_size=2, max_size=6)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=_rows)
def test_any_rows_read_back_the_same_either_way(engine: Engine, rows: list[dict[str, Any]]) -> None:
    rows = [{"id": i, **row} for i, row in enumerate(rows, 1)]
    with engine.begin() as connection:
        connection.execute(BULK.delete())
        connection.execute(PLAIN.delete())
    _write_both(engine, rows)
    assert _read(engine, BULK) == _read(engine, PLAIN)


def _count(engine: Engine, table: sa.Table) -> int:
    with engine.connect() as connection:
        return int(connection.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


def _commits(engine: Engine) -> list[object]:
    seen: list[object] = []
    sa.event.listen(engine, "commit", lambda connection: seen.append(connection))
    return seen


def test_write_all_writes_related_tables_in_one_statement(engine: Engine) -> None:
    statements, commits = _statements(engine), _commits(engine)
    parents: list[dict[str, Any]] = [{"id": "a", "doc": {"n": 1}}, {"id": "b", "doc": [1, 2]}]
    children = [{"id": 1, "parent_id": "a", "score": 0.5}, {"id": 2, "parent_id": "b", "score": None},
                {"id": 3, "parent_id": "a", "score": 1e-9}]
    write_all(engine, [(PARENTS, parents), (CHILDREN, children), (BULK, [])])
    statements, commits = list(statements), list(commits)
    with engine.connect() as connection:
        assert connection.execute(sa.select(CHILDREN).order_by(CHILDREN.c.id)).all() == [
            (1, "a", 0.5), (2, "b", None), (3, "a", 1e-9)]
        assert connection.execute(sa.select(PARENTS).order_by(PARENTS.c.id)).all() == [
            ("a", {"n": 1}), ("b", [1, 2])]
    if engine.dialect.name == "postgresql":  # one statement, in autocommit: no BEGIN, no COMMIT
        assert len(statements) == 1 and "json_populate_recordset" in statements[0]
        assert commits == []
    else:
        assert len(commits) == 1


@pytest.mark.parametrize("score", [0.25, math.nan], ids=["one-statement", "ordinary-way"])
def test_write_all_writes_nothing_when_any_row_is_refused(engine: Engine, score: float) -> None:
    parents = [{"id": "a", "doc": {}}]
    children = [{"id": 1, "parent_id": "a", "score": score}, {"id": 2, "parent_id": "missing", "score": 1.0}]
    with pytest.raises(sa.exc.IntegrityError):
        write_all(engine, [(PARENTS, parents), (CHILDREN, children)])
    assert _count(engine, PARENTS) == 0
    assert _count(engine, CHILDREN) == 0


def test_none_in_a_json_column_storing_sql_null_goes_in_the_one_statement(engine: Engine) -> None:
    statements = _statements(engine)
    write_all(engine, [(OPTIONAL_DOCS, [{"id": 1, "doc": None}, {"id": 2, "doc": {"a": None}}])])
    with Session(engine) as session:  # the ordinary way stores the same: SQL NULL, and JSON inside
        session.execute(sa.insert(OPTIONAL_DOCS), [{"id": 3, "doc": None}])
        session.commit()
    with engine.connect() as connection:
        nulls = connection.execute(sa.select(OPTIONAL_DOCS.c.id).where(OPTIONAL_DOCS.c.doc.is_(None))
                                   .order_by(OPTIONAL_DOCS.c.id)).scalars().all()
        docs = connection.execute(sa.select(OPTIONAL_DOCS.c.doc).where(OPTIONAL_DOCS.c.id == 2)).scalar_one()
    assert nulls == [1, 3] and docs == {"a": None}
    if engine.dialect.name == "postgresql":
        assert any("json_populate_recordset" in text for text in statements)
