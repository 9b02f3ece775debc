"""Batch evaluation is identical, row for row, to `evaluate` on each row."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import decisions
from decisions.compiler import compile_model
from tests.tables_strategies import frames, tables


def _row_inputs(frame: pd.DataFrame, i: int) -> dict[str, Any]:
    row = {}
    for name in frame.columns:
        value = frame[name].iloc[i]
        row[name] = None if isinstance(value, float) and math.isnan(value) else value
    return row


def _assert_identical(model: decisions.Model, frame: pd.DataFrame) -> None:
    batch = model.evaluate_batch(frame)
    assert len(batch) == len(frame)
    for i in range(len(frame)):
        single = model.evaluate(_row_inputs(frame, i))
        for name, value in single.outputs.items():
            if isinstance(value, dict):
                for out, v in value.items():
                    assert batch[f"{name}.{out}"].iloc[i] == v, (i, name, out)
            else:
                got = batch[name].iloc[i]
                assert got == value, f"row {i}: batch {got!r}, evaluate {value!r}"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_batch_equals_evaluate_on_generated_tables(data: st.DataObject) -> None:
    defs = data.draw(tables())
    model = compile_model(defs)
    frame = data.draw(frames(defs))
    _assert_identical(model, frame)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_vectorised_first_and_unique_equal_evaluate(data: st.DataObject) -> None:
    defs = data.draw(tables(hit_policies=("FIRST", "UNIQUE")))
    model = compile_model(defs)
    frame = data.draw(frames(defs, max_rows=200))
    _assert_identical(model, frame)


def test_batch_of_chained_decisions_with_expressions() -> None:
    model = decisions.load(
        """
model: chained
inputs:
  Income: number
  Debt: number
decisions:
  Ratio:
    requires: [Income, Debt]
    expression: "if Income > 0 then Debt / Income else null"
  Band:
    requires: [Ratio]
    table:
      hit policy: FIRST
      inputs: [Ratio]
      outputs: [Band]
      rules:
        - ["< 0.2", '"Low"']
        - ["[0.2..0.5)", '"Medium"']
        - ["-", '"High"']
"""
    )
    frame = pd.DataFrame({"Income": [1000, 0, 2500.5, 100], "Debt": [100, 5, 2000, 30]})
    batch = model.evaluate_batch(frame)
    assert list(batch["Band"]) == ["Low", "High", "High", "Medium"]
    _assert_identical(model, frame)
