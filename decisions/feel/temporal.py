"""Parsing and arithmetic of FEEL dates, times, date-times and durations.

Zones: a UTC offset (`+01:00`, `Z`) becomes a fixed `datetime.timezone`; an IANA zone id
(`@Europe/Paris`) becomes a `zoneinfo.ZoneInfo`. Parsers return None on invalid text (the
built-in functions turn that into null plus a problem). Years outside 1..9999 are not
representable by Python's `datetime`; they become `far_dates.FarDate`/`FarDateTime`.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from decimal import ROUND_FLOOR, Decimal
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from decisions.feel import far_dates, values
from decisions.feel.values import DayTimeDuration, YearMonthDuration

_DATE = re.compile(r"(-?(?:[1-9]\d{4,8}|\d{4}))-(\d\d)-(\d\d)")
_TIME = re.compile(r"(\d\d):(\d\d):(\d\d)(\.\d{1,9})?(Z|[+-]\d\d:\d\d(?::\d\d)?|@[A-Za-z][A-Za-z0-9_/+\-]*)?")
_DATE_PREFIX = re.compile(r"-?\d{4,}-\d\d-\d\d")
_DURATION = re.compile(
    r"(-)?P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?"
)


@lru_cache(maxsize=256)
def zone(name: str) -> dt.tzinfo | None:
    """A time zone from an IANA id (`Europe/Paris`) or an offset (`+01:00`, `Z`); None if unknown."""
    if name == "Z":
        return dt.UTC
    m = re.fullmatch(r"([+-])(\d\d):(\d\d)(?::(\d\d))?", name)
    if m:
        sign = -1 if m.group(1) == "-" else 1
        hours, minutes, seconds = int(m.group(2)), int(m.group(3)), int(m.group(4) or 0)
        if minutes > 59 or seconds > 59 or (hours, minutes, seconds) > (18, 0, 0):  # +-18:00 at most
            return None
        return dt.timezone(sign * dt.timedelta(hours=hours, minutes=minutes, seconds=seconds))
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return None


def parse_date(text: str) -> dt.date | None:
    m = _DATE.fullmatch(text)
    if not m:
        return None
    return make_date(int(m.group(1)), int(m.group(2)), int(m.group(3)))


def make_date(year: int, month: int, day: int) -> dt.date | None:
    return far_dates.make_date(year, month, day)


def parse_time(text: str) -> dt.time | None:
    m = _TIME.fullmatch(text)
    if not m:
        return None
    hour, minute, second = int(m.group(1)), int(m.group(2)), int(m.group(3))
    # at most nine fractional digits (nanoseconds, as java.time): more would be lost silently
    fraction = int((m.group(4) or ".0")[1:].ljust(9, "0"))
    micro, extra = divmod(fraction, 1000)
    tz: dt.tzinfo | None = None
    if m.group(5):
        tz = zone(m.group(5)[1:] if m.group(5).startswith("@") else m.group(5))
        if tz is None:
            return None
    if hour == 24 and minute == 0 and second == 0 and fraction == 0:
        hour = 0
    try:
        return values.with_nanos(dt.time(hour, minute, second, micro, tzinfo=tz), extra)
    except ValueError:
        return None


def parse_date_and_time(text: str) -> dt.datetime | None:
    if "T" not in text:
        d = parse_date(text)
        return far_dates.make_datetime(d) if d else None
    date_part, _, time_part = text.partition("T")
    d = parse_date(date_part)
    t = parse_time(time_part)
    if d is None or t is None:
        return None
    if time_part.startswith("24:"):  # 24:00:00 is midnight at the end of the day
        try:
            d = d + dt.timedelta(days=1)
        except OverflowError:
            return None
    return combine(d, t)


def combine(d: dt.date, t: dt.time) -> dt.datetime:
    made = in_zone(far_dates.make_datetime(d, t.hour, t.minute, t.second, t.microsecond, t.tzinfo))
    return values.with_nanos(made, values.nanos(t))


def in_zone(d: dt.datetime) -> dt.datetime:
    """A wall-clock time in an IANA zone made a real local time: one in a daylight-saving gap
    (`2018-03-25T02:30:00@Europe/Paris` does not exist) moves forward by the length of the gap
    (to 03:30+02:00), as java.time and the FEEL engines built on it do. In an overlap the
    earlier offset applies (fold 0)."""
    if not isinstance(d.tzinfo, ZoneInfo) or isinstance(d, far_dates.FarDateTime):
        return d
    try:
        return d.astimezone(dt.UTC).astimezone(d.tzinfo)
    except (OverflowError, ValueError):  # at the very edges of year 1 and 9999
        return d


def parse_duration(text: str) -> DayTimeDuration | YearMonthDuration | None:
    m = _DURATION.fullmatch(text)
    if not m or text.endswith(("P", "T")):
        return None
    neg, years, months, days, hours, minutes, seconds = m.groups()
    sign = -1 if neg else 1
    if years or months:
        if days or hours or minutes or seconds:
            # A duration with both parts has no FEEL type; fold into days and time when exact.
            return None
        return YearMonthDuration(sign * (int(years or 0) * 12 + int(months or 0)))
    total = DayTimeDuration.of(int(days or 0), int(hours or 0), int(minutes or 0), Decimal(seconds or 0))
    return DayTimeDuration(sign * total.seconds)


def looks_like_extended_year(text: str) -> bool:
    """A date or date-time text whose year is negative or longer than four digits."""
    return re.match(r"-\d{4,}-|\d{5,}-", text) is not None


def parse_temporal(text: str) -> object:
    """The value of an `@"..."` literal: a date, time, date and time or duration; None if none fits."""
    if text.startswith(("P", "-P")):
        return parse_duration(text)
    if _DATE_PREFIX.match(text) and "T" in text:
        return parse_date_and_time(text)
    if ":" in text:
        return parse_time(text)
    return parse_date(text)


# --- arithmetic --------------------------------------------------------------------------------


def add_months(d: dt.date, months: int) -> dt.date | None:
    """Shift a date (or date-time) by whole months, clamping the day to the month's length."""
    index = d.year * 12 + (d.month - 1) + months
    year, month = divmod(index, 12)
    # the month length does not depend on the 400-year cycle
    day = min(d.day, calendar.monthrange(year % 400 + 400, month + 1)[1])
    moved = far_dates.make_date(year, month + 1, day)
    if moved is None or not isinstance(d, dt.datetime):
        return moved
    made = in_zone(far_dates.make_datetime(moved, d.hour, d.minute, d.second, d.microsecond, d.tzinfo))
    return values.with_nanos(made, values.nanos(d))


