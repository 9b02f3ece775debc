"""Values of DMN TCK test files: XML -> FEEL values, comparison, and readable rendering.

A TCK test file writes each input and expected result as a `valueType` element
(namespace http://www.omg.org/spec/DMN/20160719/testcase): either a `<value>` carrying
simple text typed by `xsi:type`, a sequence of `<component name=..>` (a context), or a
`<list>` of `<item>`s; `xsi:nil="true"` anywhere means null.

Comparison follows the published TCK runners, with one refinement for large numbers:

- numbers: equal by value (1.0 = 1), or within an absolute tolerance of 1e-8 (the reference
  runners' NUMBER_COMPARISON_PRECISION); expected numbers in the TCK are often machine
  doubles printed to 13-17 digits (e.g. a standard deviation written as 2.0816659994661), so
  exact Decimal equality would reject correct 34-digit results. For magnitudes above 1e6 the
  tolerance grows to 1e-14 relative, the precision those printed doubles carry;
- strings and booleans exactly (a boolean never equals a number);
- dates by value; date-times and times by value: two aware values are equal when they denote
  the same instant (an offset and a zone id with the same offset compare equal), two local
  values when their fields are equal, and a local value never equals an aware one;
- durations by value within their kind (a years-and-months duration never equals a
  days-and-time one);
- lists element-wise in order, contexts key-wise (the key sets must be the same);
- null equals only null.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any
from xml.etree.ElementTree import Element

from decisions.feel import values
from decisions.feel.values import DECIMAL_CONTEXT, DayTimeDuration, YearMonthDuration

XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
XSI_TYPE = f"{{{XSI_NS}}}type"
XSI_NIL = f"{{{XSI_NS}}}nil"

ABSOLUTE_TOLERANCE = Decimal("1e-8")
RELATIVE_TOLERANCE = Decimal("1e-14")

_NUMBER_TYPES = frozenset(
    {
        "decimal", "double", "float", "integer", "int", "long", "short", "byte",
        "nonNegativeInteger", "nonPositiveInteger", "positiveInteger", "negativeInteger",
        "unsignedLong", "unsignedInt", "unsignedShort", "unsignedByte",
    }
)

_DURATION = re.compile(
    r"^(?P<sign>-)?P(?:(?P<years>\d+)Y)?(?:(?P<months>\d+)M)?(?:(?P<days>\d+)D)?"
    r"(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+(?:\.\d+)?)S)?)?$"
)
_TIME = re.compile(
    r"^(?P<h>\d{2}):(?P<m>\d{2}):(?P<s>\d{2})(?:\.(?P<frac>\d+))?"
    r"(?P<tz>Z|[+-]\d{2}:\d{2})?$"
)
_DATE = re.compile(r"^(?P<y>-?\d{4,})-(?P<mo>\d{2})-(?P<d>\d{2})$")


class TckValueError(ValueError):
    """A value in a test file cannot be read or cannot be represented as a FEEL value."""


def local_name(tag: str) -> str:
    """The tag or attribute name without its `{namespace}` part."""
    return tag.rsplit("}", 1)[-1]


def _children(element: Element, name: str) -> list[Element]:
    return [child for child in element if local_name(child.tag) == name]


def is_nil(element: Element) -> bool:
    return element.get(XSI_NIL, "").strip().lower() in ("true", "1")


# --- XML -> FEEL -------------------------------------------------------------------------


def parse_value_type(element: Element) -> Any:
    """Reads an element of the TCK's `valueType` (inputNode, expected, item, component)."""
    if is_nil(element):
        return None
    for child in element:
        name = local_name(child.tag)
        if name == "value":
            return parse_simple_value(child)
        if name == "list":
            return [parse_value_type(item) for item in _children(child, "item")]
        if name == "component":
            return {
                component.get("name", ""): parse_value_type(component)
                for component in _children(element, "component")
            }
    return None  # an empty valueType: nothing given, i.e. null


def parse_simple_value(element: Element) -> Any:
    """Reads a `<value>` element: its text interpreted by `xsi:type`."""
    if is_nil(element):
        return None
    type_name = local_name(element.get(XSI_TYPE, "").split(":")[-1])
    text = element.text or ""
    if _children(element, "list") or _children(element, "component"):
        return parse_value_type(element)  # lenient: structure nested in a <value>
    return parse_typed_text(type_name, text)


def parse_typed_text(type_name: str, text: str) -> Any:
    """Converts the text of a `<value>` to a FEEL value according to its xsd type name."""
    if type_name in ("", "string", "anyURI", "normalizedString", "token"):
        return text
    stripped = text.strip()
    if type_name in _NUMBER_TYPES:
        return parse_number(stripped, type_name)
    if type_name == "boolean":
        if stripped in ("true", "1"):
            return True
        if stripped in ("false", "0"):
            return False
        raise TckValueError(f"not a boolean: {text!r}")
    if type_name == "date":
        return parse_date(stripped)
    if type_name == "time":
        return parse_time(stripped)
    if type_name == "dateTime":
        return parse_date_time(stripped)
    if type_name in ("duration", "dayTimeDuration", "yearMonthDuration"):
        return parse_duration(stripped)
    raise TckValueError(f"unsupported xsi:type {type_name!r}")


