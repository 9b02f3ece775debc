"""What models from other tools mean where DMN leaves room (decisions/dialects.py and the README's
dialect rules): Camunda models read undeclared names as inputs even when they draw input data,
read a required decision by its id, and convert Camunda's `integer`, `long` and `double` as
Camunda's engine does; imported models' types are read with the import's name."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

import decisions
from decisions.errors import ModelError
from decisions.itemtypes import convert_camunda_number

CAMUNDA = "http://camunda.org/schema/1.0/dmn"

DRG = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="d" name="Force users"
             namespace="{namespace}">
  <inputData id="color" name="Lightsaber color"/>
  <decision id="jedi_or_sith" name="Jedi or Sith">
    <informationRequirement><requiredInput href="#color"/></informationRequirement>
    <decisionTable id="t1">
      <input id="i1"><inputExpression typeRef="string"><text>lightsaberColor</text></inputExpression></input>
      <output id="o1" typeRef="string"/>
      <rule><inputEntry><text>"blue"</text></inputEntry><outputEntry><text>"Jedi"</text></outputEntry></rule>
      <rule><inputEntry><text>"red"</text></inputEntry><outputEntry><text>"Sith"</text></outputEntry></rule>
    </decisionTable>
  </decision>
  <decision id="force_user" name="Which force user?">
    <informationRequirement><requiredDecision href="#jedi_or_sith"/></informationRequirement>
    <informationRequirement><requiredDecision href="#jedi_or_sith"/></informationRequirement>
    <decisionTable id="t2" hitPolicy="FIRST">
      <input id="i2"><inputExpression typeRef="string"><text>jedi_or_sith</text></inputExpression></input>
      <input id="i3"><inputExpression typeRef="integer"><text>height</text></inputExpression></input>
      <output id="o2" typeRef="long"/>
      <rule><inputEntry><text>"Jedi"</text></inputEntry><inputEntry><text>&gt; 180</text></inputEntry>
        <outputEntry><text>height * 2</text></outputEntry></rule>
      <rule><inputEntry><text>-</text></inputEntry><inputEntry><text>-</text></inputEntry>
        <outputEntry><text>height / 4</text></outputEntry></rule>
    </decisionTable>
  </decision>
</definitions>
"""


def test_a_camunda_model_reads_names_its_input_data_do_not_declare() -> None:
    model = decisions.load(DRG.format(namespace=CAMUNDA).encode(), format="dmn")
    assert "lightsaberColor" in model.input_names and "height" in model.input_names
    result = model.evaluate({"lightsaberColor": "blue", "height": 182})
    assert result.outputs == {"Jedi or Sith": "Jedi", "Which force user?": Decimal(364)}
    assert result.fired["Which force user?"] == [1]


def test_the_https_form_of_the_camunda_namespace_is_camunda_too() -> None:
    model = decisions.load(DRG.format(namespace="https://camunda.org/schema/1.0/dmn").encode(), format="dmn")
    assert "lightsaberColor" in model.input_names


def test_other_models_that_declare_input_data_still_reject_undeclared_names() -> None:
    with pytest.raises(ModelError, match="lightsaberColor"):
        model = decisions.load(DRG.format(namespace="https://kie.org/dmn/force").encode(), format="dmn")
        # An element that does not compile may be reported rather than raised.
        raise ModelError([p for p in model.problems if p.severity == "error"])


def test_camunda_integer_inputs_and_long_outputs_convert_as_camunda_does() -> None:
    model = decisions.load(DRG.format(namespace=CAMUNDA).encode(), format="dmn")
    # "182" converts for the column (rule 1 fires); the variable itself stays text, as in Camunda
    assert model.evaluate({"lightsaberColor": "blue", "height": "182"}).fired["Which force user?"] == [1]
    assert model.evaluate({"lightsaberColor": "blue", "height": "170"}).fired["Which force user?"] == [2]
    # 170 / 4 is not whole: a long output does not take it
    result = model.evaluate({"lightsaberColor": "red", "height": 170})
    assert result.outputs["Which force user?"] is None
    assert any("output is typed long: 42.5 is not a long" in str(p) for p in result.problems)
    result = model.evaluate({"lightsaberColor": "blue", "height": 181.5})
    assert any("input is typed integer: 181.5 is not an integer" in str(p) for p in result.problems)


