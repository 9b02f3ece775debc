"""FEEL text -> syntax tree (decisions.feel.ast), through the lark LALR grammar.

Tokens come from the scope-aware lexer and are fed to lark's interactive parser; the lark
tree is turned into AST nodes by a non-recursive transformer, so that very long operator
chains cannot exhaust the Python stack. Nesting depth is bounded (brackets while
tokenizing, tree depth after building) so that the recursive compiler is always safe.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from importlib import resources
from typing import Any

from lark import Lark, Token, Transformer_NonRecursive, Tree, v_args
from lark.exceptions import UnexpectedInput, UnexpectedToken, VisitError

from decisions.errors import excerpt
from decisions.feel import ast, temporal
from decisions.feel.errors import FeelSyntaxError
from decisions.feel.lexer import NameIndex, scan, tokenize
from decisions.feel.values import DECIMAL_CONTEXT
from decisions.limits import MAX_DEPTH, MAX_LENGTH, MAX_NESTING

_OPEN = {"LPAR", "LSQB", "LBRACE"}
_CLOSE = {"RPAR", "RSQB", "RBRACE"}


@dataclass
class Parsed:
    """A syntax tree with the source text and the position of each node (by node identity)."""

    text: str
    node: ast.Node
    positions: dict[int, int] = field(default_factory=dict)

    def position(self, node: ast.Node) -> int:
        return self.positions.get(id(node), 0)


@lru_cache(maxsize=1)
def _lark() -> Lark:
    grammar = resources.files("decisions.feel").joinpath("grammar.lark").read_text(encoding="utf-8")
    return Lark(grammar, parser="lalr", lexer="basic", start=["start_expression", "start_unary_tests", "start_type"],
                propagate_positions=True, maybe_placeholders=True, cache=True)


def parse_type(text: str, indexes: Iterable[NameIndex]) -> ast.TypeNode:
    """A type expression alone (`list<number>`, `context<a: string>`), as in a typeRef."""
    tokens = tokenize(text, indexes)
    _check_nesting(text, tokens)
    if not tokens:
        raise FeelSyntaxError("empty type", text, 0)
    builder = _Builder(text)
    try:
        node = builder.transform(_feed(text, tokens, "start_type"))
    except VisitError as e:
        if isinstance(e.orig_exc, FeelSyntaxError):
            raise e.orig_exc from None
        raise
    assert isinstance(node, ast.TypeNode)
    return node


def parse(text: str, indexes: Iterable[NameIndex], *, unary_tests: bool = False) -> Parsed:
    if len(text) > MAX_LENGTH:
        raise FeelSyntaxError(f"expression too long ({len(text)} characters, at most {MAX_LENGTH})", text, 0)
    if unary_tests:
        # Without names, the lexer's raw tokens are the parser's tokens: skip making those.
        raw = scan(text)
        if raw and not any(t.kind == "WORD" for t in raw):
            simple = _literal_unary_tests([(t.kind, t.text, t.start) for t in raw])
            if simple is not None:
                return Parsed(text, *simple)
    tokens = tokenize(text, indexes)
    _check_nesting(text, tokens)
    if not tokens:
        if unary_tests:
            return Parsed(text, ast.UnaryTests((), False))
        raise FeelSyntaxError("empty expression", text, 0)
    negated = False
    if unary_tests and _is_negation(tokens):
        negated = True
        tokens = tokens[2:-1]
        if not tokens:
            raise FeelSyntaxError("empty 'not()': expected unary tests", text, len(text))
    simple = _literal_unary_tests([(t.type, t.value, t.start_pos or 0) for t in tokens]) if unary_tests else None
    if simple is not None:
        node, positions = simple
        if negated:
            node = ast.UnaryTests(node.tests, True)
        return Parsed(text, node, positions)
    tree = _feed(text, tokens, "start_unary_tests" if unary_tests else "start_expression")
    builder = _Builder(text)
    try:
        node = builder.transform(tree)
    except VisitError as e:  # the builder's own errors arrive wrapped by lark
        if isinstance(e.orig_exc, FeelSyntaxError):
            raise e.orig_exc from None
        raise
    if unary_tests:
        assert isinstance(node, ast.UnaryTests)
        if negated:
            node = ast.UnaryTests(node.tests, True)
    _check_depth(text, node, builder.positions)
    return Parsed(text, node, builder.positions)


def number_literal(digits: str) -> Decimal:
    """A numeric literal as a FEEL number: Decimal128, so more than 34 significant digits round
    half even (10.3.2.3.1), as the same value computed by arithmetic would. A literal beyond
    Decimal128's range is an `ArithmeticError`."""
    return DECIMAL_CONTEXT.create_decimal(digits)


