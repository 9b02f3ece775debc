"""Decision tables: hit policies, defaults, allowed values, and the rule index against a plain scan."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from decisions import feel
from decisions.compiler import compile_model
from decisions.model import (
    Decision,
    DecisionTable,
    Definitions,
    InputClause,
    InputData,
    OutputClause,
    Rule,
)
from tests.tables_strategies import frames, tables


def _model(rules: list[tuple[list[str], list[str]]], hit_policy: str = "UNIQUE", *,
           aggregation: str | None = None, outputs: list[OutputClause] | None = None,
           inputs: list[InputClause] | None = None) -> Any:
    inputs = inputs or [InputClause("Age", type_ref="number"), InputClause("Risk", type_ref="string")]
    outputs = outputs or [OutputClause(name="Result")]
    table = DecisionTable(inputs, outputs, [Rule(i, o) for i, o in rules],
                          hit_policy=hit_policy, aggregation=aggregation)  # type: ignore[arg-type]
    defs = Definitions("t", inputs=[InputData("Age", "number"), InputData("Risk", "string")],
                       decisions=[Decision("Decide", table, required_inputs=["Age", "Risk"])])
    return compile_model(defs)


RULES = [
    ([">= 18", '"Low"'], ['"Approve"']),
    ([">= 18", '"High"'], ['"Refer"']),
    (["< 18", "-"], ['"Reject"']),
    (["[30..40]", '"Low", "High"'], ['"Special"']),
]


def test_unique_single_match_and_fired_rule() -> None:
    result = _model(RULES).evaluate({"Age": 20, "Risk": "Low"})
    assert result.outputs["Decide"] == "Approve"
    assert result.fired["Decide"] == [1]
    assert result.problems == []


def test_unique_violation_is_null_with_error_naming_the_rules() -> None:
    result = _model(RULES).evaluate({"Age": 35, "Risk": "Low"})
    assert result.outputs["Decide"] is None
    assert result.fired["Decide"] == [1, 4]
    assert any("rules 1, 4" in p.message and p.location.element == "Decide" for p in result.problems)


def test_first_stops_at_first_match() -> None:
    result = _model(RULES, "FIRST").evaluate({"Age": 35, "Risk": "Low"})
    assert result.outputs["Decide"] == "Approve"
    assert result.fired["Decide"] == [1]


def test_any_with_equal_outputs_and_with_differing_outputs() -> None:
    rules = [(["> 10", "-"], ['"Yes"']), (["> 20", "-"], ['"Yes"']), (["> 30", "-"], ['"No"'])]
    model = _model(rules, "ANY")
    assert model.evaluate({"Age": 25, "Risk": "x"}).outputs["Decide"] == "Yes"
    bad = model.evaluate({"Age": 35, "Risk": "x"})
    assert bad.outputs["Decide"] is None
    assert any("ANY" in p.message and "1, 2, 3" in p.message for p in bad.problems)


def test_priority_and_output_order_follow_output_values() -> None:
    out = [OutputClause(name="Result", output_values='"Reject", "Refer", "Approve"')]
    rules = [(["> 10", "-"], ['"Approve"']), (["> 20", "-"], ['"Reject"']), (["> 15", "-"], ['"Refer"'])]
    assert _model(rules, "PRIORITY", outputs=out).evaluate({"Age": 25, "Risk": "x"}).outputs["Decide"] == "Reject"
    ordered = _model(rules, "OUTPUT ORDER", outputs=out).evaluate({"Age": 25, "Risk": "x"})
    assert ordered.outputs["Decide"] == ["Reject", "Refer", "Approve"]
    assert ordered.fired["Decide"] == [2, 3, 1]


def test_rule_order_and_collect_aggregations() -> None:
    rules = [(["> 10", "-"], ["1"]), (["> 20", "-"], ["2"]), (["> 30", "-"], ["4"])]
    assert _model(rules, "RULE ORDER").evaluate({"Age": 35}).outputs["Decide"] == [1, 2, 4]
    assert _model(rules, "COLLECT").evaluate({"Age": 25}).outputs["Decide"] == [1, 2]
    for agg, expected in (("SUM", 7), ("MIN", 1), ("MAX", 4), ("COUNT", 3)):
        value = _model(rules, "COLLECT", aggregation=agg).evaluate({"Age": 35}).outputs["Decide"]
        assert value == Decimal(expected), agg
    assert _model(rules, "COLLECT", aggregation="COUNT").evaluate({"Age": 5}).outputs["Decide"] == 0
    assert _model(rules, "COLLECT", aggregation="SUM").evaluate({"Age": 5}).outputs["Decide"] is None


def test_default_output_and_multiple_outputs() -> None:
    outs = [OutputClause(name="Decision", default_output='"Refer"'), OutputClause(name="Limit")]
    rules = [([">= 18", '"Low"'], ['"Approve"', "1000 * 2"])]
    model = _model(rules, outputs=outs)
    assert model.evaluate({"Age": 30, "Risk": "Low"}).outputs["Decide"] == {"Decision": "Approve",
                                                                            "Limit": Decimal(2000)}
    assert model.evaluate({"Age": 10, "Risk": "Low"}).outputs["Decide"] == {"Decision": "Refer", "Limit": None}


def test_input_values_outside_allowed_give_null_and_error() -> None:
    inputs = [InputClause("Age", type_ref="number"),
              InputClause("Risk", type_ref="string", input_values='"Low", "High"')]
    model = _model(RULES, "FIRST", inputs=inputs)
    result = model.evaluate({"Age": 30, "Risk": "Medium"})
    assert result.outputs["Decide"] is None
    assert any(p.location.column == "Risk" and "allowed" in p.message for p in result.problems)


def test_malformed_cell_names_decision_rule_column_text_and_position() -> None:
    problem = _model([([">= 18", '"Low'], ['"Approve"'])]).errors[0]
    assert problem.location.element == "Decide"
    assert problem.location.rule == 1
    assert problem.location.column == "Risk"
    assert problem.location.text == '"Low'
    assert problem.location.position is not None


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_rule_index_agrees_with_scanning_every_rule(data: st.DataObject) -> None:
    defs = data.draw(tables(hit_policies=("RULE ORDER",)))
    model = compile_model(defs)
    table = model.decisions["Result"].logic.table
    assert table is not None
    frame = data.draw(frames(defs, max_rows=20))
    for i in range(len(frame)):
        row = {k: frame[k].iloc[i] for k in frame.columns}
        result = model.evaluate(row)
        env = feel.Env(dict(model._bind_inputs(row, [])), [])
        assert result.fired["Result"] == table.rule_matches_naively(env), row


@pytest.mark.parametrize("hit_policy", ["UNIQUE", "FIRST", "ANY", "PRIORITY", "RULE ORDER", "OUTPUT ORDER", "COLLECT"])
def test_no_rule_matched_is_null_with_information_naming_the_table(hit_policy: str) -> None:
    result = _model(RULES, hit_policy).evaluate({"Age": 20, "Risk": "Medium"})
    assert result.outputs["Decide"] is None and result.fired["Decide"] == []
    [problem] = result.problems
    assert (problem.severity, problem.code, problem.location.element) == ("info", "no-rule-matched", "Decide")
    assert result.ok  # information, not an error
    assert _model(RULES, hit_policy).evaluate({"Age": 20, "Risk": "Low"}).problems == []


def test_no_rule_matched_with_a_default_or_a_count_is_an_answer() -> None:
    outs = [OutputClause(name="Decision", default_output='"Refer"')]
    result = _model(RULES, "UNIQUE", outputs=outs).evaluate({"Age": 20, "Risk": "Medium"})
    assert result.outputs["Decide"] == "Refer" and result.problems == []
    counted = _model(RULES, "COLLECT", aggregation="COUNT").evaluate({"Age": 20, "Risk": "Medium"})
    assert counted.outputs["Decide"] == 0 and counted.problems == []
