"""DMN 1.5, 10.3.2.2 (equality, identity and equivalence) and the comparison rows of the
semantic mappings: `=` and `!=` on every kind of value, order comparisons, `between`."""

from __future__ import annotations

import pytest

from tests.feel.helpers import ev, run

# --- = and != : values of the same type -----------------------------------------------------

EQUAL: list[tuple[str, bool]] = [
    ("1 = 1", True),
    ("1.0 = 1", True),               # numbers compare by value, not by scale
    ("1.10 = 1.1", True),
    ("-0 = 0", True),
    ("1 = 2", False),
    ('"a" = "a"', True),
    ('"a" = "A"', False),            # strings compare by code points, case sensitive
    ('"" = ""', True),
    ("true = true", True),
    ("true = false", False),
    ('date("2020-01-01") = date("2020-01-01")', True),
    ('date("2020-01-01") = date("2020-01-02")', False),
    ('duration("P12M") = duration("P1Y")', True),
    ('duration("P1D") = duration("PT24H")', True),
    ('date and time("2020-01-01T10:00:00Z") = date and time("2020-01-01T11:00:00+01:00")', True),
    ("[1, 2] = [1, 2]", True),
    ("[1, 2] = [2, 1]", False),      # lists are ordered
    ("[1, 2] = [1, 2, 3]", False),
    ("[] = []", True),
    ("[[1], [2]] = [[1], [2]]", True),
    ("{a: 1, b: 2} = {b: 2, a: 1}", True),   # contexts are equal when their entries are
    ("{a: 1} = {a: 1, b: 1}", False),
    ("{a: 1} = {a: 2}", False),
    ("[1..2] = [1..2]", True),       # ranges: same endpoints and the same closedness
    ("[1..2] = [1..2)", False),
    ("[1..2] = [1..3]", False),
    ("(< 5) = (< 5)", True),
    ("(< 5) = (<= 5)", False),
]


@pytest.mark.parametrize(("text", "expected"), EQUAL)
def test_equality(text: str, expected: bool) -> None:
    assert ev(text) is expected
    assert ev(text.replace(" = ", " != ", 1)) is (not expected)


# --- null ---------------------------------------------------------------------------------------


def test_null_equals_null() -> None:
    assert ev("null = null") is True
    assert ev("null != null") is False


@pytest.mark.parametrize("value", ["1", '"a"', "true", "false", "[]", "{}", '@"2020-01-01"', "[1..2]"])
def test_null_is_not_equal_to_any_other_value(value: str) -> None:
    assert ev(f"null = {value}") is False
    assert ev(f"{value} = null") is False
    assert ev(f"null != {value}") is True
    assert ev(f"{value} != null") is True


@pytest.mark.parametrize("op", ["<", "<=", ">", ">="])
def test_null_is_not_ordered(op: str) -> None:
    assert ev(f"1 {op} null") is None
    assert ev(f"null {op} 1") is None
    assert ev(f"null {op} null") is None


# --- values of different types are not comparable -------------------------------------------------

INCOMPARABLE = [
    ('1', '"1"'),
    ("1", "true"),
    ('"true"', "true"),
    ("[1]", "1"),                  # no singleton conversion in comparisons
    ("{a: 1}", "[1]"),
    ('date("2020-01-01")', 'date and time("2020-01-01T00:00:00")'),
    ('duration("P1Y")', 'duration("P365D")'),
    ('date("2020-01-01")', '"2020-01-01"'),
    ("[1..2]", "[1, 2]"),
]


@pytest.mark.parametrize(("a", "b"), INCOMPARABLE)
def test_equality_of_values_of_different_types_is_null(a: str, b: str) -> None:
    for text in (f"{a} = {b}", f"{b} = {a}", f"{a} != {b}"):
        value, problems = run(text)
        assert value is None, text
        assert problems, text


