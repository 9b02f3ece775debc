"""Evaluating published decisions: one call, a JSON batch, a CSV batch; and describing one.

The version is chosen by `alias` or `version` (query, or the X-Decision-Alias /
X-Decision-Version headers); by default the production alias, else the latest published
version. Every evaluation writes a decision record before it answers (api/evaluation.py).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, File, Header, Request, UploadFile
from fastapi.responses import JSONResponse, Response

from api.auth import READERS, Principal, requires
from api.csv_rows import read_rows, write_rows
from api.evaluation import (
    Answer,
    Evaluation,
    Selector,
    evaluate_async,
    evaluate_rows,
    explain_call,
    resolve_version,
)
from api.problems import ProblemError, problem_responses
from api.routes.common import make_router, selector, service_of
from api.schemas import (
    BatchRequest,
    BatchResponse,
    DecisionDescription,
    DescribedElement,
    EvaluateRequest,
    EvaluateResponse,
    ExplainRequest,
    ExplainResponse,
)
from registry.resolve import Resolved

router = make_router(400, 404, 406, 409, tag="decisions")

Caller = Annotated[Principal, Depends(requires("caller"))]
Describer = Annotated[Principal, Depends(requires("caller", *READERS))]
Explainer = Annotated[Principal, Depends(requires("caller", "author", "approver", "reviewer"))]
Chosen = Annotated[Selector, Depends(selector)]
IdempotencyKey = Annotated[str | None, Header(
    alias="Idempotency-Key", max_length=200,
    description="Repeat a call safely: the same key with the same body answers the first answer again "
                "and records nothing new; with another body it is refused (409).")]


def answer_response(answer: Answer) -> JSONResponse:
    headers = {"Idempotency-Replayed": "true"} if answer.replayed else None
    return JSONResponse(answer.body, headers=headers)


@router.get("/v1/decisions/{key}", response_model=DecisionDescription,
            summary="The version that would answer, with its inputs, decisions and their JSON Schemas")
def describe(request: Request, chosen: Chosen, _: Describer) -> DecisionDescription:
    resolved, loaded = resolve_version(service_of(request), chosen)
    model, schemas = loaded.model, loaded.schemas
    descriptions = {d.name: d.description for d in model.definitions.decisions}
    return DecisionDescription(
        key=resolved.key, version=resolved.number, hash=resolved.version.content_hash, alias=resolved.alias,
        via=resolved.via, name=model.name,
        inputs=[DescribedElement(name=n, type_ref=s.type_ref, description=s.description) for n, s in model.inputs.items()],
        decisions=[DescribedElement(name=n, type_ref=d.type_ref, description=descriptions.get(n))
                   for n, d in model.decisions.items()],
        input_schema=schemas.inputs.model_json_schema(), output_schema=schemas.outputs.model_json_schema())


@router.post("/v1/decisions/{key}/evaluate", response_model=EvaluateResponse,
             summary="Evaluate a published decision model (writes a decision record first)")
async def evaluate_decision(request: Request, body: EvaluateRequest, chosen: Chosen, principal: Caller,
                            idempotency_key: IdempotencyKey = None) -> JSONResponse:
    call = Evaluation(body.inputs, body.decisions, body.trace, body.callback_url)
    answer = await evaluate_async(service_of(request), chosen, call, principal, idempotency_key=idempotency_key)
    return answer_response(answer)


@router.post("/v1/decisions/{key}/explain", response_model=ExplainResponse, responses=problem_responses(422),
             summary="Why each rule of a decision table fired or did not for these inputs (nothing is recorded)")
def explain_decision(request: Request, body: ExplainRequest, chosen: Chosen, _: Explainer) -> ExplainResponse:
    """Each rule (or the one named by number or id) with its cells: the column, the cell's text,
    the value the column saw, and whether the cell is satisfied; `failed` lists the cells that
    kept the rule from matching. Chosen like evaluate (alias, version, the split's arm)."""
    call = Evaluation(body.inputs)
    return ExplainResponse(**explain_call(service_of(request), chosen, call, body.decision, body.rule))


@router.post("/v1/decisions/{key}/evaluate-batch", response_model=BatchResponse,
             summary="Evaluate many rows of inputs against one version (one record per row, written together)")
def evaluate_batch(request: Request, body: BatchRequest, chosen: Chosen, principal: Caller) -> JSONResponse:
    service = service_of(request)
    if len(body.rows) > service.settings.max_batch_rows:
        raise ProblemError(422, f"at most {service.settings.max_batch_rows} rows per batch",
                           errors=[{"pointer": "/rows", "message": f"{len(body.rows)} rows"}])
    resolved, loaded = resolve_version(service, chosen)
    rows = [Evaluation(row, body.decisions) for row in body.rows]
    return JSONResponse(_batch_body(resolved, evaluate_rows(service, resolved, loaded, rows, principal)))


def _batch_body(resolved: Resolved, results: list[dict[str, Any]]) -> dict[str, Any]:
    return {"key": resolved.key, "version": resolved.number, "hash": resolved.version.content_hash,
            "alias": resolved.alias, "results": results}


@router.post("/v1/decisions/{key}/evaluate-csv", response_model=BatchResponse,
             summary="Evaluate an uploaded CSV file of inputs; answers CSV (Accept: text/csv) or JSON",
             responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}},
                              "description": "One result per row"}, **problem_responses(415)})
def evaluate_csv(
    request: Request,
    chosen: Chosen,
    principal: Caller,
    file: Annotated[UploadFile, File(description="CSV: a header row naming the inputs, then one row per call.")],
    accept: Annotated[str | None, Header(description="text/csv for a CSV answer; JSON otherwise.")] = None,
) -> Response:
    service = service_of(request)
    resolved, loaded = resolve_version(service, chosen)
    header, rows = read_rows(file.file.read(), loaded.model, max_rows=service.settings.max_batch_rows)
    results = evaluate_rows(service, resolved, loaded, [Evaluation(row) for row in rows], principal)
    if accept is not None and "text/csv" in accept.lower():
        text = write_rows(header, rows, results, list(loaded.model.decisions))
        return Response(text, media_type="text/csv; charset=utf-8",
                        headers={"X-Decision-Version": str(resolved.number)})
    return JSONResponse(_batch_body(resolved, results))
