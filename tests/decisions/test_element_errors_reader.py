"""A problem the reader finds inside one element's logic belongs to that element.

A rule with the wrong number of cells, an unknown expression element, a table without an
output, an unknown hit policy or aggregation, a malformed type, a literal expression without
text, a context entry without a name (but the last) or named twice, an invocation binding that
names no parameter: the element's logic is read as `BrokenLogic` holding the located problem
(file, line, element, path). The element gives null with that problem whenever it is evaluated;
the other elements evaluate as usual; the problem is one of the model's errors, so `check`
exits 1 listing it and the registry's gates refuse the model (tests/registry/
test_registry_gates.py). What makes the document unusable still refuses the model as a whole.
The writers write such logic back as it was read, in the format it was read from, and refuse
to translate it to another format with a located message.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

import decisions
from decisions.dmn import read_dmn, write_dmn
from decisions.errors import ModelError, Problem
from decisions.model import BrokenLogic, reader_problems
from decisions.yaml_format import read_yaml, write_yaml
from tests.test_cli import run

DMN = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20230324/MODEL/" id="m" name="broken logic"
             namespace="https://decisionary.dev/tests/broken-logic">
  <inputData id="x" name="x"><variable name="x" typeRef="number"/></inputData>
  <decision id="good" name="Good">
    <variable name="Good" typeRef="number"/>
    <informationRequirement><requiredInput href="#x"/></informationRequirement>
    <literalExpression><text>x + 1</text></literalExpression>
  </decision>
  <decision id="bad" name="Bad">
    <variable name="Bad" typeRef="{type}"/>
    <informationRequirement><requiredInput href="#x"/></informationRequirement>
    {logic}
  </decision>
  <decision id="after" name="After Bad">
    <informationRequirement><requiredDecision href="#bad"/></informationRequirement>
    <literalExpression><text>if Bad = null then "no value" else "a value"</text></literalExpression>
  </decision>
</definitions>
"""
BAD_LINE = 13  # the line of `{logic}` in DMN

TABLE = ('<decisionTable{attributes}><input><inputExpression><text>x</text></inputExpression></input>'
         '<output name="o"/><rule>{cells}<outputEntry><text>1</text></outputEntry></rule></decisionTable>')
ONE_CELL = "<inputEntry><text>-</text></inputEntry>"

# case: (the decision's typeRef, its logic, the message expected, its path in the decision)
DMN_CASES = {
    "a rule with the wrong number of input entries": (
        "number", TABLE.format(attributes="", cells=ONE_CELL * 2),
        "rule 1 has 2 input entries but the table has 1 input columns", "decisionTable/rule[1]"),
    "an unknown expression element": (
        "number", "<literalExpresion><text>1</text></literalExpresion>",
        "unknown or unsupported element <literalExpresion> in decision 'Bad'", None),
    "a decision table without an output": (
        "number", '<decisionTable><input><inputExpression><text>x</text></inputExpression></input></decisionTable>',
        "decision table has no <output> column", "decisionTable"),
    "an unknown hit policy": (
        "number", TABLE.format(attributes=' hitPolicy="SOMETIMES"', cells=ONE_CELL),
        "unknown hit policy 'SOMETIMES'", "decisionTable"),
    "an unknown aggregation": (
        "number", TABLE.format(attributes=' hitPolicy="COLLECT" aggregation="AVERAGE"', cells=ONE_CELL),
        "unknown aggregation 'AVERAGE'", "decisionTable"),
    "a literal expression without text": (
        "number", '<literalExpression id="empty"/>', "literal expression has no <text>", "literalExpression"),
    "a context entry without a variable that is not the last": (
        "number", '<context><contextEntry><literalExpression><text>1</text></literalExpression></contextEntry>'
                  '<contextEntry><literalExpression><text>2</text></literalExpression></contextEntry></context>',
        "context entry 1 has no <variable name=...>", "context/contextEntry[1]"),
    "an invocation binding without a parameter": (
        "number", '<invocation><literalExpression><text>f</text></literalExpression>'
                  '<binding><literalExpression><text>1</text></literalExpression></binding></invocation>',
        "invocation binding has no <parameter name=...>", "invocation"),
    "a context entry named twice": (
        "number", '<context><contextEntry><variable name="a"/><literalExpression><text>1</text></literalExpression>'
                  '</contextEntry><contextEntry><variable name="a"/><literalExpression><text>2</text>'
                  '</literalExpression></contextEntry><contextEntry><literalExpression><text>a</text>'
                  '</literalExpression></contextEntry></context>',
        "duplicate context entry 'a'", "context/contextEntry['a']"),
}


