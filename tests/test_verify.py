"""Table verification: overlaps, gaps (null a region of its own), rules that never fire, subsumed
rules, each as readable regions with rule numbers and a JSON form with rule ids."""

from __future__ import annotations

import itertools
import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import decisions
from decisions.compiler import compile_model
from decisions.verify import Finding
from tests.tables_strategies import frames, tables


def table_model(hit_policy: str, inputs: list[str], rules: list[list[str]], *, output: str = "Result",
                default: str | None = None, output_values: str | None = None) -> Any:
    """A one-table model: `inputs` as 'Name: type[: allowed]' and rules as cells then the output."""
    declared, columns = [], []
    for text in inputs:
        name, type_ref, *allowed = [part.strip() for part in text.split(":", 2)]
        declared.append(f"  {name}: {type_ref}")
        column = f"        - {{expression: {name}, type: {type_ref}"
        column += f", values: {json.dumps(allowed[0])}}}" if allowed else "}"
        columns.append(column)
    out = f"        - {{name: {output}, type: string" + (f", default: {json.dumps(default)}" if default else "") \
        + (f", values: {json.dumps(output_values)}" if output_values else "") + "}"
    rows = "\n".join("        - [" + ", ".join(json.dumps(cell) for cell in rule) + "]" for rule in rules)
    return decisions.load(f"""\
model: verify-test
namespace: https://decisionary.dev/tests/verify
inputs:
{chr(10).join(declared)}
decisions:
  Decide:
    requires: [{", ".join(t.split(":")[0].strip() for t in inputs)}]
    table:
      hit policy: {hit_policy}
      inputs:
{chr(10).join(columns)}
      outputs:
{out}
      rules:
{rows}
""")


def findings(model: Any, kind: str) -> list[Finding]:
    return [f for f in model.verify().findings if f.kind == kind]


def test_an_overlap_at_a_point_and_a_gap_at_another_under_unique() -> None:
    """A payment-method table: `<= 0` and `[0..50)` both take 0; nothing takes 50."""
    model = table_model("UNIQUE", ["Amount: number"], [["<= 0", '"none"'], ["[0..50)", '"card"'],
                                                       ["> 50", '"invoice"']])
    [overlap] = findings(model, "overlap")
    assert (overlap.severity, overlap.rules) == ("error", (1, 2))
    assert str(overlap) == "error: Decide: overlap: Amount = 0: rules 1 and 2 both match (a UNIQUE table must not overlap)"
    assert overlap.rule_ids == (model.rule_ids["Decide"][0], model.rule_ids["Decide"][1])
    gaps = {str(f.region[0]): f.severity for f in findings(model, "gap")}
    assert gaps == {"Amount = 50": "warning", "Amount = null": "info"}
    assert not model.verify().ok
    assert model.verify().to_json()["findings"][0]["region"] == [{"column": "Amount", "values": "= 0"}]


def test_null_is_its_own_region_and_allowed_values_bound_the_domain() -> None:
    model = table_model("UNIQUE", ['Risk: string: "Low", "High"', "Age: number: [18..99]"],
                        [['"Low"', "[18..60)", '"ok"'], ['"High"', "-", '"refer"'], ['"Low"', ">= 60", '"refer"'],
                         ["null", "-", '"ask"']])
    report = model.verify()
    assert report.ok and not findings(model, "overlap")
    gaps = [str(f) for f in findings(model, "gap")]
    # Age outside [18..99] and any other text are outside the domain: the only gaps are null ones.
    assert gaps == ['info: Decide: gap: Risk = "Low", Age = null: no rule matches (the result is null)']


def test_a_gap_with_a_default_output_is_information() -> None:
    model = table_model("FIRST", ["Score: number"], [["< 500", '"low"']], default='"other"')
    assert {f.severity for f in findings(model, "gap")} == {"info"}
    assert "the default output answers" in findings(model, "gap")[0].message


