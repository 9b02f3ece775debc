"""FEEL, the DMN expression language: compile once, evaluate many times.

    from decisions.feel import Scope, compile_expression, compile_unary_tests, Env

    scope = Scope(["Monthly Salary", "Age"])
    expr = compile_expression("Monthly Salary * 12", scope)
    expr.evaluate({"Monthly Salary": Decimal(1000)})        # Decimal('12000')

    tests = compile_unary_tests(">= 18", scope)
    tests.fn(Env(), Decimal(20))                              # True

Names with spaces are resolved against the `Scope` at compile time, so the scope must list
every variable the text may use (unknown names are a `FeelSyntaxError`, except inside
filters where item entries are names). Evaluation never raises: problems are appended to
`env.problems` and the faulty sub-expression gives null.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from decisions.feel import ast, types, values
from decisions.feel.budget import Budget, time_limit
from decisions.feel.env import Env
from decisions.feel.errors import FeelSyntaxError, UnknownNameError
from decisions.feel.lexer import NameIndex, normalize_name
from decisions.feel.types import FeelType
from decisions.feel.values import FeelFunction


class Scope:
    """Names visible at compile time.

    `names`: variables (input data, decisions, BKMs, imports...). `types`: declared FEEL types
    of some of those variables; the entry names of context types become known names too, so
    `Applicant.Monthly Income` reads as a path. `type_definitions`: named item definitions for
    `instance of tMyType` and typed parameters. `strict=False` compiles unknown names as
    run-time lookups (null plus a problem when absent) instead of rejecting them.
    """

    def __init__(
        self,
        names: Iterable[str] = (),
        types: Mapping[str, FeelType] | None = None,
        *,
        type_definitions: Mapping[str, FeelType] | None = None,
        strict: bool = True,
        builtin_names_are_inputs: bool = False,
    ) -> None:
        self.names: frozenset[str] = frozenset(normalize_name(n) for n in names)
        # A model that declares no input data (Camunda style) reads `count` or `date`, when not
        # called, as its input of that name rather than as the built-in function.
        self.builtin_names_are_inputs = builtin_names_are_inputs
        self.types: dict[str, FeelType] = dict(types or {})
        self.type_definitions: dict[str, FeelType] = dict(type_definitions or {})
        self.strict = strict
        self._index: NameIndex | None = None
        # Compiled texts by (kind, text): decision tables repeat the same cells many times.
        self._compiled: dict[tuple[str, str], Any] = {}

    @property
    def index(self) -> NameIndex:
        if self._index is None:
            self._index = NameIndex([*self.names, *_field_names(self.types.values())])
        return self._index

    def with_names(self, names: Iterable[str]) -> Scope:
        return Scope([*self.names, *names], self.types, type_definitions=self.type_definitions, strict=self.strict,
                     builtin_names_are_inputs=self.builtin_names_are_inputs)

    def __repr__(self) -> str:
        return f"Scope({sorted(self.names)!r})"


def _field_names(feel_types: Iterable[FeelType]) -> list[str]:
    out: list[str] = []
    stack = list(feel_types)
    while stack:
        t = stack.pop()
        if isinstance(t, types.ContextType):
            for key, inner in t.fields:
                out.append(key)
                stack.append(inner)
        elif isinstance(t, (types.ListType, types.RangeType)):
            stack.append(t.element)
    return out


EMPTY_SCOPE = Scope()
_CACHE_LIMIT = 10_000  # compiled texts kept per scope


@lru_cache(maxsize=1)
def _builtin_index() -> NameIndex:
    from decisions.feel.builtins import BUILTIN_NAMES

    return NameIndex(BUILTIN_NAMES)


def _as_env(env: Env | Mapping[str, Any] | None) -> Env:
    if isinstance(env, Env):
        return env
    return Env({k: values.from_python(v) for k, v in (env or {}).items()})


@dataclass(frozen=True)
class CompiledExpression:
    """A compiled FEEL expression. `fn(env)` is the raw closure; `evaluate` accepts plain dicts."""

    text: str
    ast: ast.Node
    fn: Callable[[Env], Any] = field(repr=False)

    def evaluate(self, env: Env | Mapping[str, Any] | None = None) -> Any:
        """The value, or null when the evaluation's budget ran out (decisions/feel/budget.py):
        what the expression made of the nulls that stopped it is not its value."""
        bound = _as_env(env)
        value = self.fn(bound)
        return None if bound.exceeded() is not None else value


@dataclass(frozen=True)
class CompiledUnaryTests:
    """Compiled unary tests. `fn(env, value)` gives True, False, or None when a test errors."""

    text: str
    ast: ast.UnaryTests
    fn: Callable[[Env, Any], bool | None] = field(repr=False)

    def matches(self, value: Any, env: Env | Mapping[str, Any] | None = None) -> bool | None:
        return self.fn(_as_env(env), values.from_python(value))


def _parse(text: str, scope: Scope, unary_tests: bool) -> Any:
    from decisions.feel.parser import parse

    return parse(text, (scope.index, _builtin_index()), unary_tests=unary_tests)


def parse_expression(text: str, scope: Scope = EMPTY_SCOPE) -> ast.Node:
    node: ast.Node = _parse(text, scope, False).node
    return node


def parse_unary_tests(text: str, scope: Scope = EMPTY_SCOPE) -> ast.UnaryTests:
    node = _parse(text, scope, True).node
    assert isinstance(node, ast.UnaryTests)
    return node


def compile_expression(text: str, scope: Scope = EMPTY_SCOPE) -> CompiledExpression:
    """Compile FEEL expression text. Raises FeelSyntaxError (with position) on bad text."""
    from decisions.feel.compiler import Compiler

    cached = scope._compiled.get(("expression", text))
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    parsed = _parse(text, scope, False)
    fn = Compiler(parsed, scope.names, scope.type_definitions, scope.strict,
                  scope.builtin_names_are_inputs).expression()
    compiled = CompiledExpression(text, parsed.node, fn)
    if len(scope._compiled) < _CACHE_LIMIT:
        scope._compiled[("expression", text)] = compiled
    return compiled


def compile_unary_tests(text: str, scope: Scope = EMPTY_SCOPE) -> CompiledUnaryTests:
    """Compile unary tests text (a decision table input entry). Raises FeelSyntaxError on bad text."""
    from decisions.feel.compiler import Compiler

    cached = scope._compiled.get(("unary tests", text))
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    parsed = _parse(text, scope, True)
    fn = Compiler(parsed, scope.names, scope.type_definitions, scope.strict,
                  scope.builtin_names_are_inputs).unary_tests()
    compiled = CompiledUnaryTests(text, parsed.node, fn)
    if len(scope._compiled) < _CACHE_LIMIT:
        scope._compiled[("unary tests", text)] = compiled
    return compiled


def evaluate(text: str, variables: Mapping[str, Any] | None = None) -> Any:
    """Compile and evaluate in one go (tests, notebooks); variables are plain Python values."""
    return compile_expression(text, Scope(variables or {})).evaluate(variables)


__all__ = [
    "Budget",
    "CompiledExpression",
    "CompiledUnaryTests",
    "Env",
    "FeelFunction",
    "FeelSyntaxError",
    "FeelType",
    "Scope",
    "UnknownNameError",
    "ast",
    "compile_expression",
    "compile_unary_tests",
    "evaluate",
    "parse_expression",
    "parse_unary_tests",
    "time_limit",
    "types",
    "values",
]