def dmn_text(case: str) -> str:
    type_ref, logic, _, _ = DMN_CASES[case]
    return DMN.replace("{type}", type_ref).replace("{logic}", logic)


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def assert_broken_alone(model: decisions.Model, path: Path, message: str) -> Problem:
    """`Bad` gives null with its one located problem; `Good` and what requires `Bad` evaluate."""
    [error] = model.errors
    assert message in error.message, error
    assert error.severity == "error"
    assert error.location.file == str(path) and error.location.element == "Bad"
    result = model.evaluate({"x": 1})
    assert result.outputs == {"Good": Decimal(2), "Bad": None, "After Bad": "no value"}
    assert result.problems == [error]  # reported once, by the decision in error
    assert model.evaluate({"x": 1}, decisions=["Good"]).problems == []
    return error


@pytest.mark.parametrize("case", list(DMN_CASES))
def test_a_dmn_decision_whose_logic_cannot_be_read_gives_null_with_its_located_problem(
        tmp_path: Path, case: str) -> None:
    path = write(tmp_path, "model.dmn", dmn_text(case))
    _, _, message, where = DMN_CASES[case]
    error = assert_broken_alone(decisions.load(path), path, message)
    assert error.location.path == where
    assert error.location.line is not None and error.location.line >= BAD_LINE
    assert f"{path}:{error.location.line}, 'Bad'" in str(error)


def test_a_rule_problem_names_its_rule_and_line(tmp_path: Path) -> None:
    text = dmn_text("a rule with the wrong number of input entries").replace("<rule>", "\n<rule>")
    path = write(tmp_path, "model.dmn", text)
    [error] = decisions.load(path).errors
    assert (error.location.rule, error.location.line, error.code) == (1, BAD_LINE + 1, "dmn-rule-shape")


def test_an_unknown_type_on_a_decision_is_its_own_error(tmp_path: Path) -> None:
    text = DMN.replace("{type}", "list&lt;").replace("{logic}", "<literalExpression><text>1</text></literalExpression>")
    path = write(tmp_path, "model.dmn", text)
    error = assert_broken_alone(decisions.load(path), path, "unknown type 'list<'")
    assert error.code == "unknown-type"


def test_a_broken_knowledge_model_fails_only_its_callers(tmp_path: Path) -> None:
    bkm = ('<businessKnowledgeModel id="f" name="f"><encapsulatedLogic kind="XSLT">'
           '<formalParameter name="n" typeRef="number"/><literalExpression><text>n</text></literalExpression>'
           '</encapsulatedLogic></businessKnowledgeModel>')
    text = dmn_text("an unknown expression element").replace("</definitions>", bkm + "\n</definitions>").replace(
        "<literalExpresion><text>1</text></literalExpresion>",
        '<invocation><literalExpression><text>f</text></literalExpression>'
        '<binding><parameter name="n"/><literalExpression><text>x</text></literalExpression></binding></invocation>')
    text = text.replace('<requiredInput href="#x"/></informationRequirement>\n    <invocation',
                        '<requiredInput href="#x"/></informationRequirement>\n    <knowledgeRequirement>'
                        '<requiredKnowledge href="#f"/></knowledgeRequirement><invocation')
    path = write(tmp_path, "model.dmn", text)
    model = decisions.load(path)
    [error] = model.errors
    assert error.location.element == "f" and "unknown function kind 'XSLT'" in error.message
    [bkm_logic] = [k.logic for k in model.definitions.knowledge_models]
    assert isinstance(bkm_logic, BrokenLogic) and [p.name for p in bkm_logic.parameters] == ["n"]
    result = model.evaluate({"x": 1})
    assert result.outputs == {"Good": Decimal(2), "Bad": None, "After Bad": "no value"}
    assert result.problems == [error]  # a call binding its parameter by name reports the reader's problem


def test_every_broken_element_is_listed_and_read_on(tmp_path: Path) -> None:
    second = ('<decision id="worse" name="Worse"><decisionTable hitPolicy="NEVER"><output name="o"/>'
              '</decisionTable></decision>\n</definitions>')
    path = write(tmp_path, "model.dmn", dmn_text("an unknown hit policy").replace("</definitions>", second))
    model = decisions.load(path)
    assert [(e.location.element, e.message.split(";")[0]) for e in model.errors] == [
        ("Bad", "unknown hit policy 'SOMETIMES'"), ("Worse", "unknown hit policy 'NEVER'")]
    assert model.evaluate({"x": 2}).outputs["Good"] == 3


