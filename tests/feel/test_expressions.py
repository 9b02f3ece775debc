"""FEEL expressions -> values: literals, arithmetic, logic, comparisons, control, functions."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from decisions.feel.values import DayTimeDuration, Range, YearMonthDuration

from .helpers import ev, run, same

D = Decimal

LITERALS: list[tuple[str, Any]] = [
    ("1", 1),
    ("-1", -1),
    (".5", D("0.5")),
    ("1.50", D("1.5")),
    ('"abc"', "abc"),
    ('"a\\"b"', 'a"b'),
    ('"tab\\there"', "tab\there"),
    ('"\\u0041\\U01F40E"', "A\U0001F40E"),
    ('"\\ud83d\\udc0e"', "\U0001F40E"),
    ("true", True),
    ("false", False),
    ("null", None),
    ('@"2020-02-29"', dt.date(2020, 2, 29)),
    ('@"10:30:00"', dt.time(10, 30)),
    ('@"10:30:00Z"', dt.time(10, 30, tzinfo=dt.UTC)),
    ('@"2020-01-01T10:00:00+01:00"', dt.datetime(2020, 1, 1, 10, tzinfo=dt.timezone(dt.timedelta(hours=1)))),
    ('@"P1Y2M"', YearMonthDuration(14)),
    ('@"P1DT2H"', DayTimeDuration(D(93600))),
    ('@"-PT0.5S"', DayTimeDuration(D("-0.5"))),
    ("[]", []),
    ("[1, [2, 3]]", [1, [2, 3]]),
    ('{a: 1, "b c": "x"}', {"a": 1, "b c": "x"}),
    ("{}", {}),
    ("1 // a comment\n + 2", 3),
    ("1 /* block\n comment */ + 2", 3),
]

ARITHMETIC: list[tuple[str, Any]] = [
    ("1 + 2 * 3", 7),
    ("(1 + 2) * 3", 9),
    ("10 / 4", D("2.5")),
    ("1 / 3", D("0.3333333333333333333333333333333333")),
    ("2 / 3", D("0.6666666666666666666666666666666667")),
    ("0.1 + 0.2", D("0.3")),
    ("10 - 2 - 3", 5),
    ("2 ** 10", 1024),
    ("3 ** 4 ** 5", 3486784401),  # left associative
    ("-3 ** 2", 9),  # (-3) ** 2
    ("2 ** -1", D("0.5")),
    ("4 ** 0.5", 2),
    ("--1", 1),
    ("1 - -1", 2),
    # The 35-digit literal is a Decimal128 value first (...1234E+34, half even), then the sum rounds.
    ("12345678901234567890123456789012345 + 1", D("1.234567890123456789012345678901234E+34")),
    ("12345678901234567890123456789012355 + 1", D("1.234567890123456789012345678901236E+34")),
    ('"foo" + "bar"', "foobar"),
    ("1 / 0", None),
    ('"a" + 1', None),
    ("null + 1", None),
    ("1 - null", None),
    ("true + 1", None),
    ("10 ** 100000", None),  # overflow: null, not an exception
    ("(-8) ** 0.5", None),
]

TEMPORAL: list[tuple[str, Any]] = [
    ('date("2020-01-31") + duration("P1M")', dt.date(2020, 2, 29)),
    ('date("2020-03-01") - date("2020-02-01")', DayTimeDuration(D(29 * 86400))),
    ('date("2020-01-01") + duration("P1D")', dt.date(2020, 1, 2)),
    ('date("2020-01-01") - duration("P1Y")', dt.date(2019, 1, 1)),
    ('date and time("2020-01-01T10:00:00") + duration("PT90M")', dt.datetime(2020, 1, 1, 11, 30)),
    ('date and time("2020-01-02T00:00:00") - date and time("2020-01-01T12:00:00")', DayTimeDuration(D(43200))),
    ('time("10:00:00") + duration("PT15H")', dt.time(1, 0)),
    ('time("10:00:00") - time("08:30:00")', DayTimeDuration(D(5400))),
    ('duration("P1D") + duration("PT12H")', DayTimeDuration(D(129600))),
    ('duration("P1Y") - duration("P3M")', YearMonthDuration(9)),
    ('duration("P1D") * 2', DayTimeDuration(D(172800))),
    ('2 * duration("P1Y")', YearMonthDuration(24)),
    ('duration("P2Y") / 2', YearMonthDuration(12)),
    ('duration("P1D") / duration("PT12H")', 2),
    ('duration("P1Y") / duration("P1M")', 12),
    ('-duration("P1D")', DayTimeDuration(D(-86400))),
    ('@"2021-01-01T24:00:00" + @"PT1S"', dt.datetime(2021, 1, 2, 0, 0, 1)),
    ('@"2021-01-02T10:10:10+01:00" - @"2021-01-01"', DayTimeDuration(D(119410))),
    ('@"2021-01-01T00:00:00" - @"2021-01-02"', None),  # local vs UTC midnight: not comparable
    ('duration("P1D") + duration("P1Y")', None),
    ('date("2020-01-01") + 1', None),
    ('@"P1Y11M" * -2.5', YearMonthDuration(-57)),
]

LOGIC: list[tuple[str, Any]] = [
    ("true and true", True),
    ("true and false", False),
    ("true and null", None),
    ("false and null", False),
    ("null and false", False),
    ("true or null", True),
    ("null or true", True),
    ("false or null", None),
    ("false or false", False),
    ('1 and true', None),
    ("not(true)", False),
    ("not(null)", None),
    ("not(1)", None),
    ("true and true and false or true", True),
]

COMPARISON: list[tuple[str, Any]] = [
    ("1 = 1.0", True),
    ("1 != 2", True),
    ("1 < 2", True),
    ("2 <= 2", True),
    ("3 > 2", True),
    ("2 >= 3", False),
    ('"a" < "b"', True),
    ("null = null", True),
    ("null != null", False),
    ("1 = null", False),
    ("null = 1", False),
    ('1 = "1"', None),
    ("1 < null", None),
    ('1 < "a"', None),
    ("true < false", None),
    ("[1, 2] = [1, 2]", True),
    ("[1, 2] = [2, 1]", False),
    ("{a: 1} = {a: 1}", True),
    ("{a: 1} = {a: 2}", False),
    ('date("2020-01-01") < date("2020-01-02")', True),
    ('date("2020-01-01") = date and time("2020-01-01T00:00:00")', None),
    ('date and time("2020-01-01T10:00:00@Europe/Paris") = date and time("2020-01-01T09:00:00Z")', True),
    ('time("10:00:00+01:00") = time("09:00:00Z")', True),
    ('time("10:00:00") = time("10:00:00Z")', None),
    ('duration("P1Y") = duration("P12M")', True),
    ('duration("P1D") < duration("PT25H")', True),
    ("5 between 1 and 10", True),
    ("1 between 1 and 10", True),
    ("11 between 1 and 10", False),
    ('"b" between "a" and "c"', True),
    ("null between 1 and 10", None),
    ("5 in [1..10]", True),
    ("5 in (1..5)", False),
    ("5 in (1, 5, 9)", True),
    ("5 in (< 3, > 4)", True),
    ("5 in < 5", False),
    ("5 in <= 5", True),
    ("5 in [1, 2, 5]", True),
    ("5 in (=5)", True),
    ("5 in (!=5)", False),
    ("[1,2,3] in [[1,2,3,4], [1,2,3]]", True),
    ("5 in (null..10]", None),
    ("null in [1..10]", None),
]

CONTROL: list[tuple[str, Any]] = [
    ('if 1 > 2 then "a" else "b"', "b"),
    ('if null then "a" else "b"', "b"),
    ('if 1 then "a" else "b"', "b"),
    ("for x in [1, 2, 3] return x * x", [1, 4, 9]),
    ("for x in [1, 2], y in [10, 20] return x + y", [11, 21, 12, 22]),
    ("for i in 1..3 return i", [1, 2, 3]),
    ("for i in 3..1 return i", [3, 2, 1]),
    ("for i in -1..1 return i", [-1, 0, 1]),
    ("for i in [1..3) return i", [1, 2]),
    ('for d in @"2020-01-30"..@"2020-02-01" return d', [dt.date(2020, 1, 30), dt.date(2020, 1, 31), dt.date(2020, 2, 1)]),
    ("for x in [] return x", []),
    ("for i in 0..4 return if i = 0 then 1 else i * partial[-1]", [1, 1, 2, 6, 24]),
    ("for x in null return x", None),
    ("some x in [1, 2, 3] satisfies x > 2", True),
    ("some x in [1, 2, 3] satisfies x > 3", False),
    ("every x in [1, 2, 3] satisfies x > 0", True),
    ("every x in [1, 2, 3] satisfies x > 1", False),
    ("every x in [] satisfies x > 1", True),
    ("some x in [] satisfies x > 1", False),
    ("some x in [1, 2], y in [2, 3] satisfies x = y", True),
    ("some x in [1, null] satisfies x > 1", None),
    ("every x in [2, null] satisfies x > 1", None),
    ("every x in [0, null] satisfies x > 1", False),
]

FILTERS_AND_PATHS: list[tuple[str, Any]] = [
    ("[1, 2, 3][item > 1]", [2, 3]),
    ("[1, 2, 3][1]", 1),
    ("[1, 2, 3][-1]", 3),
    ("[1, 2, 3][0]", None),
    ("[1, 2, 3][4]", None),
    ("[1, 2, 3][true]", [1, 2, 3]),
    ("[1, 2, 3][false]", []),
    ("[][item > 1]", []),
    ("[{a: 1}, {a: 2}, {a: 3}][a >= 2]", [{"a": 2}, {"a": 3}]),
    ("[{a: 1}, {a: 2}][item.a = 1]", [{"a": 1}]),
    ("[{item: 1}, {item: 2}, {item: 3}][item >= 2]", [{"item": 2}, {"item": 3}]),
    ("[{a: 1, b: 2}, {a: 3, b: 4}].a", [1, 3]),
    ("[{a: 1, b: 2}, {a: 3, b: 4}][a > 1].b", [4]),
    ("{a: {b: {c: 5}}}.a.b.c", 5),
    ("{a: 1}.b", None),
    ("5[item > 2]", [5]),
    ("5[1]", 5),
    ('date("2020-03-04").year', 2020),
    ('date("2020-03-04").month', 3),
    ('date("2020-03-04").day', 4),
    ('date("2020-03-04").weekday', 3),
    ('date and time("2020-03-04T05:06:07+01:00").hour', 5),
    ('date and time("2020-03-04T05:06:07+01:00").time offset', DayTimeDuration(D(3600))),
    ('date and time("2020-03-04T05:06:07@Europe/Paris").timezone', "Europe/Paris"),
    ('time("05:06:07.5").second', D("7.5")),
    ('duration("P1Y3M").years', 1),
    ('duration("P1Y3M").months', 3),
    ('duration("P2DT3H4M5S").days', 2),
    ('duration("P2DT3H4M5S").hours', 3),
    ('duration("P2DT3H4M5S").minutes', 4),
    ('duration("P2DT3H4M5S").seconds', 5),
    ("[1..10).start", 1),
    ("[1..10).end included", False),
    ("(< 10).end", 10),
    ('"abc".year', None),
]

CONTEXTS_AND_FUNCTIONS: list[tuple[str, Any]] = [
    ("{a: 1, b: a + 1}.b", 2),
    ("{a: 1, b: {c: a + 1}}.b.c", 2),
    ("{a b: 1, c: a b * 2}.c", 2),
    ("{x: 1, y: x + 1, z: x + y}", {"x": 1, "y": 2, "z": 3}),
    ("(function(a, b) a + b)(1, 2)", 3),
    ("(function(a, b) a - b)(b: 1, a: 5)", 4),
    ("{f: function(x) x * 2}.f(21)", 42),
    ("{f: function(x) x * 2, r: f(4)}.r", 8),
    ("{fac: function(n) if n <= 1 then 1 else n * fac(n - 1), r: fac(10)}.r", 3628800),
    ("{fib: function(n) if n < 2 then n else fib(n - 1) + fib(n - 2), r: fib(15)}.r", 610),
    ("{add: function(a: number, b: number) a + b}.add(1, 2)", 3),
    ('{add: function(a: number, b: number) a + b}.add(1, "2")', None),
    ("{f: function(a) a}.f(1, 2)", None),
    ("{f: function(a) a}.f(b: 1)", None),
    ("{make: function(n) function(x) x + n, add2: make(2)}.add2(40)", 42),
    ("sort([3, 1, 2], function(x, y) x > y)", [3, 2, 1]),
    ("(function() external {java: {class: \"x\", method signature: \"y()\"}})()", None),
    ("5(1)", None),
]


def _check(text: str, expected: Any) -> None:
    actual = ev(text)
    assert same(actual, expected), f"{text!r}: expected {expected!r}, got {actual!r}"


@pytest.mark.parametrize(("text", "expected"), LITERALS)
def test_literals(text: str, expected: Any) -> None:
    _check(text, expected)


@pytest.mark.parametrize(("text", "expected"), ARITHMETIC)
def test_arithmetic(text: str, expected: Any) -> None:
    _check(text, expected)


@pytest.mark.parametrize(("text", "expected"), TEMPORAL)
def test_temporal_arithmetic(text: str, expected: Any) -> None:
    _check(text, expected)


@pytest.mark.parametrize(("text", "expected"), LOGIC)
def test_three_valued_logic(text: str, expected: Any) -> None:
    _check(text, expected)


@pytest.mark.parametrize(("text", "expected"), COMPARISON)
def test_comparisons(text: str, expected: Any) -> None:
    _check(text, expected)


@pytest.mark.parametrize(("text", "expected"), CONTROL)
def test_control(text: str, expected: Any) -> None:
    _check(text, expected)


@pytest.mark.parametrize(("text", "expected"), FILTERS_AND_PATHS)
def test_filters_and_paths(text: str, expected: Any) -> None:
    _check(text, expected)


@pytest.mark.parametrize(("text", "expected"), CONTEXTS_AND_FUNCTIONS)
def test_contexts_and_functions(text: str, expected: Any) -> None:
    _check(text, expected)


def test_variables_with_spaces_and_keywords() -> None:
    variables = {"Monthly Salary": 1000, "Loan-to-value": 0.8, "date of birth": dt.date(1990, 5, 1),
                 "for sale": True, "Student's name": "Ann"}
    assert ev("Monthly Salary * 12", **variables) == 12000
    assert ev("Loan-to-value * 100", **variables) == 80
    assert ev("date of birth.year", **variables) == 1990
    assert ev("if for sale then 1 else 2", **variables) == 1
    assert ev('Student\'s name + "!"', **variables) == "Ann!"
    assert ev("Monthly   Salary + 1", **variables) == 1001


def test_range_values() -> None:
    assert ev("[1..10)") == Range(D(1), D(10), True, False)
    assert ev("]1..10]") == Range(D(1), D(10), False, True)
    assert ev("< 10") == Range(None, D(10), False, False)
    assert ev(">= 10") == Range(D(10), None, True, False)
    assert ev('[1.."a"]') is None


def test_errors_are_problems_not_exceptions() -> None:
    value, problems = run("1 / 0")
    assert value is None
    assert len(problems) == 1
    assert "division by zero" in problems[0].message
    assert problems[0].location.text == "1 / 0"
    assert problems[0].location.position == 2


def test_problem_points_at_the_failing_operator() -> None:
    value, problems = run('x + (1 - "a")', {"x": 1})
    assert value is None
    assert [p.location.position for p in problems] == [7]


def test_recursion_is_bounded() -> None:
    value, problems = run("{f: function(n) f(n + 1)}.f(1)")
    assert value is None
    assert any("recursion" in p.message for p in problems)


def test_deep_but_legal_recursion() -> None:
    assert ev("{sum to: function(n) if n = 0 then 0 else n + sum to(n - 1), r: sum to(100)}.r") == 5050


def test_variables_accept_plain_python() -> None:
    assert ev("x + y", x=1.5, y=2) == D("3.5")
    assert ev("count(xs)", xs=(1, 2, 3)) == 3
    assert ev("m.a", m={"a": 1}) == 1
    assert ev("d + duration(\"P1D\")", d=dt.date(2020, 1, 1)) == dt.date(2020, 1, 2)
    assert ev("t * 2", t=dt.timedelta(hours=1)) == DayTimeDuration(D(7200))


def test_invalid_temporal_literals_are_null_with_a_problem() -> None:
    value, problems = run('@"2020-13-01"')
    assert value is None
    assert "invalid temporal literal" in problems[0].message
    value, problems = run('@"-9999999999-01-01"')
    assert value is None
    assert "year out of range" in problems[0].message


def test_equality_comparison_as_a_range() -> None:
    assert ev("(=10).start included") is True
    assert ev("(=10).end") == 10
    assert ev("(!=10)") is None


def test_quantifier_conditions_must_be_boolean() -> None:
    value, problems = run('some x in [1, 2] satisfies if x = 2 then true else "no"')
    assert value is None
    assert "boolean" in problems[0].message


EXTERNAL_JAVA: list[tuple[str, Any]] = [
    ('max(123, 456)', 456),
    ('cos(0)', 1),
    ('valueOf("a")', "a"),
    ('valueOf("abc")', None),
    ('parse("123")', 123),
    ('format("foo %s", "bar")', "foo bar"),
    ('foo(1)', None),
]

_JAVA = ('{{max: function(a, b) external {{java: {{class: "java.lang.Math", method signature: "max(double, double)"}}}},'
         ' cos: function(x) external {{java: {{class: "java.lang.Math", method signature: "cos(double)"}}}},'
         ' valueOf: function(c) external {{java: {{class: "java.lang.String", method signature: "valueOf(char)"}}}},'
         ' parse: function(s) external {{java: {{class: "java.lang.Integer", method signature: "parseInt(java.lang.String)"}}}},'
         ' format: function(f, a) external {{java: {{class: "java.lang.String",'
         ' method signature: "format(java.lang.String, [Ljava.lang.Object;)"}}}},'
         ' foo: function(x) external {{java: {{class: "java.lang.Runtime", method signature: "getRuntime()"}}}},'
         ' result: {call}}}.result')


@pytest.mark.parametrize(("call", "expected"), EXTERNAL_JAVA)
def test_external_java_functions_from_a_whitelist(call: str, expected: Any) -> None:
    actual = ev(_JAVA.format(call=call))
    assert same(actual, expected), f"{call}: expected {expected!r}, got {actual!r}"


def test_runaway_iterations_stop_with_a_problem(monkeypatch: pytest.MonkeyPatch) -> None:
    from decisions import limits

    monkeypatch.setattr(limits, "MAX_STEPS", 1000)
    value, problems = run("for a in 1..100, b in 1..100 return a * b")
    assert value is None
    assert "evaluation budget exceeded: more than 1,000 steps" in problems[0].message
    assert len(ev("for a in 1..10, b in 1..10 return a * b")) == 100


def test_times_with_zone_ids_compare_by_offset() -> None:
    assert ev('time("10:00:00@Europe/Paris") = time("09:00:00Z")') is True
    assert ev('time("10:00:00@Europe/Paris") < time("09:30:00Z")') is True
    assert ev('time("10:00:00") = time("10:00:00Z")') is None
