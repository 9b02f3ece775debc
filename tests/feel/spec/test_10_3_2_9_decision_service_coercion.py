"""DMN 1.5, 10.3.2.9.4 applied where FEEL invokes a decision service: the arguments are
converted to the types of the service's input data ("to/from singleton list"), a value that
does not conform is null, and so is an output decision's value that does not conform."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

import decisions

MODEL = """<definitions xmlns="https://www.omg.org/spec/DMN/20230324/MODEL/" namespace="http://example.com/svc" name="svc" id="svc">
  <inputData name="n" id="n"><variable name="n" typeRef="number"/></inputData>
  <inputData name="names" id="names"><variable name="names" typeRef="tNames"/></inputData>
  <itemDefinition name="tNames" isCollection="true"><typeRef>string</typeRef></itemDefinition>
  <decision name="Double" id="Double">
    <variable name="Double" typeRef="number"/>
    <informationRequirement><requiredInput href="#n"/></informationRequirement>
    <literalExpression><text>n * 2</text></literalExpression>
  </decision>
  <decision name="Count" id="Count">
    <variable name="Count" typeRef="number"/>
    <informationRequirement><requiredInput href="#names"/></informationRequirement>
    <literalExpression><text>count(names)</text></literalExpression>
  </decision>
  <decision name="Label" id="Label">
    <variable name="Label" typeRef="string"/>
    <informationRequirement><requiredInput href="#n"/></informationRequirement>
    <literalExpression><text>if n > 0 then "positive" else 0</text></literalExpression>
  </decision>
  <decisionService name="doubler" id="doubler">
    <variable name="doubler"/>
    <outputDecision href="#Double"/>
    <inputData href="#n"/>
  </decisionService>
  <decisionService name="counter" id="counter">
    <variable name="counter"/>
    <outputDecision href="#Count"/>
    <inputData href="#names"/>
  </decisionService>
  <decisionService name="labeller" id="labeller">
    <variable name="labeller"/>
    <outputDecision href="#Label"/>
    <inputData href="#n"/>
  </decisionService>
  <decision name="Calls" id="Calls">
    <variable name="Calls"/>
    <knowledgeRequirement><requiredKnowledge href="#doubler"/></knowledgeRequirement>
    <knowledgeRequirement><requiredKnowledge href="#counter"/></knowledgeRequirement>
    <knowledgeRequirement><requiredKnowledge href="#labeller"/></knowledgeRequirement>
    <context>
      <contextEntry><variable name="positional"/><literalExpression><text>doubler(5)</text></literalExpression></contextEntry>
      <contextEntry><variable name="named"/><literalExpression><text>doubler(n: 5)</text></literalExpression></contextEntry>
      <contextEntry><variable name="from singleton"/><literalExpression><text>doubler([5])</text></literalExpression></contextEntry>
      <contextEntry><variable name="wrong type"/><literalExpression><text>doubler("5")</text></literalExpression></contextEntry>
      <contextEntry><variable name="to singleton"/><literalExpression><text>counter("a")</text></literalExpression></contextEntry>
      <contextEntry><variable name="list"/><literalExpression><text>counter(["a", "b"])</text></literalExpression></contextEntry>
      <contextEntry><variable name="wrong items"/><literalExpression><text>counter([1, 2])</text></literalExpression></contextEntry>
      <contextEntry><variable name="output conforms"/><literalExpression><text>labeller(1)</text></literalExpression></contextEntry>
      <contextEntry><variable name="output does not conform"/><literalExpression><text>labeller(-1)</text></literalExpression></contextEntry>
    </context>
  </decision>
</definitions>
"""


@pytest.fixture(scope="module")
def calls() -> dict[str, Any]:
    result = decisions.load(MODEL.encode()).evaluate({})
    value = result.outputs["Calls"]
    assert isinstance(value, dict)
    return value


def test_positional_and_named_arguments_bind_the_inputs(calls: dict[str, Any]) -> None:
    assert calls["positional"] == Decimal(10)
    assert calls["named"] == Decimal(10)


def test_a_singleton_list_argument_becomes_its_element(calls: dict[str, Any]) -> None:
    assert calls["from singleton"] == Decimal(10)


def test_an_element_for_a_collection_input_becomes_a_singleton_list(calls: dict[str, Any]) -> None:
    assert calls["to singleton"] == Decimal(1)
    assert calls["list"] == Decimal(2)


def test_a_non_conforming_argument_is_null(calls: dict[str, Any]) -> None:
    assert calls["wrong type"] is None
    assert calls["wrong items"] is None


def test_an_output_is_checked_against_its_decision_type(calls: dict[str, Any]) -> None:
    assert calls["output conforms"] == "positive"
    assert calls["output does not conform"] is None


def test_the_reasons_are_reported() -> None:
    problems = [p.message for p in decisions.load(MODEL.encode()).evaluate({}).problems]
    assert any("input 'n': expected number, got string" in m for m in problems)
    assert any("result of decision 'Label': expected string, got number" in m for m in problems)


DATES = """<definitions xmlns="https://www.omg.org/spec/DMN/20230324/MODEL/" namespace="http://example.com/dates"
             name="dates" id="dates">
  <inputData name="when" id="when"><variable name="when" typeRef="date and time"/></inputData>
  <itemDefinition name="tMoments" isCollection="true"><typeRef>date and time</typeRef></itemDefinition>
  <decision name="Start" id="Start">
    <variable name="Start" typeRef="date and time"/>
    <literalExpression><text>date("2020-01-02")</text></literalExpression>
  </decision>
  <decision name="Moments" id="Moments">
    <variable name="Moments" typeRef="tMoments"/>
    <literalExpression><text>[date("2020-01-02"), date and time("2020-01-03T10:00:00")]</text></literalExpression>
  </decision>
  <decision name="Plain date" id="PlainDate">
    <variable name="Plain date" typeRef="date"/>
    <literalExpression><text>date and time("2020-01-03T10:00:00")</text></literalExpression>
  </decision>
  <decision name="Echo" id="Echo">
    <variable name="Echo"/>
    <informationRequirement><requiredInput href="#when"/></informationRequirement>
    <literalExpression><text>when</text></literalExpression>
  </decision>
</definitions>"""


def test_a_date_for_a_date_and_time_decision_or_input_becomes_utc_midnight() -> None:
    import datetime as dt

    model = decisions.load(DATES.encode())
    result = model.evaluate({"when": dt.date(2021, 5, 6)})
    midnight = dt.datetime(2020, 1, 2, tzinfo=dt.UTC)
    assert result.outputs["Start"] == midnight
    assert result.outputs["Moments"] == [midnight, dt.datetime(2020, 1, 3, 10)]
    assert result.outputs["Echo"] == dt.datetime(2021, 5, 6, tzinfo=dt.UTC)
    # there is no conversion the other way
    assert result.outputs["Plain date"] is None
