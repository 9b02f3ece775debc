"""FEEL types: instance of, conformance, singleton-list coercion, type names."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from decisions.feel import Scope, compile_expression, types
from decisions.feel.values import YearMonthDuration

from .helpers import ev

INSTANCE_OF: list[tuple[str, bool]] = [
    ("1 instance of number", True),
    ('"1" instance of number', False),
    ("null instance of number", False),
    ("null instance of Null", True),
    ("null instance of Any", False),
    ("1 instance of Any", True),
    ('"a" instance of string', True),
    ("true instance of boolean", True),
    ('date("2020-01-01") instance of date', True),
    ('date("2020-01-01") instance of date and time', False),
    ('date and time("2020-01-01T00:00:00") instance of date and time', True),
    ('date and time("2020-01-01T00:00:00") instance of date', False),
    ('time("10:00:00") instance of time', True),
    ('duration("P1D") instance of days and time duration', True),
    ('duration("P1Y") instance of years and months duration', True),
    ('duration("P1Y") instance of days and time duration', False),
    ("[1, 2] instance of list", True),
    ("[1, 2] instance of list<number>", True),
    ('[1, "2"] instance of list<number>', False),
    ("[] instance of list<string>", True),
    ("[[1]] instance of list<list<number>>", True),
    ("1 instance of list<number>", False),
    ("{a: 1} instance of context", True),
    ("{a: 1, b: 2} instance of context<a: number>", True),
    ('{a: "x"} instance of context<a: number>', False),
    ("{b: 1} instance of context<a: number>", False),
    ("[1..5] instance of range", True),
    ("[1..5] instance of range<number>", True),
    ("[1..5] instance of range<string>", False),
    ("(function(a) a) instance of function", True),
    ("abs instance of function", True),
    ("(function(a: number) a) instance of function<number> -> Any", True),
    ("(function(a: string) a) instance of function<number> -> Any", False),
    ("(function(a, b) a) instance of function<Any> -> Any", False),
]


@pytest.mark.parametrize(("text", "expected"), INSTANCE_OF)
def test_instance_of(text: str, expected: bool) -> None:
    assert ev(text) is expected


def test_instance_of_named_type_definitions() -> None:
    scope = Scope(["x"], type_definitions={"tScores": types.ListType(types.NUMBER),
                                           "tPerson": types.ContextType((("name", types.STRING),))})
    assert compile_expression("x instance of tScores", scope).evaluate({"x": [1, 2]}) is True
    assert compile_expression("x instance of tPerson", scope).evaluate({"x": {"name": "a"}}) is True
    assert compile_expression("x instance of list<tPerson>", scope).evaluate({"x": [{"name": 1}]}) is False


@pytest.mark.parametrize(("name", "expected"), [
    ("number", types.NUMBER), ("feel:number", types.NUMBER), ("xsd:decimal", types.NUMBER),
    ("xsd:string", types.STRING), ("dateTime", types.DATE_AND_TIME), ("xsd:dateTime", types.DATE_AND_TIME),
    ("dayTimeDuration", types.DAYS_AND_TIME_DURATION), ("yearMonthDuration", types.YEARS_AND_MONTHS_DURATION),
    ("date and time", types.DATE_AND_TIME), ("Any", types.ANY),
])
def test_builtin_type_names(name: str, expected: types.FeelType) -> None:
    assert types.builtin_type(name) == expected


def test_unknown_type_name() -> None:
    assert types.builtin_type("tNothing") is None


COERCION: list[tuple[types.FeelType, Any, Any]] = [
    (types.NUMBER, Decimal(1), Decimal(1)),
    (types.NUMBER, None, None),
    (types.NUMBER, [Decimal(1)], Decimal(1)),  # from singleton list
    (types.NUMBER, "1", types.NOT_CONFORMING),
    (types.NUMBER, [Decimal(1), Decimal(2)], types.NOT_CONFORMING),
    (types.ListType(types.NUMBER), Decimal(1), [Decimal(1)]),  # to singleton list
    (types.ListType(types.NUMBER), [Decimal(1), None], [Decimal(1), None]),
    (types.ListType(types.NUMBER), ["a"], types.NOT_CONFORMING),
    (types.ContextType((("a", types.NUMBER),)), {"a": Decimal(1), "b": "x"}, {"a": Decimal(1), "b": "x"}),
    (types.ContextType((("a", types.NUMBER),)), {"a": "x"}, types.NOT_CONFORMING),
    (types.DATE, dt.date(2020, 1, 1), dt.date(2020, 1, 1)),
    (types.DATE, dt.datetime(2020, 1, 1), types.NOT_CONFORMING),
    (types.YEARS_AND_MONTHS_DURATION, YearMonthDuration(3), YearMonthDuration(3)),
    (types.ANY, "x", "x"),
]


@pytest.mark.parametrize(("feel_type", "value", "expected"), COERCION)
def test_coercion(feel_type: types.FeelType, value: Any, expected: Any) -> None:
    assert feel_type.coerce(value) == expected if expected is not types.NOT_CONFORMING \
        else feel_type.coerce(value) is types.NOT_CONFORMING


def test_type_of_values() -> None:
    assert types.type_of(Decimal(1)) == types.NUMBER
    assert types.type_of(dt.datetime(2020, 1, 1)) == types.DATE_AND_TIME
    assert types.type_of(dt.date(2020, 1, 1)) == types.DATE
    assert types.type_of(None) == types.NULL
    assert str(types.ListType(types.ContextType((("a", types.STRING),)))) == "list<context<a: string>>"


def test_typed_parameters_coerce_singleton_lists() -> None:
    assert ev("(function(n: number) n + 1)([41])") == 42
    assert ev("(function(xs: list<number>) count(xs))(5)") == 1


def test_parse_type_ref() -> None:
    definitions = {"tPerson": types.ContextType((("name", types.STRING),))}
    assert types.parse_type_ref("feel:number") == types.NUMBER
    assert types.parse_type_ref("list<number>") == types.ListType(types.NUMBER)
    assert types.parse_type_ref("list<tPerson>", definitions) == types.ListType(definitions["tPerson"])
    assert types.parse_type_ref("context<a: date and time>") == types.ContextType((("a", types.DATE_AND_TIME),))
    assert types.parse_type_ref("tUnknown") is None
