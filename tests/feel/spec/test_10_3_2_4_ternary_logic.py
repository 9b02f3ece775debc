"""DMN 1.5, 10.3.2.4 (ternary logic): `and`, `or` and `not` over true, false and null,
where any non-boolean operand counts as null."""

from __future__ import annotations

import pytest

from tests.feel.helpers import ev

T, F, N = "true", "false", "null"

# The truth tables of the specification, row by row.
AND = [(T, T, True), (T, F, False), (T, N, None), (F, T, False), (F, F, False), (F, N, False),
       (N, T, None), (N, F, False), (N, N, None)]
OR = [(T, T, True), (T, F, True), (T, N, True), (F, T, True), (F, F, False), (F, N, None),
      (N, T, True), (N, F, None), (N, N, None)]


@pytest.mark.parametrize(("a", "b", "expected"), AND)
def test_and(a: str, b: str, expected: bool | None) -> None:
    assert ev(f"{a} and {b}") is expected


@pytest.mark.parametrize(("a", "b", "expected"), OR)
def test_or(a: str, b: str, expected: bool | None) -> None:
    assert ev(f"{a} or {b}") is expected


@pytest.mark.parametrize(("a", "expected"), [(T, False), (F, True), (N, None)])
def test_not(a: str, expected: bool | None) -> None:
    assert ev(f"not({a})") is expected


@pytest.mark.parametrize("other", ["1", '"true"', "[true]", "{}", '@"2020-01-01"'])
def test_a_non_boolean_operand_counts_as_null(other: str) -> None:
    assert ev(f"true and {other}") is None
    assert ev(f"{other} and true") is None
    assert ev(f"false and {other}") is False
    assert ev(f"{other} and false") is False
    assert ev(f"true or {other}") is True
    assert ev(f"{other} or true") is True
    assert ev(f"false or {other}") is None
    assert ev(f"{other} or false") is None
    assert ev(f"not({other})") is None


def test_and_or_are_order_independent() -> None:
    # false wins `and`, true wins `or`, whichever side it is on (no short-circuit asymmetry).
    assert ev("null and false") is False
    assert ev("null or true") is True
    assert ev("x.a and false", x=None) is False


def test_chains_and_precedence() -> None:
    assert ev("true and true and null") is None
    assert ev("false or false or true") is True
    assert ev("true or false and false") is True    # and binds tighter than or
    assert ev("(true or false) and false") is False
    assert ev("not(true) or not(false)") is True


def test_not_takes_one_argument() -> None:
    assert ev("not(true, false)") is None


def test_boolean_results_of_comparisons_combine() -> None:
    assert ev("1 < 2 and 2 < 3") is True
    assert ev('1 < 2 and 1 = "1"') is None
    assert ev('1 > 2 and 1 = "1"') is False
