"""DMN 1.5, 10.3.2.6 (context), the context rows of the semantic mappings (10.3.2.x tables)
and the context functions of 10.3.4.10 (get value, get entries, context, context put,
context merge)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.feel.helpers import ev, run, same

D = Decimal


# --- context literals -------------------------------------------------------------------------


def test_keys_may_be_names_or_strings() -> None:
    assert same(ev("{a: 1}"), {"a": 1})
    assert same(ev('{"a": 1}'), {"a": 1})
    assert same(ev('{"a": 1}'), ev("{a: 1}"))
    assert same(ev('{"with space": 1, "1st": 2, "": 3}'), {"with space": 1, "1st": 2, "": 3})


def test_name_keys_with_spaces_and_symbols() -> None:
    assert same(ev("{first name: 1, last-name: 2}"), {"first name": 1, "last-name": 2})
    assert ev("{first name: 1}.first name") == 1
    assert ev('{"first name": 1}.first name') == 1


def test_empty_context() -> None:
    assert same(ev("{}"), {})
    assert ev("{} = {}") is True


def test_an_entry_may_refer_to_earlier_entries() -> None:
    assert same(ev("{a: 1, b: a + 1, c: b * 2}"), {"a": 1, "b": 2, "c": 4})
    assert same(ev('{"a": 1, b: a + 1}'), {"a": 1, "b": 2})


def test_an_entry_is_in_scope_of_nested_contexts() -> None:
    assert ev("{a: 1, b: {c: a + 1}}.b.c") == 2


def test_an_entry_shadows_an_outer_variable() -> None:
    assert ev("{a: 10, b: a}.b", a=1) == 10
    assert ev("{b: a}.b", a=1) == 1


def test_an_entry_does_not_see_later_entries() -> None:
    # Only the entries before an entry are in its scope: a later key reads the outer variable.
    value, problems = run("{a: b, b: 1}")
    assert same(value, {"a": None, "b": 1}) and problems
    assert same(ev("{a: b, b: 1}", b=5), {"a": 5, "b": 1})
    value, problems = run("{a: a}")
    assert same(value, {"a": None}) and problems


def test_a_function_entry_may_call_itself() -> None:
    assert ev("{f: function(n) if n = 0 then 1 else n * f(n - 1), r: f(5)}.r") == 120


def test_a_filter_over_an_earlier_entry() -> None:
    assert same(ev("{a: [1, 2, 3], b: a[item > 1]}.b"), [2, 3])


def test_context_entries_keep_their_order() -> None:
    assert list(ev("{z: 1, a: 2, m: 3}")) == ["z", "a", "m"]


def test_a_function_entry_can_be_invoked_by_a_later_entry() -> None:
    assert ev("{f: function(x) x * 2, r: f(21)}.r") == 42


@pytest.mark.parametrize("text", ["{a: 1, a: 2}", '{a: 1, "a": 2}', '{"a b": 1, a b: 2}'])
def test_duplicate_keys_are_an_error_giving_null(text: str) -> None:
    # 10.3.2.6: the keys of a context are distinct strings.
    value, problems = run(text)
    assert value is None
    assert any("duplicate" in p.message for p in problems)


def test_a_duplicate_key_in_a_nested_context_nulls_only_that_context() -> None:
    assert same(ev("{a: {b: 1, b: 2}, c: 3}"), {"a": None, "c": 3})


# --- path expressions ---------------------------------------------------------------------------


def test_path_selects_an_entry() -> None:
    assert ev("{a: 1, b: 2}.b") == 2
    assert ev("x.y", x={"y": "v"}) == "v"


def test_nested_paths() -> None:
    assert ev("{a: {b: {c: 7}}}.a.b.c") == 7
    assert ev("x.a.b", x={"a": {"b": [1, 2]}}) == [1, 2]
    assert ev("(x.a).b", x={"a": {"b": 3}}) == 3


def test_a_missing_key_gives_null() -> None:
    value, problems = run("{a: 1}.b")
    assert value is None
    assert problems
    assert ev("{a: {b: 1}}.a.c") is None
    assert ev("{a: {b: 1}}.c.b") is None


def test_a_path_on_null_gives_null() -> None:
    assert ev("null.a") is None
    assert ev("x.a", x=None) is None


def test_a_path_on_a_value_that_has_no_such_property_gives_null() -> None:
    assert ev("5.a") is None
    assert ev('"abc".a') is None
    assert ev("true.a") is None


def test_a_path_on_a_list_of_contexts_maps_over_the_list() -> None:
    # Semantics of path expressions: e.name on a list is the list of e_i.name.
    assert same(ev("[{a: 1}, {a: 2}].a"), [1, 2])
    assert same(ev("[{a: 1}, {b: 2}].a"), [1, None])
    assert same(ev("[].a"), [])
    assert same(ev("[{a: {b: 1}}, {a: {b: 2}}].a.b"), [1, 2])
    assert same(ev("x.a", x=[{"a": "p"}, {"a": "q"}]), ["p", "q"])


def test_a_path_then_a_filter() -> None:
    assert same(ev("[{a: 1}, {a: 2}, {a: 3}].a[item > 1]"), [2, 3])
    assert ev("[{a: 1}, {a: 2}][2].a") == 2


def test_a_string_key_that_is_not_a_name_is_reached_through_get_value() -> None:
    assert ev('get value({"1st": 1}, "1st")') == 1
    assert ev('get value({"a+b": 5}, "a+b")') == 5


# --- equality of contexts ------------------------------------------------------------------------


def test_contexts_are_equal_when_their_entries_are() -> None:
    assert ev("{a: 1, b: 2} = {b: 2, a: 1}") is True
    assert ev("{a: 1} = {a: 2}") is False
    assert ev("{a: 1} = {a: 1, b: 2}") is False
    assert ev("{a: [1, {b: 2}]} = {a: [1, {b: 2}]}") is True
    assert ev("{a: 1} != {a: 1}") is False


# --- get value(m, key) ---------------------------------------------------------------------------


def test_get_value() -> None:
    assert ev('get value({a: 1}, "a")') == 1
    assert ev('get value({"a b": 1}, "a b")') == 1
    assert ev('get value(m: {a: 1}, key: "a")') == 1
    assert ev('get value(key: "a", m: {a: 1})') == 1


def test_get_value_of_a_missing_key_is_null() -> None:
    assert ev('get value({a: 1}, "b")') is None


def test_get_value_of_an_entry_holding_null_is_null() -> None:
    assert ev('get value({a: null}, "a")') is None


def test_get_value_with_arguments_of_the_wrong_type_is_null() -> None:
    assert ev('get value(1, "a")') is None
    assert ev("get value({a: 1}, 1)") is None
    assert ev('get value(null, "a")') is None
    assert ev("get value({a: 1}, null)") is None


# --- get entries(m) ----------------------------------------------------------------------------


def test_get_entries() -> None:
    assert same(ev("get entries({a: 1, b: 2})"), [{"key": "a", "value": 1}, {"key": "b", "value": 2}])
    assert same(ev("get entries({})"), [])
    assert same(ev("get entries(m: {a: null})"), [{"key": "a", "value": None}])


def test_get_entries_of_a_non_context_is_null() -> None:
    assert ev("get entries(1)") is None
    assert ev("get entries(null)") is None


def test_get_entries_and_context_are_inverse() -> None:
    assert ev("context(get entries({a: 1, b: {c: 2}})) = {a: 1, b: {c: 2}}") is True


# --- context(entries) ----------------------------------------------------------------------------


def test_context_function() -> None:
    assert same(ev('context([{key: "a", value: 1}, {key: "b", value: 2}])'), {"a": 1, "b": 2})
    assert same(ev("context([])"), {})
    assert same(ev('context(entries: [{key: "a", value: 1}])'), {"a": 1})


def test_context_function_singleton_coercion() -> None:
    # 10.3.2.9.4 "to singleton list": one entry for a list parameter.
    assert same(ev('context({key: "a", value: 1})'), {"a": 1})


def test_context_function_with_duplicate_or_malformed_entries_is_null() -> None:
    assert ev('context([{key: "a", value: 1}, {key: "a", value: 2}])') is None
    assert ev('context([{key: 1, value: 1}])') is None
    assert ev('context([{value: 1}])') is None
    assert ev('context([{key: "a"}])') is None


# --- context put(context, key(s), value) ----------------------------------------------------------


def test_context_put_adds_an_entry_at_the_end() -> None:
    assert same(ev('context put({x: 1}, "y", 2)'), {"x": 1, "y": 2})
    assert list(ev('context put({x: 1}, "y", 2)')) == ["x", "y"]


def test_context_put_replaces_an_existing_entry_in_place() -> None:
    result = ev('context put({x: 1, y: 0}, "x", 2)')
    assert same(result, {"x": 2, "y": 0})
    assert list(result) == ["x", "y"]


def test_context_put_does_not_change_its_argument() -> None:
    assert ev('{c: {x: 1}, d: context put(c, "x", 2)}.c.x') == 1


def test_context_put_null_value() -> None:
    assert same(ev('context put({x: 1}, "y", null)'), {"x": 1, "y": None})


def test_context_put_named_parameters() -> None:
    assert same(ev('context put(context: {x: 1}, key: "y", value: 2)'), {"x": 1, "y": 2})


def test_context_put_by_keys_writes_a_nested_entry() -> None:
    assert same(ev('context put({x: 1, y: {z: 1}}, ["y", "z"], 2)'), {"x": 1, "y": {"z": 2}})
    assert same(ev('context put({x: 1}, ["x"], 2)'), {"x": 2})
    assert same(ev('context put(context: {}, keys: ["a"], value: 1)'), {"a": 1})


def test_context_put_with_bad_arguments_is_null() -> None:
    assert ev('context put({x: 1}, [], 2)') is None
    assert ev('context put({x: {y: 1}}, ["x", 1], 2)') is None
    assert ev('context put({x: 1}, ["x", "y"], 2)') is None    # x is not a context
    assert ev('context put(1, "x", 2)') is None
    assert ev("context put({x: 1}, 1, 2)") is None
    assert ev('context put(null, "x", 2)') is None


# --- context merge(contexts) --------------------------------------------------------------------


def test_context_merge() -> None:
    assert same(ev("context merge([{x: 1}, {y: 2}])"), {"x": 1, "y": 2})
    assert same(ev("context merge([{x: 1, y: 0}, {y: 2}])"), {"x": 1, "y": 2})
    assert same(ev("context merge([{x: 1}, {x: 2}, {x: 3}])"), {"x": 3})
    assert same(ev("context merge([])"), {})
    assert same(ev("context merge(contexts: [{a: 1}])"), {"a": 1})


def test_context_merge_singleton_coercion() -> None:
    assert same(ev("context merge({x: 1})"), {"x": 1})


def test_context_merge_of_non_contexts_is_null() -> None:
    assert ev("context merge([{x: 1}, 2])") is None
    assert ev("context merge(null)") is None
    assert ev('context merge(["a"])') is None
