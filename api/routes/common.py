"""What the route modules share: the service, path parameters, version selection, converters."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Query, Request

from api.evaluation import Selector
from api.jsonio import DecimalJSONRoute
from api.problems import problem_responses
from api.schemas import AliasMoveOut, AliasOut, KeyOut, RecordOut, TransitionOut, VersionOut, utc
from api.service import Service
from registry.views import AliasMove, AliasTarget, ApiKey, DecisionRecord, Transition, Version

KEY_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$"
ALIAS_PATTERN = r"^[A-Za-z][A-Za-z0-9._-]{0,99}$"

ModelKey = Annotated[str, Path(pattern=KEY_PATTERN, max_length=100, description="The model's registry key.",
                               examples=["loan-approval"])]
VersionNumber = Annotated[int, Path(ge=1, le=999_999_999, description="A version number (1, 2, ...).")]
AliasName = Annotated[str, Path(pattern=ALIAS_PATTERN, max_length=100, description="An alias, e.g. production.")]

# Every route may answer these; routes add their own.
COMMON_PROBLEMS = problem_responses(401, 403, 413, 422, 500, 503)


def make_router(*statuses: int, tag: str) -> APIRouter:
    """A router whose JSON bodies keep exact decimals and whose routes document their problems."""
    return APIRouter(route_class=DecimalJSONRoute, tags=[tag],
                     responses={**COMMON_PROBLEMS, **problem_responses(*statuses)})


def service_of(request: Request) -> Service:
    service: Service = request.app.state.service
    return service


def published_changed(request: Request) -> None:
    """What is published (or where an alias points) changed: rebuild the typed routes and OpenAPI,
    and forget the resolutions this worker cached."""
    service_of(request).registry_changed()
    request.app.state.typed_routes.refresh()


async def selector(
    key: ModelKey,
    alias: Annotated[str | None, Query(pattern=ALIAS_PATTERN, max_length=100,
                                       description="Evaluate the version this alias points at "
                                                   "(default: production, else the latest published).")] = None,
    version: Annotated[int | None, Query(ge=1, le=999_999_999, description="Evaluate this published version.")] = None,
    x_decision_alias: Annotated[str | None, Header(pattern=ALIAS_PATTERN, max_length=100,
                                                   description="Like the `alias` query parameter.")] = None,
    x_decision_version: Annotated[int | None, Header(ge=1, le=999_999_999,
                                                     description="Like the `version` query parameter.")] = None,
) -> Selector:
    """Which version answers: query parameters first, then the X-Decision-* headers."""
    if alias is None and version is None:
        alias, version = x_decision_alias, x_decision_version
    return Selector(key, alias, version)


# --- registry views -> response models -----------------------------------------------------------


def version_out(version: Version) -> VersionOut:
    return VersionOut(key=version.key, number=version.number, state=version.state, format=version.format,
                      content_hash=version.content_hash, hash_method=version.hash_method, author=version.author,
                      comment=version.comment, created_at=_at(version.created_at),
                      updated_at=_at(version.updated_at), has_test_cases=version.test_cases is not None,
                      gates=version.gates)


def alias_out(target: AliasTarget) -> AliasOut:
    return AliasOut(key=target.key, alias=target.alias, number=target.number, updated_at=_at(target.updated_at),
                    updated_by=target.updated_by, routing=target.routing)


def transition_out(transition: Transition) -> TransitionOut:
    return TransitionOut(key=transition.key, number=transition.number, from_state=transition.from_state,
                         to_state=transition.to_state, by=transition.by, at=_at(transition.at),
                         comment=transition.comment)


def alias_move_out(move: AliasMove) -> AliasMoveOut:
    return AliasMoveOut(key=move.key, alias=move.alias, kind=move.kind, from_number=move.from_number,
                        to_number=move.to_number, by=move.by, at=_at(move.at), why=move.why, routing=move.routing)


def record_out(record: DecisionRecord) -> RecordOut:
    return RecordOut(id=record.id, key=record.key, version=record.version, content_hash=record.content_hash,
                     alias=record.alias, inputs=record.inputs, outputs=record.outputs, fired=record.fired,
                     problems=record.problems, latency_us=record.latency_us, caller=record.caller,
                     idempotency_key=record.idempotency_key, created_at=_at(record.created_at),
                     fired_ids=record.fired_ids, business_key=record.business_key, arm=record.arm,
                     shadow_of=record.shadow_of, reasons=record.reasons or None, chain_id=record.chain_id,
                     chain_seq=record.chain_seq, record_hash=record.record_hash)


def key_out(key: ApiKey) -> dict[str, Any]:
    return KeyOut(id=key.id, name=key.name, role=key.role, prefix=key.prefix, created_at=_at(key.created_at),
                  created_by=key.created_by, revoked_at=utc(key.revoked_at),
                  revoked_by=key.revoked_by, identity_id=key.identity_id, identity=key.identity).model_dump()


def _at(value: Any) -> Any:
    return utc(value)
