"""DMN 1.5, the `in` expression and positive unary tests (grammar rules 49-53 and the unary
test rows of the semantic mappings): `e in test`, `e in (test, test)`, lists, ranges,
comparisons, and `?`."""

from __future__ import annotations

import pytest

from tests.feel.helpers import ev, test_matches

IN: list[tuple[str, bool | None]] = [
    ("5 in [1..10]", True),
    ("1 in [1..10]", True),
    ("1 in (1..10]", False),
    ("10 in [1..10)", False),
    ("10 in [1..10[", False),
    ("1 in ]1..10]", False),
    ("5 in < 10", True),
    ("5 in (< 10)", True),
    ("5 in <= 5", True),
    ("5 in > 5", False),
    ("5 in >= 5", True),
    ("5 in = 5", True),
    ("5 in != 5", False),
    ("5 in 5", True),
    ("5 in 6", False),
    ("5 in (> 10, < 3)", False),    # a disjunction of tests
    ("5 in (> 10, 5)", True),
    ("5 in (1, 2, 5)", True),
    ("5 in [1, 2, 5]", True),       # an expression giving a list: list membership
    ("5 in [1, 2]", False),
    ("5 in []", False),
    ("5 in ([1..3], [4..6])", True),
    ('"b" in ["a".."c"]', True),
    ('"b" in ("a", "b")', True),
    ('date("2020-01-05") in [date("2020-01-01")..date("2020-01-10")]', True),
    ('date("2020-01-05") in > date("2020-01-05")', False),
    ('duration("P2D") in [duration("P1D")..duration("P3D")]', True),
    ("null in [1, null]", True),    # null = null
    ("null in (1, null)", True),
    ("null in 1", False),
    ("null in [1..10]", None),      # null is not ordered
    ('"a" in [1..10]', None),
    ('"a" in < 10', None),
    ("[1, 2] in [[1, 2], [3]]", True),
]


@pytest.mark.parametrize(("text", "expected"), IN)
def test_in(text: str, expected: bool | None) -> None:
    assert ev(text) is expected


def test_in_with_names() -> None:
    assert ev("x in [1..y]", x=3, y=5) is True
    assert ev("x in list", x=3, list=[1, 2, 3]) is True
    assert ev("x in (1, list)", x=3, list=[2, 3]) is True


def test_in_binds_looser_than_arithmetic_and_tighter_than_and() -> None:
    assert ev("1 + 1 in [2..3]") is True
    assert ev("2 in [1..3] and 5 in [1..3]") is False


# --- unary tests applied to an input value (decision table cells) -----------------------------------


@pytest.mark.parametrize(("tests", "value", "expected"), [
    ("-", 5, True),                    # any value
    ("-", None, True),
    ("5", 5, True),
    ("5, 6", 6, True),
    ("< 5", 4, True),
    ("< 5", 5, False),
    ("[1..5]", 5, True),
    ("not(5)", 5, False),
    ("not(5)", 6, True),
    ("not(< 5, > 10)", 7, True),
    ("not(< 5, > 10)", 11, False),
    ("null", None, True),
    ("not(null)", None, False),
    ('"a", "b"', "b", True),
    ("? > 5", 7, True),
    ("? > 5 and ? < 10", 12, False),
    ("count(?) > 1", [1, 2], True),
    ("[1, 2, 3]", 2, True),           # an expression giving a list: membership
    ("x", 3, True),
])
def test_unary_tests(tests: str, value: object, expected: bool) -> None:
    assert test_matches(tests, value, x=[3, 4]) is expected


def test_a_unary_test_that_is_not_comparable_does_not_match() -> None:
    assert not test_matches("< 5", "a")
    assert not test_matches("[1..5]", None)
