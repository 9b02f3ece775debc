"""Evaluating published decisions: one call, a JSON batch, a CSV batch; and describing one.

The version is chosen by `alias` or `version` (query, or the X-Decision-Alias /
X-Decision-Version headers); by default the production alias, else the latest published
version. Every evaluation writes a decision record before it answers (api/evaluation.py).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, File, Header, Request, UploadFile
from fastapi.responses import JSONResponse, Response

from api.auth import READERS, Principal, requires
from api.batches import BatchAnswer, batch_key, check_decisions, replayed
from api.batches import evaluate_batch as evaluate_batch_rows
from api.csv_rows import read_rows, write_rows
from api.evaluation import (
    Answer,
    Evaluation,
    Selector,
    evaluate_async,
    explain_call,
    load,
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
from api.service import Service
from registry import get_version, unit_of_work
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


def batch_response(answer: BatchAnswer) -> JSONResponse:
    headers = {"Idempotency-Replayed": "true"} if answer.replayed else None
    return JSONResponse(answer.body, headers=headers)


@router.post("/v1/decisions/{key}/evaluate-batch", response_model=BatchResponse,
             summary="Evaluate many rows of inputs against one version: each row decided (one record each, "
                     "written together) or refused with its own problem")
def evaluate_batch(request: Request, body: BatchRequest, chosen: Chosen, principal: Caller,
                   idempotency_key: IdempotencyKey = None) -> JSONResponse:
    """200 whenever the request can be used, with one result per row: its decision, or `error`, a
    problem pointing at the row's faults (`/rows/3/Credit Score`); `failed` counts those
    (api/batches.py). A retry with the same `Idempotency-Key` answers the first answer again."""
    service = service_of(request)
    if len(body.rows) > service.settings.max_batch_rows:
        raise ProblemError(422, f"at most {service.settings.max_batch_rows} rows per batch",
                           errors=[{"pointer": "/rows", "message": f"{len(body.rows)} rows"}])
    key = batch_key(idempotency_key, "evaluate-batch", chosen.ref, {"rows": body.rows, "decisions": body.decisions})
    earlier = replayed(service, principal, key)
    if earlier is not None:
        return batch_response(earlier)
    resolved, loaded = resolve_version(service, chosen)
    check_decisions(loaded, body.decisions)
    rows = [Evaluation(row, body.decisions) for row in body.rows]
    return batch_response(evaluate_batch_rows(service, resolved, loaded, rows, principal, key=key))


@router.post("/v1/decisions/{key}/evaluate-csv", response_model=BatchResponse,
             summary="Evaluate an uploaded CSV file of inputs, row by row; answers CSV (Accept: text/csv) or JSON",
             responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}},
                              "description": "One result per row"}, **problem_responses(415)})
def evaluate_csv(
    request: Request,
    chosen: Chosen,
    principal: Caller,
    file: Annotated[UploadFile, File(description="CSV: a header row naming the inputs, then one row per call.")],
    accept: Annotated[str | None, Header(description="text/csv for a CSV answer; JSON otherwise.")] = None,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """As evaluate-batch: a row whose cells cannot be read, or whose inputs do not fit, is refused
    on its own and the other rows are decided; 422 only for the file itself (no header, a column
    that is not an input, no rows). A retry with the same `Idempotency-Key` and file answers the
    first answer again."""
    service = service_of(request)
    data = file.file.read()
    key = batch_key(idempotency_key, "evaluate-csv", chosen.ref, data)
    wants_csv = accept is not None and "text/csv" in accept.lower()
    answer = replayed(service, principal, key)
    if answer is not None:
        return csv_answer(service, data, answer) if wants_csv else batch_response(answer)
    resolved, loaded = resolve_version(service, chosen)
    header, rows, refused = read_rows(data, loaded.model, max_rows=service.settings.max_batch_rows)
    answer = evaluate_batch_rows(service, resolved, loaded, [Evaluation(row) for row in rows], principal,
                                 key=key, refused=refused)
    if wants_csv and not answer.replayed:
        text = write_rows(header, rows, answer.body["results"], list(loaded.model.decisions))
        return Response(text, media_type="text/csv; charset=utf-8",
                        headers={"X-Decision-Version": str(resolved.number)})
    return csv_answer(service, data, answer) if wants_csv else batch_response(answer)


def csv_answer(service: Service, data: bytes, answer: BatchAnswer) -> Response:
    """A stored answer as CSV: the input columns read from the file by the version that answered."""
    body = answer.body
    with unit_of_work(service.engine, read_only=True) as session:
        version = get_version(session, body["key"], body["version"])
    model = load(service, Resolved(version, None, "number")).model
    header, rows, _ = read_rows(data, model, max_rows=service.settings.max_batch_rows)
    text = write_rows(header, rows, body["results"], list(model.decisions))
    return Response(text, media_type="text/csv; charset=utf-8",
                    headers={"X-Decision-Version": str(body["version"]), "Idempotency-Replayed": "true"})
