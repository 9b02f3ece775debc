"""External (Java) functions: `function(a, b) external {java: {class: ..., method signature: ...}}`.

Nothing is looked up by reflection: only a fixed table of side-effect-free static methods of
`java.lang` (Math, the number wrappers, String.valueOf/format) is available, reimplemented in
Python. Any other class or signature is "not supported": null plus a problem.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from decisions.feel.values import DECIMAL_CONTEXT

_SIGNATURE = re.compile(r"\s*([A-Za-z_][\w]*)\s*\(([^)]*)\)\s*")

_FLOATS = {"double", "float", "java.lang.Double", "java.lang.Float"}
_INTEGERS = {"int", "long", "short", "byte", "java.lang.Integer", "java.lang.Long", "java.lang.Short", "java.lang.Byte"}
_INTEGER_RANGES = {"byte": (-(2**7), 2**7 - 1), "short": (-(2**15), 2**15 - 1), "int": (-(2**31), 2**31 - 1),
                   "long": (-(2**63), 2**63 - 1)}


class ExternalError(Exception):
    """The external function cannot be resolved or invoked."""


def _to_java(value: Any, java_type: str) -> Any:
    if java_type in _FLOATS:
        if type(value) is not Decimal:
            raise ExternalError(f"expected a number for {java_type}")
        return float(value)
    if java_type in _INTEGERS:
        if type(value) is not Decimal or value != value.to_integral_value():
            raise ExternalError(f"expected an integer for {java_type}")
        low, high = _INTEGER_RANGES.get(java_type.rsplit(".", 1)[-1].lower().replace("integer", "int"), (None, None))
        n = int(value)
        if low is not None and high is not None and not low <= n <= high:
            raise ExternalError(f"{n} does not fit in a Java {java_type}")
        return n
    if java_type == "char":
        if type(value) is not str or len(value) != 1:
            raise ExternalError("expected a single character for char")
        return value
    if java_type == "java.lang.String":
        if type(value) is not str:
            raise ExternalError("expected a string")
        return value
    if java_type in ("java.lang.Object", "[Ljava.lang.Object;"):
        return value
    raise ExternalError(f"unsupported Java parameter type {java_type}")


def _from_java(value: Any) -> Any:
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        return DECIMAL_CONTEXT.create_decimal(repr(value))
    return value


def _parse_number(text: str, integral: bool) -> float | int:
    try:
        return int(text) if integral else float(Decimal(text))
    except (ValueError, InvalidOperation):
        raise ExternalError(f"not a number: {text!r}") from None


def _format(template: str, *args: Any) -> str:
    """java.lang.String.format for `%s` (and `%%`) only."""
    parts = iter(args)

    def substitute(m: re.Match[str]) -> str:
        if m.group() == "%%":
            return "%"
        try:
            arg = next(parts)
        except StopIteration:
            raise ExternalError("not enough arguments for format") from None
        from decisions.feel.values import to_string
        return to_string(arg)
    return re.sub(r"%%|%s", substitute, template)


_MATH_UNARY: dict[str, Callable[[float], float]] = {
    "cos": math.cos, "sin": math.sin, "tan": math.tan, "acos": math.acos, "asin": math.asin, "atan": math.atan,
    "sqrt": math.sqrt, "cbrt": lambda x: math.copysign(abs(x) ** (1 / 3), x), "exp": math.exp, "log": math.log,
    "log10": math.log10, "floor": math.floor, "ceil": math.ceil, "toDegrees": math.degrees,
    "toRadians": math.radians, "signum": lambda x: float((x > 0) - (x < 0)),
}

Java = Callable[..., Any]


def _table() -> dict[tuple[str, str, tuple[str, ...]], Java]:
    table: dict[tuple[str, str, tuple[str, ...]], Java] = {}
    math_class = "java.lang.Math"
    for name, f in _MATH_UNARY.items():
        table[(math_class, name, ("double",))] = f
    for t in ("double", "float", "int", "long"):
        table[(math_class, "max", (t, t))] = max
        table[(math_class, "min", (t, t))] = min
        table[(math_class, "abs", (t,))] = abs
    table[(math_class, "pow", ("double", "double"))] = math.pow
    table[(math_class, "atan2", ("double", "double"))] = math.atan2
    table[(math_class, "hypot", ("double", "double"))] = math.hypot
    table[(math_class, "round", ("double",))] = lambda x: math.floor(x + 0.5)
    for cls, t in (("java.lang.Integer", "int"), ("java.lang.Long", "long"), ("java.lang.Short", "short"),
                   ("java.lang.Byte", "byte")):
        table[(cls, "valueOf", (t,))] = lambda x: x
        table[(cls, "valueOf", ("java.lang.String",))] = lambda s: _parse_number(s, True)
        table[(cls, "parse" + t.capitalize() if t != "int" else "parseInt", ("java.lang.String",))] = \
            lambda s: _parse_number(s, True)
    for cls, t in (("java.lang.Double", "double"), ("java.lang.Float", "float")):
        table[(cls, "valueOf", (t,))] = lambda x: x
        table[(cls, "valueOf", ("java.lang.String",))] = lambda s: _parse_number(s, False)
        table[(cls, "parse" + t.capitalize(), ("java.lang.String",))] = lambda s: _parse_number(s, False)
    for t in ("char", "int", "long", "double", "float", "java.lang.Object"):
        table[("java.lang.String", "valueOf", (t,))] = _string_value_of
    table[("java.lang.String", "format", ("java.lang.String", "[Ljava.lang.Object;"))] = _format
    return table


def _string_value_of(x: Any) -> str:
    from decisions.feel.values import to_string

    if isinstance(x, float) and x == int(x):
        return f"{x:.1f}"
    return x if isinstance(x, str) else to_string(_from_java(x))


_TABLE = _table()


def resolve(class_name: Any, signature: Any) -> tuple[Java, tuple[str, ...]]:
    """The implementation and Java parameter types of a supported static method."""
    if not isinstance(class_name, str) or not isinstance(signature, str):
        raise ExternalError("a Java external function needs 'class' and 'method signature' strings")
    m = _SIGNATURE.fullmatch(signature)
    if not m:
        raise ExternalError(f"invalid method signature {signature!r}")
    params = tuple(p.strip() for p in m.group(2).split(",") if p.strip())
    found = _TABLE.get((class_name.strip(), m.group(1), params))
    if found is None:
        raise ExternalError(f"Java method {class_name}.{signature} is not supported")
    return found, params


def invoke(class_name: Any, signature: Any, args: Sequence[Any]) -> Any:
    function, params = resolve(class_name, signature)
    variadic = bool(params) and params[-1].startswith("[")
    if (len(args) != len(params)) if not variadic else (len(args) < len(params) - 1):
        raise ExternalError(f"expected {len(params)} arguments, got {len(args)}")
    java_args = [_to_java(a, params[min(k, len(params) - 1)]) for k, a in enumerate(args)]
    try:
        return _from_java(function(*java_args))
    except (ValueError, OverflowError, ZeroDivisionError) as e:
        raise ExternalError(f"{class_name}.{signature} failed: {e}") from None
