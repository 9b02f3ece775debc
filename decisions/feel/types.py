"""FEEL types: `number`, `list<string>`, `context<a: number>`, `function<T> -> U`, ...

A type answers three questions:
- `is_instance(value)`: FEEL `value instance of T` (null is an instance of `Null` only);
- `conforms(value)`: may a value of a variable declared with this type be this value
  (null conforms to every type);
- `coerce(value)`: the value converted for a declared type, with singleton-list
  coercion both ways (`[5]` for `number` is 5, `5` for `list<number>` is [5]), or `NOT_CONFORMING`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from decisions.feel.values import DayTimeDuration, FeelFunction, Range, YearMonthDuration


class _NotConforming:
    def __repr__(self) -> str:
        return "NOT_CONFORMING"


NOT_CONFORMING: Any = _NotConforming()


class FeelType:
    name: str = "Any"

    def is_instance(self, value: Any) -> bool:
        raise NotImplementedError

    def conforms(self, value: Any) -> bool:
        return value is None or self.is_instance(value)

    def coerce(self, value: Any) -> Any:
        if self.conforms(value):
            return value
        if isinstance(value, list) and len(value) == 1 and self.conforms(value[0]):
            return value[0]
        return NOT_CONFORMING

    def is_assignable_from(self, other: FeelType) -> bool:
        """Whether every value of `other` is a value of this type (used for function types)."""
        return self == other or isinstance(self, AnyType) or isinstance(other, NullType)

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True)
class AnyType(FeelType):
    name: str = "Any"

    def is_instance(self, value: Any) -> bool:
        return value is not None


@dataclass(frozen=True)
class NullType(FeelType):
    name: str = "Null"

    def is_instance(self, value: Any) -> bool:
        return value is None


class PrimitiveType(FeelType):
    """A built-in type; `convert` is its implicit conversion (10.3.2.9.4) from values of
    another type, giving the converted value or NOT_CONFORMING."""

    def __init__(self, name: str, check: Callable[[Any], bool],
                 convert: Callable[[Any], Any] | None = None) -> None:
        self.name = name
        self.check = check
        self.convert = convert

    def coerce(self, value: Any) -> Any:
        coerced = super().coerce(value)
        if coerced is NOT_CONFORMING and self.convert is not None:
            if isinstance(value, list) and len(value) == 1:
                value = value[0]
            return self.convert(value)
        return coerced

    def __repr__(self) -> str:
        return f"PrimitiveType({self.name!r})"

    def is_instance(self, value: Any) -> bool:
        return self.check(value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PrimitiveType) and other.name == self.name

    def __hash__(self) -> int:
        return hash(self.name)


@dataclass(frozen=True)
class ListType(FeelType):
    element: FeelType = AnyType()

    @property
    def name(self) -> str:  # type: ignore[override]
        return f"list<{self.element}>"

    def is_instance(self, value: Any) -> bool:
        return isinstance(value, list) and all(v is None or self.element.is_instance(v) for v in value)

    def conforms(self, value: Any) -> bool:
        return value is None or (isinstance(value, list) and all(self.element.conforms(v) for v in value))

    def coerce(self, value: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, list):
            items = [self.element.coerce(v) for v in value]
            return NOT_CONFORMING if any(v is NOT_CONFORMING for v in items) else items
        item = self.element.coerce(value)
        return NOT_CONFORMING if item is NOT_CONFORMING else [item]

    def is_assignable_from(self, other: FeelType) -> bool:
        if isinstance(other, NullType):
            return True
        return isinstance(other, ListType) and self.element.is_assignable_from(other.element)


@dataclass(frozen=True)
class ContextType(FeelType):
    """A context with at least these entries (more are allowed)."""

    fields: tuple[tuple[str, FeelType], ...] = ()

    @property
    def name(self) -> str:  # type: ignore[override]
        return "context<" + ", ".join(f"{k}: {t}" for k, t in self.fields) + ">" if self.fields else "context"

    def is_instance(self, value: Any) -> bool:
        return isinstance(value, dict) and all(
            k in value and (value[k] is None or t.is_instance(value[k])) for k, t in self.fields)

    def conforms(self, value: Any) -> bool:
        return value is None or (isinstance(value, dict) and all(
            t.conforms(value.get(k)) for k, t in self.fields))

    def coerce(self, value: Any) -> Any:
        if value is None or self.conforms(value):
            return value
        if isinstance(value, list) and len(value) == 1 and self.conforms(value[0]):
            return value[0]
        return NOT_CONFORMING

    def is_assignable_from(self, other: FeelType) -> bool:
        if isinstance(other, NullType):
            return True
        if not isinstance(other, ContextType):
            return False
        theirs = dict(other.fields)
        return all(k in theirs and t.is_assignable_from(theirs[k]) for k, t in self.fields)


@dataclass(frozen=True)
class RangeType(FeelType):
    element: FeelType = AnyType()

    @property
    def name(self) -> str:  # type: ignore[override]
        return f"range<{self.element}>"

    def is_instance(self, value: Any) -> bool:
        return isinstance(value, Range) and all(
            b is None or self.element.is_instance(b) for b in (value.start, value.end))


@dataclass(frozen=True)
class FunctionType(FeelType):
    parameters: tuple[FeelType, ...] | None = None  # None: any function
    result: FeelType = AnyType()

    @property
    def name(self) -> str:  # type: ignore[override]
        if self.parameters is None:
            return "function"
        return f"function<{', '.join(str(p) for p in self.parameters)}> -> {self.result}"

    def is_instance(self, value: Any) -> bool:
        if not isinstance(value, FeelFunction):
            return False
        if self.parameters is None:
            return True
        if len(value.parameters) != len(self.parameters):
            return False
        # Undeclared parameter types are Any; an unknown result type (a body whose type is only
        # known when it runs) is taken to conform.
        declared: tuple[FeelType, ...] = getattr(value, "parameter_types", None) or (ANY,) * len(self.parameters)
        result: FeelType | None = getattr(value, "result_type", None)
        # Parameters are contravariant, the result covariant.
        return all(d.is_assignable_from(p) for d, p in zip(declared, self.parameters, strict=True)) and (
            result is None or self.result.is_assignable_from(result))

    def is_assignable_from(self, other: FeelType) -> bool:
        if isinstance(other, NullType):
            return True
        if not isinstance(other, FunctionType):
            return False
        if self.parameters is None:
            return True
        if other.parameters is None or len(other.parameters) != len(self.parameters):
            return False
        return all(o.is_assignable_from(s) for s, o in zip(self.parameters, other.parameters, strict=True)) \
            and self.result.is_assignable_from(other.result)


def _is_date(v: Any) -> bool:
    return isinstance(v, dt.date) and not isinstance(v, dt.datetime)


def _date_to_date_and_time(v: Any) -> Any:
    """10.3.2.9.4 "from date to date and time": the date at UTC midnight."""
    if _is_date(v):
        return dt.datetime(v.year, v.month, v.day, tzinfo=dt.UTC)
    return NOT_CONFORMING


ANY = AnyType()
NULL = NullType()
NUMBER = PrimitiveType("number", lambda v: type(v) is Decimal)
STRING = PrimitiveType("string", lambda v: type(v) is str)
BOOLEAN = PrimitiveType("boolean", lambda v: type(v) is bool)
DATE = PrimitiveType("date", _is_date)
TIME = PrimitiveType("time", lambda v: isinstance(v, dt.time))
DATE_AND_TIME = PrimitiveType("date and time", lambda v: isinstance(v, dt.datetime), _date_to_date_and_time)
DAYS_AND_TIME_DURATION = PrimitiveType("days and time duration", lambda v: isinstance(v, DayTimeDuration))
YEARS_AND_MONTHS_DURATION = PrimitiveType("years and months duration", lambda v: isinstance(v, YearMonthDuration))
LIST = ListType()
CONTEXT = ContextType()
RANGE = RangeType()
FUNCTION = FunctionType()

BUILTIN_TYPES: dict[str, FeelType] = {
    "Any": ANY, "Null": NULL, "number": NUMBER, "string": STRING, "boolean": BOOLEAN,
    "date": DATE, "time": TIME, "date and time": DATE_AND_TIME,
    "days and time duration": DAYS_AND_TIME_DURATION, "years and months duration": YEARS_AND_MONTHS_DURATION,
    "list": LIST, "context": CONTEXT, "range": RANGE, "function": FUNCTION,
}

# DMN 1.1 and XML Schema names still found in models.
LEGACY_NAMES: dict[str, str] = {
    "decimal": "number", "integer": "number", "int": "number", "long": "number", "double": "number",
    "float": "number", "dateTime": "date and time", "dayTimeDuration": "days and time duration",
    "yearMonthDuration": "years and months duration", "duration": "days and time duration",
}


def builtin_type(name: str) -> FeelType | None:
    """A built-in type by name, accepting `feel:`/`xsd:` prefixes and DMN 1.1 names."""
    for prefix in ("feel:", "xsd:", "FEEL:"):
        if name.startswith(prefix):
            name = name[len(prefix):]
            break
    name = LEGACY_NAMES.get(name, name)
    return BUILTIN_TYPES.get(name)


def parse_type_ref(text: str, definitions: Mapping[str, FeelType] | None = None) -> FeelType | None:
    """A typeRef (`number`, `feel:string`, `list<tPerson>`, `tPerson`) as a FeelType; None if unknown.

    Raises FeelSyntaxError when the text is not a type expression at all.
    """
    text = text.strip()
    simple = builtin_type(text)
    if simple is not None:
        return simple
    if definitions and text in definitions:
        return definitions[text]
    from decisions.feel import _builtin_index
    from decisions.feel.lexer import NameIndex
    from decisions.feel.parser import parse_type

    node = parse_type(text, (NameIndex(definitions or ()), _builtin_index()))
    return resolve(node, definitions)


def type_of(value: Any) -> FeelType:
    """The most specific FEEL type of a value."""
    if value is None:
        return NULL
    for t in (NUMBER, STRING, BOOLEAN, DATE_AND_TIME, DATE, TIME, DAYS_AND_TIME_DURATION,
              YEARS_AND_MONTHS_DURATION):
        if t.is_instance(value):
            return t
    if isinstance(value, list):
        return LIST
    if isinstance(value, dict):
        return CONTEXT
    if isinstance(value, Range):
        return RANGE
    if isinstance(value, FeelFunction):
        return FUNCTION
    return ANY


def unknown_name(node: Any, definitions: Mapping[str, FeelType] | None = None) -> str | None:
    """The first type name in a type expression that does not resolve (for error messages)."""
    from decisions.feel import ast

    assert isinstance(node, ast.TypeNode)
    inner = [*node.args, *(t for _, t in node.fields), *([node.result] if node.result else [])]
    for child in inner:
        found = unknown_name(child, definitions)
        if found:
            return found
    if inner or (definitions and node.name in definitions) or builtin_type(node.name):
        return None
    return node.name


def resolve(node: Any, definitions: Mapping[str, FeelType] | None = None) -> FeelType | None:
    """A `decisions.feel.ast.TypeNode` as a FeelType; None when a name is unknown."""
    from decisions.feel import ast

    assert isinstance(node, ast.TypeNode)
    if node.name == "list" and node.args:
        element = resolve(node.args[0], definitions)
        return ListType(element) if element else None
    if node.name == "range" and node.args:
        element = resolve(node.args[0], definitions)
        return RangeType(element) if element else None
    if node.name == "context" and node.fields:
        fields: list[tuple[str, FeelType]] = []
        for key, field_node in node.fields:
            t = resolve(field_node, definitions)
            if t is None:
                return None
            fields.append((key, t))
        return ContextType(tuple(fields))
    if node.name == "function" and node.result is not None:
        params = [resolve(p, definitions) for p in node.args]
        result = resolve(node.result, definitions)
        if result is None or any(p is None for p in params):
            return None
        return FunctionType(tuple(p for p in params if p is not None), result)
    if definitions and node.name in definitions:
        return definitions[node.name]
    return builtin_type(node.name)
