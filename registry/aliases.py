"""Environments as aliases: `production`, `staging` or any name, pointing at a published version.

Every move is recorded (who, when, from, to, why) in an append-only history. Rollback replays
that history as a stack: setting an alias pushes the version it left, a rollback pops it. So
after 1 -> 2 -> 3, rollback goes to 2, and another rollback to 1; with nothing left to go back
to, rollback is refused.

An alias may also carry a routing (registry/routing.py): a champion/challenger split and shadow
versions. Setting or clearing it is a move too (kind "set", from the version to itself), and
every move keeps the routing the alias had after it, so rollback restores the version and the
routing together. Moving the alias to another version ends its routing (the split was between
the old version and others); rollback brings it back.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from sqlmodel import Session, col, select

from registry.content import check_format, load_model
from registry.errors import Conflict, Invalid, NotFound
from registry.models_store import check_person
from registry.routing import Routing, parse_routing
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
    """Move `alias` back to the version and routing it had before its last move (module docstring)."""
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
    previous = _previous_states(moves)
    if not previous:
        raise Conflict(f"{key}@{alias} has no earlier version to roll back to")
    number, routing = previous[-1]
    parsed = parse_routing(routing) if routing is not None else None
    if parsed is not None:
        _check_routing(session, model, alias, number, parsed)
    return _point(session, model, alias, number, by=by, why=why, kind="rollback", routing=routing)


def set_routing(session: Session, key: str, alias: str, routing: Any, *, by: str,
                why: str | None = None) -> AliasTarget:
    """Give `alias` a champion/challenger split and/or shadow versions (see registry/routing.py).

    The champion arm must be the alias's own version; every version must be published; split_on
    must be an input of every arm's model. Setting the routing it already has changes nothing."""
    check_alias(alias)
    check_person(by)
    parsed = parse_routing(routing)
    model = model_row(session, key, lock=True)
    found = _alias_row(session, model, alias)
    if found is None:
        raise NotFound(f"{key} has no alias {alias!r}; point it at a version before giving it a routing")
    row, number = found
    _check_routing(session, model, alias, number, parsed)
    stored = parsed.to_dict()
    if row.routing == stored:
        return AliasTarget.of(model.key, number, row)
    return _point(session, model, alias, number, by=by, why=why, kind="set", routing=stored, rerouted=True)


def clear_routing(session: Session, key: str, alias: str, *, by: str, why: str | None = None) -> AliasTarget:
    """Remove `alias`'s split and shadows: its version alone answers again. Nothing to clear changes nothing."""
    check_alias(alias)
    check_person(by)
    model = model_row(session, key, lock=True)
    found = _alias_row(session, model, alias)
    if found is None:
        raise NotFound(f"{key} has no alias {alias!r}")
    row, number = found
    if row.routing is None:
        return AliasTarget.of(model.key, number, row)
    return _point(session, model, alias, number, by=by, why=why, kind="set", routing=None, rerouted=True)


def _previous_states(moves: Sequence[AliasMoveRow]) -> list[tuple[int, Any]]:
    """The (version, routing) states a rollback can return to, the latest last."""
    stack: list[tuple[int, Any]] = []
    current: tuple[int, Any] | None = None
    for move in moves:
        if move.kind == "rollback":
            if stack:
                stack.pop()
        elif current is not None:
            stack.append(current)
        elif move.from_number is not None:  # history that starts part way (not written by this module)
            stack.append((move.from_number, None))
        current = (move.to_number, move.routing)
    return stack


def _check_routing(session: Session, model: ModelRow, alias: str, number: int, routing: Routing) -> None:
    """What a routing needs of the stored versions (Conflict or Invalid, naming the version)."""
    if routing.arms and routing.arm_of(number) is None:
        arms = ", ".join(f"{arm.name} (version {arm.version})" for arm in routing.arms)
        raise Invalid(f"the champion arm must be {model.key}@{alias}'s own version {number}; the arms are {arms}")
    if number in routing.shadows:
        raise Invalid(f"version {number} is the one {model.key}@{alias} points at; it cannot shadow itself")
    for version_number in routing.versions:
        version = version_row(session, model.key, version_number)
        if version.state != "published":
            raise Conflict(f"{model.key}@{alias} can only route to published versions; "
                           f"version {version_number} is {version.state}")
        arm = routing.arm_of(version_number)
        if arm is None or routing.split_on is None:
            continue
        inputs = _input_names(model.key, version)
        if routing.split_on not in inputs:
            raise Invalid(f"split_on {routing.split_on!r} is not an input of version {version_number} "
                          f"(arm {arm.name!r}); its inputs are: {', '.join(inputs) or 'none'}")


def _input_names(key: str, version: VersionRow) -> list[str]:
    try:
        return list(load_model(version.content, check_format(version.format)).input_names)
    except Exception as exc:  # noqa: BLE001 - a published version passed its load gate; say which one fails
        raise Conflict(f"{key} version {version.number} does not load, so its inputs are unknown: {exc}") from None


def _point(session: Session, model: ModelRow, alias: str, number: int, *, by: str, why: str | None,
           kind: str, routing: Any = None, rerouted: bool = False) -> AliasTarget:
    version = version_row(session, model.key, number)
    if version.state != "published":
        raise Conflict(f"{model.key}@{alias} can only point at a published version; "
                       f"version {number} is {version.state}")
    found = _alias_row(session, model, alias)
    if found is None:
        row = AliasRow(model_id=row_id(model.id), name=alias, version_id=row_id(version.id), updated_by=by,
                       routing=routing)
        from_number = None
    else:
        row, from_number = found
        if from_number == number and kind == "set" and not rerouted:
            return AliasTarget.of(model.key, number, row)
        row.version_id = row_id(version.id)
        row.routing = routing
        row.updated_at = utcnow()
        row.updated_by = by
    session.add(row)
    session.add(AliasMoveRow(model_id=row_id(model.id), alias=alias, kind=kind, from_number=from_number,
                             to_number=number, by=by, why=why, routing=routing))
    session.flush()
    return AliasTarget.of(model.key, number, row)


def _alias_row(session: Session, model: ModelRow, alias: str) -> tuple[AliasRow, int] | None:
    found = session.exec(
        select(AliasRow, VersionRow.number)
        .join(VersionRow, col(VersionRow.id) == col(AliasRow.version_id))
        .where(AliasRow.model_id == model.id, AliasRow.name == alias)
    ).first()
    return (found[0], found[1]) if found is not None else None
