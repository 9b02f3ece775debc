"""One element that does not compile does not take the model down (the DMN spec's error semantics).

The element's errors are listed in `Model.problems` (so `decisionary check` and the registry's
gates still refuse the model), and the element compiles to logic that gives null and reports
them, located, whenever it is evaluated; everything that does not depend on it evaluates as
usual, and what requires it sees null. What makes the model as a whole ambiguous (a name used
twice, a requirement cycle) still refuses the model."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

import decisions
from decisions.compiler import compile_model
from decisions.dmn import read_dmn
from decisions.errors import InputError, ModelError
from decisions.model import Decision, DecisionService, Definitions, InputData, LiteralExpression
from decisions.tck import run_tck
from tests.test_cli import run

YAML_MODEL = """\
model: broken parts
namespace: https://decisionary.dev/tests/broken-parts
inputs:
  Income: number
  Score: number
decisions:
  Good:
    requires: [Income]
    expression: Income * 2
  Bad:
    requires: [Income]
    expression: Income +* 2
  Uses Bad:
    requires: [Bad]
    expression: if Bad = null then "no value" else "a value"
  Band:
    requires: [Score]
    table:
      hit policy: FIRST
      inputs: [Score]
      outputs: [Band]
      rules:
        - ['>= 7OO', '"high"']
        - ['-', '"low"']
  Tier:
    requires: [Score]
    table:
      hit policy: FIRST
      inputs: [Score]
      outputs: [Tier]
      rules:
        - ['>= 700', '"gold"']
        - ['-', '"plain"']
"""

DMN_MODEL = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20230324/MODEL/" id="bkm" name="Broken knowledge"
             namespace="https://decisionary.dev/tests/broken-knowledge">
  <inputData id="x" name="x"><variable name="x" typeRef="number"/></inputData>
  <businessKnowledgeModel id="double" name="double">
    <encapsulatedLogic>
      <formalParameter name="n" typeRef="number"/>
      <literalExpression><text>n * 2</text></literalExpression>
    </encapsulatedLogic>
  </businessKnowledgeModel>
  <businessKnowledgeModel id="broken" name="broken">
    <encapsulatedLogic>
      <formalParameter name="n" typeRef="number"/>
      <literalExpression><text>n + (1</text></literalExpression>
    </encapsulatedLogic>
  </businessKnowledgeModel>
  <decision id="d1" name="Calls broken">
    <informationRequirement><requiredInput href="#x"/></informationRequirement>
    <knowledgeRequirement><requiredKnowledge href="#broken"/></knowledgeRequirement>
    <literalExpression><text>broken(x)</text></literalExpression>
  </decision>
  <decision id="d2" name="Calls double">
    <informationRequirement><requiredInput href="#x"/></informationRequirement>
    <knowledgeRequirement><requiredKnowledge href="#double"/></knowledgeRequirement>
    <literalExpression><text>double(x)</text></literalExpression>
  </decision>
  <decision id="d3" name="Unknown function">
    <informationRequirement><requiredInput href="#x"/></informationRequirement>
    <literalExpression><text>tripple(x)</text></literalExpression>
  </decision>
  <decisionService id="s1" name="Doubling">
    <outputDecision href="#d2"/>
    <inputData href="#x"/>
  </decisionService>
</definitions>
"""


@pytest.fixture(scope="module")
def yaml_model() -> decisions.Model:
    return decisions.load(YAML_MODEL.encode(), format="yaml")


@pytest.fixture(scope="module")
def dmn_model() -> decisions.Model:
    return decisions.load(DMN_MODEL.encode(), format="dmn")


# --- evaluation: null and a located problem for the broken element, the rest as usual ------------------


def test_a_broken_literal_expression_gives_null_beside_a_good_decision(yaml_model: decisions.Model) -> None:
    result = yaml_model.evaluate({"Income": 10, "Score": 650}, decisions=["Good", "Bad"])
    assert result.outputs == {"Good": Decimal(20), "Bad": None}
    [problem] = result.problems
    assert problem.severity == "error" and problem.code == "feel-syntax"
    assert problem.location.element == "Bad"
    assert problem.location.text == "Income +* 2" and problem.location.position == 8
    assert "'Bad'" in str(problem) and "'Income +* 2'" in str(problem)
    assert yaml_model.evaluate({"Income": 10, "Score": 650}, decisions=["Good"]).problems == []


def test_a_decision_requiring_a_broken_one_sees_null(yaml_model: decisions.Model) -> None:
    result = yaml_model.evaluate({"Income": 10, "Score": 650}, decisions=["Uses Bad"])
    assert result.outputs == {"Uses Bad": "no value"}
    assert [p.location.element for p in result.problems] == ["Bad"]  # the cause is reported with it


