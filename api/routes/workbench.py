"""The studio's workbench: a model being edited, checked as a whole without storing anything.

`POST /v1/workbench/analyse` takes the model's text (as the editor holds it), its test cases
and, optionally, inputs to try, and answers in one call what the studio's side panel shows:

    problems       `check`: every problem found loading and compiling, located (element, rule, column)
    findings       verification: gaps, overlaps, rules that never fire, subsumed rules
    tests          each test case's result, and per table the rules the cases fired (coverage)
    input_schema   the JSON schema of the model's inputs (the try-it form is built from it)
    evaluation     with `inputs`: the outputs and the rules that fired
    explanation    with `inputs`, `decision` and `rule`: why that rule did (not) match

Nothing is stored and no decision record is written: a draft is not a published decision.
A model that cannot be read answers 200 with its located problems and `loaded: false`, so
the editor can show them beside the model instead of a bare error.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import Depends, Request
from fastapi.responses import JSONResponse, PlainTextResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

import decisions
from api.auth import READERS, Principal, requires
from api.jsonio import to_api_json
from api.problems import ProblemError, problem_body, problem_responses
from api.routes.common import ModelKey, VersionNumber, make_router, service_of, version_out
from api.schemas import VersionOut
from api.typed import InputsInvalid, ModelSchemas
from decisions.errors import DecisionsError, ModelError
from registry import create_draft, get_version, list_versions, unit_of_work
from registry.content import load_model
from registry.diff import diff as registry_diff
from registry.keys import same_person
from registry.rows import version_row

router = make_router(400, 404, 409, 422, tag="workbench")
Reader = Annotated[Principal, Depends(requires(*READERS))]

MAX_MODEL_CHARS = 5_000_000


class AnalyseRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    content: str = Field(min_length=1, max_length=MAX_MODEL_CHARS, description="The model's text (DMN XML or YAML).")
    format: Literal["dmn", "yaml"] = "dmn"
    test_cases: str | None = Field(default=None, max_length=MAX_MODEL_CHARS,
                                   description="YAML list of {inputs, expect, fired} test cases.")
    inputs: dict[str, Any] | None = Field(default=None, description="Inputs to try the model on.")
    decision: str | None = Field(default=None, max_length=200, description="The table to explain a rule of.")
    rule: int | None = Field(default=None, ge=1, le=1_000_000, description="The rule to explain (1-based).")


class AnalyseResponse(BaseModel):
    loaded: bool
    problems: list[dict[str, Any]]
    findings: list[dict[str, Any]]
    tests: dict[str, Any]
    input_schema: dict[str, Any] | None
    evaluation: dict[str, Any] | None
    explanation: list[dict[str, Any]] | None


@router.post("/v1/workbench/analyse", response_model=AnalyseResponse, operation_id="analyseModel",
             summary="Check, verify, test and try a model being edited, without storing it")
async def analyse(body: AnalyseRequest, _: Reader) -> AnalyseResponse:
    return await run_in_threadpool(analyse_model, body)


def analyse_model(body: AnalyseRequest) -> AnalyseResponse:
    try:
        model = load_model(body.content.encode("utf-8"), body.format)
    except ModelError as err:
        problems = [p.to_dict() for p in err.problems] or [{"severity": "error", "code": "error",
                                                             "message": str(err), "location": {}}]
        return AnalyseResponse(loaded=False, problems=problems, findings=[], tests=_no_tests(body),
                               input_schema=None, evaluation=None, explanation=None)
    except DecisionsError as err:
        raise ProblemError(422, f"the model cannot be read: {err}") from None
    from decisions.testing import CaseFileError, coverage, parse_cases, run_model

    problems = [p.to_dict() for p in getattr(model, "problems", None) or []]
    findings = [f.to_json() for f in decisions.verify(model)]
    tests: dict[str, Any] = _no_tests(body)
    if body.test_cases and body.test_cases.strip():
        try:
            run = run_model(model, parse_cases(body.test_cases, source="test cases"))
        except CaseFileError as err:
            tests["error"] = str(err)
        else:
            tests["error"] = run.error
            tests["results"] = [{"name": r.case.title, "ok": r.ok, "fired": r.fired,
                                 "failures": [str(f) for f in r.failures]} for r in run.results]
            tests["coverage"] = [{"decision": t.decision, "total": t.total, "covered": t.covered,
                                  "fired": sorted(t.fired), "missed": [n for n, _ in t.missed]}
                                 for t in (run.tables or coverage(model, run.results))]
    schemas = ModelSchemas(model, "Workbench")
    evaluation = explanation = None
    if body.inputs is not None:
        evaluation, explanation = _try(model, schemas, body)
    return AnalyseResponse(loaded=True, problems=problems, findings=findings, tests=tests,
                           input_schema=schemas.inputs.model_json_schema(), evaluation=evaluation,
                           explanation=explanation)


def _no_tests(body: AnalyseRequest) -> dict[str, Any]:
    return {"given": bool(body.test_cases and body.test_cases.strip()), "error": None, "results": [], "coverage": []}


def _try(model: Any, schemas: ModelSchemas, body: AnalyseRequest) -> tuple[dict[str, Any], list[dict[str, Any]] | None]:
    from decisions.explain import explain

    try:
        inputs = schemas.check_inputs(body.inputs)
    except InputsInvalid as exc:
        return {"errors": [{"input": ".".join(str(p) for p in e.get("loc", ())), "message": e.get("msg", "")}
                           for e in exc.errors]}, None
    result = model.evaluate(inputs)
    evaluation = {"outputs": to_api_json(result.outputs),
                  "fired": {name: list(rules) for name, rules in result.fired.items()},
                  "problems": [p.to_dict() for p in result.problems]}
    if body.decision is None:
        return evaluation, None
    try:
        return evaluation, [e.to_json() for e in explain(model, inputs, body.decision, body.rule)]
    except DecisionsError as err:
        evaluation["explain_error"] = str(err)
        return evaluation, None


# --- a drawing for a model that has none ---------------------------------------------------------


class LayoutRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    content: str = Field(min_length=1, max_length=MAX_MODEL_CHARS, description="A DMN model (XML).")


class LayoutResponse(BaseModel):
    content: str = Field(description="The model written again with a drawing (DMNDI) for every DRG element "
                                     "that had no shape; ids, the DMN version and extensions kept.")


@router.post("/v1/workbench/layout", response_model=LayoutResponse, operation_id="layoutModel",
             summary="Give a DMN model without a drawing one, so that a modeler shows its DRD")
async def layout(body: LayoutRequest, _: Reader) -> LayoutResponse:
    return await run_in_threadpool(_laid_out, body.content)


def _laid_out(content: str) -> LayoutResponse:
    from decisions.dmn.writer import write_dmn

    definitions = decisions.read_definitions(content.encode("utf-8"), format="dmn")  # ModelError -> 422
    return LayoutResponse(content=write_dmn(definitions))


# --- saving an edit as a new draft ---------------------------------------------------------------


Author = Annotated[Principal, Depends(requires("author"))]


class DraftRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    content: str = Field(min_length=1, max_length=MAX_MODEL_CHARS, description="The edited model (DMN XML or YAML).")
    format: Literal["dmn", "yaml"] = "dmn"
    based_on: int = Field(ge=1, le=999_999_999, description="The version the edit started from.")
    test_cases: str | None = Field(default=None, max_length=MAX_MODEL_CHARS,
                                   description="Test cases (YAML); default: those of `based_on`.")
    comment: str | None = Field(default=None, max_length=5000)


@router.post("/v1/workbench/{key}/drafts", response_model=VersionOut, status_code=201, operation_id="saveDraft",
             summary="Save an edit as a new draft; 409 with the diff when someone else saved a newer draft "
                     "since the version it started from",
             responses=problem_responses(409))
def save_draft(request: Request, key: ModelKey, body: DraftRequest, principal: Author) -> Any:
    data = body.content.encode("utf-8")
    decisions.read_definitions(data, format=body.format)  # unreadable: ModelError -> 422 with locations
    with unit_of_work(service_of(request).engine) as session:
        base = get_version(session, key, body.based_on)
        newer = [v for v in list_versions(session, key, state="draft")
                 if v.number > base.number and not same_person(v.author, principal.name)]
        if newer:
            other = newer[-1]
            changes = registry_diff(session, key, base.number, other.number)
            detail = (f"{other.author} saved draft {other.number} of {key} after version {base.number}, which this "
                      f"edit started from: open version {other.number} and apply the edit there")
            body_ = problem_body(409, detail, instance=str(request.url.path), slug="conflicting-draft")
            body_.update(conflicting_version=other.number, conflicting_author=other.author, based_on=base.number,
                         diff={"summary": changes.summary(), **changes.to_dict()})
            return JSONResponse(body_, status_code=409, media_type="application/problem+json")
        cases = body.test_cases if body.test_cases is not None else version_row(session, key, base.number).test_cases
        version = create_draft(session, key, data, author=principal.name, format=body.format,
                               comment=body.comment, test_cases=cases)
    return version_out(version)


@router.get("/v1/models/{key}/versions/{number}/test-cases", response_class=PlainTextResponse,
            operation_id="getVersionTestCases", summary="A version's test cases (YAML; empty when it has none)",
            responses={200: {"content": {"application/yaml": {"schema": {"type": "string"}}}}})
def version_test_cases(request: Request, key: ModelKey, number: VersionNumber, _: Reader) -> PlainTextResponse:
    with unit_of_work(service_of(request).engine, read_only=True) as session:
        cases = version_row(session, key, number).test_cases
    return PlainTextResponse(cases or "", media_type="application/yaml")
