"""DMN 1.5, 10.3.2.9: type equivalence and conformance (`instance of`), and the implicit
conversions of 10.3.2.9.4 ("to singleton list", "from singleton list", "from date to date
and time") applied when a function binds its parameters."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from tests.feel.helpers import ev, run, same

D = Decimal
UTC = dt.UTC

# --- instance of: one row per type ------------------------------------------------------------

INSTANCES: list[tuple[str, str, bool]] = [
    ("1", "number", True),
    ("-1.5", "number", True),
    ('"1"', "number", False),
    ('"a"', "string", True),
    ("1", "string", False),
    ("true", "boolean", True),
    ("0", "boolean", False),
    ('date("2020-01-01")', "date", True),
    ('date("2020-01-01")', "date and time", False),            # date and time is not a date
    ('date and time("2020-01-01T00:00:00")', "date and time", True),
    ('date and time("2020-01-01T00:00:00")', "date", False),
    ('date and time("2020-01-01T00:00:00")', "time", False),
    ('time("10:00:00")', "time", True),
    ('time("10:00:00")', "date and time", False),
    ('duration("P1Y")', "years and months duration", True),
    ('duration("P1Y")', "days and time duration", False),
    ('duration("P1D")', "days and time duration", True),
    ('duration("P1D")', "years and months duration", False),
    ('duration("PT0S")', "days and time duration", True),
    ('duration("P0M")', "years and months duration", True),
    ("[1, 2]", "list", True),
    ("[1, 2]", "list<number>", True),
    ("[]", "list<number>", True),
    ("[]", "list<string>", True),
    ('[1, "a"]', "list<number>", False),
    ('[1, "a"]', "list<Any>", True),
    ("[1, null]", "list<number>", True),              # Null conforms to every type
    ("[[1], [2]]", "list<list<number>>", True),
    ("[[1], 2]", "list<list<number>>", False),
    ("5", "list<number>", False),                      # instance of does not convert
    ("[5]", "number", False),
    ("{a: 1}", "context", True),
    ("{}", "context", True),
    ("{a: 1, b: 2}", "context<a: number>", True),      # more entries conform
    ("{a: 1}", "context<a: number, b: string>", False),
    ('{a: "x"}', "context<a: number>", False),
    ("{a: null}", "context<a: number>", True),
    ("{a: {b: 1}}", "context<a: context<b: number>>", True),
    ('{a: {b: "1"}}', "context<a: context<b: number>>", False),
    ("[{a: 1}]", "list<context<a: number>>", True),
    ("[1..2]", "range", True),
    ("[1..2]", "range<number>", True),
    ("[1..2]", "range<string>", False),
    ('["a".."z"]', "range<string>", True),
    ("(< 5)", "range<number>", True),
    ("[1..2]", "list<number>", False),
    ("(function(x) x)", "function", True),
    ("abs", "function", True),
    ("5", "function", False),
    ("(function(x: number) x)", "function<number> -> Any", True),
    ("(function(x: Any) x)", "function<number> -> Any", True),      # parameters are contravariant
    ("(function(x: number) x)", "function<Any> -> Any", False),
    ("(function(x: number) x)", "function<number, number> -> Any", False),
    ("(function(x: number, y: string) x)", "function<number, string> -> Any", True),
    # the result type of a function is the type of its body, where known without running it
    ('(function() "foo")', "function<> -> string", True),
    ('(function() "foo")', "function<> -> number", False),
    ('(function() "foo")', "function<> -> Any", True),
    ("(function() null)", "function<> -> string", True),
    ("(function() [1, 2])", "function<> -> list<number>", True),
    ('(function() [1, "a"])', "function<> -> list<number>", False),
    ("(function() [])", "function<> -> list<string>", True),
    ("(function() [1, null])", "function<> -> list<number>", True),
    ('(function() @"2020-01-01")', "function<> -> date", True),
    ("(function(x: number) x)", "function<number> -> number", True),
    ("(function(x: number) x)", "function<number> -> string", False),
    ('(function(a: list<number>) {b: "b"})', "function<list<number>> -> context<b: string, c: string>", False),
    ('(function(a: list<number>) {b: "b", c: "c", d: "d"})', "function<list<number>> -> context<b: string, c: string>",
     True),
    ('(function(a: context<a: string>) {b: "b", c: "c"})', "function<context<a: string, b: string>> -> context<b: string>",
     True),
    ('(function(a: string, b: number) "foo")', "function<string, number> -> string", True),
    ('(function(a: string, b: string) "foo")', "function<string> -> string", False),
    ("(function() {a: 1, b: a})", "function<> -> context<b: number>", True),
    ("(function() {a: 1, b: a})", "function<> -> context<b: string>", False),
    ("1", "Any", True),
    ('"a"', "Any", True),
    ("[1]", "Any", True),
    ("{a: 1}", "Any", True),
    ("(function(x) x)", "Any", True),
    ("null", "Null", True),
    ("1", "Null", False),
]


@pytest.mark.parametrize(("value", "type_", "expected"), INSTANCES)
def test_instance_of(value: str, type_: str, expected: bool) -> None:
    assert ev(f"{value} instance of {type_}") is expected


@pytest.mark.parametrize("type_", ["number", "string", "boolean", "date", "date and time", "time",
                                   "list<number>", "context", "range<number>", "function", "Any"])
def test_null_is_an_instance_only_of_null(type_: str) -> None:
    assert ev(f"null instance of {type_}") is False


def test_instance_of_binds_tighter_than_comparison_and_looser_than_arithmetic() -> None:
    assert ev("1 + 1 instance of number") is True
    assert ev("1 instance of number = true") is True
    assert ev("x instance of number and x > 0", x=5) is True


def test_instance_of_item_definitions_through_typed_scope() -> None:
    assert ev("x instance of number", x=None) is False
    assert ev("x instance of list<string>", x=["a"]) is True


# --- function parameters: typing and conversion on invocation -----------------------------------


def test_typed_parameters_accept_conforming_arguments() -> None:
    assert ev("(function(a: number) a + 1)(1)") == 2
    assert ev('(function(a: string, b: number) a + string(b))("x", 1)') == "x1"


def test_an_argument_of_the_wrong_type_gives_null() -> None:
    value, problems = run('(function(a: number) a)("x")')
    assert value is None and problems
    assert ev("(function(a: number) a)(true)") is None
    assert ev('(function(a: list<number>) a)([1, "a"])') is None
    assert ev('(function(a: context<x: number>) a)({x: "s"})') is None
    assert ev('(function(r: range<number>) r)(["a".."b"])') is None
    assert ev("(function(a: Null) a)(1)") is None


def test_durations_of_the_two_kinds_do_not_convert() -> None:
    assert ev('(function(x: years and months duration) x)(duration("P1D"))') is None
    assert ev('(function(x: days and time duration) x)(duration("P1Y"))') is None


def test_null_conforms_to_every_parameter_type() -> None:
    for type_ in ("number", "string", "list<number>", "context<a: number>", "date and time"):
        value, problems = run(f"(function(a: {type_}) a)(null)")
        assert value is None and not problems


def test_a_context_missing_an_entry_of_its_parameter_type_reads_it_as_null() -> None:
    # Lenient, as for item definitions: the missing entry is null, and null conforms.
    assert same(ev("(function(a: context<x: number>) a)({y: 1})"), {"y": 1})
    assert ev("(function(a: context<x: number>) a.x)({y: 1})") is None
    assert ev("{y: 1} instance of context<x: number>") is False   # instance of stays strict


def test_untyped_parameters_take_anything() -> None:
    assert ev("(function(a) a)(1)") == 1
    assert same(ev("(function(a) a)([1])"), [1])
    assert ev("(function(a: Any) a)(1)") == 1


def test_named_arguments_bind_by_name_in_any_order() -> None:
    assert ev("(function(a, b) a - b)(b: 1, a: 3)") == 2
    assert ev('(function(a: number, b: string) b)(b: "q", a: 1)') == "q"


def test_a_missing_named_argument_is_null() -> None:
    value, problems = run("(function(a, b) b)(a: 1)")
    assert value is None and not problems
    assert ev("(function(a, b) if b = null then a else b)(a: 1)") == 1


def test_an_unknown_named_argument_gives_null() -> None:
    value, problems = run("(function(a, b) b)(c: 1)")
    assert value is None and problems


def test_a_named_argument_of_the_wrong_type_gives_null() -> None:
    assert ev('(function(a: number, b: number) a + b)(a: 1, b: "2")') is None


def test_the_wrong_number_of_positional_arguments_gives_null() -> None:
    assert ev("(function(a, b) a)(1)") is None
    assert ev("(function(a, b) a)(1, 2, 3)") is None
    assert ev("(function() 1)()") == 1


# --- 10.3.2.9.4 "to singleton list" and "from singleton list" ------------------------------------


def test_to_singleton_list() -> None:
    # The type of the argument is T and the parameter is list<T>: the argument becomes [e].
    assert same(ev("(function(a: list<number>) a)(5)"), [5])
    assert ev("(function(a: list<number>) count(a))(5)") == 1
    assert same(ev('(function(a: list<string>) a)("x")'), ["x"])
    assert same(ev("(function(a: list<list<number>>) a)([5])"), [[5]])


def test_from_singleton_list() -> None:
    # The argument is a singleton list<T> and the parameter is T: the argument becomes its element.
    assert ev("(function(a: number) a)([5])") == 5
    assert ev('(function(a: string) a)(["x"])') == "x"
    assert same(ev("(function(a: context<x: number>) a)([{x: 1}])"), {"x": 1})


def test_operators_do_not_convert_singleton_lists() -> None:
    # The conversions apply to bindings (parameters, typed variables), not to operands.
    value, problems = run("[5] + 1")
    assert value is None and problems
    assert ev("[5] = 5") is None


def test_a_longer_or_empty_list_does_not_convert() -> None:
    assert ev("(function(a: number) a)([5, 6])") is None
    assert ev("(function(a: number) a)([])") is None
    assert ev('(function(a: number) a)(["5"])') is None


def test_singleton_conversions_with_named_arguments() -> None:
    assert ev("(function(a: number) a)(a: [5])") == 5
    assert same(ev("(function(a: list<number>) a)(a: 5)"), [5])


def test_builtin_functions_convert_singleton_lists_too() -> None:
    assert ev('upper case(["a"])') == "A"
    assert ev('string length(["abc"])') == 3
    assert ev('substring("abc", [2])') == "bc"
    assert ev('upper case(["a", "b"])') is None
    assert ev("count(5)") == 1
    assert same(ev("reverse(1)"), [1])
    assert same(ev("distinct values(1)"), [1])


# --- 10.3.2.9.4 "from date to date and time" --------------------------------------------------------


def test_a_date_for_a_date_and_time_parameter_is_utc_midnight() -> None:
    value = ev('(function(a: date and time) a)(date("2020-01-02"))')
    assert value == dt.datetime(2020, 1, 2, tzinfo=UTC)
    assert ev('(function(a: date and time) a)(date("2020-01-02")) = date and time("2020-01-02T00:00:00Z")') is True
    assert ev('(function(a: date and time) a.hour)(@"2020-01-02")') == 0


def test_date_to_date_and_time_also_applies_inside_lists_and_singletons() -> None:
    assert same(ev('(function(a: list<date and time>) a)([@"2020-01-02", @"2020-01-03T10:00:00"])'),
                [dt.datetime(2020, 1, 2, tzinfo=UTC), dt.datetime(2020, 1, 3, 10)])
    assert ev('(function(a: date and time) a)([@"2020-01-02"])') == dt.datetime(2020, 1, 2, tzinfo=UTC)


def test_no_conversion_from_date_and_time_to_date() -> None:
    assert ev('(function(a: date) a)(date and time("2020-01-01T10:00:00"))') is None
    assert ev('(function(a: date and time) a)(time("10:00:00"))') is None


# --- built-in functions: the same binding rules ---------------------------------------------------


def test_builtin_arguments_of_the_wrong_type_give_null() -> None:
    value, problems = run("string length(1)")
    assert value is None and problems
    assert ev('abs("1")') is None
    assert ev("upper case(true)") is None
    assert ev('substring("abc", "2")') is None


def test_builtin_named_arguments() -> None:
    assert ev('substring(string: "abcd", start position: 2, length: 2)') == "bc"
    assert ev('substring(length: 2, string: "abcd", start position: 2)') == "bc"
    assert ev('upper case(string: ["a"])') == "A"
    value, problems = run('substring(string: "abc", start: 2)')
    assert value is None and problems


def test_builtin_with_the_wrong_number_of_arguments_gives_null() -> None:
    assert ev('upper case("a", "b")') is None
    assert ev("abs()") is None