# --- what still refuses the model as a whole -------------------------------------------------


@pytest.mark.parametrize(("edit", "message"), [
    (("</definitions>", '<inputDatum id="y" name="y"/></definitions>'), "unknown element <inputDatum> in <definitions>"),
    (('href="#x"', 'href="#nowhere"'), "names no element of this model"),
    (('id="after" name="After Bad"', 'id="after" name="Good"'), "the name 'Good' is used by a decision and a decision"),
    (("<decision id=\"good\" name=\"Good\">", "<decision id=\"good\" name=\"Good\" expressionLanguage=\"groovy\">"),
     "expressionLanguage 'groovy' on <decision>"),
    (('typeRef="number"/>\n    <informationRequirement><requiredInput href="#x"/></informationRequirement>\n    <context>',
      'typeRef="number"/>\n    <informationRequirement><requiredDecision href="#after"/></informationRequirement>\n'
      '    <context>'), "cycle"),
])
def test_what_makes_the_document_unusable_still_refuses_it(edit: tuple[str, str], message: str) -> None:
    text = dmn_text("a context entry named twice")
    assert edit[0] in text
    with pytest.raises(ModelError) as refused:
        decisions.load(text.replace(*edit).encode(), format="dmn")
    assert any(message in p.message for p in refused.value.problems), refused.value.problems


def test_a_non_feel_language_is_refused_naming_its_element() -> None:
    text = dmn_text("an unknown hit policy").replace('<literalExpression><text>x + 1',
                                                     '<literalExpression expressionLanguage="javascript"><text>x + 1')
    with pytest.raises(ModelError) as refused:
        read_dmn(text)
    [problem] = refused.value.problems
    assert problem.location.element == "Good" and problem.code == "dmn-expression-language"


# --- YAML ------------------------------------------------------------------------------------

YAML = """\
model: broken logic
namespace: https://decisionary.dev/tests/broken-logic
inputs:
  x: number
decisions:
  Good:
    type: number
    requires: [x]
    expression: x + 1
  Bad:
    requires: [x]
{logic}
  After Bad:
    requires: [Bad]
    expression: if Bad = null then "no value" else "a value"
"""
YAML_TABLE = "    table:\n      hit policy: {policy}\n      inputs: [x]\n      outputs: [{outputs}]\n      rules:\n{rules}"

# case: (the decision's keys, the message expected, its path)
YAML_CASES = {
    "a rule with the wrong number of cells": (
        YAML_TABLE.format(policy="FIRST", outputs="o", rules="        - ['-', '-', '1']"),
        "rule 1 has 3 cells but the table has 1 input + 1 output", "decisions.Bad.table.rules[1]"),
    "an unknown key (a misspelt expression kind)": (
        "    tabel:\n      inputs: [x]", "unknown key 'tabel' in decision 'Bad'", "decisions.Bad.tabel"),
    "a decision table without an output": (
        YAML_TABLE.format(policy="FIRST", outputs="", rules="        []").replace("        []", "      []")
        .replace("rules:\n      []", "rules: []"),
        "a decision table needs at least one output", "decisions.Bad.table.outputs"),
    "an unknown hit policy": (
        YAML_TABLE.format(policy="SOMETIMES", outputs="o", rules="        - ['-', '1']"),
        "unknown hit policy 'SOMETIMES'", "decisions.Bad.table.hit policy"),
    "an unknown aggregation": (
        YAML_TABLE.format(policy="COLLECT AVERAGE", outputs="o", rules="        - ['-', '1']"),
        "unknown hit policy 'COLLECT AVERAGE'", "decisions.Bad.table.hit policy"),
    "a malformed type": ("    type: [number]\n    expression: x", "'type' must be a text, not a list", "decisions.Bad.type"),
    "a context entry without a value": (
        "    context:\n      a: {type: number}\n    result: a", "context entry 'a' has no value expression",
        "decisions.Bad.context.a"),
    "an invocation with bindings that are not a mapping": (
        "    invoke: f\n    with: [x]", "'decisions.Bad.with' must be a mapping of names", "decisions.Bad.with"),
}


def yaml_text(case: str) -> str:
    return YAML.replace("{logic}", YAML_CASES[case][0])


