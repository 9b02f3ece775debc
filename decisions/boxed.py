"""Boxed expressions compiled to closures: the decision logic kinds of a model.

`compile_logic(expression, scope, where, types)` returns a `Logic`: a closure `(env) -> value` plus,
for a decision table, the compiled table (so the evaluator can report fired rules and batch
evaluation can vectorise it). One case per kind of `decisions.model.Expression`; a new
kind of decision logic is a new case here and in the readers.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from decisions import feel
from decisions.errors import Location, ModelError, Problem
from decisions.feel import external
from decisions.feel.iteration import detach, filter_items, iteration_items, quantify
from decisions.feel.values import FeelFunction, type_name
from decisions.itemtypes import TypeSystem
from decisions.limits import MAX_CALL_DEPTH
from decisions.model import (
    Conditional,
    Context,
    DecisionTable,
    Expression,
    Filter,
    FunctionDefinition,
    Invocation,
    Iterator,
    ListExpression,
    LiteralExpression,
    Relation,
    Scorecard,
    Scoring,
)
from decisions.scorecard import CompiledScorecard, compile_scorecard
from decisions.tables.table import CompiledTable, compile_table

if TYPE_CHECKING:
    from decisions.scoring import CompiledScoring

Closure = Callable[[feel.Env], Any]


@dataclass
class Logic:
    fn: Closure
    table: CompiledTable | None = None
    expression: feel.CompiledExpression | None = None
    scoring: CompiledScoring | None = None  # a scoring expression: reason codes, vectorised batch, checks
    scorecard: CompiledScorecard | None = None  # a points scorecard: its characteristics' tables, reason codes
    # The errors that kept the element from compiling: `fn` gives null and reports them (see `failing`).
    errors: tuple[Problem, ...] = ()


def failing(errors: Sequence[Problem]) -> Logic:
    """The logic of an element that does not compile: each evaluation gives null and reports why,
    as an evaluation error would be reported (the DMN spec's semantics: an element in error
    gives null, and the rest of the model is evaluated as usual)."""
    found = tuple(errors)

    def run(env: feel.Env) -> Any:
        env.problems.extend(found)
        return None

    return Logic(run, errors=found)


def _feel(text: str, scope: feel.Scope, where: Location) -> feel.CompiledExpression:
    try:
        return feel.compile_expression(text, scope)
    except feel.UnknownNameError:
        raise  # the compiler decides whether it is an implicit input
    except feel.FeelSyntaxError as exc:
        raise ModelError(exc.to_problem(where)) from None


def compile_logic(expr: Expression | None, scope: feel.Scope, where: Location,
                  types: TypeSystem | None = None) -> Logic:
    if expr is None:
        return Logic(lambda env: None)
    if isinstance(expr, Scoring):
        from decisions.scoring import compile_scoring  # sympy is imported only for models that score

        scoring = compile_scoring(expr, scope, where)
        return Logic(scoring.evaluate, expression=scoring.exact, scoring=scoring)
    if isinstance(expr, Scorecard):
        scorecard = compile_scorecard(expr, scope, where)
        return Logic(scorecard.evaluate, scorecard=scorecard)
    if isinstance(expr, LiteralExpression):
        compiled = _feel(expr.text if expr.text.strip() else "null", scope, where)
        return Logic(compiled.fn, expression=compiled)
    if isinstance(expr, DecisionTable):
        table = compile_table(where.element or "", expr, scope, where)

        def run_table(env: feel.Env) -> Any:
            return table.evaluate(env)[0]

        return Logic(run_table, table=table)
    if isinstance(expr, Context):
        return Logic(_context(expr, scope, where, types))
    if isinstance(expr, ListExpression):
        items = [compile_logic(item, scope, where.with_(path=f"item {i + 1}"), types).fn
                 for i, item in enumerate(expr.items)]
        return Logic(lambda env: [item(env) for item in items])
    if isinstance(expr, Relation):
        return Logic(_relation(expr, scope, where, types))
    if isinstance(expr, FunctionDefinition):
        return Logic(function_definition(expr, scope, where, types))
    if isinstance(expr, Invocation):
        return Logic(_invocation(expr, scope, where, types))
    if isinstance(expr, Conditional):
        cond = compile_logic(expr.condition, scope, where.with_(path="if"), types).fn
        then = compile_logic(expr.then, scope, where.with_(path="then"), types).fn
        otherwise = compile_logic(expr.otherwise, scope, where.with_(path="else"), types).fn
        return Logic(_conditional(cond, then, otherwise))
    if isinstance(expr, Filter):
        return Logic(_filter(expr, scope, where, types))
    if isinstance(expr, Iterator):
        return Logic(_iterator(expr, scope, where, types))
    raise ModelError(f"unsupported expression kind {type(expr).__name__}", where)


def _conditional(cond: Closure, then: Closure, otherwise: Closure) -> Closure:
    def run(env: feel.Env) -> Any:
        test = cond(env)
        if test is True:
            return then(env)
        if test is False or test is None:
            return otherwise(env)
        env.report(f"the condition of a conditional must be a boolean, not {type_name(test)}", code="type")
        return None

    return run


def _context(expr: Context, scope: feel.Scope, where: Location, types: TypeSystem | None) -> Closure:
    entries: list[tuple[str | None, Closure]] = []
    inner = scope
    for i, entry in enumerate(expr.entries):
        at = where.with_(path=f"context entry '{entry.name}'" if entry.name else f"context result {i + 1}")
        # As the DMN reader checks (a model built in code reaches here unchecked): distinct
        # names (10.3.2.6), and only the last entry without one.
        if entry.name and any(name == entry.name for name, _ in entries):
            raise ModelError(Problem(f"duplicate context entry '{entry.name}': the entries of a context have "
                                     "distinct names", at, code="duplicate-name"))
        if not entry.name and i < len(expr.entries) - 1:
            raise ModelError(Problem("only the last entry of a context may go without a name (it is the "
                                     "context's result)", at))
        entries.append((entry.name, compile_logic(entry.value, inner, at, types).fn))
        if entry.name:
            inner = inner.with_names([entry.name])

    def run(env: feel.Env) -> Any:
        result: dict[str, Any] = {}
        local = env.child()
        for name, fn in entries:
            value = fn(local)
            if name is None:
                return value
            result[name] = value
            local.vars[name] = value
        return result

    return run


def _relation(expr: Relation, scope: feel.Scope, where: Location, types: TypeSystem | None) -> Closure:
    rows: list[list[Closure]] = []
    for r, row in enumerate(expr.rows, start=1):
        if len(row) != len(expr.columns):
            raise ModelError(f"relation row {r} has {len(row)} cells for {len(expr.columns)} columns", where)
        rows.append([compile_logic(cell, scope, where.with_(path=f"row {r}"), types).fn for cell in row])
    columns = list(expr.columns)
    return lambda env: [{c: cell(env) for c, cell in zip(columns, row, strict=True)} for row in rows]


class ModelFunction(FeelFunction):
    """A function defined in the model: a BKM, a boxed function definition, a decision service.

    The body runs in the environment where the function was defined (lexical scope) plus its
    arguments; problems go to the caller's problem list."""

    def __init__(self, name: str, parameters: list[str], body: Callable[[feel.Env, dict[str, Any]], Any],
                 defined_in: feel.Env, where: Location) -> None:
        self.name = name
        self.parameters = tuple(parameters)
        self._body = body
        self._defined_in = defined_in
        self._where = where

    def call(self, env: feel.Env, args: Sequence[Any], named: Mapping[str, Any] | None = None) -> Any:
        if env.depth >= MAX_CALL_DEPTH:
            env.report(f"function '{self.name}' calls itself too deeply (more than {MAX_CALL_DEPTH} levels)",
                       code="recursion")
            return None
        if not env.step(lambda why: env.report(f"function '{self.name}': {why}", code="feel-budget")):
            return None  # an invocation is a step of the caller's budget
        if named is not None:
            unknown = [n for n in named if n not in self.parameters]
            if unknown:
                env.report(f"function '{self.name}' has no parameter '{unknown[0]}'", code="invocation")
                return None
            bound = {p: named.get(p) for p in self.parameters}
        else:
            if len(args) != len(self.parameters):
                env.report(f"function '{self.name}' takes {len(self.parameters)} arguments, "
                           f"{len(args)} given", code="invocation")
                return None
            bound = dict(zip(self.parameters, args, strict=True))
        local = self._defined_in.child(bound)
        local.problems = env.problems
        local.budget = env.budget
        local.depth = env.depth + 1
        return self._body(local, bound)


