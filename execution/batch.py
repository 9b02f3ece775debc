"""Batch jobs: a CSV or Parquet file of inputs, one decision per row, with the same bindings.

A job is pinned to one version when it is submitted (a reference like `loan-approval` or
`loan-approval@staging` is resolved then), so a job resumed later decides with the version it
started with. Workers claim a job under a lease like a run, and process it in chunks: each
chunk's decision records, their workflow runs, and the job's new position commit in one
transaction. A worker that dies mid-chunk leaves the position where the last chunk ended; the
next worker resumes there, and no row is decided twice or skipped.

Rows are read with pandas (CSV: header row = input names; types inferred) or pyarrow (Parquet).
Empty cells are missing inputs (null).
"""

from __future__ import annotations

import csv
import logging
import math
import secrets
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session

from decisions.feel.values import to_json
from execution.bindings_store import LoadedVersions
from execution.config import ExecutionConfig
from execution.errors import ExecutionConflict, ExecutionNotFound
from execution.outbox import enqueue_runs
from execution.tables import BatchJobRow
from registry import record_decision, resolve, unit_of_work
from registry.errors import Invalid
from registry.ids import new_ulid
from registry.tables import utcnow

log = logging.getLogger("decisionary.execution")

JOBS = BatchJobRow.__table__  # type: ignore[attr-defined]
CHUNK_ROWS = 200
FORMATS = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}


@dataclass(frozen=True)
class BatchJob:
    id: str
    model_key: str
    version: int
    alias: str | None
    source: str
    format: str
    state: str
    position: int
    total: int | None
    problem_rows: int
    schedule_id: int | None
    lease_token: str | None
    error: str | None
    created_by: str
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None

    @classmethod
    def of(cls, row: Any) -> BatchJob:
        return cls(**{name: getattr(row, name) for name in cls.__dataclass_fields__})

    def to_dict(self) -> dict[str, Any]:
        data = {name: getattr(self, name) for name in self.__dataclass_fields__ if name != "lease_token"}
        for name, value in data.items():
            if isinstance(value, datetime):
                data[name] = value.isoformat()
        return data


def detect_format(source: str, fmt: str | None = None) -> str:
    if fmt:
        if fmt not in ("csv", "parquet"):
            raise Invalid(f"a batch file is csv or parquet, not {fmt!r}")
        return fmt
    suffix = Path(source).suffix.lower()
    if suffix not in FORMATS:
        raise Invalid(f"cannot tell the format of {source!r} from its name: give the format (csv or parquet)")
    return FORMATS[suffix]


def submit_batch(session: Session, *, model_ref: str, source: str, created_by: str, fmt: str | None = None,
                 schedule_id: int | None = None, check_file: bool = True) -> BatchJob:
    """Queue a job over `source` (a path the workers can read), pinned to the version `model_ref` resolves to."""
    fmt = detect_format(source, fmt)
    if check_file and not Path(source).is_file():
        raise Invalid(f"no file {source!r} (the path must be readable by the workers)")
    resolved = resolve(session, model_ref)
    now = utcnow()
    job_id = new_ulid()
    session.execute(sa.insert(JOBS).values(
        id=job_id, model_key=resolved.key, version=resolved.number, alias=resolved.alias, source=source,
        format=fmt, state="queued", position=0, total=None, problem_rows=0, schedule_id=schedule_id,
        created_by=created_by, created_at=now, updated_at=now))
    return get_job(session, job_id)


def get_job(session: Session, job_id: str) -> BatchJob:
    row = session.execute(sa.select(JOBS).where(JOBS.c.id == job_id)).first()
    if row is None:
        raise ExecutionNotFound(f"no batch job {job_id!r}")
    return BatchJob.of(row)


def list_jobs(session: Session, *, state: str | None = None, limit: int = 100) -> list[BatchJob]:
    query = sa.select(JOBS)
    if state is not None:
        query = query.where(JOBS.c.state == state)
    rows = session.execute(query.order_by(JOBS.c.id.desc()).limit(max(1, min(limit, 1000)))).all()
    return [BatchJob.of(r) for r in rows]


def cancel_job(session: Session, job_id: str) -> BatchJob:
    job = get_job(session, job_id)
    if job.state not in ("queued", "running"):
        raise ExecutionConflict(f"batch job {job_id} is {job.state}")
    session.execute(sa.update(JOBS).where(JOBS.c.id == job_id).values(
        state="cancelled", lease_owner=None, lease_token=None, lease_expires=None, updated_at=utcnow(),
        finished_at=utcnow()))
    return get_job(session, job_id)


def claim_batch_job(engine: Engine, worker: str, lease_seconds: float) -> BatchJob | None:
    now = utcnow()
    token = secrets.token_hex(16)
    due = (sa.select(JOBS.c.id).where(JOBS.c.state.in_(("queued", "running")),
                                      sa.or_(JOBS.c.lease_expires.is_(None), JOBS.c.lease_expires < now))
           .order_by(JOBS.c.id).limit(1))
    if engine.dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    with engine.begin() as connection:
        row = connection.execute(
            sa.update(JOBS).where(JOBS.c.id.in_(due.scalar_subquery()))
            .values(state="running", lease_owner=worker, lease_token=token,
                    lease_expires=now + timedelta(seconds=lease_seconds), updated_at=now)
            .returning(*JOBS.c)
        ).first()
    return BatchJob.of(row) if row is not None else None


