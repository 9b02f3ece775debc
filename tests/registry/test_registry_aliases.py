"""Aliases (environments), their history, rollback, and resolving a reference to a version."""

from __future__ import annotations

import pytest
from registry_samples import APPROVER, AUTHOR, KEY, loan_dmn, published_version
from sqlalchemy.engine import Engine

from registry import (
    Conflict,
    Invalid,
    NotFound,
    alias_history,
    approve,
    create_draft,
    get_alias,
    list_aliases,
    resolve,
    retire,
    rollback,
    set_alias,
    submit,
    unit_of_work,
)


def _three_published(engine: Engine) -> list[int]:
    return [published_version(engine, loan_dmn(limit=str(limit))).number for limit in (1000, 2000, 3000)]


def test_set_alias_points_at_a_published_version_and_records_the_move(engine: Engine) -> None:
    v1, v2, _ = _three_published(engine)
    with unit_of_work(engine) as session:
        set_alias(session, KEY, "production", v1, by="ops", why="first release")
        target = set_alias(session, KEY, "production", v2, by="ops2", why="better limits")
        set_alias(session, KEY, "staging", v2, by="ops")
    assert (target.alias, target.number, target.updated_by) == ("production", v2, "ops2")
    with unit_of_work(engine) as session:
        assert get_alias(session, KEY, "production").number == v2
        assert [(a.alias, a.number) for a in list_aliases(session, KEY)] == [("production", v2), ("staging", v2)]
        moves = alias_history(session, KEY, "production")
        assert len(alias_history(session, KEY)) == 3
    assert [(m.kind, m.from_number, m.to_number, m.by, m.why) for m in moves] == [
        ("set", None, v1, "ops", "first release"),
        ("set", v1, v2, "ops2", "better limits"),
    ]
    assert moves[0].at <= moves[1].at


def test_setting_an_alias_to_where_it_points_records_nothing(engine: Engine) -> None:
    (v1, *_) = _three_published(engine)
    with unit_of_work(engine) as session:
        set_alias(session, KEY, "production", v1, by="ops")
        set_alias(session, KEY, "production", v1, by="ops")
        assert len(alias_history(session, KEY, "production")) == 1


@pytest.mark.parametrize("state_steps", [[], ["submit"], ["submit", "approve"]])
def test_an_alias_cannot_point_at_an_unpublished_version(engine: Engine, state_steps: list[str]) -> None:
    with unit_of_work(engine) as session:
        number = create_draft(session, KEY, loan_dmn(), author=AUTHOR).number
        if "submit" in state_steps:
            submit(session, KEY, number, by=AUTHOR)
        if "approve" in state_steps:
            approve(session, KEY, number, by=APPROVER)
    with pytest.raises(Conflict, match="can only point at a published version"):
        with unit_of_work(engine) as session:
            set_alias(session, KEY, "production", number, by="ops")
    with unit_of_work(engine) as session:
        assert list_aliases(session, KEY) == []


def test_rollback_walks_back_through_the_history(engine: Engine) -> None:
    v1, v2, v3 = _three_published(engine)
    with unit_of_work(engine) as session:
        for number in (v1, v2, v3):
            set_alias(session, KEY, "production", number, by="ops")
    with unit_of_work(engine) as session:
        assert rollback(session, KEY, "production", by="oncall", why="errors up").number == v2
    with unit_of_work(engine) as session:
        assert rollback(session, KEY, "production", by="oncall").number == v1
    with pytest.raises(Conflict, match="no earlier version to roll back to"):
        with unit_of_work(engine) as session:
            rollback(session, KEY, "production", by="oncall")
    with unit_of_work(engine) as session:
        assert get_alias(session, KEY, "production").number == v1
        moves = alias_history(session, KEY, "production")
    assert [(m.kind, m.from_number, m.to_number) for m in moves] == [
        ("set", None, v1), ("set", v1, v2), ("set", v2, v3), ("rollback", v3, v2), ("rollback", v2, v1),
    ]
    assert moves[3].why == "errors up" and moves[3].by == "oncall"


