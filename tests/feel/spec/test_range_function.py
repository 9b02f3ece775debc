"""DMN 1.5 ranges: range literals of every ordered type (10.3.2.7), `in` (10.3.2.12), range
equality and properties, the `range(from)` function (10.3.4.?) and the range built-ins of
10.3.4.9 (before ... coincides) with points and ranges and every endpoint combination."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from decisions.feel import values
from decisions.feel.values import Range
from tests.feel.helpers import ev, run, same


def _null_with_problem(expression: str) -> None:
    value, problems = run(expression)
    assert value is None, f"{expression!r} gave {value!r}"
    assert problems, f"{expression!r} gave null without saying why"


# --- range literals of every type -------------------------------------------------------------

@pytest.mark.parametrize(("expression", "inside", "outside"), [
    ("[1..10]", "10", "10.000001"),
    ('["a".."m"]', '"lemon"', '"melon"'),
    ('[date("2020-01-01")..date("2020-12-31")]', '@"2020-12-31"', '@"2021-01-01"'),
    ('[@"08:00:00"..@"17:00:00")', 'time("16:59:59.999")', 'time("17:00:00")'),
    ('(@"2020-01-01T00:00:00Z"..@"2020-01-02T00:00:00Z"]', '@"2020-01-01T23:00:00-01:00"',
     '@"2020-01-01T01:00:00+01:00"'),
    ('[duration("P1D")..duration("P2D")]', 'duration("PT36H")', 'duration("PT49H")'),
    ('[duration("P1Y")..duration("P2Y")]', 'duration("P18M")', 'duration("P25M")'),
])
def test_ranges_of_every_ordered_type(expression: str, inside: str, outside: str) -> None:
    assert ev(f"{inside} in {expression}") is True
    assert ev(f"{outside} in {expression}") is False


@pytest.mark.parametrize(("expression", "expected"), [
    ("5 in (5..10]", False),
    ("5 in [5..10]", True),
    ("10 in [5..10)", False),
    ("10 in [5..10[", False),  # ISO notation for an open end
    ("5 in ]5..10]", False),
    ("6 in ]5..10[", True),
    ("5 in < 10", True),
    ("10 in < 10", False),
    ("10 in <= 10", True),
    ("10 in > 10", False),
    ("10 in >= 10", True),
    ('"b" in > "a"', True),
    ('@"2020-01-01" in < @"2020-06-01"', True),
    ("5 in ([1..3], [5..7])", True),  # a list of tests: any
    ("5 in [1..3]", False),
])
def test_in_with_ranges(expression: str, expected: bool) -> None:
    assert ev(expression) is expected


@pytest.mark.parametrize("expression", [
    '5 in ["a".."z"]',  # the point is not comparable with the endpoints
    'date and time("2020-01-01T00:00:00") in [@"2020-01-01"..@"2020-12-31"]',
    "null in [1..10]",
])
def test_in_a_range_of_another_type_is_null(expression: str) -> None:
    assert ev(expression) is None


@pytest.mark.parametrize("expression", [
    "[10..1]",  # 10.3.2.7: the endpoints must be ordered, start <= end
    '["z".."a"]',
    "5 in [10..1]",
    "5 in (10..1)",
    '[1.."a"]',
    '[1..@"2020-01-01"]',
    '[@"2020-01-01"..@"2020-01-01T00:00:00"]',  # date and date and time are distinct types
    '[duration("P1D")..duration("P1Y")]',  # so are the two kinds of duration
    '[@"10:00:00"..@"10:00:00Z"]',  # a local and a zoned time are not comparable
])
def test_endpoints_of_mismatched_types_or_out_of_order_give_null(expression: str) -> None:
    _null_with_problem(expression)


# --- equality and properties ----------------------------------------------------------------------

@pytest.mark.parametrize(("expression", "expected"), [
    ("[1..10] = [1..10]", True),
    ("[1..10] = [1..10.0]", True),
    ("[1..10] = (1..10]", False),
    ("[1..10] = [1..10)", False),
    ("[1..10] = [1..11]", False),
    ("(1..10) = ]1..10[", True),
    ("(< 10) = (< 10)", True),
    ("(< 10) = (<= 10)", False),
    ("(> 10) = (< 10)", False),
    ('[@"2020-01-01"..@"2020-01-02"] = [date("2020-01-01")..date("2020-01-02")]', True),
    ("[1..10] != [1..10)", True),
])
def test_range_equality(expression: str, expected: bool) -> None:
    assert ev(expression) is expected


@pytest.mark.parametrize(("expression", "expected"), [
    ("[1..10].start", 1),
    ("[1..10].end", 10),
    ("[1..10].start included", True),
    ("(1..10].start included", False),
    ("[1..10).end included", False),
    ("]1..10].start included", False),
    ("(< 10).start", None),
    ("(< 10).start included", False),
    ("(< 10).end", 10),
    ("(<= 10).end included", True),
    ("(> 10).end", None),
    ("(> 10).start", 10),
    ("(>= 10).start included", True),
    ("(= 10).start", 10),
    ("(= 10).end included", True),
    ('[@"2020-01-01"..@"2020-12-31"].end.month', 12),
])
def test_range_properties(expression: str, expected: object) -> None:
    assert same(ev(expression), expected)


# --- range(from) ------------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "expected"), [
    ("[18..21)", Range(Decimal(18), Decimal(21), True, False)),
    ("]18..21[", Range(Decimal(18), Decimal(21), False, False)),
    ("(-1..1)", Range(Decimal(-1), Decimal(1), False, False)),
    ("[1.5..2.5]", Range(Decimal("1.5"), Decimal("2.5"), True, True)),
    ('["a".."z"]', Range("a", "z", True, True)),
    ("[-2.5..-1]", Range(Decimal("-2.5"), Decimal(-1), True, True)),
    ("[1..1]", Range(Decimal(1), Decimal(1), True, True)),
    ('["a..b".."z"]', Range("a..b", "z", True, True)),  # `..` inside a string is no separator
    (" [1..2] ", Range(Decimal(1), Decimal(2), True, True)),
    # rule 66 b and c: an endpoint left out, on an open side, is unbounded
    ("(..10]", Range(None, Decimal(10), False, True)),
    ("]..10)", Range(None, Decimal(10), False, False)),
    ("[10..)", Range(Decimal(10), None, True, False)),
    ("(10..[", Range(Decimal(10), None, False, False)),
])
def test_range_function_reads_a_range_literal(text: str, expected: Range) -> None:
    value, problems = run("range(from)", {"from": text})
    assert not problems
    assert values.feel_equal(value, expected) is True


@pytest.mark.parametrize(("text", "start", "end"), [
    ('[date("2020-01-01")..date("2020-12-31")]', "2020-01-01", "2020-12-31"),
    ('[@"2020-01-01"..@"2020-12-31"]', "2020-01-01", "2020-12-31"),
    ('[time("08:00:00")..time("17:00:00")]', "08:00:00", "17:00:00"),
    ('[date and time("2020-01-01T00:00:00")..date and time("2020-01-02T00:00:00")]',
     "2020-01-01T00:00:00", "2020-01-02T00:00:00"),
    ('[duration("P1D")..duration("P2D")]', "P1D", "P2D"),
    ('[duration("P1Y")..years and months duration(@"2020-01-01", @"2022-01-01")]', None, None),
])
def test_range_function_reads_temporal_endpoints(text: str, start: str | None, end: str | None) -> None:
    value, _ = run("range(from)", {"from": text})
    if start is None:
        # only string literals may be given to a conversion function inside a range text
        assert value is None
        return
    assert isinstance(value, Range)
    assert (values.to_string(value.start), values.to_string(value.end)) == (start, end)


@pytest.mark.parametrize("text", [
    "[1+1..10]",  # endpoints must be literals, not expressions
    "[x..10]",
    "[1..abs(-10)]",
    "[1..\"a\"]",  # mismatched endpoint types
    '[date("2020-01-01")..time("10:00:00")]',
    '[date("2020-02-30")..date("2020-03-01")]',  # an endpoint that is no date
    "1..10",  # no brackets
    "[1..10",
    "[1..10] + 1",
    "hello",
    "",
    "!= 10",
    "[null..10]",  # null is no range endpoint
    "[1..null]",
    "[true..false]",
    "[3..1]",  # the endpoints must be in order
    '["b".."a"]',
    "< 10",  # a unary comparison is not a range literal (rule 66)
    ">= 10",
    "[..10]",  # a missing endpoint must be on an open side
    "[1..]",
    "(..)",
    "[1...2]",
])
def test_range_function_refuses_what_is_no_range_literal(text: str) -> None:
    value, problems = run("range(from)", {"from": text})
    assert value is None and problems


def test_range_function_needs_a_string() -> None:
    _null_with_problem("range(10)")
    _null_with_problem("range(null)")


def test_unbounded_range_function_results_equal_unary_comparisons() -> None:
    assert ev('range("(..10]") = (<= 10)') is True
    assert ev('range("[10..)") = (>= 10)') is True
    assert ev('range("(..10)") = (<= 10)') is False
    assert ev('range("(..10]").start') is None
    assert ev('5 in range("(..10]")') is True
    assert ev('includes(range("[10..)"), 1000000)') is True


def test_range_function_results_work_with_in_and_the_range_builtins() -> None:
    assert ev('5 in range("[1..10)")') is True
    assert ev('10 in range("[1..10)")') is False
    assert ev('includes(range("[1..10]"), [2..3])') is True
    assert ev('range("[1..10)") = [1..10)') is True


# --- the range built-ins (10.3.4.9) -------------------------------------------------------------------
# Each row: the call and the value the specification's definition gives.

POINT_AND_RANGE_CASES = [
    # before(point1, point2): point1 < point2
    ("before(1, 10)", True), ("before(10, 1)", False), ("before(1, 1)", False),
    # before(point, range): point < range.start or (point = range.start and not range.start included)
    ("before(1, [2..5])", True), ("before(1, [1..5])", False), ("before(1, (1..5])", True),
    ("before(6, [1..5])", False), ("before(1, > 1)", True), ("before(1, < 5)", False),
    # before(range, point): range.end < point or (range.end = point and not range.end included)
    ("before([1..5], 10)", True), ("before([1..5], 5)", False), ("before([1..5), 5)", True),
    ("before(< 5, 5)", True), ("before(> 5, 100)", False),
    # before(range1, range2)
    ("before([1..5], [6..8])", True), ("before([1..5], [5..8])", False),
    ("before([1..5), [5..8])", True), ("before([1..5], (5..8])", True), ("before([1..5), (5..8])", True),
    ("before([1..10], [2..8])", False), ("before(< 10, > 20)", True), ("before(< 10, < 20)", False),
    # after: the mirror image
    ("after(10, 1)", True), ("after(1, 10)", False),
    ("after(12, [2..5])", True), ("after(5, [2..5])", False), ("after(5, [2..5))", True),
    ("after([5..10], 4)", True), ("after([5..10], 5)", False), ("after((5..10], 5)", True),
    ("after([6..8], [1..5])", True), ("after([5..8], [1..5])", False), ("after((5..8], [1..5])", True),
    ("after([5..8], [1..5))", True), ("after(> 20, < 10)", True),
    # meets / met by: end included, start included and equal
    ("meets([1..5], [5..10])", True), ("meets([1..5), [5..10])", False), ("meets([1..5], (5..10])", False),
    ("meets([1..5], [6..10])", False), ("meets(< 5, [5..10])", False), ("meets(<= 5, [5..10])", True),
    ("met by([5..10], [1..5])", True), ("met by([5..10], [1..5))", False), ("met by((5..10], [1..5])", False),
    ("met by([6..10], [1..5])", False),
    # overlaps
    ("overlaps([1..5], [3..8])", True), ("overlaps([3..8], [1..5])", True), ("overlaps([1..8], [3..5])", True),
    ("overlaps([3..5], [1..8])", True), ("overlaps([1..5], [6..8])", False), ("overlaps([6..8], [1..5])", False),
    ("overlaps([1..5], [5..8])", True), ("overlaps([1..5), [5..8])", False), ("overlaps([1..5], (5..8])", False),
    ("overlaps([5..8], [1..5])", True), ("overlaps((5..8], [1..5])", False), ("overlaps(< 10, > 5)", True),
    ("overlaps(< 5, > 5)", False), ("overlaps(<= 5, >= 5)", True),
    # overlaps before / after
    ("overlaps before([1..5], [3..8])", True), ("overlaps before([1..5], [6..8])", False),
    ("overlaps before([1..5], [5..8])", True), ("overlaps before([1..5), [5..8])", False),
    ("overlaps before([1..5), [1..5])", False), ("overlaps before([1..5], (1..5])", True),
    ("overlaps before([1..5], (1..5))", False), ("overlaps before([1..5], [1..5])", False),
    ("overlaps before((1..5], [1..5])", False), ("overlaps before([1..8], [3..5])", False),
    ("overlaps after([3..8], [1..5])", True), ("overlaps after([6..8], [1..5])", False),
    ("overlaps after([5..8], [1..5])", True), ("overlaps after((5..8], [1..5])", False),
    ("overlaps after([1..5], [1..5))", False), ("overlaps after((1..5], [1..5])", True),
    ("overlaps after((1..5], (1..5))", False), ("overlaps after((1..5], [1..5))", True), ("overlaps after([1..5], [1..5])", False),
    # finishes / finished by
    ("finishes(10, [1..10])", True), ("finishes(10, [1..10))", False), ("finishes(9, [1..10])", False),
    ("finishes([5..10], [1..10])", True), ("finishes([5..10), [1..10))", True),
    ("finishes([5..10), [1..10])", False), ("finishes([1..10], [1..10])", True),
    ("finishes((1..10], [1..10])", True), ("finishes([1..10], (1..10])", False),
    ("finished by([1..10], 10)", True), ("finished by([1..10), 10)", False),
    ("finished by([1..10], [5..10])", True), ("finished by([1..10], [5..10))", False),
    ("finished by((1..10], [1..10])", False), ("finished by([1..10], (1..10])", True),
    # includes / during
    ("includes([1..10], 5)", True), ("includes([1..10], 1)", True), ("includes((1..10], 1)", False),
    ("includes([1..10], 10)", True), ("includes([1..10), 10)", False), ("includes([1..10], 11)", False),
    ("includes([1..10], [4..6])", True), ("includes([1..10], [1..10])", True),
    ("includes((1..10], [1..10])", False), ("includes([1..10), [4..10])", False),
    ("includes([1..10], (1..10))", True), ("includes(< 10, [1..5])", True), ("includes(< 10, > 5)", False),
    ("includes(< 10, 5)", True), ("includes(> 10, 5)", False),
    ("during(5, [1..10])", True), ("during(1, (1..10])", False), ("during(10, [1..10])", True),
    ("during([4..6], [1..10])", True), ("during([1..10], (1..10])", False), ("during((1..10), [1..10])", True),
    ("during([0..6], [1..10])", False),
    # starts / started by
    ("starts(1, [1..10])", True), ("starts(1, (1..10])", False), ("starts(2, [1..10])", False),
    ("starts([1..5], [1..10])", True), ("starts((1..5], (1..10])", True), ("starts((1..5], [1..10])", False),
    ("starts([1..5], (1..10])", False), ("starts([1..10], [1..10])", True), ("starts([1..10], [1..10))", False),
    ("starts([1..10), [1..10])", True),
    ("started by([1..10], 1)", True), ("started by((1..10], 1)", False),
    ("started by([1..10], [1..5])", True), ("started by([1..10], (1..5])", False),
    ("started by([1..10), [1..10])", False), ("started by([1..10], [1..10))", True),
    # coincides
    ("coincides(5, 5)", True), ("coincides(3, 4)", False),
    ("coincides([1..5], [1..5])", True), ("coincides([1..5], (1..5])", False), ("coincides([1..5], [1..5))", False),
    ("coincides([1..5], [2..5])", False), ("coincides(< 5, < 5)", True), ("coincides(< 5, <= 5)", False),
]


@pytest.mark.parametrize(("expression", "expected"), POINT_AND_RANGE_CASES)
def test_range_builtins(expression: str, expected: bool) -> None:
    value, problems = run(expression)
    assert not problems, problems
    assert value is expected, expression


@pytest.mark.parametrize(("expression", "expected"), [
    # the same definitions on strings, dates, times, date-times and durations
    ('before("a", "b")', True),
    ('includes(["a".."f"], "c")', True),
    ('meets([@"2020-01-01"..@"2020-01-31"], [@"2020-01-31"..@"2020-02-29"])', True),
    ('during(@"2020-06-15", [@"2020-01-01"..@"2020-12-31"])', True),
    ('after(@"12:00:00", [@"08:00:00"..@"12:00:00"))', True),
    ('overlaps([@"2020-01-01T10:00:00Z"..@"2020-01-01T12:00:00Z"], '
     '[@"2020-01-01T12:00:00+01:00"..@"2020-01-01T14:00:00+01:00"])', True),  # 11:00Z..13:00Z
    ('starts(duration("P1D"), [duration("P1D")..duration("P2D")])', True),
    ('finishes(duration("P1Y"), [duration("P1M")..duration("P12M")])', True),
    ('coincides(@"2020-01-01T10:00:00@Europe/Paris", @"2020-01-01T09:00:00Z")', True),
])
def test_range_builtins_on_every_ordered_type(expression: str, expected: bool) -> None:
    assert ev(expression) is expected


@pytest.mark.parametrize(("expression", "expected"), [
    ("before(point1: 1, point2: 10)", True),
    ("before(range1: [1..5], range2: [6..8])", True),
    ("after(range1: [6..8], range2: [1..5])", True),
    ("meets(range1: [1..5], range2: [5..8])", True),
    ("includes(range: [1..5], point: 3)", True),
    ("during(point: 3, range: [1..5])", True),
    ("starts(point: 1, range: [1..5])", True),
    ("finished by(range: [1..5], point: 5)", True),
    ("coincides(point1: 1, point2: 1)", True),
    # before(point, range) and before(range, point) share their names: the order written decides
    ("before(point: 1, range: [2..5])", True),
    ("before(range: [2..5], point: 1)", False),
    ("before(range: [2..5], point: 6)", True),
    ("after(point: 6, range: [2..5])", True),
    ("after(range: [2..5], point: 6)", False),
    ("after(range: [7..9], point: 6)", True),
])
def test_range_builtins_with_named_parameters(expression: str, expected: bool) -> None:
    assert ev(expression) is expected


@pytest.mark.parametrize("expression", [
    'before(1, "a")',  # points not comparable
    'before([1..5], ["a".."z"])',
    'includes([1..10], "5")',
    'during(@"2020-01-01", [1..10])',
    "meets([1..5], 5)",  # meets takes two ranges
    "coincides([1..5], 5)",
    "includes(5, [1..10])",  # includes(point, range) is not defined
    "before(null, 1)",
    "includes([1..10], null)",
])
def test_range_builtins_with_arguments_that_do_not_fit_give_null(expression: str) -> None:
    _null_with_problem(expression)


# --- every endpoint combination, against the ranges as sets of points ------------------------------
# With integer endpoints 0..3 (or none), the points -1, -0.75, ..., 4 tell every two ranges apart
# as sets (an open interval between integers holds three of them, so only a closed endpoint can be
# the single point two ranges share); each built-in is then a statement about those sets.

_GRID = [Decimal(k) / 4 for k in range(-4, 17)]


def _ranges() -> list[Range]:
    found = []
    for s in range(4):
        for e in range(s, 4):
            for si in (True, False):
                for ei in (True, False):
                    if s == e and not (si and ei):
                        continue  # empty: no range
                    found.append(Range(Decimal(s), Decimal(e), si, ei))
    for k in range(4):
        for inc in (True, False):
            found.append(Range(None, Decimal(k), False, inc))
            found.append(Range(Decimal(k), None, inc, False))
    return found


def _points(r: Range) -> list[Decimal]:
    return [x for x in _GRID if r.contains(x)]


def _set_relation(name: str, a: list[Decimal], b: list[Decimal]) -> bool:
    sa, sb = set(a), set(b)
    if name == "before":
        return max(a) < min(b)
    if name == "after":
        return min(a) > max(b)
    if name == "meets":
        return max(a) == min(b) and len(sa & sb) == 1
    if name == "met by":
        return min(a) == max(b) and len(sa & sb) == 1
    if name == "overlaps":
        return bool(sa & sb)
    if name == "overlaps before":
        return min(a) < min(b) and bool(sa & sb) and max(a) <= max(b)
    if name == "overlaps after":
        return min(b) < min(a) and bool(sa & sb) and max(b) <= max(a)
    if name == "includes":
        return sb <= sa
    if name == "during":
        return sa <= sb
    if name == "starts":
        return sa <= sb and min(a) == min(b)
    if name == "started by":
        return sb <= sa and min(a) == min(b)
    if name == "finishes":
        return sa <= sb and max(a) == max(b)
    if name == "finished by":
        return sb <= sa and max(a) == max(b)
    assert name == "coincides"
    return sa == sb


@pytest.mark.parametrize("name", ["before", "after", "meets", "met by", "overlaps", "overlaps before",
                                  "overlaps after", "includes", "during", "starts", "started by", "finishes",
                                  "finished by", "coincides"])
def test_range_builtins_agree_with_the_ranges_as_sets(name: str) -> None:
    from decisions.feel import Env, Scope, compile_expression

    call = compile_expression(f"{name}(a, b)", Scope(["a", "b"])).fn
    ranges = _ranges()
    wrong = []
    for a in ranges:
        for b in ranges:
            got = call(Env({"a": a, "b": b}))
            expected = _set_relation(name, _points(a), _points(b))
            if got is not expected:
                wrong.append(f"{name}({a}, {b}) = {got}, the sets say {expected}")
    assert not wrong, wrong[:10]


# a point starts or finishes a range when it is its (included) endpoint: an integer here
@pytest.mark.parametrize(("call_text", "relation"), [
    ("before(p, r)", lambda p, pts: all(p < x for x in pts)),
    ("before(r, p)", lambda p, pts: all(x < p for x in pts)),
    ("after(p, r)", lambda p, pts: all(p > x for x in pts)),
    ("after(r, p)", lambda p, pts: all(x > p for x in pts)),
    ("includes(r, p)", lambda p, pts: p in pts),
    ("during(p, r)", lambda p, pts: p in pts),
    ("starts(p, r)", lambda p, pts: p == int(p) and p in pts and p == min(pts)),
    ("started by(r, p)", lambda p, pts: p == int(p) and p in pts and p == min(pts)),
    ("finishes(p, r)", lambda p, pts: p == int(p) and p in pts and p == max(pts)),
    ("finished by(r, p)", lambda p, pts: p == int(p) and p in pts and p == max(pts)),
])
def test_point_and_range_builtins_agree_with_the_range_as_a_set(call_text: str, relation: Any) -> None:
    from decisions.feel import Env, Scope, compile_expression

    call = compile_expression(call_text, Scope(["p", "r"])).fn
    wrong = []
    for r in _ranges():
        points = _points(r)
        for p in _GRID[4:-4]:  # points within the endpoints' span
            got = call(Env({"p": p, "r": r}))
            if got is not relation(p, points):
                wrong.append(f"{call_text} with p = {p}, r = {r}: {got}")
    assert not wrong, wrong[:10]
