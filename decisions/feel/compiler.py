"""FEEL syntax tree -> Python closures, compiled once.

Every expression node becomes a closure `(env) -> value`; unary tests become
`(env, input) -> bool | None`. Closures never raise: type errors, division by zero, unknown
variables at run time and the like give None and append a located `Problem` to
`env.problems`. Names are resolved at compile time where possible (built-in functions are
bound directly, unknown names are a compile error) so evaluation does only dict lookups.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, DecimalException
from typing import Any

from decisions.feel import ast, temporal
from decisions.feel import types as feel_types
from decisions.feel.builtins import BUILTINS
from decisions.feel.env import Env
from decisions.feel.errors import FeelSyntaxError, UnknownNameError
from decisions.feel.functions import ExternalFunction, UserFunction
from decisions.feel.iteration import detach, filter_items, index, member, product, quantify
from decisions.feel.matching import Fn, TestFn, any_of, constant_number_range, literal_set, matches
from decisions.feel.operators import OperationError, add, divide, multiply, negate, power, subtract
from decisions.feel.parser import Parsed
from decisions.feel.values import (
    DECIMAL_CONTEXT,
    FeelFunction,
    Range,
    feel_compare,
    feel_equal,
    to_string,
    type_name,
)

_ARITHMETIC: dict[str, Callable[[Any, Any], Any]] = {
    "+": add, "-": subtract, "*": multiply, "/": divide, "**": power,
}
# Number-number fast paths (division goes through `divide` for its zero check).
_NUMBER_OPS: dict[str, Callable[[Any, Any], Any]] = {
    "+": DECIMAL_CONTEXT.add, "-": DECIMAL_CONTEXT.subtract, "*": DECIMAL_CONTEXT.multiply,
}
_ORDER_TESTS: dict[str, Callable[[int], bool]] = {
    "<": lambda c: c < 0, "<=": lambda c: c <= 0, ">": lambda c: c > 0, ">=": lambda c: c >= 0,
}


@dataclass
class _Ctx:
    """Compile-time knowledge: where we are, which names are bound, how strict to be."""

    parsed: Parsed
    known: frozenset[str]
    type_definitions: Mapping[str, feel_types.FeelType]
    strict: bool = True
    uses_question: list[bool] = field(default_factory=lambda: [False])
    builtin_names_are_inputs: bool = False  # see feel.Scope

    def pos(self, node: ast.Node) -> int:
        return self.parsed.position(node)

    def with_names(self, names: Sequence[str], strict: bool | None = None) -> _Ctx:
        return _Ctx(self.parsed, self.known | frozenset(names), self.type_definitions,
                    self.strict if strict is None else strict, self.uses_question, self.builtin_names_are_inputs)


class Compiler:
    """Compiles one parsed text. `known` are the names visible (scope plus introduced)."""

    def __init__(self, parsed: Parsed, known: frozenset[str],
                 type_definitions: Mapping[str, feel_types.FeelType] | None = None, strict: bool = True,
                 builtin_names_are_inputs: bool = False) -> None:
        self.parsed = parsed
        self.text = parsed.text
        self.root = _Ctx(parsed, known, type_definitions or {}, strict,
                         builtin_names_are_inputs=builtin_names_are_inputs)

    # --- entry points --------------------------------------------------------------------------

    def expression(self) -> Fn:
        return self.compile(self.parsed.node, self.root)

    def unary_tests(self) -> TestFn:
        node = self.parsed.node
        assert isinstance(node, ast.UnaryTests)
        ctx = self.root.with_names(["?"])
        in_set = literal_set(node.tests)
        tests = [in_set] if in_set else [self.test(t, ctx) for t in node.tests]
        if not tests:
            if node.negated:
                return lambda env, value: False
            return lambda env, value: True
        combined = tests[0] if len(tests) == 1 else any_of(tests)
        if node.negated:
            def negated(env: Env, value: Any) -> bool | None:
                r = combined(env, value)
                return None if r is None else not r
            return negated
        return combined

    # --- helpers -----------------------------------------------------------------------------------

    def _reporter(self, node: ast.Node, ctx: _Ctx) -> Callable[[Env, str], None]:
        text, pos = self.text, ctx.pos(node)

        def report(env: Env, message: str) -> None:
            env.report(message, text, pos)
        return report

    # --- expressions ---------------------------------------------------------------------------------

    def compile(self, node: ast.Node, ctx: _Ctx) -> Fn:
        method = getattr(self, "_" + type(node).__name__, None)
        if method is None:
            raise FeelSyntaxError(f"{type(node).__name__} cannot be used here", self.text, ctx.pos(node))
        fn: Fn = method(node, ctx)
        return fn

    def _Literal(self, node: ast.Literal, ctx: _Ctx) -> Fn:
        value = node.value
        return lambda env: value

    def _InvalidTemporal(self, node: ast.InvalidTemporal, ctx: _Ctx) -> Fn:
        report = self._reporter(node, ctx)
        message = f'invalid temporal literal @"{node.text}"'
        if temporal.looks_like_extended_year(node.text):
            message += " (year out of range: at most 9 digits)"

        def invalid(env: Env) -> None:
            report(env, message)
        return invalid

    def _Name(self, node: ast.Name, ctx: _Ctx) -> Fn:
        name = node.name
        if name == "?":
            ctx.uses_question[0] = True
        builtin = BUILTINS.get(name)
        if name not in ctx.known and name != "?":
            if builtin is not None and not (ctx.builtin_names_are_inputs and ctx.strict):
                return lambda env: env.vars.get(name, builtin)
            if ctx.strict:
                raise UnknownNameError(name, self.text, ctx.pos(node))
        report = self._reporter(node, ctx)

        def lookup(env: Env) -> Any:
            try:
                return env.vars[name]
            except KeyError:
                if builtin is not None:
                    return builtin
                report(env, f"unknown variable '{name}'")
                return None
        return lookup

    def _Path(self, node: ast.Path, ctx: _Ctx) -> Fn:
        target = self.compile(node.target, ctx)
        name = node.name
        report = self._reporter(node, ctx)

        def path(env: Env) -> Any:
            value = target(env)
            if type(value) is dict:
                if name in value:
                    return value[name]
                report(env, f"no entry '{name}' in context")
                return None
            return member(env, value, name, report)
        return path

    def _ListExpr(self, node: ast.ListExpr, ctx: _Ctx) -> Fn:
        items = [self.compile(i, ctx) for i in node.items]
        if all(isinstance(i, ast.Literal) for i in node.items):
            constant = [i.value for i in node.items if isinstance(i, ast.Literal)]
            return lambda env: list(constant)
        return lambda env: [f(env) for f in items]

    def _ContextExpr(self, node: ast.ContextExpr, ctx: _Ctx) -> Fn:
        inner = ctx.with_names([k for k, _ in node.entries])
        keys = [k for k, _ in node.entries]
        duplicate = next((k for i, k in enumerate(keys) if k in keys[:i]), None)
        if duplicate is not None:
            # 10.3.2.6: the keys of a context are distinct; a literal repeating one is an error,
            # which FEEL evaluates to null. The entries are still compiled, for their own errors.
            for _, value in node.entries:
                self.compile(value, inner)
            report = self._reporter(node, ctx)
            message = f"duplicate context entry '{duplicate}'"

            def duplicate_keys(env: Env) -> None:
                report(env, message)
            return duplicate_keys
        entries = [(key, self.compile(value, inner)) for key, value in node.entries]

        def context(env: Env) -> dict[str, Any]:
            local = env.child()
            result: dict[str, Any] = {}
            for key, fn in entries:
                value = fn(local)
                local.vars[key] = value
                result[key] = value
            return result
        return context

    def _Negation(self, node: ast.Negation, ctx: _Ctx) -> Fn:
        operand = self.compile(node.operand, ctx)
        report = self._reporter(node, ctx)

        def negation(env: Env) -> Any:
            try:
                return negate(operand(env))
            except OperationError as e:
                report(env, str(e))
                return None
        return negation

    def _Arithmetic(self, node: ast.Arithmetic, ctx: _Ctx) -> Fn:
        left, right = self.compile(node.left, ctx), self.compile(node.right, ctx)
        op = _ARITHMETIC[node.op]
        fast = _NUMBER_OPS.get(node.op, op)
        report = self._reporter(node, ctx)

        def arithmetic(env: Env) -> Any:
            a, b = left(env), right(env)
            try:
                if type(a) is Decimal and type(b) is Decimal:
                    return fast(a, b)
                if type(a) is str and type(b) is str and not env.charge(len(a) + len(b), lambda why: report(env, why)):
                    return None  # string concatenation draws on the evaluation's memory budget
                return op(a, b)
            except OperationError as e:
                report(env, str(e))
            except DecimalException as e:
                report(env, f"numeric overflow or invalid operation ({type(e).__name__})")
            return None
        return arithmetic

    def _Comparison(self, node: ast.Comparison, ctx: _Ctx) -> Fn:
        left, right = self.compile(node.left, ctx), self.compile(node.right, ctx)
        report = self._reporter(node, ctx)
        op = node.op
        if op in ("=", "!="):
            negate_result = op == "!="

            def equality(env: Env) -> bool | None:
                a, b = left(env), right(env)
                r = feel_equal(a, b)
                if r is None:
                    report(env, f"cannot compare {type_name(a)} and {type_name(b)} with '{op}'")
                    return None
                return (not r) if negate_result else r
            return equality
        order = _ORDER_TESTS[op]

        def comparison(env: Env) -> bool | None:
            a, b = left(env), right(env)
            if type(a) is Decimal and type(b) is Decimal:
                return order(-1 if a < b else (1 if a > b else 0))
            c = feel_compare(a, b)
            if c is None:
                if a is not None and b is not None:
                    report(env, f"cannot compare {type_name(a)} and {type_name(b)} with '{op}'")
                return None
            return order(c)
        return comparison

    def _Between(self, node: ast.Between, ctx: _Ctx) -> Fn:
        value, low, high = (self.compile(n, ctx) for n in (node.value, node.low, node.high))
        report = self._reporter(node, ctx)

        def between(env: Env) -> bool | None:
            # `e between a and b` is `e >= a and e <= b` (ternary `and`): one side false decides.
            v, lo, hi = value(env), low(env), high(env)
            c1, c2 = feel_compare(v, lo), feel_compare(v, hi)
            if c1 is not None and c2 is not None:
                return c1 >= 0 and c2 <= 0
            for bound, c in ((lo, c1), (hi, c2)):
                if c is None and v is not None and bound is not None:
                    report(env, f"cannot compare {type_name(v)} with {type_name(bound)}")
            if (c1 is not None and c1 < 0) or (c2 is not None and c2 > 0):
                return False
            return None
        return between

    def _In(self, node: ast.In, ctx: _Ctx) -> Fn:
        value = self.compile(node.value, ctx)
        tests = [self.test(t, ctx) for t in node.tests]
        test = tests[0] if len(tests) == 1 else any_of(tests)
        return lambda env: test(env, value(env))

    def _And(self, node: ast.And, ctx: _Ctx) -> Fn:
        left, right = self.compile(node.left, ctx), self.compile(node.right, ctx)

        def conjunction(env: Env) -> bool | None:
            a = left(env)
            if a is False:
                return False
            b = right(env)
            if b is False:
                return False
            if a is True and b is True:
                return True
            return None
        return conjunction

    def _Or(self, node: ast.Or, ctx: _Ctx) -> Fn:
        left, right = self.compile(node.left, ctx), self.compile(node.right, ctx)

        def disjunction(env: Env) -> bool | None:
            a = left(env)
            if a is True:
                return True
            b = right(env)
            if b is True:
                return True
            if a is False and b is False:
                return False
            return None
        return disjunction

    def _InstanceOf(self, node: ast.InstanceOf, ctx: _Ctx) -> Fn:
        value = self.compile(node.value, ctx)
        feel_type = self._type(node.type, ctx)
        check = feel_type.is_instance
        return lambda env: check(value(env))

    def _type(self, node: ast.TypeNode, ctx: _Ctx) -> feel_types.FeelType:
        feel_type = feel_types.resolve(node, ctx.type_definitions)
        if feel_type is not None:
            return feel_type
        unknown = feel_types.unknown_name(node, ctx.type_definitions) or node.name
        pos = ctx.pos(node)
        raise FeelSyntaxError(f"unknown type '{unknown}' at position {pos}", self.text, pos)

    def _If(self, node: ast.If, ctx: _Ctx) -> Fn:
        condition, then, otherwise = (self.compile(n, ctx) for n in (node.condition, node.then, node.otherwise))
        return lambda env: then(env) if condition(env) is True else otherwise(env)

    def _Compare(self, node: ast.Compare, ctx: _Ctx) -> Fn:
        """`< 10` used as a value: a range open on one side (`= 10` is `[10..10]`)."""
        operand = self.compile(node.operand, ctx)
        op = node.op
        if op == "=":
            def point(env: Env) -> Range:
                value = operand(env)
                return Range(value, value, True, True)
            return point
        if op == "!=":
            report = self._reporter(node, ctx)

            def not_a_range(env: Env) -> None:
                report(env, "'!=' is a test, not a range")
            return not_a_range
        if op in ("<", "<="):
            return lambda env: Range(None, operand(env), False, op == "<=")
        return lambda env: Range(operand(env), None, op == ">=", False)

    def _RangeLiteral(self, node: ast.RangeLiteral, ctx: _Ctx) -> Fn:
        start = self.compile(node.start, ctx) if node.start is not None else (lambda env: None)
        end = self.compile(node.end, ctx) if node.end is not None else (lambda env: None)
        sc, ec = node.start_closed, node.end_closed
        report = self._reporter(node, ctx)

        def range_(env: Env) -> Range | None:
            s, e = start(env), end(env)
            if s is None or e is None:
                report(env, "range bound is null")
                return None
            order = feel_compare(s, e)
            if order is None:
                report(env, f"range bounds {type_name(s)} and {type_name(e)} are not comparable")
                return None
            if order > 0:  # 10.3.2.7: the endpoints must be ordered, start <= end
                report(env, f"range start {to_string(s)} is after its end {to_string(e)}")
                return None
            return Range(s, e, sc, ec)
        return range_

    # iterations

    def _iterations(self, iterations: Sequence[ast.Iteration], ctx: _Ctx) -> tuple[list[tuple[str, Fn, Fn | None]], _Ctx]:
        compiled: list[tuple[str, Fn, Fn | None]] = []
        for it in iterations:
            source = self.compile(it.source, ctx)
            end = self.compile(it.end, ctx) if it.end is not None else None
            compiled.append((it.name, source, end))
            ctx = ctx.with_names([it.name])
        return compiled, ctx

    def _For(self, node: ast.For, ctx: _Ctx) -> Fn:
        iterations, inner = self._iterations(node.iterations, ctx)
        body = self.compile(node.body, inner.with_names(["partial"]))
        report = self._reporter(node, ctx)

        def for_(env: Env) -> list[Any] | None:
            results: list[Any] = []

            def visit(e: Env) -> None:
                value = body(e.bind("partial", results))
                if value is results and not env.charge(len(results), lambda why: report(env, why)):
                    value = None  # `return partial` copies it: quadratic, so it is charged
                results.append(detach(value, results))
            ok = product(env, iterations, 0, visit, report)
            if ok and env.charge(len(results), lambda why: report(env, why)):
                return results
            return None
        return for_

    def _Quantified(self, node: ast.Quantified, ctx: _Ctx) -> Fn:
        iterations, inner = self._iterations(node.iterations, ctx)
        condition = self.compile(node.condition, inner)
        report = self._reporter(node, ctx)
        every = node.quantifier == "every"

        def quantified(env: Env) -> bool | None:
            outcomes: list[Any] = []
            ok = product(env, iterations, 0, lambda e: outcomes.append(condition(e)), report)
            if not ok:
                return None
            return quantify(env, outcomes, every, report)
        return quantified

    def _Filter(self, node: ast.Filter, ctx: _Ctx) -> Fn:
        target = self.compile(node.target, ctx)
        # Inside a filter, the entries of each item (a context) are names too.
        condition = self.compile(node.condition, ctx.with_names(["item"], strict=False))
        report = self._reporter(node, ctx)
        static_number = isinstance(node.condition, ast.Literal) and type(node.condition.value) is Decimal

        def filter_(env: Env) -> Any:
            items = target(env)
            if items is None:
                return None
            if type(items) is not list:
                items = [items]
            if static_number:
                return index(env, items, condition(env), report)
            return filter_items(env, items, condition, report)
        return filter_

    # functions

    def _FunctionDef(self, node: ast.FunctionDef, ctx: _Ctx) -> Fn:
        names = [p.name for p in node.parameters]
        param_types: list[feel_types.FeelType | None] = []
        for p in node.parameters:
            if p.type is None:
                param_types.append(None)
                continue
            param_types.append(self._type(p.type, ctx))
        if node.external:
            body = self.compile(node.body, ctx.with_names(names, strict=False))
            report = self._reporter(node, ctx)
            return lambda env: ExternalFunction(names, body, env, report)
        body = self.compile(node.body, ctx.with_names(names))
        text = self.text
        pos = ctx.pos(node)
        result_type = static_type(node.body, dict(zip(names, param_types, strict=True)))
        return lambda env: UserFunction(names, param_types, body, env, text, pos, result_type)

    def _Call(self, node: ast.Call, ctx: _Ctx) -> Fn:
        args = [self.compile(a, ctx) for a in node.args]
        named = [(k, self.compile(v, ctx)) for k, v in node.named] if node.named is not None else None
        report = self._reporter(node, ctx)
        function = node.function
        if isinstance(function, ast.Name) and function.name not in ctx.known and function.name in BUILTINS:
            builtin = BUILTINS[function.name]
            call = builtin.call
            if named is not None:
                named_fns = named
                return lambda env: call(env, (), {k: f(env) for k, f in named_fns})
            if len(args) == 1:
                (a0,) = args
                return lambda env: call(env, (a0(env),))
            return lambda env: call(env, [a(env) for a in args])
        if isinstance(function, ast.Name) and function.name not in ctx.known and ctx.strict \
                and function.name != "?":
            raise UnknownNameError(function.name, self.text, ctx.pos(function))
        target = self.compile(function, ctx)
        # A variable named like a built-in (`sum`, `count`, `date`, common in Camunda models) is
        # the variable where it is read; called, it is the built-in unless it holds a function.
        shadowed = BUILTINS.get(function.name) if isinstance(function, ast.Name) else None

        def invoke(env: Env) -> Any:
            f = target(env)
            if not isinstance(f, FeelFunction):
                if shadowed is not None:
                    if named is not None:
                        return shadowed.call(env, (), {k: fn(env) for k, fn in named})
                    return shadowed.call(env, [a(env) for a in args])
                report(env, f"{type_name(f)} is not a function")
                return None
            if named is not None:
                return f.call(env, (), {k: fn(env) for k, fn in named})
            return f.call(env, [a(env) for a in args])
        return invoke

    # --- unary tests -----------------------------------------------------------------------------

    def test(self, node: ast.Node, ctx: _Ctx) -> TestFn:
        if isinstance(node, ast.AnyTest):
            return lambda env, value: True
        if isinstance(node, ast.Compare):
            return self._compare_test(node, ctx)
        if isinstance(node, ast.RangeLiteral):
            constant = constant_number_range(node)
            if constant is not None:
                return constant
            range_fn = self._RangeLiteral(node, ctx)

            def in_range(env: Env, value: Any) -> bool | None:
                r = range_fn(env)
                return None if r is None else r.contains(value)
            return in_range
        operand_node = node.operand if isinstance(node, ast.EqualsTest) else node
        return self._equals_test(operand_node, ctx)

    def _compare_test(self, node: ast.Compare, ctx: _Ctx) -> TestFn:
        report = self._reporter(node, ctx)
        op = node.op
        operand = node.operand
        if op in ("=", "!="):
            fn = self.compile(operand, ctx)
            want = op == "="

            def equality(env: Env, value: Any) -> bool | None:
                r = feel_equal(value, fn(env))
                return None if r is None else (r if want else not r)
            return equality
        order = _ORDER_TESTS[op]

        def slow(env: Env, value: Any, bound: Any) -> bool | None:
            c = feel_compare(value, bound)
            if c is None:
                if value is not None and bound is not None:
                    report(env, f"cannot compare {type_name(value)} with {type_name(bound)}")
                return None
            return order(c)

        if isinstance(operand, ast.Literal) and type(operand.value) is Decimal:
            c = operand.value
            # The hot path of decision tables: one type test and one Decimal comparison.
            if op == "<":
                return lambda env, v: v < c if type(v) is Decimal else slow(env, v, c)
            if op == "<=":
                return lambda env, v: v <= c if type(v) is Decimal else slow(env, v, c)
            if op == ">":
                return lambda env, v: v > c if type(v) is Decimal else slow(env, v, c)
            return lambda env, v: v >= c if type(v) is Decimal else slow(env, v, c)
        fn = self.compile(operand, ctx)
        return lambda env, v: slow(env, v, fn(env))

    def _equals_test(self, operand: ast.Node, ctx: _Ctx) -> TestFn:
        flag = [False]
        sub = _Ctx(ctx.parsed, ctx.known, ctx.type_definitions, ctx.strict, flag, ctx.builtin_names_are_inputs)
        fn = self.compile(operand, sub)
        if flag[0]:
            ctx.uses_question[0] = True
            report = self._reporter(operand, ctx)

            def predicate(env: Env, value: Any) -> bool | None:
                r = fn(env.bind("?", value))
                if r is True or r is False:
                    return r
                if r is not None:
                    report(env, f"test should be boolean, got {type_name(r)}")
                return None
            return predicate
        if isinstance(operand, ast.Literal):
            c = operand.value
            if type(c) is str:
                return lambda env, v: v == c if type(v) is str else matches(v, c)
            if type(c) is Decimal:
                return lambda env, v: v == c if type(v) is Decimal else matches(v, c)
            return lambda env, v: matches(v, c)
        return lambda env, v: matches(v, fn(env))


def static_type(node: ast.Node, names: Mapping[str, feel_types.FeelType | None]) -> feel_types.FeelType | None:
    """The type of an expression when it is known without evaluating it: literals, lists and
    contexts of those, and names of typed parameters. None when unknown (the type of a
    function's body, compared with `function<...> -> T`; 10.3.2.9)."""
    if isinstance(node, ast.Literal):
        return feel_types.type_of(node.value)
    if isinstance(node, ast.Name):
        return names.get(node.name)
    if isinstance(node, ast.ListExpr):
        items = [static_type(item, names) for item in node.items]
        if any(t is None for t in items):
            return None
        known = {t for t in items if t is not None and not isinstance(t, feel_types.NullType)}
        if len(known) > 1:
            return feel_types.LIST
        # [] and [null] are lists of any type: list<Null> conforms to every list type
        return feel_types.ListType(known.pop() if known else feel_types.NULL)
    if isinstance(node, ast.ContextExpr):
        inner = dict(names)
        fields: list[tuple[str, feel_types.FeelType]] = []
        for key, value in node.entries:
            t = static_type(value, inner)
            if t is None:
                return None
            inner[key] = t
            fields.append((key, t))
        return feel_types.ContextType(tuple(fields))
    return None
