"""Environments as aliases: `production`, `staging` or any name, pointing at a published version.

Every move is recorded (who, when, from, to, why) in an append-only history. Rollback replays
that history as a stack: setting an alias pushes the version it left, a rollback pops it. So
after 1 -> 2 -> 3, rollback goes to 2, and another rollback to 1; with nothing left to go back
to, rollback is refused.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from sqlmodel import Session, col, select

from registry.errors import Conflict, Invalid, NotFound
from registry.models_store import check_person
from registry.rows import model_row, row_id, version_row
from registry.tables import AliasMoveRow, AliasRow, ModelRow, VersionRow, utcnow
from registry.views import AliasMove, AliasTarget

# Starts with a letter, so that `key@3` always means version 3 and never an alias.
ALIAS_PATTERN = re.compile(r"[A-Za-z][A-Za-z0-9._-]{0,99}")
PRODUCTION = "production"


def check_alias(alias: str) -> str:
    if not isinstance(alias, str) or not ALIAS_PATTERN.fullmatch(alias):
        raise Invalid(f"invalid alias {alias!r}: use 1-100 letters, digits, '.', '_' or '-', "
                      "starting with a letter")
    return alias


def get_alias(session: Session, key: str, alias: str) -> AliasTarget:
    model = model_row(session, key)
    found = _alias_row(session, model, alias)
    if found is None:
        raise NotFound(f"{key} has no alias {alias!r}")
    row, number = found
    return AliasTarget.of(key, number, row)


def list_aliases(session: Session, key: str) -> list[AliasTarget]:
    model = model_row(session, key)
    rows = session.exec(
        select(AliasRow, VersionRow.number)
        .join(VersionRow, col(VersionRow.id) == col(AliasRow.version_id))
        .where(AliasRow.model_id == model.id)
        .order_by(col(AliasRow.name))
    ).all()
    return [AliasTarget.of(key, number, row) for row, number in rows]


def alias_history(session: Session, key: str, alias: str | None = None) -> list[AliasMove]:
    """Moves of one alias (or of all of the model's aliases), oldest first."""
    model = model_row(session, key)
    query = select(AliasMoveRow).where(AliasMoveRow.model_id == model.id)
    if alias is not None:
        query = query.where(AliasMoveRow.alias == alias)
    rows = session.exec(query.order_by(col(AliasMoveRow.id))).all()
    return [AliasMove.of(key, row) for row in rows]


def set_alias(session: Session, key: str, alias: str, number: int, *, by: str,
              why: str | None = None) -> AliasTarget:
    """Point `alias` at published version `number`. Pointing it where it already points changes nothing."""
    check_alias(alias)
    check_person(by)
    model = model_row(session, key, lock=True)
    return _point(session, model, alias, number, by=by, why=why, kind="set")


def rollback(session: Session, key: str, alias: str, *, by: str, why: str | None = None) -> AliasTarget:
    """Move `alias` back to the version it pointed at before its last move (see module docstring)."""
    check_alias(alias)
    check_person(by)
    model = model_row(session, key, lock=True)
    if _alias_row(session, model, alias) is None:
        raise NotFound(f"{key} has no alias {alias!r} to roll back")
    moves = session.exec(
        select(AliasMoveRow)
        .where(AliasMoveRow.model_id == model.id, AliasMoveRow.alias == alias)
        .order_by(col(AliasMoveRow.id))
    ).all()
    previous = _previous_targets(moves)
    if not previous:
        raise Conflict(f"{key}@{alias} has no earlier version to roll back to")
    return _point(session, model, alias, previous[-1], by=by, why=why, kind="rollback")


def _previous_targets(moves: Sequence[AliasMoveRow]) -> list[int]:
    stack: list[int] = []
    for move in moves:
        if move.kind == "rollback":
            if stack:
                stack.pop()
        elif move.from_number is not None:
            stack.append(move.from_number)
    return stack


def _point(session: Session, model: ModelRow, alias: str, number: int, *, by: str, why: str | None,
           kind: str) -> AliasTarget:
    version = version_row(session, model.key, number)
    if version.state != "published":
        raise Conflict(f"{model.key}@{alias} can only point at a published version; "
                       f"version {number} is {version.state}")
    found = _alias_row(session, model, alias)
    if found is None:
        row = AliasRow(model_id=row_id(model.id), name=alias, version_id=row_id(version.id), updated_by=by)
        from_number = None
    else:
        row, from_number = found
        if from_number == number and kind == "set":
            return AliasTarget.of(model.key, number, row)
        row.version_id = row_id(version.id)
        row.updated_at = utcnow()
        row.updated_by = by
    session.add(row)
    session.add(AliasMoveRow(model_id=row_id(model.id), alias=alias, kind=kind, from_number=from_number,
                             to_number=number, by=by, why=why))
    session.flush()
    return AliasTarget.of(model.key, number, row)


def _alias_row(session: Session, model: ModelRow, alias: str) -> tuple[AliasRow, int] | None:
    found = session.exec(
        select(AliasRow, VersionRow.number)
        .join(VersionRow, col(VersionRow.id) == col(AliasRow.version_id))
        .where(AliasRow.model_id == model.id, AliasRow.name == alias)
    ).first()
    return (found[0], found[1]) if found is not None else None
