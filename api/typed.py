"""Pydantic models generated from a decision model's types: its inputs and its outputs.

They serve twice: they check and convert the inputs of every evaluation (a wrong type is a 422
problem pointing at `/inputs/<name>`, an ISO date string becomes a FEEL date), and they type
the decision's own operation in the OpenAPI document so that client generators produce a typed
client.

FEEL type -> JSON:
    number                   JSON number (read exactly, as a decimal)
    string                   string; an enum when the allowed values are a plain list of strings
    boolean                  boolean
    date / time / date and time / durations   ISO 8601 strings (format date, time, date-time, duration)
    structured item definition                nested object (one model per item definition)
    collection               array of the item type
    anything else            any JSON value
Every field may be null: in DMN any value may be missing (a missing input is read as null).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Annotated, Any, Literal, Optional

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainValidator,
    ValidationError,
    WithJsonSchema,
    create_model,
)

from decisions.compiled import Model
from decisions.feel import temporal
from decisions.feel.values import DayTimeDuration, YearMonthDuration
from decisions.itemtypes import builtin_type
from decisions.model import ItemDefinition

# --- FEEL scalars ------------------------------------------------------------------------------


def _number(value: Any) -> Decimal:
    if isinstance(value, bool):
        raise ValueError("expected a number, got a boolean")
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError("expected a finite number")
        return value
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float) and value == value and abs(value) != float("inf"):
        return Decimal(repr(value))
    raise ValueError(f"expected a number, got {_json_type(value)}")


def _string(value: Any) -> str:
    if isinstance(value, str):
        return value
    raise ValueError(f"expected a string, got {_json_type(value)}")


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    raise ValueError(f"expected true or false, got {_json_type(value)}")


def _parsed(kind: str, parse: Callable[[str], Any], accept: Callable[[Any], bool], example: str) -> Callable[[Any], Any]:
    def validate(value: Any) -> Any:
        if accept(value):
            return value
        if isinstance(value, str):
            parsed = parse(value.strip())
            if parsed is not None and accept(parsed):
                return parsed
            raise ValueError(f"expected a {kind} in ISO 8601 form like {example!r}, got {value!r}")
        raise ValueError(f"expected a {kind} as an ISO 8601 string, got {_json_type(value)}")

    return validate


def _is_date(value: Any) -> bool:
    return isinstance(value, dt.date) and not isinstance(value, dt.datetime)


def _date_and_time(text: str) -> dt.datetime | None:
    return temporal.parse_date_and_time(text)


def _duration(text: str) -> Any:
    return temporal.parse_duration(text)


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float, Decimal)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _scalar(validate: Callable[[Any], Any], schema: dict[str, Any]) -> Any:
    return Annotated[Any, PlainValidator(validate), WithJsonSchema(schema)]


NUMBER = _scalar(_number, {"type": "number"})
STRING = _scalar(_string, {"type": "string"})
BOOLEAN = _scalar(_boolean, {"type": "boolean"})
DATE = _scalar(_parsed("date", temporal.parse_date, _is_date, "2024-05-31"), {"type": "string", "format": "date"})
TIME = _scalar(_parsed("time", temporal.parse_time, lambda v: isinstance(v, dt.time), "13:45:00"),
               {"type": "string", "format": "time"})
DATE_AND_TIME = _scalar(_parsed("date and time", _date_and_time, lambda v: isinstance(v, dt.datetime),
                                "2024-05-31T13:45:00"), {"type": "string", "format": "date-time"})
DAYS_AND_TIME_DURATION = _scalar(
    _parsed("days and time duration", _duration, lambda v: isinstance(v, DayTimeDuration), "P1DT2H"),
    {"type": "string", "format": "duration"})
YEARS_AND_MONTHS_DURATION = _scalar(
    _parsed("years and months duration", _duration, lambda v: isinstance(v, YearMonthDuration), "P1Y2M"),
    {"type": "string", "format": "duration"})
DURATION = _scalar(
    _parsed("duration", _duration, lambda v: isinstance(v, (DayTimeDuration, YearMonthDuration)), "P1D"),
    {"type": "string", "format": "duration"})

_SCALARS: dict[str, Any] = {
    "number": NUMBER, "string": STRING, "boolean": BOOLEAN, "date": DATE, "time": TIME,
    "date and time": DATE_AND_TIME, "days and time duration": DAYS_AND_TIME_DURATION,
    "years and months duration": YEARS_AND_MONTHS_DURATION, "duration": DURATION,
    "context": dict[str, Any], "list": list[Any], "Any": Any,
}


def _string_enum(options: list[str]) -> Any:
    allowed = frozenset(options)

    def validate(value: Any) -> str:
        text = _string(value)
        if text not in allowed:
            raise ValueError(f"{text!r} is not one of the allowed values: {', '.join(map(repr, options))}")
        return text

    return _scalar(validate, {"type": "string", "enum": list(options)})


_STRING_LIST = re.compile(r'\s*"[^"\\]*"(\s*,\s*"[^"\\]*")*\s*')


def simple_string_options(text: str | None) -> list[str] | None:
    """`"A", "B"` -> ["A", "B"]; None for any other unary tests (ranges, negations, escapes...)."""
    if not text or not _STRING_LIST.fullmatch(text):
        return None
    return re.findall(r'"([^"\\]*)"', text)


# --- model names -------------------------------------------------------------------------------


def camel(name: str) -> str:
    """`loan-approval` -> `LoanApproval`; a name that is a valid OpenAPI component name."""
    words = re.findall(r"[A-Za-z0-9]+", name)
    text = "".join(word[:1].upper() + word[1:] for word in words) or "Model"
    return text if not text[0].isdigit() else "M" + text


# --- the mapper --------------------------------------------------------------------------------


class TypeMapper:
    """Python annotations (for pydantic) of one model's type references."""

    def __init__(self, items: Iterable[ItemDefinition], prefix: str, reserved: Iterable[str] = ()) -> None:
        self.items = {item.name: item for item in items}
        self.prefix = prefix
        self._built: dict[str, Any] = {}
        self._names: set[str] = set(reserved)

    def annotation(self, type_ref: str | None) -> Any:
        if not type_ref:
            return Any
        kind = builtin_type(type_ref)
        if kind is not None:
            return _SCALARS.get(kind, Any)
        item = self.items.get(type_ref) or self.items.get(type_ref.split(":", 1)[-1])
        if item is None:
            return Any
        return self._item(item, (), item.name)

    def _item(self, item: ItemDefinition, stack: tuple[str, ...], path: str) -> Any:
        if path in self._built:
            return self._built[path]
        if item.name in stack or len(stack) > 20:
            return Any  # a recursive type: the JSON shape is open-ended
        inner = self._shape(item, (*stack, item.name), path)
        result: Any = list[Optional[inner]] if item.is_collection else inner  # type: ignore[valid-type]  # noqa: UP045
        self._built[path] = result
        return result

    def _shape(self, item: ItemDefinition, stack: tuple[str, ...], path: str) -> Any:
        if item.components:
            fields: dict[str, Any] = {}
            for index, component in enumerate(item.components):
                fields[f"f{index}"] = (Optional[self._component(component, stack, f"{path} {component.name}")],  # noqa: UP045
                                       Field(default=None, alias=component.name))
            return create_model(self._model_name(path), __config__=ConfigDict(extra="allow"), **fields)
        options = simple_string_options(item.type_constraint or item.allowed_values)
        base = self.annotation_in(item.type_ref, stack)
        if options is not None and base is STRING:
            return _string_enum(options)
        return base

    def _component(self, component: ItemDefinition, stack: tuple[str, ...], path: str) -> Any:
        if component.components or component.is_collection or component.allowed_values or component.type_constraint:
            return self._item(component, stack, path)
        return self.annotation_in(component.type_ref, stack)

    def annotation_in(self, type_ref: str | None, stack: tuple[str, ...]) -> Any:
        """Like `annotation`, inside the definition of the item types in `stack`."""
        if not type_ref:
            return Any
        if builtin_type(type_ref) is not None:
            return self.annotation(type_ref)
        item = self.items.get(type_ref) or self.items.get(type_ref.split(":", 1)[-1])
        if item is None:
            return Any
        return self._item(item, stack, item.name)

    def _model_name(self, path: str) -> str:
        base = self.prefix + camel(path)
        name, n = base, 2
        while name in self._names:
            name, n = f"{base}{n}", n + 1
        self._names.add(name)
        return name


