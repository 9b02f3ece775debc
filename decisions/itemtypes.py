"""Item definitions as checks: does a value conform to a typeRef, and what does it become?

A `TypeSystem` is built once per model from its item definitions. `coercer(type_ref)` gives a
function `(value) -> (value, problem)` that applies the spec's conversions (a singleton list
to its element, an element to a one-item collection) and checks the base type, the allowed
values and, for structures, each component. A value that does not conform becomes null, with
a message saying why: the DMN null semantics, made visible.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from decisions import feel
from decisions.errors import Location, ModelError, Problem
from decisions.feel.values import from_python, type_name
from decisions.model import ItemDefinition

Coercer = Callable[[Any], tuple[Any, "str | None"]]
Binder = Callable[[Any], Any]  # plain Python value -> FEEL value, or Invalid


class Invalid:
    """What a binder returns for a value that does not conform: the reason, for the problem."""

    __slots__ = ("message",)

    def __init__(self, message: str) -> None:
        self.message = message

# Type names as other tools write them -> the FEEL type name.
_ALIASES = {
    "number": "number", "decimal": "number", "integer": "number", "int": "number", "long": "number",
    "double": "number", "float": "number", "short": "number",
    "string": "string", "boolean": "boolean",
    "date": "date", "time": "time", "date and time": "date and time", "datetime": "date and time",
    "days and time duration": "days and time duration", "daytimeduration": "days and time duration",
    "years and months duration": "years and months duration",
    "yearmonthduration": "years and months duration", "duration": "duration",
    "any": "Any", "context": "context", "list": "list", "range": "range", "function": "function",
}


# Built-in types with an implicit conversion from another type (the FEEL type applies it).
_CONVERSIONS: dict[str, feel.FeelType] = {"date and time": feel.types.DATE_AND_TIME}


def builtin_type(type_ref: str) -> str | None:
    """The FEEL type a (possibly prefixed, legacy or Camunda) type name stands for, if built in."""
    name = type_ref.strip()
    if ":" in name:
        name = name.split(":", 1)[1]
    return _ALIASES.get(name.lower()) or _ALIASES.get(name.replace(" ", "").lower())


# Camunda's number types, with the range of the Java type each stands for (None: any finite).
_CAMUNDA_NUMBERS: dict[str, tuple[int, int] | None] = {
    "integer": (-2**31, 2**31 - 1), "long": (-2**63, 2**63 - 1), "double": None,
}
_JAVA_INTEGER = re.compile(r"[+-]?[0-9]+")  # what Integer.parseInt and Long.parseLong accept
_DOUBLE_TEXT = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def camunda_number(type_ref: str | None) -> str | None:
    """`integer`, `long` or `double` when `type_ref` is one of Camunda's number types, else None."""
    name = (type_ref or "").strip()
    if ":" in name:
        name = name.split(":", 1)[1]
    return name.lower() if name.lower() in _CAMUNDA_NUMBERS else None


def convert_camunda_number(value: Any, kind: str) -> tuple[Any, str | None]:
    """A value converted to Camunda's `integer`, `long` or `double`, as Camunda 7's DMN engine
    converts it: a number, or a string holding one (`"4"`); for integer and long it must be whole
    (`4.0` is 4, `4.2` is not an integer) and within the Java type's range. Anything else (a
    boolean, `"4.2"` for integer, a date) does not convert: (None, why)."""
    if value is None:
        return None, None
    if isinstance(value, str):
        text = value if kind != "double" else value.strip()
        if not (_JAVA_INTEGER if kind != "double" else _DOUBLE_TEXT).fullmatch(text):
            return None, f"{value!r} is not {'an' if kind == 'integer' else 'a'} {kind}"
        value = Decimal(text)
    elif not isinstance(value, Decimal) or not value.is_finite():
        return None, f"expected {kind}, got {type_name(value)}"
    bounds = _CAMUNDA_NUMBERS[kind]
    if bounds is None:
        return value, None
    if value != value.to_integral_value():
        return None, f"{value} is not {'an' if kind == 'integer' else 'a'} {kind}"
    if not bounds[0] <= value <= bounds[1]:
        return None, f"{value} is out of the range of {kind}"
    return Decimal(int(value)), None


