"""Decision records to Parquet, one folder per day (hive style), for analysis outside the service.

    export_records(engine, Path("exports"), key="loan-approval", start=..., end=...)
    exports/date=2026-03-01/part-0.parquet
    exports/date=2026-03-02/part-0.parquet ...

Read back with `pyarrow.dataset.dataset("exports", partitioning="hive")` (the folder name gives a
`date` column), pandas, DuckDB or Spark. Records are read in time order in chunks and written as
row groups, so memory stays constant however many records a day holds; a day's rows are split
into parts of at most `rows_per_file`.

A day is always exported whole (the range is widened to midnights, UTC), into a hidden folder
first; when the day is complete it replaces that day's folder, so exporting a day again never
duplicates its rows, and a reader never sees half a day. Days without records are not written
(their earlier files, if any, stay). The key filter applies to the whole folder: export each key
into a folder of its own.
"""

from __future__ import annotations

import json
import shutil
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from registry.tables import DecisionRecordRow, UTCDateTime

RECORDS = DecisionRecordRow.__table__  # type: ignore[attr-defined]

SCALAR_COLUMNS = ("id", "created_at", "model_key", "version", "alias", "arm", "caller", "business_key",
                  "latency_us", "shadow_of", "chain_id", "chain_seq", "record_hash")
JSON_COLUMNS = ("inputs", "outputs", "fired", "fired_ids", "problems", "reasons")

SCHEMA = pa.schema([
    ("id", pa.string()),
    ("created_at", pa.timestamp("us", tz="UTC")),
    ("model_key", pa.string()),
    ("version", pa.int64()),
    ("alias", pa.string()),
    ("arm", pa.string()),
    ("caller", pa.string()),
    ("business_key", pa.string()),
    ("latency_us", pa.int64()),
    ("shadow_of", pa.string()),
    ("chain_id", pa.string()),
    ("chain_seq", pa.int64()),
    ("record_hash", pa.string()),
    *((name, pa.string()) for name in JSON_COLUMNS),  # JSON text, in the order the record keeps
])


@dataclass
class ExportSummary:
    out: Path
    records: int = 0
    days: dict[str, int] = field(default_factory=dict)  # YYYY-MM-DD -> records
    files: list[Path] = field(default_factory=list)

    def __str__(self) -> str:
        if not self.days:
            return f"no records to export to {self.out}"
        first, last = min(self.days), max(self.days)
        return (f"exported {self.records:,} records of {len(self.days)} day(s), {first} to {last}, "
                f"in {len(self.files)} file(s) under {self.out}")


def export_records(engine: Engine, out: Path | str, *, key: str | None = None, start: datetime | None = None,
                   end: datetime | None = None, chunk: int = 10_000, rows_per_file: int = 1_000_000) -> ExportSummary:
    """Write the records of `key` (or all) from the day of `start` up to the day of `end`
    (inclusive of the day `end` falls in, unless it is a midnight) as the module docstring says."""
    for name, value in (("start", start), ("end", end)):
        if value is not None and value.tzinfo is None:
            raise ValueError(f"{name} must be an aware datetime")
    if start is not None and end is not None and start >= end:
        raise ValueError("end must be after start")
    root = Path(out)
    root.mkdir(parents=True, exist_ok=True)
    summary = ExportSummary(root)
    first = _midnight(start) if start is not None else None
    last = _next_midnight(end) if end is not None else None
    staging = root / f".export-{uuid.uuid4().hex}"
    day_writer: _DayWriter | None = None
    try:
        for rows in _chunks(engine, key, first, last, chunk):
            for day, part in _by_day(rows):
                if day_writer is None or day_writer.day != day:
                    if day_writer is not None:
                        day_writer.publish(summary)
                    day_writer = _DayWriter(root, staging, day, rows_per_file)
                day_writer.write(part)
        if day_writer is not None:
            day_writer.publish(summary)
            day_writer = None
    finally:
        if day_writer is not None:
            day_writer.close()
        shutil.rmtree(staging, ignore_errors=True)
    return summary


