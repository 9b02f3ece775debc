"""Identities and their API keys: the secret is shown once, at creation; only its SHA-256 is stored.

An identity is a person (or a service): created once, by an admin, and recorded (who created it,
when). Keys are issued to an identity, and whoever holds a key acts as its identity: versions,
approvals, aliases and reviews name the identity. The two-person rule (maker-checker) compares
identities, so a second key, whatever its name, does not make a second person. Identity names
are unique once case-folded with their spaces collapsed (`name_key`): "Ana" and "ana" are one.

A secret is 32 random bytes (URL-safe base 64) behind the prefix `dcy_`; its hash is a unique
column, so `verify_key` is one indexed lookup. A secret with 256 bits of entropy needs no salt
or slow hash: there is nothing to guess, and the hash is not reversible. Nothing is cached here;
the service's short cache of verified keys is api/caches.py.
"""

from __future__ import annotations

import hashlib
import secrets

from sqlmodel import Session, col, select

from registry.errors import Conflict, Invalid, NotFound
from registry.ids import new_ulid
from registry.tables import ROLES, ApiKeyRow, IdentityRow, utcnow
from registry.views import ApiKey, Identity

SECRET_PREFIX = "dcy_"
_MAX_SECRET_LENGTH = 200


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def name_key(name: str) -> str:
    """How identity names compare: case-folded, spaces collapsed ("Ana  Lima" == "ana lima")."""
    return " ".join(name.split()).casefold()


def same_person(a: str, b: str) -> bool:
    """Do two identity names (as versions and transitions record them) name one identity?"""
    return name_key(a) == name_key(b)


# --- identities --------------------------------------------------------------------------------


def create_identity(session: Session, name: str, *, by: str | None) -> Identity:
    """A new identity; Conflict when one of that name (compared by `name_key`) exists."""
    if not isinstance(name, str) or not name.strip() or len(name.strip()) > 200:
        raise Invalid("an identity needs a name (1-200 characters)")
    name = " ".join(name.split())
    existing = session.exec(select(IdentityRow).where(IdentityRow.name_key == name_key(name))).first()
    if existing is not None:
        raise Conflict(f"there is already an identity {existing.name!r} ({existing.id}); issue keys to it "
                       "instead of creating another")
    row = IdentityRow(id=new_ulid(), name=name, name_key=name_key(name), created_by=by)
    session.add(row)
    session.flush()
    return Identity.of(row)


def get_identity(session: Session, ref: str) -> Identity:
    """The identity with this id, or else this name (compared by `name_key`)."""
    return Identity.of(_identity_row(session, ref))


def list_identities(session: Session) -> list[Identity]:
    return [Identity.of(row) for row in session.exec(select(IdentityRow).order_by(col(IdentityRow.id))).all()]


def _identity_row(session: Session, ref: str) -> IdentityRow:
    if not isinstance(ref, str) or not ref.strip() or len(ref) > 200:
        raise Invalid("name an identity by its id or its name (1-200 characters)")
    row = session.get(IdentityRow, ref)
    if row is None:
        row = session.exec(select(IdentityRow).where(IdentityRow.name_key == name_key(ref))).first()
    if row is None:
        raise NotFound(f"no identity {ref!r}: an admin creates it first")
    return row


# --- keys --------------------------------------------------------------------------------------


def create_key(session: Session, name: str, role: str, *, by: str | None = None,
               identity: str | None = None) -> tuple[ApiKey, str]:
    """A new key: (what is stored, the secret). Give the secret to its owner; it is not kept.

    `identity` (an id or a name) is the existing identity the key is issued to. Without it, the
    key goes to the identity named like the key, created (recorded with `by`) if there is none:
    a key never makes a second person out of a name that is already one."""
    if role not in ROLES:
        raise Invalid(f"unknown role {role!r}: expected one of {', '.join(ROLES)}")
    if not isinstance(name, str) or not name.strip() or len(name) > 200:
        raise Invalid("an API key needs a name (1-200 characters)")
    if identity is None:
        existing = session.exec(select(IdentityRow).where(IdentityRow.name_key == name_key(name))).first()
        owner_id = existing.id if existing is not None else create_identity(session, name, by=by).id
    else:
        owner_id = _identity_row(session, identity).id
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    row = ApiKeyRow(id=new_ulid(), name=name.strip(), role=role, key_hash=hash_secret(secret),
                    prefix=secret[:12], created_by=by, identity_id=owner_id)
    session.add(row)
    session.flush()
    return _view(session, row), secret


def verify_key(session: Session, secret: str) -> ApiKey | None:
    """The active key whose secret this is, or None (unknown, malformed or revoked)."""
    if not isinstance(secret, str) or not secret or len(secret) > _MAX_SECRET_LENGTH:
        return None
    found = session.exec(
        select(ApiKeyRow, IdentityRow).join(IdentityRow, col(IdentityRow.id) == col(ApiKeyRow.identity_id))
        .where(ApiKeyRow.key_hash == hash_secret(secret), col(ApiKeyRow.revoked_at).is_(None))
    ).first()
    return ApiKey.of(found[0], found[1]) if found is not None else None


def get_key(session: Session, key_id: str) -> ApiKey:
    row = session.get(ApiKeyRow, key_id)
    if row is None:
        raise NotFound(f"no API key {key_id!r}")
    return _view(session, row)


def list_keys(session: Session, *, include_revoked: bool = False, identity: str | None = None) -> list[ApiKey]:
    query = select(ApiKeyRow, IdentityRow).join(IdentityRow, col(IdentityRow.id) == col(ApiKeyRow.identity_id))
    if not include_revoked:
        query = query.where(col(ApiKeyRow.revoked_at).is_(None))
    if identity is not None:
        query = query.where(ApiKeyRow.identity_id == _identity_row(session, identity).id)
    return [ApiKey.of(key, owner) for key, owner in session.exec(query.order_by(col(ApiKeyRow.id))).all()]


def revoke_key(session: Session, key_id: str, *, by: str) -> ApiKey:
    row = session.get(ApiKeyRow, key_id, with_for_update=True)
    if row is None:
        raise NotFound(f"no API key {key_id!r}")
    if row.revoked_at is not None:
        raise Conflict(f"API key {key_id!r} ({row.name}) was already revoked at {row.revoked_at.isoformat()}")
    row.revoked_at = utcnow()
    row.revoked_by = by
    session.add(row)
    session.flush()
    return _view(session, row)


def _view(session: Session, row: ApiKeyRow) -> ApiKey:
    return ApiKey.of(row, session.get(IdentityRow, row.identity_id))
