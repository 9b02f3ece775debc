"""Decision records: what was decided, for whom, with which version. Readable by reviewers."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Query, Request

from api.auth import Principal, requires
from api.routes.common import KEY_PATTERN, make_router, record_out, service_of
from api.schemas import RecordOut
from registry import get_record, list_records, unit_of_work

router = make_router(400, 404, tag="records")

Reviewer = Annotated[Principal, Depends(requires("reviewer"))]
RECORD_ID = r"^[0-9A-Za-z]{1,64}$"


@router.get("/v1/records", response_model=list[RecordOut], summary="Decision records, newest first")
def records_list(
    request: Request, _: Reviewer,
    key: Annotated[str | None, Query(pattern=KEY_PATTERN, max_length=100, description="Only this model's.")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    before: Annotated[str | None, Query(pattern=RECORD_ID, description="Page: records older than this id.")] = None,
) -> list[RecordOut]:
    with unit_of_work(service_of(request).engine, read_only=True) as session:
        return [record_out(r) for r in list_records(session, key=key, limit=limit, before=before)]


@router.get("/v1/records/{record_id}", response_model=RecordOut, summary="One decision record")
def record_detail(request: Request, record_id: Annotated[str, Path(pattern=RECORD_ID)], _: Reviewer) -> RecordOut:
    with unit_of_work(service_of(request).engine, read_only=True) as session:
        return record_out(get_record(session, record_id))
