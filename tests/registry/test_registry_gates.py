"""Publish gates: the model loads, its own test cases pass, its tables verify."""

from __future__ import annotations

from typing import Any

import pytest
from registry_samples import APPROVER, AUTHOR, KEY, LOAN_CASES, loan_dmn
from sqlalchemy.engine import Engine

import decisions
from decisions.errors import Location, Problem
from registry import (
    GateFailed,
    approve,
    check_gates,
    create_draft,
    get_version,
    history,
    publish,
    submit,
    unit_of_work,
)


def _approved(engine: Engine, content: str, test_cases: str | None = None, fmt: str | None = None) -> int:
    with unit_of_work(engine) as session:
        number = create_draft(session, KEY, content, author=AUTHOR, test_cases=test_cases, format=fmt).number
        submit(session, KEY, number, by=AUTHOR)
        approve(session, KEY, number, by=APPROVER)
    return number


def _submit_failure(engine: Engine, content: str, fmt: str | None = None) -> GateFailed:
    """A draft whose model has errors cannot be submitted: the failed gates, and the version is
    still a draft with no gates report."""
    with unit_of_work(engine) as session:
        number = create_draft(session, KEY, content, author=AUTHOR, format=fmt).number
    with pytest.raises(GateFailed) as caught:
        with unit_of_work(engine) as session:
            submit(session, KEY, number, by=AUTHOR)
    with unit_of_work(engine) as session:
        version = get_version(session, KEY, number)
        assert version.state == "draft" and version.gates is None
    assert caught.value.step == "submit" and str(caught.value).startswith("cannot submit")
    return caught.value


def _publish_failure(engine: Engine, number: int) -> GateFailed:
    with pytest.raises(GateFailed) as caught:
        with unit_of_work(engine) as session:
            publish(session, KEY, number, by=APPROVER)
    with unit_of_work(engine) as session:
        assert get_version(session, KEY, number).state == "approved"  # nothing changed
        assert history(session, KEY, number)[-1].to_state == "approved"
    return caught.value


def test_a_sound_model_with_passing_cases_publishes(engine: Engine) -> None:
    number = _approved(engine, loan_dmn(), LOAN_CASES)
    with unit_of_work(engine) as session:
        report = check_gates(session, KEY, number)
        assert report.ok and report.passed == ["load", "tests", "verify"] and report.skipped == []
        shown = get_version(session, KEY, number).gates  # kept from submit, for the approver
        assert shown["step"] == "submit" and shown["ok"] and shown["passed"] == ["load", "tests", "verify"]
        assert publish(session, KEY, number, by=APPROVER).state == "published"


def test_a_failing_case_blocks_publishing_and_says_why(engine: Engine) -> None:
    cases = LOAN_CASES + """\
- name: borderline score
  inputs: {Applicant Age: 40, Credit Score: 750}
  expect: {Risk Category: Medium}
"""
    number = _approved(engine, loan_dmn(), cases)  # a failing case does not stop submitting...
    with unit_of_work(engine) as session:  # ...its approver sees it
        shown = get_version(session, KEY, number).gates
    assert not shown["ok"] and [f["gate"] for f in shown["failures"]] == ["tests"]
    assert "borderline score" in shown["failures"][0]["reasons"][0]
    failure = _publish_failure(engine, number)
    assert [f.gate for f in failure.failures] == ["tests"]
    assert failure.failures[0].reasons == [
        "case 3 (borderline score): decision 'Risk Category' expected 'Medium', got 'Low'"]
    assert "cannot publish loan-approval version 1: gate(s) tests failed" in str(failure)
    assert "borderline score" in str(failure)


def test_numbers_and_null_compare_as_feel_values(engine: Engine) -> None:
    cases = """\
- inputs: {Applicant Age: 40, Credit Score: 800}
  expect: {Credit Limit: 50000.0}
- inputs: {Applicant Age: 40, Credit Score: null}
  expect: {Risk Category: null}
"""
    number = _approved(engine, loan_dmn(), cases)
    with unit_of_work(engine) as session:
        assert check_gates(session, KEY, number).failures == []


