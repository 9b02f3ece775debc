"""Element ids survive DMN -> YAML -> DMN -> YAML: Camunda's decision keys are decision ids."""

from __future__ import annotations

from pathlib import Path

import pytest
from samples import CAMUNDA, DMN11, minimal
from tck_files import TCK_MODELS

from decisions.dmn import read_dmn, read_dmn_file, write_dmn
from decisions.dmn.namespaces import DMN_NAMESPACES
from decisions.dmn.writer import stable_id
from decisions.model import Definitions
from decisions.yaml_format import read_yaml, write_yaml

CAMUNDA_IDS = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="Definitions_0x8k2q" name="DRD"
    namespace="http://camunda.org/schema/1.0/dmn">
  <decision id="decision_1abc" name="Approval">
    <informationRequirement id="InformationRequirement_1"><requiredDecision href="#Decision_0qzt9d4"/></informationRequirement>
    <informationRequirement id="InformationRequirement_2"><requiredInput href="#InputData_1m3s0fa"/></informationRequirement>
    <literalExpression id="LiteralExpression_07hvzj5"><text>Risk = "Low" and Amount &lt; 1000</text></literalExpression>
  </decision>
  <decision id="Decision_0qzt9d4" name="Risk">
    <decisionTable id="DecisionTable_1k2k1">
      <input id="Input_1" label="Amount"><inputExpression id="InputExpression_1" typeRef="number"><text>Amount</text></inputExpression></input>
      <output id="Output_1" typeRef="string"/>
      <rule id="DecisionRule_0m9e1bk"><inputEntry id="UnaryTests_1"><text>&lt; 500</text></inputEntry><outputEntry id="LiteralExpression_1"><text>"Low"</text></outputEntry></rule>
      <rule id="DecisionRule_1b2x4c5"><inputEntry id="UnaryTests_2"><text>-</text></inputEntry><outputEntry id="LiteralExpression_2"><text>"High"</text></outputEntry></rule>
    </decisionTable>
    <informationRequirement id="InformationRequirement_3"><requiredInput href="#InputData_1m3s0fa"/></informationRequirement>
  </decision>
  <inputData id="InputData_1m3s0fa" name="Amount"/>
  <knowledgeSource id="KnowledgeSource_0abc" name="Policy"/>
</definitions>
"""


def drg_ids(defs: Definitions) -> dict[str, str | None]:
    """Name -> id of every DRG element, with the id the DMN writer generates where there is none."""
    groups = (defs.inputs, defs.decisions, defs.knowledge_models, defs.services, defs.knowledge_sources)
    return {element.name: element.id or stable_id(element.name) for group in groups for element in group}


def table_ids(defs: Definitions) -> list[str | None]:
    found: list[str | None] = []
    for decision in defs.decisions:
        logic = decision.logic
        if logic is not None and hasattr(logic, "rules"):
            found += [logic.id] + [clause.id for clause in logic.inputs] + [clause.id for clause in logic.outputs]
            found += [rule.id for rule in logic.rules]
    return found


def round_trip(text: str, imported: list[Definitions] | None = None) -> tuple[Definitions, str, Definitions, str]:
    """DMN -> YAML -> DMN -> YAML: the first model, the first YAML, the model read back, the last YAML."""
    first = read_dmn(text)
    yaml_text = write_yaml(first)
    dmn_text = write_dmn(read_yaml(yaml_text), imported=imported or [])
    again = read_dmn(dmn_text)
    return first, yaml_text, again, write_yaml(again)


@pytest.mark.parametrize("text", [CAMUNDA_IDS, CAMUNDA, DMN11, minimal(DMN_NAMESPACES["1.2"])],
                         ids=["camunda-ids", "camunda", "dmn11", "minimal"])
def test_ids_survive_dmn_yaml_dmn_yaml(text: str) -> None:
    first, yaml_text, again, last_yaml = round_trip(text)
    assert drg_ids(again) == drg_ids(first)
    assert table_ids(again) == table_ids(first)
    assert again.id == first.id
    assert_same_but_the_drawing(yaml_text, last_yaml)


def assert_same_but_the_drawing(yaml_text: str, last_yaml: str, imported: list[Definitions] | None = None,
                                file: str | None = None) -> None:
    """The YAML comes back the same, with the diagram the DMN writer drew when there was none;
    from then on it does not change."""
    assert last_yaml.startswith(yaml_text)
    added = last_yaml[len(yaml_text):].splitlines()
    if "\ndiagram:\n" not in yaml_text and added:
        assert added[0] == "diagram:"
        added = added[1:]
    assert all(line.startswith("  ") and line.endswith("]") for line in added), "only shapes are added"
    assert write_yaml(read_dmn(write_dmn(read_yaml(last_yaml), imported=imported or []), file=file)) == last_yaml


def test_camunda_decision_keys_are_written_to_yaml_and_back() -> None:
    first, yaml_text, again, _ = round_trip(CAMUNDA_IDS)
    for ident in ("decision_1abc", "Decision_0qzt9d4", "InputData_1m3s0fa", "KnowledgeSource_0abc",
                  "DecisionRule_0m9e1bk", "Definitions_0x8k2q"):
        assert f"id: {ident}" in yaml_text
    assert [d.id for d in again.decisions] == ["decision_1abc", "Decision_0qzt9d4"]


def test_yaml_leaves_out_ids_the_writer_generates_again() -> None:
    text = write_dmn(read_yaml("model: m\ninputs: {Age: number}\ndecisions:\n  Adult: Age >= 18\n"))
    assert 'id="_Adult"' in text and 'id="_Age"' in text
    yaml_text = write_yaml(read_dmn(text))
    assert "id:" not in yaml_text
    assert write_dmn(read_yaml(yaml_text)) == text


def test_an_id_that_differs_from_the_generated_one_is_kept_even_when_it_looks_generated() -> None:
    # "_Age_2" is what the writer would generate for a second "Age": it differs from stable_id("Age")
    text = minimal(DMN_NAMESPACES["1.3"]).replace('id="i_age"', 'id="_Age_2"').replace("#i_age", "#_Age_2")
    first, yaml_text, again, _ = round_trip(text)
    assert "id: _Age_2" in yaml_text and again.inputs[0].id == "_Age_2"


INTEROP_MODELS = sorted((Path(__file__).resolve().parents[1] / "interop").rglob("*.dmn"))


@pytest.mark.parametrize("path", TCK_MODELS + INTEROP_MODELS, ids=lambda path: path.name)
def test_tck_ids_survive_dmn_yaml_dmn_yaml(path: Path) -> None:
    first = read_dmn_file(path)
    imported = [read_dmn_file(p) for p in sorted(path.parent.glob("*.dmn")) if p != path] if first.imports else []
    yaml_text = write_yaml(first)
    again = read_dmn(write_dmn(read_yaml(yaml_text), imported=imported), file=str(path))
    assert drg_ids(again) == drg_ids(first)
    assert table_ids(again) == table_ids(first)
    assert_same_but_the_drawing(yaml_text, write_yaml(again), imported, str(path))
