"""DMN XML writer: round trips over the TCK, versions, generated ids and hrefs, escaping."""

from __future__ import annotations

from pathlib import Path

import pytest
from model_compare import model_differences
from samples import CAMUNDA, DMN11
from tck_files import TCK_MODELS, tck_id, tck_model

from decisions.dmn import read_dmn, read_dmn_file, write_dmn
from decisions.dmn.namespaces import DMN_NAMESPACES
from decisions.errors import ModelError
from decisions.model import (
    Conditional,
    Decision,
    Definitions,
    InputData,
    LiteralExpression,
)


def imported_models(path: Path, defs: Definitions) -> list[Definitions]:
    if not defs.imports:
        return []
    return [read_dmn_file(other) for other in sorted(path.parent.glob("*.dmn")) if other != path]


@pytest.mark.parametrize("path", TCK_MODELS, ids=tck_id)
def test_tck_round_trip(path: Path) -> None:
    original = read_dmn_file(path)
    text = write_dmn(original, imported=imported_models(path, original))
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<definitions xmlns="' + DMN_NAMESPACES["1.5"])
    again = read_dmn(text, file=str(path))
    assert model_differences(original, again, generated_ids_ok=True) == []


@pytest.mark.parametrize("version", ["1.1", "1.2", "1.3", "1.4"])
def test_older_versions_round_trip(version: str) -> None:
    for source in (CAMUNDA, DMN11):
        original = read_dmn(source)
        again = read_dmn(write_dmn(original, version=version))
        assert again.dmn_version == version
        differences = model_differences(original, again, generated_ids_ok=True)
        assert [d for d in differences if not d.startswith("model.dmn_version")] == []


def test_dmn11_writes_feel_type_names_as_qualified_names() -> None:
    text = write_dmn(read_dmn(DMN11), version="1.1")
    assert 'xmlns:feel="http://www.omg.org/spec/FEEL/20140401"' in text
    assert 'typeRef="feel:boolean"' in text and "<typeRef>feel:number</typeRef>" in text
    assert 'typeRef="tLoan"' in text


def test_features_a_version_lacks_are_refused() -> None:
    defs = read_dmn_file(tck_model("1150-"))
    with pytest.raises(ModelError) as caught:
        write_dmn(defs, version="1.3")
    [problem] = caught.value.problems
    assert problem.message == "a conditional expression needs DMN 1.4 or later; cannot write DMN 1.3"
    assert problem.location.element == defs.decisions[0].name
    assert isinstance(defs.decisions[0].logic, Conditional)


def test_unknown_version_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="unknown DMN version '2.0'"):
        write_dmn(Definitions(name="m"), version="2.0")


def hand_made_model() -> Definitions:
    return Definitions(
        name="Loans & <Limits>",
        namespace="urn:loans",
        key="loan-limits",
        inputs=[InputData("Applicant Age", "number"), InputData("Credit Score", "number")],
        decisions=[
            Decision("Risk Category", LiteralExpression('if Credit Score < 600 then "High" else "Low"'), "string",
                     required_inputs=["Credit Score"]),
            Decision("Limit", LiteralExpression('if Risk Category = "Low" and Applicant Age >= 18 then 5000 else 0'),
                     required_inputs=["Applicant Age"], required_decisions=["Risk Category"],
                     description="Ünïcode, <tags> & \"quotes\""),
        ],
    )


def test_generated_ids_are_stable_and_hrefs_point_at_them() -> None:
    defs = hand_made_model()
    text = write_dmn(defs)
    assert text == write_dmn(hand_made_model())
    assert 'id="_Risk_Category"' in text and '<requiredDecision href="#_Risk_Category" />' in text
    assert '<requiredInput href="#_Applicant_Age" />' in text
    again = read_dmn(text)
    assert model_differences(defs, again, generated_ids_ok=True) == []
    assert again.key == "loan-limits" and again.name == "Loans & <Limits>"
    assert again.decisions[1].description == "Ünïcode, <tags> & \"quotes\""


def test_generated_ids_do_not_collide_with_existing_ones() -> None:
    defs = hand_made_model()
    defs.inputs[0].id = "_Credit_Score"  # taken by the input named "Applicant Age"
    text = write_dmn(defs)
    again = read_dmn(text)
    assert [i.id for i in again.inputs] == ["_Credit_Score", "_Credit_Score_2"]
    assert again.decisions[0].required_inputs == ["Credit Score"]


def test_reference_to_a_missing_element_is_refused() -> None:
    defs = hand_made_model()
    defs.decisions[1].required_decisions.append("Nowhere")
    with pytest.raises(ModelError) as caught:
        write_dmn(defs)
    assert "'Nowhere'" in caught.value.problems[0].message
    assert caught.value.problems[0].location.element == "Limit"


def test_imported_reference_uses_the_imported_models_id() -> None:
    path = tck_model("0086-", "0086-import.dmn")
    defs = read_dmn_file(path)
    with_ids = write_dmn(defs, imported=[read_dmn_file(path.parent / "Imported_Model.dmn")])
    assert "_f27bb64b-6fc7-4e1f-9848-11ba35e0df36#_32543811-b499-4608-b784-6c6f294b1c58" in with_ids
    derived = write_dmn(defs)  # without the imported model: an id derived from the name
    assert "_f27bb64b-6fc7-4e1f-9848-11ba35e0df36#_Say_Hello" in derived


def test_characters_xml_cannot_hold_are_refused() -> None:
    defs = hand_made_model()
    defs.decisions[0].logic = LiteralExpression('"bell\x07"')
    with pytest.raises(ModelError, match="U\\+0007, which XML cannot hold"):
        write_dmn(defs)
