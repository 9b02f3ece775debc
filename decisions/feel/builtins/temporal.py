"""Temporal functions: day of year, day of week, month of year, week of year, now, today.

(Component properties such as `d.year` are paths: see `properties.py`.)
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from decisions.feel.builtins.registry import fn

_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
           "October", "November", "December")


def _day_of_year(date: dt.date) -> Decimal:
    return Decimal(date.timetuple().tm_yday)


def _day_of_week(date: dt.date) -> str:
    return _DAYS[date.weekday()]


def _month_of_year(date: dt.date) -> str:
    return _MONTHS[date.month - 1]


def _week_of_year(date: dt.date) -> Decimal:
    return Decimal(date.isocalendar()[1])


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _today() -> dt.date:
    return dt.date.today()


FUNCTIONS = [
    fn("day of year", (["date: date or datetime"], _day_of_year)),
    fn("day of week", (["date: date or datetime"], _day_of_week)),
    fn("month of year", (["date: date or datetime"], _month_of_year)),
    fn("week of year", (["date: date or datetime"], _week_of_year)),
    fn("now", ([], _now)),
    fn("today", ([], _today)),
]
