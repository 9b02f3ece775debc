"""Errors as RFC 9457 problem details (`application/problem+json`).

Every error the service answers has the same shape: `type`, `title`, `status`, `detail`,
`instance`, and for input errors `errors`, one entry per fault: `{"pointer": "/inputs/Age",
"message": ...}` for the request body (a JSON pointer, RFC 6901), `{"parameter": "version",
"in": "query", ...}` for parameters, and `{"location": {...}, ...}` for faults inside a model.

Handlers here translate the typed errors of the layers below (registry, decision core) into
problems, so route handlers raise and never build error responses themselves. The catch-all
handler answers 500 without a traceback and counts the failure on `app.state`, so tests can
prove that bad input never ends up there.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.exc import DisconnectionError, OperationalError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from decisions.errors import DecisionsError, ModelError, Problem
from registry.errors import (
    Conflict,
    Forbidden,
    GateFailed,
    Invalid,
    InvalidTransition,
    NotFound,
    RegistryError,
)

PROBLEM_MEDIA_TYPE = "application/problem+json"
TYPE_BASE = "https://decisionary.dev/problems/"

log = logging.getLogger("decisionary.api")

_TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    409: "Conflict",
    413: "Content too large",
    415: "Unsupported media type",
    422: "Unprocessable content",
    500: "Internal server error",
    503: "Service unavailable",
}

_SLUGS = {
    400: "bad-request", 401: "unauthorized", 403: "forbidden", 404: "not-found", 405: "method-not-allowed",
    406: "not-acceptable", 409: "conflict", 413: "too-large", 415: "unsupported-media-type",
    422: "invalid-input", 500: "internal-error", 503: "unavailable",
}


# --- the document ------------------------------------------------------------------------------


class ProblemItem(BaseModel):
    """One fault: where (a JSON pointer into the body, a parameter, or a place in a model) and what."""

    model_config = ConfigDict(extra="allow")

    message: str
    pointer: str | None = None
    parameter: str | None = None
    in_: str | None = Field(default=None, alias="in")
    location: dict[str, Any] | None = None


class ProblemDetail(BaseModel):
    """RFC 9457 problem details."""

    model_config = ConfigDict(extra="allow")

    type: str
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    errors: list[ProblemItem] | None = None
    errors_left_out: int | None = Field(default=None, description="Faults found beyond those listed in `errors`.")


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` entries for problem answers with these statuses."""
    return {
        status: {
            "description": _TITLES.get(status, "Error"),
            "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/ProblemDetail"}}},
        }
        for status in statuses
    }


class ProblemError(Exception):
    """Raised anywhere in the API layer to answer with a problem."""

    def __init__(self, status: int, detail: str, *, slug: str | None = None, title: str | None = None,
                 errors: Sequence[Mapping[str, Any]] | None = None,
                 headers: Mapping[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.slug = slug or _SLUGS.get(status, "error")
        self.title = title or _TITLES.get(status, "Error")
        self.errors = [dict(e) for e in errors] if errors else None
        self.headers = dict(headers) if headers else None


MAX_LISTED_ERRORS = 100  # faults listed in one problem; the rest are counted in `errors_left_out`
MAX_TEXT = 1000  # characters of any one text of a problem (detail, a message, a pointer)


def problem_body(status: int, detail: str | None, *, instance: str | None, slug: str | None = None,
                 title: str | None = None, errors: Iterable[Mapping[str, Any]] | None = None) -> dict[str, Any]:
    """The problem document. It is bounded whatever the fault: at most MAX_LISTED_ERRORS items
    (the answer says how many more there were, in `errors_left_out` and the detail) and texts of
    at most MAX_TEXT characters, so no request can make its own error answer huge."""
    listed: list[dict[str, Any]] | None = None
    left_out = 0
    if errors is not None:
        listed = []
        for error in errors:
            if len(listed) < MAX_LISTED_ERRORS:
                listed.append({name: _bounded(value) for name, value in dict(error).items()})
            else:
                left_out += 1
    if left_out:
        more = f"{left_out:,} more fault(s) not listed"
        detail = f"{detail} ({more})" if detail else more
    body: dict[str, Any] = {
        "type": TYPE_BASE + (slug or _SLUGS.get(status, "error")),
        "title": title or _TITLES.get(status, "Error"),
        "status": status,
        "detail": _bounded(detail),
        "instance": _bounded(instance),
    }
    if listed is not None:
        body["errors"] = listed
        if left_out:
            body["errors_left_out"] = left_out
    return body


def _bounded(value: Any) -> Any:
    """Texts cut at MAX_TEXT characters (saying so); structures of a fault bounded the same way."""
    if isinstance(value, str):
        if len(value) <= MAX_TEXT:
            return value
        return value[:MAX_TEXT] + f"... ({len(value) - MAX_TEXT:,} more characters)"
    if isinstance(value, Mapping):
        return {str(k)[:MAX_TEXT]: _bounded(v) for k, v in list(value.items())[:MAX_LISTED_ERRORS]}
    if isinstance(value, (list, tuple)):
        return [_bounded(v) for v in value[:MAX_LISTED_ERRORS]]
    return value


def problem_response(status: int, detail: str | None, *, instance: str | None, slug: str | None = None,
                     title: str | None = None, errors: Iterable[Mapping[str, Any]] | None = None,
                     headers: Mapping[str, str] | None = None) -> JSONResponse:
    body = problem_body(status, detail, instance=instance, slug=slug, title=title, errors=errors)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE,
                        headers=dict(headers) if headers else None)


# --- pointers ----------------------------------------------------------------------------------


def json_pointer(parts: Iterable[object]) -> str:
    """RFC 6901: `("inputs", "a/b")` -> `/inputs/a~1b`."""
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in parts)


