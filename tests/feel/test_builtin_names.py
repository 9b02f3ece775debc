"""A variable named like a built-in function (`sum`, `count`, `date`: common in Camunda models) is
the variable where it is read, and the built-in where it is called, unless it holds a function."""

from __future__ import annotations

from decimal import Decimal

import decisions

MODEL = """\
model: names
namespace: https://decisionary.dev/tests/names
inputs:
  sum: number
  count: number
  date: string
decisions:
  Read:
    requires: [sum, count, date]
    expression: sum + count
  Called:
    requires: [sum, count, date]
    expression: sum([sum, count]) + count([1, 2])
  Date:
    requires: [date]
    expression: string(date("2020-01-02")) + " " + date
  Own:
    expression: '{count: function(x) x * 10, r: count(2)}.r'
"""


def test_read_is_the_variable_and_called_is_the_built_in() -> None:
    result = decisions.load(MODEL.encode(), format="yaml").evaluate({"sum": 2, "count": 3, "date": "today"})
    assert result.problems == []
    assert result.outputs["Read"] == Decimal(5)
    assert result.outputs["Called"] == Decimal(7)
    assert result.outputs["Date"] == "2020-01-02 today"
    assert result.outputs["Own"] == Decimal(20)  # a variable holding a function is that function
