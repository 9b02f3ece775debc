"""A model's business key: the input that identifies a case, in YAML and as a DMN extension."""

from __future__ import annotations

from pathlib import Path

import pytest

import decisions
from decisions.dmn import read_dmn
from decisions.dmn.writer import write_dmn
from decisions.errors import ModelError
from decisions.yaml_format import read_yaml, write_yaml

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
EXTENSIONS = "https://decisionary.dev/dmn/extensions"

YAML = """model: applications
key: applications
business key: Application Id
inputs:
  Application Id: string
  Amount: number
decisions:
  Large:
    requires: [Amount]
    expression: Amount > 1000
"""


def dmn(extensions: str, *, root_attributes: str = "") -> str:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20230324/MODEL/" id="m" name="applications"
             namespace="urn:applications" {root_attributes}>
  <extensionElements>{extensions}</extensionElements>
  <inputData id="i1" name="Application Id"><variable name="Application Id" typeRef="string"/></inputData>
  <inputData id="i2" name="Amount"><variable name="Amount" typeRef="number"/></inputData>
  <decision id="d1" name="Large">
    <variable name="Large" typeRef="boolean"/>
    <informationRequirement><requiredInput href="#i2"/></informationRequirement>
    <literalExpression><text>Amount &gt; 1000</text></literalExpression>
  </decision>
</definitions>
"""


def test_yaml_business_key_is_on_the_parsed_and_the_compiled_model() -> None:
    assert read_yaml(YAML).business_key == "Application Id"
    model = decisions.load(YAML)
    assert model.business_key == "Application Id"
    assert model.evaluate({"Application Id": "A-1", "Amount": 5000}).outputs == {"Large": True}


def test_a_model_without_one_has_none() -> None:
    model = decisions.load(EXAMPLES / "loan-approval.yaml")
    assert model.business_key is None and model.definitions.business_key is None


def test_yaml_round_trip_keeps_the_text() -> None:
    assert write_yaml(read_yaml(YAML)) == YAML


def test_yaml_to_dmn_to_yaml() -> None:
    text = write_dmn(read_yaml(YAML))
    assert f'<decisionary:businessKey xmlns:decisionary="{EXTENSIONS}">Application Id</decisionary:businessKey>' \
        in text
    assert read_dmn(text).business_key == "Application Id"
    assert write_yaml(read_dmn(text), ids=False) == YAML  # the DMN writer gives elements ids


def test_the_key_attribute_and_the_business_key_use_different_namespaces() -> None:
    # `key:` is written as decisionary:key on <definitions>, with another namespace behind the prefix.
    text = write_dmn(read_yaml(YAML))
    defs = read_dmn(text)
    assert (defs.key, defs.business_key) == ("applications", "Application Id")


@pytest.mark.parametrize("version", ["1.1", "1.3", "1.5"])
def test_dmn_to_yaml_to_dmn(version: str) -> None:
    original = read_dmn(dmn(f'<ext:businessKey xmlns:ext="{EXTENSIONS}"> Application Id </ext:businessKey>'))
    assert original.business_key == "Application Id"
    first = write_dmn(original, version=version)
    through_yaml = write_dmn(read_yaml(write_yaml(read_dmn(first))), version=version)
    assert through_yaml == first
    assert read_dmn(through_yaml).business_key == "Application Id"


def test_any_prefix_and_other_extension_elements_are_read_as_before() -> None:
    extensions = ('<vendor:setting xmlns:vendor="urn:vendor" value="1"/>'
                  f'<businessKey xmlns="{EXTENSIONS}">Application Id</businessKey>'
                  '<camunda:other xmlns:camunda="http://camunda.org/schema/1.0/dmn">x</camunda:other>')
    defs = read_dmn(dmn(extensions))
    assert defs.business_key == "Application Id"
    assert [d.name for d in defs.decisions] == ["Large"]
    assert decisions.load(dmn(extensions)).business_key == "Application Id"


def test_a_business_key_element_of_another_namespace_is_not_ours() -> None:
    defs = read_dmn(dmn('<x:businessKey xmlns:x="urn:vendor">Application Id</x:businessKey>'))
    assert defs.business_key is None


def test_two_different_business_keys_are_a_load_error() -> None:
    extensions = (f'<a:businessKey xmlns:a="{EXTENSIONS}">Application Id</a:businessKey>'
                  f'<b:businessKey xmlns:b="{EXTENSIONS}">Amount</b:businessKey>')
    with pytest.raises(ModelError) as caught:
        read_dmn(dmn(extensions), file="apps.dmn")
    [problem] = caught.value.problems
    assert "several business keys: 'Application Id', 'Amount'" in problem.message
    assert problem.location.file == "apps.dmn" and problem.location.line is not None


def test_a_business_key_that_is_not_an_input_names_the_inputs() -> None:
    with pytest.raises(ModelError) as caught:
        decisions.load(YAML.replace("business key: Application Id", "business key: Large"))
    [problem] = caught.value.problems
    assert problem.message == ("the business key 'Large' is not an input of the model; "
                               "its inputs are 'Application Id', 'Amount'")
    assert problem.code == "business-key" and problem.location.path == "business key"


def test_an_empty_dmn_business_key_is_a_load_error() -> None:
    with pytest.raises(ModelError, match="the business key '' is not an input of the model"):
        decisions.load(dmn(f'<k:businessKey xmlns:k="{EXTENSIONS}">  </k:businessKey>'))


def test_a_business_key_that_is_not_text_is_a_located_yaml_error() -> None:
    with pytest.raises(ModelError) as caught:
        read_yaml(YAML.replace("business key: Application Id", "business key: [a, b]"), file="apps.yaml")
    [problem] = caught.value.problems
    assert problem.location.file == "apps.yaml" and problem.location.line == 3
    assert problem.message == "'business key' must be a text, not a list"


def test_models_without_a_business_key_write_what_they_wrote_before() -> None:
    # The registry hashes a version by this text: the example's canonical YAML is the file itself.
    text = (EXAMPLES / "loan-approval.yaml").read_text()
    assert write_yaml(read_yaml(text)) == text
    from_dmn = read_dmn((EXAMPLES / "loan-approval.dmn").read_bytes())
    assert "business key" not in write_yaml(from_dmn)
    assert "extensionElements" not in write_dmn(from_dmn)