def _conforms_builtin(value: Any, kind: str) -> bool:
    actual = type_name(value)
    if kind == "Any":
        return True
    if kind == "duration":
        return actual in ("days and time duration", "years and months duration")
    return actual == kind


@dataclass
class _Type:
    name: str
    base: str | None = None  # builtin kind or another item definition's name
    collection: bool = False
    components: list[tuple[str, str | None, _Type | None]] = field(default_factory=list)
    allowed: Callable[[Any], bool | None] | None = None
    allowed_text: str | None = None


class TypeSystem:
    def __init__(self, items: list[ItemDefinition], file: str | None = None) -> None:
        self._types: dict[str, _Type] = {}
        self._file = file
        problems: list[Problem] = []
        for item in items:
            self._types[item.name] = self._build(item, problems)
        if problems:
            raise ModelError(problems)
        self._cache: dict[str, Coercer | None] = {}

    def _build(self, item: ItemDefinition, problems: list[Problem]) -> _Type:
        t = _Type(item.name, item.type_ref, item.is_collection)
        constraint = item.type_constraint or item.allowed_values
        if constraint and constraint.strip():
            try:
                test = feel.compile_unary_tests(constraint, feel.Scope())
                env = feel.Env({}, [])
                t.allowed = lambda v, fn=test.fn: fn(env, v)
                t.allowed_text = constraint
            except feel.FeelSyntaxError as exc:
                problems.append(exc.to_problem(Location(file=self._file, element=item.name,
                                                        path="allowed values")))
        for comp in item.components:
            nested = self._build(comp, problems) if (comp.components or comp.allowed_values
                                                     or comp.is_collection or comp.type_constraint) else None
            t.components.append((comp.name, comp.type_ref, nested))
        return t

    def known(self, type_ref: str | None) -> bool:
        return type_ref is None or builtin_type(type_ref) is not None or self._lookup(type_ref) is not None

    def _lookup(self, type_ref: str) -> _Type | None:
        if type_ref in self._types:
            return self._types[type_ref]
        if ":" in type_ref:
            return self._types.get(type_ref.split(":", 1)[1])
        return None

    def coercer(self, type_ref: str | None) -> Coercer | None:
        """A conversion-and-check function for values of `type_ref`, or None when any value goes."""
        if not type_ref:
            return None
        if type_ref in self._cache:
            return self._cache[type_ref]
        kind = builtin_type(type_ref)
        camunda = camunda_number(type_ref)
        coerce: Coercer | None
        if camunda is not None:
            coerce = lambda v, k=camunda: convert_camunda_number(v, k)  # noqa: E731
        elif kind == "Any":
            coerce = None
        elif kind is not None:
            coerce = lambda v, k=kind: self._check_builtin(v, k)  # noqa: E731
        else:
            t = self._lookup(type_ref)
            coerce = (lambda v, t=t: self._check(v, t, 0)) if t is not None else None
        self._cache[type_ref] = coerce
        return coerce

    def binder(self, type_ref: str | None) -> Binder:
        """Convert a plain Python input to a FEEL value of `type_ref` and check it, in one step.

        Returns the value, or an `Invalid` carrying the reason. The common cases (a number
        given as int, float or Decimal; a string) take no detour through the general
        conversion, since this runs for every input of every call."""
        coerce = self.coercer(type_ref)
        kind = builtin_type(type_ref) if type_ref else None

        def general(raw: Any) -> Any:
            value = from_python(raw)
            if coerce is None or value is None:
                return value
            value, message = coerce(value)
            return Invalid(message) if message else value

        if kind == "number" and camunda_number(type_ref) in (None, "double"):
            def bind_number(raw: Any) -> Any:
                t = type(raw)
                if t is int:
                    return Decimal(raw)
                if t is float:
                    return Decimal(float.__repr__(raw)) if math.isfinite(raw) else None
                if t is Decimal:
                    return raw if raw.is_finite() else None
                return general(raw)
            return bind_number
        if kind == "string":
            def bind_string(raw: Any) -> Any:
                return raw if type(raw) is str else general(raw)
            return bind_string
        return general

    def unconverted(self, type_ref: str | None) -> tuple[type, ...]:
        """The Python types whose values `binder(type_ref)` returns as they are (a str for a
        string): the evaluator keeps those without calling the binder."""
        return (str,) if type_ref and builtin_type(type_ref) == "string" else ()

    def numbers_unchecked(self, type_ref: str | None) -> bool:
        """Whether binding a float or int is a pure conversion, with nothing to check that could
        make it null or invalid but NaN and infinity: typeRef number, Any, or none."""
        return (builtin_type(type_ref) if type_ref else "Any") in ("number", "Any") \
            and camunda_number(type_ref) in (None, "double")

    def _check_builtin(self, value: Any, kind: str) -> tuple[Any, str | None]:
        if value is None or _conforms_builtin(value, kind):
            return value, None
        if kind != "list" and isinstance(value, list) and len(value) == 1 and _conforms_builtin(value[0], kind):
            return value[0], None
        if kind in _CONVERSIONS:
            # 10.3.2.9.4 "from date to date and time" (of the value or of a singleton list's item)
            item = value[0] if isinstance(value, list) and len(value) == 1 else value
            converted = _CONVERSIONS[kind].coerce(item)
            if converted is not feel.types.NOT_CONFORMING:
                return converted, None
        return None, f"expected {kind}, got {type_name(value)}"

    def _check_ref(self, value: Any, type_ref: str | None, depth: int) -> tuple[Any, str | None]:
        if type_ref is None or value is None:
            return value, None
        kind = builtin_type(type_ref)
        if kind is not None:
            return self._check_builtin(value, kind)
        t = self._lookup(type_ref)
        return self._check(value, t, depth + 1) if t is not None else (value, None)

    def _check(self, value: Any, t: _Type, depth: int) -> tuple[Any, str | None]:
        if value is None or depth > 50:
            return value, None
        if t.collection:
            items = value if isinstance(value, list) else [value]
            element = _Type(t.name, t.base, False, t.components, None)
            out = []
            for item in items:
                checked, message = self._check(item, element, depth + 1)
                if message:
                    return None, f"item of {t.name}: {message}"
                out.append(checked)
            value = out
        elif t.components:
            if isinstance(value, list) and len(value) == 1:
                value = value[0]
            if not isinstance(value, dict):
                return None, f"expected {t.name} (a context), got {type_name(value)}"
            out_ctx = dict(value)
            for cname, cref, nested in t.components:
                if cname not in value:
                    continue
                if nested is not None:
                    checked, message = self._check(value[cname], nested, depth + 1)
                else:
                    checked, message = self._check_ref(value[cname], cref, depth)
                if message:
                    return None, f"component '{cname}' of {t.name}: {message}"
                out_ctx[cname] = checked
            value = out_ctx
        elif t.base is not None:
            value, message = self._check_ref(value, t.base, depth)
            if message:
                return None, f"{t.name}: {message}"
        if t.allowed is not None and value is not None:
            items = value if t.collection and isinstance(value, list) else [value]
            for item in items:
                if t.allowed(item) is not True:
                    return None, f"{item!r} is not an allowed value of {t.name} ({t.allowed_text})"
        return value, None


