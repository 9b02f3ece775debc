"""Which version answers a call: one function for `key`, `key@alias` and `key@number`.

- `key@3`: version 3, if it is published (any state with `include_unpublished=True`, for previews).
- `key@staging`: the version the alias points at (always a published one).
- `key`: the `production` alias if the model has one, else its latest published version.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlmodel import Session, col, select

from registry.aliases import PRODUCTION, check_alias
from registry.errors import Conflict, Invalid, NotFound
from registry.models_store import check_key
from registry.rows import model_row, version_row
from registry.tables import AliasRow, VersionRow
from registry.views import Version

_NUMBER = re.compile(r"[0-9]{1,9}")


@dataclass(frozen=True)
class Resolved:
    version: Version
    alias: str | None  # the alias that chose the version, if one did
    via: str  # "alias", "number" or "latest published"

    @property
    def key(self) -> str:
        return self.version.key

    @property
    def number(self) -> int:
        return self.version.number


def parse_ref(ref: str) -> tuple[str, int | str | None]:
    """`key` -> (key, None); `key@3` -> (key, 3); `key@staging` -> (key, "staging")."""
    if not isinstance(ref, str) or not ref.strip():
        raise Invalid("empty model reference: expected key, key@alias or key@version")
    key, at, selector = ref.strip().partition("@")
    check_key(key)
    if not at:
        return key, None
    if _NUMBER.fullmatch(selector):
        return key, int(selector)
    return key, check_alias(selector)


def resolve(session: Session, ref: str, *, include_unpublished: bool = False) -> Resolved:
    key, selector = parse_ref(ref)
    if isinstance(selector, int):
        row = version_row(session, key, selector)
        if row.state != "published" and not include_unpublished:
            raise Conflict(f"{key} version {selector} is {row.state}: only published versions can be called")
        return Resolved(Version.of(key, row), None, "number")
    model = model_row(session, key)
    alias = selector or PRODUCTION
    aliased = session.exec(
        select(VersionRow)
        .join(AliasRow, col(AliasRow.version_id) == col(VersionRow.id))
        .where(AliasRow.model_id == model.id, AliasRow.name == alias)
    ).first()
    if aliased is not None:
        return Resolved(Version.of(key, aliased), alias, "alias")
    if selector is not None:
        raise NotFound(f"{key} has no alias {selector!r}")
    latest = session.exec(
        select(VersionRow)
        .where(VersionRow.model_id == model.id, VersionRow.state == "published")
        .order_by(col(VersionRow.number).desc())
        .limit(1)
    ).first()
    if latest is None:
        raise NotFound(f"{key} has no published version yet")
    return Resolved(Version.of(key, latest), None, "latest published")