def test_rollback_after_a_new_move_goes_back_to_the_version_just_left(engine: Engine) -> None:
    v1, v2, v3 = _three_published(engine)
    with unit_of_work(engine) as session:
        set_alias(session, KEY, "staging", v1, by="ops")
        set_alias(session, KEY, "staging", v2, by="ops")
        rollback(session, KEY, "staging", by="ops")  # back to v1
        set_alias(session, KEY, "staging", v3, by="ops")
        assert rollback(session, KEY, "staging", by="ops").number == v1


def test_rollback_refuses_a_target_that_was_retired(engine: Engine) -> None:
    v1, v2, _ = _three_published(engine)
    with unit_of_work(engine) as session:
        set_alias(session, KEY, "production", v1, by="ops")
        set_alias(session, KEY, "production", v2, by="ops")
        retire(session, KEY, v1, by="ops")
    with pytest.raises(Conflict, match="version 1 is retired"):
        with unit_of_work(engine) as session:
            rollback(session, KEY, "production", by="ops")
    with unit_of_work(engine) as session:
        assert get_alias(session, KEY, "production").number == v2


def test_rollback_of_an_unknown_alias_or_model(engine: Engine) -> None:
    _three_published(engine)
    with unit_of_work(engine) as session:
        with pytest.raises(NotFound, match="no alias 'production' to roll back"):
            rollback(session, KEY, "production", by="ops")
        with pytest.raises(NotFound, match="no model registered"):
            rollback(session, "missing", "production", by="ops")


@pytest.mark.parametrize("alias", ["3", "", "has space", "x@y", "-lead"])
def test_alias_names_are_checked(engine: Engine, alias: str) -> None:
    (v1, *_) = _three_published(engine)
    with pytest.raises(Invalid, match="invalid alias"):
        with unit_of_work(engine) as session:
            set_alias(session, KEY, alias, v1, by="ops")


def test_resolve_by_number_alias_and_plain_key(engine: Engine) -> None:
    v1, v2, v3 = _three_published(engine)
    with unit_of_work(engine) as session:
        draft = create_draft(session, KEY, loan_dmn(limit="9"), author=AUTHOR).number
        # No production alias yet: the plain key means the latest published version.
        plain = resolve(session, KEY)
        assert (plain.number, plain.via, plain.alias) == (v3, "latest published", None)
        set_alias(session, KEY, "production", v1, by="ops")
        set_alias(session, KEY, "staging", v2, by="ops")
        assert (resolve(session, KEY).number, resolve(session, KEY).alias) == (v1, "production")
        assert resolve(session, f"{KEY}@staging").number == v2
        by_number = resolve(session, f"{KEY}@{v3}")
        assert (by_number.number, by_number.via, by_number.version.state) == (v3, "number", "published")
        assert resolve(session, f"{KEY}@{draft}", include_unpublished=True).version.state == "draft"
        with pytest.raises(Conflict, match="is draft: only published versions can be called"):
            resolve(session, f"{KEY}@{draft}")
        with pytest.raises(NotFound, match="no alias 'canary'"):
            resolve(session, f"{KEY}@canary")
        with pytest.raises(NotFound, match="has no version 99"):
            resolve(session, f"{KEY}@99")
        with pytest.raises(NotFound, match="no model registered"):
            resolve(session, "unknown-model")
        for bad in ("", "@production", "a b@1", f"{KEY}@", f"{KEY}@-1"):
            with pytest.raises(Invalid):
                resolve(session, bad)


def test_resolve_without_any_published_version(engine: Engine) -> None:
    with unit_of_work(engine) as session:
        create_draft(session, KEY, loan_dmn(), author=AUTHOR)
        with pytest.raises(NotFound, match="has no published version yet"):
            resolve(session, KEY)


def test_resolved_versions_carry_what_a_decision_record_needs(engine: Engine) -> None:
    version = published_version(engine)
    with unit_of_work(engine) as session:
        set_alias(session, KEY, "production", version.number, by="ops")
        resolved = resolve(session, KEY)
    assert resolved.version.content_hash == version.content_hash
    assert resolved.version.text == loan_dmn()
    assert resolved.key == KEY
