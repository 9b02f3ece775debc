"""Model tests (decisions/testing.py): the test-case format, the runner, rule coverage, JUnit XML."""

from __future__ import annotations

from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

import decisions
from decisions.testing import (
    Case,
    CaseFileError,
    cases_file_for,
    check_cases,
    coverage,
    junit_xml,
    models_in,
    parse_cases,
    parse_tck_cases,
    read_cases,
    run_case,
    run_model,
    run_model_file,
    total_percent,
)

# Four rules, FIRST: rule 4 ("adult", id r-adult) fires for every age from 18; rule 3 (age > 120)
# is reached by no sensible case. Fee is a literal expression: no table, no coverage.
MODEL = """\
model: ages
namespace: https://decisionary.dev/tests/ages
inputs:
  Age: number
decisions:
  Category:
    requires: [Age]
    table:
      hit policy: FIRST
      inputs: [Age]
      outputs: [{type: string}]
      rules:
        - {when: ['< 13'], then: ['"child"'], id: r-child}
        - {when: ['[13..18)'], then: ['"teen"'], id: r-teen}
        - {when: ['> 120'], then: ['"implausible"'], id: r-odd}
        - {when: ['>= 18'], then: ['"adult"'], id: r-adult}
  Fee:
    requires: [Category]
    expression: if Category = "adult" then 10 else 5
"""

CASES = """\
- name: a child
  inputs: {Age: 8}
  expect: {Category: child, Fee: 5}
  fired: {Category: [1]}
- inputs: {Age: 40}
  expect: {Category: adult}
  fired: {Category: [r-adult]}
- inputs: {Age: 15}
  fired: {Category: r-teen}
"""


@pytest.fixture(scope="module")
def model() -> decisions.Model:
    return decisions.load(MODEL.encode(), format="yaml")


def test_cases_are_parsed_with_names_inputs_expectations_and_fired_rules() -> None:
    cases = parse_cases(CASES)
    assert [c.title for c in cases] == ["case 1 (a child)", "case 2", "case 3"]
    assert cases[0].inputs == {"Age": 8} and cases[0].expect == {"Category": "child", "Fee": 5}
    assert cases[1].fired == {"Category": ["r-adult"]}
    assert cases[2].expect == {} and cases[2].fired == {"Category": ["r-teen"]}  # a single id is a list of one
    assert cases[0].targets == ["Category", "Fee"]


def test_passing_cases_have_no_failures_and_report_the_rules_they_fired(model: decisions.Model) -> None:
    results = [run_case(model, case) for case in parse_cases(CASES)]
    assert [r.ok for r in results] == [True, True, True], [list(map(str, r.failures)) for r in results]
    assert [r.fired["Category"] for r in results] == [[1], [4], [2]]


def test_a_wrong_value_is_a_failure_with_the_expected_and_actual_values(model: decisions.Model) -> None:
    case = parse_cases("- name: wrong\n  inputs: {Age: 15}\n  expect: {Category: adult, Fee: 5}\n")[0]
    result = run_case(model, case)
    assert not result.ok and len(result.failures) == 1
    failure = result.failures[0]
    assert (failure.decision, failure.expected, failure.actual) == ("Category", "'adult'", "'teen'")
    assert str(failure) == "case 1 (wrong): decision 'Category' expected 'adult', got 'teen'"


def test_wrong_fired_rules_are_a_failure_naming_rule_numbers_and_ids(model: decisions.Model) -> None:
    case = parse_cases("- inputs: {Age: 15}\n  fired: {Category: [4]}\n")[0]
    [failure] = run_case(model, case).failures
    assert failure.kind == "fired"
    assert (failure.expected, failure.actual) == ("4 (r-adult)", "2 (r-teen)")
    nothing = parse_cases("- inputs: {Age: 15}\n  fired: {Category: []}\n")[0]
    assert run_case(model, nothing).failures[0].expected == "none"


def test_numbers_compare_as_feel_values(model: decisions.Model) -> None:
    case = parse_cases("- inputs: {Age: 40}\n  expect: {Fee: 10.0}\n")[0]
    assert run_case(model, case).ok


