"""Properties reached with a path on non-context values: `d.year`, `t.time offset`, `r.start`.

Dates and date-times: year, month, day, weekday (1 = Monday); times and date-times: hour,
minute, second, time offset (a days and time duration), timezone (IANA id); durations:
years, months (years and months) and days, hours, minutes, seconds (days and time);
ranges: start, end, start included, end included.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from decisions.feel.temporal import time_offset
from decisions.feel.values import DayTimeDuration, Range, YearMonthDuration, fraction_of_second, nanos

NAMES = (
    "year", "month", "day", "weekday", "hour", "minute", "second", "time offset", "timezone",
    "years", "months", "days", "hours", "minutes", "seconds",
    "start", "end", "start included", "end included",
)


def get_property(value: Any, name: str) -> tuple[bool, Any]:
    """(found, value) of a property; found is False when the value has no such property."""
    if isinstance(value, dt.date):
        if name == "year":
            return True, Decimal(value.year)
        if name == "month":
            return True, Decimal(value.month)
        if name == "day":
            return True, Decimal(value.day)
        if name == "weekday":
            return True, Decimal(value.isoweekday())
        if not isinstance(value, dt.datetime):
            return False, None
    if isinstance(value, (dt.datetime, dt.time)):
        if name == "hour":
            return True, Decimal(value.hour)
        if name == "minute":
            return True, Decimal(value.minute)
        if name == "second":
            seconds = Decimal(value.second)
            if value.microsecond or nanos(value):
                seconds += fraction_of_second(value).normalize()
            return True, seconds
        if name == "time offset":
            offset = value.utcoffset() if isinstance(value, dt.datetime) else time_offset(value)
            return True, None if offset is None else DayTimeDuration.from_timedelta(offset)
        if name == "timezone":
            key = getattr(value.tzinfo, "key", None)
            return True, key
        return False, None
    if isinstance(value, YearMonthDuration):
        if name == "years":
            return True, Decimal(value.years)
        if name == "months":
            return True, Decimal(value.month_part)
        return False, None
    if isinstance(value, DayTimeDuration):
        if name == "days":
            return True, Decimal(value.days)
        if name == "hours":
            return True, Decimal(value.hours)
        if name == "minutes":
            return True, Decimal(value.minutes)
        if name == "seconds":
            return True, value.second_part
        return False, None
    if isinstance(value, Range):
        if name == "start":
            return True, value.start
        if name == "end":
            return True, value.end
        if name == "start included":
            return True, value.start_included
        if name == "end included":
            return True, value.end_included
    return False, None