def _beyond_range(digits: str) -> str:
    return f"the number {excerpt(digits, 0, 40)} is larger than the largest FEEL number (just under 1E+6145)"


# --- unary tests of literals, without lark ----------------------------------------------------

_LITERAL_TOKENS = {"NUMBER", "STRING", "TRUE", "FALSE", "NULL"}
_INTERVAL_OPEN = {"LSQB": True, "LPAR": False, "RSQB": False}  # token -> closed at the start
_INTERVAL_CLOSE = {"RSQB": True, "RPAR": False, "LSQB": False}  # token -> closed at the end


def _literal_unary_tests(tokens: list[tuple[str, Any, int]]) -> tuple[ast.UnaryTests, dict[int, int]] | None:
    """The tree and node positions the grammar gives unary tests made only of literals, `-`,
    comparisons with a literal and intervals between literals (`< 5`, `[1..-2)`, `"a", "b"`);
    None for any other text, which goes through lark. `tokens` are (type, value, position).

    Decision table cells are mostly of these shapes, and a large table has thousands of them:
    building their trees directly is many times cheaper than feeding lark token by token.
    The trees are the ones `_Builder` makes (tests/feel compares the two)."""
    positions: dict[int, int] = {}
    n = len(tokens)

    def at(node: ast.Node, pos: int) -> ast.Node:
        positions[id(node)] = pos
        return node

    def literal(i: int) -> tuple[ast.Node, int] | None:
        """The literal starting at token i (a number, -number, string, boolean or null)."""
        if i >= n:
            return None
        kind, text, pos = tokens[i]
        try:
            if kind == "MINUS":
                if i + 1 < n and tokens[i + 1][0] == "NUMBER":
                    return at(ast.Literal(DECIMAL_CONTEXT.minus(number_literal(str(tokens[i + 1][1])))), pos), i + 2
                return None
            if kind not in _LITERAL_TOKENS:
                return None
            value: Any = number_literal(str(text)) if kind == "NUMBER" else str(text) if kind == "STRING" \
                else kind == "TRUE" if kind != "NULL" else None
        except ArithmeticError:
            return None  # the full parser refuses it, with its position
        return at(ast.Literal(value), pos), i + 1

    tests: list[ast.Node] = []
    i = 0
    while True:
        kind, _, pos = tokens[i]
        if kind == "MINUS" and (i + 1 == n or tokens[i + 1][0] == "COMMA"):
            tests.append(at(ast.AnyTest(), pos))
            i += 1
        elif kind in _CMP:
            found = literal(i + 1)
            if found is None:
                return None
            operand, i = found
            tests.append(at(ast.Compare(_CMP[kind], operand), pos))
        elif kind in _INTERVAL_OPEN:
            start = literal(i + 1)
            if start is None or start[1] >= n or tokens[start[1]][0] != "DOTDOT":
                return None
            end = literal(start[1] + 1)
            if end is None or end[1] >= n or tokens[end[1]][0] not in _INTERVAL_CLOSE:
                return None
            tests.append(at(ast.RangeLiteral(start[0], end[0], _INTERVAL_OPEN[kind],
                                             _INTERVAL_CLOSE[tokens[end[1]][0]]), pos))
            i = end[1] + 1
        else:
            found = literal(i)
            if found is None:
                return None
            operand, i = found
            tests.append(at(ast.EqualsTest(operand), pos))
        if i == n:
            break
        if tokens[i][0] != "COMMA" or i + 1 == n:
            return None
        i += 1
    if len(tests) == 1 and isinstance(tests[0], ast.AnyTest):
        tests = []
    node = ast.UnaryTests(tuple(tests), False)
    at(node, 0)
    return node, positions