def test_coverage_names_the_rules_no_case_fired(model: decisions.Model) -> None:
    run = run_model(model, parse_cases(CASES))
    [table] = run.tables  # Fee is not a table
    assert (table.decision, table.covered, table.total) == ("Category", 3, 4)
    assert table.missed == [(3, "r-odd")]
    assert table.percent == 75.0 and total_percent(run.tables) == 75.0
    only_adults = run_model(model, parse_cases("- inputs: {Age: 30}\n  expect: {Category: adult}\n"))
    assert only_adults.tables[0].missed == [(1, "r-child"), (2, "r-teen"), (3, "r-odd")]
    assert total_percent(only_adults.tables) == 25.0


def test_coverage_counts_rules_fired_by_failing_cases_too(model: decisions.Model) -> None:
    results = [run_case(model, parse_cases("- inputs: {Age: 130}\n  expect: {Category: adult}\n")[0])]
    assert not results[0].ok
    assert coverage(model, results)[0].fired == frozenset({3})


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a: 1\n", "must be a YAML list"),
        ("- inputs: {a: 1}\n\texpect: {b: 2}\n", "not valid YAML at line 2"),
        ("- inputs: {Age: 1}\n", "test case 1: 'expect' must be a non-empty mapping"),
        ("- 3\n", "test case 1: expected a mapping"),
        ("- {name: x, inputs: {}, expect: {A: 1}, expected: {}}\n", r"test case 1 \(x\): unknown key\(s\) expected"),
        ("- {inputs: [1], expect: {A: 1}}\n", "'inputs' must be a mapping"),
        ("- {expect: {A: 1}}\n- {expect: {A: 1}, fired: [1]}\n", "test case 2: 'fired' must be a mapping"),
        ("- {expect: {A: 1}, fired: {A: [1.5]}}\n", r"'fired.A': 1.5 is neither a rule number nor a rule id"),
    ],
)
def test_malformed_files_are_refused_naming_the_file_the_case_and_the_field(text: str, message: str) -> None:
    with pytest.raises(CaseFileError, match=message) as caught:
        parse_cases(text, source="ages.tests.yaml")
    assert str(caught.value).startswith("ages.tests.yaml: ")


def test_cases_naming_what_the_model_lacks_are_issues_naming_the_case_and_field(model: decisions.Model) -> None:
    cases = parse_cases("""\
- name: typo
  inputs: {Agee: 3}
  expect: {Categry: child}
- inputs: {Age: 3}
  fired: {Fee: [1], Category: [5, r-none]}
""")
    issues = check_cases(model, cases)
    assert [(i.case.number, i.field) for i in issues] == [
        (1, "expect.Categry"), (1, "inputs.Agee"), (2, "fired.Fee"), (2, "fired.Category"), (2, "fired.Category")]
    assert issues[0].located("ages.tests.yaml") == \
        "ages.tests.yaml: case 1 (typo): field 'expect.Categry': no decision named 'Categry' in the model"
    assert str(issues[1]) == "case 1 (typo): no input named 'Agee' in the model"
    assert issues[2].message == "no decision table decision named 'Fee' in the model"
    assert issues[3].message == "rule 5 does not exist; the table has rules 1 to 4"
    assert issues[4].message == "no rule with id 'r-none' in the table"
    run = run_model(model, cases, tests_path="ages.tests.yaml")
    assert run.results == [] and run.error is not None and "inputs.Agee" in run.error and not run.ok


def test_a_decision_given_as_input_stands_in_for_it(model: decisions.Model) -> None:
    case = parse_cases("- inputs: {Category: adult}\n  expect: {Fee: 10}\n")[0]
    assert check_cases(model, [case]) == [] and run_case(model, case).ok


def test_junit_xml_has_a_testcase_per_case_and_failures_with_expected_and_actual(model: decisions.Model) -> None:
    cases = parse_cases(CASES + "- name: wrong\n  inputs: {Age: 15}\n  expect: {Category: adult}\n")
    good = run_model(model, cases, model_path="ages.yaml", tests_path="ages.tests.yaml")
    bad = run_model(model, parse_cases("- inputs: {Nope: 1}\n  expect: {Category: x}\n"),
                    model_path="other.yaml", tests_path="other.tests.yaml")
    root = ET.fromstring(junit_xml([good, bad]))
    assert root.tag == "testsuites" and (root.get("tests"), root.get("failures"), root.get("errors")) == ("5", "1", "1")
    first, second = root.findall("testsuite")
    names = [tc.get("name") for tc in first.findall("testcase")]
    assert names == ["case 1 (a child)", "case 2", "case 3", "case 4 (wrong)"]
    failures = [tc.find("failure") for tc in first.findall("testcase")]
    assert failures[:3] == [None, None, None]
    failure = failures[3]
    assert failure is not None and failure.get("message") == "case 4 (wrong): decision 'Category' expected 'adult', got 'teen'"
    assert failure.text == "decision 'Category' (value): expected 'adult', actual 'teen'"
    assert second.get("errors") == "1"
    error = second.find("testcase/error")
    assert error is not None and "field 'inputs.Nope'" in (error.get("message") or "")


