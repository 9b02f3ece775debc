"""Champion/challenger splits and shadow versions on aliases: parsing, the deterministic split,
storing a routing as an alias move, rollback, and resolution."""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

import pytest
from registry_samples import APPROVER, AUTHOR, KEY, loan_dmn, published_version
from sqlalchemy.engine import Engine

from registry import (
    Conflict,
    Invalid,
    NotFound,
    RoutingInvalid,
    alias_history,
    clear_routing,
    create_draft,
    get_alias,
    parse_routing,
    resolve,
    retire,
    rollback,
    set_alias,
    set_routing,
    unit_of_work,
)
from registry.routing import bucket, canonical_json


def _split(champion: int, challenger: int, shares: tuple[Any, Any] = (90, 10), **extra: Any) -> dict[str, Any]:
    return {"split_on": "Applicant Age",
            "arms": [{"name": "champion", "version": champion, "percent": shares[0]},
                     {"name": "challenger", "version": challenger, "percent": shares[1]}], **extra}


def _versions(engine: Engine, count: int = 3) -> list[int]:
    return [published_version(engine, loan_dmn(limit=str(1000 * (i + 1)))).number for i in range(count)]


# --- pure: parsing and the split ----------------------------------------------------------------


def test_the_same_value_always_falls_in_the_same_arm_whatever_its_spelling() -> None:
    routing = parse_routing(_split(1, 2, (50, 50)))
    for value in ("A-1001", 42, "2024-05-01", {"b": 1, "a": [1, 2]}):
        arms = {routing.choose(KEY, "production", value) for _ in range(5)}
        assert len(arms) == 1
    assert canonical_json(5) == canonical_json(5.0) == canonical_json(Decimal("5.00")) == "5"
    assert canonical_json({"b": 1, "a": Decimal("0.10")}) == '{"a":0.1,"b":1}'
    assert bucket(KEY, "production", 5) == bucket(KEY, "production", Decimal("5.0"))
    # The alias and the key are part of what is hashed: another alias splits independently.
    places = {bucket(KEY, alias, "A-1001") for alias in ("production", "staging", "canary", "eu", "us")}
    assert len(places) > 1
    assert all(0 <= p < 10_000 for p in places)


@pytest.mark.parametrize("shares", [(90, 10), (Decimal("66.67"), Decimal("33.33")), (50, 50)])
def test_over_2000_values_each_arm_gets_its_share_within_binomial_tolerance(shares: tuple[Any, Any]) -> None:
    routing = parse_routing(_split(1, 2, shares))
    n = 2000
    counts = {"champion": 0, "challenger": 0}
    for i in range(n):
        arm = routing.choose(KEY, "production", f"applicant-{i}")
        assert arm is not None
        counts[arm.name] += 1
    for arm in routing.arms:
        p = arm.basis_points / 10_000
        expected, sd = n * p, math.sqrt(n * p * (1 - p))
        assert abs(counts[arm.name] - expected) <= 4 * sd, (arm.name, counts, expected)


def test_a_three_way_split_uses_cumulative_percents() -> None:
    routing = parse_routing({"split_on": "x", "arms": [{"name": "a", "version": 1, "percent": 20},
                                                      {"name": "b", "version": 2, "percent": 30.5},
                                                      {"name": "c", "version": 3, "percent": 49.5}]})
    for i in range(300):
        point = bucket(KEY, "production", i)
        arm = routing.choose(KEY, "production", i)
        assert arm is not None
        assert arm.name == ("a" if point < 2000 else "b" if point < 5050 else "c")
    assert [a.percent for a in routing.arms] == [20, 30.5, 49.5]


