"""DMN 1.5 filters (10.3.2.5), iterations `for`/`some`/`every` (10.3.2.14-15) and their boxed
forms (<filter>, <for>, <some>, <every>, <conditional> of chapter 8), which mean the same as
the FEEL text `in[match]`, `for v in in return ...`, `some v in in satisfies ...`."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from decisions import load
from decisions.dmn.namespaces import DMN_NAMESPACES
from tests.feel.helpers import ev, run, same

# --- FEEL filters ------------------------------------------------------------------------------------

FILTER_CASES: list[tuple[str, Any]] = [
    # a boolean filter keeps the items for which it is true
    ("[1, 2, 3][item > 1]", [2, 3]),
    ("[1, 2, 3][item > 1 and item < 3]", [2]),
    ("[1, 2, 3][true]", [1, 2, 3]),
    ("[1, 2, 3][false]", []),
    ("[][item > 1]", []),
    # null and any non-boolean result drop the item
    ("[1, null, 3][item > 1]", [3]),
    ("[1, 2, 3][null]", []),
    ('[1, 2, 3]["yes"]', []),
    ("[1, 2, 3][if item = 2 then true else null]", [2]),
    # a number is an index: 1-based, negative from the end, outside gives null
    ("[1, 2, 3][1]", 1),
    ("[1, 2, 3][3]", 3),
    ("[1, 2, 3][-1]", 3),
    ("[1, 2, 3][-3]", 1),
    ("[1, 2, 3][0]", None),
    ("[1, 2, 3][4]", None),
    ("[1, 2, 3][-4]", None),
    ("[1, 2, 3][1 + 1]", 2),
    ("[[1, 2], [3, 4]][2][1]", 3),
    # a single value is a list of one
    ("5[item > 3]", [5]),
    ("5[item > 9]", []),
    ("5[1]", 5),
    ("5[2]", None),
    ('"a"[item = "a"]', ["a"]),
    ("null[item > 1]", None),
    # contexts: `item` and the entries as names
    ("[{a: 1}, {a: 2}][a > 1]", [{"a": 2}]),
    ("[{a: 1}, {a: 2}][item.a > 1]", [{"a": 2}]),
    ('[{name: "x", age: 20}, {name: "y", age: 10}][age >= 18].name', ["x"]),
    ("[{item: 5, a: 1}, {item: 6, a: 2}][item > 5]", [{"item": 6, "a": 2}]),  # an entry named item wins
    ("[{a: 1}, {b: 2}][b = 2]", [{"b": 2}]),  # a missing entry is null: the item is dropped
    ("[{a: 1}, {a: 2}].a", [1, 2]),
]


@pytest.mark.parametrize(("expression", "expected"), FILTER_CASES)
def test_filter(expression: str, expected: Any) -> None:
    assert same(ev(expression), expected), f"{expression!r} gave {ev(expression)!r}"


def test_filter_with_a_fractional_index_is_null() -> None:
    value, problems = run("[1, 2, 3][1.5]")
    assert value is None and problems


def test_filter_comparison_errors_drop_items_not_the_list() -> None:
    value, problems = run('[1, 2, 3][item > "a"]')
    assert value == [] and problems


# --- FEEL iterations ---------------------------------------------------------------------------------

FOR_CASES: list[tuple[str, Any]] = [
    ("for i in [1, 2, 3] return i * 2", [2, 4, 6]),
    ("for i in [] return i", []),
    ("for i in 5 return i", [5]),  # a single value is a list of one
    # several iteration contexts: the cartesian product, the first varying slowest
    ("for i in [1, 2], j in [10, 20] return i + j", [11, 21, 12, 22]),
    ("for i in 1..3, j in i..3 return j", [1, 2, 3, 2, 3, 3]),
    # integer ranges as iteration domains, ascending and descending
    ("for i in 1..3 return i", [1, 2, 3]),
    ("for i in 3..1 return i", [3, 2, 1]),
    ("for i in -1..1 return i", [-1, 0, 1]),
    ("for i in 2..2 return i", [2]),
    ("for i in [1..3] return i", [1, 2, 3]),
    ("for i in (1..3] return i", [2, 3]),
    ("for i in [1..3) return i", [1, 2]),
    ("for x in 1..2 return for y in 1..2 return x * y", [[1, 2], [2, 4]]),
    # `partial`: the results so far
    ("for i in 0..4 return if i = 0 then 1 else i * partial[-1]", [1, 1, 2, 6, 24]),
    ("for i in 1..3 return count(partial)", [0, 1, 2]),
    ("for i in 1..3 return partial", [[], [[]], [[], [[]]]]),
]


@pytest.mark.parametrize(("expression", "expected"), FOR_CASES)
def test_for(expression: str, expected: Any) -> None:
    assert same(ev(expression), expected), f"{expression!r} gave {ev(expression)!r}"


def test_for_over_a_date_range_steps_one_day() -> None:
    value = ev('for d in @"2021-02-27"..@"2021-03-01" return string(d)')
    assert value == ["2021-02-27", "2021-02-28", "2021-03-01"]
    assert ev('for d in @"2021-01-03"..@"2021-01-01" return d.day') == [Decimal(3), Decimal(2), Decimal(1)]
    # a range value of dates, like one of integers, lists the days it includes
    assert ev('for d in [@"2021-01-30"..@"2021-02-01"] return d.day') == [Decimal(30), Decimal(31), Decimal(1)]
    assert ev('for d in (@"2021-01-30"..@"2021-02-01") return d.day') == [Decimal(31)]
    assert ev('for d in [@"2021-01-30"..@"2021-01-30") return d') == []


@pytest.mark.parametrize("expression", [
    "for i in null return i",
    "for i in 1.5..3 return i",  # range bounds must be integers
    'for i in 1.."a" return i',
    "for i in > 5 return i",  # an unbounded range has no items to list
    "for i in [3..1] return i",  # a range value must be ascending; only `3..1` counts down
])
def test_for_over_what_cannot_be_iterated_is_null(expression: str) -> None:
    value, problems = run(expression)
    assert value is None and problems


QUANTIFIED_CASES: list[tuple[str, Any]] = [
    ("some x in [1, 2, 3] satisfies x > 2", True),
    ("some x in [1, 2] satisfies x > 2", False),
    ("some x in [] satisfies x > 2", False),
    ("every x in [3, 4] satisfies x > 2", True),
    ("every x in [1, 4] satisfies x > 2", False),
    ("every x in [] satisfies x > 2", True),
    # null outcomes: one true (some) / one false (every) decides, as with `or` / `and`
    ("some x in [1, null, 3] satisfies x > 2", True),
    ("some x in [null, 1] satisfies x > 2", None),
    ("every x in [3, null] satisfies x > 2", None),
    ("every x in [1, null] satisfies x > 2", False),
    # several iteration contexts and ranges
    ("some x in [1, 2], y in [2, 3] satisfies x = y", True),
    ("every x in [1, 2], y in [2, 3] satisfies x < y", False),
    ("every x in [1, 2], y in [3, 4] satisfies x < y", True),
    ("some i in [1..10] satisfies i * i = 49", True),
    ("every i in (0..3] satisfies i > 0", True),
    ("some x in 5 satisfies x = 5", True),
]


@pytest.mark.parametrize(("expression", "expected"), QUANTIFIED_CASES)
def test_some_and_every(expression: str, expected: Any) -> None:
    assert ev(expression) is expected


def test_quantifiers_take_expressions_not_iteration_contexts() -> None:
    # grammar rules 47 and 48: only `for` has the `a..b` iteration context; a range value works
    from decisions.feel import FeelSyntaxError, compile_expression

    with pytest.raises(FeelSyntaxError):
        compile_expression("some i in 1..10 satisfies i > 5")


def test_satisfies_must_give_a_boolean() -> None:
    value, problems = run('some x in [1, 2] satisfies "a"')
    assert value is None and problems


# --- boxed forms ------------------------------------------------------------------------------------------

DMN15 = DMN_NAMESPACES["1.5"]


def _lit(text: str) -> str:
    return f"<literalExpression><text>{text}</text></literalExpression>"


def _evaluate(logic: str, inputs: dict[str, Any] | None = None) -> tuple[Any, list[Any]]:
    """The value of one decision whose logic is `logic`, and the problems of its evaluation."""
    names = inputs or {}
    data = "".join(f'<inputData id="i{k}" name="{name}"><variable name="{name}"/></inputData>'
                   for k, name in enumerate(names))
    required = "".join(f'<informationRequirement><requiredInput href="#i{k}"/></informationRequirement>'
                       for k in range(len(names)))
    xml = (f'<definitions xmlns="{DMN15}" name="m" namespace="urn:m">{data}'
           f'<decision id="d" name="D"><variable name="D"/>{required}{logic}</decision></definitions>')
    result = load(xml.encode()).evaluate(names)
    return result.outputs["D"], result.problems


def _filter(source: str, match: str) -> str:
    return f"<filter><in>{_lit(source)}</in><match>{_lit(match)}</match></filter>"


def _iterator(kind: str, variable: str, source: str, body: str) -> str:
    part = "return" if kind == "for" else "satisfies"
    return f'<{kind} iteratorVariable="{variable}"><in>{_lit(source)}</in><{part}>{_lit(body)}</{part}></{kind}>'


@pytest.mark.parametrize(("source", "match", "expected"), [
    ("[1, 2, 3]", "item &gt; 1", [2, 3]),
    ("[1, null, 3]", "item &gt; 1", [3]),
    ("[1, 2, 3]", "null", []),
    ("[1, 2, 3]", '"yes"', []),
    ("[{a: 1}, {a: 2}]", "a &gt; 1", [{"a": 2}]),
    ("[{a: 1}, {a: 2}]", "item.a = 1", [{"a": 1}]),
    ("[{item: 5}, {item: 6}]", "item &gt; 5", [{"item": 6}]),
    ("5", "item = 5", [5]),  # a single value is a list of one
    ("[10, 20, 30]", "2", 20),  # a number is an index, as in FEEL
    ("[10, 20, 30]", "-1", 30),
    ("null", "item &gt; 1", None),
])
def test_boxed_filter_means_the_feel_filter(source: str, match: str, expected: Any) -> None:
    value, _ = _evaluate(_filter(source, match))
    assert same(value, expected), value
    feel_text = f"{source}[{match}]".replace("&gt;", ">")
    assert same(ev(feel_text), expected)


@pytest.mark.parametrize(("kind", "source", "body", "expected"), [
    ("for", "[1, 2, 3]", "x * 2", [2, 4, 6]),
    ("for", "[]", "x", []),
    ("for", "5", "x + 1", [6]),
    ("for", "[1..3]", "x", [1, 2, 3]),  # a range of integers is an iteration domain
    ("for", "(1..3]", "x", [2, 3]),
    ("for", "[0, 1, 2, 3]", "if x = 0 then 1 else x * partial[-1]", [1, 1, 2, 6]),
    ("some", "[1, 2, 3]", "x &gt; 2", True),
    ("some", "[1, 2]", "x &gt; 2", False),
    ("some", "[null, 3]", "x &gt; 2", True),  # null outcomes follow `or`
    ("some", "[null, 1]", "x &gt; 2", None),
    ("some", "[]", "x &gt; 2", False),
    ("every", "[3, 4]", "x &gt; 2", True),
    ("every", "[1, null]", "x &gt; 2", False),  # ... and `and`
    ("every", "[3, null]", "x &gt; 2", None),
    ("every", "[]", "x &gt; 2", True),
    ("every", "[1..3]", "x &gt; 0", True),
])
def test_boxed_iterators_mean_the_feel_iterations(kind: str, source: str, body: str, expected: Any) -> None:
    value, _ = _evaluate(_iterator(kind, "x", source, body))
    assert same(value, expected), value


def test_boxed_iterator_over_null_is_null() -> None:
    assert _evaluate(_iterator("for", "x", "null", "x"))[0] is None
    assert _evaluate(_iterator("some", "x", "null", "x &gt; 1"))[0] is None


def test_boxed_some_needs_booleans() -> None:
    value, problems = _evaluate(_iterator("some", "x", "[1, 2]", '"a"'))
    assert value is None and problems


def test_boxed_iterators_see_the_inputs() -> None:
    logic = _iterator("for", "p", "Prices", "p * Rate")
    value, problems = _evaluate(logic, {"Prices": [1, 2], "Rate": Decimal(3)})
    assert not problems
    assert same(value, [3, 6])


def _conditional(condition: str, then: str = '"then"', otherwise: str = '"else"') -> str:
    return f"<conditional><if>{_lit(condition)}</if><then>{_lit(then)}</then><else>{_lit(otherwise)}</else></conditional>"


@pytest.mark.parametrize(("condition", "expected"), [
    ("true", "then"),
    ("false", "else"),
    ("null", "else"),
    ("1 &gt; 2", "else"),
    ("1 &lt; 2", "then"),
])
def test_boxed_conditional(condition: str, expected: str) -> None:
    assert _evaluate(_conditional(condition))[0] == expected


@pytest.mark.parametrize(("expression", "expected"), [
    # the FEEL if: "if FEEL(c) is true then FEEL(a) else FEEL(b)"
    ("if true then 1 else 2", 1),
    ("if false then 1 else 2", 2),
    ("if null then 1 else 2", 2),
    ('if "abc" then 1 else 2', 2),
    ("if 1 > 2 then 1 else null", None),
])
def test_feel_if(expression: str, expected: Any) -> None:
    assert same(ev(expression), expected)


def test_boxed_conditional_with_a_condition_that_is_no_boolean_is_an_error() -> None:
    value, problems = _evaluate(_conditional('"abc"'))
    assert value is None and problems


def test_boxed_conditional_evaluates_only_the_chosen_branch() -> None:
    value, problems = _evaluate(_conditional("true", "1", "1 / 0"))
    assert value == Decimal(1) and not problems
