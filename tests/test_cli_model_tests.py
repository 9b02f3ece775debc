"""`decisionary test`: model tests run as a separate process, as analysts and their CI run it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree as ET

from tests.decisions.test_model_tests import CASES, MODEL, TCK_CASES

PROJECT = Path(__file__).resolve().parents[1]


def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "api.cli", "test", *map(str, args)], cwd=PROJECT,
                          capture_output=True, text=True, timeout=120, check=False)


def test_the_examples_pass_with_full_rule_coverage(tmp_path: Path) -> None:
    done = run("examples/", "--junit", tmp_path / "junit.xml")
    assert done.returncode == 0, done.stdout + done.stderr
    for model in ("loan-approval.dmn", "loan-approval.yaml", "loan-approval.xlsx", "loan-score.yaml",
                  "loan-scorecard.yaml"):
        assert f"examples/{model} (examples/{model.split('.')[0]}.tests.yaml)" in done.stdout
    assert done.stdout.count("coverage: 26/26 rules (100%)") == 3
    assert "coverage: 27/27 rules (100%)" in done.stdout  # the scorecard's bins
    assert "never fired" not in done.stdout and done.stdout.rstrip().endswith("5 model(s), 48 cases, 0 failed")
    root = ET.parse(tmp_path / "junit.xml").getroot()
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("48", "0", "0")


def test_a_model_with_its_test_file_beside_it_reports_coverage(tmp_path: Path) -> None:
    (tmp_path / "ages.yaml").write_text(MODEL)
    (tmp_path / "ages.tests.yaml").write_text(CASES)
    done = run(tmp_path / "ages.yaml")
    assert done.returncode == 0, done.stderr
    assert "3 cases, 3 passed, 0 failed" in done.stdout
    assert "  coverage: 3/4 rules (75%)" in done.stdout
    assert "    Category: 3/4 rules (75%); never fired: rule 3 (r-odd)" in done.stdout


def test_failures_show_case_decision_expected_and_actual_and_exit_1(tmp_path: Path) -> None:
    (tmp_path / "ages.yaml").write_text(MODEL)
    cases = tmp_path / "wrong.yaml"
    cases.write_text(CASES + "- name: wrong\n  inputs: {Age: 15}\n  expect: {Category: adult}\n"
                     "  fired: {Category: [r-adult]}\n")
    junit = tmp_path / "out" / "junit.xml"
    junit.parent.mkdir()
    done = run(tmp_path / "ages.yaml", "--cases", cases, "--junit", junit)
    assert done.returncode == 1, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    at = lines.index("  FAIL case 4 (wrong): decision 'Category'")
    assert lines[at + 1:at + 3] == ["      expected: 'adult'", "      actual:   'teen'"]
    assert "  FAIL case 4 (wrong): decision 'Category' fired rules" in lines
    assert "      expected: 4 (r-adult)" in lines and "      actual:   2 (r-teen)" in lines
    assert "4 cases, 3 passed, 1 failed" in done.stdout
    suite = ET.parse(junit).getroot().find("testsuite")
    assert suite is not None and (suite.get("tests"), suite.get("failures")) == ("4", "1")
    failing = [tc for tc in suite.findall("testcase") if tc.find("failure") is not None]
    assert [tc.get("name") for tc in failing] == ["case 4 (wrong)"]
    text = failing[0].findtext("failure") or ""
    assert "decision 'Category' (value): expected 'adult', actual 'teen'" in text
    assert "decision 'Category' (fired rules): expected 4 (r-adult), actual 2 (r-teen)" in text


def test_tck_xml_test_files_run_too(tmp_path: Path) -> None:
    (tmp_path / "ages.yaml").write_text(MODEL)
    (tmp_path / "ages.tests.xml").write_text(TCK_CASES)
    done = run(tmp_path)
    assert done.returncode == 1, done.stderr
    assert "2 cases, 1 passed, 1 failed" in done.stdout
    assert "  FAIL case 2 (id wrong): decision 'Fee'" in done.stdout and "      actual:   10" in done.stdout


def test_a_file_naming_what_the_model_lacks_is_an_error_naming_file_case_and_field(tmp_path: Path) -> None:
    (tmp_path / "ages.yaml").write_text(MODEL)
    (tmp_path / "ages.tests.yaml").write_text("- name: typo\n  inputs: {Agee: 3}\n  expect: {Category: child}\n")
    done = run(tmp_path / "ages.yaml")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert (f"error: {tmp_path / 'ages.tests.yaml'}: case 1 (typo): field 'inputs.Agee': "
            "no input named 'Agee' in the model") in done.stderr


def test_a_malformed_file_is_an_error_not_a_traceback(tmp_path: Path) -> None:
    (tmp_path / "ages.yaml").write_text(MODEL)
    (tmp_path / "ages.tests.yaml").write_text("- inputs: {Age: 3}\n  expect: [child]\n")
    junit = tmp_path / "junit.xml"
    done = run(tmp_path / "ages.yaml", "--junit", junit)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert f"{tmp_path / 'ages.tests.yaml'}: test case 1: 'expect' must be a non-empty mapping" in done.stderr
    error = ET.parse(junit).getroot().find("testsuite/testcase/error")
    assert error is not None and "'expect' must be" in (error.get("message") or "")
    (tmp_path / "ages.tests.yaml").write_text("- inputs: {Age: 3\n")
    broken = run(tmp_path / "ages.yaml")
    assert broken.returncode == 2 and "test cases are not valid YAML at line 2" in broken.stderr


def test_missing_files_and_folders_without_tests_are_usage_errors(tmp_path: Path) -> None:
    (tmp_path / "ages.yaml").write_text(MODEL)
    no_tests = run(tmp_path / "ages.yaml")
    assert no_tests.returncode == 2 and "no test file beside it (looked for ages.tests.yaml" in no_tests.stderr
    empty = run(tmp_path)
    assert empty.returncode == 2 and f"no model in {tmp_path} has a test file beside it" in empty.stderr
    missing = run(tmp_path / "nope.dmn")
    assert missing.returncode == 2 and "model file or folder not found" in missing.stderr
    assert "Traceback" not in no_tests.stderr + empty.stderr + missing.stderr
