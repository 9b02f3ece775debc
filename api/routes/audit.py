"""Metrics, performance, drift and the HTML report over HTTP, for reviewers (audit/).

Each computes over up to millions of records, so it runs in a worker thread, never on the event
loop; a period is at most MAX_DAYS long."""

from __future__ import annotations

import math
from dataclasses import fields, is_dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

import pandas as pd
from fastapi import Depends, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse
from starlette.concurrency import run_in_threadpool

from api.auth import Principal, requires
from api.problems import ProblemError, problem_responses
from api.routes.common import ModelKey, make_router, service_of
from registry import Invalid, NotFound, get_model, unit_of_work

router = make_router(400, 404, tag="audit")

Reviewer = Annotated[Principal, Depends(requires("reviewer"))]
MAX_DAYS = 800
DEFAULT_DAYS = 90
When = Annotated[datetime | None, Query(description="ISO 8601; UTC when no zone is given.")]


@router.get("/v1/audit/{key}/metrics", summary="Volume, outcome mix, rule hits, reviews and workflows by window",
            responses=problem_responses(422))
async def audit_metrics(request: Request, key: ModelKey, _: Reviewer, start: Annotated[When, Query(alias="from")] = None,
                        end: Annotated[When, Query(alias="to")] = None,
                        window: Literal["day", "week", "month"] = "week",
                        version: Annotated[list[int] | None, Query()] = None,
                        alias: Annotated[str | None, Query(max_length=100)] = None,
                        as_of: When = None) -> JSONResponse:
    from audit.metrics import compute_metrics
    from audit.store import rule_ids_of, version_models

    engine = service_of(request).engine
    first, last = _period(start, end)
    found = await _run(lambda: compute_metrics(
        engine, key, start=first, end=last, window=window, versions=version, alias=alias, as_of=_utc(as_of),
        rule_ids=rule_ids_of(version_models(engine, key)) or None))  # version_models: NotFound for a key
    return JSONResponse(_frames(found))


@router.get("/v1/audit/{key}/performance", summary="Bad rates, confusion, KS/AUC/Gini and calibration",
            responses=problem_responses(422))
async def audit_performance(request: Request, key: ModelKey, _: Reviewer,
                            label: Annotated[str, Query(max_length=100, description="The label meaning bad.")],
                            decision_output: Annotated[str | None, Query(max_length=200)] = None,
                            positive: Annotated[list[str] | None, Query()] = None,
                            score: Annotated[str | None, Query(max_length=200)] = None,
                            bands: Annotated[int, Query(ge=2, le=50)] = 10,
                            start: Annotated[When, Query(alias="from")] = None,
                            end: Annotated[When, Query(alias="to")] = None, as_of: When = None,
                            version: Annotated[list[int] | None, Query()] = None) -> JSONResponse:
    from audit.performance import compute_performance

    engine = service_of(request).engine
    first, last = _period(start, end)
    found = await _run(lambda: _known(engine, key) and compute_performance(
        engine, key, label=label, decision_output=decision_output, positive=positive, score=score, bands=bands,
        start=first, end=last, as_of=_utc(as_of), versions=version))
    return JSONResponse(_frames(found))


@router.get("/v1/audit/{key}/drift", summary="Population stability of every input and output",
            responses=problem_responses(422))
async def audit_drift(request: Request, key: ModelKey, _: Reviewer,
                      reference_from: datetime, reference_to: datetime,
                      start: Annotated[When, Query(alias="from")] = None, end: Annotated[When, Query(alias="to")] = None,
                      bins: Annotated[int, Query(ge=2, le=50)] = 10,
                      watch: Annotated[float, Query(gt=0, le=10, description="PSI from which a name is watched.")]
                      = 0.1,
                      alert: Annotated[float, Query(gt=0, le=10, description="PSI from which a name has drifted.")]
                      = 0.25,
                      version: Annotated[list[int] | None, Query()] = None) -> JSONResponse:
    """`drift`: one row per input and output; `bins`: each one's bins (audit/drift.py)."""
    from audit.drift import stability

    engine = service_of(request).engine
    first, last = _period(start, end, days=30)
    reference = _period(_utc(reference_from), _utc(reference_to), parameter="reference_to")
    found = await _run(lambda: _known(engine, key) and stability(
        engine, key, reference=reference, current=(first, last), bins=bins, thresholds=(watch, alert),
        versions=version))
    return JSONResponse({"drift": _rows(found.summary), "bins": _rows(found.bins)})


@router.get("/v1/audit/{key}/report", response_class=HTMLResponse,
            summary="The self-contained HTML report (charts inline, nothing fetched)",
            responses={200: {"content": {"text/html": {}}}, **problem_responses(422)})
async def audit_report(request: Request, key: ModelKey, _: Reviewer,
                       start: Annotated[When, Query(alias="from")] = None, end: Annotated[When, Query(alias="to")] = None,
                       label: Annotated[str | None, Query(max_length=100)] = None,
                       score: Annotated[str | None, Query(max_length=200)] = None,
                       window: Literal["day", "week", "month"] | None = None,
                       decision_output: Annotated[str | None, Query(max_length=200)] = None,
                       positive: Annotated[list[str] | None, Query()] = None,
                       version: Annotated[list[int] | None, Query()] = None,
                       alias: Annotated[str | None, Query(max_length=100)] = None) -> HTMLResponse:
    from audit.report import report_from_database

    engine = service_of(request).engine
    first, last = _period(start, end)
    html = await _run(lambda: report_from_database(
        engine, key, start=first, end=last, label=label, score=score, window=window,
        decision_output=decision_output, positive=positive, versions=version, alias=alias))
    return HTMLResponse(html, headers={"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
                                                                  "img-src data:"})


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _period(start: datetime | None, end: datetime | None, *, days: int = DEFAULT_DAYS,
            parameter: str = "to") -> tuple[datetime, datetime]:
    last = _utc(end) or datetime.now(UTC)
    first = _utc(start) or last - timedelta(days=days)
    if first >= last:
        raise ProblemError(422, "the period must end after it starts",
                           errors=[{"parameter": parameter, "in": "query", "message": "not after the start"}])
    if last - first > timedelta(days=MAX_DAYS):
        raise ProblemError(422, f"a period is at most {MAX_DAYS} days",
                           errors=[{"parameter": parameter, "in": "query", "message": f"over {MAX_DAYS} days"}])
    return first, last


def _known(engine: Any, key: str) -> bool:
    with unit_of_work(engine, read_only=True) as session:
        get_model(session, key)  # NotFound (404) names the key
    return True


async def _run(work: Any) -> Any:
    try:
        return await run_in_threadpool(work)
    except NotFound:
        raise
    except Invalid as exc:  # the audit layer's QueryError names the parameter
        parameter = getattr(exc, "parameter", None)
        raise ProblemError(422, str(getattr(exc, "message", exc)), errors=[
            {"parameter": parameter, "in": "query", "message": str(getattr(exc, "message", exc))}]
            if parameter else None) from None


def _frames(result: Any) -> dict[str, Any]:
    assert is_dataclass(result)
    return {f.name: _rows(getattr(result, f.name)) for f in fields(result)}


def _rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{str(k): _plain(v) for k, v in row.items()} for row in frame.to_dict("records")]


def _plain(value: Any) -> Any:
    if isinstance(value, pd.Timestamp | datetime):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is pd.NA or value is pd.NaT:
        return None
    if hasattr(value, "item"):  # numpy scalars
        return _plain(value.item())
    return value