def parse_number(text: str, type_name: str = "decimal") -> Decimal:
    try:
        number = DECIMAL_CONTEXT.create_decimal(text)
    except (ArithmeticError, ValueError) as exc:  # InvalidOperation, Overflow
        raise TckValueError(f"not a number: {text!r}") from exc
    if not number.is_finite():
        # FEEL numbers are finite decimals: NaN and infinities have no FEEL value.
        raise TckValueError(f"xsd:{type_name} {text!r} is not representable as a FEEL number")
    return number


def parse_date(text: str) -> dt.date:
    match = _DATE.match(text)
    if not match:
        raise TckValueError(f"not an xsd:date: {text!r}")
    year = int(match["y"])
    if not dt.MINYEAR <= year <= dt.MAXYEAR:
        from decisions.feel.temporal import make_date

        far = make_date(year, int(match["mo"]), int(match["d"]))  # FEEL's dates beyond years 1-9999
        if far is None:
            raise TckValueError(f"xsd:date {text!r}: not a date FEEL can represent")
        return far
    try:
        return dt.date(year, int(match["mo"]), int(match["d"]))
    except ValueError as exc:
        raise TckValueError(f"not a valid date: {text!r} ({exc})") from exc


def _offset(tz: str | None) -> dt.tzinfo | None:
    if tz is None:
        return None
    if tz == "Z":
        return dt.UTC
    sign = -1 if tz[0] == "-" else 1
    hours, minutes = int(tz[1:3]), int(tz[4:6])
    if hours > 18 or minutes > 59:
        raise TckValueError(f"not a valid time offset: {tz!r}")
    return dt.timezone(sign * dt.timedelta(hours=hours, minutes=minutes))


def parse_time(text: str) -> dt.time:
    match = _TIME.match(text)
    if not match:
        raise TckValueError(f"not an xsd:time: {text!r}")
    # FEEL times are exact to the nanosecond (values.NanoTime); finer digits are cut.
    micro, extra = divmod(int((match["frac"] or "").ljust(9, "0")[:9]), 1000)
    hour, minute, second = int(match["h"]), int(match["m"]), int(match["s"])
    if hour == 24 and minute == 0 and second == 0 and micro == 0 and extra == 0:
        hour = 0  # xsd allows 24:00:00 as the end of the day, which is midnight
    try:
        return values.with_nanos(dt.time(hour, minute, second, micro, tzinfo=_offset(match["tz"])), extra)
    except ValueError as exc:
        raise TckValueError(f"not a valid time: {text!r} ({exc})") from exc


def parse_date_time(text: str) -> dt.datetime:
    date_text, sep, time_text = text.partition("T")
    if not sep:
        raise TckValueError(f"not an xsd:dateTime: {text!r}")
    date = parse_date(date_text)
    time = parse_time(time_text)
    return values.with_nanos(dt.datetime.combine(date, time), values.nanos(time))


def parse_duration(text: str) -> DayTimeDuration | YearMonthDuration:
    match = _DURATION.match(text)
    if not match or text in ("P", "-P") or text.endswith("T"):
        raise TckValueError(f"not an xsd:duration: {text!r}")
    negative = match["sign"] == "-"
    has_year_month = match["years"] is not None or match["months"] is not None
    has_day_time = any(match[g] is not None for g in ("days", "hours", "minutes", "seconds"))
    if has_year_month and has_day_time:
        raise TckValueError(
            f"xsd:duration {text!r} mixes years/months with days/time: FEEL has no such duration"
        )
    if has_year_month:
        months = int(match["years"] or 0) * 12 + int(match["months"] or 0)
        return make_year_month_duration(-months if negative else months)
    seconds = (
        Decimal(int(match["days"] or 0) * 86400 + int(match["hours"] or 0) * 3600
                + int(match["minutes"] or 0) * 60)
        + Decimal(match["seconds"] or 0)
    )
    return make_day_time_duration(-seconds if negative else seconds)


def make_year_month_duration(months: int) -> YearMonthDuration:
    return YearMonthDuration(months)


def make_day_time_duration(seconds: Decimal) -> DayTimeDuration:
    return DayTimeDuration(seconds)


# --- comparison ----------------------------------------------------------------------------


def numbers_match(expected: Decimal, actual: Decimal) -> bool:
    if expected == actual:
        return True
    difference = abs(expected - actual)
    tolerance = max(ABSOLUTE_TOLERANCE, abs(expected) * RELATIVE_TOLERANCE)
    return difference < tolerance


