"""Scoring decisions in the model formats: YAML, DMN (a literal expression with an extension element)."""

from __future__ import annotations

from pathlib import Path

import pytest

import decisions
from decisions.dmn import read_dmn, write_dmn
from decisions.dmn.namespaces import DECISIONARY_EXTENSIONS_NAMESPACE
from decisions.errors import ModelError
from decisions.model import Scoring, reader_problems
from decisions.yaml_format import read_yaml, write_yaml
from tests.dmn.model_compare import model_differences

EXAMPLES = Path(__file__).resolve().parent.parent.parent / "examples"
SCORE_YAML = """\
model: scoring formats
inputs:
  Income: number
  Debt: number
decisions:
  Score:
    type: number
    requires: [Income, Debt]
    scoring: base + 0.02 * Income - rate * Debt
    constants: {base: 600, rate: 0.05}
    baseline: {Income: 5000, Debt: 0}
    monotonic: {Income: increasing, Debt: decreasing}
    domain: {Income: [0, 1000000], Debt: [0, 1e5]}
    reasons: 2
"""


def test_the_yaml_form_reads_into_a_scoring_expression() -> None:
    [score] = read_yaml(SCORE_YAML).decisions
    assert isinstance(score.logic, Scoring)
    assert score.logic.text == "base + 0.02 * Income - rate * Debt"
    assert score.logic.constants == {"base": "600", "rate": "0.05"}
    assert score.logic.baseline == {"Income": "5000", "Debt": "0"}
    assert score.logic.monotonic == {"Income": "increasing", "Debt": "decreasing"}
    assert score.logic.domain == {"Income": ("0", "1000000"), "Debt": ("0", "1e5")}
    assert score.logic.reasons == 2
    assert write_yaml(read_yaml(SCORE_YAML)) == SCORE_YAML  # numbers are written as they were


@pytest.mark.parametrize("source", [SCORE_YAML, (EXAMPLES / "loan-score.yaml").read_text()])
def test_yaml_dmn_yaml_gives_the_identical_model(source: str) -> None:
    original = read_yaml(source)
    text = write_dmn(original)
    assert f'xmlns:decisionary="{DECISIONARY_EXTENSIONS_NAMESPACE}"' in text
    assert "<decisionary:scoring" in text and "<literalExpression>" in text
    through_dmn = read_dmn(text)
    assert model_differences(original, through_dmn, generated_ids_ok=True) == []
    assert write_yaml(through_dmn, ids=False) == write_yaml(original, ids=False)
    again = read_yaml(write_yaml(through_dmn))  # without the ids the DMN writer generates again
    assert model_differences(again, through_dmn, generated_ids_ok=True) == []
    assert write_dmn(again) == text


def test_a_dmn_tool_sees_a_plain_literal_expression() -> None:
    text = write_dmn(read_yaml(SCORE_YAML))
    without = text.replace(text[text.index("<extensionElements>"):text.index("</extensionElements>") + 20], "")
    [score] = read_dmn(without).decisions
    assert type(score.logic).__name__ == "LiteralExpression"
    same = decisions.load(text, format="dmn")
    assert same.evaluate({"Income": 6000, "Debt": 100}).outputs["Score"] == 715
    assert [r.input for r in same.evaluate({"Income": 6000, "Debt": 100}).reasons["Score"]] == ["Income", "Debt"]


@pytest.mark.parametrize(("edit", "message"), [
    (("monotonic: {Income: increasing", "monotonic: {Income: upwards"), "expected increasing or decreasing"),
    (("Debt: [0, 1e5]", "Debt: [0]"), "a domain is a list of two numbers"),
    (("base: 600", "base: lots"), "expected a number, not 'lots'"),
    (("reasons: 2", "reasons: 0"), "reasons must be a whole number of at least 1"),
    (("    reasons: 2\n", "    reasons: 2\n    domian: {}\n"), "unknown key 'domian'"),
])
def test_yaml_mistakes_are_located(edit: tuple[str, str], message: str) -> None:
    [problem] = reader_problems(read_yaml(SCORE_YAML.replace(*edit), file="score.yaml"))  # the decision's own
    assert message in problem.message
    assert problem.location.file == "score.yaml" and problem.location.element == "Score"


def test_dmn_mistakes_are_located() -> None:
    text = write_dmn(read_yaml(SCORE_YAML)).replace('direction="increasing"', 'direction="up"')
    [problem] = reader_problems(read_dmn(text, file="score.dmn"))  # the decision's own
    assert "direction must be increasing or decreasing, not 'up'" in problem.message
    assert problem.location.element == "Score" and problem.location.line is not None


def test_a_workbook_refuses_a_scoring_decision_rather_than_drop_its_metadata() -> None:
    from decisions.xlsx_format import write_xlsx

    with pytest.raises(ModelError) as raised:
        write_xlsx(read_yaml(SCORE_YAML))
    assert "decision 'Score', whose logic is a Scoring" in str(raised.value)


def test_a_reviewer_sees_changed_scoring_declarations() -> None:
    from decisions.diff import diff_definitions

    old = read_yaml(SCORE_YAML)
    assert diff_definitions(old, read_yaml(SCORE_YAML)).identical
    changed = diff_definitions(old, read_yaml(SCORE_YAML.replace("Debt: decreasing", "Debt: increasing")))
    [change] = changed.changed
    assert change.notes == ["scoring monotonic {'Income': 'increasing', 'Debt': 'decreasing'} -> "
                            "{'Income': 'increasing', 'Debt': 'increasing'}"]
    plain = SCORE_YAML.replace("    scoring: ", "    expression: ").split("    constants:")[0]
    [kind] = diff_definitions(read_yaml(plain), old).changed
    assert kind.notes[0] == "logic changed from literal expression to scoring"
