"""The `decisionary` command line, run as a separate process as users run it."""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from decisions.tck import default_tck_root

PROJECT = Path(__file__).resolve().parents[1]

MODEL = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="ages" name="Ages"
             namespace="https://decisionary.dev/tests/ages">
  <inputData id="age" name="Age"><variable name="Age" typeRef="number"/></inputData>
  <decision id="category" name="Category">
    <variable name="Category" typeRef="string"/>
    <informationRequirement><requiredInput href="#age"/></informationRequirement>
    <decisionTable hitPolicy="FIRST">
      <input label="Age"><inputExpression typeRef="number"><text>Age</text></inputExpression></input>
      <output name="Category" typeRef="string"/>
      <rule><inputEntry><text>{age_test}</text></inputEntry><outputEntry><text>"minor"</text></outputEntry></rule>
      <rule><inputEntry><text>-</text></inputEntry><outputEntry><text>"adult"</text></outputEntry></rule>
    </decisionTable>
  </decision>
  <decision id="greeting" name="Greeting">
    <variable name="Greeting" typeRef="string"/>
    <informationRequirement><requiredDecision href="#category"/></informationRequirement>
    <literalExpression><text>"Hello, " + Category</text></literalExpression>
  </decision>
</definitions>
"""


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(PROJECT)}
    return subprocess.run(
        [sys.executable, "-m", "api.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd or PROJECT,
        env=env,
        timeout=120,
    )


@pytest.fixture
def model(tmp_path: Path) -> Path:
    path = tmp_path / "ages.dmn"
    path.write_text(MODEL.replace("{age_test}", "&lt; 18"), encoding="utf-8")
    return path


def assert_clean_failure(result: subprocess.CompletedProcess[str], code: int) -> None:
    assert result.returncode == code, result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_eval_prints_outputs_and_fired_rules(model: Path) -> None:
    result = run("eval", str(model), "--input", '{"Age": 12}')
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["decision", "value", "rules", "fired"]
    rows = {line.split()[0]: line for line in lines[2:] if line.strip()}
    assert rows["Category"].split() == ["Category", '"minor"', "1"]
    assert '"Hello, minor"' in rows["Greeting"]
    # columns are aligned: each value starts at the same offset
    assert rows["Category"].index('"minor"') == rows["Greeting"].index('"Hello, minor"')


def test_eval_json_and_input_file(model: Path, tmp_path: Path) -> None:
    inputs = tmp_path / "inputs.json"
    inputs.write_text('{"Age": 40.5}', encoding="utf-8")
    result = run("eval", str(model), "--input", f"@{inputs}", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["outputs"] == {"Category": "adult", "Greeting": "Hello, adult"}
    assert data["fired"] == {"Category": [2]}
    assert data["problems"] == []


def test_eval_selected_decision_and_trace(model: Path) -> None:
    result = run("eval", str(model), "-i", '{"Age": 3}', "--decision", "Category", "--json", "--trace")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["outputs"] == {"Category": "minor"}
    assert [step["decision"] for step in data["trace"]] == ["Category"]


@pytest.mark.parametrize(
    ("input_arg", "fragment"),
    [
        ('{"Age": ', "not valid JSON (command line, line 1, column 9)"),
        ("[1, 2]", "must be a JSON object"),
        ("@/nonexistent/inputs.json", "input file not found"),
    ],
)
def test_eval_bad_input_exits_2(model: Path, input_arg: str, fragment: str) -> None:
    result = run("eval", str(model), "--input", input_arg)
    assert_clean_failure(result, 2)
    assert fragment in result.stderr
    assert result.stdout == ""


def test_eval_missing_model_exits_2(tmp_path: Path) -> None:
    result = run("eval", str(tmp_path / "absent.dmn"), "--input", "{}")
    assert_clean_failure(result, 2)
    assert "model file not found" in result.stderr


def test_eval_unknown_decision_exits_2(model: Path) -> None:
    result = run("eval", str(model), "--decision", "Nope")
    assert_clean_failure(result, 2)
    assert "Nope" in result.stderr


def test_check_clean_model(model: Path) -> None:
    result = run("check", str(model))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip().splitlines()[-1] == "ok: 2 decisions, 1 inputs"


CAMUNDA_MODEL = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="d" name="Discount"
             namespace="http://camunda.org/schema/1.0/dmn">
  <decision id="discount" name="Discount">
    <decisionTable id="t">
      <input id="i1" label="Customer"><inputExpression typeRef="string"><text>customer</text></inputExpression></input>
      <input id="i2" label="Order size"><inputExpression typeRef="integer"><text>orderSize</text></inputExpression></input>
      <output id="o1" name="discount" typeRef="double"/>
      <rule><inputEntry><text>"Business"</text></inputEntry><inputEntry><text>&lt; 10</text></inputEntry>
        <outputEntry><text>0.1</text></outputEntry></rule>
      <rule><inputEntry><text>"Business"</text></inputEntry><inputEntry><text>&gt;= 10</text></inputEntry>
        <outputEntry><text>0.15</text></outputEntry></rule>
    </decisionTable>
  </decision>
</definitions>
"""


def test_check_lists_implicit_inputs(tmp_path: Path) -> None:
    """A Camunda model declares no input data: check names the variables its expressions read."""
    model = tmp_path / "discount.dmn"
    model.write_text(CAMUNDA_MODEL, encoding="utf-8")
    result = run("check", str(model))
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.strip().splitlines()
    assert lines[-2:] == ["implicit inputs: customer, orderSize", "ok: 1 decisions, 2 inputs"]
    evaluated = run("eval", str(model), "--input", '{"customer": "Business", "orderSize": "12"}', "--json")
    assert evaluated.returncode == 0, evaluated.stdout + evaluated.stderr
    assert json.loads(evaluated.stdout)["outputs"]["Discount"] in (0.15, "0.15")


