"""`range(from)` (DMN 1.5): the range a range literal's text denotes.

Grammar rules 66 and 67:

    range literal  = ( "(" | "]" | "[" ) range endpoint ".." range endpoint ( ")" | "[" | "]" )
                   | ( "(" | "]" ) ".." range endpoint ( ")" | "[" | "]" )      -- no start
                   | ( "(" | "]" | "[" ) range endpoint ".." ( ")" | "[" )      -- no end
    range endpoint = numeric literal | string literal | date time literal

A date time literal is `@"..."` or one of `date`, `time`, `date and time`, `duration`,
`years and months duration` applied to a string literal. Anything else (names, arithmetic,
null, a unary comparison such as `< 10`) is no range literal: null. As for every range
(10.3.2.7), the endpoints must be of one type and in order (start <= end).
"""

from __future__ import annotations

from decisions.feel import ast
from decisions.feel.builtins.registry import BuiltinError, fn
from decisions.feel.values import Range, feel_compare, type_name

_TEMPORAL_CONSTRUCTORS = ("date", "time", "date and time", "duration", "years and months duration")
_STARTS = {"[": True, "(": False, "]": False}
_ENDS = {"]": True, ")": False, "[": False}


def _range(from_: str) -> Range:
    text = from_.strip()
    if len(text) < 4 or text[0] not in _STARTS or text[-1] not in _ENDS:
        raise BuiltinError(f"{from_!r} is not a range literal: it must start with [, ( or ] and end with ], ) or [")
    start_included, end_included = _STARTS[text[0]], _ENDS[text[-1]]
    left, right = _split_at_dots(text[1:-1], from_)
    start = _endpoint(left, from_) if left else None
    end = _endpoint(right, from_) if right else None
    if left == "" and right == "":
        raise BuiltinError(f"{from_!r} has no endpoint")
    if (left == "" and start_included) or (right == "" and end_included):
        raise BuiltinError(f"{from_!r}: a missing endpoint must be on an open side")
    if start is not None and end is not None:
        order = feel_compare(start, end)
        if order is None:
            raise BuiltinError(f"the endpoints of {from_!r} are not comparable ({type_name(start)} and {type_name(end)})")
        if order > 0:
            raise BuiltinError(f"the start of {from_!r} is after its end")
    return Range(start, end, start_included and start is not None, end_included and end is not None)


def _split_at_dots(inner: str, from_: str) -> tuple[str, str]:
    """The text before and after the `..` that is outside string literals."""
    quoted = False
    k = 0
    while k < len(inner):
        c = inner[k]
        if quoted and c == "\\":
            k += 2
            continue
        if c == '"':
            quoted = not quoted
        elif not quoted and inner.startswith("..", k) and not inner.startswith("...", k):
            return inner[:k].strip(), inner[k + 2:].strip()
        k += 1
    raise BuiltinError(f"{from_!r} is not a range literal: no '..' between its endpoints")


def _endpoint(text: str, from_: str) -> object:
    from decisions.feel import FeelSyntaxError, compile_expression

    try:
        compiled = compile_expression(text)
    except FeelSyntaxError as e:
        raise BuiltinError(f"invalid endpoint {text!r} in {from_!r}: {e}") from None
    if not _is_literal(compiled.ast):
        raise BuiltinError(f"the endpoint {text!r} of {from_!r} is not a literal")
    value = compiled.evaluate()
    if value is None:
        raise BuiltinError(f"the endpoint {text!r} of {from_!r} is not a valid value")
    return value


def _is_literal(node: ast.Node) -> bool:
    if isinstance(node, ast.Literal):
        return node.value is not None and not isinstance(node.value, bool)
    if isinstance(node, ast.Negation):  # `-1` when the parser keeps the sign apart
        return isinstance(node.operand, ast.Literal) and type(node.operand.value) is not str \
            and _is_literal(node.operand)
    if isinstance(node, ast.Call) and isinstance(node.function, ast.Name) and node.named is None:
        return (node.function.name in _TEMPORAL_CONSTRUCTORS and len(node.args) == 1
                and isinstance(node.args[0], ast.Literal) and type(node.args[0].value) is str)
    return False


FUNCTIONS = [fn("range", (["from: string"], _range))]
