"""Per-day results of scans of the decision records, kept for the days that are over.

    data = by_day(engine, scope, digest, scan, columns=[...])

A report over 180 days scans every record of the period. Records are append-only and stamped
with the time they were written, so the records of a day that has ended stay as they are, and a
scan that groups by day (its first column, "day") gives the same rows for that day every time.
`by_day` runs `scan` on the days it has not kept yet, keeps their rows in `audit_rollups`, and
reads the kept rows back for the others; only the day in progress (and the partial days at the
edges of the period) are scanned every time.

- **When a day is over.** `SETTLE` (an hour) after its end in UTC: a record is stamped before its
  transaction commits, and a group commit or a batch job's chunk commits well within that.
- **When kept rows are used.** Only while the model still has, that day, the number of records
  it had when they were kept (every record, shadows included, counted from the
  (model_key, created_at) index alone). Records written later with an earlier time (a history
  import) or removed by retention change it, and the day is scanned again. An edit in place is
  not seen here: that is what the records' hash chain is for (`decisionary audit verify`).
- **What identifies a scan.** `digest`: the caller's description of what it reads (the SQL, the
  JSON paths, the filters besides time). A scan that changes gets a new digest, so rows kept
  for the old one are never mixed in.
- Keeping is best effort: a failed write (the database busy or read-only) is logged, and the
  scan's result is returned all the same.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import math
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from audit import windows
from audit.store import RECORDS, Scope, reader, time_bounds
from audit.tables import RollupRow
from registry.tables import UTCDateTime, utcnow

log = logging.getLogger(__name__)

ROLLUPS = RollupRow.__table__  # type: ignore[attr-defined]
SETTLE = timedelta(hours=1)
FORMAT = "1"  # part of every digest: bump it when what kept rows mean changes
DAY = timedelta(days=1)
_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


def digest(*parts: Any) -> str:
    """The digest of a scan from the parts that define it (JSON-able, or their str)."""
    text = json.dumps([FORMAT, *parts], sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def scope_parts(scope: Scope) -> list[Any]:
    """What a scope filters on besides time, for a digest."""
    return [scope.key, list(scope.versions) if scope.versions is not None else None, scope.alias,
            scope.include_shadow]


def any_day(scope: Scope) -> Scope:
    """`scope` with a fixed start and end: a scan's SQL for it is the same whatever days it covers."""
    return dataclasses.replace(scope, start=_EPOCH, end=_EPOCH + DAY)


def by_day(engine: Engine, scope: Scope, query: str, scan: Callable[[Scope], pd.DataFrame], *,
           columns: Sequence[str], bounds: tuple[datetime, datetime] | None = None,
           now: datetime | None = None) -> pd.DataFrame:
    """`scan(scope)`, with the whole days that are over read from the kept rows where they are
    still valid (see the module docstring). `scan` returns `columns`, "day" first; `query` is its
    digest; `bounds`, the model's first and last record times (audit.store.time_bounds), are
    looked up when not given and the scope is open at either end."""
    now = now or datetime.now(UTC)
    if (scope.start is None or scope.end is None) and bounds is None:
        bounds = time_bounds(engine, scope)
        if bounds is None:
            return scan(scope)
    if scope.start is not None:
        low = _day_start(scope.start)
        if low < scope.start:
            low += DAY  # the first day is partial: scanned
    else:
        low = _day_start(bounds[0])  # type: ignore[index]  # no record before the first
    latest = min(scope.end if scope.end is not None else now, now - SETTLE)
    high = _day_start(latest)
    if bounds is not None:  # no days kept past the last record's
        high = min(high, _day_start(bounds[1]) + DAY)
    if high <= low:
        return scan(scope)

    counts = _day_counts(engine, scope.key, low, high)
    kept = _kept(engine, scope.key, query, low, high)
    frames: list[pd.DataFrame] = []
    if scope.start is not None and scope.start < low:
        frames.append(scan(dataclasses.replace(scope, end=low)))
    missing: list[datetime] = []
    rows: list[list[Any]] = []
    for day in _days(low, high):
        name = day.date().isoformat()
        held = kept.get(name)
        if held is not None and held[0] == counts.get(name, 0):
            rows.extend([_day_value(engine, name), *row] for row in held[1])
        else:
            missing.append(day)
    if rows:
        frames.append(pd.DataFrame.from_records(rows, columns=list(columns)))
    for start, end in _runs(missing):
        scanned = scan(dataclasses.replace(scope, start=start, end=end))
        frames.append(scanned)
        _keep(engine, scope.key, query, scanned, _days(start, end), counts)
    if scope.end is None or scope.end > high:
        frames.append(scan(dataclasses.replace(scope, start=high)))
    frames = [f for f in frames if not f.empty]
    if not frames:
        return pd.DataFrame(columns=list(columns))
    return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]


