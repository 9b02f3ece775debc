"""Who is calling, and may they: `Authorization: Bearer <API key>` and a role per route.

Keys live in the registry as hashes only (registry.keys). A worker keeps what it looked up for
a second (api/caches.py): a key revoked through this worker stops working at once; one revoked
elsewhere (another worker, the CLI) is refused by every call that arrives more than
`Settings.cache_seconds` (DECISIONARY_CACHE_SECONDS, 1 s by default) after the revocation.
A route declares the roles it
admits with `Depends(requires("author"))`; `admin` passes everywhere. Without a key, or with
an unknown or revoked one, the answer is 401; with a key of another role, 403.

    viewer    reads models, versions, aliases and diffs
    author    uploads drafts and submits them
    approver  approves, rejects, publishes, retires versions and moves aliases
    caller    evaluates published decisions
    reviewer  reads decision records
    admin     everything, and manages identities and their API keys

A key is issued to an identity (registry/keys.py): the Principal is named by the identity, so
whatever a request does is done by that person, whichever of its keys it used.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.caches import cached
from api.problems import ProblemError
from api.service import Service
from registry import unit_of_work, verify_key
from registry.keys import hash_secret
from registry.tables import ROLES
from registry.views import ApiKey

ADMIN = "admin"
READERS = ("viewer", "author", "approver", "reviewer")  # may read the registry's models
EVERYONE = tuple(ROLES)

_bearer = HTTPBearer(auto_error=False, description="An API key: `Authorization: Bearer dcy_...`")


@dataclass(frozen=True)
class Principal:
    """The holder of a verified API key. `name` is the identity the key was issued to (who acts:
    authors, approvers, reviewers are named by it); `key_name` is the key's own label."""

    key_id: str
    name: str
    role: str
    identity_id: str = ""
    key_name: str = ""

    @classmethod
    def of(cls, key: ApiKey) -> Principal:
        return cls(key.id, key.identity or key.name, key.role, key.identity_id, key.name)

    def to_dict(self) -> dict[str, str]:
        return {"key_id": self.key_id, "name": self.name, "role": self.role, "identity_id": self.identity_id,
                "key_name": self.key_name}


def _unauthorized(detail: str) -> ProblemError:
    return ProblemError(401, detail, headers={"WWW-Authenticate": 'Bearer realm="decisionary"'})


class RoleCheck:
    """The dependency behind `requires(...)`; `roles` is read to document each route."""

    def __init__(self, roles: tuple[str, ...]) -> None:
        unknown = [role for role in roles if role not in ROLES]
        if unknown:
            raise ValueError(f"unknown role(s) {unknown}: expected some of {', '.join(ROLES)}")
        self.roles = roles

    async def __call__(self, request: Request,
                       credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> Principal:
        if credentials is None or not credentials.credentials:
            raise _unauthorized("this route needs an API key: send `Authorization: Bearer <key>`")
        key = await verified_key(request.app.state.service, credentials.credentials)
        if key is None:
            raise _unauthorized("the API key is unknown or revoked")
        principal = Principal.of(key)
        if principal.role != ADMIN and principal.role not in self.roles:
            allowed = ", ".join(self.roles)
            raise ProblemError(403, f"this route needs the role {allowed} (or admin); "
                                    f"the key '{principal.key_name}' of {principal.name} has the role {principal.role}")
        return principal


async def verified_key(service: Service, secret: str) -> ApiKey | None:
    """The active key whose secret this is (from the worker's cache when it was checked lately)."""
    # Never stale: a key revoked elsewhere is refused by every call made `cache_seconds` after it.
    return await cached(service.keys, hash_secret(secret), lambda: _verify(service, secret), stale=False)


def _verify(service: Service, secret: str) -> ApiKey | None:
    with unit_of_work(service.engine, read_only=True) as session:
        return verify_key(session, secret)


def requires(*roles: str) -> Callable[..., Awaitable[Principal]]:
    """A dependency admitting keys of `roles` (and admin); it returns the caller's Principal."""
    return RoleCheck(tuple(roles))
