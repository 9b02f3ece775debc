"""The fast lane of `POST /v1/decisions/{key}/evaluate`: the common call without the framework's
per-request machinery.

Answering a decision takes about 0.1 ms of evaluation; FastAPI's routing and dependency
solving for the evaluate route (key check, version selection, headers, body) cost several
times that. This ASGI middleware answers the plain, well-formed call itself, through the same
functions as the route (`api.evaluation.route_call`, `run` and `record_and_answer`, the same
JSON answer, the same arm of a champion/challenger split, the same shadow versions), and hands
every other request to the app untouched, with its body replayed:

- taken only when: POST to exactly that path; no query string; no Idempotency-Key or
  X-Decision-* header; a JSON content type and a declared length within the JSON limit; a
  valid Bearer key (checked as the route does, through the same cache) with the caller or
  admin role; a model whose production version resolves; a body that parses and validates as
  an `EvaluateRequest`; inputs that fit the model's types;
- everything else (unknown keys, wrong roles, bad bodies, other versions, idempotent
  calls...) goes to the route, which does all the checking and answers every error,
  so there is one place that decides what an error says. Nothing is written before the lane
  decides to answer, so handing over is always safe.

A record that cannot be written, and a database that cannot be reached (a key check, a version
resolution, a record), are answered here with the same 503 problems the routes give
(`api.problems.database_unavailable`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.auth import ADMIN, Principal, verified_key
from api.evaluation import (
    Evaluation,
    EvaluationTimeout,
    Selector,
    record_and_answer,
    resolve_version_async,
    route_call,
    run_async,
)
from api.jsonio import parse_json
from api.limits import BodyTooLarge
from api.problems import DATABASE_UNAVAILABLE, ProblemError, database_unavailable, problem_response
from api.routes.common import KEY_PATTERN
from api.routes.decisions import answer_response
from api.schemas import EvaluateRequest
from api.service import Service
from registry.errors import RegistryError

_PATH = re.compile(f"/v1/decisions/({KEY_PATTERN.strip('^$')})/evaluate")
_ROLES = ("caller", ADMIN)
_REFUSING = (b"idempotency-key", b"x-decision-alias", b"x-decision-version")


class EvaluateFastLane:
    def __init__(self, app: ASGIApp, *, service: Service) -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        try:
            admitted = await self._admit(scope)
        except DATABASE_UNAVAILABLE as exc:  # the key could not be checked: the routes' 503
            await _problem(database_unavailable("POST", scope["path"], exc), scope)(scope, receive, send)
            return
        if admitted is None:
            await self.app(scope, receive, send)
            return
        try:
            body = await _read_body(receive)
        except BodyTooLarge as exc:  # longer than declared: the route answers the 413
            await self.app(scope, _raising(exc), send)
            return
        if body is None:  # the client went away before sending its body
            await self.app(scope, _replay(b"", receive), send)
            return
        try:
            response = await self._answer(admitted, body)
        except ProblemError as exc:  # the record was not written: the same problem as the route's
            response = _problem(exc, scope)
        except DATABASE_UNAVAILABLE as exc:  # e.g. PostgreSQL restarting: the same 503 as the routes'
            response = _problem(database_unavailable("POST", scope["path"], exc), scope)
        if response is None:
            await self.app(scope, _replay(body, receive), send)
            return
        await response(scope, receive, send)

    async def _admit(self, scope: Scope) -> tuple[Principal, str] | None:
        """(caller, key) when the headers and the key allow the lane; None sends the call to the route."""
        if scope.get("query_string"):
            return None
        match = _PATH.fullmatch(scope["path"])
        if match is None:
            return None
        authorization = content_type = length = None
        for name, value in scope["headers"]:
            if name == b"authorization":
                authorization = value
            elif name == b"content-type":
                content_type = value
            elif name == b"content-length":
                length = value
            elif name in _REFUSING:
                return None
        if authorization is None or content_type is None or length is None:
            return None
        if not content_type.split(b";", 1)[0].strip().lower() == b"application/json":
            return None
        if not length.isdigit() or int(length) > self.service.settings.max_json_bytes:
            return None
        scheme, _, secret = authorization.decode("latin-1").partition(" ")
        if scheme.lower() != "bearer" or not secret:
            return None
        key = await verified_key(self.service, secret)
        if key is None or key.role not in _ROLES:
            return None
        return Principal.of(key), match[1]

    async def _answer(self, admitted: tuple[Principal, str], body: bytes) -> Any:
        principal, key = admitted
        try:
            resolved, loaded = await resolve_version_async(self.service, Selector(key))
        except (RegistryError, ProblemError):  # no such model, nothing published...: the route says so
            return None
        try:
            document = parse_json(body)
            if not isinstance(document, Mapping):
                return None
            request = EvaluateRequest.model_validate(document)
        except (ValueError, ValidationError):  # JSONDecodeError is a ValueError
            return None
        call = Evaluation(request.inputs, request.decisions, request.trace, request.callback_url)
        try:
            if resolved.routing is not None:  # an alias without routing pays only this test
                resolved, loaded, notes = route_call(self.service, resolved, loaded, call)
            else:
                notes = []
            result, latency_us, values = await run_async(self.service, loaded, call, pointer=("inputs",),
                                                         decisions_pointer=("decisions",))
        except EvaluationTimeout:
            raise  # answered as the route would: evaluating again there would take as long
        except ProblemError:
            return None
        return answer_response(await record_and_answer(self.service, resolved, call, result, latency_us, principal,
                                                       values=values, notes=notes))


def _problem(exc: ProblemError, scope: Scope) -> Any:
    return problem_response(exc.status, exc.detail, instance=scope["path"], slug=exc.slug, title=exc.title,
                            errors=exc.errors, headers=exc.headers)


async def _read_body(receive: Receive) -> bytes | None:
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return None
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A receive that gives `body` once, then whatever the connection says next."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


def _raising(exc: Exception) -> Receive:
    async def receive() -> Message:
        raise exc

    return receive
