"""Diff between two stored versions of a model (the comparison itself is decisions.diff)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlmodel import Session

from registry.errors import Invalid
from registry.rows import version_row

if TYPE_CHECKING:
    from decisions.diff import ModelDiff


def diff(session: Session, key: str, old: int, new: int) -> ModelDiff:
    """`decisions.diff.ModelDiff` of `key` from version `old` to version `new`.

    The versions are only parsed, not compiled: a draft that does not compile yet can be diffed.
    Invalid when either version cannot be read as a model.
    """
    from decisions.diff import diff_definitions

    before = _definitions(key, old, session)
    after = _definitions(key, new, session)
    return diff_definitions(before, after)


def _definitions(key: str, number: int, session: Session) -> Any:
    import decisions
    from decisions.errors import ModelError

    row = version_row(session, key, number)
    reader: Any = decisions.read_definitions  # formats beyond dmn/yaml depend on the engine's version
    try:
        return reader(row.content, format=row.format)
    except ModelError as err:
        raise Invalid(f"{key} version {number} cannot be read as a model:\n{err}") from None
