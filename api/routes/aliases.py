"""Aliases (environments such as production and staging), their champion/challenger splits and
shadow versions (registry/routing.py), and diffs between versions."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Request

from api.auth import READERS, Principal, requires
from api.page_schemas import AliasPageOut
from api.problems import ProblemError
from api.routes.common import (
    ALIAS_PATTERN,
    AliasName,
    ModelKey,
    alias_move_out,
    alias_out,
    make_router,
    published_changed,
    service_of,
)
from api.routes.paging import Cursor, Limit, query_problem
from api.schemas import AliasBody, AliasMoveOut, AliasOut, DiffOut, RollbackBody, RoutingBody
from registry import (
    Invalid,
    RoutingInvalid,
    alias_history,
    clear_routing,
    get_alias,
    get_model,
    rollback,
    set_alias,
    set_routing,
    unit_of_work,
)
from registry.diff import diff
from registry.listing import query_aliases
from registry.pages import QueryError

router = make_router(400, 404, 409, tag="aliases")

Reader = Annotated[Principal, Depends(requires(*READERS))]
Approver = Annotated[Principal, Depends(requires("approver"))]


AliasFilter = Annotated[str | None, Query(pattern=ALIAS_PATTERN, max_length=100, description="Only this alias.")]
PointsAt = Annotated[int | None, Query(ge=1, le=999_999_999, description="Only aliases pointing at this version.")]


@router.get("/v1/models/{key}/aliases", response_model=AliasPageOut,
            summary="Where each alias of a model points, by name, a page at a time")
def aliases_list(request: Request, key: ModelKey, _: Reader, alias: AliasFilter = None, version: PointsAt = None,
                 limit: Limit = 100, cursor: Cursor = None) -> AliasPageOut:
    return _aliases_page(request, key, alias, version, limit, cursor)


@router.get("/v1/aliases", response_model=AliasPageOut,
            summary="Every model's aliases by key and name, a page at a time (e.g. alias=production: what "
                    "answers in production)")
def all_aliases_list(request: Request, _: Reader, alias: AliasFilter = None, limit: Limit = 100,
                     cursor: Cursor = None) -> AliasPageOut:
    return _aliases_page(request, None, alias, None, limit, cursor)


def _aliases_page(request: Request, key: str | None, alias: str | None, version: int | None, limit: int,
                  cursor: str | None) -> AliasPageOut:
    try:
        with unit_of_work(service_of(request).engine, read_only=True) as session:
            if key is not None:
                get_model(session, key)  # an unknown key is a 404, not an empty list
            page = query_aliases(session, key=key, alias=alias, version=version, limit=limit, cursor=cursor)
    except QueryError as exc:
        raise query_problem(exc) from None
    return AliasPageOut(aliases=[alias_out(a) for a in page.items], next_cursor=page.next_cursor)


@router.get("/v1/models/{key}/aliases/{alias}", response_model=AliasOut, summary="Where one alias points")
def alias_detail(request: Request, key: ModelKey, alias: AliasName, _: Reader) -> AliasOut:
    with unit_of_work(service_of(request).engine, read_only=True) as session:
        return alias_out(get_alias(session, key, alias))


@router.put("/v1/models/{key}/aliases/{alias}", response_model=AliasOut,
            summary="Point an alias at a published version (recorded with who and why)")
def alias_set(request: Request, key: ModelKey, alias: AliasName, body: AliasBody, principal: Approver) -> AliasOut:
    with unit_of_work(service_of(request).engine) as session:
        target = set_alias(session, key, alias, body.version, by=principal.name, why=body.why)
    published_changed(request)
    return alias_out(target)


@router.put("/v1/models/{key}/aliases/{alias}/routing", response_model=AliasOut,
            summary="Split an alias's calls between versions and/or shadow it with others (recorded as a move)")
def alias_routing_set(request: Request, key: ModelKey, alias: AliasName, body: RoutingBody,
                      principal: Approver) -> AliasOut:
    routing = body.model_dump(exclude={"why"})
    try:
        with unit_of_work(service_of(request).engine) as session:
            target = set_routing(session, key, alias, routing, by=principal.name, why=body.why)
    except RoutingInvalid as exc:
        raise ProblemError(422, str(exc), errors=[{"pointer": exc.pointer or "/", "message": str(exc)}]) from None
    except Invalid as exc:  # what the stored versions refuse: the champion, split_on
        raise ProblemError(422, str(exc), errors=[{"pointer": "/", "message": str(exc)}]) from None
    published_changed(request)
    return alias_out(target)


@router.delete("/v1/models/{key}/aliases/{alias}/routing", response_model=AliasOut,
               summary="Remove an alias's split and shadows: its version alone answers (recorded as a move)")
def alias_routing_clear(request: Request, key: ModelKey, alias: AliasName, principal: Approver,
                        why: Annotated[str | None, Query(max_length=5000, description="Why (kept in the history).")]
                        = None) -> AliasOut:
    with unit_of_work(service_of(request).engine) as session:
        target = clear_routing(session, key, alias, by=principal.name, why=why)
    published_changed(request)
    return alias_out(target)


@router.post("/v1/models/{key}/aliases/{alias}/rollback", response_model=AliasOut,
             summary="Move an alias back to the version it pointed at before its last move")
def alias_rollback(request: Request, key: ModelKey, alias: AliasName, principal: Approver,
                   body: RollbackBody | None = None) -> AliasOut:
    with unit_of_work(service_of(request).engine) as session:
        target = rollback(session, key, alias, by=principal.name, why=body.why if body else None)
    published_changed(request)
    return alias_out(target)


@router.get("/v1/models/{key}/alias-history", response_model=list[AliasMoveOut],
            summary="Every alias move of a model, oldest first")
def aliases_history(
    request: Request, key: ModelKey, _: Reader,
    alias: Annotated[str | None, Query(pattern=ALIAS_PATTERN, max_length=100,
                                       description="Only this alias's moves.")] = None,
) -> list[AliasMoveOut]:
    with unit_of_work(service_of(request).engine, read_only=True) as session:
        return [alias_move_out(m) for m in alias_history(session, key, alias)]


@router.get("/v1/models/{key}/diff", response_model=DiffOut,
            summary="What changed between two versions: inputs, decisions, rules cell by cell")
def versions_diff(
    request: Request, key: ModelKey, _: Reader,
    from_: Annotated[int, Query(alias="from", ge=1, le=999_999_999, description="The older version.")],
    to: Annotated[int, Query(ge=1, le=999_999_999, description="The newer version.")],
) -> DiffOut:
    with unit_of_work(service_of(request).engine, read_only=True) as session:
        changes = diff(session, key, from_, to)
    return DiffOut(key=key, from_version=from_, to_version=to, summary=changes.summary(), **changes.to_dict())
