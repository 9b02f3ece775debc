"""API keys: the secret is shown once, only its hash is stored, verification is a lookup."""

from __future__ import annotations

import hashlib

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from registry import (
    Conflict,
    Invalid,
    NotFound,
    create_key,
    get_key,
    list_keys,
    revoke_key,
    unit_of_work,
    verify_key,
)


def test_only_the_hash_of_the_secret_is_stored(engine: Engine) -> None:
    with unit_of_work(engine) as session:
        key, secret = create_key(session, "loans service", "caller", by="admin")
    assert secret.startswith("dcy_") and len(secret) > 40
    with engine.connect() as connection:
        rows = connection.execute(sa.text("SELECT * FROM api_keys")).mappings().all()
    assert len(rows) == 1
    stored = " ".join(str(v) for v in rows[0].values())
    assert secret not in stored
    assert secret[len(key.prefix):] not in stored  # not even the part after the shown prefix
    assert rows[0]["key_hash"] == hashlib.sha256(secret.encode()).hexdigest()
    assert (key.name, key.role, key.created_by, key.active) == ("loans service", "caller", "admin", True)


def test_verify_returns_the_key_for_its_secret_only(engine: Engine) -> None:
    with unit_of_work(engine) as session:
        alice, alice_secret = create_key(session, "alice", "author")
        bob, bob_secret = create_key(session, "bob", "approver")
    with unit_of_work(engine, read_only=True) as session:
        assert verify_key(session, alice_secret) == alice
        assert verify_key(session, bob_secret) == bob
        for wrong in ("", "dcy_", alice_secret + "x", alice_secret[:-1], bob.id, "x" * 10_000,
                      hashlib.sha256(alice_secret.encode()).hexdigest()):
            assert verify_key(session, wrong) is None


def test_a_revoked_key_stops_working_at_once(engine: Engine) -> None:
    with unit_of_work(engine) as session:
        key, secret = create_key(session, "temp", "viewer")
    with unit_of_work(engine) as session:
        revoked = revoke_key(session, key.id, by="admin")
    assert revoked.revoked_by == "admin" and not revoked.active
    with unit_of_work(engine) as session:
        assert verify_key(session, secret) is None
        assert get_key(session, key.id).revoked_at is not None
        assert list_keys(session) == []
        assert [k.id for k in list_keys(session, include_revoked=True)] == [key.id]
        with pytest.raises(Conflict, match="already revoked"):
            revoke_key(session, key.id, by="admin")
        with pytest.raises(NotFound):
            revoke_key(session, "nope", by="admin")


def test_roles_and_names_are_checked(engine: Engine) -> None:
    with unit_of_work(engine) as session:
        with pytest.raises(Invalid, match="unknown role 'root'"):
            create_key(session, "x", "root")
        with pytest.raises(Invalid, match="needs a name"):
            create_key(session, "  ", "viewer")
        roles = ["viewer", "author", "approver", "caller", "reviewer", "admin"]
        assert sorted(create_key(session, r, r)[0].role for r in roles) == sorted(roles)


def test_secrets_are_unique(engine: Engine) -> None:
    with unit_of_work(engine) as session:
        secrets = {create_key(session, f"k{i}", "caller")[1] for i in range(20)}
    assert len(secrets) == 20


def test_verification_is_an_index_lookup(engine: Engine) -> None:
    inspector = sa.inspect(engine)
    unique_columns = [c["column_names"] for c in inspector.get_unique_constraints("api_keys")]
    indexed = [i["column_names"] for i in inspector.get_indexes("api_keys")]
    assert ["key_hash"] in unique_columns + indexed
