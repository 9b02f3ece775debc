"""Stored versions keep their hashes: the canonical form does not move when the engine learns more.

The digests below were computed by the release before DMN version keeping, DMNDI, knowledge
sources, extension keeping and the readable YAML export (commit c8d052f). Content hashed then
must hash the same now, or a stored version would no longer verify against its content.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from registry_samples import loan_dmn

from registry.content import content_hash

TCK = Path(__file__).resolve().parents[3] / "shared" / "dmn-tck"

CAMUNDA_13 = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/"
    xmlns:dmndi="https://www.omg.org/spec/DMN/20191111/DMNDI/" xmlns:dc="http://www.omg.org/spec/DMN/20180521/DC/"
    xmlns:di="http://www.omg.org/spec/DMN/20180521/DI/" xmlns:camunda="http://camunda.org/schema/1.0/dmn"
    xmlns:modeler="http://camunda.org/schema/modeler/1.0" id="dish" name="Dish"
    namespace="http://camunda.org/schema/1.0/dmn" modeler:executionPlatform="Camunda Platform">
  <decision id="decision_1abc" name="Dish" camunda:historyTimeToLive="180" camunda:versionTag="v3">
    <extensionElements><camunda:note>keep me</camunda:note></extensionElements>
    <informationRequirement id="ir_1"><requiredInput href="#input_9xy"/></informationRequirement>
    <authorityRequirement id="ar_1"><requiredAuthority href="#ks_1"/></authorityRequirement>
    <decisionTable id="table_1" hitPolicy="FIRST" camunda:historyTimeToLive="5">
      <input id="in_1" label="Season" camunda:inputVariable="s">
        <inputExpression id="e1" typeRef="string"><text>season</text></inputExpression>
      </input>
      <output id="out_1" name="dish" typeRef="string"/>
      <rule id="r1"><inputEntry id="c1"><text>"Fall"</text></inputEntry><outputEntry id="c2"><text>"Roast"</text></outputEntry></rule>
      <rule id="r2"><inputEntry id="c3"><text>-</text></inputEntry><outputEntry id="c4"><text>"Salad"</text></outputEntry></rule>
    </decisionTable>
  </decision>
  <inputData id="input_9xy" name="season"><variable name="season" typeRef="string"/></inputData>
  <knowledgeSource id="ks_1" name="Chef's book"/>
  <dmndi:DMNDI>
    <dmndi:DMNDiagram id="diagram_1">
      <dmndi:DMNShape id="s1" dmnElementRef="decision_1abc"><dc:Bounds height="80" width="180" x="160" y="100"/></dmndi:DMNShape>
      <dmndi:DMNShape id="s2" dmnElementRef="input_9xy"><dc:Bounds height="45" width="125" x="187" y="300"/></dmndi:DMNShape>
      <dmndi:DMNEdge id="e_1" dmnElementRef="ir_1"><di:waypoint x="250" y="300"/><di:waypoint x="250" y="180"/></dmndi:DMNEdge>
    </dmndi:DMNDiagram>
  </dmndi:DMNDI>
</definitions>
"""

YAML_WITHOUT_VERSION = """\
model: loan-approval
inputs:
  Applicant Age: number
decisions:
  Adult:
    type: boolean
    requires: [Applicant Age]
    expression: Applicant Age >= 18
"""

YAML_13 = YAML_WITHOUT_VERSION.replace("model: loan-approval\n", 'model: loan-approval\ndmn version: "1.3"\n')

GOLDEN: list[tuple[str, str, str, str]] = [
    # (name, format, content, SHA-256 hex of the canonical form as stored by the earlier release)
    ("loan DMN 1.3", "dmn", loan_dmn(), "6f0c6331e218743daab690f095391f4986ccc34a786785c6c3856fdb18ab7253"),
    ("Camunda DMN 1.3 with DMNDI and extensions", "dmn", CAMUNDA_13, "3797734777abf0206857a736b05c7c7e447f03b7111173793805f7d3180d4e9f"),
    ("YAML without a DMN version", "yaml", YAML_WITHOUT_VERSION, "e803d3d3caf1542473e0a3d8a1b12e475e16a4f7060cff9f7e91b8985a5c0ccf"),
    ("YAML stating DMN 1.3", "yaml", YAML_13, "6cfb94c7b9cffa0a6501f7b7324c4760e9078a98fb10c69ea10a463a6610685b"),
]
TCK_GOLDEN: list[tuple[str, str]] = [
    # TCK models with DMNDI (DMN 1.5): (path under the TCK, digest)
    ("compliance-level-3/0035-test-structure-output/0035-test-structure-output.dmn", "12c1f3262739ccf5c2b23eed86774bd13075a487a66a27bc129ad328722bdc25"),
    ("compliance-level-2/0004-simpletable-U/0004-simpletable-U.dmn", "76452e944a4722094152d222f905b42522318824a9e63535616747bddf007694"),
]


@pytest.mark.parametrize(("name", "fmt", "content", "digest"), GOLDEN, ids=[row[0] for row in GOLDEN])
def test_a_version_stored_by_the_earlier_release_still_verifies(name: str, fmt: str, content: str,
                                                                 digest: str) -> None:
    assert content_hash(content.encode(), fmt) == (digest, "model-yaml")  # type: ignore[arg-type]


@pytest.mark.parametrize(("path", "digest"), TCK_GOLDEN, ids=[row[0].rsplit("/", 1)[1] for row in TCK_GOLDEN])
def test_stored_tck_models_with_diagrams_still_verify(path: str, digest: str) -> None:
    assert content_hash((TCK / path).read_bytes(), "dmn") == (digest, "model-yaml")
