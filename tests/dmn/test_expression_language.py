"""An expression declared in another language than FEEL (Camunda 7's juel, groovy, javascript) is
refused where it is declared, not evaluated as FEEL; FEEL under any of its names is accepted."""

from __future__ import annotations

import pytest

import decisions
from decisions.errors import ModelError

MODEL = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="d" name="D"
             namespace="http://camunda.org/schema/1.0/dmn"{root}>
  <decision id="dish" name="Dish">
    <decisionTable id="t" hitPolicy="FIRST">
      <input id="i1" label="Season">
        <inputExpression id="e1" typeRef="string"{input}><text>season</text></inputExpression>
      </input>
      <output id="o1" name="dish" typeRef="string"/>
      <rule id="r1"><inputEntry id="c1"><text>"Fall"</text></inputEntry>
        <outputEntry id="c2"><text>"Spareribs"</text></outputEntry></rule>
    </decisionTable>
  </decision>
</definitions>
"""


def _model(root: str = "", input: str = "") -> bytes:
    return MODEL.format(root=root, input=input).encode()


@pytest.mark.parametrize("language", ["juel", "groovy", "javascript", "python"])
def test_another_language_is_refused_where_it_is_declared(language: str) -> None:
    with pytest.raises(ModelError) as caught:
        decisions.load(_model(input=f' expressionLanguage="{language}"'), format="dmn")
    [problem] = caught.value.problems
    assert problem.code == "dmn-expression-language" and problem.location.element == "Dish"
    assert problem.location.line == 7 and repr(language) in problem.message and "FEEL" in problem.message


def test_a_model_declared_in_another_language_is_refused_at_its_root() -> None:
    with pytest.raises(ModelError) as caught:
        decisions.load(_model(root=' expressionLanguage="juel"'), format="dmn")
    assert [p.location.path for p in caught.value.problems] == ["<definitions>"]


@pytest.mark.parametrize("language", ["feel", "FEEL", "https://www.omg.org/spec/DMN/20191111/FEEL/",
                                      "http://www.omg.org/spec/FEEL/20140401"])
def test_feel_by_any_name_is_evaluated(language: str) -> None:
    model = decisions.load(_model(root=f' expressionLanguage="{language}"', input=f' expressionLanguage="{language}"'),
                           format="dmn")
    assert model.evaluate({"season": "Fall"}).outputs == {"Dish": "Spareribs"}