@pytest.mark.parametrize("case", list(YAML_CASES))
def test_a_yaml_decision_whose_logic_cannot_be_read_gives_null_with_its_located_problem(
        tmp_path: Path, case: str) -> None:
    path = write(tmp_path, "model.yaml", yaml_text(case))
    _, message, where = YAML_CASES[case]
    error = assert_broken_alone(decisions.load(path), path, message)
    assert error.location.path == where
    assert error.location.line is not None and error.location.line >= 12  # within the decision 'Bad'


def test_a_broken_yaml_knowledge_model_fails_only_its_callers(tmp_path: Path) -> None:
    text = yaml_text("a malformed type").replace("    type: [number]\n    expression: x",
                                                 "    requires: {inputs: [x], knowledge: [f]}\n    invoke: f\n"
                                                 "    with: {n: x}").replace("  Bad:\n    requires: [x]\n", "  Bad:\n")
    text += "knowledge:\n  f:\n    parameters: {n: number}\n    table:\n      inputs: [n]\n      rules: [['-']]\n"
    path = write(tmp_path, "model.yaml", text)
    model = decisions.load(path)
    [error] = model.errors
    assert error.location.element == "f" and error.location.path == "knowledge.f.table.rules[1]"
    result = model.evaluate({"x": 1})
    assert result.outputs == {"Good": Decimal(2), "Bad": None, "After Bad": "no value"}
    assert result.problems == [error]


# --- check and the command line -------------------------------------------------------------


@pytest.mark.parametrize(("name", "text"), [
    ("model.dmn", dmn_text("a rule with the wrong number of input entries")),
    ("model.dmn", dmn_text("a context entry named twice")),
    ("model.yaml", yaml_text("an unknown key (a misspelt expression kind)")),
    ("model.yaml", yaml_text("a rule with the wrong number of cells")),
])
def test_check_lists_the_problem_and_exits_1(tmp_path: Path, name: str, text: str) -> None:
    path = write(tmp_path, name, text)
    [error] = decisions.load(path).errors
    checked = run("check", str(path))
    assert checked.returncode == 1, checked.stdout + checked.stderr
    assert "Traceback" not in checked.stdout + checked.stderr
    assert str(error) in checked.stdout
    assert f"1 error(s) in {path}" in checked.stdout


# --- writing a model whose logic could not be read -------------------------------------------


@pytest.mark.parametrize("case", list(DMN_CASES))
def test_dmn_writes_broken_dmn_logic_back_as_it_was_read(case: str) -> None:
    defs = read_dmn(dmn_text(case), file="model.dmn")
    [problem] = reader_problems(defs)
    written = write_dmn(defs)
    again = read_dmn(written, file="model.dmn")
    assert [p.message for p in reader_problems(again)] == [problem.message]
    assert write_dmn(again) == written  # stable
    [bad] = [d for d in again.decisions if d.name == "Bad"]
    assert isinstance(bad.logic, BrokenLogic) and bad.required_inputs == ["x"]


def test_broken_dmn_logic_keeps_its_vendor_namespaces_and_older_dmn_versions() -> None:
    logic = ('<decisionTable xmlns:v="urn:vendor" v:mark="1" hitPolicy="SOMETIMES"><input><inputExpression>'
             '<text>x</text></inputExpression></input><output name="o"/><v:note>kept</v:note></decisionTable>')
    text = DMN.replace("{type}", "number").replace("{logic}", logic).replace(
        "https://www.omg.org/spec/DMN/20230324/MODEL/", "http://www.omg.org/spec/DMN/20180521/MODEL/")
    written = write_dmn(read_dmn(text))
    assert 'hitPolicy="SOMETIMES"' in written and ":note>kept</" in written and ':mark="1"' in written
    assert "http://www.omg.org/spec/DMN/20180521/MODEL/" in written and "ns0:" not in written
    model = decisions.load(written.encode(), format="dmn")
    [error] = model.errors
    assert "unknown hit policy 'SOMETIMES'" in error.message and error.location.element == "Bad"


@pytest.mark.parametrize("case", list(YAML_CASES))
def test_yaml_writes_broken_yaml_logic_back_as_it_was_read(case: str) -> None:
    defs = read_yaml(yaml_text(case), file="model.yaml")
    [problem] = reader_problems(defs)
    written = write_yaml(defs)
    again = read_yaml(written, file="model.yaml")
    assert [p.message for p in reader_problems(again)] == [problem.message]
    assert write_yaml(again) == written
    evaluated = decisions.load(written.encode(), format="yaml").evaluate({"x": 1}).outputs
    assert evaluated == {"Good": Decimal(2), "Bad": None, "After Bad": "no value"}


