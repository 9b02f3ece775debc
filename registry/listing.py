"""Lists of models, versions and aliases, filtered, a keyset page at a time (registry/pages.py).

    query_models(session, key_prefix="loan", alias="production")   models by key
    query_versions(session, state="submitted")                     every model's versions, oldest first
    query_versions(session, key="loan-approval", author="ana")     one model's, by number
    query_aliases(session, alias="production")                     where each model's production points

Each returns a `Page`; its `next_cursor`, passed back with the same filters, reads on from the
last item. Times are aware datetimes; `start` is inclusive and `end` exclusive.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from registry.pages import Page, QueryError, check_limit, filters_digest, make_cursor, read_cursor
from registry.tables import STATES, AliasRow, ModelRow, VersionRow
from registry.views import AliasTarget, ModelInfo, Version


def _check_period(start: datetime | None, end: datetime | None) -> None:
    for name, value in (("start", start), ("end", end)):
        if value is not None and (not isinstance(value, datetime) or value.tzinfo is None):
            raise QueryError(name, "must be a date-time with a time zone")
    if start is not None and end is not None and start >= end:
        raise QueryError("end", f"must be after start ({start.isoformat()}), got {end.isoformat()}")


def _check_state(state: str | None) -> None:
    if state is not None and state not in STATES:
        raise QueryError("state", f"must be one of {', '.join(STATES)}, got {state!r}")


def _in_period(column: Any, start: datetime | None, end: datetime | None) -> list[Any]:
    conditions = []
    if start is not None:
        conditions.append(column >= start)
    if end is not None:
        conditions.append(column < end)
    return conditions


def query_models(session: Session, *, key_prefix: str | None = None, created_by: str | None = None,
                 start: datetime | None = None, end: datetime | None = None, alias: str | None = None,
                 state: str | None = None, limit: int = 100, cursor: str | None = None) -> Page[ModelInfo]:
    """Models by key. `alias`: only models that have that alias; `state`: only models with a
    version in that state (e.g. submitted: something waits for an approver)."""
    check_limit(limit)
    _check_period(start, end)
    _check_state(state)
    digest = filters_digest({"key_prefix": key_prefix, "created_by": created_by, "start": start, "end": end,
                             "alias": alias, "state": state})
    query = select(ModelRow)
    if key_prefix:
        query = query.where(col(ModelRow.key).startswith(key_prefix, autoescape=True))
    if created_by is not None:
        query = query.where(ModelRow.created_by == created_by)
    for condition in _in_period(col(ModelRow.created_at), start, end):
        query = query.where(condition)
    if alias is not None:
        query = query.where(sa.exists().where(col(AliasRow.model_id) == col(ModelRow.id), col(AliasRow.name) == alias))
    if state is not None:
        query = query.where(sa.exists().where(col(VersionRow.model_id) == col(ModelRow.id),
                                              col(VersionRow.state) == state))
    if cursor is not None:
        (after,) = read_cursor(cursor, digest, (str,))
        query = query.where(col(ModelRow.key) > after)
    rows = session.exec(query.order_by(col(ModelRow.key)).limit(limit + 1)).all()
    models = [ModelInfo.of(row) for row in rows[:limit]]
    more = len(rows) > limit
    return Page(models, make_cursor((models[-1].key,), digest) if more else None)


def query_versions(session: Session, *, key: str | None = None, key_prefix: str | None = None,
                   state: str | None = None, author: str | None = None, start: datetime | None = None,
                   end: datetime | None = None, limit: int = 100, cursor: str | None = None) -> Page[Version]:
    """Versions in the order they were created (one model's: by number). `start`/`end` bound
    their creation time."""
    check_limit(limit)
    _check_period(start, end)
    _check_state(state)
    digest = filters_digest({"key": key, "key_prefix": key_prefix, "state": state, "author": author,
                             "start": start, "end": end})
    query = select(VersionRow, ModelRow.key).join(ModelRow, col(ModelRow.id) == col(VersionRow.model_id))
    if key is not None:
        query = query.where(ModelRow.key == key)
    if key_prefix:
        query = query.where(col(ModelRow.key).startswith(key_prefix, autoescape=True))
    if state is not None:
        query = query.where(VersionRow.state == state)
    if author is not None:
        query = query.where(VersionRow.author == author)
    for condition in _in_period(col(VersionRow.created_at), start, end):
        query = query.where(condition)
    if cursor is not None:
        (after,) = read_cursor(cursor, digest, (int,))
        query = query.where(col(VersionRow.id) > after)
    rows = session.exec(query.order_by(col(VersionRow.id)).limit(limit + 1)).all()
    page = rows[:limit]
    more = len(rows) > limit
    last_id = page[-1][0].id if page else None
    return Page([Version.of(model_key, row) for row, model_key in page],
                make_cursor((int(last_id),), digest) if more and last_id is not None else None)


def query_aliases(session: Session, *, key: str | None = None, alias: str | None = None, version: int | None = None,
                  limit: int = 100, cursor: str | None = None) -> Page[AliasTarget]:
    """Aliases by model key, then name. `version`: only aliases pointing at that version number."""
    check_limit(limit)
    if version is not None and (isinstance(version, bool) or not isinstance(version, int) or version < 1):
        raise QueryError("version", f"must be a version number (1, 2, ...), got {version!r}")
    digest = filters_digest({"key": key, "alias": alias, "version": version})
    query = (select(AliasRow, VersionRow.number, ModelRow.key)
             .join(VersionRow, col(VersionRow.id) == col(AliasRow.version_id))
             .join(ModelRow, col(ModelRow.id) == col(AliasRow.model_id)))
    if key is not None:
        query = query.where(ModelRow.key == key)
    if alias is not None:
        query = query.where(AliasRow.name == alias)
    if version is not None:
        query = query.where(VersionRow.number == version)
    if cursor is not None:
        after_key, after_alias = read_cursor(cursor, digest, (str, str))
        query = query.where(sa.tuple_(col(ModelRow.key), col(AliasRow.name)) > sa.tuple_(
            sa.bindparam("after_key", after_key, type_=sa.String), sa.bindparam("after_alias", after_alias,
                                                                                 type_=sa.String)))
    rows = session.exec(query.order_by(col(ModelRow.key), col(AliasRow.name)).limit(limit + 1)).all()
    targets = [AliasTarget.of(model_key, number, row) for row, number, model_key in rows[:limit]]
    more = len(rows) > limit
    return Page(targets, make_cursor((targets[-1].key, targets[-1].alias), digest) if more else None)