TCK_CASES = """<?xml version="1.0" encoding="UTF-8"?>
<testCases xmlns="http://www.omg.org/spec/DMN/20160719/testcase"
           xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <modelName>ages.yaml</modelName>
  <testCase id="teen">
    <inputNode name="Age"><value xsi:type="xsd:decimal">15</value></inputNode>
    <resultNode name="Category"><expected><value xsi:type="xsd:string">teen</value></expected></resultNode>
    <resultNode name="Fee"><expected><value xsi:type="xsd:decimal">5</value></expected></resultNode>
  </testCase>
  <testCase id="wrong">
    <inputNode name="Age"><value xsi:type="xsd:decimal">40</value></inputNode>
    <resultNode name="Fee"><expected><value xsi:type="xsd:decimal">5</value></expected></resultNode>
  </testCase>
</testCases>
"""


def test_tck_test_files_are_cases_too(model: decisions.Model) -> None:
    cases = parse_tck_cases(TCK_CASES, source="ages.tests.xml")
    assert [c.title for c in cases] == ["case 1 (id teen)", "case 2 (id wrong)"]
    teen, wrong = (run_case(model, case) for case in cases)
    assert teen.ok and teen.fired == {"Category": [2]}
    [failure] = wrong.failures
    assert (failure.decision, failure.expected, failure.actual) == ("Fee", "5", "10")


def test_tck_files_with_unreadable_values_or_services_are_refused() -> None:
    bad_value = TCK_CASES.replace('xsi:type="xsd:decimal">15', 'xsi:type="xsd:decimal">fifteen')
    with pytest.raises(CaseFileError, match=r"ages.tests.xml: test case 1 \(id teen\): a value cannot be read"):
        parse_tck_cases(bad_value, source="ages.tests.xml")
    service = TCK_CASES.replace('<testCase id="wrong">', '<testCase id="wrong" type="decisionService">')
    with pytest.raises(CaseFileError, match=r"test case 2 \(id wrong\): type 'decisionService' is not supported"):
        parse_tck_cases(service, source="ages.tests.xml")
    with pytest.raises(CaseFileError, match="not well-formed XML"):
        parse_tck_cases("<testCases>", source="ages.tests.xml")


def test_test_files_are_found_beside_their_models(tmp_path: Path) -> None:
    (tmp_path / "ages.yaml").write_text(MODEL)
    (tmp_path / "ages.tests.yaml").write_text(CASES)
    (tmp_path / "untested.yaml").write_text(MODEL)
    (tmp_path / "tck.yaml").write_text(MODEL)
    (tmp_path / "tck.tests.xml").write_text(TCK_CASES)
    assert cases_file_for(tmp_path / "ages.yaml") == tmp_path / "ages.tests.yaml"
    assert cases_file_for(tmp_path / "untested.yaml") is None
    assert models_in(tmp_path) == [(tmp_path / "ages.yaml", tmp_path / "ages.tests.yaml"),
                                   (tmp_path / "tck.yaml", tmp_path / "tck.tests.xml")]
    assert len(read_cases(tmp_path / "tck.tests.xml")) == 2
    run = run_model_file(tmp_path / "ages.yaml")
    assert run.ok and len(run.results) == 3 and run.tests_path == str(tmp_path / "ages.tests.yaml")
    missing = run_model_file(tmp_path / "untested.yaml")
    assert missing.error is not None and "no test file beside it" in missing.error


def test_a_case_is_a_plain_value() -> None:
    case = Case(1, "case 1", {"Age": 3}, {"Category": "child"})
    assert case.fired == {} and case.compare == "feel" and case.title == "case 1"


def test_the_example_models_are_fully_covered() -> None:
    examples = Path(__file__).resolve().parents[2] / "examples"
    for path in ("loan-approval.yaml", "loan-approval.dmn"):
        run = run_model_file(examples / path)
        assert run.ok, run.error or [str(f) for r in run.failed for f in r.failures]
        assert total_percent(run.tables) == 100.0 and len(run.tables) == 4
