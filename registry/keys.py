"""API keys: the secret is shown once, at creation; only its SHA-256 is stored.

A secret is 32 random bytes (URL-safe base 64) behind the prefix `dcy_`; its hash is a unique
column, so `verify_key` is one indexed lookup. A secret with 256 bits of entropy needs no salt
or slow hash: there is nothing to guess, and the hash is not reversible. Nothing is cached, so a
revoked key stops working at once.
"""

from __future__ import annotations

import hashlib
import secrets

from sqlmodel import Session, col, select

from registry.errors import Conflict, Invalid, NotFound
from registry.ids import new_ulid
from registry.tables import ROLES, ApiKeyRow, utcnow
from registry.views import ApiKey

SECRET_PREFIX = "dcy_"
_MAX_SECRET_LENGTH = 200


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def create_key(session: Session, name: str, role: str, *, by: str | None = None) -> tuple[ApiKey, str]:
    """A new key: (what is stored, the secret). Give the secret to its owner; it is not kept."""
    if role not in ROLES:
        raise Invalid(f"unknown role {role!r}: expected one of {', '.join(ROLES)}")
    if not isinstance(name, str) or not name.strip() or len(name) > 200:
        raise Invalid("an API key needs a name (1-200 characters)")
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    row = ApiKeyRow(id=new_ulid(), name=name.strip(), role=role, key_hash=hash_secret(secret),
                    prefix=secret[:12], created_by=by)
    session.add(row)
    session.flush()
    return ApiKey.of(row), secret


def verify_key(session: Session, secret: str) -> ApiKey | None:
    """The active key whose secret this is, or None (unknown, malformed or revoked)."""
    if not isinstance(secret, str) or not secret or len(secret) > _MAX_SECRET_LENGTH:
        return None
    row = session.exec(
        select(ApiKeyRow).where(ApiKeyRow.key_hash == hash_secret(secret), col(ApiKeyRow.revoked_at).is_(None))
    ).first()
    return ApiKey.of(row) if row is not None else None


def get_key(session: Session, key_id: str) -> ApiKey:
    row = session.get(ApiKeyRow, key_id)
    if row is None:
        raise NotFound(f"no API key {key_id!r}")
    return ApiKey.of(row)


def list_keys(session: Session, *, include_revoked: bool = False) -> list[ApiKey]:
    query = select(ApiKeyRow)
    if not include_revoked:
        query = query.where(col(ApiKeyRow.revoked_at).is_(None))
    return [ApiKey.of(row) for row in session.exec(query.order_by(col(ApiKeyRow.id))).all()]


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
    return ApiKey.of(row)
