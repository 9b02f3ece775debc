"""FEEL infix arithmetic on runtime values: `+ - * / **` and negation.

Each operator returns the FEEL result, None when an operand is null, and raises
`OperationError` when the operand types do not fit (the compiled closure turns that into
null plus a located problem). Numbers use `DECIMAL_CONTEXT`; any decimal signal (overflow,
invalid operation) is an `OperationError` too.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_DOWN, Decimal, DecimalException
from typing import Any

from decisions.feel import far_dates, temporal
from decisions.feel.values import DECIMAL_CONTEXT, DayTimeDuration, YearMonthDuration, type_name

_ctx = DECIMAL_CONTEXT


class OperationError(Exception):
    """Operands of the wrong type, division by zero, overflow: reported as a problem, never raised out."""


def _mismatch(op: str, a: Any, b: Any) -> OperationError:
    return OperationError(f"cannot apply '{op}' to {type_name(a)} and {type_name(b)}")


def add(a: Any, b: Any) -> Any:
    ta, tb = type(a), type(b)
    if ta is Decimal and tb is Decimal:
        return _number(_ctx.add, a, b)
    if a is None or b is None:
        return None
    if ta is str and tb is str:
        return a + b
    if ta is DayTimeDuration and tb is DayTimeDuration:
        return DayTimeDuration(a.seconds + b.seconds)
    if ta is YearMonthDuration and tb is YearMonthDuration:
        return YearMonthDuration(a.months + b.months)
    if tb in (DayTimeDuration, YearMonthDuration) and isinstance(a, (dt.date, dt.time)):
        return _shift(a, b, 1)
    if ta in (DayTimeDuration, YearMonthDuration) and isinstance(b, (dt.date, dt.time)):
        return _shift(b, a, 1)
    raise _mismatch("+", a, b)


def subtract(a: Any, b: Any) -> Any:
    ta, tb = type(a), type(b)
    if ta is Decimal and tb is Decimal:
        return _number(_ctx.subtract, a, b)
    if a is None or b is None:
        return None
    if ta is DayTimeDuration and tb is DayTimeDuration:
        return DayTimeDuration(a.seconds - b.seconds)
    if ta is YearMonthDuration and tb is YearMonthDuration:
        return YearMonthDuration(a.months - b.months)
    if tb in (DayTimeDuration, YearMonthDuration) and isinstance(a, (dt.date, dt.time)):
        return _shift(a, b, -1)
    if isinstance(a, dt.date) and isinstance(b, dt.date):
        return _date_difference(a, b)
    if isinstance(a, dt.time) and isinstance(b, dt.time):
        delta = temporal.time_difference(a, b)
        if delta is None:
            raise OperationError("cannot subtract a time with a zone and a time without one")
        return DayTimeDuration(temporal.seconds_between(a, b, delta))
    raise _mismatch("-", a, b)


def multiply(a: Any, b: Any) -> Any:
    ta, tb = type(a), type(b)
    if ta is Decimal and tb is Decimal:
        return _number(_ctx.multiply, a, b)
    if a is None or b is None:
        return None
    if tb is Decimal and ta in (DayTimeDuration, YearMonthDuration):
        return _scale(a, b)
    if ta is Decimal and tb in (DayTimeDuration, YearMonthDuration):
        return _scale(b, a)
    raise _mismatch("*", a, b)


def divide(a: Any, b: Any) -> Any:
    ta, tb = type(a), type(b)
    if ta is Decimal and tb is Decimal:
        if not b:
            raise OperationError("division by zero")
        return _number(_ctx.divide, a, b)
    if a is None or b is None:
        return None
    if tb is Decimal and ta in (DayTimeDuration, YearMonthDuration):
        if not b:
            raise OperationError("division by zero")
        return _scale(a, _ctx.divide(Decimal(1), b))
    if ta is DayTimeDuration and tb is DayTimeDuration:
        if not b.seconds:
            raise OperationError("division by zero")
        return _number(_ctx.divide, a.seconds, b.seconds)
    if ta is YearMonthDuration and tb is YearMonthDuration:
        if not b.months:
            raise OperationError("division by zero")
        return _number(_ctx.divide, Decimal(a.months), Decimal(b.months))
    raise _mismatch("/", a, b)


def power(a: Any, b: Any) -> Any:
    ta, tb = type(a), type(b)
    if ta is Decimal and tb is Decimal:
        if not a and b < 0:
            raise OperationError("zero raised to a negative power")
        if b == b.to_integral_value() and abs(b) < 1_000_000_000:
            # integral exponents are exact (up to 34 digits) via repeated squaring
            return _number(_ctx.power, a, int(b))
        return _number(_ctx.power, a, b)
    if a is None or b is None:
        return None
    raise _mismatch("**", a, b)


def negate(a: Any) -> Any:
    t = type(a)
    if t is Decimal:
        return _ctx.minus(a)
    if a is None:
        return None
    if t is DayTimeDuration:
        return DayTimeDuration(-a.seconds)
    if t is YearMonthDuration:
        return YearMonthDuration(-a.months)
    raise OperationError(f"cannot negate {type_name(a)}")


def _number(op: Any, a: Decimal, b: Any) -> Decimal:
    try:
        result: Decimal = op(a, b)
    except DecimalException as e:
        raise OperationError(f"numeric overflow or invalid operation ({type(e).__name__})") from None
    return result


def _scale(d: DayTimeDuration | YearMonthDuration, factor: Decimal) -> DayTimeDuration | YearMonthDuration:
    if isinstance(d, DayTimeDuration):
        return DayTimeDuration(_number(_ctx.multiply, d.seconds, factor))
    months = _number(_ctx.multiply, Decimal(d.months), factor)
    return YearMonthDuration(int(months.to_integral_value(rounding=ROUND_DOWN)))


def _shift(value: dt.date | dt.time, d: DayTimeDuration | YearMonthDuration, sign: int) -> Any:
    try:
        if isinstance(value, dt.time):
            if isinstance(d, YearMonthDuration):
                raise OperationError("cannot add a years and months duration to a time")
            return temporal.time_add_seconds(value, sign * d.seconds)
        if isinstance(d, YearMonthDuration):
            shifted = temporal.add_months(value, sign * d.months)
            if shifted is None:
                raise OperationError("date out of range")
            return shifted
        if isinstance(value, dt.datetime):
            return temporal.add_seconds(value, sign * d.seconds)
        return far_dates.shift(far_dates.make_datetime(value), sign * d.to_timedelta()).date()
    except (OverflowError, ValueError):
        raise OperationError("date out of range") from None


def _date_difference(a: dt.date, b: dt.date) -> DayTimeDuration:
    da, db = _as_datetime(a, b), _as_datetime(b, a)
    if (da.utcoffset() is None) != (db.utcoffset() is None):
        raise OperationError("cannot subtract a date and time with a zone and one without")
    try:
        # by instants: Python subtracts date-times of one IANA zone by wall clock
        return DayTimeDuration(temporal.seconds_between(da, db, far_dates.difference(da, db)))
    except (OverflowError, TypeError):
        raise OperationError("dates too far apart") from None


def _as_datetime(d: dt.date, other: dt.date) -> dt.datetime:
    """A date as midnight: UTC when the other operand is a date-time (and naive with a date)."""
    if isinstance(d, dt.datetime):
        return d
    tz = dt.UTC if isinstance(other, dt.datetime) else None
    return far_dates.make_datetime(d, tzinfo=tz)
