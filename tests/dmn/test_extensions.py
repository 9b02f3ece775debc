"""Vendor extensions (Camunda's attributes, `extensionElements` content) kept through DMN and YAML."""

from __future__ import annotations

import defusedxml.ElementTree as SafeET
import pytest

from decisions.dmn import read_dmn, write_dmn
from decisions.errors import ModelError
from decisions.model import DecisionTable, Definitions
from decisions.yaml_format import read_yaml, write_yaml

CAMUNDA = "http://camunda.org/schema/1.0/dmn"
MODELER = "http://camunda.org/schema/modeler/1.0"
ACME = "urn:acme:ext"

EXTENDED = f"""<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" xmlns:camunda="{CAMUNDA}"
    xmlns:modeler="{MODELER}" xmlns:acme="{ACME}" id="defs" name="Extended" namespace="urn:x"
    modeler:executionPlatform="Camunda Platform" modeler:executionPlatformVersion="7.20.0">
  <extensionElements><acme:owner team="risk">Ana &amp; Bob</acme:owner></extensionElements>
  <inputData id="season" name="Season" camunda:note="in">
    <extensionElements><acme:source system="crm"><acme:field>season</acme:field></acme:source></extensionElements>
    <variable name="Season" typeRef="string"/>
  </inputData>
  <decision id="dish" name="Dish" camunda:historyTimeToLive="P180D" camunda:versionTag="v3">
    <description>What to cook</description>
    <extensionElements>
      <camunda:properties><camunda:property name="a" value="1"/></camunda:properties>
    </extensionElements>
    <variable name="Dish" typeRef="string"/>
    <informationRequirement><requiredInput href="#season"/></informationRequirement>
    <decisionTable id="table" hitPolicy="FIRST" acme:audit="true">
      <input id="in1" label="Season" camunda:inputVariable="s">
        <inputExpression typeRef="string"><text>Season</text></inputExpression>
      </input>
      <output id="out1" name="dish" typeRef="string" acme:unit="plate"/>
      <rule id="r1" acme:reviewed="2024-01-01">
        <description>autumn</description>
        <extensionElements><acme:ticket>T-1</acme:ticket></extensionElements>
        <inputEntry><text>"Fall"</text></inputEntry><outputEntry><text>"Roast"</text></outputEntry>
      </rule>
      <rule id="r2"><inputEntry><text>-</text></inputEntry><outputEntry><text>"Salad"</text></outputEntry></rule>
    </decisionTable>
  </decision>
</definitions>
"""


def extensions_of(defs: Definitions) -> dict[str, object]:
    decision = defs.decisions[0]
    table = decision.logic
    assert isinstance(table, DecisionTable)
    return {
        "definitions": defs.extensions, "input": defs.inputs[0].extensions, "decision": decision.extensions,
        "table": table.extensions, "clause": table.inputs[0].extensions, "output": table.outputs[0].extensions,
        "rule": table.rules[0].extensions, "plain rule": table.rules[1].extensions,
    }


def test_the_reader_keeps_attributes_and_extension_elements() -> None:
    defs = read_dmn(EXTENDED)
    found = extensions_of(defs)
    assert defs.extensions.attributes == {f"{{{MODELER}}}executionPlatform": "Camunda Platform",
                                          f"{{{MODELER}}}executionPlatformVersion": "7.20.0"}
    assert defs.extensions.elements == [f'<acme:owner xmlns:acme="{ACME}" team="risk">Ana &amp; Bob</acme:owner>']
    assert defs.decisions[0].extensions.attributes == {f"{{{CAMUNDA}}}historyTimeToLive": "P180D",
                                                       f"{{{CAMUNDA}}}versionTag": "v3"}
    [properties] = defs.decisions[0].extensions.elements
    assert properties.startswith(f'<camunda:properties xmlns:camunda="{CAMUNDA}">')
    assert found["clause"].attributes == {f"{{{CAMUNDA}}}inputVariable": "s"}  # type: ignore[attr-defined]
    assert found["output"].attributes == {f"{{{ACME}}}unit": "plate"}  # type: ignore[attr-defined]
    assert found["rule"].elements == [f'<acme:ticket xmlns:acme="{ACME}">T-1</acme:ticket>']  # type: ignore[attr-defined]
    assert found["plain rule"].is_empty()  # type: ignore[attr-defined]
    assert defs.prefixes == {"acme": ACME, "camunda": CAMUNDA, "modeler": MODELER}