@pytest.mark.parametrize(("data", "pointer", "words"), [
    (_split(1, 2, (90, 5)), "/arms", "add up to 95, not 100 (champion 90, challenger 5)"),
    (_split(1, 2, (Decimal("90.005"), Decimal("9.995"))), "/arms/0/percent", "more than 2 decimals"),
    (_split(1, 2, ("90", 10)), "/arms/0/percent", "must be a number"),
    (_split(1, 2, (110, -10)), "/arms/0/percent", "from 0 to 100"),
    ({"split_on": "x", "arms": [{"name": "a", "version": 1, "percent": 50},
                                {"name": "a", "version": 2, "percent": 50}]}, "/arms", "'a' is used more than once"),
    ({"split_on": "x", "arms": [{"name": "", "version": 1, "percent": 100}]}, "/arms/0/name", "1-100 characters"),
    ({"split_on": "x", "arms": [{"name": "shadow", "version": 1, "percent": 100}]}, "/arms/0/name", "shadow"),
    ({"split_on": "x", "arms": [{"name": "a", "version": 0, "percent": 100}]}, "/arms/0/version", "version number"),
    ({"split_on": "x", "arms": [{"name": "a", "version": 1, "percent": 100, "weight": 1}]}, "/arms/0/weight",
     "no field 'weight'"),
    (_split(1, 2, split_on=None), "/split_on", "needs split_on"),
    (_split(1, 2, shadows=[2]), "/shadows", "both an arm and a shadow"),
    ({"shadows": [2, 3, 4, 5]}, "/shadows", "at most 3"),
    ({"shadows": [2, 2]}, "/shadows", "more than once"),
    ({}, "", "needs arms, shadows or both"),
    ({"split_on": "x", "shadows": [2]}, "/split_on", "without arms"),
    ([1, 2], "", "is an object"),
])
def test_a_routing_that_cannot_be_says_where_and_why(data: Any, pointer: str, words: str) -> None:
    with pytest.raises(RoutingInvalid) as raised:
        parse_routing(data)
    assert raised.value.pointer == pointer
    assert words in str(raised.value)


def test_shadows_without_arms_are_a_routing() -> None:
    routing = parse_routing({"shadows": [3]})
    assert routing.arms == () and routing.shadows == (3,) and routing.split_on is None
    assert routing.choose(KEY, "production", "x") is None
    assert routing.to_dict() == {"split_on": None, "arms": [], "shadows": [3]}


# --- stored: set, clear, rollback, resolve ------------------------------------------------------


def test_a_routing_is_stored_shown_and_recorded_as_a_move(engine: Engine) -> None:
    v1, v2, v3 = _versions(engine)
    with unit_of_work(engine) as session:
        set_alias(session, KEY, "production", v1, by="ops")
        target = set_routing(session, KEY, "production", _split(v1, v2, (Decimal("87.5"), Decimal("12.5")),
                                                                  shadows=[v3]), by="carol", why="try v2")
    expected = {"split_on": "Applicant Age",
                "arms": [{"name": "champion", "version": v1, "percent": 87.5},
                         {"name": "challenger", "version": v2, "percent": 12.5}], "shadows": [v3]}
    assert (target.number, target.routing, target.updated_by) == (v1, expected, "carol")
    with unit_of_work(engine) as session:
        assert get_alias(session, KEY, "production").routing == expected
        moves = alias_history(session, KEY, "production")
        resolved = resolve(session, f"{KEY}@production")
        plain = resolve(session, f"{KEY}@{v1}")
    assert [(m.kind, m.from_number, m.to_number, m.by, m.why, m.routing) for m in moves] == [
        ("set", None, v1, "ops", None, None), ("set", v1, v1, "carol", "try v2", expected)]
    assert resolved.number == v1 and resolved.routing is not None
    assert resolved.routing.to_dict() == expected
    assert sorted(resolved.routed) == [v1, v2, v3]
    assert resolved.routed[v2].number == v2 and resolved.routed[v3].state == "published"
    challenger = resolved.for_arm(resolved.routing.arms[1])
    assert (challenger.number, challenger.arm, challenger.alias) == (v2, "challenger", "production")
    assert plain.routing is None and plain.routed == {}

    with unit_of_work(engine) as session:  # the same routing again changes nothing
        set_routing(session, KEY, "production", _split(v1, v2, (Decimal("87.5"), Decimal("12.5")), shadows=[v3]),
                    by="carol")
        assert len(alias_history(session, KEY, "production")) == 2