def test_rules_that_never_fire_under_first_and_priority() -> None:
    first = table_model("FIRST", ["Score: number"], [["< 600", '"low"'], [">= 600", '"high"'], ["[650..700]", '"mid"']])
    [never] = findings(first, "never-fires")
    assert never.rules == (3, 2) and "rule 3 never fires under FIRST: rule 2 always win" in never.message
    ordered = table_model("PRIORITY", ["Score: number"], [["-", '"refer"'], ["> 700", '"approve"']],
                          output_values='"approve", "refer"')
    assert not findings(ordered, "never-fires")  # "approve" ranks first where both match
    unordered = table_model("PRIORITY", ["Score: number"], [["-", '"refer"'], ["> 700", '"approve"']])
    # Without output values every rule ranks the same, so the earlier rule wins, as at run time.
    [never] = findings(unordered, "never-fires")
    assert never.rules == (2, 1)
    assert unordered.evaluate({"Score": 800}).outputs["Decide"] == "refer"
    outside = table_model("UNIQUE", ['Risk: string: "Low", "High"'], [['"Low"', '"a"'], ['"Medium"', '"b"']])
    [impossible] = findings(outside, "never-fires")
    assert impossible.rules == (2,) and "allows nothing within the column's allowed values" in impossible.message


def test_subsumed_rules_and_what_is_not_subsumed() -> None:
    model = table_model("ANY", ["Score: number", "Band: string"],
                        [["[600..700]", '"A"', '"yes"'], ["> 500", "-", '"yes"'], ["< 0", '"B"', '"no"']])
    [subsumed] = findings(model, "subsumed")
    assert subsumed.rules == (1, 2) and subsumed.severity == "warning"
    collect = table_model("COLLECT", ["Score: number"], [["[600..700]", '"a"'], ["> 500", '"a"']])
    assert not findings(collect, "subsumed")  # both count under COLLECT


def test_cells_that_are_not_literal_tests_make_the_table_unverifiable() -> None:
    model = table_model("UNIQUE", ["Score: number", "Limit: number"], [["> Limit", "-", '"over"'],
                                                                      ["<= Limit", "-", '"under"']])
    [finding] = model.verify().findings
    assert finding.kind == "unverifiable" and finding.severity == "info" and "rule 1 column 'Score'" in finding.message


def test_the_verify_command(tmp_path: Path) -> None:
    model = tmp_path / "pay.yaml"
    example = Path(__file__).resolve().parents[1] / "examples" / "loan-approval.yaml"
    ok = subprocess.run([sys.executable, "-m", "api.cli", "verify", str(example), "--quiet"],
                        capture_output=True, text=True, check=False)
    assert ok.returncode == 0 and "0 error(s)" in ok.stdout and "note" in ok.stdout
    assert "info:" not in ok.stdout  # --quiet
    model.write_text(example.read_text().replace("hit policy: PRIORITY", "hit policy: UNIQUE"))
    bad = subprocess.run([sys.executable, "-m", "api.cli", "verify", str(model), "--json"],
                         capture_output=True, text=True, check=False)
    assert bad.returncode == 1, bad.stderr
    report = json.loads(bad.stdout)
    overlap = next(f for f in report["findings"] if f["kind"] == "overlap" and f["severity"] == "error")
    assert overlap["decision"] == "Risk Category" and len(overlap["rule_ids"]) == 2


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_findings_agree_with_evaluating_sample_inputs(data: st.DataObject) -> None:
    """On generated tables: two rules that match one input together are reported as an overlap,
    and a table reported without gaps in real values matches every input that has no null."""
    defs = data.draw(tables(hit_policies=("RULE ORDER",)))
    model = compile_model(defs)
    report = model.verify()
    if any(f.kind == "unverifiable" for f in report.findings):
        return
    overlaps = {f.rules for f in report.findings if f.kind == "overlap"}
    real_gaps = [f for f in report.findings
                 if f.kind == "gap" and not any(r.text == "= null" for r in f.region)]
    frame = data.draw(frames(defs, max_rows=20))
    for i in range(len(frame)):
        row = {k: frame[k].iloc[i] for k in frame.columns}
        if any(v is None or (isinstance(v, float) and math.isnan(v)) for v in row.values()):
            continue
        fired = model.evaluate(row).fired["Result"]
        for a, b in itertools.combinations(fired, 2):
            assert (a, b) in overlaps, (row, fired, overlaps)
        if not real_gaps:
            assert fired, row