def _is_negation(tokens: list[Token]) -> bool:
    """`not(...)` spanning the whole unary tests text (as opposed to `not(x) = y`)."""
    if len(tokens) < 3 or tokens[0].type != "NOT" or tokens[1].type != "LPAR" or tokens[-1].type != "RPAR":
        return False
    depth = 0
    for k, tok in enumerate(tokens[1:], start=1):
        if tok.type in _OPEN:
            depth += 1
        elif tok.type in _CLOSE:
            depth -= 1
            if depth == 0:
                return k == len(tokens) - 1
    return False


def _check_nesting(text: str, tokens: list[Token]) -> None:
    depth = 0
    for tok in tokens:
        if tok.type in _OPEN:
            depth += 1
            if depth > MAX_NESTING:
                raise FeelSyntaxError(
                    f"expression nested too deeply at position {tok.start_pos} (more than {MAX_NESTING} levels)",
                    text, tok.start_pos or 0)
        elif tok.type in _CLOSE:
            depth -= 1


def _check_depth(text: str, root: ast.Node, positions: dict[int, int]) -> None:
    stack: list[tuple[Any, int]] = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            pos = positions.get(id(node), 0) if isinstance(node, ast.Node) else 0
            raise FeelSyntaxError(
                f"expression too complex at position {pos} (more than {MAX_DEPTH} nested operations)", text, pos)
        if isinstance(node, ast.Node):
            for value in vars(node).values():
                if isinstance(value, (ast.Node, tuple)):
                    stack.append((value, depth + 1))
        elif isinstance(node, tuple):
            for value in node:
                if isinstance(value, (ast.Node, tuple)):
                    stack.append((value, depth))


# --- feeding tokens and reporting syntax errors ----------------------------------------------------

_DESCRIPTIONS = {
    "RPAR": "')'", "LPAR": "'('", "RSQB": "']'", "LSQB": "'['", "RBRACE": "'}'", "LBRACE": "'{'",
    "COMMA": "','", "COLON": "':'", "DOT": "'.'", "DOTDOT": "'..'", "ARROW": "'->'", "GT": "'>'",
    "THEN": "'then'", "ELSE": "'else'", "RETURN": "'return'", "SATISFIES": "'satisfies'", "IN": "'in'",
    "AND": "'and'", "OF": "'of'", "NAME": "a name",
}


def _describe_token(tok: Token) -> str:
    if tok.type == "$END":
        return "end of text"
    if tok.type == "STRING":
        return "string"
    if tok.type == "NUMBER":
        return f"number {tok.value}"
    if tok.type == "NAME":
        return f"name '{tok.value}'"
    return f"'{tok.value}'"


def _describe_expected(expected: Iterable[str]) -> str:
    expected = set(expected)
    if expected & {"NUMBER", "STRING"}:
        return "an expression"
    if "NAME" in expected and "FUNCTION" in expected:
        return "a type"
    if "$END" in expected:
        return "an operator or the end of the expression"
    named = sorted(_DESCRIPTIONS[e] for e in expected if e in _DESCRIPTIONS)
    if not named:
        return "an operator"
    if len(named) > 4:
        named = named[:4] + ["..."]
    return " or ".join(named)


def _feed(text: str, tokens: list[Token], start: str) -> Tree[Token]:
    parser = _lark().parse_interactive(start=start)
    try:
        for tok in tokens:
            parser.feed_token(tok)
        result: Tree[Token] = parser.feed_eof()  # type: ignore[no-untyped-call]
        return result
    except UnexpectedToken as e:
        tok = e.token
        pos = tok.start_pos if tok.type != "$END" and tok.start_pos is not None else len(text.rstrip())
        raise FeelSyntaxError(
            f"unexpected {_describe_token(tok)} at position {pos}; expected {_describe_expected(e.expected)}",
            text, pos) from None
    except UnexpectedInput as e:  # pragma: no cover - the lexer never hands lark raw text
        raise FeelSyntaxError(f"syntax error: {e}", text, getattr(e, "pos_in_stream", 0) or 0) from None


