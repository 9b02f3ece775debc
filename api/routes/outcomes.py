"""Outcomes that arrive after the decision (audit/outcomes.py): one at a time, or a whole file."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, File, Form, Path, Request, UploadFile
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from api.auth import Principal, requires
from api.problems import ProblemError, problem_responses
from api.routes.common import ModelKey, make_router, service_of
from api.schemas import RequestBody
from registry import Invalid, NotFound

router = make_router(400, 404, tag="outcomes")

Reporter = Annotated[Principal, Depends(requires("caller", "reviewer"))]
DECISION_ID = r"^[0-9A-Za-z]{1,64}$"


class OutcomeIn(RequestBody):
    model_config = ConfigDict(extra="forbid")

    labels: dict[str, bool] | list[str] | None = Field(
        default=None, description="Labels: {\"defaulted\": true}, or a list of the names that are true.")
    values: dict[str, float] | None = Field(default=None, description="Values: {\"loss\": 1200}.")
    known_at: datetime | None = Field(default=None, description="When it became known (default: now).")


class OutcomeOut(BaseModel):
    outcome_id: str
    decision_id: str
    repeated: bool = Field(description="The same outcome was reported before: nothing was added.")


class OutcomeImportOut(BaseModel):
    rows: int
    added: int
    repeated: int
    decisions: int


@router.post("/v1/decisions/{decision_id}/outcome", response_model=OutcomeOut, status_code=201,
             summary="Report what became known about a decision (labels, values, when)",
             responses={200: {"model": OutcomeOut, "description": "The same outcome was reported before"},
                        **problem_responses(422)})
async def outcome_report(request: Request, decision_id: Annotated[str, Path(pattern=DECISION_ID)],
                         body: OutcomeIn, principal: Reporter) -> Any:
    from audit.outcomes import record_outcome

    engine = service_of(request).engine
    try:
        result = await run_in_threadpool(lambda: record_outcome(
            engine, decision_id=decision_id, labels=body.labels, values=body.values, known_at=body.known_at,
            source="api", by=principal.name))
    except Invalid as exc:  # NotFound (an unknown decision) is a registry error answered 404
        if isinstance(exc, NotFound):
            raise
        raise ProblemError(422, str(exc), slug="outcome-invalid") from None
    out = OutcomeOut(outcome_id=result.outcome_id, decision_id=result.decision_id, repeated=result.repeated)
    return JSONResponse(out.model_dump(), status_code=200 if result.repeated else 201)


@router.post("/v1/models/{key}/outcomes", response_model=OutcomeImportOut,
             summary="Upload outcomes as CSV or Parquet; the whole file is checked before anything is written",
             responses=problem_responses(422))
async def outcomes_upload(
    request: Request, key: ModelKey, principal: Reporter,
    file: Annotated[UploadFile, File(description="CSV or Parquet: decision_id (or a business key column), "
                                                 "known_at, label:<name>, value:<name>.")],
    business_key_column: Annotated[str | None, Form(max_length=200, description=(
        "Match rows by this business-key column instead of decision_id."))] = None,
) -> OutcomeImportOut:
    from audit.outcomes import OutcomesInvalid, import_outcomes

    engine = service_of(request).engine
    data = await file.read()
    name = (file.filename or "outcomes.csv")[-200:]
    try:
        summary = await run_in_threadpool(lambda: import_outcomes(
            engine, key, data, filename=name, business_key_column=business_key_column, by=principal.name))
    except OutcomesInvalid as exc:
        raise ProblemError(422, str(exc), slug="outcomes-invalid", errors=[
            {"message": problem} for problem in exc.problems]) from None
    except Invalid as exc:  # the file itself: not CSV or Parquet, no key column, too many rows
        raise ProblemError(422, str(exc), slug="outcomes-invalid") from None
    return OutcomeImportOut(**summary.to_dict())
