"""Dates and date-times with years outside Python's 1..9999 (FEEL allows -999,999,999..999,999,999).

The Gregorian calendar repeats exactly every 400 years (146,097 days, a whole number of
weeks), so a far date is stored as the same calendar day `cycles` 400-year cycles away,
inside Python's range. `FarDate`/`FarDateTime` subclass `date`/`datetime` (every FEEL type
check keeps working), report the true `year`, and redefine ordering, equality and
arithmetic through a day number that counts the cycles. Use `make_date`, `make_datetime`,
`ordinal` and `from_ordinal` rather than the constructors.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

CYCLE_YEARS = 400
CYCLE_DAYS = 146_097
MAX_YEAR = 999_999_999
_MAX_ORDINAL = dt.date.max.toordinal()
_base_year = dt.date.__dict__["year"].__get__


def _cycles(year: int) -> int:
    """How many 400-year cycles to move `year` into 1..400 (0 when it is already representable)."""
    return 0 if 1 <= year <= 9999 else (year - 1) // CYCLE_YEARS


class FarDate(dt.date):
    cycles: int

    def __new__(cls, year: int, month: int, day: int, cycles: int = 0) -> FarDate:
        self = super().__new__(cls, year, month, day)
        self.cycles = cycles
        return self

    @property
    def year(self) -> int:
        return int(_base_year(self)) + CYCLE_YEARS * self.cycles

    def __eq__(self, other: object) -> bool:
        if isinstance(other, dt.datetime) or not isinstance(other, dt.date):
            return NotImplemented
        return ordinal(self) == ordinal(other)

    def __hash__(self) -> int:
        return hash(ordinal(self))

    def __lt__(self, other: object) -> bool:
        return _order(self, other) < 0

    def __le__(self, other: object) -> bool:
        return _order(self, other) <= 0

    def __gt__(self, other: object) -> bool:
        return _order(self, other) > 0

    def __ge__(self, other: object) -> bool:
        return _order(self, other) >= 0

    def __add__(self, other: object) -> dt.date:  # type: ignore[override]
        if not isinstance(other, dt.timedelta):
            return NotImplemented
        return from_ordinal(ordinal(self) + other.days)

    __radd__ = __add__  # type: ignore[assignment]

    def __sub__(self, other: object) -> Any:
        if isinstance(other, dt.timedelta):
            return from_ordinal(ordinal(self) - other.days)
        if isinstance(other, dt.date) and not isinstance(other, dt.datetime):
            return dt.timedelta(days=ordinal(self) - ordinal(other))
        return NotImplemented

    def __rsub__(self, other: object) -> Any:
        if isinstance(other, dt.date) and not isinstance(other, dt.datetime):
            return dt.timedelta(days=ordinal(other) - ordinal(self))
        return NotImplemented

    def replace(self, year: int | None = None, month: int | None = None, day: int | None = None) -> dt.date:  # type: ignore[override]
        made = make_date(self.year if year is None else year, self.month if month is None else month,
                         self.day if day is None else day)
        if made is None:
            raise ValueError("date out of range")
        return made

    def __repr__(self) -> str:
        return f"FarDate({self.year}, {self.month}, {self.day})"

    __str__ = __repr__


class FarDateTime(dt.datetime):
    cycles: int

    def __new__(cls, year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0,
                microsecond: int = 0, tzinfo: dt.tzinfo | None = None, cycles: int = 0) -> FarDateTime:
        self = super().__new__(cls, year, month, day, hour, minute, second, microsecond, tzinfo)
        self.cycles = cycles
        return self

    @property
    def year(self) -> int:
        return int(_base_year(self)) + CYCLE_YEARS * self.cycles

    def date(self) -> dt.date:
        return from_ordinal(ordinal(self))

    def _instant(self) -> tuple[int, bool]:
        """Microseconds since an epoch, UTC when the date-time has a zone; and whether it has one."""
        micros = ((ordinal(self) * 86400 + self.hour * 3600 + self.minute * 60 + self.second) * 1_000_000
                  + self.microsecond)
        offset = self.utcoffset()
        if offset is None:
            return micros, False
        return micros - (offset.days * 86400 + offset.seconds) * 1_000_000 - offset.microseconds, True

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, dt.datetime):
            return NotImplemented
        a, aware_a = _instant(self)
        b, aware_b = _instant(other)
        return aware_a == aware_b and a == b

    def __hash__(self) -> int:
        return hash(_instant(self))

    def __lt__(self, other: object) -> bool:
        return _order_instant(self, other) < 0

    def __le__(self, other: object) -> bool:
        return _order_instant(self, other) <= 0

    def __gt__(self, other: object) -> bool:
        return _order_instant(self, other) > 0

    def __ge__(self, other: object) -> bool:
        return _order_instant(self, other) >= 0

    def __add__(self, other: object) -> dt.datetime:  # type: ignore[override]
        if not isinstance(other, dt.timedelta):
            return NotImplemented
        return shift(self, other)

    __radd__ = __add__  # type: ignore[assignment]

    def __sub__(self, other: object) -> Any:
        if isinstance(other, dt.timedelta):
            return shift(self, -other)
        if isinstance(other, dt.datetime):
            return difference(self, other)
        return NotImplemented

    def __rsub__(self, other: object) -> Any:
        if isinstance(other, dt.datetime):
            return difference(other, self)
        return NotImplemented

    def __repr__(self) -> str:
        return f"FarDateTime({self.year}, {self.month}, {self.day}, {self.hour}, {self.minute}, {self.second})"

    __str__ = __repr__


def make_date(year: int, month: int, day: int) -> dt.date | None:
    """A date for any FEEL year; None when the date does not exist."""
    if abs(year) > MAX_YEAR:
        return None
    k = _cycles(year)
    try:
        if k == 0:
            return dt.date(year, month, day)
        return FarDate(year - CYCLE_YEARS * k, month, day, cycles=k)
    except (ValueError, OverflowError):
        return None


def make_datetime(d: dt.date, hour: int = 0, minute: int = 0, second: int = 0, microsecond: int = 0,
                  tzinfo: dt.tzinfo | None = None) -> dt.datetime:
    k = getattr(d, "cycles", 0)
    if k == 0:
        return dt.datetime(d.year, d.month, d.day, hour, minute, second, microsecond, tzinfo=tzinfo)
    return FarDateTime(_base_year(d), d.month, d.day, hour, minute, second, microsecond, tzinfo, cycles=k)


def ordinal(d: dt.date) -> int:
    """Day number of the date part, counting 400-year cycles (1 is 0001-01-01)."""
    return d.toordinal() + CYCLE_DAYS * getattr(d, "cycles", 0)


def from_ordinal(n: int) -> dt.date:
    if 1 <= n <= _MAX_ORDINAL:
        return dt.date.fromordinal(n)
    k = (n - 1) // CYCLE_DAYS
    base = dt.date.fromordinal(n - CYCLE_DAYS * k)
    result = FarDate(base.year, base.month, base.day, cycles=k)
    if abs(result.year) > MAX_YEAR:
        raise OverflowError("date out of range")
    return result


def shift(d: dt.datetime, delta: dt.timedelta) -> dt.datetime:
    """Wall-clock shift of a (far) date-time by a duration."""
    seconds = d.hour * 3600 + d.minute * 60 + d.second + delta.seconds
    micros = d.microsecond + delta.microseconds
    seconds += micros // 1_000_000
    days, seconds = divmod(seconds, 86400)
    day = from_ordinal(ordinal(d) + delta.days + days)
    return make_datetime(day, seconds // 3600, seconds // 60 % 60, seconds % 60, micros % 1_000_000, d.tzinfo)


def difference(a: dt.datetime, b: dt.datetime) -> dt.timedelta:
    ia, aware_a = _instant(a)
    ib, aware_b = _instant(b)
    if aware_a != aware_b:
        raise TypeError("can't subtract offset-naive and offset-aware datetimes")
    return dt.timedelta(microseconds=ia - ib)


def instant(d: dt.datetime) -> tuple[int, bool]:
    """Microseconds since an epoch (UTC when the date-time has a zone, wall clock when it has
    none), and whether it has one. Unlike Python's own operators, two date-times in the same
    IANA zone are compared by instant, so the two 02:30 of an autumn overlap differ."""
    return _instant(d)


def _instant(d: dt.datetime) -> tuple[int, bool]:
    if isinstance(d, FarDateTime):
        return d._instant()
    micros = ((d.toordinal() * 86400 + d.hour * 3600 + d.minute * 60 + d.second) * 1_000_000 + d.microsecond)
    offset = d.utcoffset()
    if offset is None:
        return micros, False
    return micros - (offset.days * 86400 + offset.seconds) * 1_000_000 - offset.microseconds, True


def _order(a: dt.date, other: object) -> int:
    if isinstance(other, dt.datetime) or not isinstance(other, dt.date):
        raise TypeError(f"cannot compare date and {type(other).__name__}")
    x, y = ordinal(a), ordinal(other)
    return (x > y) - (x < y)


def _order_instant(a: dt.datetime, other: object) -> int:
    if not isinstance(other, dt.datetime):
        raise TypeError(f"cannot compare date and time and {type(other).__name__}")
    x, aware_x = _instant(a)
    y, aware_y = _instant(other)
    if aware_x != aware_y:
        raise TypeError("can't compare offset-naive and offset-aware datetimes")
    return (x > y) - (x < y)
