"""The shipped example model answers as its policy says, for every path through its tables.

Expected values are worked out from the rules by hand (see examples/README.md), one applicant
per path: each would change if a rule, a boundary or a hit policy were evaluated wrongly.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import decisions
from decisions.feel.values import DECIMAL_CONTEXT

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
DMN = EXAMPLES / "loan-approval.dmn"


@pytest.fixture(scope="module")
def model() -> Any:
    return decisions.load(DMN)


def applicant(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = json.loads((EXAMPLES / "loan-approval-input.json").read_text())
    return {**base, **{k.replace("_", " "): v for k, v in changes.items()}}


def evaluate(model: Any, inputs: dict[str, Any]) -> dict[str, Any]:
    result = model.evaluate(inputs)
    assert [p for p in result.problems if p.severity == "error"] == []
    return dict(result.outputs)


def test_model_identity_and_shape(model: Any) -> None:
    assert model.name == "loan-approval"
    assert set(model.input_names) == {
        "Applicant Age", "Monthly Income", "Monthly Debt", "Credit Score", "Employment Status", "Requested Amount",
    }
    order = model.decision_names
    assert set(order) == {"Debt To Income", "Risk Category", "Eligibility", "Decision", "Credit Limit"}
    # evaluation order respects the requirements graph
    assert order.index("Debt To Income") < order.index("Risk Category") < order.index("Eligibility")
    assert order.index("Eligibility") < order.index("Decision") < order.index("Credit Limit")
    rules = sum(len(d.logic.rules) for d in model.definitions.decisions if hasattr(d.logic, "rules"))
    assert rules == 26


def test_sample_applicant_is_approved_in_full(model: Any) -> None:
    result = model.evaluate(applicant())
    out = result.outputs
    assert out["Debt To Income"] == DECIMAL_CONTEXT.divide(Decimal(1100), Decimal(5200))  # 34 digits
    assert out["Risk Category"] == "Medium"
    assert out["Eligibility"] == {"Status": "Eligible", "Reason": "Meets age, income and risk criteria"}
    assert out["Decision"] == "Approve"
    assert out["Credit Limit"] == Decimal(25000)
    assert result.fired["Decision"] == [3]
    assert result.fired["Eligibility"] == [5]
    json.dumps(result.to_json())  # the whole result is JSON-serialisable


@pytest.mark.parametrize(
    ("changes", "risk", "status", "decision", "limit"),
    [
        # under 18: eligibility rule 1 whatever the rest
        ({"Applicant_Age": 17}, "Medium", "Ineligible", "Reject", 0),
        # over 75 with enough income: eligibility rule 3
        ({"Applicant_Age": 80}, "Medium", "Ineligible", "Reject", 0),
        # no income: Debt To Income is null -> Very High (risk rule 3); income minimum fails first
        ({"Monthly_Income": 0}, "Very High", "Ineligible", "Reject", 0),
        # debt above half of income: Very High -> ineligible on risk
        ({"Monthly_Income": 2000, "Monthly_Debt": 1200}, "Very High", "Ineligible", "Reject", 0),
        # low risk, within 12 months of income: approve, limit = amount
        ({"Credit_Score": 780, "Monthly_Debt": 500, "Requested_Amount": 60000}, "Low", "Eligible", "Approve", 60000),
        # low risk, 100,000 is over 16 months of income: refer, provisional limit 3 x income
        ({"Credit_Score": 780, "Monthly_Debt": 500, "Requested_Amount": 100000}, "Low", "Eligible", "Refer", 15600),
        # score 600 (High) beats debt load 0.25 (Medium) under PRIORITY; small amount: refer
        ({"Credit_Score": 600, "Monthly_Income": 4000, "Monthly_Debt": 1000, "Requested_Amount": 10000},
         "High", "Eligible", "Refer", 10000),
        # High and five months of income: reject
        ({"Credit_Score": 600, "Monthly_Income": 4000, "Monthly_Debt": 1000, "Requested_Amount": 20000},
         "High", "Eligible", "Reject", 0),
        # unemployed with a very good score and light debt is still High (rule 9 excludes Unemployed)
        ({"Employment_Status": "Unemployed", "Credit_Score": 800, "Monthly_Income": 2000, "Monthly_Debt": 100,
          "Requested_Amount": 5000}, "High", "Eligible", "Refer", 5000),
        # boundary: score exactly 740 is not in [670..740) -> Low with light debt
        ({"Credit_Score": 740, "Monthly_Debt": 1040}, "Low", "Eligible", "Approve", 25000),
        # boundary: debt ratio exactly 0.36 is Medium ((0.2..0.36]), just above is High
        ({"Monthly_Income": 5000, "Monthly_Debt": 1800}, "Medium", "Eligible", "Approve", 25000),
        ({"Monthly_Income": 5000, "Monthly_Debt": 1801}, "High", "Eligible", "Reject", 0),
    ],
)
def test_policy_paths(model: Any, changes: dict[str, Any], risk: str, status: str, decision: str,
                      limit: int) -> None:
    out = evaluate(model, applicant(**changes))
    assert out["Risk Category"] == risk
    assert out["Eligibility"]["Status"] == status
    assert out["Decision"] == decision
    assert out["Credit Limit"] == Decimal(limit)


def test_yaml_twin_answers_like_the_dmn(model: Any) -> None:
    from decisions.yaml_format import read_yaml, write_yaml

    yaml_path = EXAMPLES / "loan-approval.yaml"
    text = yaml_path.read_text()
    # the committed YAML is the writer's rendering of the DMN (ids left out, for readability)
    assert read_yaml(text) == read_yaml(write_yaml(model.definitions, ids=False))
    twin = decisions.load(yaml_path)
    for changes in ({}, {"Applicant_Age": 17}, {"Credit_Score": 600, "Requested_Amount": 20000}):
        inputs = applicant(**changes)
        assert twin.evaluate(inputs).outputs == model.evaluate(inputs).outputs
