"""Scoring decisions in batch: the lambdified float function against the exact path, row for row.

The promise (decisions/scoring/): equal within a relative tolerance of 1e-9, nulls, domains
and reason codes included.
"""

from __future__ import annotations

import math
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

import decisions
from tests.decisions.scoring_models import scoring_model

EXAMPLES = Path(__file__).resolve().parent.parent.parent / "examples"
LOAN_SCORE = decisions.load(EXAMPLES / "loan-score.yaml")
DOMAINS = {"Applicant Age": (18, 100), "Monthly Income": (500, 100000), "Monthly Debt": (0, 50000),
           "Credit Score": (300, 850), "Requested Amount": (0, 1000000)}
MIXED = scoring_model(
    "if a > 2 and b < 0.5 or a = 1 then sqrt(a) * exp(b) - abs(b - 3) else max(a, b ** 2, 1) / min(a + 1, 4) + k",
    constants={"k": "2.5"}, baseline={"a": 2, "b": 0}, monotonic=None, domain={"a": [0, 10], "b": [-2, 2]},
    reasons=2)
MIXED_DOMAINS = {"a": (0, 10), "b": (-2, 2)}


def close(batch: Any, exact: Any) -> bool:
    if exact is None or batch is None:
        return batch is None and exact is None
    return math.isclose(float(batch), float(exact), rel_tol=1e-9, abs_tol=1e-9)


def values_in(low: float, high: float) -> st.SearchStrategy[Any]:
    """Numbers in a domain, now and then a null, an end of the domain or a value just outside."""
    return st.one_of(
        st.floats(low, high, allow_nan=False),
        st.integers(int(low), int(high)),
        st.sampled_from([low, high]),
        st.floats(high, high * 2 + 1, allow_nan=False),
        st.none(),
    )


def rows(domains: dict[str, tuple[float, float]]) -> st.SearchStrategy[list[dict[str, Any]]]:
    return st.lists(st.fixed_dictionaries({name: values_in(*bounds) for name, bounds in domains.items()}),
                    min_size=1, max_size=30)


def assert_batch_matches(model: Any, table: list[dict[str, Any]]) -> None:
    frame = pd.DataFrame(table, columns=list(table[0]))
    out = model.evaluate_batch(frame)
    scoring = model.decisions["Score" if "Score" in model.decisions else "S"].logic.scoring
    name = scoring.name
    for i, row in enumerate(table):
        exact = model.evaluate({k: v for k, v in row.items()})
        assert close(out[name].iloc[i], exact.outputs[name]), (row, out[name].iloc[i], exact.outputs[name])
        assert [p.code for p in out["problems"].iloc[i] or []] == [p.code for p in exact.problems]
        reasons = exact.reasons[name]
        for k in range(scoring.top):
            got, amount = out[f"{name}.reason {k + 1}"].iloc[i], out[f"{name}.reason {k + 1} contribution"].iloc[i]
            if k < len(reasons):
                assert close(amount, reasons[k].contribution), (row, k, amount, reasons[k])
                assert got == reasons[k].input or math.isclose(
                    abs(float(reasons[k].contribution)), abs(float(reasons[min(k + 1, len(reasons) - 1)].contribution)),
                    rel_tol=1e-9)
            else:
                assert got is None and amount is None


@settings(max_examples=60, deadline=None)
@given(rows(DOMAINS))
def test_loan_score_batch_equals_exact(table: list[dict[str, Any]]) -> None:
    assert_batch_matches(LOAN_SCORE, table)


@settings(max_examples=60, deadline=None)
@given(rows(MIXED_DOMAINS))
def test_every_construct_batch_equals_exact(table: list[dict[str, Any]]) -> None:
    assert_batch_matches(MIXED, table)


def test_the_float_path_does_the_work_and_gives_feel_numbers() -> None:
    frame = pd.DataFrame({"a": np.linspace(0.5, 9.5, 1000), "b": np.linspace(-1.5, 1.5, 1000)})
    out = MIXED.evaluate_batch(frame)
    assert all(type(v) is Decimal for v in out["S"])
    assert out["problems"].isna().all()
    exact = [MIXED.evaluate({"a": a, "b": b}).outputs["S"] for a, b in zip(frame["a"], frame["b"], strict=True)]
    assert all(close(b, e) for b, e in zip(out["S"], exact, strict=True))
    # the floats came from the lambdified function: at most 17 digits, where the exact path has 34
    assert all(len(v.as_tuple().digits) <= 17 for v in out["S"])
    assert sum(len(e.as_tuple().digits) == 34 for e in exact) > 500


def test_rows_the_float_path_cannot_answer_are_exact() -> None:
    model = scoring_model("1 / (a - 5) + b", baseline={"a": 0})
    out = model.evaluate_batch(pd.DataFrame({"a": [5.0, 6.0, None], "b": [1.0, 1.0, 1.0]}))
    assert out["S"].iloc[0] is None  # division by zero: null, with the exact path's problem
    assert [p.code for p in out["problems"].iloc[0]] == [p.code for p in model.evaluate({"a": 5, "b": 1}).problems]
    assert out["problems"].iloc[0] != []
    assert out["S"].iloc[1] == Decimal(2)
    assert out["S"].iloc[2] is None
    assert out["S.reason 1"].iloc[1] == "a" and close(out["S.reason 1 contribution"].iloc[1], Decimal("1.2"))