def feel_type_definitions(items: list[ItemDefinition]) -> dict[str, feel.FeelType]:
    """Item definitions as FEEL types, for `instance of tMyType` and typed parameters.

    Structures become context types, collections list types, aliases their base type; a
    reference to a type not (yet) known is taken as Any rather than failing the model."""
    from decisions.feel import types as ft

    by_name = {item.name: item for item in items}
    built: dict[str, feel.FeelType] = {}

    def build(item: ItemDefinition, depth: int = 0) -> feel.FeelType:
        if depth > 50:
            return ft.AnyType()
        if item.components:
            base: feel.FeelType = ft.ContextType(tuple((c.name, build(c, depth + 1)) for c in item.components))
        elif item.type_ref:
            base = ref(item.type_ref, depth)
        else:
            base = ft.AnyType()
        return ft.ListType(base) if item.is_collection else base

    def ref(type_ref: str, depth: int) -> feel.FeelType:
        simple = ft.builtin_type(type_ref)
        if simple is not None:
            return simple
        name = type_ref.split(":", 1)[1] if ":" in type_ref and type_ref not in by_name else type_ref
        if name in built:
            return built[name]
        if name in by_name:
            return build(by_name[name], depth + 1)
        return ft.AnyType()

    for item in items:
        built[item.name] = build(item)
    return built
