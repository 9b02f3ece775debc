"""Unary tests (decision table input entries): matching semantics and the AST shape."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from decisions.feel import Env, Scope, ast, compile_unary_tests, parse_unary_tests

from .helpers import test_matches

D = Decimal

MATCHING: list[tuple[str, Any, bool | None]] = [
    ("-", 5, True),
    ("-", None, True),
    ("", "anything", True),
    ("5", 5, True),
    ("5", 6, False),
    ("5", "5", False),
    ("5", None, False),
    ('"a"', "a", True),
    ('"a", "b"', "b", True),
    ('"a", "b"', "c", False),
    ('"a", "b"', 1, False),
    ("1, 2, 3", D("2.0"), True),
    ('not("a", "b")', "c", True),
    ('not("a", "b")', "a", False),
    ("not(-)", 1, False),
    ("< 10", 9, True),
    ("< 10", 10, False),
    ("<= 10", 10, True),
    ("> 10", 11, True),
    (">= 10", 10, True),
    (">= 10", D("9.99"), False),
    (">= 10", None, None),
    ('>= 10', "x", None),
    ("= 10", 10, True),
    ("!= 10", 10, False),
    ("!= 10", 11, True),
    ("[1..10]", 1, True),
    ("[1..10]", 10, True),
    ("(1..10)", 1, False),
    ("]1..10[", 10, False),
    ("[1..10)", D("9.5"), True),
    ("[1..10]", 11, False),
    ("[1..10]", None, None),
    ('["a".."c"]', "b", True),
    ("< 5, > 10", 3, True),
    ("< 5, > 10", 7, False),
    ("< 5, > 10", 11, True),
    ("not(< 5, > 10)", 7, True),
    ("null", None, True),
    ("null", 1, False),
    ("true", True, True),
    ("true", False, False),
    ("false", False, True),
    ("? > 5", 6, True),
    ("? > 5", 4, False),
    ("? > 5", None, None),
    ("? = false", False, True),
    ("odd(?)", 3, True),
    ("string length(?) > 2", "abc", True),
    ("[1, 2, 3]", 2, True),
    ("[1, 2, 3]", 4, False),
    ("[[1..5], 10]", 3, True),
    ('< date("2020-01-01")', dt.date(2019, 12, 31), True),
    ('[date("2020-01-01")..date("2020-12-31")]', dt.date(2020, 6, 1), True),
    ('>= @"2020-01-01"', dt.date(2021, 1, 1), True),
    ('"a", < 5', 1, True),
    ("-, 5", 7, True),
    ("count(?) > 1", [1, 2], True),
]


@pytest.mark.parametrize(("tests", "value", "expected"), MATCHING)
def test_matching(tests: str, value: Any, expected: bool | None) -> None:
    assert test_matches(tests, value) is expected


def test_tests_may_use_variables() -> None:
    assert test_matches("< Max Age", 30, **{"Max Age": 65}) is True
    assert test_matches("[Min..Max]", 5, Min=1, Max=4) is False
    assert test_matches("Allowed", "x", Allowed=["x", "y"]) is True
    assert test_matches("Allowed", "z", Allowed=["x", "y"]) is False


def test_question_mark_is_bound_for_predicates() -> None:
    compiled = compile_unary_tests("? * 2 > Limit", Scope(["Limit"]))
    env = Env({"Limit": D(10)})
    assert compiled.fn(env, D(6)) is True
    assert compiled.fn(env, D(5)) is False
    assert "?" not in env.vars  # the caller's env is not modified


def test_type_mismatch_is_none_with_a_problem() -> None:
    compiled = compile_unary_tests("< 10", Scope())
    env = Env()
    assert compiled.fn(env, "abc") is None
    assert len(env.problems) == 1
    assert env.problems[0].location.text == "< 10"


def test_matches_accepts_plain_python() -> None:
    assert compile_unary_tests("[1..10]").matches(5) is True
    assert compile_unary_tests(">= 0.5").matches(0.5) is True


AST_SHAPES: list[tuple[str, ast.UnaryTests]] = [
    ("-", ast.UnaryTests((), False)),
    ("< 5", ast.UnaryTests((ast.Compare("<", ast.Literal(D(5))),), False)),
    (">= x", ast.UnaryTests((ast.Compare(">=", ast.Name("x")),), False)),
    ("!= 3", ast.UnaryTests((ast.Compare("!=", ast.Literal(D(3))),), False)),
    ("[1..5)", ast.UnaryTests((ast.RangeLiteral(ast.Literal(D(1)), ast.Literal(D(5)), True, False),), False)),
    ("]1..5]", ast.UnaryTests((ast.RangeLiteral(ast.Literal(D(1)), ast.Literal(D(5)), False, True),), False)),
    ('not("a","b")', ast.UnaryTests((ast.EqualsTest(ast.Literal("a")), ast.EqualsTest(ast.Literal("b"))), True)),
    ('"a", -', ast.UnaryTests((ast.EqualsTest(ast.Literal("a")), ast.AnyTest()), False)),
    ("-5", ast.UnaryTests((ast.EqualsTest(ast.Literal(D(-5))),), False)),
    ("x", ast.UnaryTests((ast.EqualsTest(ast.Name("x")),), False)),
    ("null", ast.UnaryTests((ast.EqualsTest(ast.Literal(None)),), False)),
    ("? > 1", ast.UnaryTests((ast.EqualsTest(ast.Comparison(">", ast.Name("?"), ast.Literal(D(1)))),), False)),
]


@pytest.mark.parametrize(("text", "expected"), AST_SHAPES)
def test_unary_tests_ast(text: str, expected: ast.UnaryTests) -> None:
    assert parse_unary_tests(text, Scope(["x"])) == expected


def test_compiled_unary_tests_expose_text_and_ast() -> None:
    compiled = compile_unary_tests("< 10, > 20")
    assert compiled.text == "< 10, > 20"
    assert isinstance(compiled.ast, ast.UnaryTests)
    assert [t.op for t in compiled.ast.tests if isinstance(t, ast.Compare)] == ["<", ">"]