def function_definition(expr: FunctionDefinition, scope: feel.Scope, where: Location,
                        types: TypeSystem | None, name: str = "function") -> Closure:
    names = [p.name for p in expr.parameters]
    if expr.kind == "Java":
        return _java_function(expr, scope, where, types, name, names)
    if expr.kind != "FEEL":
        kind = expr.kind

        def refuse(env: feel.Env, args: dict[str, Any]) -> Any:
            env.report(f"{kind} functions are not supported", code="unsupported")
            return None

        return lambda env: ModelFunction(name, names, refuse, env, where)
    body = compile_logic(expr.body, scope.with_names(names), where, types).fn
    coercers = [(p.name, types.coercer(p.type_ref)) for p in expr.parameters if p.type_ref and types]

    def run_body(env: feel.Env, args: dict[str, Any]) -> Any:
        for pname, coerce in coercers:
            value = args.get(pname)
            if coerce is not None and value is not None:
                value, message = coerce(value)
                if message:
                    env.report(f"parameter '{pname}' of '{name}': {message}", code="type")
                env.vars[pname] = value
        return body(env)

    return lambda env: ModelFunction(name, names, run_body, env, where)


def _java_function(expr: FunctionDefinition, scope: feel.Scope, where: Location, types: TypeSystem | None,
                   name: str, names: list[str]) -> Closure:
    """A boxed Java function: its body is a context naming `class` and `method signature`.

    Only the fixed list of java.lang methods in `decisions.feel.external` can be called;
    nothing is looked up by reflection."""
    body = compile_logic(expr.body, scope, where, types).fn

    def define(env: feel.Env) -> Any:
        mapping = body(env)

        def call(call_env: feel.Env, args: dict[str, Any]) -> Any:
            if not isinstance(mapping, dict):
                call_env.report("a Java function needs a context with 'class' and 'method signature'",
                                code="invocation")
                return None
            try:
                return external.invoke(mapping.get("class"), mapping.get("method signature"),
                                       [args.get(n) for n in names])
            except external.ExternalError as exc:
                call_env.report(str(exc), code="invocation")
                return None

        return ModelFunction(name, names, call, env, where)

    return define


