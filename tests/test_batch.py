"""Batch evaluation is identical, row for row, to `evaluate` on each row."""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import decisions
from benchmarks import credit_table as ct
from decisions import batch as batch_module
from decisions.compiler import compile_model
from decisions.model import DecisionTable
from tests.tables_strategies import frames, tables


def _row_inputs(frame: pd.DataFrame, i: int) -> dict[str, Any]:
    row = {}
    for name in frame.columns:
        value = frame[name].iloc[i]
        row[name] = None if isinstance(value, float) and math.isnan(value) else value
    return row


def _table_decisions(model: decisions.Model) -> list[str]:
    return [name for name, d in model.decisions.items() if d.logic.table is not None]


def _assert_identical(model: decisions.Model, frame: pd.DataFrame) -> None:
    """Outputs and fired rules of `evaluate_batch` (without and with `fired=True`) equal those of
    `evaluate` on each row."""
    batch = model.evaluate_batch(frame)
    with_fired = model.evaluate_batch(frame, fired=True)
    assert len(batch) == len(with_fired) == len(frame)
    tables = _table_decisions(model)
    assert not [c for c in batch.columns if c.startswith("fired.")]
    assert [c for c in with_fired.columns if c.startswith("fired.")] == [f"fired.{name}" for name in tables]
    assert list(with_fired.drop(columns=[f"fired.{name}" for name in tables]).columns) == list(batch.columns)
    for i in range(len(frame)):
        single = model.evaluate(_row_inputs(frame, i))
        for result in (batch, with_fired):
            for name, value in single.outputs.items():
                parts = [c for c in result.columns if c.startswith(f"{name}.")]
                if name not in result.columns and parts:  # a table with several outputs
                    for column in parts:
                        out = column[len(name) + 1:]
                        if isinstance(value, list):  # a list-giving hit policy: a list per output
                            v: Any = [item.get(out) for item in value]
                        else:
                            v = value.get(out) if isinstance(value, dict) else value
                        got = result[column].iloc[i]
                        assert got == v and type(got) is type(v), (i, column, got, v)
                else:
                    got = result[name].iloc[i]
                    assert got == value, f"row {i}: batch {got!r}, evaluate {value!r}"
            assert (result["problems"].iloc[i] or []) == single.problems, (i, result["problems"].iloc[i],
                                                                          single.problems)
        for name in tables:
            got = with_fired[f"fired.{name}"].iloc[i]
            expected = single.fired.get(name, [])
            assert type(got) is list and got == expected, f"row {i}, {name}: batch fired {got!r}, evaluate {expected!r}"


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


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_batch_fired_equals_evaluate_for_collect_aggregations(data: st.DataObject) -> None:
    defs = data.draw(tables(hit_policies=("COLLECT",)))
    table = defs.decisions[0].logic
    assert isinstance(table, DecisionTable)
    table.aggregation = data.draw(st.sampled_from(["SUM", "MIN", "MAX", "COUNT"]))
    table.outputs[0].type_ref = None  # COUNT gives a number; SUM of strings is null with an error
    model = compile_model(defs)
    frame = data.draw(frames(defs))
    _assert_identical(model, frame)


LOAN_INPUTS = {
    "Applicant Age": [34, 17, 70, 45, 29],
    "Monthly Income": [5200, 900, 3000, 12000, 0],
    "Monthly Debt": [1100, 100, 2900, 500, 10],
    "Credit Score": [712, 560, 640, 810, 700],
    "Employment Status": ["Employed", "Unemployed", "Retired", "Self-employed", "Employed"],
    "Requested Amount": [15000, 2000, 50000, 80000, 1000],
}


def test_batch_fired_on_the_example_model_with_every_kind_of_decision() -> None:
    model = decisions.load("examples/loan-approval.yaml")
    frame = pd.DataFrame(LOAN_INPUTS)
    _assert_identical(model, frame)
    batch = model.evaluate_batch(frame, fired=True)
    # Debt To Income is a FEEL expression: no fired column for it.
    assert "fired.Debt To Income" not in batch.columns
    assert batch["fired.Risk Category"].iloc[0] == [7]


def test_batch_fired_for_a_decision_given_in_the_frame_is_empty() -> None:
    model = decisions.load("examples/loan-approval.yaml")
    frame = pd.DataFrame({**LOAN_INPUTS, "Risk Category": ["Low", "High", "Medium", "Low", "High"]})
    batch = model.evaluate_batch(frame, fired=True)
    assert batch["fired.Risk Category"].tolist() == [[]] * len(frame)
    assert all(len(rules) == 1 for rules in batch["fired.Eligibility"])
    _assert_identical(model, frame)