# --- a model's schemas -------------------------------------------------------------------------


class ModelSchemas:
    """The input and output models of one compiled decision model."""

    def __init__(self, model: Model, prefix: str) -> None:
        self.model = model
        self.prefix = prefix
        names = {part: f"{prefix}{part}" for part in ("Inputs", "InputsOrDecisions", "Outputs")}
        self.mapper = TypeMapper(model.definitions.item_definitions, prefix, names.values())
        descriptions = {d.name: d.description for d in model.definitions.decisions}
        inputs: dict[str, Any] = {}
        for index, (name, spec) in enumerate(model.inputs.items()):
            inputs[f"i{index}"] = (Optional[self.mapper.annotation(spec.type_ref)],  # noqa: UP045
                                   Field(default=None, alias=name, description=spec.description))
        outputs: dict[str, Any] = {}
        for index, (name, decision) in enumerate(model.decisions.items()):
            outputs[f"d{index}"] = (Optional[self.mapper.annotation(decision.type_ref)],  # noqa: UP045
                                    Field(default=None, alias=name, description=descriptions.get(name)))
        forbid = ConfigDict(extra="forbid")
        self.inputs: type[BaseModel] = create_model(names["Inputs"], __config__=forbid, **inputs)
        overrides = {f"o{k[1:]}": v for k, v in outputs.items() if v[1].alias not in model.inputs}
        # Decisions may be given as inputs: a given value stands in for the decision's logic.
        self.inputs_with_overrides: type[BaseModel] = create_model(
            names["InputsOrDecisions"], __config__=forbid, **inputs, **overrides)
        self.outputs: type[BaseModel] = create_model(names["Outputs"], __config__=forbid, **outputs)
        self.decision_names: list[str] = list(model.decisions)

    def decision_literal(self) -> Any:
        return Literal[tuple(self.decision_names)] if self.decision_names else str

    def check_inputs(self, data: Any) -> dict[str, Any]:
        """Validated inputs, converted to FEEL-ready values; InputsInvalid lists every fault."""
        try:
            instance = self.inputs_with_overrides.model_validate(data)
        except ValidationError as exc:
            raise InputsInvalid(list(_friendly(exc.errors(include_url=False)))) from None
        return plain_fields(instance)


    def check_outputs(self, data: Any) -> dict[str, Any]:
        """Outputs (e.g. a reviewer's override) checked against the decisions' types and allowed
        values, converted to FEEL-ready values; InputsInvalid lists every fault."""
        try:
            instance = self.outputs.model_validate(data)
        except ValidationError as exc:
            errors = list(_friendly(exc.errors(include_url=False)))
            for error in errors:
                if error.get("type") == "extra_forbidden" and len(error.get("loc", ())) <= 1:
                    error["msg"] = f"the model has no decision named {error['loc'][-1]!r}"
            raise InputsInvalid(errors) from None
        return plain_fields(instance)


