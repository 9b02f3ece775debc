"""Identities and API keys, for admins: create an identity (recorded: who, when), issue keys to
it (the secret is shown once), list, revoke.

    GET    /v1/identities        identities
    POST   /v1/identities        create one (a person or a service); logged and kept with its creator
    GET    /v1/keys              keys (never their secrets), `identity=` for one identity's
    POST   /v1/keys              issue a key to an identity
    DELETE /v1/keys/{id}         revoke a key
"""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import Depends, Path, Query, Request

from api.auth import ADMIN, Principal, requires
from api.routes.common import key_out, make_router, service_of
from api.schemas import IdentityCreate, IdentityOut, KeyCreate, KeyCreated, KeyOut
from registry import create_identity, create_key, list_identities, list_keys, revoke_key, unit_of_work

router = make_router(400, 404, 409, tag="keys")
log = logging.getLogger("decisionary.api")

Admin = Annotated[Principal, Depends(requires(ADMIN))]


@router.get("/v1/identities", response_model=list[IdentityOut], summary="Identities API keys are issued to")
def identities_list(request: Request, _: Admin) -> list[Any]:
    with unit_of_work(service_of(request).engine, read_only=True) as session:
        return [i.to_dict() for i in list_identities(session)]


@router.post("/v1/identities", response_model=IdentityOut, status_code=201,
             summary="Create an identity (a person or a service); keys are then issued to it")
def identities_create(request: Request, body: IdentityCreate, principal: Admin) -> dict[str, Any]:
    with unit_of_work(service_of(request).engine) as session:
        identity = create_identity(session, body.name, by=principal.name)
    # An admin action that decides who counts as a second person: kept on the row and logged.
    log.warning("identity %s (%r) created by %r with key %s", identity.id, identity.name, principal.name,
                principal.key_id)  # %r: a name is the admin's text, quoted so it cannot forge log lines
    return identity.to_dict()


@router.get("/v1/keys", response_model=list[KeyOut], summary="API keys (never their secrets)")
def keys_list(request: Request, _: Admin,
              include_revoked: Annotated[bool, Query(description="Include revoked keys.")] = False,
              identity: Annotated[str | None, Query(min_length=1, max_length=200,
                                                    description="Only this identity's (id or name).")] = None,
              ) -> list[Any]:
    with unit_of_work(service_of(request).engine, read_only=True) as session:
        return [key_out(k) for k in list_keys(session, include_revoked=include_revoked, identity=identity)]


@router.post("/v1/keys", response_model=KeyCreated, status_code=201,
             summary="Issue an API key to an identity; the answer holds its secret, which is not shown again")
def keys_create(request: Request, body: KeyCreate, principal: Admin) -> dict[str, Any]:
    with unit_of_work(service_of(request).engine) as session:
        key, secret = create_key(session, body.name, body.role, by=principal.name, identity=body.identity)
    return {**key_out(key), "secret": secret}


@router.delete("/v1/keys/{key_id}", response_model=KeyOut, summary="Revoke an API key (at once on this worker; within a second on the others)")
def keys_revoke(request: Request, key_id: Annotated[str, Path(pattern=r"^[0-9A-Za-z]{1,64}$")],
                principal: Admin) -> dict[str, Any]:
    service = service_of(request)
    with unit_of_work(service.engine) as session:
        revoked = key_out(revoke_key(session, key_id, by=principal.name))
    service.registry_changed()
    return revoked