def test_a_broken_table_cell_makes_its_table_null_with_rule_and_column(yaml_model: decisions.Model) -> None:
    result = yaml_model.evaluate({"Income": 10, "Score": 750})
    assert result.outputs["Band"] is None
    assert result.outputs["Tier"] == "gold" and result.fired["Tier"] == [1]
    assert "Band" not in result.fired  # no rule of a table that does not compile fires
    [band] = [p for p in result.problems if p.location.element == "Band"]
    assert (band.location.rule, band.location.column, band.location.text) == (1, "Score", ">= 7OO")


def test_the_model_lists_each_broken_element_once(yaml_model: decisions.Model) -> None:
    assert [(p.location.element, p.code) for p in yaml_model.errors] == [("Bad", "feel-syntax"),
                                                                        ("Band", "feel-syntax")]
    assert yaml_model.decision_names == ["Good", "Bad", "Uses Bad", "Band", "Tier"]


def test_a_broken_bkm_breaks_only_the_decisions_that_call_it(dmn_model: decisions.Model) -> None:
    result = dmn_model.evaluate({"x": 4})
    assert result.outputs["Calls double"] == 8
    assert result.outputs["Calls broken"] is None
    broken = [p for p in result.problems if p.location.element == "broken"]
    assert len(broken) == 1 and broken[0].location.text == "n + (1"
    alone = dmn_model.evaluate({"x": 4}, decisions=["Calls double"])
    assert alone.outputs == {"Calls double": 8} and alone.problems == []


def test_an_unknown_function_is_an_error_of_its_decision(dmn_model: decisions.Model) -> None:
    [error] = [p for p in dmn_model.errors if p.location.element == "Unknown function"]
    assert error.code == "unknown-name" and "'tripple'" in error.message
    result = dmn_model.evaluate({"x": 4}, decisions=["Unknown function"])
    assert result.outputs == {"Unknown function": None} and result.problems == [error]


def test_a_service_naming_an_absent_decision_gives_null_and_others_answer(dmn_model: decisions.Model) -> None:
    assert dmn_model.invoke_service("Doubling", {"x": 3}).outputs == {"Doubling": 6}
    # The readers refuse a reference to nothing; a model built in code reaches the compiler with one.
    defs = read_dmn(DMN_MODEL)
    defs.services.append(DecisionService("Nowhere", ["Absent"], input_data=["x"]))
    model = compile_model(defs)
    assert model.invoke_service("Doubling", {"x": 3}).outputs == {"Doubling": 6}
    nowhere = model.invoke_service("Nowhere", {"x": 3})
    assert nowhere.outputs == {"Nowhere": None}
    [problem] = nowhere.problems
    assert problem.location.element == "Nowhere" and problem.code == "requirement"
    assert problem in model.errors


def test_a_requirement_naming_nothing_is_an_error_of_its_decision() -> None:
    defs = Definitions("r", inputs=[InputData("x", "number")], decisions=[
        Decision("Good", LiteralExpression("x + 1"), required_inputs=["x"]),
        Decision("Dangling", LiteralExpression("x + 2"), required_inputs=["x"], required_decisions=["Gone"])])
    model = compile_model(defs)
    result = model.evaluate({"x": 1})
    assert result.outputs == {"Good": 2, "Dangling": None}
    [problem] = result.problems
    assert problem.location.element == "Dangling" and "'Gone'" in problem.message
    assert model.errors == [problem]


def test_an_input_of_an_unknown_type_is_null_with_its_error() -> None:
    text = YAML_MODEL.replace("Score: number", "Score: numbr")
    model = decisions.load(text.encode(), format="yaml")
    [error] = [p for p in model.errors if p.location.element == "Score"]
    assert error.code == "unknown-type"
    result = model.evaluate({"Income": 3, "Score": 750}, decisions=["Good", "Tier"])
    assert result.outputs == {"Good": 6, "Tier": "plain"}  # Score is null, whatever was given
    assert error in result.problems


def test_what_makes_the_whole_model_ambiguous_still_refuses_it() -> None:
    duplicate = Definitions("d", inputs=[InputData("x", "number")], decisions=[
        Decision("x", LiteralExpression("1")), Decision("Other", LiteralExpression("2"))])
    with pytest.raises(ModelError, match="the name 'x' is used by a input data and a decision"):
        compile_model(duplicate)
    cycle = YAML_MODEL.replace("requires: [Income]\n    expression: Income * 2",
                               "requires: [Uses Bad]\n    expression: Uses Bad").replace(
        "requires: [Income]\n    expression: Income +* 2", "requires: [Good]\n    expression: Good")
    with pytest.raises(ModelError, match="cycle"):
        decisions.load(cycle.encode(), format="yaml")


# --- batch and explain -------------------------------------------------------------------------------


