"""Plain floats and ints matched by the rule index without becoming Decimals.

An input read only as the whole input expression of table columns keeps the float or int it
was given, and the index places it among float endpoints. Everything observable must be what
converting first gives: outputs, fired rules, problems and the trace.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from decisions import feel
from decisions.compiler import compile_model
from decisions.model import (
    Decision,
    DecisionTable,
    Definitions,
    InputClause,
    InputData,
    LiteralExpression,
    OutputClause,
    Rule,
)
from decisions.tables.index import (
    EXACT_INT,
    ColumnIndex,
    build_column_index,
    float_breaks,
    lookup,
    raw_number_region,
)

# --- the index: float endpoints ------------------------------------------------------------


def _index(*cells: str) -> ColumnIndex:
    compiled = [feel.compile_unary_tests(c) for c in cells]
    env = feel.Env({}, [])

    def bound(test: feel.CompiledUnaryTests) -> Callable[[Any], bool | None]:
        return lambda value: test.fn(env, value)

    return build_column_index([c.ast for c in compiled], [bound(c) for c in compiled])


def _as_feel(x: float | int) -> Decimal:
    return Decimal(x) if type(x) is int else Decimal(float.__repr__(x))


def test_endpoints_that_round_trip_are_kept_as_floats() -> None:
    index = _index("< 0.1", "[18..65]", ">= 4607.48", "-3.25")
    assert index.float_breaks == [-3.25, 0.1, 18.0, 65.0, 4607.48]


HUGE = "1" + "0" * 400  # FEEL has no exponent notation
TINY = "0." + "0" * 399 + "1"


@pytest.mark.parametrize("endpoint", ["0.1000000000000000000001", HUGE, TINY, "12345678901234567"])
def test_endpoints_that_do_not_round_trip_give_no_float_breaks(endpoint: str) -> None:
    index = _index(f"< {endpoint}", "> 2")
    assert index.number_masks is not None  # numbers are still indexed, as Decimals
    assert index.float_breaks is None
    assert raw_number_region(index, 2.5) is None


def _neighbours(x: float) -> list[float]:
    return [math.nextafter(x, -math.inf), x, math.nextafter(x, math.inf)]


CELLS = ("< 0.1", "[0.3..18)", "(18..65]", "> 4607.48", "-7", "100", "1" + "0" * 15, "-0." + "0" * 299 + "25")


@pytest.mark.parametrize("x", [v for b in (0.1, 0.3, 18.0, 65.0, 4607.48, -7.0, 100.0, 1e15, -2.5e-300, 0.0)
                               for v in _neighbours(b)] + [-0.0, 1e308, -1e308, 5e-324, -5e-324, 1e-300])
def test_a_float_at_just_below_and_just_above_an_endpoint_lands_where_its_decimal_does(x: float) -> None:
    index = _index(*CELLS)
    assert raw_number_region(index, x) == index.number_region(_as_feel(x))


@pytest.mark.parametrize("n", [0, 17, 18, 19, 64, 65, 66, -7, -8, 100, 10**15, 10**15 + 1,
                               EXACT_INT - 1, -(EXACT_INT - 1)])
def test_an_int_lands_where_its_decimal_does(n: int) -> None:
    index = _index(*CELLS, f"> {EXACT_INT - 1}")
    assert raw_number_region(index, n) == index.number_region(Decimal(n))


@pytest.mark.parametrize("value", [True, False, math.nan, math.inf, -math.inf, EXACT_INT, -EXACT_INT, 10**400,
                                   Decimal("1.5"), "1.5", None])
def test_what_is_not_a_plain_finite_number_is_left_to_the_caller(value: Any) -> None:
    assert raw_number_region(_index(*CELLS), value) is None


_endpoints = st.decimals(min_value=-10**9, max_value=10**9, allow_nan=False, allow_infinity=False, places=4)


@settings(max_examples=300, deadline=None)
@given(st.lists(_endpoints, min_size=1, max_size=8, unique=True),
       st.lists(st.floats(allow_nan=False, allow_infinity=False) | st.integers(-10**12, 10**12), max_size=20))
def test_float_regions_agree_with_decimal_regions(ends: list[Decimal], xs: list[float | int]) -> None:
    breaks = sorted(ends)
    floats = float_breaks(breaks)
    assert floats is not None  # at most 13 significant digits: every one round-trips
    index = ColumnIndex(breaks=breaks, float_breaks=floats, number_masks=[0] * (2 * len(breaks) + 1))
    for x in xs + [float(b) for b in breaks] + [math.nextafter(float(b), math.inf) for b in breaks]:
        assert raw_number_region(index, x) == index.number_region(_as_feel(x)), x


def test_lookup_still_takes_only_feel_values() -> None:
    index = _index(*CELLS)
    assert lookup(index, 18.0) is None  # a float is the table's to convert
    assert lookup(index, Decimal(18)) == index.number_masks[index.number_region(Decimal(18))]  # type: ignore[index]


# --- the model: inputs kept as given -------------------------------------------------------


def _model(rules: list[tuple[list[str], list[str]]], *, hit_policy: str = "FIRST",
           inputs: list[InputClause] | None = None, types: tuple[str, str] = ("number", "string"),
           extra: list[Decision] | None = None) -> Any:
    inputs = inputs or [InputClause("Age"), InputClause("Risk")]
    table = DecisionTable(inputs, [OutputClause(name="Result")], [Rule(i, o) for i, o in rules],
                          hit_policy=hit_policy)  # type: ignore[arg-type]
    defs = Definitions("t", inputs=[InputData("Age", types[0]), InputData("Risk", types[1])],
                       decisions=[Decision("Decide", table, required_inputs=["Age", "Risk"]), *(extra or [])])
    return compile_model(defs)


RULES = [
    (["< 18", "-"], ['"minor"']),
    (["[18..65]", '"Low"'], ['"adult, low"']),
    (["[18..65]", "-"], ['"adult"']),
    (["> 65", "-"], ['"senior"']),
    (["-", "-"], ['"other"']),
]


def _same_as_converted_first(model: Any, inputs: dict[str, Any]) -> Any:
    """Evaluate as given and with every input converted first (trace=True binds FEEL values):
    outputs, fired rules and problems must agree."""
    fast = model.evaluate(inputs)
    slow = model.evaluate(inputs, trace=True)
    assert fast.outputs == slow.outputs
    assert fast.fired == slow.fired
    assert [(p.message, p.code, p.severity) for p in fast.problems] == \
        [(p.message, p.code, p.severity) for p in slow.problems]
    return fast


def test_an_input_read_only_by_table_columns_keeps_floats_and_ints() -> None:
    model = _model(RULES)
    assert model._inputs_only_table_columns_read() == {"Age"}  # Risk is a string: nothing to keep
    values = model._bind_inputs({"Age": 17.5, "Risk": "Low"}, [], feel_values=False)
    assert type(values["Age"]) is float
    assert type(model._bind_inputs({"Age": 17.5, "Risk": "Low"}, [])["Age"]) is Decimal


@pytest.mark.parametrize("age", [17, 18, 17.999999999999996, 18.0, 18.000000000000004, 65, 65.0,
                                 math.nextafter(65.0, math.inf), 1e300, -1e-300, 0.0, -0.0,
                                 EXACT_INT, 10**30, Decimal("18"), Decimal("65.0000000000000000001")])
def test_numbers_at_and_around_the_endpoints_fire_the_rules_their_decimals_fire(age: Any) -> None:
    result = _same_as_converted_first(_model(RULES), {"Age": age, "Risk": "Low"})
    assert result.problems == []


@pytest.mark.parametrize("age", [math.nan, math.inf, -math.inf, None])
def test_nan_and_infinity_are_null(age: Any) -> None:
    result = _same_as_converted_first(_model(RULES), {"Age": age, "Risk": "Low"})
    assert result.outputs["Decide"] == "other"  # null matches only the `-` rule
    assert result.problems == []


@pytest.mark.parametrize("age", [True, False, "18", [18]])
def test_a_boolean_or_a_string_is_not_a_number(age: Any) -> None:
    result = _same_as_converted_first(_model(RULES), {"Age": age, "Risk": "Low"})
    if age == [18]:  # a singleton list is its element
        assert result.outputs["Decide"] == "adult, low"
        return
    assert result.outputs["Decide"] == "other"
    assert [(p.code, p.severity) for p in result.problems] == [("input-type", "error")]


def test_a_missing_input_is_null_with_a_warning() -> None:
    result = _same_as_converted_first(_model(RULES), {"Risk": "Low"})
    assert result.outputs["Decide"] == "other"
    assert [(p.code, p.severity) for p in result.problems] == [("missing-input", "warning")]


def test_the_trace_shows_feel_values() -> None:
    model = _model(RULES)
    step = model.evaluate({"Age": 30.5, "Risk": "Low"}, trace=True).trace[0]
    assert step.inputs == {"Age": Decimal("30.5"), "Risk": "Low"}
    assert type(step.inputs["Age"]) is Decimal
    assert step.fired == [2]


def test_an_input_an_output_cell_reads_is_converted() -> None:
    model = _model([(["< 18", "-"], ["Age * 2"]), (["-", "-"], ["Age"])])
    assert model._inputs_only_table_columns_read() == set()
    result = _same_as_converted_first(model, {"Age": 30.5, "Risk": "Low"})
    assert result.outputs["Decide"] == Decimal("30.5")
    assert type(result.outputs["Decide"]) is Decimal


def test_an_input_another_column_compares_with_is_converted() -> None:
    inputs = [InputClause("Risk"), InputClause("Age")]
    model = _model([(['"Low"', "< Risk"], ['"x"']), (["-", "-"], ['"y"'])], inputs=inputs,
                   types=("number", "number"))
    assert model._inputs_only_table_columns_read() == {"Age"}  # read by a cell: Risk is converted
    for age, risk in [(10, 20.5), (20.5, 20.5), (20.6, 20.5), (10**30, 1e30)]:
        _same_as_converted_first(model, {"Age": age, "Risk": risk})


def test_an_input_a_literal_expression_reads_is_converted() -> None:
    other = Decision("Double", LiteralExpression("Age * 2"), required_inputs=["Age"])
    model = _model(RULES, extra=[other])
    assert model._inputs_only_table_columns_read() == set()
    result = model.evaluate({"Age": 0.1, "Risk": "Low"})
    assert result.outputs["Double"] == Decimal("0.2")


def test_a_literal_expression_that_does_not_read_the_input_leaves_it_kept() -> None:
    other = Decision("Label", LiteralExpression('"label"'))
    model = _model(RULES, extra=[other])
    assert model._inputs_only_table_columns_read() == {"Age"}


def test_a_column_with_a_computed_input_expression_reads_the_converted_value() -> None:
    inputs = [InputClause("Age + 0"), InputClause("Risk")]
    model = _model(RULES, inputs=inputs)
    assert model._inputs_only_table_columns_read() == set()
    for age in (17.9, 18, 65.0, 65.1):
        _same_as_converted_first(model, {"Age": age, "Risk": "Low"})


def test_a_column_whose_endpoints_do_not_round_trip_converts_the_float() -> None:
    rules = [(["<= 0.1000000000000000000001", "-"], ['"small"']), (["-", "-"], ['"big"'])]
    model = _model(rules)
    for age, expected in [(0.1, "small"), (0.10000000000000002, "big"), (0, "small")]:
        assert _same_as_converted_first(model, {"Age": age, "Risk": "Low"}).outputs["Decide"] == expected


def test_a_pending_cell_sees_a_feel_number() -> None:
    rules = [(["? * 2 > 37", "-"], ['"yes"']), (["-", "-"], ['"no"'])]
    model = _model(rules)
    assert model._inputs_only_table_columns_read() == {"Age"}
    for age, expected in [(18.5, "no"), (18.6, "yes"), (19, "yes")]:
        assert _same_as_converted_first(model, {"Age": age, "Risk": "Low"}).outputs["Decide"] == expected


def test_allowed_values_of_a_numeric_column_check_and_report_the_decimal() -> None:
    inputs = [InputClause("Age", input_values="[0..150]"), InputClause("Risk")]
    model = _model(RULES, inputs=inputs)
    result = _same_as_converted_first(model, {"Age": 150.5, "Risk": "Low"})
    assert result.outputs["Decide"] is None
    assert "Decimal('150.5')" in result.problems[0].message
    assert _same_as_converted_first(model, {"Age": 150, "Risk": "Low"}).outputs["Decide"] == "senior"


@pytest.mark.parametrize("risk", ["Low", "High", "Banned", "Medium", ""])
def test_allowed_values_of_a_string_column_are_checked_with_its_index(risk: str) -> None:
    for allowed in ('"Low", "High"', 'not("Banned")'):
        inputs = [InputClause("Age"), InputClause("Risk", input_values=allowed)]
        model = _model(RULES, inputs=inputs)
        result = _same_as_converted_first(model, {"Age": 30, "Risk": risk})
        ok = risk in ("Low", "High") if allowed.startswith('"') else risk != "Banned"
        assert (result.outputs["Decide"] is not None) == ok
        assert bool(result.problems) == (not ok)


def test_unique_and_collect_tables_agree_too() -> None:
    for hit_policy in ("UNIQUE", "RULE ORDER", "COLLECT"):
        rules = [(["< 18", "-"], ['"minor"']), (["[18..65]", "-"], ['"adult"']), (["> 65", "-"], ['"senior"'])]
        model = _model(rules, hit_policy=hit_policy)
        for age in (17.999, 18, 18.0, 65.0, 65.5, 66):
            _same_as_converted_first(model, {"Age": age, "Risk": "Low"})


def test_a_big_int_next_to_an_endpoint_is_compared_as_a_decimal() -> None:
    # 1e23 prints as 1e+23 but is 99999999999999991611392 exactly: that int equals the float,
    # yet is below the endpoint 1e23.
    endpoint = "1" + "0" * 23
    model = _model([([f"< {endpoint}", "-"], ['"below"']), ([endpoint, "-"], ['"at"']), (["-", "-"], ['"above"'])])
    assert model._inputs_only_table_columns_read() == {"Age"}
    for age, expected in [(99999999999999991611392, "below"), (10**23, "at"), (1e23, "at"),
                          (10**23 + 1, "above"), (math.nextafter(1e23, 0), "below")]:
        assert _same_as_converted_first(model, {"Age": age, "Risk": "Low"}).outputs["Decide"] == expected