def test_broken_logic_is_not_translated_to_another_format() -> None:
    from decisions.xlsx_format import write_xlsx

    from_dmn = read_dmn(dmn_text("an unknown hit policy"), file="model.dmn")
    with pytest.raises(ModelError) as refused:
        write_yaml(from_dmn)
    [problem] = refused.value.problems
    assert problem.location.element == "Bad" and problem.location.file == "model.dmn"
    assert "could not be read from DMN (unknown hit policy 'SOMETIMES'" in problem.message
    from_yaml = read_yaml(yaml_text("an unknown hit policy"), file="model.yaml")
    with pytest.raises(ModelError) as refused:
        write_dmn(from_yaml)
    [problem] = refused.value.problems
    assert problem.location.element == "Bad" and problem.code == "broken-logic"
    assert "cannot write DMN: the logic of 'Bad' could not be read from YAML" in problem.message
    with pytest.raises(ModelError, match="decision 'Bad', whose logic could not be read from YAML"):
        write_xlsx(from_yaml)


@pytest.mark.parametrize(("name", "text", "target"), [
    ("model.dmn", dmn_text("an unknown hit policy"), "yaml"),
    ("model.yaml", yaml_text("an unknown hit policy"), "dmn"),
])
def test_convert_refuses_broken_logic_to_another_format_with_its_location(
        tmp_path: Path, name: str, text: str, target: str) -> None:
    path = write(tmp_path, name, text)
    converted = run("convert", str(path), "--to", target, "-o", str(tmp_path / f"out.{target}"))
    assert converted.returncode != 0
    assert "Traceback" not in converted.stdout + converted.stderr
    assert "'Bad'" in converted.stdout + converted.stderr
    assert "could not be read from" in converted.stdout + converted.stderr


@pytest.mark.parametrize(("name", "text", "target"), [
    ("model.dmn", dmn_text("an unknown hit policy"), "dmn"),
    ("model.yaml", yaml_text("an unknown hit policy"), "yaml"),
])
def test_convert_to_the_same_format_writes_broken_logic_back_and_says_so(
        tmp_path: Path, name: str, text: str, target: str) -> None:
    path = write(tmp_path, name, text)
    out = tmp_path / f"out.{target}"
    converted = run("convert", str(path), "--to", target, "-o", str(out))
    assert converted.returncode == 0, converted.stdout + converted.stderr
    assert "unknown hit policy 'SOMETIMES'" in converted.stderr and "written as it was read" in converted.stderr
    [error] = decisions.load(out).errors
    assert error.location.element == "Bad" and "unknown hit policy 'SOMETIMES'" in error.message


def test_a_boxed_context_built_in_code_with_a_name_twice_is_its_decisions_error() -> None:
    from decisions.compiler import compile_model
    from decisions.model import Context, ContextEntry, Decision, Definitions, InputData, LiteralExpression

    context = Context([ContextEntry("a", LiteralExpression("1")), ContextEntry("a", LiteralExpression("2")),
                       ContextEntry(None, LiteralExpression("a"))])
    model = compile_model(Definitions("m", inputs=[InputData("x", "number")], decisions=[
        Decision("Good", LiteralExpression("x"), required_inputs=["x"]), Decision("Twice", context)]))
    [error] = model.errors
    assert error.location.element == "Twice" and "duplicate context entry 'a'" in error.message
    assert model.evaluate({"x": 3}).outputs == {"Good": 3, "Twice": None}


def test_a_reviewer_sees_whether_logic_that_could_not_be_read_changed() -> None:
    from decisions.diff import diff_definitions

    old = read_yaml(yaml_text("an unknown hit policy"))
    moved = read_yaml(yaml_text("an unknown hit policy").replace("decisions:\n", "decisions:\n\n\n"))
    assert diff_definitions(old, moved).identical  # the same text, on other lines
    fixed = read_yaml(yaml_text("an unknown hit policy").replace("SOMETIMES", "FIRST"))
    [change] = diff_definitions(old, fixed).changed
    assert (change.name, change.old_kind, change.new_kind) == ("Bad", "broken logic", "decision table")
    edited = read_yaml(yaml_text("an unknown hit policy").replace("SOMETIMES", "NEVER"))
    [change] = diff_definitions(old, edited).changed
    assert change.notes == ["the logic that could not be read changed"]
