"""The decision service: a FastAPI app over the registry and the decision core.

    create_app(settings)   an app for these settings (tests, embedding)
    app_from_env()         an app configured from the environment: the factory uvicorn workers
                           import by name (`api.app:app_from_env`, factory=True)
"""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as package_version

from fastapi import FastAPI
from fastapi.routing import APIRoute
from sqlalchemy.engine import Engine

from api.batch_gate import BatchGate
from api.fast_lane import EvaluateFastLane
from api.limits import BodySizeLimit
from api.openapi import TypedRoutes, document_roles, generic_typed_route, install_openapi
from api.operation_ids import operation_id_of
from api.problems import install_problem_handlers
from api.routes import aliases, audit, decisions, health, keys, models, outcomes, records, replays, workbench
from api.routes.execution import install as install_execution
from api.service import Service
from api.settings import Settings
from api.studio import install_studio

log = logging.getLogger("decisionary.api")

DESCRIPTION = """\
Decisionary evaluates published DMN decision models and manages their versions.

Authenticate with `Authorization: Bearer <API key>`; each operation lists the roles it admits.
Errors are RFC 9457 problem details (`application/problem+json`).
Every evaluation writes a decision record before it answers; its id is `decision_id`.
"""


def _version() -> str:
    try:
        return package_version("decisionary")
    except PackageNotFoundError:
        return "0.0.0"


def create_app(settings: Settings | None = None, *, engine: Engine | None = None) -> FastAPI:
    """The service for `settings` (default: from the environment). The database must be migrated."""
    settings = settings or Settings.from_env()
    service = Service.create(settings, engine)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        try:
            typed_routes.refresh()
        except Exception as exc:  # noqa: BLE001 - serve what can be served; the document retries
            log.error("cannot build the typed decision routes at startup: %s", exc)
        # What exists now (the app, its routes, the compiled published models) lives as long as
        # the worker: take it out of the garbage collector's view, so that a full collection
        # walks only what requests create instead of pausing every request for ~0.1-0.2 s.
        gc.collect()
        gc.freeze()
        yield
        service.close()

    app = FastAPI(title="Decisionary", version=_version(), description=DESCRIPTION, lifespan=lifespan,
                  docs_url=None, redoc_url=None, openapi_url=None,  # served by install_openapi
                  generate_unique_id_function=operation_id_of)  # readable operationIds (api/operation_ids.py)
    app.state.service = service
    app.state.engine = service.engine
    typed_routes = TypedRoutes(app, service)
    app.state.typed_routes = typed_routes

    install_problem_handlers(app)
    app.add_middleware(BatchGate, limit=settings.batch_concurrency, queue=settings.batch_queue)
    app.add_middleware(EvaluateFastLane, service=service)  # inside the size limit (added after it)
    app.add_middleware(BodySizeLimit, json_limit=settings.max_json_bytes, upload_limit=settings.max_upload_bytes)
    for module in (health, models, aliases, decisions, records, outcomes, replays, audit, keys, workbench):
        for route in module.router.routes:
            if isinstance(route, APIRoute):
                document_roles(route)
        app.include_router(module.router)
    install_execution(app)  # workflow runs, reviews, batch jobs, /metrics; the outbox record hook
    generic_typed_route(app, service)
    install_studio(app, title="Decisionary")  # /studio, and /docs and /redoc from local files
    install_openapi(app, typed_routes, title="Decisionary", version=_version(), description=DESCRIPTION,
                    public_models=settings.public_docs)
    return app


def app_from_env() -> FastAPI:
    """The app factory for uvicorn (`uvicorn --factory api.app:app_from_env`)."""
    return create_app(Settings.from_env())
