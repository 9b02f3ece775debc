"""Property tests: any text compiles or raises FeelSyntaxError; evaluation never raises."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from decisions.feel import Env, FeelSyntaxError, Scope, compile_expression, compile_unary_tests, values

SCOPE = Scope(["x", "y", "a b", "items"])
VARIABLES: dict[str, Any] = {
    "x": Decimal(3), "y": "text", "a b": [Decimal(1), None, "z"], "items": [{"v": Decimal(1)}, {"v": Decimal(2)}],
}

FRAGMENTS = [
    "1", "2.5", "-", "+", "*", "/", "**", "(", ")", "[", "]", "{", "}", ",", ":", ".", "..", "=", "!=", "<", "<=",
    ">", ">=", "and", "or", "not", "in", "between", "if", "then", "else", "for", "return", "some", "every",
    "satisfies", "instance of", "number", "list<number>", "function", "x", "y", "a b", "items", "item", "?",
    '"s"', "null", "true", "false", '@"2020-01-01"', '@"P1D"', 'date("2020-01-01")', "sum", "count", "substring",
    "string length", "date and time", "v", "0", "-1", "[1..3]", "(1..2)", "sort", "function(a) a", "partial",
]


def _evaluate_safely(text: str) -> None:
    try:
        compiled = compile_expression(text, SCOPE)
    except FeelSyntaxError as e:
        assert 0 <= e.position <= len(text)
        assert e.message
        return
    env = Env(VARIABLES)
    result = compiled.fn(env)
    values.to_json(result)  # every result is representable
    for problem in env.problems:
        assert problem.message


def _test_safely(text: str, value: Any) -> None:
    try:
        compiled = compile_unary_tests(text, SCOPE)
    except FeelSyntaxError as e:
        assert 0 <= e.position <= len(text)
        return
    assert compiled.fn(Env(VARIABLES), value) in (True, False, None)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=60))
def test_arbitrary_text_never_crashes(text: str) -> None:
    _evaluate_safely(text)
    _test_safely(text, Decimal(1))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(FRAGMENTS), min_size=1, max_size=14))
def test_near_valid_feel_never_crashes(parts: list[str]) -> None:
    text = " ".join(parts)
    _evaluate_safely(text)
    _test_safely(text, Decimal(2))
    _test_safely(text, None)


_numbers = st.decimals(min_value=-10**12, max_value=10**12, allow_nan=False, allow_infinity=False, places=4)


@settings(max_examples=200, deadline=None)
@given(_numbers, _numbers)
def test_arithmetic_matches_decimal_context(a: Decimal, b: Decimal) -> None:
    ctx = values.DECIMAL_CONTEXT
    env = {"a": a, "b": b}
    scope = Scope(["a", "b"])
    assert compile_expression("a + b", scope).evaluate(env) == ctx.add(a, b)
    assert compile_expression("a * b", scope).evaluate(env) == ctx.multiply(a, b)
    assert compile_expression("a - b", scope).evaluate(env) == ctx.subtract(a, b)
    quotient = compile_expression("a / b", scope).evaluate(env)
    assert quotient == (ctx.divide(a, b) if b else None)


@settings(max_examples=200, deadline=None)
@given(_numbers, _numbers)
def test_comparisons_agree_with_unary_tests(a: Decimal, b: Decimal) -> None:
    scope = Scope(["a", "b"])
    env = Env({"a": a, "b": b})
    for op in ("<", "<=", ">", ">=", "=", "!="):
        expected = compile_expression(f"a {op} b", scope).fn(env)
        assert compile_unary_tests(f"{op} b", scope).fn(env, a) is expected
    # a range whose start is after its end is no range (10.3.2.7): null, not false
    assert compile_unary_tests("[a..b]", scope).fn(env, a) is (True if a <= b else None)


@settings(max_examples=200, deadline=None)
@given(_numbers)
def test_string_and_number_round_trip(n: Decimal) -> None:
    text = compile_expression("string(n)", Scope(["n"])).evaluate({"n": n})
    assume(isinstance(text, str))
    assert compile_expression("number(s)", Scope(["s"])).evaluate({"s": text}) == n


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=20))
def test_string_literals_round_trip(s: str) -> None:
    assume("\\" not in s)
    escaped = s.replace('"', '\\"')
    assert compile_expression(f'"{escaped}"').evaluate() == s
