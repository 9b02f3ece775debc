"""Liveness and identity: `GET /healthz` (no key needed) and `GET /v1/whoami`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from sqlalchemy import text

from api.auth import EVERYONE, Principal, requires
from api.jsonio import DecimalJSONRoute
from api.problems import ProblemError, problem_responses
from api.routes.common import COMMON_PROBLEMS, service_of
from api.schemas import Health, WhoAmI

router = APIRouter(route_class=DecimalJSONRoute, tags=["health"])


@router.get("/healthz", response_model=Health, responses=problem_responses(503),
            summary="Is the service up, and can it reach its database?")
def healthz(request: Request) -> Health:
    # A read-only transaction: on SQLite any other begins BEGIN IMMEDIATE (registry/db.py) and
    # would wait for the write lock behind a batch's insert, so health would hang on a busy writer.
    try:
        with service_of(request).engine.execution_options(decisionary_read_only=True).connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception:  # noqa: BLE001 - any failure to reach the database is "unavailable"
        raise ProblemError(503, "the database is unreachable", headers={"Retry-After": "1"}) from None
    return Health(status="ok", database="ok")


@router.get("/v1/whoami", response_model=WhoAmI, responses=COMMON_PROBLEMS, summary="The API key's name and role")
def whoami(principal: Annotated[Principal, Depends(requires(*EVERYONE))]) -> WhoAmI:
    return WhoAmI(**principal.to_dict())
