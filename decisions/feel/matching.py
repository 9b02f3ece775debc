"""Run-time matching of unary tests: equality, list and range membership, and fast paths.

A positive unary test that is a value matches the input when equal to it, when it is a list
containing it, or a range including it (DMN 1.5, 10.3.2.9). Constant tests get specialised
closures: a set lookup for `"a", "b"` and two comparisons for `[18..65)`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from decisions.feel import ast
from decisions.feel.env import Env
from decisions.feel.values import Range, feel_equal

Fn = Callable[[Env], Any]
TestFn = Callable[[Env, Any], "bool | None"]


def matches(value: Any, expected: Any) -> bool | None:
    """A positive unary test that is a value: equality, list membership, or range membership."""
    if type(expected) is list:
        for item in expected:
            r = item.contains(value) if type(item) is Range else feel_equal(value, item)
            if r is True:
                return True
        return type(value) is list and feel_equal(value, expected) is True
    if type(expected) is Range:
        return expected.contains(value)
    if type(expected) is bool and type(value) is not bool:
        return expected
    r = feel_equal(value, expected)
    return False if r is None else r


def any_of(tests: list[TestFn]) -> TestFn:
    def any_of(env: Env, value: Any) -> bool | None:
        result: bool | None = False
        for t in tests:
            r = t(env, value)
            if r is True:
                return True
            if r is None:
                result = None
        return result
    return any_of


def literal_set(tests: Sequence[ast.Node]) -> TestFn | None:
    """`"a", "b", "c"` or `1, 2, 3`: a set lookup instead of one closure per test."""
    if len(tests) < 2 or not all(isinstance(t, ast.EqualsTest) and isinstance(t.operand, ast.Literal)
                                 and type(t.operand.value) in (str, Decimal) for t in tests):
        return None
    constants = [t.operand.value for t in tests if isinstance(t, ast.EqualsTest) and isinstance(t.operand, ast.Literal)]
    strings = frozenset(c for c in constants if type(c) is str)
    numbers = frozenset(c for c in constants if type(c) is Decimal)

    def in_set(env: Env, v: Any) -> bool | None:
        t = type(v)
        if t is str:
            return v in strings
        if t is Decimal:
            return v in numbers
        return matches(v, constants)
    return in_set


def constant_number_range(node: ast.RangeLiteral) -> TestFn | None:
    """`[18..65)` with number literals: two comparisons, no Range object per call."""
    s, e = node.start, node.end
    if not (isinstance(s, ast.Literal) and isinstance(e, ast.Literal)
            and type(s.value) is Decimal and type(e.value) is Decimal):
        return None
    lo, hi = s.value, e.value
    if lo > hi:  # no range (10.3.2.7): the general path reports it
        return None
    r = Range(lo, hi, node.start_closed, node.end_closed)
    contains = r.contains
    if node.start_closed and node.end_closed:
        return lambda env, v: lo <= v <= hi if type(v) is Decimal else contains(v)
    if node.start_closed:
        return lambda env, v: lo <= v < hi if type(v) is Decimal else contains(v)
    if node.end_closed:
        return lambda env, v: lo < v <= hi if type(v) is Decimal else contains(v)
    return lambda env, v: lo < v < hi if type(v) is Decimal else contains(v)
