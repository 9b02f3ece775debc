"""Time windows for metrics over time: a day, an ISO week (from Monday) or a calendar month, in UTC.

A window is named by its start. The database computes it (`window_sql`: PostgreSQL's
date_trunc, SQLite's date functions on the stored UTC text), so grouping happens there; `timestamps` turns that text into aware UTC timestamps (the `window_start` columns).

`split` cuts a time range into parts whose edges are window starts, so that figures computed
part by part (counts, but also percentiles) are exact: no window straddles two parts. The
analytics run the parts' queries side by side (`parallel`): a database scan of a million
records is CPU-bound, and each part is one core's work.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar, cast

import pandas as pd
import sqlalchemy as sa

from audit.log import QueryError

T = TypeVar("T")
WINDOWS = ("day", "week", "month")


def check_window(window: Any) -> str:
    if window not in WINDOWS:
        raise QueryError("window", f"must be one of {', '.join(WINDOWS)}, got {window!r}")
    return str(window)


def floor(moment: datetime, window: str) -> datetime:
    """The start of the window holding `moment` (UTC)."""
    day = moment.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    if window == "week":
        return day - timedelta(days=day.weekday())
    if window == "month":
        return day.replace(day=1)
    return day


def following(start: datetime, window: str) -> datetime:
    """The start of the window after the one starting at `start`."""
    if window == "day":
        return start + timedelta(days=1)
    if window == "week":
        return start + timedelta(days=7)
    return (start.replace(day=28) + timedelta(days=4)).replace(day=1)


def window_sql(dialect: str, column: Any, window: str) -> Any:
    """The start of `column`'s window: a date on PostgreSQL, text 'YYYY-MM-DD' on SQLite."""
    if dialect == "postgresql":
        utc = sa.func.timezone("UTC", column)
        return sa.cast(utc if window == "day" else sa.func.date_trunc(window, utc), sa.Date)
    # SQLite keeps these columns as naive UTC text, 'YYYY-MM-DD HH:MM:SS.ffffff'.
    text = sa.type_coerce(column, sa.Text)
    if window == "day":
        return sa.func.substr(text, 1, 10, type_=sa.Text)
    if window == "month":
        return sa.func.substr(text, 1, 7, type_=sa.Text) + "-01"
    return sa.func.date(text, "weekday 0", "-6 days", type_=sa.Text)  # the Sunday ending the week, less 6 days


def timestamps(days: pd.Series) -> pd.Series:
    """Days (dates or 'YYYY-MM-DD' texts) as aware UTC timestamps."""
    return pd.to_datetime(days.astype(str), format="%Y-%m-%d", utc=True)


def rolled_up(day_texts: pd.Series, window: str) -> pd.Series:
    """Day starts ('YYYY-MM-DD') as the starts of their `window`s, as aware UTC timestamps."""
    days = timestamps(day_texts)
    if window == "week":
        return cast(pd.Series, days - pd.to_timedelta(days.dt.day_of_week, unit="D"))
    if window == "month":
        return cast(pd.Series, days - pd.to_timedelta(days.dt.day - 1, unit="D"))
    return days


def split(start: datetime | None, end: datetime | None, first: datetime, last: datetime, window: str,
          parts: int) -> list[tuple[datetime | None, datetime | None]]:
    """[start, end) cut into at most `parts` ranges at window starts, covering it exactly (an
    open start or end stays open). `first` and `last` are the earliest and latest times in it."""
    low = floor(max(first, start) if start else first, window)
    high = min(last, end) if end else last
    edges: list[datetime] = []
    if parts > 1 and high > low:
        step = (high - low) / parts
        for i in range(1, parts):
            edge = floor(low + step * i, window)
            if edge > low and (not edges or edge > edges[-1]) and edge <= high:
                edges.append(edge)
    bounds: list[datetime | None] = [start, *edges, end]
    return [(bounds[i], bounds[i + 1]) for i in range(len(bounds) - 1)]


def workers() -> int:
    return max(2, min(4, os.cpu_count() or 2))


def parallel(tasks: Sequence[Callable[[], T]]) -> list[T]:
    """Run the tasks on threads (each takes its own database connection); their results in order.
    The databases' drivers release the GIL while a query runs."""
    if len(tasks) <= 1:
        return [task() for task in tasks]
    with ThreadPoolExecutor(max_workers=min(len(tasks), workers()), thread_name_prefix="audit") as pool:
        futures = [pool.submit(task) for task in tasks]
        return [future.result() for future in futures]
