"""FEEL runtime values, as plain Python objects.

    null -> None              boolean -> bool            string -> str
    number -> Decimal (34 digits, ROUND_HALF_EVEN: `DECIMAL_CONTEXT`)
    date -> datetime.date     time -> datetime.time      date and time -> datetime.datetime
    days and time duration -> DayTimeDuration            years and months duration -> YearMonthDuration
    list -> list              context -> dict[str, Any]  range -> Range     function -> FeelFunction

Only `bool`, `str`, `Decimal`, dates and containers come from the standard library, so a
value's FEEL type is a cheap `type(x)` test. Note that `bool` is a subclass of `int` and
`datetime` of `date`: every check here tests `bool`/`datetime` first.
"""

from __future__ import annotations

import datetime as dt
import math
import numbers
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, Context, Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any, TypeVar

from decisions.feel import far_dates

if TYPE_CHECKING:
    from decisions.feel.env import Env

DECIMAL_CONTEXT = Context(prec=34, rounding=ROUND_HALF_EVEN, Emax=6144, Emin=-6143)


def number_beyond_range(d: Decimal) -> str | None:
    """Why `d` is no FEEL number (IEEE 754 decimal128: 34 digits, exponents to 6144), or None.

    Every number coming in (JSON, CSV, YAML, DMN text, Python data) is held to this, so that no
    input can make formatting or conversion work with a billion digits.
    """
    if not d.is_finite():
        return "is not a finite number"
    if d and d.adjusted() > DECIMAL_CONTEXT.Emax:
        return f"is larger than the largest FEEL number (just under 1E+{DECIMAL_CONTEXT.Emax + 1})"
    if d and d.adjusted() < DECIMAL_CONTEXT.Etiny():
        return f"is closer to zero than the smallest FEEL number (1E{DECIMAL_CONTEXT.Etiny()})"
    return None

_MICRO = Decimal("0.000001")
_INT_DIGITS = 4000  # Python refuses to convert integers of more than 4300 digits to text


# --- durations ---------------------------------------------------------------------------