@pytest.mark.parametrize(("value", "kind", "expected"), [
    (Decimal(4), "integer", Decimal(4)), (Decimal("4.0"), "integer", Decimal(4)), ("4", "integer", Decimal(4)),
    ("-12", "long", Decimal(-12)), (Decimal(2**31 - 1), "integer", Decimal(2**31 - 1)),
    (Decimal(2**31), "long", Decimal(2**31)), ("4.2", "double", Decimal("4.2")), (" 1e3 ", "double", Decimal("1e3")),
    (Decimal("0.1"), "double", Decimal("0.1")), (None, "integer", None),
])
def test_camunda_numbers_convert(value: object, kind: str, expected: object) -> None:
    assert convert_camunda_number(value, kind) == (expected, None)


@pytest.mark.parametrize(("value", "kind"), [
    (Decimal("4.2"), "integer"), ("4.2", "integer"), ("NaI", "integer"), (True, "integer"), (" 4", "integer"),
    (Decimal(2**31), "integer"), (Decimal(2**63), "long"), ("4.2", "long"), ("NaD", "double"), (False, "double"),
])
def test_camunda_numbers_that_do_not_convert(value: object, kind: str) -> None:
    converted, why = convert_camunda_number(value, kind)
    assert converted is None and why


def test_input_data_typed_integer_convert_too() -> None:
    text = """<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="d" name="D" namespace="https://x.org/d">
      <inputData id="n" name="N"><variable name="N" typeRef="integer"/></inputData>
      <decision id="dd" name="Twice"><variable name="Twice" typeRef="number"/>
        <informationRequirement><requiredInput href="#n"/></informationRequirement>
        <literalExpression><text>N * 2</text></literalExpression></decision></definitions>"""
    model = decisions.load(text.encode(), format="dmn")
    assert model.evaluate({"N": "21"}).outputs["Twice"] == 42
    result = model.evaluate({"N": 2.5})
    assert result.outputs["Twice"] is None
    assert any("2.5 is not an integer" in str(p) for p in result.problems)


def test_a_dmn_16_model_loads() -> None:
    text = """<definitions xmlns="https://www.omg.org/spec/DMN/20240513/MODEL/" id="d" name="D" namespace="https://x.org/d">
      <decision id="dd" name="One"><literalExpression><text>1</text></literalExpression></decision></definitions>"""
    defs = decisions.read_definitions(text.encode(), format="dmn")
    assert defs.dmn_version == "1.6"
    assert decisions.load(text.encode(), format="dmn").evaluate({}).outputs["One"] == 1


BASE = """<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="b" name="Base" namespace="https://x.org/base">
  <itemDefinition name="tAge"><typeRef>number</typeRef><allowedValues><text>[0..150]</text></allowedValues></itemDefinition>
  <itemDefinition name="tPerson"><itemComponent name="name"><typeRef>string</typeRef></itemComponent>
    <itemComponent name="age"><typeRef>tAge</typeRef></itemComponent></itemDefinition>
  <decision id="greet" name="Greeting"><literalExpression><text>"Hello"</text></literalExpression></decision>
</definitions>"""
USE = """<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="u" name="Use" namespace="https://x.org/use">
  <import name="base" namespace="https://x.org/base" importType="https://www.omg.org/spec/DMN/20191111/MODEL/"/>
  <inputData id="p" name="Person"><variable name="Person" typeRef="base.tPerson"/></inputData>
  <decision id="d" name="Say"><variable name="Say" typeRef="string"/>
    <informationRequirement><requiredInput href="#p"/></informationRequirement>
    <informationRequirement><requiredDecision href="https://x.org/base#greet"/></informationRequirement>
    <literalExpression><text>base.Greeting + ", " + Person.name</text></literalExpression></decision>
</definitions>"""


def test_imported_item_definitions_are_read_with_the_import_name(tmp_path: Path) -> None:
    """The imported file is found by namespace, whatever its name; its types check the values."""
    (tmp_path / "anything.dmn").write_text(BASE, encoding="utf-8")
    (tmp_path / "use.dmn").write_text(USE, encoding="utf-8")
    model = decisions.load(tmp_path / "use.dmn")
    assert model.evaluate({"Person": {"name": "Ann", "age": 30}}).outputs["Say"] == "Hello, Ann"
    result = model.evaluate({"Person": {"name": "Ann", "age": 200}})  # tAge, through base.tPerson
    assert result.outputs["Say"] is None
    assert any("base.tPerson" in str(p) and "tAge" in str(p) for p in result.problems), result.problems
