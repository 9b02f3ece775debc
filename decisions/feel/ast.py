"""The FEEL syntax tree: one closed family of frozen nodes.

Every construct of the language is one class here; the compiler has one case per class.
Nodes carry no source positions as fields (so that structurally equal expressions compare
equal and the rule-indexing code can pattern-match on fields); positions live in the
`Parsed.positions` side table produced by the parser.

The unary-test side (`UnaryTests`, `AnyTest`, `Compare`, `RangeLiteral`, `EqualsTest`) is
introspected by the decision-table compiler to build rule indexes, so its shape is stable.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class Node:
    """Base of every FEEL syntax node."""

    __slots__ = ()


# --- atoms ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Literal(Node):
    """number (Decimal), string, boolean, null or an already evaluated temporal literal."""

    value: Any


@dataclass(frozen=True)
class InvalidTemporal(Node):
    """`@"foo"`: well-formed syntax whose text is no date, time or duration; evaluates to null."""

    text: str


@dataclass(frozen=True)
class Name(Node):
    name: str


@dataclass(frozen=True)
class Path(Node):
    """`target.name`: a context entry, a property of a value, or a projection over a list."""

    target: Node
    name: str


@dataclass(frozen=True)
class ListExpr(Node):
    items: tuple[Node, ...]


@dataclass(frozen=True)
class ContextExpr(Node):
    """`{a: 1, "b c": a + 1}`: each entry sees the earlier ones."""

    entries: tuple[tuple[str, Node], ...]


# --- unary tests (stable shape, see module docstring) ------------------------------------


@dataclass(frozen=True)
class UnaryTests(Node):
    """Root of compiled unary tests. `negated` for `not(...)`; no tests and not negated is `-`."""

    tests: tuple[Node, ...]
    negated: bool


@dataclass(frozen=True)
class AnyTest(Node):
    """`-` inside a list of tests: matches anything."""


@dataclass(frozen=True)
class Compare(Node):
    """Unary comparison `< 5`: a test, or a range with one open end when used as a value."""

    op: str
    operand: Node


@dataclass(frozen=True)
class RangeLiteral(Node):
    """`[1..5)`, `]a..b[`: an interval; start or end is None only when built from `< x`."""

    start: Node | None
    end: Node | None
    start_closed: bool
    end_closed: bool


@dataclass(frozen=True)
class EqualsTest(Node):
    """A positive unary test that is a plain expression (equality, membership, or predicate on `?`)."""

    operand: Node


# --- operators ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Negation(Node):
    """Arithmetic negation `-x`."""

    operand: Node


@dataclass(frozen=True)
class Arithmetic(Node):
    """`+ - * / **`"""

    op: str
    left: Node
    right: Node


@dataclass(frozen=True)
class Comparison(Node):
    """Binary comparison `= != < <= > >=`."""

    op: str
    left: Node
    right: Node


@dataclass(frozen=True)
class Between(Node):
    value: Node
    low: Node
    high: Node


@dataclass(frozen=True)
class In(Node):
    """`value in test` or `value in (test, test, ...)`: the tests are unary-test nodes."""

    value: Node
    tests: tuple[Node, ...]


@dataclass(frozen=True)
class And(Node):
    left: Node
    right: Node


@dataclass(frozen=True)
class Or(Node):
    left: Node
    right: Node


@dataclass(frozen=True)
class InstanceOf(Node):
    value: Node
    type: TypeNode


# --- control --------------------------------------------------------------------------------


@dataclass(frozen=True)
class If(Node):
    condition: Node
    then: Node
    otherwise: Node


@dataclass(frozen=True)
class Iteration(Node):
    """One `name in source` (or `name in start..end`) of a for / some / every."""

    name: str
    source: Node
    end: Node | None = None  # set for `for i in 1..3`


@dataclass(frozen=True)
class For(Node):
    iterations: tuple[Iteration, ...]
    body: Node


@dataclass(frozen=True)
class Quantified(Node):
    quantifier: str  # "some" or "every"
    iterations: tuple[Iteration, ...]
    condition: Node


@dataclass(frozen=True)
class Filter(Node):
    target: Node
    condition: Node


# --- functions ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Parameter(Node):
    name: str
    type: TypeNode | None = None


@dataclass(frozen=True)
class FunctionDef(Node):
    parameters: tuple[Parameter, ...]
    body: Node
    external: bool = False


@dataclass(frozen=True)
class Call(Node):
    """Invocation with positional `args` or, when `named` is not None, named arguments."""

    function: Node
    args: tuple[Node, ...]
    named: tuple[tuple[str, Node], ...] | None = None


# --- types (for `instance of` and typed parameters) -------------------------------------------


@dataclass(frozen=True)
class TypeNode(Node):
    """A type expression: `number`, `list<string>`, `context<a: number>`, `function<T> -> U`.

    `name` is the (qualified) type name, or "list", "range", "context", "function" with
    `args` (element types, or parameter types), `fields` (context entry types) and `result`.
    """

    name: str
    args: tuple[TypeNode, ...] = ()
    fields: tuple[tuple[str, TypeNode], ...] = ()
    result: TypeNode | None = None
