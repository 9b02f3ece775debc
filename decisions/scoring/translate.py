"""FEEL syntax tree -> sympy expression, for scoring decisions.

A scoring expression is arithmetic over numbers: `+ - * / **`, unary minus, `abs`, `sqrt`,
`exp`, `log` (natural), `min` and `max` of two or more numbers, `if c then a else b` whose
condition is made of comparisons (`< <= > >= = !=`) joined by `and` / `or`, numeric
literals, the decision's named constants and the variables it reads. Anything else is
refused with the node at fault, so the caller can say where.

The sympy objects are built node by node from the tree: no text is ever handed to sympy's
parser, nor to `eval`. Literals become exact rationals, constants are put in as their exact
value, and each variable becomes a real symbol `x0`, `x1`, ... (names with spaces would not
survive `lambdify`). `evaluate=False` keeps the tree as written (so `x / x` stays a division,
undefined at 0 as in FEEL); the default lets sympy simplify, for the symbolic checks.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

import sympy

from decisions.feel import ast

FUNCTIONS = ("abs", "sqrt", "exp", "log", "min", "max")
_COMPARISONS = {"<": sympy.Lt, "<=": sympy.Le, ">": sympy.Gt, ">=": sympy.Ge, "=": sympy.Eq, "!=": sympy.Ne}

_DESCRIPTIONS: dict[type, str] = {
    ast.Path: "a path", ast.ListExpr: "a list", ast.ContextExpr: "a context", ast.Filter: "a filter",
    ast.For: "a for expression", ast.Quantified: "a some/every expression", ast.FunctionDef: "a function definition",
    ast.Between: "between", ast.In: "in", ast.InstanceOf: "instance of", ast.InvalidTemporal: "a date or time",
    ast.RangeLiteral: "a range", ast.Compare: "a unary comparison", ast.UnaryTests: "unary tests",
}


class Refused(Exception):
    """The expression uses something a scoring expression may not; `node` is where."""

    def __init__(self, message: str, node: ast.Node) -> None:
        super().__init__(message)
        self.message = message
        self.node = node


def rational(value: Decimal) -> sympy.Rational:
    """A finite Decimal as the exact sympy rational it denotes."""
    numerator, denominator = value.as_integer_ratio()
    return sympy.Rational(numerator, denominator)


@dataclass(frozen=True)
class Translation:
    expr: sympy.Expr
    symbols: dict[str, sympy.Symbol]  # variable name -> its symbol, in order of first reading


def translate(node: ast.Node, variables: Mapping[str, sympy.Symbol], constants: Mapping[str, Decimal], *,
              evaluate: bool = True) -> sympy.Expr:
    """The sympy expression of `node`; raises `Refused` at the first construct not allowed."""
    return _Translator(variables, constants, evaluate).number(node)


def variables_read(node: ast.Node, constants: Mapping[str, Decimal]) -> list[str]:
    """The names `node` reads that are not constants (nor called functions), in order of first reading."""
    found: list[str] = []
    stack: list[ast.Node] = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, ast.Name):
            if current.name not in constants and current.name not in found:
                found.append(current.name)
            continue
        if isinstance(current, ast.Call):
            stack.extend(reversed(current.args))
            continue
        children = [getattr(current, f) for f in getattr(current, "__dataclass_fields__", {})]
        stack.extend(reversed([c for c in children if isinstance(c, ast.Node)]))
    return found


def symbols_for(names: list[str]) -> dict[str, sympy.Symbol]:
    return {name: sympy.Symbol(f"x{i}", real=True) for i, name in enumerate(names)}


class _Translator:
    def __init__(self, variables: Mapping[str, sympy.Symbol], constants: Mapping[str, Decimal],
                 evaluate: bool) -> None:
        self.variables = variables
        self.constants = constants
        self.evaluate = evaluate

    def number(self, node: ast.Node) -> sympy.Expr:
        e = self.evaluate
        if isinstance(node, ast.Literal):
            if isinstance(node.value, Decimal):
                return rational(node.value)
            raise Refused(f"{_literal_kind(node.value)} is not allowed in a scoring expression; only numbers", node)
        if isinstance(node, ast.Name):
            if node.name in self.constants:
                return rational(self.constants[node.name])
            symbol = self.variables.get(node.name)
            if symbol is None:
                raise Refused(f"'{node.name}' is neither a variable the expression reads nor a constant", node)
            return symbol
        if isinstance(node, ast.Negation):
            return sympy.Mul(sympy.Integer(-1), self.number(node.operand), evaluate=e)
        if isinstance(node, ast.Arithmetic):
            left, right = self.number(node.left), self.number(node.right)
            if node.op == "+":
                return sympy.Add(left, right, evaluate=e)
            if node.op == "-":
                return sympy.Add(left, sympy.Mul(sympy.Integer(-1), right, evaluate=e), evaluate=e)
            if node.op == "*":
                return sympy.Mul(left, right, evaluate=e)
            if node.op == "/":
                return sympy.Mul(left, sympy.Pow(right, sympy.Integer(-1), evaluate=e), evaluate=e)
            return sympy.Pow(left, right, evaluate=e)
        if isinstance(node, ast.If):
            condition = self.condition(node.condition)
            return sympy.Piecewise((self.number(node.then), condition), (self.number(node.otherwise), True),
                                   evaluate=e)
        if isinstance(node, ast.Call):
            return self.call(node)
        if isinstance(node, ast.Comparison | ast.And | ast.Or):
            raise Refused("a condition is allowed only after 'if'; a scoring expression gives a number", node)
        raise Refused(f"{_describe(node)} is not allowed in a scoring expression", node)

    def call(self, node: ast.Call) -> sympy.Expr:
        e = self.evaluate
        name = node.function.name if isinstance(node.function, ast.Name) else None
        if name not in FUNCTIONS:
            called = f"the function '{name}'" if name else "calling this"
            raise Refused(f"{called} is not allowed in a scoring expression; allowed: {', '.join(FUNCTIONS)}", node)
        if node.named is not None:
            raise Refused(f"{name} with named arguments is not allowed in a scoring expression; "
                          "give the arguments by position", node)
        args = [self.number(arg) for arg in node.args]
        if name in ("min", "max"):
            if len(args) < 2:
                raise Refused(f"{name} needs two or more numbers in a scoring expression", node)
            return (sympy.Min if name == "min" else sympy.Max)(*args, evaluate=e)
        if len(args) != 1:
            raise Refused(f"{name} takes one number, not {len(args)}", node)
        (arg,) = args
        if name == "abs":
            return sympy.Abs(arg, evaluate=e)
        if name == "sqrt":
            return sympy.Pow(arg, sympy.Rational(1, 2), evaluate=e)
        if name == "exp":
            return sympy.exp(arg, evaluate=e)
        return sympy.log(arg, evaluate=e)

    def condition(self, node: ast.Node) -> sympy.logic.boolalg.Boolean:
        e = self.evaluate
        if isinstance(node, ast.Comparison):
            return _COMPARISONS[node.op](self.number(node.left), self.number(node.right), evaluate=e)
        if isinstance(node, ast.And):
            return sympy.And(self.condition(node.left), self.condition(node.right), evaluate=e)
        if isinstance(node, ast.Or):
            return sympy.Or(self.condition(node.left), self.condition(node.right), evaluate=e)
        raise Refused(f"{_describe(node)} is not allowed in the condition of a scoring expression; "
                      "use comparisons joined by and / or", node)


def _literal_kind(value: object) -> str:
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "a boolean"
    if value is None:
        return "null"
    return "a date or time"


def _describe(node: ast.Node) -> str:
    if isinstance(node, ast.Literal):
        return _literal_kind(node.value) if not isinstance(node.value, Decimal) else "a number"
    if isinstance(node, ast.Call):
        return "a call"
    return _DESCRIPTIONS.get(type(node), f"a {type(node).__name__.lower()} expression")
