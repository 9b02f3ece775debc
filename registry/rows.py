"""Row lookups shared by the registry's store modules (not part of the public API)."""

from __future__ import annotations

from sqlmodel import Session, col, select

from registry.errors import Invalid, NotFound
from registry.tables import ModelRow, VersionRow


def model_row(session: Session, key: str, *, lock: bool = False) -> ModelRow:
    """The model registered under `key`; `lock` takes a row lock on PostgreSQL (SQLite's
    BEGIN IMMEDIATE already serialises writers)."""
    query = select(ModelRow).where(ModelRow.key == key)
    if lock:
        query = query.with_for_update()
    row = session.exec(query).first()
    if row is None:
        raise NotFound(f"no model registered under the key {key!r}")
    return row


def version_row(session: Session, key: str, number: int, *, lock: bool = False) -> VersionRow:
    if isinstance(number, bool) or not isinstance(number, int):
        raise Invalid(f"a version number is a whole number, not {number!r}")
    query = (
        select(VersionRow)
        .join(ModelRow, col(ModelRow.id) == col(VersionRow.model_id))
        .where(ModelRow.key == key, VersionRow.number == number)
    )
    if lock:
        query = query.with_for_update(of=VersionRow)
    row = session.exec(query).first()
    if row is None:
        model_row(session, key)  # says "no model" when that is the reason
        raise NotFound(f"{key} has no version {number}")
    return row


def row_id(value: int | None) -> int:
    """The id of a flushed row (typed as optional on the SQLModel class)."""
    if value is None:  # pragma: no cover - rows are flushed before their id is read
        raise RuntimeError("row has no id yet")
    return value
