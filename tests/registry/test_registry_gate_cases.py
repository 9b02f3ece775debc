"""The "tests" gate runs a version's cases with decisions.testing: expected fired rules and
cases naming what the model lacks fail it, with the case in every reason."""

from __future__ import annotations

from registry.gates import run_gates
from tests.registry.registry_samples import LOAN_CASES, loan_dmn


def _tests_reasons(cases: str) -> list[str]:
    report = run_gates(loan_dmn().encode(), "dmn", cases)
    failed = {f.gate: f.reasons for f in report.failures}
    assert "load" in report.passed and set(failed) <= {"tests"}, report
    return failed.get("tests", [])


def test_expected_fired_rules_by_number_and_id_pass_the_gate() -> None:
    cases = LOAN_CASES + """\
- inputs: {Applicant Age: 40, Credit Score: 800}
  expect: {Risk Category: Low}
  fired: {Risk Category: [rule-4]}
"""
    assert _tests_reasons(cases) == []
    assert _tests_reasons(cases.replace("[rule-4]", "[4]")) == []


def test_wrong_fired_rules_fail_the_gate_naming_rule_numbers_and_ids() -> None:
    reasons = _tests_reasons("- inputs: {Applicant Age: 40, Credit Score: 800}\n  fired: {Risk Category: [1]}\n")
    assert reasons == ["case 1: decision 'Risk Category' expected rules 1 (rule-1) to fire, got 4 (rule-4)"]


def test_a_case_naming_an_unknown_input_or_rule_fails_the_gate() -> None:
    reasons = _tests_reasons("""\
- inputs: {Age: 40}
  expect: {Risk Category: Low}
- inputs: {Applicant Age: 40, Credit Score: 800}
  fired: {Risk Category: [rule-9]}
""")
    assert reasons == ["case 1: no input named 'Age' in the model",
                       "case 2: no rule with id 'rule-9' in the table"]