def extend_job_lease(engine: Engine, worker: str, job_id: str, lease_seconds: float) -> None:
    """The worker's heartbeat for a job it is processing (a chunk may take a while)."""
    with engine.begin() as connection:
        connection.execute(sa.update(JOBS).where(JOBS.c.id == job_id, JOBS.c.lease_owner == worker)
                           .values(lease_expires=utcnow() + timedelta(seconds=lease_seconds)))


def process_batch_job(engine: Engine, job: BatchJob, versions: LoadedVersions, config: ExecutionConfig, *,
                      stopping: threading.Event | None = None, lease_seconds: float = 30.0,
                      chunk_rows: int = CHUNK_ROWS) -> str:
    """Decide the job's remaining rows chunk by chunk; returns the job's state when it stops."""
    stopping = stopping or threading.Event()
    try:
        with unit_of_work(engine, read_only=True) as session:
            loaded = versions.get(session, job.model_key, job.version)
        if job.total is None:
            _set(engine, job, total=count_rows(job.source, job.format))
        position = job.position
        for chunk in read_rows(job.source, job.format, start=position, chunk_rows=chunk_rows):
            if stopping.is_set():
                _set(engine, job, lease_owner=None, lease_token=None, lease_expires=None)
                return "running"
            evaluated = []
            for inputs in chunk:
                started = time.perf_counter()
                result = loaded.model.evaluate(inputs)
                evaluated.append((inputs, result, int((time.perf_counter() - started) * 1_000_000)))
            with unit_of_work(engine) as session:
                if not _fence(session, job, position):
                    log.warning("batch job %s: lease lost at row %d; another worker carries on", job.id, position)
                    return "lost"
                problems = 0
                for inputs, result, latency_us in evaluated:
                    record = record_decision(
                        session, key=job.model_key, version=job.version, content_hash=loaded.content_hash,
                        alias=job.alias, inputs=inputs, outputs={k: to_json(v) for k, v in result.outputs.items()},
                        fired={k: list(v) for k, v in result.fired.items()},
                        problems=[p.to_dict() for p in result.problems], latency_us=latency_us,
                        caller=f"batch:{job.id}", reasons=result.reasons)
                    problems += 0 if result.ok else 1
                    enqueue_runs(session, record, loaded, result.outputs, origin=f"batch:{job.id}", config=config)
                position += len(chunk)
                session.execute(sa.update(JOBS).where(JOBS.c.id == job.id).values(
                    position=position, problem_rows=JOBS.c.problem_rows + problems, updated_at=utcnow(),
                    lease_expires=utcnow() + timedelta(seconds=lease_seconds)))
        _set(engine, job, state="done", finished_at=utcnow(), lease_owner=None, lease_token=None, lease_expires=None)
        return "done"
    except (OSError, ValueError, ImportError, Invalid) as exc:
        log.error("batch job %s failed: %s", job.id, exc)
        _set(engine, job, state="failed", error=f"{type(exc).__name__}: {exc}"[:4000], finished_at=utcnow(),
             lease_owner=None, lease_token=None, lease_expires=None)
        return "failed"


def _fence(session: Session, job: BatchJob, position: int) -> bool:
    row = session.execute(sa.select(JOBS.c.position).where(
        JOBS.c.id == job.id, JOBS.c.lease_token == job.lease_token, JOBS.c.state == "running").with_for_update()
    ).first()
    return row is not None and row.position == position


def _set(engine: Engine, job: BatchJob, **values: Any) -> None:
    with engine.begin() as connection:
        connection.execute(sa.update(JOBS).where(JOBS.c.id == job.id, JOBS.c.lease_token == job.lease_token)
                           .values(updated_at=utcnow(), **values))


# --- reading files -----------------------------------------------------------------------------


def count_rows(source: str, fmt: str) -> int:
    if fmt == "parquet":
        import pyarrow.parquet as pq

        return int(pq.ParquetFile(source).metadata.num_rows)
    with open(source, newline="", encoding="utf-8-sig") as handle:
        return max(0, sum(1 for _ in csv.reader(handle)) - 1)


def read_rows(source: str, fmt: str, *, start: int = 0, chunk_rows: int = CHUNK_ROWS) -> Iterator[list[dict[str, Any]]]:
    """Rows from `start` on (0 = the first data row), in chunks, as plain Python values."""
    if fmt == "parquet":
        import pyarrow.parquet as pq

        skipped = 0
        for batch in pq.ParquetFile(source).iter_batches(batch_size=chunk_rows):
            rows = batch.to_pylist()
            if skipped + len(rows) <= start:
                skipped += len(rows)
                continue
            rows = rows[max(0, start - skipped):]
            skipped = start
            yield [_clean(row) for row in rows]
        return
    import pandas as pd

    reader = pd.read_csv(source, chunksize=chunk_rows, skiprows=range(1, start + 1), encoding="utf-8-sig")
    for frame in reader:
        yield [_clean(row) for row in frame.to_dict(orient="records")]


def _clean(row: Mapping[Any, Any]) -> dict[str, Any]:
    return {str(k): _value(v) for k, v in row.items()}


def _value(value: Any) -> Any:
    """pandas/numpy/pyarrow cell values as plain Python; missing (NaN, NaT) as None."""
    if value is None:
        return None
    if hasattr(value, "to_pydatetime"):
        value = value.to_pydatetime()  # pandas Timestamp
    elif hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()  # numpy scalars
    if isinstance(value, float) and math.isnan(value):
        return None
    if value.__class__.__name__ == "NaTType":
        return None
    return value