def forget(engine: Engine, key: str) -> None:
    """Drop every kept row of `key` (they would be found stale anyway; this frees the space)."""
    with engine.begin() as connection:
        connection.execute(ROLLUPS.delete().where(ROLLUPS.c.model_key == key))


# --- reading and keeping ---------------------------------------------------------------------------

def _day_counts(engine: Engine, key: str, low: datetime, high: datetime) -> dict[str, int]:
    """Records of `key` per day in [low, high), shadows included: the (model_key, created_at)
    index answers it without reading the records."""
    day = windows.window_sql(engine.dialect.name, RECORDS.c.created_at, "day")
    statement = (sa.select(day, sa.func.count())
                 .where(RECORDS.c.model_key == key,
                        RECORDS.c.created_at >= sa.bindparam(None, low, type_=UTCDateTime, unique=True),
                        RECORDS.c.created_at < sa.bindparam(None, high, type_=UTCDateTime, unique=True))
                 .group_by(day))
    with reader(engine) as connection:
        return {str(found): int(n) for found, n in connection.execute(statement)}


def _kept(engine: Engine, key: str, query: str, low: datetime, high: datetime) -> dict[str, tuple[int, list[Any]]]:
    statement = sa.select(ROLLUPS.c.day, ROLLUPS.c.records, ROLLUPS.c.rows).where(
        ROLLUPS.c.model_key == key, ROLLUPS.c.query == query,
        ROLLUPS.c.day >= low.date().isoformat(), ROLLUPS.c.day < high.date().isoformat())
    try:
        with reader(engine) as connection:
            return {day: (int(records), list(rows)) for day, records, rows in connection.execute(statement)}
    except SQLAlchemyError as exc:  # e.g. a database not yet migrated to 0006: scan everything
        log.warning("kept audit rollups not read: %s", exc)
        return {}


def _keep(engine: Engine, key: str, query: str, scanned: pd.DataFrame, days: Sequence[datetime],
          counts: dict[str, int]) -> None:
    by_day: dict[str, list[list[Any]]] = {day.date().isoformat(): [] for day in days}
    for row in scanned.itertuples(index=False, name=None):
        by_day.setdefault(str(row[0]), []).append([_plain(v) for v in row[1:]])
    try:
        json.dumps(by_day, allow_nan=False)
    except (TypeError, ValueError):
        return  # values JSON cannot hold as they are: scanned every time rather than kept changed
    at = utcnow()
    values = [{"model_key": key, "query": query, "day": day, "records": counts.get(day, 0), "rows": rows,
               "computed_at": at} for day, rows in by_day.items()]
    try:
        with engine.begin() as connection:
            connection.execute(ROLLUPS.delete().where(ROLLUPS.c.model_key == key, ROLLUPS.c.query == query,
                                                      ROLLUPS.c.day.in_(list(by_day))))
            connection.execute(ROLLUPS.insert(), values)
    except SQLAlchemyError as exc:
        log.warning("audit rollups of %s not kept (%d days): %s", key, len(values), exc)


# --- days ------------------------------------------------------------------------------------------

def _day_start(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def _days(low: datetime, high: datetime) -> list[datetime]:
    return [low + DAY * i for i in range((high - low).days)]


def _runs(days: Sequence[datetime]) -> list[tuple[datetime, datetime]]:
    """Consecutive days as [start, end) ranges."""
    runs: list[tuple[datetime, datetime]] = []
    for day in days:
        if runs and runs[-1][1] == day:
            runs[-1] = (runs[-1][0], day + DAY)
        else:
            runs.append((day, day + DAY))
    return runs


def _day_value(engine: Engine, name: str) -> Any:
    """A day as the scan's "day" column gives it: a date on PostgreSQL, text on SQLite."""
    return date.fromisoformat(name) if engine.dialect.name == "postgresql" else name


def _plain(value: Any) -> Any:
    """numpy scalars (from pandas) as Python values; a missing value (pandas' NaN in a text
    column) as None, which gives it back when the rows are read into a frame."""
    item = getattr(value, "item", None)
    if callable(item) and not isinstance(value, (str, bytes)):
        value = item()
    return None if isinstance(value, float) and math.isnan(value) else value
