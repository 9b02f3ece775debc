"""Loading and evaluating whole models: graph order, errors with locations, input typing."""

from __future__ import annotations

from decimal import Decimal

import pytest

import decisions
from decisions.compiler import compile_model
from decisions.model import Decision, Definitions, InputData, LiteralExpression

DMN15 = "https://www.omg.org/spec/DMN/20230324/MODEL/"


def _dmn(body: str) -> str:
    return f'<definitions xmlns="{DMN15}" namespace="urn:t" name="t" id="t">{body}</definitions>'


def test_cycle_is_a_load_error_naming_the_cycle() -> None:
    defs = Definitions("c", decisions=[
        Decision("A", LiteralExpression("B + 1"), required_decisions=["B"]),
        Decision("B", LiteralExpression("C + 1"), required_decisions=["C"]),
        Decision("C", LiteralExpression("A + 1"), required_decisions=["A"]),
    ])
    with pytest.raises(decisions.ModelError) as caught:
        compile_model(defs)
    assert "cycle" in str(caught.value)
    assert "A -> B -> C -> A" in str(caught.value)


def test_decisions_evaluate_in_dependency_order() -> None:
    defs = Definitions("o", inputs=[InputData("x", "number")], decisions=[
        Decision("Total", LiteralExpression("Double + 1"), required_decisions=["Double"]),
        Decision("Double", LiteralExpression("x * 2"), required_inputs=["x"]),
    ])
    model = compile_model(defs)
    assert model.decision_names == ["Double", "Total"]
    assert model.evaluate({"x": 4}).outputs == {"Double": Decimal(8), "Total": Decimal(9)}


def test_wrong_input_type_is_null_with_a_message() -> None:
    defs = Definitions("w", inputs=[InputData("Age", "number")], decisions=[
        Decision("Adult", LiteralExpression("Age >= 18"), required_inputs=["Age"])])
    result = compile_model(defs).evaluate({"Age": "forty"})
    assert result.outputs["Adult"] is None
    assert any("Age" in p.message and "number" in p.message for p in result.problems)


def test_missing_required_input_is_reported() -> None:
    defs = Definitions("m", inputs=[InputData("Age", "number")], decisions=[
        Decision("Adult", LiteralExpression("Age >= 18"), required_inputs=["Age"])])
    result = compile_model(defs).evaluate({})
    assert result.outputs["Adult"] is None
    assert any(p.code == "missing-input" and "Age" in p.message for p in result.problems)


def test_undeclared_variables_are_read_from_the_inputs_camunda_style() -> None:
    defs = Definitions("camunda", decisions=[
        Decision("Greeting", LiteralExpression('"Hello " + customerName'))])
    model = compile_model(defs)
    assert "customerName" in model.input_names
    assert model.evaluate({"customerName": "Ada"}).outputs["Greeting"] == "Hello Ada"
    assert any(p.code == "implicit-input" for p in model.problems)


def test_inputs_that_are_not_a_mapping_are_refused() -> None:
    defs = Definitions("x", decisions=[Decision("One", LiteralExpression("1"))])
    with pytest.raises(decisions.InputError):
        compile_model(defs).evaluate(["not", "a", "dict"])  # type: ignore[arg-type]


@pytest.mark.parametrize("text, fragment", [
    ("this is not xml", "not"),
    ("<html><body/></html>", "definitions"),
    ('<definitions xmlns="urn:unknown" name="x"/>', "namespace"),
    ('<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]>'
     f'<definitions xmlns="{DMN15}" name="&b;"/>', ""),
    ('<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
     f'<definitions xmlns="{DMN15}" name="&x;"/>', ""),
])
def test_bad_files_are_refused_with_a_clear_error(text: str, fragment: str) -> None:
    with pytest.raises(decisions.ModelError) as caught:
        decisions.load(text.encode() if text.startswith("<") else text, format="dmn")
    assert fragment.lower() in str(caught.value).lower()
    assert "Traceback" not in str(caught.value)


def test_trace_lists_each_decision_with_inputs_and_rules() -> None:
    defs = Definitions("t", inputs=[InputData("x", "number")], decisions=[
        Decision("Double", LiteralExpression("x * 2"), required_inputs=["x"])])
    result = compile_model(defs).evaluate({"x": 2}, trace=True)
    assert result.trace is not None
    assert result.trace[0].decision == "Double"
    assert result.trace[0].inputs == {"x": Decimal(2)}
    assert result.to_json()["trace"][0]["output"] == 4


def test_unknown_decision_requested() -> None:
    defs = Definitions("x", decisions=[Decision("One", LiteralExpression("1"))])
    with pytest.raises(decisions.InputError):
        compile_model(defs).evaluate({}, decisions=["Two"])


def test_literal_decision_with_syntax_error_is_located() -> None:
    model = decisions.load(_dmn('<decision name="Bad" id="b"><literalExpression><text>1 + (2</text>'
                                '</literalExpression></decision>'))
    problem = model.errors[0]
    assert problem.location.element == "Bad"
    assert problem.location.text == "1 + (2"
