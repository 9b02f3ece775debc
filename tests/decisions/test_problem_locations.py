"""A problem found while evaluating says where: the decision, and in a table the rule and the
column, with the expression's text, even when a built-in reports it."""

from __future__ import annotations

import decisions

MODEL = """\
model: positions
namespace: https://decisionary.dev/tests/positions
inputs:
  Start: number
decisions:
  Tail:
    requires: [Start]
    expression: 'substring("abc", Start)'
  Label:
    requires: [Start]
    table:
      hit policy: FIRST
      inputs: [Start]
      outputs: [Label]
      rules:
        - ['> 100', '"far"']
        - ['-', 'substring("xyz", Start)']
"""


def test_a_built_ins_problem_names_the_decision_rule_column_and_text() -> None:
    result = decisions.load(MODEL.encode(), format="yaml").evaluate({"Start": 0})
    assert result.outputs == {"Tail": None, "Label": None}
    by_element = {p.location.element: p.location for p in result.problems}
    tail, label = by_element["Tail"], by_element["Label"]
    assert tail.text == 'substring("abc", Start)' and tail.rule is None
    assert (label.rule, label.column, label.text) == (2, "Label", 'substring("xyz", Start)')
    assert all("start position must not be 0" in p.message for p in result.problems)
    assert "rule 2, column 'Label'" in str(next(p for p in result.problems if p.location.element == "Label"))


def test_a_call_without_problems_is_untouched() -> None:
    result = decisions.load(MODEL.encode(), format="yaml").evaluate({"Start": 2})
    assert result.outputs == {"Tail": "bc", "Label": "yz"} and result.problems == []
