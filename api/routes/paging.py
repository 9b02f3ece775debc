"""What every list route shares: the `limit` and `cursor` query parameters, the time range, and
the 422 a filter that cannot be used gets (registry/pages.py holds the paging itself)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import Query

from api.problems import ProblemError
from audit.log import parse_time
from registry.pages import MAX_CURSOR_LENGTH, MAX_LIMIT, QueryError

Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="At most this many items per page.")]
Cursor = Annotated[str | None, Query(max_length=MAX_CURSOR_LENGTH,
                                     description="`next_cursor` of the page before, with the same filters.")]
Start = Annotated[str | None, Query(max_length=40, description="From this time on (ISO 8601 date or date-time; "
                                    "UTC without a zone), inclusive.")]
End = Annotated[str | None, Query(max_length=40, description="Before this time (exclusive).")]
Person = Annotated[str | None, Query(min_length=1, max_length=200)]
KeyPrefix = Annotated[str | None, Query(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9._-]+$",
                                        description="Only keys that start with this text.")]


def period(start: str | None, end: str | None) -> tuple[datetime | None, datetime | None]:
    """The `start` and `end` query parameters as aware datetimes (QueryError naming a bad one)."""
    return (parse_time(start, "start") if start is not None else None,
            parse_time(end, "end") if end is not None else None)


def query_problem(exc: QueryError) -> ProblemError:
    return ProblemError(422, f"the query parameter {exc.parameter} cannot be used: {exc.message}",
                        errors=[{"parameter": exc.parameter, "in": "query", "message": exc.message}])