def test_a_routing_the_stored_versions_refuse_changes_nothing(engine: Engine) -> None:
    v1, v2 = _versions(engine, 2)
    with unit_of_work(engine) as session:
        draft = create_draft(session, KEY, loan_dmn(limit="7"), author=AUTHOR).number
        set_alias(session, KEY, "production", v1, by="ops")
    refused: list[tuple[dict[str, Any], type[Exception], str]] = [
        (_split(v1, draft), Conflict, f"version {draft} is draft"),
        ({"shadows": [draft]}, Conflict, f"version {draft} is draft"),
        ({"split_on": "x", "arms": [{"name": "solo", "version": v2, "percent": 100}]}, Invalid,
         f"own version {v1}"),
        (_split(v1, v2, split_on="Region"), Invalid, "'Region' is not an input of version"),
        ({"shadows": [v1]}, Invalid, "cannot shadow itself"),
        (_split(v1, 999), Exception, "no version 999"),
    ]
    for routing, error, words in refused:
        with pytest.raises(error) as raised, unit_of_work(engine) as session:
            set_routing(session, KEY, "production", routing, by="carol")
        assert words in str(raised.value), routing
    with unit_of_work(engine) as session:
        assert get_alias(session, KEY, "production").routing is None
        assert len(alias_history(session, KEY, "production")) == 1
        with pytest.raises(NotFound):
            set_routing(session, KEY, "staging", {"shadows": [v2]}, by="carol")


def test_split_on_must_be_an_input_of_every_arm(engine: Engine) -> None:
    v1 = published_version(engine, loan_dmn()).number
    with_region = published_version(engine, loan_dmn(extra_input=True)).number
    with unit_of_work(engine) as session:
        set_alias(session, KEY, "production", with_region, by="ops")
        with pytest.raises(Invalid, match=rf"'Region' is not an input of version {v1} \(arm 'challenger'\)"):
            set_routing(session, KEY, "production", _split(with_region, v1, split_on="Region"), by="carol")
    with unit_of_work(engine) as session:
        target = set_routing(session, KEY, "production", _split(with_region, v1), by="carol")
        assert target.routing is not None and target.routing["split_on"] == "Applicant Age"


def test_rollback_restores_the_version_and_the_routing_together(engine: Engine) -> None:
    v1, v2, v3 = _versions(engine)
    split = _split(v1, v2, shadows=[v3])
    with unit_of_work(engine) as session:
        set_alias(session, KEY, "production", v1, by="ops")
        set_routing(session, KEY, "production", split, by="carol")
        moved = set_alias(session, KEY, "production", v3, by="ops", why="promote")
    assert (moved.number, moved.routing) == (v3, None)  # moving the alias ends its split
    with unit_of_work(engine) as session:
        back = rollback(session, KEY, "production", by="ops")
    assert back.number == v1 and back.routing == parse_routing(split).to_dict()
    with unit_of_work(engine) as session:
        cleared = clear_routing(session, KEY, "production", by="carol", why="done")
        assert cleared.routing is None and cleared.number == v1
        restored = rollback(session, KEY, "production", by="ops")
        assert restored.routing == parse_routing(split).to_dict()
        assert resolve(session, KEY).routing is not None
        again = rollback(session, KEY, "production", by="ops")  # before the routing: v1 alone
        assert (again.number, again.routing) == (v1, None)
        with pytest.raises(Conflict, match="no earlier version"):
            rollback(session, KEY, "production", by="ops")
        kinds = [m.kind for m in alias_history(session, KEY, "production")]
    assert kinds == ["set", "set", "set", "rollback", "set", "rollback", "rollback"]


def test_clearing_nothing_changes_nothing_and_routed_versions_cannot_be_retired(engine: Engine) -> None:
    v1, v2, v3 = _versions(engine)
    with unit_of_work(engine) as session:
        set_alias(session, KEY, "production", v1, by="ops")
        clear_routing(session, KEY, "production", by="carol")
        assert len(alias_history(session, KEY, "production")) == 1
        set_routing(session, KEY, "production", _split(v1, v2, shadows=[v3]), by="carol")
    for number in (v2, v3):
        with pytest.raises(Conflict, match="routing of alias"), unit_of_work(engine) as session:
            retire(session, KEY, number, by=APPROVER)
    with unit_of_work(engine) as session:
        clear_routing(session, KEY, "production", by="carol")
        assert retire(session, KEY, v3, by=APPROVER).state == "retired"
