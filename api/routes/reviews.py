"""Human review: reviewers list their queue, claim a task, and answer it.

    GET  /v1/reviews                           reviewer   tasks (open by default), `mine=true`: mine; filters, pages
    GET  /v1/reviews/{id}                      reviewer   one task with the decision's inputs, outputs, rules
    POST /v1/reviews/{id}/claim                reviewer   take a task (nobody else can answer it then)
    POST /v1/reviews/{id}/decide               reviewer   approve, reject or override, with a reason
    GET  /v1/execution/decisions/{id}/overrides decisions' overrides recorded against a decision
                                                          (api/decision_access.py: reviewers, a caller its own)

The reviewer is the API key's name. An override is checked against the types and allowed values
of the outputs of the version that decided. Answering wakes the waiting workflow (execution/review.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

from fastapi import Depends, Path, Query, Request

from api.auth import Principal, requires
from api.decision_access import DecisionReader
from api.execution_schemas import ReviewAnswer, ReviewTaskOut
from api.jsonio import to_api_json
from api.page_schemas import ReviewTaskPageOut
from api.problems import ProblemError, pydantic_errors
from api.routes.common import KEY_PATTERN, make_router, service_of
from api.routes.paging import Cursor, End, Limit, Person, Start, period, query_problem
from api.service import Service
from api.typed import InputsInvalid
from execution.review import ReviewTask, claim_task, decide_task, get_task, overrides_of, query_tasks
from registry import get_version, unit_of_work
from registry.pages import QueryError

router = make_router(400, 404, 409, tag="reviews")

Reviewer = Annotated[Principal, Depends(requires("reviewer"))]
ID_PATTERN = r"^[0-9A-Za-z]{1,64}$"
TaskId = Annotated[str, Path(pattern=ID_PATTERN, description="A review task id.")]


def task_out(task: ReviewTask) -> ReviewTaskOut:
    return ReviewTaskOut(**task.to_dict())


@router.get("/v1/reviews", response_model=ReviewTaskPageOut, summary="Review tasks, oldest first, a page at a time")
def reviews_list(
    request: Request, principal: Reviewer,
    queue: Annotated[str | None, Query(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")] = None,
    mine: Annotated[bool, Query(description="Only tasks assigned to or claimed by me, or unassigned.")] = False,
    state: Annotated[Literal["open", "claimed", "decided", "cancelled", "all"], Query(
        description="open: not answered yet (open or claimed)")] = "open",
    decision_id: Annotated[str | None, Query(pattern=ID_PATTERN)] = None,
    claimed_by: Annotated[Person, Query(description="Only tasks claimed by this reviewer.")] = None,
    key: Annotated[str | None, Query(pattern=KEY_PATTERN, max_length=100,
                                     description="Only tasks on this model's decisions.")] = None,
    start: Start = None, end: End = None,
    limit: Limit = 100, cursor: Cursor = None,
) -> ReviewTaskPageOut:
    """`start` and `end` bound when the task was opened."""
    try:
        since, until = period(start, end)
        with unit_of_work(service_of(request).engine, read_only=True) as session:
            page = query_tasks(session, queue=queue, person=principal.name, mine=mine,
                               state=None if state == "all" else state, decision_id=decision_id,
                               claimed_by=claimed_by, model_key=key, start=since, end=until, limit=limit,
                               cursor=cursor)
    except QueryError as exc:
        raise query_problem(exc) from None
    return ReviewTaskPageOut(tasks=[task_out(t) for t in page.items], next_cursor=page.next_cursor)


@router.get("/v1/reviews/{task_id}", response_model=ReviewTaskOut, summary="One review task")
def review_detail(request: Request, task_id: TaskId, _: Reviewer) -> ReviewTaskOut:
    with unit_of_work(service_of(request).engine, read_only=True) as session:
        return task_out(get_task(session, task_id))


@router.post("/v1/reviews/{task_id}/claim", response_model=ReviewTaskOut, summary="Claim a review task")
def review_claim(request: Request, task_id: TaskId, principal: Reviewer) -> ReviewTaskOut:
    with unit_of_work(service_of(request).engine) as session:
        return task_out(claim_task(session, task_id, by=principal.name))


@router.post("/v1/reviews/{task_id}/decide", response_model=ReviewTaskOut,
             summary="Answer a review task: approve, reject, or override the outcome (with a reason)")
def review_decide(request: Request, task_id: TaskId, body: ReviewAnswer, principal: Reviewer) -> ReviewTaskOut:
    service = service_of(request)
    outputs = body.outputs
    if body.outcome == "override" and isinstance(outputs, Mapping):
        outputs = checked_override(service, task_id, outputs)
    with unit_of_work(service.engine) as session:
        return task_out(decide_task(session, task_id, by=principal.name, outcome=body.outcome,
                                    reason=body.reason, outputs=outputs))


def checked_override(service: Service, task_id: str, outputs: Mapping[str, Any]) -> dict[str, Any]:
    """An override's outputs checked against the types and allowed values of the decisions of
    the version that decided (a 422 pointing at each misfit, `/outputs/...`), as JSON data."""
    with unit_of_work(service.engine, read_only=True) as session:
        task = get_task(session, task_id)
        version = get_version(session, task.model_key, task.version)
    try:
        service.cache.get(version).schemas.check_outputs(dict(outputs))
    except InputsInvalid as exc:
        raise ProblemError(422, "the override does not fit the types of the decision's outputs",
                           errors=pydantic_errors(exc.errors, prefix=("outputs",))) from None
    return {name: to_api_json(value) for name, value in outputs.items()}  # numbers read as decimals


@router.get("/v1/execution/decisions/{decision_id}/overrides", response_model=list[dict[str, Any]],
            summary="Outcomes reviewers overrode for a decision (who, when, why, before, after)")
def decision_overrides(request: Request, decision_id: Annotated[str, Path(pattern=ID_PATTERN)],
                       scope: DecisionReader) -> list[dict[str, Any]]:
    with unit_of_work(service_of(request).engine, read_only=True) as session:
        scope.check(session, decision_id, "decision", decision_id)
        return overrides_of(session, decision_id)