def test_batch_gives_a_column_of_nulls_and_the_problem_on_every_row(yaml_model: decisions.Model) -> None:
    frame = pd.DataFrame({"Income": [1, 2, 3], "Score": [800, 600, 700]})
    out = yaml_model.evaluate_batch(frame)
    assert out["Bad"].tolist() == [None, None, None]
    assert out["Band"].tolist() == [None, None, None]
    assert out["Uses Bad"].tolist() == ["no value"] * 3
    assert out["Tier"].tolist() == ["gold", "plain", "gold"]
    assert [float(v) for v in out["Good"]] == [2.0, 4.0, 6.0]
    for i, problems in enumerate(out["problems"].tolist()):
        row = yaml_model.evaluate({"Income": i + 1, "Score": [800, 600, 700][i]})
        assert sorted(str(p) for p in problems) == sorted(str(p) for p in row.problems)
        assert {p.location.element for p in problems} == {"Bad", "Band"}


def test_batch_with_a_broken_bkm_and_service(dmn_model: decisions.Model) -> None:
    out = dmn_model.evaluate_batch(pd.DataFrame({"x": [1, 2]}))
    assert out["Calls double"].tolist() == [2, 4] and out["Calls broken"].tolist() == [None, None]
    assert out["Unknown function"].tolist() == [None, None]
    assert all({"broken", "Unknown function"} <= {p.location.element for p in row} for row in out["problems"])


def test_explain_runs_beside_a_broken_decision_and_says_why_it_cannot_explain_it(
        yaml_model: decisions.Model) -> None:
    [first] = yaml_model.explain({"Income": 1, "Score": 720}, "Tier", 1)
    assert first.fired and first.matched
    with pytest.raises(InputError, match="'Band' does not compile .*unexpected"):
        yaml_model.explain({"Income": 1, "Score": 720}, "Band")
    traced = yaml_model.evaluate({"Income": 1, "Score": 720}, trace="explain")
    assert traced.trace is not None
    assert {s.decision: s.kind for s in traced.trace}["Band"] == "error"


# --- check, the command line and the TCK runner -------------------------------------------------------


@pytest.mark.parametrize(("name", "text"), [("model.yaml", YAML_MODEL), ("model.dmn", DMN_MODEL)])
def test_check_lists_every_error_with_its_location_and_exits_1(tmp_path: Path, name: str, text: str) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    model = decisions.load(path)
    checked = run("check", str(path))
    assert checked.returncode == 1, checked.stderr
    assert "Traceback" not in checked.stdout + checked.stderr
    for error in model.errors:
        assert str(error) in checked.stdout
    assert f"{len(model.errors)} error(s) in {path}" in checked.stdout
    if name == "model.yaml":
        assert "'Band', rule 1, column 'Score'" in checked.stdout and "'>= 7OO'" in checked.stdout


def test_eval_on_the_command_line_answers_the_good_decisions(tmp_path: Path) -> None:
    path = tmp_path / "model.yaml"
    path.write_text(YAML_MODEL, encoding="utf-8")
    evaluated = run("eval", str(path), "--input", '{"Income": 5, "Score": 710}', "--json")
    assert evaluated.returncode == 1  # the result holds errors
    answer = json.loads(evaluated.stdout)
    assert answer["outputs"]["Good"] == 10 and answer["outputs"]["Tier"] == "gold"
    assert answer["outputs"]["Bad"] is None
    assert {p["location"]["element"] for p in answer["problems"]} == {"Bad", "Band"}


TCK_CASES = """<testCases xmlns="http://www.omg.org/spec/DMN/20160719/testcase"
  xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema">
  <modelName>0001-broken-part.dmn</modelName>
  <testCase id="good">
    <inputNode name="x"><value xsi:type="xsd:decimal">5</value></inputNode>
    <resultNode name="Calls double"><expected><value xsi:type="xsd:decimal">10</value></expected></resultNode>
  </testCase>
  <testCase id="broken">
    <inputNode name="x"><value xsi:type="xsd:decimal">5</value></inputNode>
    <resultNode name="Calls broken" errorResult="true"><expected><value xsi:nil="true"/></expected></resultNode>
  </testCase>
</testCases>
"""


def test_the_tck_runner_runs_the_other_cases_of_a_model_with_a_broken_element(tmp_path: Path) -> None:
    folder = tmp_path / "0001-broken-part"
    folder.mkdir()
    (folder / "0001-broken-part.dmn").write_text(DMN_MODEL, encoding="utf-8")
    (folder / "0001-broken-part-test-01.xml").write_text(TCK_CASES, encoding="utf-8")
    report = run_tck([tmp_path])
    assert [(r.case_id, r.status) for r in report.results] == [("good", "SUCCESS"), ("broken", "SUCCESS")]


# --- readers that locate better: a workbook's cell ----------------------------------------------------


def test_a_workbook_cell_that_does_not_parse_is_an_error_of_its_table_at_its_cell() -> None:
    from tests.decisions.test_xlsx_format import rates, workbook

    model = decisions.load(workbook({"Rates": rates(rule_1=">= 6OO")}), format="xlsx")
    [error] = model.errors
    assert error.location.path == "Rates!B9" and error.location.rule == 1
    assert model.evaluate({"Score": 650}).problems == [error]
