"""Models and their versions: upload drafts, read them, and move them through their lifecycle.

    draft --submit--> submitted --approve--> approved --publish--> published --retire--> retired
                               \\--reject--> rejected <--reject--/

Uploads are multipart (`file`, and optionally `comment`, `test_cases`, `format`). A file that
cannot be read as a model is refused with its located problems (422); one that reads but does
not compile may still be a draft, and the publish gates will stop it.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Depends, File, Form, Query, Request, Response, UploadFile

import decisions
from api.auth import READERS, Principal, requires
from api.page_schemas import ModelPageOut, VersionPageOut
from api.problems import ProblemError, problem_responses
from api.routes.common import (
    ALIAS_PATTERN,
    ModelKey,
    VersionNumber,
    alias_out,
    make_router,
    published_changed,
    service_of,
    transition_out,
    version_out,
)
from api.routes.paging import Cursor, End, KeyPrefix, Limit, Person, Start, period, query_problem
from api.schemas import (
    CommentBody,
    GateFailureOut,
    GateReportOut,
    ModelDetail,
    ModelOut,
    TransitionOut,
    VersionOut,
    utc,
)
from registry import (
    approve,
    check_gates,
    create_draft,
    get_model,
    get_version,
    history,
    list_aliases,
    list_versions,
    reject,
    retire,
    unit_of_work,
    update_draft,
)
from registry.content import Format, as_bytes, detect_format
from registry.listing import query_models, query_versions
from registry.models_store import publish_version as publish_checked
from registry.models_store import submit_version as submit_checked
from registry.pages import QueryError
from registry.views import ModelInfo

router = make_router(400, 404, 409, 415, tag="models")

Reader = Annotated[Principal, Depends(requires(*READERS))]
Author = Annotated[Principal, Depends(requires("author"))]
Approver = Annotated[Principal, Depends(requires("approver"))]

MEDIA_TYPES = {"dmn": "application/xml", "yaml": "application/yaml",
               "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
# Formats the decision engine can read (an xlsx workbook is stored as its bytes).
READABLE_FORMATS = ("dmn", "yaml", "xlsx")


# --- reading -----------------------------------------------------------------------------------


State = Annotated[Literal["draft", "submitted", "approved", "published", "retired", "rejected"] | None,
                  Query(description="Only versions in this state.")]


@router.get("/v1/models", response_model=ModelPageOut, summary="Registered models by key, a page at a time")
def models_list(
    request: Request, _: Reader, key_prefix: KeyPrefix = None,
    created_by: Annotated[Person, Query(description="Only models registered by this person.")] = None,
    start: Start = None, end: End = None,
    alias: Annotated[str | None, Query(pattern=ALIAS_PATTERN, max_length=100,
                                       description="Only models that have this alias (e.g. production).")] = None,
    state: Annotated[State, Query(description="Only models with a version in this state "
                                              "(submitted: waiting for an approver).")] = None,
    limit: Limit = 100, cursor: Cursor = None,
) -> ModelPageOut:
    """`start` and `end` bound when the model was registered."""
    try:
        since, until = period(start, end)
        with unit_of_work(service_of(request).engine, read_only=True) as session:
            page = query_models(session, key_prefix=key_prefix, created_by=created_by, start=since, end=until,
                                alias=alias, state=state, limit=limit, cursor=cursor)
    except QueryError as exc:
        raise query_problem(exc) from None
    return ModelPageOut(models=[model_out(m) for m in page.items], next_cursor=page.next_cursor)


@router.get("/v1/versions", response_model=VersionPageOut,
            summary="Every model's versions, oldest first, a page at a time (e.g. the approvers' queue: "
                    "state=submitted)")
def all_versions_list(
    request: Request, _: Reader, state: State = None, key_prefix: KeyPrefix = None,
    created_by: Annotated[Person, Query(description="Only versions uploaded by this author.")] = None,
    start: Start = None, end: End = None, limit: Limit = 100, cursor: Cursor = None,
) -> VersionPageOut:
    """`start` and `end` bound when the version was uploaded."""
    return _versions_page(request, None, state, key_prefix, created_by, start, end, limit, cursor)


def _versions_page(request: Request, key: str | None, state: str | None, key_prefix: str | None,
                   author: str | None, start: str | None, end: str | None, limit: int,
                   cursor: str | None) -> VersionPageOut:
    try:
        since, until = period(start, end)
        with unit_of_work(service_of(request).engine, read_only=True) as session:
            if key is not None:
                get_model(session, key)  # an unknown key is a 404, not an empty list
            page = query_versions(session, key=key, key_prefix=key_prefix, state=state, author=author,
                                  start=since, end=until, limit=limit, cursor=cursor)
    except QueryError as exc:
        raise query_problem(exc) from None
    return VersionPageOut(versions=[version_out(v) for v in page.items], next_cursor=page.next_cursor)


def model_out(model: ModelInfo) -> ModelOut:
    return ModelOut(key=model.key, created_at=utc(model.created_at),  # type: ignore[arg-type]
                    created_by=model.created_by, latest_number=model.latest_number)


@router.get("/v1/models/{key}", response_model=ModelDetail, summary="A model with its versions and aliases")
def model_detail(request: Request, key: ModelKey, _: Reader) -> ModelDetail:
    with unit_of_work(service_of(request).engine, read_only=True) as session:
        model = get_model(session, key)
        versions = list_versions(session, key)
        aliases = list_aliases(session, key)
    return ModelDetail(key=model.key, created_at=utc(model.created_at),  # type: ignore[arg-type]
                       created_by=model.created_by, latest_number=model.latest_number,
                       versions=[version_out(v) for v in versions], aliases=[alias_out(a) for a in aliases])


@router.get("/v1/models/{key}/versions", response_model=VersionPageOut,
            summary="A model's versions by number, a page at a time")
def versions_list(
    request: Request, key: ModelKey, _: Reader, state: State = None,
    created_by: Annotated[Person, Query(description="Only versions uploaded by this author.")] = None,
    start: Start = None, end: End = None, limit: Limit = 100, cursor: Cursor = None,
) -> VersionPageOut:
    """`start` and `end` bound when the version was uploaded."""
    return _versions_page(request, key, state, None, created_by, start, end, limit, cursor)


@router.get("/v1/models/{key}/versions/{number}", response_model=VersionOut, summary="One version")
def version_detail(request: Request, key: ModelKey, number: VersionNumber, _: Reader) -> VersionOut:
    with unit_of_work(service_of(request).engine, read_only=True) as session:
        return version_out(get_version(session, key, number))


@router.get("/v1/models/{key}/versions/{number}/content", response_class=Response,
            summary="A version's model file, as uploaded",
            responses={200: {"content": {media: {"schema": {"type": "string"}} for media in MEDIA_TYPES.values()},
                             "description": "The model file"}})
def version_content(request: Request, key: ModelKey, number: VersionNumber, _: Reader) -> Response:
    with unit_of_work(service_of(request).engine, read_only=True) as session:
        version = get_version(session, key, number)
    return Response(version.content, media_type=MEDIA_TYPES.get(version.format, "application/octet-stream"))


@router.get("/v1/models/{key}/versions/{number}/history", response_model=list[TransitionOut],
            summary="Every lifecycle move of a version: who, when, from, to, why")
def version_history(request: Request, key: ModelKey, number: VersionNumber, _: Reader) -> list[TransitionOut]:
    with unit_of_work(service_of(request).engine, read_only=True) as session:
        return [transition_out(t) for t in history(session, key, number)]


@router.get("/v1/models/{key}/versions/{number}/gates", response_model=GateReportOut,
            summary="Run the publish gates without publishing")
def version_gates(request: Request, key: ModelKey, number: VersionNumber, _: Reader) -> GateReportOut:
    with unit_of_work(service_of(request).engine, read_only=True) as session:
        report = check_gates(session, key, number)
    return GateReportOut(ok=report.ok, passed=report.passed, skipped=report.skipped,
                         failures=[GateFailureOut(gate=f.gate, reasons=f.reasons) for f in report.failures])


# --- uploading ---------------------------------------------------------------------------------


def _read_upload(upload: UploadFile, fmt: str | None, what: str = "file") -> tuple[bytes, Format]:
    """The uploaded model's bytes and format, refused unless it can be read as a model."""
    data = upload.file.read()
    format_: Format = fmt if fmt in ("dmn", "yaml", "xlsx") else detect_format(data, upload.filename)  # type: ignore[assignment]
    if format_ not in READABLE_FORMATS:
        raise ProblemError(415, f"{format_} models are not supported: upload DMN (XML), YAML or xlsx",
                           slug="unsupported-model-format",
                           errors=[{"pointer": f"/{what}", "message": f"{format_} is not supported yet"}])
    data = as_bytes(data, format_)  # empty or non-UTF-8 content: registry.Invalid -> 400
    decisions.read_definitions(data, format=format_)  # unreadable: ModelError -> 422 with locations
    return data, format_