def test_batch_fired_with_selected_decisions_covers_their_requirements() -> None:
    model = decisions.load("examples/loan-approval.yaml")
    frame = pd.DataFrame(LOAN_INPUTS)
    batch = model.evaluate_batch(frame, decisions=["Eligibility"], fired=True)
    single = model.evaluate(_row_inputs(frame, 0), decisions=["Eligibility"])
    assert sorted(c[len("fired."):] for c in batch.columns if c.startswith("fired.")) == sorted(single.fired)
    for i in range(len(frame)):
        single = model.evaluate(_row_inputs(frame, i), decisions=["Eligibility"])
        for name, rules in single.fired.items():
            assert batch[f"fired.{name}"].iloc[i] == rules


def test_batch_fired_of_a_vectorised_multi_output_table() -> None:
    model = decisions.load(
        """
model: two outputs
inputs:
  Score: number
  Grade: string
decisions:
  Offer:
    requires: [Score, Grade]
    table:
      hit policy: UNIQUE
      inputs: [Score, Grade]
      outputs: [Rate, Term]
      rules:
        - ["< 600", "-", "null", "0"]
        - ["[600..700)", '"A", "B"', "0.07", "36"]
        - ["[600..700)", 'not("A", "B")', "0.09", "24"]
        - [">= 700", "-", "0.05", "60"]
        - ["> 900", "-", "0.01", "72"]
"""
    )
    frame = pd.DataFrame({"Score": [550, 650, 650, 750, 950, float("nan")],
                          "Grade": ["A", "A", "C", None, "B", "A"]})
    batch = model.evaluate_batch(frame, fired=True)
    # 950 matches rules 4 and 5: a UNIQUE violation (a null result) that names both rules.
    assert batch["fired.Offer"].tolist() == [[1], [2], [3], [4], [4, 5], []]
    assert batch["Offer.Rate"].iloc[4] is None
    _assert_identical(model, frame)


ALL_HIT_POLICIES = ("FIRST", "UNIQUE", "ANY", "PRIORITY", "RULE ORDER", "OUTPUT ORDER", "COLLECT")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_vectorised_hit_policies_equal_evaluate(data: st.DataObject) -> None:
    """Every hit policy (COLLECT with each aggregation), one or two outputs, cells the index
    summarises: the vectorised path, checked against `evaluate` with problems and fired rules."""
    defs = data.draw(tables(hit_policies=ALL_HIT_POLICIES, outputs=(1, 2),
                            aggregations=(None, "SUM", "COUNT", "MIN", "MAX"), indexable=True))
    model = compile_model(defs)
    frame = data.draw(frames(defs, max_rows=60))
    _assert_identical(model, frame)


@pytest.mark.parametrize("variant", ct.VARIANTS)
def test_credit_tables_of_every_hit_policy_are_vectorised_and_equal_evaluate(
        variant: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The benchmark's tables: no row takes the row path, and every row is what `evaluate` gives."""
    model = decisions.load(ct.to_dmn(ct.variant(variant)))
    frame = ct.applicants_frame(300, seed=31)
    frame.loc[0, "Income"] = float("nan")  # a null: no numeric cell matches it
    frame.loc[1, "Employment"] = None

    def no_row_path(*args: Any, **kwargs: Any) -> None:
        raise AssertionError(f"{variant}: rows were evaluated one by one")

    monkeypatch.setattr(batch_module, "_evaluate_rows", no_row_path)
    batch = model.evaluate_batch(frame, fired=True)
    monkeypatch.undo()
    assert batch["problems"].notna().any() or variant in ("FIRST", "UNIQUE", "ANY", "COLLECT COUNT")
    _assert_identical(model, frame)


def test_a_list_giving_table_with_two_outputs_is_a_list_per_output_and_read_whole_downstream() -> None:
    model = decisions.load(
        """
model: offers
inputs:
  Score: number
decisions:
  Offers:
    requires: [Score]
    table:
      hit policy: RULE ORDER
      inputs: [Score]
      outputs: [Product, Rate]
      rules:
        - ["< 700", '"Basic"', "0.09"]
        - [">= 600", '"Plus"', "0.07"]
        - [">= 750", '"Gold"', "0.05"]
  Best Rate:
    requires: [Offers]
    expression: "min(Offers.Rate)"
"""
    )
    frame = pd.DataFrame({"Score": [550, 650, 800, float("nan")]})
    batch = model.evaluate_batch(frame)
    assert batch["Offers.Product"].tolist() == [["Basic"], ["Basic", "Plus"], ["Plus", "Gold"], None]
    assert batch["Offers.Rate"].tolist() == [[Decimal("0.09")], [Decimal("0.09"), Decimal("0.07")],
                                             [Decimal("0.07"), Decimal("0.05")], None]
    assert batch["Best Rate"].tolist()[:3] == [Decimal("0.09"), Decimal("0.07"), Decimal("0.05")]
    rates = batch["Offers.Rate"].tolist()
    rates[1].append(Decimal(1))  # each row has a list of its own
    assert [len(r) for r in batch["Offers.Rate"].tolist()[:3]] == [1, 3, 2]
    assert rates[2] is not rates[1]
    _assert_identical(model, frame)
