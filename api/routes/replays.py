"""Replays (audit/replay.py): a version evaluated on logged decisions or an uploaded file, before
it goes live; the summary is attached to the version for its approver."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, File, Form, Request, UploadFile
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from api.auth import READERS, Principal, requires
from api.problems import ProblemError, problem_responses
from api.routes.common import ALIAS_PATTERN, ModelKey, VersionNumber, make_router, service_of
from api.schemas import RequestBody
from registry import Invalid, NotFound

router = make_router(400, 404, tag="replays")

Replayer = Annotated[Principal, Depends(requires("author", "approver"))]
# A reviewer may ask what a version would change, without attaching the answer to it.
WhatIf = Annotated[Principal, Depends(requires("author", "approver", "reviewer"))]
Reader = Annotated[Principal, Depends(requires(*READERS))]


class ReplayIn(RequestBody):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    start: datetime | None = Field(default=None, alias="from", description="Logged decisions from this time.")
    end: datetime | None = Field(default=None, alias="to", description="... up to this time (default: now).")
    alias: str | None = Field(default="production", pattern=ALIAS_PATTERN, max_length=100,
                              description="Decisions answered through this alias (null: any).")
    bad_label: str | None = Field(default=None, max_length=100,
                                  description="The outcome label that means bad (default: defaulted, if known).")
    attach: bool = Field(default=True, description="Attach the summary to the version for its approver (authors "
                                                   "and approvers); false only answers it (reviewers too).")


class ReplayOut(BaseModel):
    id: str
    key: str
    version: int
    source: str
    summary: dict[str, Any]
    created_by: str
    created_at: str


@router.post("/v1/models/{key}/versions/{number}/replay", response_model=ReplayOut, status_code=201,
             summary="Replay a version on logged decisions and attach what would change to it (or only answer it)",
             responses=problem_responses(422))
async def replay_logged(request: Request, key: ModelKey, number: VersionNumber, principal: WhatIf,
                        body: ReplayIn | None = None) -> ReplayOut:
    from audit.replay import replay_version

    body = body or ReplayIn()
    if body.attach and principal.role == "reviewer":
        raise ProblemError(403, "a reviewer's replay is not attached to the version: send \"attach\": false",
                           errors=[{"pointer": "/attach", "message": "authors and approvers attach replays"}])
    if body.start and body.end and body.start >= body.end:
        raise ProblemError(422, "`to` must be after `from`", errors=[{"pointer": "/to", "message": "before from"}])
    engine = service_of(request).engine
    return ReplayOut(**await _run(lambda: replay_version(
        engine, key, number, by=principal.name, start=body.start, end=body.end, alias=body.alias,
        bad_label=body.bad_label, attach=body.attach)))


@router.post("/v1/models/{key}/versions/{number}/replay-file", response_model=ReplayOut, status_code=201,
             summary="Replay a version on an uploaded CSV or Parquet file (inputs and decided.<decision> columns)",
             responses=problem_responses(422))
async def replay_file(request: Request, key: ModelKey, number: VersionNumber, principal: Replayer,
                      file: Annotated[UploadFile, File(description="Inputs, decided.<decision>, label.<name>.")],
                      bad_label: Annotated[str | None, Form(max_length=100)] = None) -> ReplayOut:
    from audit.outcomes import read_table
    from audit.replay import replay_version

    engine = service_of(request).engine
    name = (file.filename or "replay.csv")[-200:]
    data = await file.read()
    frame = await _run(lambda: read_table(data, filename=name))
    return ReplayOut(**await _run(lambda: replay_version(
        engine, key, number, by=principal.name, frame=frame, source=f"file {name}", bad_label=bad_label)))


@router.get("/v1/models/{key}/versions/{number}/replays", response_model=list[ReplayOut],
            summary="The replays attached to a version, newest first")
async def replays_list(request: Request, key: ModelKey, number: VersionNumber, _: Reader) -> list[ReplayOut]:
    from audit.replay import list_replays

    engine = service_of(request).engine
    return [ReplayOut(**r) for r in await run_in_threadpool(lambda: list_replays(engine, key, number))]


async def _run(work: Any) -> Any:
    """Replays read and evaluate up to a million rows: off the event loop. A version that does
    not exist answers 404 (NotFound); anything else wrong with the request, 422."""
    try:
        return await run_in_threadpool(work)
    except NotFound:
        raise
    except Invalid as exc:
        raise ProblemError(422, str(exc), slug="replay-invalid") from None
