"""A table that gives a list (COLLECT without aggregation, RULE ORDER, OUTPUT ORDER) typed as a
single value, as KIE models type them, gives a list whose items have that type."""

from __future__ import annotations

from decimal import Decimal

import pytest

import decisions

MODEL = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="d" name="D" namespace="https://kie.org/d">
  <inputData id="a" name="Age"><variable name="Age" typeRef="number"/></inputData>
  <decision id="p" name="Points">
    <variable name="Points" typeRef="{type}"/>
    <informationRequirement id="ir"><requiredInput href="#a"/></informationRequirement>
    <decisionTable id="t" hitPolicy="{policy}"{aggregation}>
      <input id="i1"><inputExpression id="e1" typeRef="number"><text>Age</text></inputExpression></input>
      <output id="o1" typeRef="{type}"/>
      <rule id="r1"><inputEntry id="c1"><text>&gt; 10</text></inputEntry><outputEntry id="c2"><text>5</text></outputEntry></rule>
      <rule id="r2"><inputEntry id="c3"><text>&gt; 20</text></inputEntry><outputEntry id="c4"><text>{second}</text></outputEntry></rule>
    </decisionTable>
  </decision>
</definitions>
"""


def _points(policy: str, *, type: str = "number", second: str = "7", aggregation: str = "") -> object:
    model = decisions.load(MODEL.format(policy=policy, type=type, second=second, aggregation=aggregation).encode(),
                           format="dmn")
    result = model.evaluate({"Age": 30})
    return result.outputs["Points"], [p.message for p in result.problems]


@pytest.mark.parametrize("policy", ["COLLECT", "RULE ORDER", "OUTPUT ORDER"])
def test_each_item_has_the_type(policy: str) -> None:
    value, problems = _points(policy)
    assert sorted(value) == [Decimal(5), Decimal(7)] and problems == []  # type: ignore[call-overload]


def test_an_item_of_another_type_is_still_an_error() -> None:
    value, problems = _points("COLLECT", second='"seven"')
    assert value is None and any("expected number" in p for p in problems)


def test_an_aggregation_is_one_value() -> None:
    assert _points("COLLECT", aggregation=' aggregation="SUM"') == (Decimal(12), [])