def _is_number(value: object) -> bool:
    return isinstance(value, (Decimal, int, float)) and not isinstance(value, bool)


def _as_decimal(value: Decimal | int | float) -> Decimal:
    if isinstance(value, Decimal):
        return value
    return values.from_python(value)  # type: ignore[no-any-return]


def _times_match(expected: dt.time, actual: dt.time) -> bool:
    return values.nanos(expected) == values.nanos(actual) and _times_match_to_the_microsecond(expected, actual)


def _times_match_to_the_microsecond(expected: dt.time, actual: dt.time) -> bool:
    if expected.tzinfo is None or actual.tzinfo is None:
        return expected.tzinfo is None and actual.tzinfo is None and expected == actual
    e_offset, a_offset = expected.utcoffset(), actual.utcoffset()
    if e_offset is None or a_offset is None:
        # A time with a zone id has no offset without a date: compare the fields and the zone.
        same_zone = str(expected.tzinfo) == str(actual.tzinfo)
        return same_zone and expected.replace(tzinfo=None) == actual.replace(tzinfo=None)
    day = dt.date(2000, 1, 1)
    return dt.datetime.combine(day, expected) == dt.datetime.combine(day, actual)


def _date_times_match(expected: dt.datetime, actual: dt.datetime) -> bool:
    if (expected.utcoffset() is None) != (actual.utcoffset() is None):
        return False
    return expected == actual and values.nanos(expected) == values.nanos(actual)


def first_difference(expected: Any, actual: Any, path: str = "") -> str | None:
    """Where `actual` first differs from `expected` ("" for the root), or None when they match."""
    if expected is None or actual is None:
        return None if expected is None and actual is None else path
    if isinstance(expected, bool) or isinstance(actual, bool):
        return None if type(expected) is type(actual) and expected == actual else path
    if _is_number(expected) or _is_number(actual):
        if _is_number(expected) and _is_number(actual):
            return None if numbers_match(_as_decimal(expected), _as_decimal(actual)) else path
        return path
    if isinstance(expected, str) or isinstance(actual, str):
        return None if expected == actual else path
    if isinstance(expected, dt.datetime) or isinstance(actual, dt.datetime):
        both = isinstance(expected, dt.datetime) and isinstance(actual, dt.datetime)
        return None if both and _date_times_match(expected, actual) else path
    if isinstance(expected, dt.date) or isinstance(actual, dt.date):
        both = isinstance(expected, dt.date) and isinstance(actual, dt.date)
        return None if both and expected == actual else path
    if isinstance(expected, dt.time) or isinstance(actual, dt.time):
        both = isinstance(expected, dt.time) and isinstance(actual, dt.time)
        return None if both and _times_match(expected, actual) else path
    if isinstance(expected, Sequence) and isinstance(actual, Sequence):
        if len(expected) != len(actual):
            return path
        for index, (e_item, a_item) in enumerate(zip(expected, actual, strict=True)):
            where = first_difference(e_item, a_item, f"{path}[{index + 1}]")
            if where is not None:
                return where
        return None
    if isinstance(expected, Mapping) and isinstance(actual, Mapping):
        if set(expected) != set(actual):
            return path
        for key, e_item in expected.items():
            where = first_difference(e_item, actual[key], f"{path}.{key}" if path else str(key))
            if where is not None:
                return where
        return None
    if type(expected) is not type(actual):
        return path
    return None if expected == actual else path


def values_match(expected: Any, actual: Any) -> bool:
    return first_difference(expected, actual) is None


# --- rendering -------------------------------------------------------------------------------


def render(value: Any, limit: int = 200) -> str:
    """A short FEEL-like rendering of a value for failure messages."""
    text = _render(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _render(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return _render_decimal(value)
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
        return f'"{escaped}"'
    if isinstance(value, dt.datetime):
        return f'date and time("{_iso(value)}")'
    if isinstance(value, dt.date):
        return f'date("{value.isoformat()}")'
    if isinstance(value, dt.time):
        return f'time("{_iso(value)}")'
    if isinstance(value, (DayTimeDuration, YearMonthDuration)):
        return f'duration("{values.to_json(value)}")'
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{key}: {_render(item)}" for key, item in value.items()) + "}"
    if isinstance(value, Sequence):
        return "[" + ", ".join(_render(item) for item in value) + "]"
    return str(value)


def _render_decimal(value: Decimal) -> str:
    if value == value.to_integral_value():
        return str(value.quantize(Decimal(1))) if abs(value) < Decimal("1e34") else str(value)
    return format(value.normalize(DECIMAL_CONTEXT), "f")


def _iso(value: dt.datetime | dt.time) -> str:
    # FEEL's own text: nanoseconds kept, `Z` for UTC, `@` before an IANA zone id
    return values.to_string(value)