# --- lark tree -> AST ------------------------------------------------------------------------------


def _nodes(children: Iterable[Any]) -> list[Any]:
    return [c for c in children if not isinstance(c, Token) and c is not None]


def _toks(children: Iterable[Any], *types: str) -> list[Token]:
    return [c for c in children if isinstance(c, Token) and (not types or c.type in types)]


_CMP = {"EQ": "=", "NEQ": "!=", "LT": "<", "LE": "<=", "GT": ">", "GE": ">="}
_ARITH = {"PLUS": "+", "MINUS": "-", "STAR": "*", "SLASH": "/", "POW": "**"}


@v_args(meta=True)
class _Builder(Transformer_NonRecursive[Token, Any]):
    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text
        self.positions: dict[int, int] = {}

    def _at(self, node: ast.Node, pos: int | None) -> ast.Node:
        self.positions[id(node)] = pos or 0
        return node

    def _start(self, meta: Any) -> int:
        return int(getattr(meta, "start_pos", 0) or 0)

    # roots
    def start_expression(self, meta: Any, children: list[Any]) -> ast.Node:
        node: ast.Node = _nodes(children)[0]
        return node

    def start_type(self, meta: Any, children: list[Any]) -> ast.Node:
        node: ast.Node = _nodes(children)[0]
        return node

    def start_unary_tests(self, meta: Any, children: list[Any]) -> ast.Node:
        tests = tuple(_nodes(children))
        if len(tests) == 1 and isinstance(tests[0], ast.AnyTest):
            tests = ()
        return self._at(ast.UnaryTests(tests, False), 0)

    # unary tests
    def equals_test(self, meta: Any, children: list[Any]) -> ast.Node:
        operand = _nodes(children)[0]
        if isinstance(operand, (ast.Compare, ast.RangeLiteral)):
            return operand
        return self._at(ast.EqualsTest(operand), self._start(meta))

    def any_test(self, meta: Any, children: list[Any]) -> ast.Node:
        return self._at(ast.AnyTest(), self._start(meta))

    def compare_test(self, meta: Any, children: list[Any]) -> ast.Node:
        op = _toks(children)[0]
        return self._at(ast.Compare(_CMP[op.type], _nodes(children)[0]), op.start_pos)

    unary_compare = compare_test

    # control
    def iteration(self, meta: Any, children: list[Any]) -> ast.Node:
        name = _toks(children, "NAME")[0]
        return self._at(ast.Iteration(str(name), _nodes(children)[0]), name.start_pos)

    def range_iteration(self, meta: Any, children: list[Any]) -> ast.Node:
        name = _toks(children, "NAME")[0]
        start, end = _nodes(children)
        return self._at(ast.Iteration(str(name), start, end), name.start_pos)

    def for_expr(self, meta: Any, children: list[Any]) -> ast.Node:
        *iterations, body = _nodes(children)
        return self._at(ast.For(tuple(iterations), body), self._start(meta))

    def quantified(self, meta: Any, children: list[Any]) -> ast.Node:
        *iterations, condition = _nodes(children)
        quantifier = _toks(children, "SOME", "EVERY")[0].type.lower()
        return self._at(ast.Quantified(quantifier, tuple(iterations), condition), self._start(meta))

    def if_expr(self, meta: Any, children: list[Any]) -> ast.Node:
        condition, then, otherwise = _nodes(children)
        return self._at(ast.If(condition, then, otherwise), self._start(meta))

    def function_def(self, meta: Any, children: list[Any]) -> ast.Node:
        *params, body = _nodes(children)
        names = [p.name for p in params]
        for k, name in enumerate(names):
            if name in names[:k]:
                raise FeelSyntaxError(f"duplicate parameter '{name}'", self.text, self._start(meta))
        external = bool(_toks(children, "EXTERNAL"))
        return self._at(ast.FunctionDef(tuple(params), body, external), self._start(meta))

    def parameter(self, meta: Any, children: list[Any]) -> ast.Node:
        name = _toks(children, "NAME")[0]
        types = _nodes(children)
        return self._at(ast.Parameter(str(name), types[0] if types else None), name.start_pos)

    # operators
    def or_(self, meta: Any, children: list[Any]) -> ast.Node:
        left, right = _nodes(children)
        return self._at(ast.Or(left, right), _toks(children, "OR")[0].start_pos)

    def and_(self, meta: Any, children: list[Any]) -> ast.Node:
        left, right = _nodes(children)
        return self._at(ast.And(left, right), _toks(children, "AND")[0].start_pos)

    def comparison(self, meta: Any, children: list[Any]) -> ast.Node:
        left, right = _nodes(children)
        op = _toks(children)[0]
        return self._at(ast.Comparison(_CMP[op.type], left, right), op.start_pos)

    def between(self, meta: Any, children: list[Any]) -> ast.Node:
        value, low, high = _nodes(children)
        return self._at(ast.Between(value, low, high), _toks(children, "BETWEEN")[0].start_pos)

    def in_(self, meta: Any, children: list[Any]) -> ast.Node:
        value, *tests = _nodes(children)
        return self._at(ast.In(value, tuple(tests)), _toks(children, "IN")[0].start_pos)

    def instance_of(self, meta: Any, children: list[Any]) -> ast.Node:
        value, type_node = _nodes(children)
        return self._at(ast.InstanceOf(value, type_node), _toks(children, "INSTANCE")[0].start_pos)

    def arithmetic(self, meta: Any, children: list[Any]) -> ast.Node:
        left, right = _nodes(children)
        op = _toks(children)[0]
        return self._at(ast.Arithmetic(_ARITH[op.type], left, right), op.start_pos)

    def negation(self, meta: Any, children: list[Any]) -> ast.Node:
        operand = _nodes(children)[0]
        if isinstance(operand, ast.Literal) and type(operand.value) is Decimal:
            return self._at(ast.Literal(DECIMAL_CONTEXT.minus(operand.value)), self._start(meta))
        return self._at(ast.Negation(operand), self._start(meta))

    # postfix
    def path(self, meta: Any, children: list[Any]) -> ast.Node:
        target = _nodes(children)[0]
        name = _toks(children, "NAME")[-1]
        return self._at(ast.Path(target, str(name)), name.start_pos)

    def filter(self, meta: Any, children: list[Any]) -> ast.Node:
        target, condition = _nodes(children)
        return self._at(ast.Filter(target, condition), _toks(children, "LSQB")[0].start_pos)

    def call(self, meta: Any, children: list[Any]) -> ast.Node:
        function, *rest = _nodes(children)
        return self._call(function, rest, _toks(children, "LPAR")[0].start_pos)

    def not_call(self, meta: Any, children: list[Any]) -> ast.Node:
        function = self._at(ast.Name("not"), self._start(meta))
        return self._call(function, _nodes(children), self._start(meta))

    def _call(self, function: ast.Node, rest: list[Any], pos: int | None) -> ast.Node:
        if not rest:
            return self._at(ast.Call(function, ()), pos)
        kind, items = rest[0]
        if kind == "named":
            names = [n for n, _ in items]
            for k, name in enumerate(names):
                if name in names[:k]:
                    raise FeelSyntaxError(f"duplicate named argument '{name}'", self.text, pos or 0)
            return self._at(ast.Call(function, (), tuple(items)), pos)
        return self._at(ast.Call(function, tuple(items)), pos)

    def positional_args(self, meta: Any, children: list[Any]) -> tuple[str, tuple[ast.Node, ...]]:
        return ("positional", tuple(_nodes(children)))

    def named_args(self, meta: Any, children: list[Any]) -> tuple[str, tuple[tuple[str, ast.Node], ...]]:
        return ("named", tuple(_nodes(children)))

    def named_arg(self, meta: Any, children: list[Any]) -> tuple[str, ast.Node]:
        return (str(_toks(children, "NAME")[0]), _nodes(children)[0])

    # primaries
    def name(self, meta: Any, children: list[Any]) -> ast.Node:
        tok = _toks(children)[0]
        return self._at(ast.Name(str(tok)), tok.start_pos)

    def parenthesized(self, meta: Any, children: list[Any]) -> ast.Node:
        node: ast.Node = _nodes(children)[0]
        return node

    def list_(self, meta: Any, children: list[Any]) -> ast.Node:
        return self._at(ast.ListExpr(tuple(_nodes(children))), self._start(meta))

    def context(self, meta: Any, children: list[Any]) -> ast.Node:
        # Duplicate keys are a semantic error (null), reported by the compiler.
        return self._at(ast.ContextExpr(tuple(_nodes(children))), self._start(meta))

    def context_entry(self, meta: Any, children: list[Any]) -> tuple[str, ast.Node]:
        key = _toks(children, "NAME", "STRING")[0]
        return (str(key), _nodes(children)[0])

    def interval(self, meta: Any, children: list[Any]) -> ast.Node:
        toks = _toks(children, "LSQB", "RSQB", "LPAR", "RPAR")
        start, end = _nodes(children)
        return self._at(ast.RangeLiteral(start, end, toks[0].type == "LSQB", toks[-1].type == "RSQB"),
                        toks[0].start_pos)

    # literals
    def number(self, meta: Any, children: list[Any]) -> ast.Node:
        tok = children[0]
        try:
            value = number_literal(str(tok))
        except ArithmeticError:
            raise FeelSyntaxError(_beyond_range(str(tok)), self.text, tok.start_pos) from None
        return self._at(ast.Literal(value), tok.start_pos)

    def string(self, meta: Any, children: list[Any]) -> ast.Node:
        tok = children[0]
        return self._at(ast.Literal(str(tok)), tok.start_pos)

    def boolean(self, meta: Any, children: list[Any]) -> ast.Node:
        tok = children[0]
        return self._at(ast.Literal(tok.type == "TRUE"), tok.start_pos)

    def null(self, meta: Any, children: list[Any]) -> ast.Node:
        return self._at(ast.Literal(None), children[0].start_pos)

    def temporal(self, meta: Any, children: list[Any]) -> ast.Node:
        at, tok = children
        value = temporal.parse_temporal(str(tok))
        if value is None:
            return self._at(ast.InvalidTemporal(str(tok)), at.start_pos)
        return self._at(ast.Literal(value), at.start_pos)

    # types
    def named_type(self, meta: Any, children: list[Any]) -> ast.Node:
        name = ".".join(str(t) for t in _toks(children, "NAME"))
        return self._at(ast.TypeNode(name), self._start(meta))

    def generic_type(self, meta: Any, children: list[Any]) -> ast.Node:
        name = str(_toks(children, "NAME")[0])
        if name not in ("list", "range"):
            raise FeelSyntaxError(f"type '{name}' takes no type argument", self.text, self._start(meta))
        return self._at(ast.TypeNode(name, tuple(_nodes(children))), self._start(meta))

    def context_type(self, meta: Any, children: list[Any]) -> ast.Node:
        name = str(_toks(children, "NAME")[0])
        if name != "context":
            raise FeelSyntaxError(f"type '{name}' takes no entry types", self.text, self._start(meta))
        return self._at(ast.TypeNode("context", fields=tuple(_nodes(children))), self._start(meta))

    def type_field(self, meta: Any, children: list[Any]) -> tuple[str, ast.Node]:
        return (str(_toks(children, "NAME")[0]), _nodes(children)[0])

    def function_type(self, meta: Any, children: list[Any]) -> ast.Node:
        *params, result = _nodes(children)
        return self._at(ast.TypeNode("function", tuple(params), result=result), self._start(meta))

    def any_function_type(self, meta: Any, children: list[Any]) -> ast.Node:
        return self._at(ast.TypeNode("function"), self._start(meta))
