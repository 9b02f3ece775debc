"""API keys, for admins: create (the secret is shown once), list, revoke."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Path, Query, Request

from api.auth import ADMIN, Principal, requires
from api.routes.common import key_out, make_router, service_of
from api.schemas import KeyCreate, KeyCreated, KeyOut
from registry import create_key, list_keys, revoke_key, unit_of_work

router = make_router(400, 404, 409, tag="keys")

Admin = Annotated[Principal, Depends(requires(ADMIN))]


@router.get("/v1/keys", response_model=list[KeyOut], summary="API keys (never their secrets)")
def keys_list(request: Request, _: Admin,
              include_revoked: Annotated[bool, Query(description="Include revoked keys.")] = False) -> list[Any]:
    with unit_of_work(service_of(request).engine, read_only=True) as session:
        return [key_out(k) for k in list_keys(session, include_revoked=include_revoked)]


@router.post("/v1/keys", response_model=KeyCreated, status_code=201,
             summary="Create an API key; the answer holds its secret, which is not shown again")
def keys_create(request: Request, body: KeyCreate, principal: Admin) -> dict[str, Any]:
    with unit_of_work(service_of(request).engine) as session:
        key, secret = create_key(session, body.name, body.role, by=principal.name)
    return {**key_out(key), "secret": secret}


@router.delete("/v1/keys/{key_id}", response_model=KeyOut, summary="Revoke an API key (at once on this worker; within a second on the others)")
def keys_revoke(request: Request, key_id: Annotated[str, Path(pattern=r"^[0-9A-Za-z]{1,64}$")],
                principal: Admin) -> dict[str, Any]:
    service = service_of(request)
    with unit_of_work(service.engine) as session:
        revoked = key_out(revoke_key(session, key_id, by=principal.name))
    service.registry_changed()
    return revoked
