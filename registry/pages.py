"""Keyset pages and their cursors: the one paging mechanism of every list the service answers.

A list is read in a fixed order; a page ends with a cursor holding the last item's place in
that order (its sort values, e.g. `[created_at in µs, id]` or `[key]`) and a digest of the
filters that made the list. The next page starts after that place, so items added meanwhile do
not shift the pages, and a cursor given back with other filters is refused instead of paging a
different list from a place that means nothing there.

    digest = filters_digest({"state": "published", "key_prefix": "loan"})
    after = read_cursor(cursor, digest, (str,)) if cursor else None   # ("loan-approval",)
    ... query ... WHERE (key) > after ORDER BY key LIMIT limit + 1
    next_cursor = make_cursor(("loan-approval",), digest) if more else None

A cursor is opaque to callers: URL-safe base 64 of `[digest, *place]` as JSON.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Generic, TypeVar

from registry.errors import Invalid

MAX_LIMIT = 1000
MAX_CURSOR_LENGTH = 400
T = TypeVar("T")


class QueryError(Invalid):
    """A filter value (or cursor, or limit) that cannot be used; `parameter` names it."""

    def __init__(self, parameter: str, message: str) -> None:
        super().__init__(f"{parameter}: {message}")
        self.parameter = parameter
        self.message = message


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list, and the cursor of the next one (None on the last page)."""

    items: list[T]
    next_cursor: str | None


def check_limit(limit: object) -> int:
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        raise QueryError("limit", f"must be a whole number from 1 to {MAX_LIMIT}, got {limit!r}")
    return limit


def filters_digest(filters: Mapping[str, Any]) -> str:
    """A short hash of the filters: equal filters (numbers by value, times by instant) agree."""

    def plain(value: Any) -> Any:
        if isinstance(value, datetime):
            return value.astimezone(UTC).isoformat()
        if isinstance(value, (tuple, list)):
            return [plain(v) for v in value]
        if isinstance(value, (Decimal, float)) and not isinstance(value, bool):
            return ["number", str(Decimal(str(value)).normalize())]
        if isinstance(value, int) and not isinstance(value, bool):
            return ["number", str(Decimal(value).normalize())]
        return value

    text = json.dumps({k: plain(v) for k, v in sorted(filters.items())}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def micros(at: datetime) -> int:
    """A time as whole microseconds since the epoch (a cursor's exact, JSON-safe form of it)."""
    at = at.astimezone(UTC) if at.tzinfo is not None else at.replace(tzinfo=UTC)
    return int(at.timestamp()) * 1_000_000 + at.microsecond


def from_micros(value: int) -> datetime:
    return datetime.fromtimestamp(value // 1_000_000, UTC).replace(microsecond=value % 1_000_000)


def make_cursor(place: Sequence[str | int], digest: str) -> str:
    raw = json.dumps([digest, *place], separators=(",", ":"), ensure_ascii=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def read_cursor(cursor: object, digest: str, shape: Sequence[type]) -> tuple[Any, ...]:
    """The place a cursor holds, checked against the filters' digest and the order's `shape`
    (the type of each sort value: int or str). QueryError("cursor", ...) when it is not one."""
    foreign = QueryError("cursor", "not a cursor given by this query")
    if not isinstance(cursor, str) or not cursor or len(cursor) > MAX_CURSOR_LENGTH:
        raise foreign
    try:
        found = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii"))
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise foreign from None
    if not isinstance(found, list) or len(found) != len(shape) + 1 or not isinstance(found[0], str):
        raise foreign
    place: list[Any] = found[1:]
    for value, kind in zip(place, shape, strict=True):
        if isinstance(value, bool) or not isinstance(value, kind):
            raise foreign
        if isinstance(value, str) and not 0 < len(value) <= 200:
            raise foreign
        if isinstance(value, int) and not -(2**62) < value < 2**62:
            raise foreign
    if found[0] != digest:
        raise QueryError("cursor", "this cursor belongs to a query with other filters: page with the filters "
                                   "that gave it, or start again without a cursor")
    return tuple(place)