def test_dmn_to_dmn_keeps_them_with_their_prefixes() -> None:
    defs = read_dmn(EXTENDED)
    text = write_dmn(defs)
    for written in ('camunda:historyTimeToLive="P180D"', 'camunda:versionTag="v3"', 'camunda:inputVariable="s"',
                    'modeler:executionPlatform="Camunda Platform"', 'acme:unit="plate"', 'acme:reviewed="2024-01-01"',
                    '<camunda:property name="a" value="1" />', f'xmlns:camunda="{CAMUNDA}"'):
        assert written in text
    root = SafeET.fromstring(text.encode())
    decision = root.find("{https://www.omg.org/spec/DMN/20191111/MODEL/}decision")
    assert decision is not None
    assert [child.tag.rpartition("}")[2] for child in decision][:3] == ["description", "extensionElements", "variable"]
    assert extensions_of(read_dmn(text)) == extensions_of(defs)


def test_yaml_holds_them_readably_and_gives_them_back() -> None:
    defs = read_dmn(EXTENDED)
    text = write_yaml(defs)
    assert f"prefixes:\n  acme: {ACME}\n  camunda: {CAMUNDA}\n  modeler: {MODELER}\n" in text
    assert "extensions: {'camunda:historyTimeToLive': P180D, 'camunda:versionTag': v3}" in text
    assert f'- <acme:ticket xmlns:acme="{ACME}">T-1</acme:ticket>' in text
    back = read_yaml(text)
    assert extensions_of(back) == extensions_of(defs)
    assert extensions_of(read_dmn(write_dmn(back))) == extensions_of(defs)


def test_yaml_written_by_hand() -> None:
    text = f"""\
model: m
prefixes: {{camunda: "{CAMUNDA}"}}
inputs: {{Age: number}}
decisions:
  Adult:
    id: decision_1abc
    extensions: {{camunda:historyTimeToLive: "30", "{{urn:other}}flag": yes}}
    extension elements:
      - <x:note xmlns:x="urn:notes">check <x:b>this</x:b></x:note>
      - <plain>no namespace</plain>
    expression: Age >= 18
"""
    defs = read_yaml(text)
    assert defs.decisions[0].extensions.attributes == {f"{{{CAMUNDA}}}historyTimeToLive": "30",
                                                       "{urn:other}flag": "yes"}
    dmn = write_dmn(defs)
    assert 'camunda:historyTimeToLive="30"' in dmn and 'ext1:flag="yes"' in dmn
    assert '<plain xmlns="">no namespace</plain>' in dmn, "an element in no namespace stays out of DMN's"
    again = read_dmn(dmn)
    assert again.decisions[0].extensions.elements == [
        '<x:note xmlns:x="urn:notes">check <x:b>this</x:b></x:note>', "<plain>no namespace</plain>"]
    assert again.decisions[0].extensions.attributes == defs.decisions[0].extensions.attributes


@pytest.mark.parametrize(("element", "message"), [
    ("<x:a xmlns:x='urn:x'>unclosed", "not well-formed"),
    ('<!DOCTYPE a [<!ENTITY e "boom">]><a>&e;</a>', "DTD"),
    ("<undeclared:a/>", "not well-formed"),
    ("plain text", "not XML"),
])
def test_bad_extension_elements_in_yaml_are_refused_where_they_are(element: str, message: str) -> None:
    text = f"model: m\ndecisions:\n  D:\n    extension elements:\n      - |\n        {element}\n    expression: 1\n"
    with pytest.raises(ModelError) as caught:
        read_yaml(text, file="m.yaml")
    [problem] = caught.value.problems
    assert message in problem.message
    assert (problem.location.file, problem.location.line, problem.location.element) == ("m.yaml", 5, "D")
    assert problem.location.path == "decisions.D.extension elements[1]"


def test_an_attribute_with_an_undeclared_prefix_is_refused() -> None:
    with pytest.raises(ModelError) as caught:
        read_yaml("model: m\ninputs:\n  Age:\n    extensions: {camunda:x: '1'}\n")
    [problem] = caught.value.problems
    assert "needs a prefix declared under the top-level 'prefixes'" in problem.message
    assert problem.location.path == "inputs.Age.extensions.camunda:x"


def test_the_business_key_and_the_registry_key_are_not_extensions() -> None:
    defs = read_yaml("model: m\nkey: loans\nbusiness key: Applicant Id\ninputs: {Applicant Id: string}\n")
    again = read_dmn(write_dmn(defs))
    assert (again.key, again.business_key) == ("loans", "Applicant Id")
    assert again.extensions.is_empty()
    assert write_dmn(again) == write_dmn(defs)


def test_extensions_do_not_change_the_registry_hash() -> None:
    from registry.content import content_hash

    plain = EXTENDED
    for vendor in (' camunda:historyTimeToLive="P180D"', ' camunda:versionTag="v3"', ' acme:unit="plate"',
                   '<extensionElements><acme:ticket>T-1</acme:ticket></extensionElements>'):
        plain = plain.replace(vendor, "")
    assert plain != EXTENDED
    assert content_hash(plain.encode(), "dmn") == content_hash(EXTENDED.encode(), "dmn")
