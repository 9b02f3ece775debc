"""Sample models and helpers for the registry tests.

`loan_dmn()` writes a small DMN 1.3 model (two inputs, a FIRST decision table and a literal
expression that depends on it); its arguments vary it, so tests can make the versions they need.
"""

from __future__ import annotations

from xml.sax.saxutils import escape

from sqlalchemy.engine import Engine

from registry import approve, create_draft, publish, submit, unit_of_work
from registry.views import Version

KEY = "loan-approval"
AUTHOR = "ana"
APPROVER = "bob"

# (age test, score test, risk category) per rule
LOAN_RULES: list[tuple[str, str, str]] = [
    ("< 25", "-", '"High"'),
    ("-", "< 600", '"High"'),
    ("-", "[600..750)", '"Medium"'),
    ("-", ">= 750", '"Low"'),
]
LOAN_LIMIT = 'if Risk Category = "Low" then 50000 else if Risk Category = "Medium" then 20000 else 5000'

LOAN_CASES = """\
- name: established, excellent credit
  inputs: {Applicant Age: 40, Credit Score: 800}
  expect: {Risk Category: Low, Credit Limit: 50000}
- name: young applicant
  inputs: {Applicant Age: 22, Credit Score: 800}
  expect: {Risk Category: High, Credit Limit: 5000}
"""


def loan_dmn(
    rules: list[tuple[str, str, str]] | None = None,
    *,
    limit: str = LOAN_LIMIT,
    rule_ids: list[str] | None = None,
    hit_policy: str = "FIRST",
    extra_input: bool = False,
) -> str:
    rules = LOAN_RULES if rules is None else rules
    ids = rule_ids if rule_ids is not None else [f"rule-{i + 1}" for i in range(len(rules))]
    rule_xml = "\n".join(
        f"""      <rule id="{rule_id}">
        <inputEntry><text>{escape(age)}</text></inputEntry>
        <inputEntry><text>{escape(score)}</text></inputEntry>
        <outputEntry><text>{escape(risk)}</text></outputEntry>
      </rule>"""
        for rule_id, (age, score, risk) in zip(ids, rules, strict=True)
    )
    extra = ('  <inputData id="in-region" name="Region"><variable name="Region" typeRef="string"/></inputData>\n'
             if extra_input else "")
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="loan" name="Loan Approval"
             namespace="https://decisionary.dev/tests/loan">
  <inputData id="in-age" name="Applicant Age"><variable name="Applicant Age" typeRef="number"/></inputData>
  <inputData id="in-score" name="Credit Score"><variable name="Credit Score" typeRef="number"/></inputData>
{extra}  <decision id="d-risk" name="Risk Category">
    <variable name="Risk Category" typeRef="string"/>
    <informationRequirement id="ir1"><requiredInput href="#in-age"/></informationRequirement>
    <informationRequirement id="ir2"><requiredInput href="#in-score"/></informationRequirement>
    <decisionTable id="dt-risk" hitPolicy="{hit_policy}">
      <input id="c-age" label="Applicant Age">
        <inputExpression typeRef="number"><text>Applicant Age</text></inputExpression>
      </input>
      <input id="c-score" label="Credit Score">
        <inputExpression typeRef="number"><text>Credit Score</text></inputExpression>
      </input>
      <output id="c-risk" name="Risk Category" typeRef="string"/>
{rule_xml}
    </decisionTable>
  </decision>
  <decision id="d-limit" name="Credit Limit">
    <variable name="Credit Limit" typeRef="number"/>
    <informationRequirement id="ir3"><requiredDecision href="#d-risk"/></informationRequirement>
    <literalExpression><text>{escape(limit)}</text></literalExpression>
  </decision>
</definitions>
"""


def published_version(engine: Engine, content: str | None = None, *, key: str = KEY,
                      test_cases: str | None = None) -> Version:
    """Take a new version through draft -> submitted -> approved -> published (gates included)."""
    with unit_of_work(engine) as session:
        draft = create_draft(session, key, content or loan_dmn(), author=AUTHOR, test_cases=test_cases)
        submit(session, key, draft.number, by=AUTHOR)
        approve(session, key, draft.number, by=APPROVER)
        return publish(session, key, draft.number, by=APPROVER)