class InputsInvalid(Exception):
    """Values that do not fit the model's types; `errors` are pydantic errors relative to the
    inputs (or outputs) object."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__(f"{len(errors)} invalid input(s)")
        self.errors = errors


def _friendly(errors: Iterable[Any]) -> Iterable[dict[str, Any]]:
    for error in errors:
        error = dict(error)
        if error.get("type") == "extra_forbidden":
            loc = error.get("loc", ())
            name = loc[-1] if loc else "?"
            error["msg"] = (f"the model has no input or decision named {name!r}" if len(loc) <= 1
                            else f"unknown component {name!r}")
        elif error.get("type") == "model_type":
            error["msg"] = f"expected an object, got {_json_type(error.get('input'))}"
        elif error.get("type") == "list_type":
            error["msg"] = f"expected an array, got {_json_type(error.get('input'))}"
        elif error.get("type") == "dict_type":
            error["msg"] = f"expected an object, got {_json_type(error.get('input'))}"
        yield error


def plain_fields(instance: BaseModel) -> dict[str, Any]:
    """A validated model as a dict keyed by the original names (aliases), set fields only."""
    data: dict[str, Any] = {}
    fields = type(instance).model_fields
    for name in instance.model_fields_set:
        field = fields.get(name)
        key = field.alias if field is not None and field.alias else name
        data[key] = _plain(getattr(instance, name))
    for key, value in (instance.__pydantic_extra__ or {}).items():
        data[key] = _plain(value)
    return data


def _plain(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return plain_fields(value)
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value
