"""Conversion functions: date, time, date and time, duration, years and months duration, number, string."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from decisions.feel import far_dates, temporal
from decisions.feel.builtins.registry import BuiltinError, fn
from decisions.feel.values import (
    DECIMAL_CONTEXT,
    DayTimeDuration,
    YearMonthDuration,
    nanos,
    to_string,
    with_nanos,
)


def _integer(value: Decimal, what: str) -> int:
    if value != value.to_integral_value():
        raise BuiltinError(f"{what} must be an integer, got {value}")
    return int(value)


def _date_from_string(text: str) -> dt.date:
    d = temporal.parse_date(text)
    if d is None:
        raise BuiltinError(f"invalid date {text!r}")
    return d


def _date_from_temporal(value: dt.date) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value


def _date_from_parts(year: Decimal, month: Decimal, day: Decimal) -> dt.date:
    d = temporal.make_date(_integer(year, "year"), _integer(month, "month"), _integer(day, "day"))
    if d is None:
        raise BuiltinError(f"invalid date {year}-{month}-{day}")
    return d


def _time_from_string(text: str) -> dt.time:
    t = temporal.parse_time(text)
    if t is None:
        raise BuiltinError(f"invalid time {text!r}")
    return t


def _time_from_temporal(value: dt.date | dt.time) -> dt.time:
    if isinstance(value, dt.datetime):
        return with_nanos(value.timetz(), nanos(value))
    if isinstance(value, dt.time):
        return value
    return dt.time(0, 0, 0, tzinfo=dt.UTC)


def _time_from_parts(hour: Decimal, minute: Decimal, second: Decimal, offset: DayTimeDuration | None = None) -> dt.time:
    whole = int(second)
    fraction = int(((second - whole) * 1_000_000_000).to_integral_value())
    micro, extra = divmod(fraction, 1000)
    tz: dt.tzinfo | None = None
    if offset is not None:
        delta = offset.to_timedelta()
        if abs(delta) > dt.timedelta(hours=18):  # as for offsets in text: +-18:00 at most
            raise BuiltinError(f"invalid time offset {offset}")
        tz = dt.timezone(delta)
    try:
        return with_nanos(dt.time(_integer(hour, "hour"), _integer(minute, "minute"), whole, micro, tzinfo=tz), extra)
    except ValueError as e:
        raise BuiltinError(f"invalid time: {e}") from None


def _date_and_time_from_string(text: str) -> dt.datetime:
    d = temporal.parse_date_and_time(text)
    if d is None:
        raise BuiltinError(f"invalid date and time {text!r}")
    return d


def _date_and_time_from_parts(date: dt.date, time: dt.time) -> dt.datetime:
    return temporal.combine(date if not isinstance(date, dt.datetime) else date.date(), time)


def _date_and_time_from_date(value: dt.date) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value
    return far_dates.make_datetime(value)


def _duration(text: str) -> DayTimeDuration | YearMonthDuration:
    d = temporal.parse_duration(text)
    if d is None:
        raise BuiltinError(f"invalid duration {text!r}")
    return d


def _years_and_months(start: dt.date, end: dt.date) -> YearMonthDuration:
    return YearMonthDuration(temporal.months_between(start, end))


_NUMBER_TEXT = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


def _number(text: str, grouping: str | None = None, decimal: str | None = None) -> Decimal | None:
    if grouping not in (None, " ", ",", "."):
        raise BuiltinError(f"grouping separator must be ' ', ',' or '.', got {grouping!r}")
    if decimal not in (None, ".", ","):
        raise BuiltinError(f"decimal separator must be '.' or ',', got {decimal!r}")
    if grouping is not None and grouping == decimal:
        raise BuiltinError("grouping and decimal separators must differ")
    if grouping is not None:
        text = text.replace(grouping, "")
    if decimal is not None and decimal != ".":
        if "." in text:
            raise BuiltinError(f"not a number: {text!r}")
        text = text.replace(decimal, ".")
    if not _NUMBER_TEXT.fullmatch(text):
        raise BuiltinError(f"not a number: {text!r}")
    try:
        return DECIMAL_CONTEXT.create_decimal(text)
    except InvalidOperation:
        raise BuiltinError(f"not a number: {text!r}") from None


def _string(value: Any) -> str | None:
    return None if value is None else to_string(value)


FUNCTIONS = [
    fn("date",
       (["from: string"], _date_from_string),
       (["from: date or datetime"], _date_from_temporal),
       (["year: number", "month: number", "day: number"], _date_from_parts)),
    fn("time",
       (["from: string"], _time_from_string),
       (["from: temporal"], _time_from_temporal),
       (["hour: number", "minute: number", "second: number", "offset?: dt duration?"], _time_from_parts)),
    fn("date and time",
       (["from: string"], _date_and_time_from_string),
       (["date: date or datetime", "time: time"], _date_and_time_from_parts),
       (["from: date or datetime"], _date_and_time_from_date)),
    fn("duration", (["from: string"], _duration)),
    fn("years and months duration", (["from: date or datetime", "to: date or datetime"], _years_and_months)),
    fn("number", (["from: string", "grouping separator?: string?", "decimal separator?: string?"], _number)),
    fn("string", (["from: any"], _string)),
]