def test_evaluation_problems_are_shown_with_a_failing_case(engine: Engine) -> None:
    cases = """\
- inputs: {Applicant Age: 40, Credit Score: "excellent"}
  expect: {Risk Category: Low}
"""
    number = _approved(engine, loan_dmn(), cases)
    reasons = _publish_failure(engine, number).failures[0].reasons
    assert reasons[0] == "case 1: decision 'Risk Category' expected 'Low', got None"
    assert reasons[1].startswith("case 1: problems during evaluation: ")
    assert "Credit Score" in reasons[1]


def test_a_case_naming_an_unknown_decision_fails(engine: Engine) -> None:
    number = _approved(engine, loan_dmn(), "- inputs: {}\n  expect: {Interest Rate: 3}\n")
    reasons = _publish_failure(engine, number).failures[0].reasons
    assert reasons == ["case 1: no decision named 'Interest Rate' in the model"]


def test_a_model_that_does_not_load_fails_the_load_gate_with_located_problems(engine: Engine) -> None:
    failure = _submit_failure(engine, loan_dmn(limit="if Risk Category = then 1"))
    assert [f.gate for f in failure.failures] == ["load"]
    assert any("Credit Limit" in reason for reason in failure.failures[0].reasons), failure.failures
    assert "gate 'load' failed" in str(failure)


ONE_BROKEN_TABLE = """\
model: one broken table
namespace: https://decisionary.dev/tests/one-broken-table
inputs:
  Score: number
decisions:
  Fine:
    requires: [Score]
    expression: Score + 1
  Band:
    requires: [Score]
    table:
      hit policy: FIRST
      inputs: [Score]
      outputs: [Band]
      rules:
        - ['>= 7OO', '"high"']
        - ['-', '"low"']
"""


def test_a_model_with_one_element_that_does_not_compile_fails_the_load_gate(engine: Engine) -> None:
    """The model loads (its other decisions evaluate, the broken one gives null), but its
    errors still keep it from being submitted or published."""
    model = decisions.load(ONE_BROKEN_TABLE.encode(), format="yaml")
    assert model.evaluate({"Score": 1}, decisions=["Fine"]).outputs == {"Fine": 2}
    [error] = model.errors
    failure = _submit_failure(engine, ONE_BROKEN_TABLE, fmt="yaml")
    assert [f.gate for f in failure.failures] == ["load"]
    assert failure.failures[0].reasons == [str(error)]
    assert "'Band', rule 1, column 'Score'" in failure.failures[0].reasons[0]
    with unit_of_work(engine) as session:
        number = create_draft(session, KEY, ONE_BROKEN_TABLE, author=AUTHOR, format="yaml").number
        report = check_gates(session, KEY, number)
    assert [f.gate for f in report.failures] == ["load"] and not report.ok


# A problem the reader finds inside one element's logic is that element's error
# (tests/decisions/test_element_errors_reader.py): the model loads, and the gates refuse it.
BROKEN_LOGIC = {
    "yaml": ONE_BROKEN_TABLE.replace("      rules:\n        - ['>= 7OO', '\"high\"']",
                                     "      rules:\n        - ['>= 700', '-', '\"high\"']"),
    "dmn": """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20230324/MODEL/" id="m" name="one broken table"
             namespace="https://decisionary.dev/tests/one-broken-table">
  <inputData id="score" name="Score"><variable name="Score" typeRef="number"/></inputData>
  <decision id="fine" name="Fine">
    <informationRequirement><requiredInput href="#score"/></informationRequirement>
    <literalExpression><text>Score + 1</text></literalExpression>
  </decision>
  <decision id="band" name="Band">
    <informationRequirement><requiredInput href="#score"/></informationRequirement>
    <decisionTable hitPolicy="SOMETIMES"><output name="Band"/></decisionTable>
  </decision>
</definitions>
""",
}


