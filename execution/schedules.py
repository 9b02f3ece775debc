"""Schedules: cron expressions (croniter) that start a batch job over a file.

Each schedule keeps the time it is next due. Any worker may fire it: firing moves
`next_run_at` with a conditional UPDATE (WHERE next_run_at = the value read) in the same
transaction that queues the batch job, so several workers never start the same occurrence
twice. A schedule that was not fired for a while (no worker running) fires once, not once per
missed occurrence. The model reference is resolved at each start (`key` follows production).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from croniter import croniter
from sqlalchemy.engine import Engine
from sqlmodel import Session

from execution.batch import detect_format, submit_batch
from execution.errors import ExecutionNotFound
from execution.tables import ScheduleRow
from registry import parse_ref, unit_of_work
from registry.errors import Conflict, Invalid, RegistryError
from registry.tables import utcnow

log = logging.getLogger("decisionary.execution")

SCHEDULES = ScheduleRow.__table__  # type: ignore[attr-defined]
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}")


@dataclass(frozen=True)
class Schedule:
    id: int
    name: str
    cron: str
    model_ref: str
    source: str
    format: str
    enabled: bool
    next_run_at: datetime
    last_run_at: datetime | None
    created_by: str
    created_at: datetime

    @classmethod
    def of(cls, row: Any) -> Schedule:
        return cls(**{name: getattr(row, name) for name in cls.__dataclass_fields__})

    def to_dict(self) -> dict[str, Any]:
        data = {name: getattr(self, name) for name in self.__dataclass_fields__}
        for name, value in data.items():
            if isinstance(value, datetime):
                data[name] = value.isoformat()
        return data


def next_time(cron: str, after: datetime) -> datetime:
    if not croniter.is_valid(cron):
        raise Invalid(f"{cron!r} is not a cron expression (minute hour day-of-month month day-of-week, "
                      "e.g. '0 2 * * *' for 02:00 every day, UTC)")
    result: datetime = croniter(cron, after).get_next(datetime)
    return result


def add_schedule(session: Session, *, name: str, cron: str, model_ref: str, source: str, created_by: str,
                 fmt: str | None = None, now: datetime | None = None) -> Schedule:
    if not isinstance(name, str) or not NAME.fullmatch(name):
        raise Invalid(f"schedule name {name!r}: use letters, digits, '_', '.', '-'")
    parse_ref(model_ref)
    fmt = detect_format(source, fmt)
    first = next_time(cron, now or utcnow())
    existing = session.execute(sa.select(SCHEDULES.c.id).where(SCHEDULES.c.name == name)).first()
    if existing is not None:
        raise Conflict(f"a schedule named {name!r} exists; remove it first")
    session.execute(sa.insert(SCHEDULES).values(
        name=name, cron=cron, model_ref=model_ref, source=source, format=fmt, enabled=True, next_run_at=first,
        created_by=created_by, created_at=utcnow()))
    return get_schedule(session, name)


def get_schedule(session: Session, name: str) -> Schedule:
    row = session.execute(sa.select(SCHEDULES).where(SCHEDULES.c.name == name)).first()
    if row is None:
        raise ExecutionNotFound(f"no schedule named {name!r}")
    return Schedule.of(row)


def list_schedules(session: Session) -> list[Schedule]:
    return [Schedule.of(r) for r in session.execute(sa.select(SCHEDULES).order_by(SCHEDULES.c.name)).all()]


def set_enabled(session: Session, name: str, enabled: bool) -> Schedule:
    schedule = get_schedule(session, name)
    values: dict[str, Any] = {"enabled": enabled}
    if enabled:
        values["next_run_at"] = next_time(schedule.cron, utcnow())
    session.execute(sa.update(SCHEDULES).where(SCHEDULES.c.id == schedule.id).values(**values))
    return get_schedule(session, name)


def fire_due_schedules(engine: Engine, now: datetime | None = None) -> list[str]:
    """Queue a batch job for every schedule that is due; returns the new jobs' ids."""
    now = now or utcnow()
    started: list[str] = []
    with unit_of_work(engine) as session:
        due = session.execute(sa.select(SCHEDULES).where(SCHEDULES.c.enabled.is_(True),
                                                         SCHEDULES.c.next_run_at <= now)).all()
        for schedule in due:
            moved = session.connection().execute(
                sa.update(SCHEDULES)
                .where(SCHEDULES.c.id == schedule.id, SCHEDULES.c.next_run_at == schedule.next_run_at)
                .values(next_run_at=next_time(schedule.cron, now), last_run_at=now)
            ).rowcount
            if not moved:
                continue  # another worker fired it
            try:
                with session.begin_nested():
                    job = submit_batch(session, model_ref=schedule.model_ref, source=schedule.source,
                                       created_by=f"schedule:{schedule.name}", fmt=schedule.format,
                                       schedule_id=schedule.id)
                started.append(job.id)
            except RegistryError as exc:
                log.error("schedule %s: no batch job started: %s", schedule.name, exc)
    return started
