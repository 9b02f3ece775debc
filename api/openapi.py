"""The OpenAPI document, with one typed operation per published decision model.

For each model with a published version, `POST /v1/decisions/<key>/typed/evaluate`
(operationId `evaluateTyped<Key>`, api/operation_ids.py) takes and returns bodies typed from that version's item
definitions (api/typed.py), so a client generator gives each service a typed client. The
version described is the one a call without alias or version gets: production, else the latest
published. A call is always checked against the version that actually answers it.

The routes are rebuilt at startup and whenever this process publishes, retires or moves an
alias; and since other workers may have changed what is published, serving the document first
checks what is published now and rebuilds when it differs. A worker that has not rebuilt yet
still serves any key through the generic route behind the typed ones.

Every route's roles (from its `requires(...)` dependency) appear in its description and as
`x-roles`.
"""

import logging
import threading
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, Optional

from fastapi import Body, Depends, FastAPI, Header, Query, Request
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field, StrictBool, create_model
from starlette.concurrency import run_in_threadpool
from starlette.routing import BaseRoute

from api.auth import Principal, RoleCheck, requires, verified_key
from api.evaluation import Evaluation, Selector, evaluate_async
from api.jsonio import DecimalJSONRoute
from api.model_cache import LoadedModel
from api.operation_ids import typed_operation_id
from api.problems import ProblemDetail, problem_responses
from api.routes.common import ALIAS_PATTERN, COMMON_PROBLEMS
from api.routes.decisions import IdempotencyKey, answer_response
from api.schemas import REASONS_DESCRIPTION, EvaluateRequest, ModelProblem, ReasonOut
from api.service import Service
from api.typed import ModelSchemas, camel, plain_fields
from registry import NotFound, list_models, resolve, unit_of_work
from registry.errors import RegistryError
from registry.resolve import Resolved

log = logging.getLogger("decisionary.api")

TYPED_TAG = "typed decisions"
GENERIC_TYPED_ROUTE = "evaluate_typed_any"


# --- roles in the document ---------------------------------------------------------------------


def route_roles(dependant: Dependant) -> tuple[str, ...] | None:
    """The roles a route admits, from the RoleCheck among its dependencies (None: no key needed)."""
    if isinstance(dependant.call, RoleCheck):
        return dependant.call.roles
    for sub in dependant.dependencies:
        roles = route_roles(sub)
        if roles is not None:
            return roles
    return None


def document_roles(route: APIRoute) -> None:
    roles = route_roles(route.dependant)
    extra = dict(route.openapi_extra or {})
    if roles is None:
        extra["x-roles"] = []
        text = "No API key needed."
    else:
        extra["x-roles"] = [*roles, "admin"] if "admin" not in roles else list(roles)
        text = "Roles: " + ", ".join(f"`{r}`" for r in extra["x-roles"]) + "."
    route.openapi_extra = extra
    if route.description and "Roles:" in route.description:
        return
    route.description = f"{route.description}\n\n{text}" if route.description else text


# --- the typed routes --------------------------------------------------------------------------


def _request_model(schemas: ModelSchemas, prefix: str) -> type[BaseModel]:
    names: Any = schemas.decision_literal()
    return create_model(
        f"{prefix}EvaluateRequest", __config__=ConfigDict(extra="forbid"),
        inputs=(schemas.inputs, Field(default_factory=schemas.inputs, description="The model's input data.")),
        decisions=(Optional[list[names]],  # noqa: UP045 - a runtime value
                   Field(default=None, min_length=1, description="Evaluate only these decisions.")),
        trace=(StrictBool, Field(default=False, description="Include the evaluation trace.")),
    )


def _response_model(schemas: ModelSchemas, prefix: str) -> type[BaseModel]:
    return create_model(
        f"{prefix}EvaluateResponse",
        decision_id=(str, Field(description="The id of the decision record written for this answer.")),
        key=(str, ...), version=(int, ...), hash=(str, ...), alias=(Optional[str], ...),  # noqa: UP045
        outputs=(schemas.outputs, ...),
        fired=(dict[str, list[int]], ...),
        problems=(list[ModelProblem], ...),
        reasons=(Optional[dict[str, list[ReasonOut]]], Field(default=None, description=REASONS_DESCRIPTION)),  # noqa: UP045
        trace=(Optional[list[dict[str, Any]]], None),  # noqa: UP045
        arm=(Optional[str], Field(default=None, description="Under a champion/challenger split: the arm that "  # noqa: UP045
                                                            "answered.")),
    )


