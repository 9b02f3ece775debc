"""model.explain and trace="explain": each rule's cells with the values they saw, for a rule that
fired, one that matched but lost to the hit policy, and one that did not match."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import decisions
from decisions.errors import InputError

LOAN = Path(__file__).resolve().parents[1] / "examples" / "loan-approval.yaml"
INPUTS: dict[str, Any] = {"Applicant Age": 35, "Monthly Income": 5200, "Monthly Debt": 1100, "Credit Score": 640,
                          "Employment Status": "Employed", "Requested Amount": 25000}


@pytest.fixture(scope="module")
def model() -> Any:
    return decisions.load(LOAN.read_text())


def test_a_rule_that_fired_one_that_lost_and_one_that_did_not_match(model: Any) -> None:
    assert model.evaluate(INPUTS).fired["Risk Category"] == [4]
    rules = {e.rule: e for e in model.explain(INPUTS, "Risk Category")}
    assert len(rules) == len(model.rule_ids["Risk Category"])

    fired = rules[4]
    assert fired.matched and fired.fired and fired.failed == ()
    assert fired.cells[0].column == "Credit Score" and fired.cells[0].cell == "[580..670)"
    assert fired.cells[0].value == 640 and fired.cells[0].satisfied

    lost = rules[8]  # (0.2..0.36] matches a debt ratio of 0.21, but PRIORITY keeps "High"
    assert lost.matched and not lost.fired
    assert "did not fire" in str(lost)

    missed = rules[1]
    assert not missed.matched and not missed.fired
    [cell] = missed.failed
    assert (cell.column, cell.cell, cell.value, cell.satisfied) == ("Credit Score", "< 580", 640, False)
    assert str(missed) == (f"Risk Category, rule 1 ({model.rule_ids['Risk Category'][0]}) did not match: "
                           "Credit Score is 640, which does not satisfy '< 580'")
    # Every rule the table fired is explained as matched, and every other rule has a failed cell
    # or lost to the hit policy.
    assert {r for r, e in rules.items() if e.fired} == set(model.evaluate(INPUTS).fired["Risk Category"])
    assert all(e.matched or e.failed for e in rules.values())


def test_a_rule_by_id_a_decision_reading_another_and_the_json_form(model: Any) -> None:
    rule_id = model.rule_ids["Decision"][0]
    [by_id] = model.explain(INPUTS, "Decision", rule_id)
    [by_number] = model.explain(INPUTS, "Decision", 1)
    assert by_id == by_number and by_id.rule == 1
    seen = {c.column: c.value for c in by_id.cells}
    assert seen["Eligibility Status"] == "Eligible"  # read from the Eligibility decision's result
    data = by_id.to_json()
    assert data["failed"] == [c.to_json() for c in by_id.failed] and data["rule_id"] == rule_id


def test_the_explain_trace_matches_explain(model: Any) -> None:
    result = model.evaluate(INPUTS, trace="explain")
    steps = {step.decision: step.to_json() for step in result.trace}
    assert "rules" not in steps["Debt To Income"]  # an expression has no rules
    assert steps["Risk Category"]["rules"] == [e.to_json() for e in model.explain(INPUTS, "Risk Category")]
    assert "rules" not in model.evaluate(INPUTS, trace=True).trace[1].to_json()


@pytest.mark.parametrize(("decision", "rule", "message"), [
    ("Horoscope", None, "unknown decision 'Horoscope'"),
    ("Debt To Income", None, "not a decision table"),
    ("Risk Category", 99, "has rules 1 to 9, not 99"),
    ("Risk Category", "no-such-id", "no rule with the id 'no-such-id'"),
    ("Risk Category", True, "a rule is a number"),
])
def test_what_cannot_be_explained_says_why(model: Any, decision: str, rule: Any, message: str) -> None:
    with pytest.raises(InputError, match=message):
        model.explain(INPUTS, decision, rule)