def pydantic_errors(errors: Iterable[Mapping[str, Any]], *, prefix: Sequence[object] = ()) -> list[dict[str, Any]]:
    """pydantic/FastAPI validation errors as problem items with pointers or parameter names."""
    items: list[dict[str, Any]] = []
    for error in errors:
        loc = list(error.get("loc", ()))
        message = _message(error)
        if loc and loc[0] in ("query", "header", "path", "cookie"):
            name = str(loc[1]) if len(loc) > 1 else ""
            items.append({"parameter": name, "in": loc[0], "message": message})
            continue
        if loc and loc[0] == "body":
            loc = loc[1:]
        # pydantic adds the tag of a union member ("function-plain[...]"); it is no place in the body
        loc = [part for part in loc if not (isinstance(part, str) and "[" in part and part.endswith("]"))]
        items.append({"pointer": json_pointer([*prefix, *loc]), "message": message})
    return items


def _message(error: Mapping[str, Any]) -> str:
    message = str(error.get("msg", "invalid value"))
    # "Value error, expected a number" -> "expected a number": the prefix says nothing to a client
    for prefix in ("Value error, ", "Assertion failed, "):
        if message.startswith(prefix):
            message = message[len(prefix):]
    return message


def model_problem_items(problems: Iterable[Problem]) -> list[dict[str, Any]]:
    """Located model problems (decisions.errors.Problem) as problem items."""
    items = []
    for problem in problems:
        data = problem.to_dict()
        items.append({"message": str(problem), "location": data["location"], "code": data["code"],
                      "severity": data["severity"]})
    return items


# --- handlers ----------------------------------------------------------------------------------

# Only a database that cannot be reached is "unavailable"; any other database error is a bug
# (input that should have been refused earlier) and goes to the catch-all handler.
DATABASE_UNAVAILABLE: tuple[type[SQLAlchemyError], ...] = (OperationalError, DisconnectionError, PoolTimeout)


def database_unavailable(method: str, path: str, exc: SQLAlchemyError) -> ProblemError:
    """The one answer to a database that cannot be reached, for the routes and the fast lane:
    503 with Retry-After."""
    log.error("database error on %s %s: %s", method, path, type(exc).__name__)
    return ProblemError(503, "the database is unavailable; try again later", headers={"Retry-After": "1"})


async def _database(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, SQLAlchemyError)
    problem = database_unavailable(request.method, request.url.path, exc)
    return problem_response(problem.status, problem.detail, instance=request.url.path, slug=problem.slug,
                            title=problem.title, errors=problem.errors, headers=problem.headers)


def _registry_status(error: RegistryError) -> int:
    if isinstance(error, NotFound):
        return 404
    if isinstance(error, Forbidden):
        return 403
    if isinstance(error, (Conflict, InvalidTransition)):
        return 409
    if isinstance(error, GateFailed):
        return 422
    if isinstance(error, Invalid):
        return 400
    return 400


def install_problem_handlers(app: FastAPI) -> None:
    app.state.unexpected_errors = []

    @app.exception_handler(ProblemError)
    async def _problem(request: Request, exc: ProblemError) -> JSONResponse:
        return problem_response(exc.status, exc.detail, instance=request.url.path, slug=exc.slug,
                                title=exc.title, errors=exc.errors, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = list(exc.errors())
        malformed = [e for e in errors if e.get("type") == "json_invalid"]
        if malformed:
            error = malformed[0]
            reason = (error.get("ctx") or {}).get("error", "invalid JSON")
            loc = error.get("loc", ())
            where = f" at character {loc[1]}" if len(loc) > 1 else ""
            return problem_response(400, f"the request body is not valid JSON{where}: {reason}",
                                    instance=request.url.path, slug="malformed-json",
                                    errors=[{"pointer": "", "message": str(reason)}])
        return problem_response(422, "the request does not match the expected shape",
                                instance=request.url.path, errors=pydantic_errors(errors))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = exc.detail if isinstance(exc.detail, str) else None
        if exc.status_code == 404 and detail == "Not Found":
            detail = f"no route {request.method} {request.url.path}"
        return problem_response(exc.status_code, detail, instance=request.url.path,
                                headers=getattr(exc, "headers", None), errors=getattr(exc, "errors", None))

    @app.exception_handler(GateFailed)
    async def _gates(request: Request, exc: GateFailed) -> JSONResponse:
        errors = [{"gate": f.gate, "message": reason} for f in exc.failures for reason in f.reasons or [f.gate]]
        detail = f"cannot {exc.step} {exc.key} version {exc.number}: gate(s) {', '.join(f.gate for f in exc.failures)} failed"
        return problem_response(422, detail, instance=request.url.path, slug="gate-failed",
                                title="Publish gate failed", errors=errors)

    @app.exception_handler(RegistryError)
    async def _registry(request: Request, exc: RegistryError) -> JSONResponse:
        return problem_response(_registry_status(exc), str(exc), instance=request.url.path)

    @app.exception_handler(ModelError)
    async def _model(request: Request, exc: ModelError) -> JSONResponse:
        return problem_response(422, "the model cannot be used", instance=request.url.path, slug="model-error",
                                title="Invalid model", errors=model_problem_items(exc.problems))

    @app.exception_handler(DecisionsError)
    async def _decisions(request: Request, exc: DecisionsError) -> JSONResponse:
        return problem_response(422, str(exc), instance=request.url.path)

    for unavailable in DATABASE_UNAVAILABLE:
        app.add_exception_handler(unavailable, _database)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        # The request body and headers are never logged: they may hold keys and personal data.
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        request.app.state.unexpected_errors.append(f"{request.method} {request.url.path}: {type(exc).__name__}")
        return problem_response(500, "an unexpected error occurred; it has been logged",
                                instance=request.url.path)