@pytest.mark.parametrize("fmt", ["yaml", "dmn"])
def test_a_model_with_logic_the_reader_could_not_read_fails_the_load_gate(engine: Engine, fmt: str) -> None:
    content = BROKEN_LOGIC[fmt]
    model = decisions.load(content.encode(), format=fmt)
    assert model.evaluate({"Score": 1}).outputs == {"Fine": 2, "Band": None}
    [error] = model.errors
    assert error.location.element == "Band"
    assert ("rule 1 has 3 cells" if fmt == "yaml" else "unknown hit policy 'SOMETIMES'") in error.message
    failure = _submit_failure(engine, content, fmt=fmt)
    assert [f.gate for f in failure.failures] == ["load"]
    assert failure.failures[0].reasons == [str(error)]
    with unit_of_work(engine) as session:
        number = create_draft(session, KEY, content, author=AUTHOR, format=fmt).number
        report = check_gates(session, KEY, number)
    assert [f.gate for f in report.failures] == ["load"] and not report.ok


def test_a_model_that_is_not_a_model_fails_the_load_gate(engine: Engine) -> None:
    failure = _submit_failure(engine, "just: some yaml\n", fmt="yaml")
    assert [f.gate for f in failure.failures] == ["load"]
    assert failure.failures[0].reasons


def test_a_model_declaring_another_key_fails_the_load_gate(engine: Engine) -> None:
    from decisions.yaml_format import write_yaml

    definitions = decisions.load(loan_dmn().encode(), format="dmn").definitions
    definitions.key = "someone-elses-model"
    reasons = _submit_failure(engine, write_yaml(definitions), fmt="yaml").failures[0].reasons
    assert reasons == ["the model declares the key 'someone-elses-model' but is registered under 'loan-approval'"]


def test_the_verify_gate_runs_when_the_engine_offers_it(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[Any] = []
    overlap = Problem("rules 2 and 3 overlap", Location(element="Risk Category"), "error", "overlap")
    unreachable = Problem("rule 4 is never reached", Location(element="Risk Category"), "warning", "unreachable")

    def verify(model: Any) -> list[Problem]:
        seen.append(model)
        return [overlap, unreachable]

    number = _approved(engine, loan_dmn(), LOAN_CASES)
    monkeypatch.setattr(decisions, "verify", verify, raising=False)  # publishing re-checks
    failure = _publish_failure(engine, number)
    assert [f.gate for f in failure.failures] == ["verify"]
    assert failure.failures[0].reasons == [str(overlap)]  # warnings do not block publishing
    assert seen and seen[0].decision_names == ["Risk Category", "Credit Limit"]


def test_every_failed_gate_is_listed(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    number = _approved(engine, loan_dmn(), "- inputs: {Applicant Age: 1, Credit Score: 1}\n  expect: {Credit Limit: 1}\n")
    monkeypatch.setattr(decisions, "verify", lambda model: ["overlap in Risk Category"], raising=False)
    failure = _publish_failure(engine, number)
    assert [f.gate for f in failure.failures] == ["tests", "verify"]
    assert "gate(s) tests, verify failed" in str(failure)


PAYMENT = """\
model: loan-approval
namespace: https://decisionary.dev/tests/payment
inputs:
  Amount: number
decisions:
  Method:
    requires: [Amount]
    table:
      hit policy: UNIQUE
      inputs: [{expression: Amount, type: number}]
      outputs: [{name: Method, type: string}]
      rules:
        - ['<= 0', '"none"']
        - ['[0..50)', '"card"']
        - ['> 50', '"invoice"']
"""


def test_rules_that_overlap_under_unique_cannot_be_submitted_and_gaps_can(engine: Engine) -> None:
    failure = _submit_failure(engine, PAYMENT, fmt="yaml")
    assert [f.gate for f in failure.failures] == ["verify"]
    assert failure.failures[0].reasons == [
        "error: Method: overlap: Amount = 0: rules 1 and 2 both match (a UNIQUE table must not overlap)"]
    fixed = _approved(engine, PAYMENT.replace("'<= 0'", "'< 0'"), fmt="yaml")  # still a gap at 50: a warning
    with unit_of_work(engine) as session:
        shown = get_version(session, KEY, fixed).gates
        assert shown["ok"] and shown["passed"] == ["load", "tests", "verify"]
        assert publish(session, KEY, fixed, by=APPROVER).state == "published"
        assert get_version(session, KEY, fixed).gates["step"] == "publish"
