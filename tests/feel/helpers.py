"""Shared helpers of the FEEL tests: evaluate text, compare FEEL values."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from decisions.errors import Problem
from decisions.feel import Env, Scope, compile_expression, compile_unary_tests, values


def run(text: str, variables: Mapping[str, Any] | None = None) -> tuple[Any, list[Problem]]:
    """Evaluate `text` with plain-Python variables; returns (value, problems)."""
    variables = dict(variables or {})
    env = Env({k: values.from_python(v) for k, v in variables.items()})
    value = compile_expression(text, Scope(variables)).fn(env)
    return value, env.problems


def ev(text: str, **variables: Any) -> Any:
    return run(text, variables)[0]


def test_matches(tests: str, value: Any, **variables: Any) -> bool | None:
    env = Env({k: values.from_python(v) for k, v in variables.items()})
    return compile_unary_tests(tests, Scope(variables)).fn(env, values.from_python(value))


test_matches.__test__ = False  # type: ignore[attr-defined]


def same(actual: Any, expected: Any) -> bool:
    """FEEL equality, plus: null equals null, and the types must agree (1 is not true)."""
    expected = values.from_python(expected)
    if isinstance(actual, list) and isinstance(expected, list):
        return len(actual) == len(expected) and all(same(a, e) for a, e in zip(actual, expected, strict=True))
    if isinstance(actual, dict) and isinstance(expected, dict):
        return actual.keys() == expected.keys() and all(same(actual[k], expected[k]) for k in actual)
    if actual is None or expected is None:
        return actual is None and expected is None
    return values.type_name(actual) == values.type_name(expected) and values.feel_equal(actual, expected) is True
