"""Batch jobs and schedules: decisions made over files, with the same bindings.

    POST /v1/execution/batches                   admin    queue a CSV/Parquet file (in DECISIONARY_BATCH_DIR)
    GET  /v1/execution/batches[/{id}]            readers  jobs and their progress
    POST /v1/execution/batches/{id}/cancel       admin
    POST /v1/execution/schedules                 admin    a cron expression that queues a batch job
    GET  /v1/execution/schedules                 readers
    POST /v1/execution/schedules/{name}/enable|disable   admin
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Request

from api.auth import READERS, Principal, requires
from api.execution_schemas import BatchJobOut, BatchSubmit, ScheduleBody, ScheduleOut
from api.routes.common import make_router, service_of
from execution.batch import BatchJob, cancel_job, get_job, list_jobs, submit_batch
from execution.config import ExecutionConfig
from execution.schedules import Schedule, add_schedule, list_schedules, set_enabled
from registry import unit_of_work

router = make_router(400, 404, 409, tag="batch jobs")

Operator = Annotated[Principal, Depends(requires("admin"))]
Reader = Annotated[Principal, Depends(requires(*READERS))]
JobId = Annotated[str, Path(pattern=r"^[0-9A-Za-z]{1,64}$")]
ScheduleName = Annotated[str, Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")]


def _config(request: Request) -> ExecutionConfig:
    config: ExecutionConfig = request.app.state.execution_config
    return config


def job_out(job: BatchJob) -> BatchJobOut:
    return BatchJobOut(**job.to_dict())


def schedule_out(schedule: Schedule) -> ScheduleOut:
    return ScheduleOut(**schedule.to_dict())


@router.post("/v1/execution/batches", response_model=BatchJobOut, status_code=201,
             summary="Queue a batch job: each row of the file is a decision (with its workflows)")
def batch_submit(request: Request, body: BatchSubmit, principal: Operator) -> BatchJobOut:
    source = _config(request).check_batch_source(body.source)
    with unit_of_work(service_of(request).engine) as session:
        return job_out(submit_batch(session, model_ref=body.model, source=source, fmt=body.format,
                                    created_by=principal.name))


@router.get("/v1/execution/batches", response_model=list[BatchJobOut], summary="Batch jobs, newest first")
def batch_list(request: Request, _: Reader) -> list[BatchJobOut]:
    with unit_of_work(service_of(request).engine, read_only=True) as session:
        return [job_out(j) for j in list_jobs(session)]


@router.get("/v1/execution/batches/{job_id}", response_model=BatchJobOut, summary="One batch job")
def batch_detail(request: Request, job_id: JobId, _: Reader) -> BatchJobOut:
    with unit_of_work(service_of(request).engine, read_only=True) as session:
        return job_out(get_job(session, job_id))


@router.post("/v1/execution/batches/{job_id}/cancel", response_model=BatchJobOut, summary="Cancel a batch job")
def batch_cancel(request: Request, job_id: JobId, _: Operator) -> BatchJobOut:
    with unit_of_work(service_of(request).engine) as session:
        return job_out(cancel_job(session, job_id))


@router.post("/v1/execution/schedules", response_model=ScheduleOut, status_code=201,
             summary="Add a schedule: a cron expression (UTC) that queues a batch job over a file")
def schedule_add(request: Request, body: ScheduleBody, principal: Operator) -> ScheduleOut:
    source = _config(request).check_batch_source(body.source)
    with unit_of_work(service_of(request).engine) as session:
        return schedule_out(add_schedule(session, name=body.name, cron=body.cron, model_ref=body.model,
                                         source=source, fmt=body.format, created_by=principal.name))


@router.get("/v1/execution/schedules", response_model=list[ScheduleOut], summary="Schedules")
def schedule_list(request: Request, _: Reader) -> list[ScheduleOut]:
    with unit_of_work(service_of(request).engine, read_only=True) as session:
        return [schedule_out(s) for s in list_schedules(session)]


@router.post("/v1/execution/schedules/{name}/enable", response_model=ScheduleOut, summary="Enable a schedule")
def schedule_enable(request: Request, name: ScheduleName, _: Operator) -> ScheduleOut:
    with unit_of_work(service_of(request).engine) as session:
        return schedule_out(set_enabled(session, name, True))


@router.post("/v1/execution/schedules/{name}/disable", response_model=ScheduleOut, summary="Disable a schedule")
def schedule_disable(request: Request, name: ScheduleName, _: Operator) -> ScheduleOut:
    with unit_of_work(service_of(request).engine) as session:
        return schedule_out(set_enabled(session, name, False))