@dataclass(frozen=True, order=True)
class DayTimeDuration:
    """A days-and-time duration, as a signed number of seconds (sub-second precision kept)."""

    seconds: Decimal

    @classmethod
    def of(cls, days: int = 0, hours: int = 0, minutes: int = 0, seconds: Decimal | int = 0) -> DayTimeDuration:
        total = Decimal(((days * 24 + hours) * 60 + minutes) * 60) + Decimal(seconds)
        return cls(total)

    @classmethod
    def from_timedelta(cls, delta: dt.timedelta) -> DayTimeDuration:
        micros = (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds
        return cls(Decimal(micros).scaleb(-6).normalize(DECIMAL_CONTEXT) if micros % 1_000_000 else Decimal(micros // 1_000_000))

    def to_timedelta(self) -> dt.timedelta:
        micros = int(self.seconds.quantize(_MICRO, rounding=ROUND_DOWN).scaleb(6))
        return dt.timedelta(microseconds=micros)

    def _parts(self) -> tuple[int, int, int, int, Decimal]:
        sign = -1 if self.seconds < 0 else 1
        total = abs(self.seconds)
        whole = int(total)
        frac = total - whole
        days, rest = divmod(whole, 86400)
        hours, rest = divmod(rest, 3600)
        minutes, secs = divmod(rest, 60)
        return sign, days, hours, minutes, secs + frac

    @property
    def days(self) -> int:
        sign, days, *_ = self._parts()
        return sign * days

    @property
    def hours(self) -> int:
        sign, _, hours, _, _ = self._parts()
        return sign * hours

    @property
    def minutes(self) -> int:
        sign, _, _, minutes, _ = self._parts()
        return sign * minutes

    @property
    def second_part(self) -> Decimal:
        sign, *_, secs = self._parts()
        return secs if sign > 0 else -secs

    def __str__(self) -> str:
        sign, days, hours, minutes, secs = self._parts()
        out = "-P" if sign < 0 and self.seconds != 0 else "P"
        if days:
            out += f"{days}D"
        time = ""
        if hours:
            time += f"{hours}H"
        if minutes:
            time += f"{minutes}M"
        if secs:
            time += f"{format_number(secs)}S"
        if time:
            out += "T" + time
        elif not days:
            out += "T0S"
        return out


@dataclass(frozen=True, order=True)
class YearMonthDuration:
    """A years-and-months duration, as a signed number of months."""

    months: int

    @property
    def years(self) -> int:
        return int(self.months / 12)

    @property
    def month_part(self) -> int:
        return self.months - 12 * self.years

    def __str__(self) -> str:
        sign = "-" if self.months < 0 else ""
        years, months = divmod(abs(self.months), 12)
        out = f"{sign}P"
        if years:
            out += f"{years}Y"
        if months or not years:
            out += f"{months}M"
        return out


# --- times to the nanosecond ------------------------------------------------------------------


class NanoTime(dt.time):
    """A time whose seconds have seven to nine fractional digits: digits 7-9 are in `nanos`.

    FEEL times and date-times are exact to the nanosecond (as in java.time, which the TCK
    follows); Python's stop at the microsecond. Only values that need them carry the extra
    digits; `nanos(x)` reads them (0 for any other value) and `with_nanos` sets them. Python's
    own operators ignore them: FEEL comparison, arithmetic, properties and formatting go
    through `feel_compare`, `operators`, `properties` and `format_time`, which do not.
    """

    nanos: int = 0

    def __reduce_ex__(self, protocol: Any) -> tuple[Any, ...]:  # pickle and copy keep the nanoseconds
        return with_nanos, (dt.time(self.hour, self.minute, self.second, self.microsecond, self.tzinfo,
                                    fold=self.fold), self.nanos)


class NanoDateTime(dt.datetime):
    """A date and time with digits 7-9 of its seconds in `nanos` (see `NanoTime`)."""

    nanos: int = 0

    def __reduce_ex__(self, protocol: Any) -> tuple[Any, ...]:
        return with_nanos, (dt.datetime(self.year, self.month, self.day, self.hour, self.minute, self.second,
                                        self.microsecond, self.tzinfo, fold=self.fold), self.nanos)


def nanos(x: dt.time | dt.datetime) -> int:
    """Digits 7-9 of the seconds of a time or date and time (0..999)."""
    return getattr(x, "nanos", 0)


_Clock = TypeVar("_Clock", dt.time, dt.datetime)


def with_nanos(x: _Clock, extra: int) -> _Clock:
    """`x` with digits 7-9 of its seconds set to `extra` (0..999)."""
    if extra == nanos(x) and type(x) is not NanoDateTime and type(x) is not NanoTime:
        return x
    out: Any
    if isinstance(x, far_dates.FarDateTime):
        out = far_dates.make_datetime(x.date(), x.hour, x.minute, x.second, x.microsecond, x.tzinfo)
    elif isinstance(x, dt.datetime):
        if not extra:
            return dt.datetime(x.year, x.month, x.day, x.hour, x.minute, x.second, x.microsecond, x.tzinfo,
                               fold=x.fold)
        out = NanoDateTime(x.year, x.month, x.day, x.hour, x.minute, x.second, x.microsecond, x.tzinfo, fold=x.fold)
    else:
        if not extra:
            return dt.time(x.hour, x.minute, x.second, x.microsecond, x.tzinfo, fold=x.fold)
        out = NanoTime(x.hour, x.minute, x.second, x.microsecond, x.tzinfo, fold=x.fold)
    out.nanos = extra
    return out  # type: ignore[no-any-return]


def fraction_of_second(x: dt.time | dt.datetime) -> Decimal:
    """The fractional part of the seconds, exact to the nanosecond."""
    return Decimal(x.microsecond * 1000 + nanos(x)).scaleb(-9)


# --- ranges and functions ---------------------------------------------------------------------


@dataclass(frozen=True)
class Range:
    """An interval. `start`/`end` None means unbounded on that side (from `< 10` and the like)."""

    start: Any
    end: Any
    start_included: bool
    end_included: bool

    def contains(self, value: Any) -> bool | None:
        """FEEL `value in range`: None when the value is not comparable with the bounds."""
        if value is None:
            return None
        if self.start is not None:
            c = feel_compare(value, self.start)
            if c is None:
                return None
            if c < 0 or (c == 0 and not self.start_included):
                return False
        if self.end is not None:
            c = feel_compare(value, self.end)
            if c is None:
                return None
            if c > 0 or (c == 0 and not self.end_included):
                return False
        return True

    def __str__(self) -> str:
        if self.start is None:
            return f"{'<=' if self.end_included else '<'} {to_string(self.end)}"
        if self.end is None:
            return f"{'>=' if self.start_included else '>'} {to_string(self.start)}"
        left = "[" if self.start_included else "("
        right = "]" if self.end_included else ")"
        return f"{left}{to_string(self.start)}..{to_string(self.end)}{right}"


class FeelFunction:
    """A FEEL function value: a built-in or a user-defined function (`function(a, b) a + b`).

    `parameters` are the formal parameter names (used for named invocation). `call` never
    raises: failures are reported to `env` as problems and give None.
    """

    name: str = "function"
    parameters: tuple[str, ...] = ()

    def call(self, env: Env, args: Sequence[Any], named: Mapping[str, Any] | None = None) -> Any:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<function {self.name}({', '.join(self.parameters)})>"


# --- conversions -------------------------------------------------------------------------------


def from_python(x: Any) -> Any:
    """Plain Python (and numpy/pandas scalars) to a FEEL value. Unknown objects become None."""
    if x is None or isinstance(x, (bool, str)):
        return x
    if isinstance(x, Decimal):
        return None if number_beyond_range(x) else x
    if isinstance(x, int):
        return from_python(Decimal(x))
    if isinstance(x, float):
        # float.__repr__: the shortest round-trip digits, also for numpy.float64 (whose repr differs)
        return Decimal(float.__repr__(x)) if math.isfinite(x) else None
    if isinstance(x, (dt.date, dt.time, DayTimeDuration, YearMonthDuration, Range, FeelFunction)):
        return x
    if isinstance(x, dt.timedelta):
        return DayTimeDuration.from_timedelta(x)
    if isinstance(x, Mapping):
        return {str(k): from_python(v) for k, v in x.items()}
    if isinstance(x, (list, tuple, set, frozenset)):
        return [from_python(v) for v in x]
    if type(x).__module__.startswith(("numpy", "pandas")):
        item = getattr(x, "item", None) or getattr(x, "to_pydatetime", None)
        if callable(item):
            try:
                return from_python(item())
            except (TypeError, ValueError):
                return None
        tolist = getattr(x, "tolist", None)
        if callable(tolist):
            return from_python(tolist())
        return None
    if isinstance(x, numbers.Integral):
        return Decimal(int(x))
    if isinstance(x, numbers.Real):
        return from_python(float(x))
    return None


def to_json(x: Any) -> Any:
    """A FEEL value as JSON-able Python: numbers as int (integral) or the nearest float,
    temporal values and ranges as FEEL/ISO 8601 strings, functions as their description."""
    if x is None or isinstance(x, (bool, str)):
        return x
    if isinstance(x, Decimal):
        if x == x.to_integral_value() and x.adjusted() < _INT_DIGITS:
            return int(x)
        # JSON numbers for JSON clients: the nearest float (exact up to 15-17 significant digits),
        # or the decimal's text where no float comes near (beyond about 1.8E+308).
        as_float = float(x)
        return as_float if math.isfinite(as_float) else format_number(x)
    if isinstance(x, list):
        return [to_json(v) for v in x]
    if isinstance(x, dict):
        return {k: to_json(v) for k, v in x.items()}
    return to_string(x)


def format_number(d: Decimal) -> str:
    """Plain decimal notation without exponent and without trailing fractional zeros.

    A number no FEEL value can be (see `number_beyond_range`) keeps its exponent, so that
    formatting never spells out more digits than a FEEL number has."""
    if number_beyond_range(d):
        return str(d)
    if d == d.to_integral_value():
        return str(d.quantize(Decimal(1), context=DECIMAL_CONTEXT)) if d.adjusted() < 34 else f"{d:f}"
    s = f"{d.normalize(DECIMAL_CONTEXT):f}"
    return s


def format_time(t: dt.time, extra_nanos: int | None = None) -> str:
    base = f"{t.hour:02d}:{t.minute:02d}:{t.second:02d}"
    fraction = t.microsecond * 1000 + (nanos(t) if extra_nanos is None else extra_nanos)
    if fraction:
        base += f".{fraction:09d}".rstrip("0")
    return base + _zone_suffix(t.tzinfo, None)


def format_date(d: dt.date) -> str:
    # ISO 8601 expanded years: a sign, then at least four digits (`-0001-01-01`).
    year = f"-{-d.year:04d}" if d.year < 0 else f"{d.year:04d}"
    return f"{year}-{d.month:02d}-{d.day:02d}"


def format_date_and_time(d: dt.datetime) -> str:
    return format_date(d) + "T" + format_time(d.time(), nanos(d)) + _zone_suffix(d.tzinfo, d)


def _zone_suffix(tz: dt.tzinfo | None, when: dt.datetime | None) -> str:
    if tz is None:
        return ""
    key = getattr(tz, "key", None)
    if key:
        return f"@{key}"
    offset = tz.utcoffset(when)
    if offset is None:
        return ""
    if not offset:
        return "Z"
    total = int(offset.total_seconds())
    sign = "-" if total < 0 else "+"
    hours, rest = divmod(abs(total), 3600)
    minutes, seconds = divmod(rest, 60)
    suffix = f"{sign}{hours:02d}:{minutes:02d}"
    return suffix + (f":{seconds:02d}" if seconds else "")


def to_string(x: Any) -> str:
    """FEEL `string(x)` for any value (null -> "null")."""
    if x is None:
        return "null"
    if isinstance(x, bool):
        return "true" if x else "false"
    if isinstance(x, str):
        return x
    if isinstance(x, Decimal):
        return format_number(x)
    if isinstance(x, dt.datetime):
        return format_date_and_time(x)
    if isinstance(x, dt.date):
        return format_date(x)
    if isinstance(x, dt.time):
        return format_time(x)
    if isinstance(x, list):
        return "[" + ", ".join(_quoted(v) for v in x) + "]"
    if isinstance(x, dict):
        return "{" + ", ".join(f"{k}: {_quoted(v)}" for k, v in x.items()) + "}"
    return str(x)


def _quoted(x: Any) -> str:
    return f'"{x}"' if isinstance(x, str) else to_string(x)


# --- type names, equality and ordering -----------------------------------------------------------


def type_name(x: Any) -> str:
    if x is None:
        return "Null"
    if isinstance(x, bool):
        return "boolean"
    if isinstance(x, Decimal):
        return "number"
    if isinstance(x, str):
        return "string"
    if isinstance(x, dt.datetime):
        return "date and time"
    if isinstance(x, dt.date):
        return "date"
    if isinstance(x, dt.time):
        return "time"
    if isinstance(x, DayTimeDuration):
        return "days and time duration"
    if isinstance(x, YearMonthDuration):
        return "years and months duration"
    if isinstance(x, list):
        return "list"
    if isinstance(x, dict):
        return "context"
    if isinstance(x, Range):
        return "range"
    if isinstance(x, FeelFunction):
        return "function"
    return type(x).__name__


def _kind(x: Any) -> type:
    """The equivalence class of a value for comparisons: datetime and date are distinct kinds."""
    t = type(x)
    if t is bool or t is Decimal or t is str or t is list or t is dict:
        return t
    if isinstance(x, dt.datetime):
        return dt.datetime
    if isinstance(x, dt.date):
        return dt.date
    if isinstance(x, dt.time):
        return dt.time
    return t


def feel_equal(a: Any, b: Any) -> bool | None:
    """FEEL `a = b`: null equals only null; values of different types give None (null)."""
    if a is None or b is None:
        return a is None and b is None
    ka, kb = _kind(a), _kind(b)
    if ka is not kb:
        if isinstance(a, FeelFunction) and isinstance(b, FeelFunction):
            return a is b
        return None
    if ka is list:
        if len(a) != len(b):
            return False
        result: bool | None = True
        for x, y in zip(a, b, strict=True):
            e = feel_equal(x, y)
            if e is False:
                return False
            if e is None:
                result = None
        return result
    if ka is dict:
        if a.keys() != b.keys():
            return False
        result = True
        for k, v in a.items():
            e = feel_equal(v, b[k])
            if e is False:
                return False
            if e is None:
                result = None
        return result
    if ka is Range:
        return (a.start_included == b.start_included and a.end_included == b.end_included
                and feel_equal(a.start, b.start) is True and feel_equal(a.end, b.end) is True)
    if ka is dt.time:
        c = _compare_times(a, b)
        return None if c is None else c == 0
    if ka is dt.datetime:
        if (a.utcoffset() is None) != (b.utcoffset() is None):
            return None
        if _in_named_zone(a) or _in_named_zone(b):
            return far_dates.instant(a) == far_dates.instant(b) and nanos(a) == nanos(b)
        try:
            return bool(a == b) and nanos(a) == nanos(b)
        except TypeError:
            return None
    if isinstance(a, FeelFunction):
        return a is b
    try:
        return bool(a == b)
    except (TypeError, InvalidOperation):
        return None


_ORDERED: tuple[type, ...] = (Decimal, str, dt.date, dt.datetime, dt.time, DayTimeDuration, YearMonthDuration)


def feel_compare(a: Any, b: Any) -> int | None:
    """-1, 0 or 1 when `a` and `b` are ordered FEEL values of the same kind, else None."""
    ka = _kind(a)
    if ka is not _kind(b) or ka not in _ORDERED:
        return None
    if ka is dt.time:
        return _compare_times(a, b)
    if ka is dt.datetime:
        if (a.utcoffset() is None) != (b.utcoffset() is None):
            return None
        if _in_named_zone(a) or _in_named_zone(b):
            x, y = (far_dates.instant(a)[0], nanos(a)), (far_dates.instant(b)[0], nanos(b))
            return (x > y) - (x < y)
        if a == b:
            return (nanos(a) > nanos(b)) - (nanos(a) < nanos(b))
    try:
        return -1 if a < b else (1 if a > b else 0)
    except (TypeError, InvalidOperation):
        return None


def _in_named_zone(d: dt.datetime) -> bool:
    # Python compares two date-times sharing one tzinfo by wall clock, ignoring the offset:
    # wrong for an IANA zone around a daylight-saving change.
    return hasattr(d.tzinfo, "key")


def time_offset(t: dt.time) -> dt.timedelta | None:
    """The UTC offset of a time; for an IANA zone (no date to tell), its offset on 1 January 1970."""
    if t.tzinfo is None:
        return None
    if hasattr(t.tzinfo, "key"):
        return t.tzinfo.utcoffset(dt.datetime(1970, 1, 1, t.hour, t.minute))
    return t.utcoffset()


def _compare_times(a: dt.time, b: dt.time) -> int | None:
    oa, ob = time_offset(a), time_offset(b)
    if (oa is None) != (ob is None):
        return None
    x = ((a.hour * 3600 + a.minute * 60 + a.second) * 1_000_000 + a.microsecond) * 1000 + nanos(a)
    y = ((b.hour * 3600 + b.minute * 60 + b.second) * 1_000_000 + b.microsecond) * 1000 + nanos(b)
    if oa is not None and ob is not None:
        x -= ((oa.days * 86400 + oa.seconds) * 1_000_000 + oa.microseconds) * 1000
        y -= ((ob.days * 86400 + ob.seconds) * 1_000_000 + ob.microseconds) * 1000
    return (x > y) - (x < y)


def is_number(x: Any) -> bool:
    return type(x) is Decimal