def _read_text(upload: UploadFile | None, what: str) -> str | None:
    if upload is None:
        return None
    try:
        return upload.file.read().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ProblemError(400, f"the {what} are not UTF-8 text",
                           errors=[{"pointer": f"/{what}", "message": "not UTF-8 text"}]) from None


FormatField = Annotated[Literal["dmn", "yaml", "xlsx"] | None,
                        Form(description="The file's format; by default told by its name and content.")]


@router.post("/v1/models/{key}/versions", response_model=VersionOut, status_code=201,
             summary="Upload a new draft version (registers the model on its first version)")
def upload_version(
    request: Request,
    key: ModelKey,
    principal: Author,
    file: Annotated[UploadFile, File(description="The model: DMN XML (.dmn), YAML (.yaml) or an Excel workbook (.xlsx).")],
    comment: Annotated[str | None, Form(max_length=5000)] = None,
    test_cases: Annotated[UploadFile | None, File(description="YAML list of {inputs, expect} test cases.")] = None,
    format: FormatField = None,
) -> VersionOut:
    data, format_ = _read_upload(file, format)
    cases = _read_text(test_cases, "test_cases")
    with unit_of_work(service_of(request).engine) as session:
        version = create_draft(session, key, data, author=principal.name, format=format_, filename=file.filename,
                               comment=comment, test_cases=cases)
    return version_out(version)


