"""Decision records: what was decided, for whom, with which version. Read by the rule of
api/decision_access.py: reviewers read every record, a caller the records of its own calls.

    GET /v1/records              the decision log: filters, newest first, cursor pages (audit.log)
    GET /v1/records/{record_id}  one record
    GET /v1/audit/verify         walk every record chain (registry.chain.verify)
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Query, Request

from api.auth import Principal, requires
from api.decision_access import DecisionReader
from api.routes.common import ALIAS_PATTERN, KEY_PATTERN, make_router, record_out, service_of
from api.routes.paging import Cursor, End, Limit, Start, period, query_problem
from api.schemas import BrokenLinkOut, ChainHeadOut, RecordOut, RecordPageOut, VerifyOut
from audit.log import QueryError, parse_fired, parse_output, query_records
from registry import get_record, unit_of_work
from registry.chain import verify

router = make_router(400, 404, tag="records")

Reviewer = Annotated[Principal, Depends(requires("reviewer"))]
RECORD_ID = r"^[0-9A-Za-z]{1,64}$"
Text = Annotated[str | None, Query(min_length=1, max_length=200)]


@router.get("/v1/records", response_model=RecordPageOut, summary="The decision log: records, newest first")
def records_list(
    request: Request, scope: DecisionReader,
    key: Annotated[str | None, Query(pattern=KEY_PATTERN, max_length=100, description="Only this model's.")] = None,
    version: Annotated[int | None, Query(ge=1, le=999_999_999, description="Only this version's.")] = None,
    alias: Annotated[str | None, Query(pattern=ALIAS_PATTERN, max_length=100,
                                       description="Only records answered through this alias.")] = None,
    arm: Annotated[str | None, Query(min_length=1, max_length=100,
                                     description="Only this arm of a split (e.g. challenger).")] = None,
    start: Start = None,
    end: End = None,
    output: Annotated[str | None, Query(max_length=400, description="`Decision:value`: that decision's output "
                                        "equals the value (a JSON scalar, else text), e.g. `Decision:Approve`, "
                                        "`Credit Limit:15000`.")] = None,
    fired: Annotated[str | None, Query(max_length=400, description="`Decision:rule`: that rule fired; a rule id "
                                       "(`Risk Category:rule-7`) or a position (`Risk Category:7`).")] = None,
    caller: Annotated[str | None, Query(min_length=1, max_length=200,
                                        description="Only records of this caller (API key id).")] = None,
    business_key: Annotated[str | None, Query(min_length=1, max_length=200,
                                              description="Only this business key's records.")] = None,
    workflow_state: Annotated[str | None, Query(max_length=16, description="Records with a workflow run in this "
                                                "state: ready, waiting, done, dead, cancelled.")] = None,
    review_outcome: Annotated[str | None, Query(max_length=16, description="Records with a decided review with "
                                                "this outcome: approve, reject, override.")] = None,
    include_shadow: Annotated[bool, Query(description="Include shadow versions' records.")] = False,
    limit: Limit = 100,
    cursor: Cursor = None,
) -> RecordPageOut:
    if scope.caller is not None and caller not in (None, scope.caller):
        return RecordPageOut(records=[], next_cursor=None)  # a caller reads only its own records
    caller = scope.caller or caller
    try:
        since, until = period(start, end)
        page = query_records(
            service_of(request).engine, key=key, version=version, alias=alias, arm=arm, start=since, end=until,
            output=parse_output(output) if output is not None else None,
            fired=parse_fired(fired) if fired is not None else None,
            caller=caller, business_key=business_key, workflow_state=workflow_state,
            review_outcome=review_outcome, include_shadow=include_shadow, limit=limit, cursor=cursor)
    except QueryError as exc:
        raise query_problem(exc) from None
    return RecordPageOut(records=[record_out(r) for r in page.records], next_cursor=page.next_cursor)


@router.get("/v1/records/{record_id}", response_model=RecordOut, summary="One decision record")
def record_detail(request: Request, record_id: Annotated[str, Path(pattern=RECORD_ID)],
                  scope: DecisionReader) -> RecordOut:
    with unit_of_work(service_of(request).engine, read_only=True) as session:
        scope.check(session, record_id, "decision record", record_id)
        return record_out(get_record(session, record_id))


@router.get("/v1/audit/verify", response_model=VerifyOut, summary="Verify every decision record chain")
def audit_verify(request: Request, _: Reviewer) -> VerifyOut:
    """Walks every chain of decision records (in a worker thread: it reads them all) and names the
    first broken link: an edited, removed or reordered record."""
    result = verify(service_of(request).engine)
    broken = result.first_broken
    return VerifyOut(
        ok=result.ok, chains=result.chains, records=result.records, unchained=result.unchained,
        first_broken=None if broken is None else BrokenLinkOut(chain_id=broken.chain_id, seq=broken.seq,
                                                               record_id=broken.record_id, problem=broken.problem),
        heads={chain: ChainHeadOut(seq=seq, hash=hashed) for chain, (seq, hashed) in result.heads.items()})
