"""Which version answers a call: one function for `key`, `key@alias` and `key@number`.

- `key@3`: version 3, if it is published (any state with `include_unpublished=True`, for previews).
- `key@staging`: the version the alias points at (always a published one), with the alias's
  routing (champion/challenger split, shadow versions: registry/routing.py) and the versions it
  names, so that a caller can route each call without another lookup.
- `key`: the `production` alias if the model has one, else its latest published version.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType

from sqlmodel import Session, col, select

from registry.aliases import PRODUCTION, check_alias
from registry.errors import Conflict, Invalid, NotFound
from registry.models_store import check_key
from registry.routing import Arm, Routing, parse_routing
from registry.rows import model_row, version_row
from registry.tables import AliasRow, VersionRow
from registry.views import Version

_NUMBER = re.compile(r"[0-9]{1,9}")


@dataclass(frozen=True)
class Resolved:
    version: Version
    alias: str | None  # the alias that chose the version, if one did
    via: str  # "alias", "number" or "latest published"
    routing: Routing | None = None  # the alias's split and shadows, if it has any
    # The versions the routing names (arms and shadows), by number.
    routed: Mapping[int, Version] = field(default_factory=lambda: MappingProxyType({}))
    arm: str | None = None  # set on the Resolved of one arm (`for_arm`)

    def for_arm(self, arm: Arm) -> Resolved:
        """The resolution of the call that `arm` answers: its version, named by the arm."""
        return replace(self, version=self.routed[arm.version], arm=arm.name)

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
        select(VersionRow, AliasRow.routing)
        .join(AliasRow, col(AliasRow.version_id) == col(VersionRow.id))
        .where(AliasRow.model_id == model.id, AliasRow.name == alias)
    ).first()
    if aliased is not None:
        version, routing = aliased
        if routing is None:
            return Resolved(Version.of(key, version), alias, "alias")
        parsed = parse_routing(routing)
        rows = session.exec(
            select(VersionRow).where(VersionRow.model_id == model.id, col(VersionRow.number).in_(parsed.versions))
        ).all()
        routed = MappingProxyType({row.number: Version.of(key, row) for row in rows})
        missing = [n for n in parsed.versions if n not in routed]
        if missing:  # versions are never deleted once submitted; a routing names only published ones
            raise Conflict(f"{key}@{alias} routes to version {missing[0]}, which does not exist")
        return Resolved(Version.of(key, version), alias, "alias", parsed, routed)
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