@router.put("/v1/models/{key}/versions/{number}", response_model=VersionOut,
            summary="Replace a draft's content, test cases or comment (its author only)")
def replace_draft(
    request: Request,
    key: ModelKey,
    number: VersionNumber,
    principal: Author,
    file: Annotated[UploadFile | None, File(description="The new model file.")] = None,
    comment: Annotated[str | None, Form(max_length=5000)] = None,
    test_cases: Annotated[UploadFile | None, File(description="New test cases (YAML).")] = None,
    format: FormatField = None,
) -> VersionOut:
    changes: dict[str, object] = {}
    if file is not None:
        changes["content"], changes["format"] = _read_upload(file, format)
    if comment is not None:
        changes["comment"] = comment
    if test_cases is not None:
        changes["test_cases"] = _read_text(test_cases, "test_cases")
    with unit_of_work(service_of(request).engine) as session:
        version = update_draft(session, key, number, by=principal.name, **changes)  # type: ignore[arg-type]
    return version_out(version)


# --- lifecycle ---------------------------------------------------------------------------------


def _comment(body: CommentBody | None) -> str | None:
    return body.comment if body is not None else None


@router.post("/v1/models/{key}/versions/{number}/submit", response_model=VersionOut,
             summary="Submit a draft for review; its content is immutable from now on (its author only)")
def submit_version(request: Request, key: ModelKey, number: VersionNumber, principal: Author,
                   body: CommentBody | None = None) -> VersionOut:
    # The gates run before the write transaction (registry/models_store.py).
    return version_out(submit_checked(service_of(request).engine, key, number, by=principal.name,
                                      comment=_comment(body)))


@router.post("/v1/models/{key}/versions/{number}/approve", response_model=VersionOut,
             summary="Approve a submitted version (not its author: maker-checker)")
def approve_version(request: Request, key: ModelKey, number: VersionNumber, principal: Approver,
                    body: CommentBody | None = None) -> VersionOut:
    with unit_of_work(service_of(request).engine) as session:
        return version_out(approve(session, key, number, by=principal.name, comment=_comment(body)))


@router.post("/v1/models/{key}/versions/{number}/reject", response_model=VersionOut,
             summary="Turn down a submitted or approved version")
def reject_version(request: Request, key: ModelKey, number: VersionNumber, principal: Approver,
                   body: CommentBody | None = None) -> VersionOut:
    with unit_of_work(service_of(request).engine) as session:
        return version_out(reject(session, key, number, by=principal.name, comment=_comment(body)))


@router.post("/v1/models/{key}/versions/{number}/publish", response_model=VersionOut,
             summary="Publish an approved version after its gates pass",
             responses=problem_responses(422))
def publish_version(request: Request, key: ModelKey, number: VersionNumber, principal: Approver,
                    body: CommentBody | None = None) -> VersionOut:
    version = publish_checked(service_of(request).engine, key, number, by=principal.name, comment=_comment(body))
    published_changed(request)
    return version_out(version)


@router.post("/v1/models/{key}/versions/{number}/retire", response_model=VersionOut,
             summary="Retire a published version that no alias points at")
def retire_version(request: Request, key: ModelKey, number: VersionNumber, principal: Approver,
                   body: CommentBody | None = None) -> VersionOut:
    with unit_of_work(service_of(request).engine) as session:
        version = retire(session, key, number, by=principal.name, comment=_comment(body))
    published_changed(request)
    return version_out(version)