def _invocation(expr: Invocation, scope: feel.Scope, where: Location, types: TypeSystem | None) -> Closure:
    callee = _feel(expr.callee, scope, where.with_(path="invocation", text=expr.callee)).fn
    bindings = [(b.name, compile_logic(b.value, scope, where.with_(path=f"binding '{b.name}'"), types).fn
                 if b.value is not None else None) for b in expr.bindings]

    def run(env: feel.Env) -> Any:
        function = callee(env)
        if not isinstance(function, FeelFunction):
            env.problems.append(Problem(f"'{expr.callee}' is not a function", where, code="invocation"))
            return None
        args = {name: (fn(env) if fn is not None else None) for name, fn in bindings}
        return function.call(env, (), args)

    return run


def _filter(expr: Filter, scope: feel.Scope, where: Location, types: TypeSystem | None) -> Closure:
    source = compile_logic(expr.source, scope, where.with_(path="in"), types).fn
    match = compile_logic(expr.match, scope.with_names(["item"]), where.with_(path="match"), types).fn

    def run(env: feel.Env) -> Any:
        # the boxed filter is FEEL's `in[match]`: a single value is a list of one
        items = source(env)
        if items is None:
            return None
        return filter_items(env, items if type(items) is list else [items], match, _report_type)

    return run


def _report_type(env: feel.Env, message: str) -> None:
    env.report(message, code="type")


def _iterator(expr: Iterator, scope: feel.Scope, where: Location, types: TypeSystem | None) -> Closure:
    """The boxed `for`, `some` and `every`: FEEL's iterations over one iteration context. The
    domain may be a list, a single value (a list of one) or a range of integers; `partial`
    holds the results so far of a `for`."""
    source = compile_logic(expr.source, scope, where.with_(path="in"), types).fn
    names = [expr.variable, "partial"] if expr.kind == "for" else [expr.variable]
    body = compile_logic(expr.body, scope.with_names(names), where.with_(path=expr.kind), types).fn
    variable, kind = expr.variable, expr.kind

    def run(env: feel.Env) -> Any:
        domain = source(env)
        if domain is None:
            return None
        items = iteration_items(env, lambda _: domain, None, _report_type)
        if items is None:
            return None
        if kind == "for":
            results: list[Any] = []
            for item in items:
                results.append(detach(body(env.child({variable: item, "partial": results})), results))
            return results
        outcomes = [body(env.child({variable: item})) for item in items]
        return quantify(env, outcomes, kind == "every", _report_type)

    return run