class _DayWriter:
    """One day's parts, written in a staging folder and moved into place when the day ends."""

    def __init__(self, root: Path, staging: Path, day: date, rows_per_file: int) -> None:
        self.root, self.day, self.rows_per_file = root, day, rows_per_file
        self.folder = staging / f"date={day.isoformat()}"
        self.folder.mkdir(parents=True)
        self.parts = 0
        self.rows_in_part = 0
        self.rows = 0
        self.writer: pq.ParquetWriter | None = None

    def write(self, table: pa.Table) -> None:
        offset = 0
        while offset < table.num_rows:
            if self.writer is None or self.rows_in_part >= self.rows_per_file:
                self._next_part()
            assert self.writer is not None
            take = min(table.num_rows - offset, self.rows_per_file - self.rows_in_part)
            self.writer.write_table(table.slice(offset, take))
            self.rows_in_part += take
            self.rows += take
            offset += take

    def _next_part(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.writer = pq.ParquetWriter(self.folder / f"part-{self.parts}.parquet", SCHEMA, compression="zstd")
        self.parts += 1
        self.rows_in_part = 0

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None

    def publish(self, summary: ExportSummary) -> None:
        self.close()
        target = self.root / self.folder.name
        old = self.root / f".replaced-{uuid.uuid4().hex}"
        if target.exists():
            target.rename(old)
        self.folder.rename(target)
        shutil.rmtree(old, ignore_errors=True)
        summary.records += self.rows
        summary.days[self.day.isoformat()] = self.rows
        summary.files.extend(target / f"part-{n}.parquet" for n in range(self.parts))


def _chunks(engine: Engine, key: str | None, first: datetime | None, last: datetime | None,
            chunk: int) -> Any:
    """The records in time order, `chunk` at a time (keyset pages on created_at, id)."""
    columns = [RECORDS.c[name] for name in (*SCALAR_COLUMNS, *JSON_COLUMNS)]
    conditions: list[Any] = []
    if key is not None:
        conditions.append(RECORDS.c.model_key == key)
    if first is not None:
        conditions.append(RECORDS.c.created_at >= first)
    if last is not None:
        conditions.append(RECORDS.c.created_at < last)
    after: tuple[datetime, str] | None = None
    while True:
        where = list(conditions)
        if after is not None:
            where.append(sa.tuple_(RECORDS.c.created_at, RECORDS.c.id)
                         > sa.tuple_(sa.bindparam("after_at", after[0], type_=UTCDateTime),
                                     sa.bindparam("after_id", after[1], type_=sa.String)))
        query = sa.select(*columns).where(*where).order_by(RECORDS.c.created_at, RECORDS.c.id).limit(chunk)
        with engine.execution_options(decisionary_read_only=True).connect() as connection:
            rows = connection.execute(query).all()
        if not rows:
            return
        yield rows
        after = (rows[-1].created_at, rows[-1].id)


def _by_day(rows: list[Any]) -> list[tuple[date, pa.Table]]:
    groups: dict[date, list[Any]] = {}
    for row in rows:
        groups.setdefault(row.created_at.astimezone(UTC).date(), []).append(row)
    return [(day, _table(group)) for day, group in groups.items()]


def _table(rows: list[Any]) -> pa.Table:
    data: dict[str, list[Any]] = {name: [getattr(row, name) for row in rows] for name in SCALAR_COLUMNS}
    data["created_at"] = [value.astimezone(UTC) for value in data["created_at"]]
    for name in JSON_COLUMNS:
        data[name] = [None if getattr(row, name) is None else
                      json.dumps(getattr(row, name), ensure_ascii=False, separators=(",", ":"))
                      for row in rows]
    return pa.Table.from_pydict(data, schema=SCHEMA)


def _midnight(value: datetime) -> datetime:
    return datetime.combine(value.astimezone(UTC).date(), time(), UTC)


def _next_midnight(value: datetime) -> datetime:
    midnight = _midnight(value)
    return midnight if midnight == value.astimezone(UTC) else midnight + timedelta(days=1)
