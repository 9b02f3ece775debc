"""Workflow execution: bindings of a version, runs step by step, dead letters, stats and metrics.

`install(app)` adds these routes (and the review, batch and schedule routes) to the service and
registers the transactional outbox as a record hook: every decision record the service writes
gets its workflow runs in the same transaction (execution/outbox.py).

    GET  /v1/models/{key}/versions/{n}/bindings     readers        the version's bindings
    PUT  /v1/models/{key}/versions/{n}/bindings     author         attach/replace/remove (drafts only)
    GET  /v1/execution/runs                         decisions'     runs, by filter
    GET  /v1/execution/runs/{id}                    decisions'     one run with its context and attempts
    GET  /v1/execution/decisions/{id}/runs          decisions'     a decision's runs step by step
    GET  /v1/execution/dead-letters                 decisions'     dead-lettered runs, by filter
    POST /v1/execution/runs/{id}/retry|cancel       admin          one run
    POST /v1/execution/dead-letters/retry|cancel    admin          in bulk, by filter
    GET  /v1/execution/stats                        reviewer       counts, queue depth, latency
    GET  /metrics                                   any key        the same, Prometheus text format

Runs hold the decision's inputs, outputs and review data, so they are read by the rule of decision
records (api/decision_access.py): reviewers read every decision's, a caller its own.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import Depends, FastAPI, Path, Query, Request
from fastapi.responses import Response
from fastapi.routing import APIRoute

from api.auth import EVERYONE, READERS, Principal, requires
from api.decision_access import DecisionReader, DecisionScope, EveryDecisionReader
from api.execution_schemas import (
    AttemptOut,
    BindingsBody,
    BindingsOut,
    BulkOut,
    RunFilterBody,
    RunOut,
    RunState,
)
from api.problems import ProblemError, model_problem_items, problem_responses
from api.routes.common import KEY_PATTERN, ModelKey, VersionNumber, make_router, service_of
from execution.bindings_store import LoadedVersions, attach_bindings, get_bindings
from execution.config import ExecutionConfig
from execution.errors import BindingsInvalid, TargetRefused
from execution.operations import (
    RunFilter,
    RunView,
    attempts_of,
    cancel_run,
    cancel_runs,
    get_run,
    list_runs,
    retry_run,
    retry_runs,
    runs_of_decision,
)
from execution.outbox import Outbox
from execution.stats import execution_stats, prometheus_text
from registry import unit_of_work

router = make_router(400, 404, 409, tag="execution")

Reader = Annotated[Principal, Depends(requires(*READERS, "caller"))]
Author = Annotated[Principal, Depends(requires("author"))]
Operator = Annotated[Principal, Depends(requires("admin"))]
Anyone = Annotated[Principal, Depends(requires(*EVERYONE))]
ID_PATTERN = r"^[0-9A-Za-z]{1,64}$"
RunId = Annotated[str, Path(pattern=ID_PATTERN, description="A workflow run id.")]
DecisionId = Annotated[str, Path(pattern=ID_PATTERN, description="A decision record id.")]
NAME_QUERY = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$"


def config_of(request: Request) -> ExecutionConfig:
    config: ExecutionConfig = request.app.state.execution_config
    return config


def install(app: FastAPI) -> None:
    """Add the execution routes and the outbox record hook to the service."""
    from api.openapi import document_roles
    from api.routes import execution_jobs, reviews

    config = ExecutionConfig.from_env()
    app.state.execution_config = config
    outbox = Outbox(LoadedVersions(), config)
    app.state.service.record_hooks.append(outbox.runs_for)
    app.state.service.record_preparers.append(outbox)
    app.state.service.callback_refusal = lambda url: callback_refusal(config, url)
    for module_router in (router, reviews.router, execution_jobs.router):
        for route in module_router.routes:
            if isinstance(route, APIRoute):
                document_roles(route)
        app.include_router(module_router)


def callback_refusal(config: ExecutionConfig, url: str) -> str | None:
    """Why workflows could not call `url` back (its host is not allowed), or None."""
    try:
        parts = urlsplit(url)
        config.check_host(parts.hostname, parts.port, url)
    except (TargetRefused, ValueError) as exc:  # ValueError: a malformed port
        return str(exc)
    return None


def run_out(run: RunView, *, attempts: list[Any] | None = None, with_context: bool = False) -> RunOut:
    return RunOut(**run.to_dict(with_context=with_context),
                  attempts=[AttemptOut(**a.to_dict()) for a in attempts] if attempts is not None else None)


# --- bindings ----------------------------------------------------------------------------------


@router.get("/v1/models/{key}/versions/{number}/bindings", response_model=BindingsOut,
            summary="The bindings (outcome -> workflows) attached to a version")
def bindings_get(request: Request, key: ModelKey, number: VersionNumber, _: Reader) -> BindingsOut:
    with unit_of_work(service_of(request).engine, read_only=True) as session:
        return BindingsOut(**get_bindings(session, key, number).to_dict())


@router.put("/v1/models/{key}/versions/{number}/bindings", response_model=BindingsOut,
            responses=problem_responses(403, 422),
            summary="Attach, replace or (with null) remove a draft's bindings; validated against its model")
def bindings_put(request: Request, key: ModelKey, number: VersionNumber, body: BindingsBody,
                 principal: Author) -> BindingsOut:
    try:
        with unit_of_work(service_of(request).engine) as session:
            attached = attach_bindings(session, key, number, body.bindings, by=principal.name,
                                       config=config_of(request))
    except BindingsInvalid as exc:
        raise ProblemError(422, f"the bindings of {key} version {number} are invalid", slug="bindings-invalid",
                           title="Invalid bindings", errors=model_problem_items(exc.problems)) from None
    return BindingsOut(**attached.to_dict())


# --- runs --------------------------------------------------------------------------------------


def _filter(scope: DecisionScope, state: str | None, workflow: str | None, key: str | None, step: str | None,
            error: str | None, decision_id: str | None) -> RunFilter:
    return RunFilter(state=state, workflow=workflow, key=key, step=step, error=error, decision_id=decision_id,
                     decisions=scope.decisions())


WorkflowQ = Annotated[str | None, Query(pattern=NAME_QUERY, max_length=100)]
KeyQ = Annotated[str | None, Query(pattern=KEY_PATTERN, max_length=100)]
StepQ = Annotated[str | None, Query(pattern=NAME_QUERY, max_length=100, description="The step a run is at.")]
ErrorQ = Annotated[str | None, Query(max_length=1000, description="Text the last error contains.")]
DecisionQ = Annotated[str | None, Query(pattern=ID_PATTERN)]
LimitQ = Annotated[int, Query(ge=1, le=1000)]
BeforeQ = Annotated[str | None, Query(pattern=ID_PATTERN, description="Page: runs older than this run id.")]


@router.get("/v1/execution/runs", response_model=list[RunOut], summary="Workflow runs, newest first")
def runs_list(request: Request, scope: DecisionReader, state: RunState | None = None, workflow: WorkflowQ = None,
              key: KeyQ = None, step: StepQ = None, error: ErrorQ = None, decision_id: DecisionQ = None,
              limit: LimitQ = 100, before: BeforeQ = None) -> list[RunOut]:
    with unit_of_work(service_of(request).engine, read_only=True) as session:
        runs = list_runs(session, _filter(scope, state, workflow, key, step, error, decision_id), limit=limit,
                         before=before)
    return [run_out(r) for r in runs]


@router.get("/v1/execution/dead-letters", response_model=list[RunOut],
            summary="Dead-lettered runs (a step failed for good), newest first")
def dead_letters(request: Request, scope: DecisionReader, workflow: WorkflowQ = None, key: KeyQ = None,
                 step: StepQ = None, error: ErrorQ = None, decision_id: DecisionQ = None, limit: LimitQ = 100,
                 before: BeforeQ = None) -> list[RunOut]:
    with unit_of_work(service_of(request).engine, read_only=True) as session:
        runs = list_runs(session, _filter(scope, "dead", workflow, key, step, error, decision_id), limit=limit,
                         before=before)
    return [run_out(r) for r in runs]


@router.get("/v1/execution/runs/{run_id}", response_model=RunOut,
            summary="One run: its state, context and every attempt of its steps")
def run_detail(request: Request, run_id: RunId, scope: DecisionReader) -> RunOut:
    with unit_of_work(service_of(request).engine, read_only=True) as session:
        run = get_run(session, run_id)
        scope.check(session, run.decision_id, "workflow run", run_id)
        attempts = attempts_of(session, run_id)
    return run_out(run, attempts=attempts, with_context=True)


@router.get("/v1/execution/decisions/{decision_id}/runs", response_model=list[RunOut],
            summary="The workflow runs a decision started, step by step")
def decision_runs(request: Request, decision_id: DecisionId, scope: DecisionReader) -> list[RunOut]:
    with unit_of_work(service_of(request).engine, read_only=True) as session:
        scope.check(session, decision_id, "decision", decision_id)
        runs = runs_of_decision(session, decision_id)
    return [run_out(run, attempts=attempts) for run, attempts in runs]


@router.post("/v1/execution/runs/{run_id}/retry", response_model=RunOut,
             summary="Retry a dead-lettered run from its failed step (fresh attempts, same idempotency key)")
def run_retry(request: Request, run_id: RunId, principal: Operator) -> RunOut:
    with unit_of_work(service_of(request).engine) as session:
        return run_out(retry_run(session, run_id, by=principal.name))


@router.post("/v1/execution/runs/{run_id}/cancel", response_model=RunOut,
             summary="Cancel a run that has not finished (its open review tasks too)")
def run_cancel(request: Request, run_id: RunId, principal: Operator) -> RunOut:
    with unit_of_work(service_of(request).engine) as session:
        return run_out(cancel_run(session, run_id, by=principal.name))


def _bulk_filter(body: RunFilterBody) -> RunFilter:
    return RunFilter(state="dead", workflow=body.workflow, key=body.key, step=body.step, error=body.error,
                     decision_id=body.decision_id, since=body.since, until=body.until)


@router.post("/v1/execution/dead-letters/retry", response_model=BulkOut,
             summary="Retry every dead-lettered run matching the filter")
def dead_letters_retry(request: Request, body: RunFilterBody, principal: Operator) -> BulkOut:
    with unit_of_work(service_of(request).engine) as session:
        return BulkOut(count=retry_runs(session, _bulk_filter(body), by=principal.name))


@router.post("/v1/execution/dead-letters/cancel", response_model=BulkOut,
             summary="Cancel every dead-lettered run matching the filter")
def dead_letters_cancel(request: Request, body: RunFilterBody, principal: Operator) -> BulkOut:
    with unit_of_work(service_of(request).engine) as session:
        return BulkOut(count=cancel_runs(session, _bulk_filter(body), by=principal.name))


# --- monitoring --------------------------------------------------------------------------------


@router.get("/v1/execution/stats", response_model=dict[str, Any],
            summary="Per workflow and step: runs by state, attempts, latency; queue depth, oldest due step")
def stats(request: Request, _: EveryDecisionReader) -> dict[str, Any]:
    with unit_of_work(service_of(request).engine, read_only=True) as session:
        return execution_stats(session)


@router.get("/metrics", response_class=Response, summary="Execution metrics in the Prometheus text format",
            responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}},
                             "description": "Prometheus exposition format 0.0.4"}})
def metrics(request: Request, _: Anyone) -> Response:
    with unit_of_work(service_of(request).engine, read_only=True) as session:
        data = execution_stats(session)
    return Response(prometheus_text(data), media_type="text/plain; version=0.0.4; charset=utf-8")