def test_equality_of_lists_with_incomparable_elements_is_null_unless_decided() -> None:
    assert ev('[1, "a"] = [1, 1]') is None
    assert ev('[1, "a"] = [2, 1]') is False   # already unequal at the first element
    assert ev('{a: 1} = {a: "1"}') is None


# --- < <= > >= ---------------------------------------------------------------------------------

ORDERED: list[tuple[str, bool]] = [
    ("1 < 2", True),
    ("2 < 1", False),
    ("1 <= 1", True),
    ("1 >= 1", True),
    ("1 > 1", False),
    ("-1.5 < -1", True),
    ('"a" < "b"', True),
    ('"B" < "a"', True),                        # code point order
    ('"abc" > "ab"', True),
    ('date("2020-01-01") < date("2020-01-02")', True),
    ('time("10:00:00") < time("11:00:00")', True),
    ('date and time("2020-01-01T00:00:00") < date and time("2020-01-01T00:00:01")', True),
    ('duration("P1Y") < duration("P13M")', True),
    ('duration("PT1H") > duration("PT59M")', True),
]


@pytest.mark.parametrize(("text", "expected"), ORDERED)
def test_order_comparisons(text: str, expected: bool) -> None:
    assert ev(text) is expected


@pytest.mark.parametrize("text", [
    "true < false",                 # booleans have no order
    "true >= true",
    '1 < "2"',
    "[1] < [2]",                    # nor lists
    "{a: 1} < {a: 2}",
    'date("2020-01-01") < date and time("2020-01-02T00:00:00")',
    'duration("P1Y") < duration("P400D")',
    "[1..2] < [3..4]",
])
def test_order_comparisons_of_unordered_or_different_types_are_null(text: str) -> None:
    value, problems = run(text)
    assert value is None
    assert problems


def test_comparisons_do_not_chain() -> None:
    from decisions.feel import FeelSyntaxError, compile_expression

    with pytest.raises(FeelSyntaxError):
        compile_expression("1 < 2 < 3")


# --- between: e between e1 and e2 is e >= e1 and e <= e2 --------------------------------------------

BETWEEN: list[tuple[str, bool]] = [
    ("5 between 1 and 10", True),
    ("1 between 1 and 10", True),         # both ends included
    ("10 between 1 and 10", True),
    ("0 between 1 and 10", False),
    ("11 between 1 and 10", False),
    ("5 between 10 and 1", False),        # an empty interval
    ("5 between 5 and 5", True),
    ('"b" between "a" and "c"', True),
    ('"d" between "a" and "c"', False),
    ('date("2020-01-05") between date("2020-01-01") and date("2020-01-10")', True),
    ('duration("P2D") between duration("P1D") and duration("P3D")', True),
]


@pytest.mark.parametrize(("text", "expected"), BETWEEN)
def test_between(text: str, expected: bool) -> None:
    assert ev(text) is expected
    value, low, high = text.replace(" between ", "|").replace(" and ", "|").split("|")
    assert ev(f"{value} >= {low} and {value} <= {high}") is expected


@pytest.mark.parametrize("text", [
    "null between 1 and 10", "5 between null and 10", "5 between 1 and null",
    '5 between "a" and 10', '"a" between 1 and 10', "5 between null and null",
])
def test_between_with_null_or_incomparable_operands_is_null(text: str) -> None:
    assert ev(text) is None


@pytest.mark.parametrize("text", [
    "12 between null and 10",      # null and false
    "0 between 1 and null",        # false and null
    '5 between "a" and 1',
    '0 between 1 and "z"',
])
def test_between_is_false_when_one_comparison_is_false(text: str) -> None:
    # As `e >= a and e <= b`: false and null is false.
    assert ev(text) is False


def test_between_reports_incomparable_bounds() -> None:
    value, problems = run('5 between "a" and 1')
    assert value is False
    assert [p.message for p in problems] == ["cannot compare number with string"]


def test_between_binds_looser_than_arithmetic() -> None:
    assert ev("1 + 4 between 2 * 2 and 10 - 5") is True
    assert ev("x between 1 and 10 and x > 4", x=5) is True
