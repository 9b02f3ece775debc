"""Runtime values: conversions from Python and to JSON, equality, ordering, durations, ranges, Env."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from decisions.feel import Env, far_dates, temporal, values
from decisions.feel.values import DayTimeDuration, Range, YearMonthDuration

D = Decimal


@pytest.mark.parametrize(("python", "feel"), [
    (None, None),
    (True, True),
    (1, D(1)),
    (0.1, D("0.1")),
    (1e20, D("1E+20")),
    (float("nan"), None),
    (float("inf"), None),
    (D("1.50"), D("1.50")),
    ("x", "x"),
    ((1, 2), [D(1), D(2)]),
    ({"a": [1]}, {"a": [D(1)]}),
    ({1: "a"}, {"1": "a"}),
    (dt.timedelta(hours=1, microseconds=5), DayTimeDuration(D("3600.000005"))),
    (dt.date(2020, 1, 1), dt.date(2020, 1, 1)),
    (object(), None),
])
def test_from_python(python: Any, feel: Any) -> None:
    converted = values.from_python(python)
    assert converted == feel
    assert type(converted) is type(feel)


def test_from_python_numpy_scalars() -> None:
    np = pytest.importorskip("numpy")
    assert values.from_python(np.int64(5)) == D(5)
    assert values.from_python(np.float64(0.25)) == D("0.25")
    assert values.from_python(np.bool_(True)) is True


@pytest.mark.parametrize(("feel", "json"), [
    (D(5), 5),
    (D("5.0"), 5),
    (D("0.25"), 0.25),
    (values.DECIMAL_CONTEXT.divide(D(1), D(3)), 0.3333333333333333),  # nearest float for JSON clients
    ([D(1), None], [1, None]),
    ({"a": True}, {"a": True}),
    (dt.date(2020, 1, 2), "2020-01-02"),
    (dt.time(10, 0, 0, 500000), "10:00:00.5"),
    (dt.datetime(2020, 1, 2, 3, 4, 5, tzinfo=dt.UTC), "2020-01-02T03:04:05Z"),
    (dt.datetime(2020, 1, 2, 3, 4, 5, tzinfo=ZoneInfo("Europe/Paris")), "2020-01-02T03:04:05@Europe/Paris"),
    (dt.datetime(2020, 1, 2, tzinfo=dt.timezone(-dt.timedelta(hours=5, minutes=30))), "2020-01-02T00:00:00-05:30"),
    (DayTimeDuration(D("90061.5")), "P1DT1H1M1.5S"),
    (DayTimeDuration(D(-60)), "-PT1M"),
    (YearMonthDuration(0), "P0M"),
    (YearMonthDuration(25), "P2Y1M"),
    (Range(D(1), D(10), True, False), "[1..10)"),
    (Range(None, D(10), False, True), "<= 10"),
])
def test_to_json(feel: Any, json: Any) -> None:
    assert values.to_json(feel) == json


@pytest.mark.parametrize(("a", "b", "expected"), [
    (None, None, True),
    (None, D(0), False),
    (D(1), D("1.00"), True),
    (True, D(1), None),  # bool is not a number even though Python says True == 1
    ("a", "a", True),
    (dt.date(2020, 1, 1), dt.datetime(2020, 1, 1), None),
    ([D(1), None], [D(1), None], True),
    ([D(1)], [D(1), D(2)], False),
    ({"a": D(1)}, {"a": D(1)}, True),
    ({"a": D(1)}, {"b": D(1)}, False),
    (YearMonthDuration(12), YearMonthDuration(12), True),
    (YearMonthDuration(0), DayTimeDuration(D(0)), None),
])
def test_feel_equal(a: Any, b: Any, expected: bool | None) -> None:
    assert values.feel_equal(a, b) is expected


@pytest.mark.parametrize(("a", "b", "expected"), [
    (D(1), D(2), -1),
    ("b", "a", 1),
    (dt.date(2020, 1, 1), dt.date(2020, 1, 1), 0),
    (D(1), "1", None),
    (True, False, None),
    (None, None, None),
    (dt.datetime(2020, 1, 1), dt.datetime(2020, 1, 1, tzinfo=dt.UTC), None),
    (DayTimeDuration(D(1)), DayTimeDuration(D(2)), -1),
    ([D(1)], [D(2)], None),
])
def test_feel_compare(a: Any, b: Any, expected: int | None) -> None:
    assert values.feel_compare(a, b) == expected


def test_range_contains() -> None:
    r = Range(D(1), D(10), True, False)
    assert r.contains(D(1)) is True
    assert r.contains(D(10)) is False
    assert r.contains("x") is None
    assert r.contains(None) is None
    assert Range(None, D(10), False, False).contains(D(-1000)) is True


def test_duration_parts() -> None:
    d = DayTimeDuration(D("-93784.5"))
    assert (d.days, d.hours, d.minutes, d.second_part) == (-1, -2, -3, D("-4.5"))
    assert DayTimeDuration.of(days=1, seconds=D("0.25")).to_timedelta() == dt.timedelta(days=1, microseconds=250000)
    assert (YearMonthDuration(-14).years, YearMonthDuration(-14).month_part) == (-1, -2)


@pytest.mark.parametrize(("text", "expected"), [
    ("2020-02-29", dt.date(2020, 2, 29)),
    ("2019-02-29", None),
    ("20-01-01", None),
    ("-2020-01-01", far_dates.make_date(-2020, 1, 1)),
    ("1000000000-01-01", None),
])
def test_parse_date(text: str, expected: Any) -> None:
    assert temporal.parse_date(text) == expected


def test_parse_times_and_zones() -> None:
    assert temporal.parse_time("23:59:60") is None
    assert temporal.parse_time("10:00:00@Mars/Olympus") is None
    t = temporal.parse_time("10:00:00@Europe/Paris")
    assert t is not None and t.tzinfo == ZoneInfo("Europe/Paris")
    assert temporal.parse_date_and_time("2020-01-01T24:00:00") == dt.datetime(2020, 1, 2)
    assert temporal.parse_duration("P1Y2D") is None


def test_env_children_share_problems_not_bindings() -> None:
    parent = Env({"a": 1})
    child = parent.child({"b": 2})
    child.report("boom", "x", 0)
    assert parent.problems == child.problems and len(parent.problems) == 1
    assert "b" not in parent.vars and child.vars == {"a": 1, "b": 2}
    assert parent.bind("c", 3).vars == {"a": 1, "c": 3}


def test_far_dates_behave_like_dates() -> None:
    far = far_dates.make_date(-2017, 12, 31)
    assert far is not None and isinstance(far, dt.date)
    near = dt.date(2017, 12, 31)
    assert far < near and near > far and far != near
    assert far.year == -2017 and (far.month, far.day) == (12, 31)
    assert far + dt.timedelta(days=1) == far_dates.make_date(-2016, 1, 1)
    assert (near - far).days == 1473389 and (far - near).days == -1473389
    assert far.isoweekday() == dt.date(1983, 12, 31).isoweekday()  # the calendar repeats every 400 years
    assert hash(far) == hash(far_dates.make_date(-2017, 12, 31))
    assert far_dates.make_date(-2017, 2, 29) is None
    assert values.to_string(far) == "-2017-12-31"
    moment = far_dates.make_datetime(far, 23, 0, tzinfo=dt.UTC)
    assert values.to_string(moment + dt.timedelta(hours=2)) == "-2016-01-01T01:00:00Z"
    assert values.feel_compare(moment, far_dates.make_datetime(near, tzinfo=dt.UTC)) == -1
