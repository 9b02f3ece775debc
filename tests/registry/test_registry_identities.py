"""Identities: keys are issued to a person, and the two-person rule compares persons, not keys.
The migration that brought identities made each existing key its own identity."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from registry import (
    Conflict,
    Forbidden,
    NotFound,
    approve,
    create_draft,
    create_identity,
    create_key,
    get_identity,
    list_keys,
    make_engine,
    submit,
    unit_of_work,
    upgrade,
    verify_key,
)
from registry.keys import hash_secret
from tests.registry.registry_samples import loan_dmn


def _submitted(engine: Engine, author: str) -> int:
    with unit_of_work(engine) as session:
        number = create_draft(session, "scores", loan_dmn(), author=author).number
        submit(session, "scores", number, by=author)
    return number


def test_a_second_key_of_one_identity_is_not_a_second_person(engine: Engine) -> None:
    with unit_of_work(engine) as session:
        first, first_secret = create_key(session, "laptop", "admin", by="setup")
        second, second_secret = create_key(session, "Admin", "admin", by="setup", identity=first.identity_id)
        assert first.identity == second.identity == "laptop" and first.identity_id == second.identity_id
        acting = [verify_key(session, s) for s in (first_secret, second_secret)]
    assert [a.identity for a in acting if a is not None] == ["laptop", "laptop"]
    number = _submitted(engine, "laptop")
    with unit_of_work(engine) as session, pytest.raises(Forbidden, match="maker-checker"):
        approve(session, "scores", number, by="laptop")
    with unit_of_work(engine) as session, pytest.raises(Forbidden, match="maker-checker"):
        approve(session, "scores", number, by="LAPTOP ")  # names compare as identities do
    with unit_of_work(engine) as session:
        rita = create_identity(session, "Rita", by="laptop")
        assert approve(session, "scores", number, by=rita.name).state == "approved"


def test_identities_are_created_once_and_recorded(engine: Engine) -> None:
    with unit_of_work(engine) as session:
        ana = create_identity(session, "Ana  Lima", by="admin-1")
        assert (ana.name, ana.created_by) == ("Ana Lima", "admin-1")
        with pytest.raises(Conflict, match="issue keys to it"):
            create_identity(session, "ana lima", by="admin-2")
        assert get_identity(session, "ANA LIMA").id == get_identity(session, ana.id).id == ana.id
        with pytest.raises(NotFound, match="no identity"):
            create_key(session, "k", "viewer", identity="nobody")
        named, _ = create_key(session, "ANA LIMA", "viewer")  # no identity given: the one of that name
        assert named.identity_id == ana.id
        create_key(session, "phone", "viewer", identity="ana lima")
        assert [k.name for k in list_keys(session, identity=ana.id)] == ["ANA LIMA", "phone"]


def test_the_migration_makes_each_existing_key_its_own_identity(blank_database_url: str) -> None:
    upgrade(blank_database_url, "0006")
    engine = make_engine(blank_database_url)
    try:
        keys = [("01AAAAAAAAAAAAAAAAAAAAAAA1", "admin", "dcy_first"), ("01AAAAAAAAAAAAAAAAAAAAAAA2", "Admin", "dcy_second"),
                ("01AAAAAAAAAAAAAAAAAAAAAAA3", "ana", "dcy_third")]
        with engine.begin() as connection:
            for key_id, name, secret in keys:
                connection.execute(sa.text(
                    "INSERT INTO api_keys (id, name, role, key_hash, prefix, created_at) "
                    "VALUES (:id, :name, 'admin', :hash, :prefix, CURRENT_TIMESTAMP)"),
                    {"id": key_id, "name": name, "hash": hash_secret(secret), "prefix": secret[:12]})
        upgrade(blank_database_url)
        with unit_of_work(engine, read_only=True) as session:
            acting = {secret: verify_key(session, secret) for _, _, secret in keys}
        assert {s: (k.identity_id, k.identity) for s, k in acting.items() if k is not None} == {
            "dcy_first": ("01AAAAAAAAAAAAAAAAAAAAAAA1", "admin"),
            "dcy_second": ("01AAAAAAAAAAAAAAAAAAAAAAA2", "Admin (key 01AAAAAAAAAAAAAAAAAAAAAAA2)"),
            "dcy_third": ("01AAAAAAAAAAAAAAAAAAAAAAA3", "ana"),
        }
        with engine.connect() as connection:
            created_by = connection.execute(sa.text("SELECT DISTINCT created_by FROM identities")).scalars().all()
        assert created_by == ["migration 0007"]
    finally:
        engine.dispose()