def test_check_clean_model_lists_no_implicit_inputs(model: Path) -> None:
    assert "implicit inputs" not in run("check", str(model)).stdout


def test_check_broken_model_reports_location(tmp_path: Path) -> None:
    broken = tmp_path / "broken.dmn"
    broken.write_text(MODEL.replace("{age_test}", "&lt; (18"), encoding="utf-8")
    result = run("check", str(broken))
    assert_clean_failure(result, 1)
    assert "broken.dmn" in result.stdout
    assert "Category" in result.stdout
    assert "rule 1" in result.stdout


def test_eval_of_a_decision_that_does_not_compile_gives_null_and_exits_1_with_location(tmp_path: Path) -> None:
    broken = tmp_path / "broken.dmn"
    broken.write_text(MODEL.replace("{age_test}", "&lt; (18"), encoding="utf-8")
    result = run("eval", str(broken), "--input", "{}", "--json")
    assert_clean_failure(result, 1)
    answer = json.loads(result.stdout)
    assert answer["outputs"] == {"Category": None, "Greeting": None}  # Greeting requires Category
    [error] = [p for p in answer["problems"] if p["severity"] == "error"]
    assert error["location"]["rule"] == 1 and error["location"]["text"] == "< (18"


def test_check_not_xml(tmp_path: Path) -> None:
    bad = tmp_path / "bad.dmn"
    bad.write_text("<definitions", encoding="utf-8")
    result = run("check", str(bad))
    assert_clean_failure(result, 1)
    assert "bad.dmn" in result.stdout


def test_tck_on_a_copied_folder(tmp_path: Path) -> None:
    suite = tmp_path / "suite"
    shutil.copytree(default_tck_root() / "compliance-level-2" / "0004-simpletable-U", suite / "0004-simpletable-U")
    results = tmp_path / "results.csv"
    result = run("tck", str(suite), "--results", str(results))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "3 passed, 0 failed"
    with open(results, newline="", encoding="utf-8") as stream:
        rows = list(csv.reader(stream))
    assert rows == [
        ["0004-simpletable-U", "0004-simpletable-U-test-01", case_id, "SUCCESS", ""]
        for case_id in ("001", "002", "003")
    ]
    assert results.read_text(encoding="utf-8").startswith('"0004-simpletable-U","0004-simpletable-U-test-01","001"')


def test_tck_reports_failures_and_still_exits_0(tmp_path: Path) -> None:
    folder = tmp_path / "suite" / "0004-simpletable-U"
    shutil.copytree(default_tck_root() / "compliance-level-2" / "0004-simpletable-U", folder)
    test_file = folder / "0004-simpletable-U-test-01.xml"
    text = test_file.read_text(encoding="utf-8")
    test_file.write_text(text.replace(">Approved<", ">Rejected<", 1), encoding="utf-8")
    result = run("tck", str(tmp_path / "suite"), "--only", "simpletable")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert lines[-1] == "2 passed, 1 failed"
    assert any(
        line.startswith("FAILURE 0004-simpletable-U/0004-simpletable-U-test-01 #001")
        and "'Approval Status': expected \"Rejected\", got \"Approved\"" in line
        for line in lines
    )


def test_tck_missing_folder_exits_2(tmp_path: Path) -> None:
    result = run("tck", str(tmp_path / "absent"))
    assert_clean_failure(result, 2)
    assert "not found" in result.stderr


def test_convert_between_dmn_and_yaml_keeps_the_answers(tmp_path: Path) -> None:
    example = Path(__file__).resolve().parent.parent / "examples" / "loan-approval.dmn"
    yaml_file = tmp_path / "loan.yaml"
    dmn_file = tmp_path / "loan.dmn"
    assert run("convert", str(example), "--to", "yaml", "--out", str(yaml_file)).returncode == 0
    assert run("convert", str(yaml_file), "--to", "dmn1.3", "--out", str(dmn_file)).returncode == 0
    assert "20191111" in dmn_file.read_text()
    inputs = '{"Applicant Age": 35, "Monthly Income": 5200, "Monthly Debt": 1100, "Credit Score": 712, ' \
             '"Employment Status": "Employed", "Requested Amount": 25000}'
    original = json.loads(run("eval", str(example), "--input", inputs, "--json").stdout)
    converted = json.loads(run("eval", str(dmn_file), "--input", inputs, "--json").stdout)
    assert converted["outputs"] == original["outputs"]
    assert_clean_failure(run("convert", str(example), "--to", "xml"), 2)


def test_eval_exits_1_when_the_result_holds_an_error(tmp_path: Path) -> None:
    model = tmp_path / "positions.yaml"
    model.write_text("model: positions\nnamespace: https://decisionary.dev/tests/positions\ninputs:\n  Start: number\n"
                     "decisions:\n  Tail:\n    requires: [Start]\n    expression: 'substring(\"abc\", Start)'\n",
                     encoding="utf-8")
    fine = run("eval", str(model), "--input", '{"Start": 2}')
    assert fine.returncode == 0, fine.stderr
    for extra in ([], ["--json"]):
        failed = run("eval", str(model), "--input", '{"Start": 0}', *extra)
        assert failed.returncode == 1, failed.stdout
        assert "start position must not be 0" in failed.stdout
