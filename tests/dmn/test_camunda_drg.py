"""In a Camunda DRG a table reads a required decision's output by the output's name (`season`
from the decision "Season decision"), in single calls, batches and explanations alike. A name two
required decisions share, or one that is declared, is not taken for an output."""

from __future__ import annotations

import pandas as pd

import decisions

DRG = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="dinner" name="Dinner"
             namespace="http://camunda.org/schema/1.0/dmn">
  <decision id="seasonDecision" name="Season decision">
    <decisionTable id="t1" hitPolicy="FIRST">
      <input id="i0" label="Month"><inputExpression id="e0" typeRef="number"><text>month</text></inputExpression></input>
      <output id="o0" name="season" typeRef="string"/>
      <rule id="r0"><inputEntry id="a0"><text>[9..11]</text></inputEntry><outputEntry id="b0"><text>"Fall"</text></outputEntry></rule>
      <rule id="r1"><inputEntry id="a1"><text>-</text></inputEntry><outputEntry id="b1"><text>"Other"</text></outputEntry></rule>
    </decisionTable>
  </decision>
  <decision id="guestDecision" name="Guests">
    <decisionTable id="t2" hitPolicy="UNIQUE">
      <input id="i2" label="Count"><inputExpression id="e2" typeRef="number"><text>count</text></inputExpression></input>
      <output id="o2" name="guestCount" typeRef="number"/>
      <output id="o3" name="kids" typeRef="boolean"/>
      <rule id="r2"><inputEntry id="a2"><text>&lt;= 4</text></inputEntry>
        <outputEntry id="b2"><text>count</text></outputEntry><outputEntry id="b3"><text>false</text></outputEntry></rule>
      <rule id="r3"><inputEntry id="a3"><text>&gt; 4</text></inputEntry>
        <outputEntry id="b4"><text>count</text></outputEntry><outputEntry id="b5"><text>true</text></outputEntry></rule>
    </decisionTable>
  </decision>
  <decision id="dish" name="Dish">
    <informationRequirement id="ir1"><requiredDecision href="#seasonDecision"/></informationRequirement>
    <informationRequirement id="ir2"><requiredDecision href="#guestDecision"/></informationRequirement>
    <decisionTable id="t" hitPolicy="COLLECT">
      <input id="i1" label="Season"><inputExpression id="e1" typeRef="string"><text>season</text></inputExpression></input>
      <input id="i3" label="Kids"><inputExpression id="e3" typeRef="boolean"><text>kids</text></inputExpression></input>
      <output id="o1" name="dish" typeRef="string"/>
      <rule id="r4"><inputEntry id="c1"><text>"Fall"</text></inputEntry><inputEntry id="c5"><text>-</text></inputEntry>
        <outputEntry id="c2"><text>"Spareribs"</text></outputEntry></rule>
      <rule id="r5"><inputEntry id="c3"><text>-</text></inputEntry><inputEntry id="c6"><text>true</text></inputEntry>
        <outputEntry id="c4"><text>"Pasta"</text></outputEntry></rule>
    </decisionTable>
  </decision>
</definitions>
"""


def test_a_table_reads_required_outputs_by_their_names() -> None:
    model = decisions.load(DRG.encode(), format="dmn")
    assert sorted(model.input_names) == ["count", "month"]  # season and kids are not inputs
    result = model.evaluate({"month": 10, "count": 6})
    assert result.outputs["Dish"] == ["Spareribs", "Pasta"] and result.fired["Dish"] == [1, 2]
    assert model.evaluate({"month": 3, "count": 2}).outputs["Dish"] is None  # COLLECT of nothing


def test_batches_and_explanations_read_them_too() -> None:
    model = decisions.load(DRG.encode(), format="dmn")
    rows = [{"month": 10, "count": 6}, {"month": 3, "count": 8}, {"month": 10, "count": 1}, {"month": None, "count": None}]
    batch = model.evaluate_batch(pd.DataFrame(rows))
    assert list(batch["Dish"]) == [model.evaluate(row).outputs["Dish"] for row in rows]
    why = model.explain({"month": 10, "count": 1}, "Dish", 2)
    assert not why[0].matched


def test_a_name_two_required_decisions_share_stays_an_input() -> None:
    shared = DRG.replace('name="guestCount"', 'name="season"')
    model = decisions.load(shared.encode(), format="dmn")
    assert "season" in model.input_names