def add_seconds(d: dt.datetime, seconds: Decimal) -> dt.datetime:
    """`d` moved by a days and time duration, exact to the nanosecond (`add_duration`)."""
    delta, extra = _split_nanos(values.nanos(d), seconds)
    return values.with_nanos(add_duration(d, delta), extra)


def time_add_seconds(t: dt.time, seconds: Decimal) -> dt.time:
    """A time moved by a days and time duration (modulo 24 hours), exact to the nanosecond."""
    delta, extra = _split_nanos(values.nanos(t), seconds)
    return values.with_nanos(time_add(t, delta), extra)


def _split_nanos(extra: int, seconds: Decimal) -> tuple[dt.timedelta, int]:
    """`seconds` plus `extra` nanoseconds as whole microseconds and the nanoseconds left over
    (0..999). Digits beyond the nanosecond are dropped, toward minus infinity."""
    total = int((seconds.scaleb(9)).to_integral_value(rounding=ROUND_FLOOR)) + extra
    micros, rest = divmod(total, 1000)
    return dt.timedelta(microseconds=micros), rest


def seconds_between(a: dt.datetime | dt.time, b: dt.datetime | dt.time, delta: dt.timedelta) -> Decimal:
    """The seconds of `a - b`, given their difference to the microsecond, with their nanoseconds."""
    micros = (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds
    return Decimal(micros * 1000 + values.nanos(a) - values.nanos(b)).scaleb(-9)


def add_duration(d: dt.datetime, delta: dt.timedelta) -> dt.datetime:
    """Exact-time addition: for IANA zones the instant moves by `delta`, then back to the zone."""
    if isinstance(d, far_dates.FarDateTime):
        return far_dates.shift(d, delta)
    try:
        if isinstance(d.tzinfo, ZoneInfo):
            return (d.astimezone(dt.UTC) + delta).astimezone(d.tzinfo)
        return d + delta
    except OverflowError:  # past year 9999 (or before year 1): continue in far dates
        return far_dates.shift(d, delta)


def time_add(t: dt.time, delta: dt.timedelta) -> dt.time:
    base = dt.datetime(2000, 1, 1, t.hour, t.minute, t.second, t.microsecond)
    moved = base + delta
    return moved.time().replace(tzinfo=t.tzinfo)


def time_difference(a: dt.time, b: dt.time) -> dt.timedelta | None:
    oa, ob = time_offset(a), time_offset(b)
    if (oa is None) != (ob is None):
        return None
    da = dt.datetime(2000, 1, 1, a.hour, a.minute, a.second, a.microsecond) - (oa or dt.timedelta())
    db = dt.datetime(2000, 1, 1, b.hour, b.minute, b.second, b.microsecond) - (ob or dt.timedelta())
    return da - db


time_offset = values.time_offset


def months_between(start: dt.date, end: dt.date) -> int:
    """Whole months from `start` to `end` (negative when end is earlier), as `years and months duration`."""
    months = (end.year - start.year) * 12 + (end.month - start.month)
    start_rest = _rest_of_month(start)
    end_rest = _rest_of_month(end)
    if months > 0 and end_rest < start_rest:
        months -= 1
    elif months < 0 and end_rest > start_rest:
        months += 1
    return months


def _rest_of_month(d: dt.date) -> int:
    # Only the calendar dates count: the time of day of date-times is ignored.
    return d.day