def _typed_endpoint(service: Service, key: str, request_model: type[BaseModel]) -> Callable[..., Awaitable[JSONResponse]]:
    async def endpoint(
        body: Annotated[request_model, Body()],  # type: ignore[valid-type]
        principal: Annotated[Principal, Depends(requires("caller"))],
        alias: Annotated[Optional[str], Query(pattern=ALIAS_PATTERN, max_length=100,  # noqa: UP045
                                              description="Evaluate the version this alias points at.")] = None,
        version: Annotated[Optional[int], Query(ge=1, le=999_999_999,  # noqa: UP045
                                                description="Evaluate this published version.")] = None,
        idempotency_key: IdempotencyKey = None,
    ) -> JSONResponse:
        inputs = plain_fields(body.inputs)  # type: ignore[attr-defined]
        call = Evaluation(inputs, body.decisions, body.trace)  # type: ignore[attr-defined]
        answer = await evaluate_async(service, Selector(key, alias, version), call, principal,
                                      idempotency_key=idempotency_key)
        return answer_response(answer)

    return endpoint


class TypedRoutes:
    """The per-decision typed routes of one app, kept in step with what is published."""

    def __init__(self, app: FastAPI, service: Service) -> None:
        self.app = app
        self.service = service
        self.routes: list[BaseRoute] = []
        self.fingerprint: tuple[tuple[str, int, str, str], ...] | None = None
        self._lock = threading.Lock()

    def published(self) -> list[Resolved]:
        """For each model, the version a call without alias or version gets (if any)."""
        found = []
        with unit_of_work(self.service.engine, read_only=True) as session:
            for model in list_models(session):
                try:
                    found.append(resolve(session, model.key))
                except NotFound:
                    continue
        return found

    def refresh(self) -> bool:
        """Rebuild the typed routes if what is published changed; True when it did."""
        published = self.published()
        fingerprint = tuple((r.key, r.number, r.version.content_hash, r.alias or "") for r in published)
        with self._lock:
            if fingerprint == self.fingerprint:
                return False
            routes = self._build(published)
            kept = [route for route in self.app.router.routes if route not in self.routes]
            at = next((i for i, route in enumerate(kept) if getattr(route, "name", None) == GENERIC_TYPED_ROUTE),
                      len(kept))
            # One assignment: a request being routed sees either the old list or the new one.
            self.app.router.routes = [*kept[:at], *routes, *kept[at:]]
            self.routes = routes
            self.fingerprint = fingerprint
            self.app.openapi_schema = None
        return True

    def _build(self, published: list[Resolved]) -> list[BaseRoute]:
        routes: list[BaseRoute] = []
        used_ids: set[str] = set()
        used_prefixes: set[str] = set()
        for resolved in published:
            try:
                loaded = self.service.cache.get(resolved.version)
            except Exception as exc:  # noqa: BLE001 - one bad version must not hide the others
                log.error("no typed route for %s: %s", resolved.version.ref, exc)
                continue
            op_id, prefix, n = typed_operation_id(resolved.key), camel(resolved.key), 2
            while op_id in used_ids or prefix in used_prefixes:
                op_id, prefix, n = f"{typed_operation_id(resolved.key)}{n}", f"{camel(resolved.key)}{n}", n + 1
            used_ids.add(op_id)
            used_prefixes.add(prefix)
            routes.append(self._route(resolved, loaded, op_id, prefix))
        return routes

    def _route(self, resolved: Resolved, loaded: LoadedModel, op_id: str, prefix: str) -> APIRoute:
        # A key whose component names clash with another key's gets schemas of its own.
        schemas = loaded.schemas if prefix == loaded.schemas.prefix else ModelSchemas(loaded.model, prefix)
        request_model = _request_model(schemas, prefix)
        route = DecimalJSONRoute(
            f"/v1/decisions/{resolved.key}/typed/evaluate",
            _typed_endpoint(self.service, resolved.key, request_model),
            methods=["POST"],
            response_model=_response_model(schemas, prefix),
            operation_id=op_id,
            name=op_id,
            tags=[TYPED_TAG],
            summary=f"Evaluate {resolved.key} ({loaded.model.name})",
            description=(f"Typed from {resolved.key} version {resolved.number} "
                         f"({'alias ' + resolved.alias if resolved.alias else 'latest published'}). "
                         "Writes a decision record before it answers."),
            responses={**COMMON_PROBLEMS, **problem_responses(400, 404, 409)},
            dependency_overrides_provider=self.app,
        )
        document_roles(route)
        return route


# --- the document ------------------------------------------------------------------------------


def install_openapi(app: FastAPI, typed_routes: TypedRoutes, *, title: str, version: str, description: str,
                    public_models: bool = False) -> None:
    """`app.openapi()` (the whole document), and the route `/openapi.json` (/docs and /redoc: api/studio.py).

    The typed operations name every published decision and its types. Unless `public_models`
    (Settings.public_docs), `/openapi.json` shows them only to a request with a valid API key
    (any role); without one it describes the generic API, whose routes name no model."""

    def build(routes: list[BaseRoute]) -> dict[str, Any]:
        document = get_openapi(title=title, version=version, description=description, routes=routes,
                               tags=[{"name": TYPED_TAG, "description": "One typed operation per published "
                                      "decision model, generated from its types."}])
        components = document.setdefault("components", {}).setdefault("schemas", {})
        problem = ProblemDetail.model_json_schema(ref_template="#/components/schemas/{model}")
        components.update(problem.pop("$defs", {}))
        components["ProblemDetail"] = problem
        return document

    def openapi() -> dict[str, Any]:
        try:
            typed_routes.refresh()
        except (RegistryError, OSError) as exc:  # keep serving the last document
            log.error("cannot check the published decisions: %s", exc)
        if app.openapi_schema is None:
            app.openapi_schema = build(app.routes)
        return app.openapi_schema

    generic: dict[str, Any] = {}  # the document without the typed operations, built once

    def generic_document() -> dict[str, Any]:
        if not generic:
            generic.update(build([r for r in app.routes if not (isinstance(r, APIRoute) and TYPED_TAG in r.tags)]))
        return generic

    app.openapi = openapi  # type: ignore[method-assign]
    service: Service = app.state.service

    async def openapi_json(request: Request) -> JSONResponse:
        if public_models or await _has_valid_key(service, request):
            return JSONResponse(await run_in_threadpool(app.openapi))
        return JSONResponse(generic_document())

    app.add_route("/openapi.json", openapi_json, include_in_schema=False)


async def _has_valid_key(service: Service, request: Request) -> bool:
    scheme, _, secret = request.headers.get("authorization", "").partition(" ")
    return scheme.lower() == "bearer" and bool(secret) and await verified_key(service, secret.strip()) is not None


def generic_typed_route(app: FastAPI, service: Service) -> None:
    """`POST /v1/decisions/{key}/typed/evaluate` for keys this worker has no typed route for yet."""

    async def endpoint(
        key: str,
        body: EvaluateRequest,
        principal: Annotated[Principal, Depends(requires("caller"))],
        alias: Annotated[Optional[str], Query(pattern=ALIAS_PATTERN, max_length=100)] = None,  # noqa: UP045
        version: Annotated[Optional[int], Query(ge=1, le=999_999_999)] = None,  # noqa: UP045
        idempotency_key: Annotated[Optional[str], Header(alias="Idempotency-Key", max_length=200)] = None,  # noqa: UP045
    ) -> JSONResponse:
        call = Evaluation(body.inputs, body.decisions, body.trace)
        answer = await evaluate_async(service, Selector(key, alias, version), call, principal,
                                      idempotency_key=idempotency_key)
        return answer_response(answer)

    app.router.routes.append(DecimalJSONRoute(
        "/v1/decisions/{key}/typed/evaluate", endpoint, methods=["POST"], name=GENERIC_TYPED_ROUTE,
        include_in_schema=False, dependency_overrides_provider=app))
