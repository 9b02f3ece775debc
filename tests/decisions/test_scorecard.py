"""Points scorecards (decisions/scorecard.py): evaluation, reason codes, formats, batch, verify, errors."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import decisions
from decisions.compiler import compile_model
from decisions.dmn import read_dmn, write_dmn
from decisions.dmn.namespaces import DECISIONARY_EXTENSIONS_NAMESPACE
from decisions.errors import ModelError
from decisions.feel.values import DECIMAL_CONTEXT
from decisions.model import Bin, Characteristic, Context, Scorecard, reader_problems
from decisions.result import Reason
from decisions.xlsx_format import write_xlsx
from decisions.yaml_format import read_yaml, write_yaml
from tests.dmn.model_compare import model_differences
from tests.tables_strategies import numeric_cell

EXAMPLES = Path(__file__).resolve().parent.parent.parent / "examples"
EXAMPLE = EXAMPLES / "loan-scorecard.yaml"
SAMPLE = {"Applicant Age": 35, "Monthly Income": 5200, "Monthly Debt": 1100, "Credit Score": 712,
          "Employment Status": "Employed"}

CARD = """\
model: cards
inputs:
  Age: number
  Status: string
decisions:
  Points:
    type: number
    requires: [Age, Status]
    scorecard:
      base: 300
      reasons: 2
      characteristics:
        Age band:
          input: Age
          code: AGE
          bins:
            - [< 25, 10]
            - ['[25..40)', 25]
            - ['>= 40', 35]
        Job:
          input: Status
          bins:
            - ['"Employed", "Self-employed"', 30]
            - ['"Retired"', 30]
            - ['not("Employed", "Self-employed", "Retired")', -5]
"""


@pytest.fixture(scope="module")
def example() -> Any:
    return decisions.load(EXAMPLE)


@pytest.fixture(scope="module")
def card() -> Any:
    return decisions.load(CARD)


def with_card(body: str) -> str:
    """CARD with the scorecard's body (under `scorecard:`) replaced."""
    head = CARD.split("    scorecard:\n")[0]
    return head + "    scorecard:\n" + body


# --- evaluation and reason codes ------------------------------------------------------------


def test_the_score_is_base_plus_each_characteristics_bin(card: Any) -> None:
    result = card.evaluate({"Age": 30, "Status": "Retired"})
    assert result.outputs["Points"] == Decimal(355)
    assert result.fired == {"Points.Age band": [2], "Points.Job": [2]}
    assert result.problems == []
    assert card.evaluate({"Age": 24.5, "Status": "Student"}).outputs["Points"] == Decimal(305)  # negative points


def test_reason_codes_rank_points_lost_with_ties_in_declaration_order(card: Any) -> None:
    result = card.evaluate({"Age": 20, "Status": "Student"})  # Age band lost 25, Job lost 35
    assert result.reasons["Points"] == [
        Reason("Job", "Student", Decimal(30), Decimal(-35), None),
        Reason("Age band", Decimal(20), Decimal(35), Decimal(-25), "AGE")]
    tie = card.evaluate({"Age": 30, "Status": "Unemployed"}).reasons["Points"]  # lost 10 and 35
    assert [r.input for r in tie] == ["Job", "Age band"]
    best = card.evaluate({"Age": 50, "Status": "Employed"})
    assert best.reasons["Points"] == []  # nothing lost, nothing listed
    json_reasons = result.to_json()["reasons"]["Points"]
    assert json_reasons[1] == {"input": "Age band", "value": 20, "baseline": 35, "contribution": -25, "code": "AGE"}
    assert "code" not in json_reasons[0]  # emitted only when set


def test_the_example_lists_the_top_three_reasons(example: Any) -> None:
    result = example.evaluate(SAMPLE)
    assert result.outputs["Points"] == Decimal(555)
    assert [(r.input, r.contribution, r.code) for r in result.reasons["Points"]] == [
        ("Credit History", Decimal(-40), "CRS"), ("Debt Ratio", Decimal(-20), "DTI"), ("Income", Decimal(-15), "INC")]
    assert result.reasons["Points"][1].value == DECIMAL_CONTEXT.divide(Decimal(1100), Decimal(5200))  # an expression


def test_a_scoring_reason_has_no_code() -> None:
    reason = Reason("a", Decimal(1), Decimal(2), Decimal(3))
    assert reason.to_json() == {"input": "a", "value": 1, "baseline": 2, "contribution": 3}


def test_a_value_in_no_bin_gives_null_and_a_warning(card: Any) -> None:
    result = card.evaluate({"Age": None, "Status": "Employed"})
    assert result.outputs["Points"] is None
    [problem] = [p for p in result.problems if p.code == "no-bin-matched"]
    assert problem.severity == "warning" and problem.location.element == "Points"
    assert "characteristic 'Age band'" in problem.message and "the value null falls in no bin" in problem.message
    assert result.fired["Points.Age band"] == []
    assert [r.input for r in result.reasons["Points"]] == []  # null points are left out; Job lost nothing
    gap = decisions.load(with_card("""\
      base: 0
      characteristics:
        Age band:
          input: Age
          bins: [['< 18', 1], ['> 20', 2]]
"""))
    found = gap.evaluate({"Age": 19, "Status": "x"})
    assert found.outputs["Points"] is None
    assert any("the value 19 falls in no bin" in p.message for p in found.problems)
    assert not any(p.code == "no-rule-matched" for p in found.problems)  # said once, by the scorecard


def test_overlapping_bins_add_up_as_dmn_says() -> None:
    model = decisions.load(with_card("""\
      base: 0
      characteristics:
        Age band:
          input: Age
          bins: [['< 30', 1], ['> 20', 2]]
"""))
    assert model.evaluate({"Age": 25, "Status": "x"}).outputs["Points"] == Decimal(3)
    assert model.evaluate({"Age": 25, "Status": "x"}).fired["Points.Age band"] == [1, 2]


def test_explain_and_trace_show_each_bin(card: Any) -> None:
    [rule] = card.explain({"Age": 30, "Status": "Retired"}, "Points.Age band", 2)
    assert rule.matched and rule.fired and rule.cells[0].cell == "[25..40)"
    with pytest.raises(decisions.InputError, match="is a scorecard: explain one of its characteristics"):
        card.explain({}, "Points")
    [step] = card.evaluate({"Age": 30, "Status": "Retired"}, trace="explain").trace or []
    assert step.kind == "scorecard"
    assert [(e["decision"], e["rule"], e["fired"]) for e in step.explanations or [] if e["fired"]] == [
        ("Points.Age band", 2, True), ("Points.Job", 2, True)]
    assert list(card.rule_ids) == ["Points.Age band", "Points.Job"]
    assert card.fired_ids({"Points.Job": [1]}) == {"Points.Job": [card.rule_ids["Points.Job"][0]]}


# --- formats ---------------------------------------------------------------------------------


def test_the_yaml_form_reads_and_writes_as_written() -> None:
    [points] = read_yaml(CARD).decisions
    card = points.logic
    assert isinstance(card, Scorecard)
    assert (card.base, card.reasons, [c.name for c in card.characteristics]) == ("300", 2, ["Age band", "Job"])
    age = card.characteristics[0]
    assert (age.name, age.input, age.code) == ("Age band", "Age", "AGE")
    assert [(b.test, b.points, b.source.line) for b in age.bins] == [("< 25", "10", 17), ("[25..40)", "25", 18),
                                                                     (">= 40", "35", 19)]
    assert write_yaml(read_yaml(CARD)) == CARD
    assert write_yaml(read_yaml(EXAMPLE.read_text())) == EXAMPLE.read_text()


@pytest.mark.parametrize("source", [CARD, EXAMPLE.read_text()])
def test_yaml_dmn_yaml_gives_the_identical_model(source: str) -> None:
    original = read_yaml(source)
    text = write_dmn(original)
    assert f'xmlns:decisionary="{DECISIONARY_EXTENSIONS_NAMESPACE}"' in text
    assert "<decisionary:scorecard" in text and 'hitPolicy="COLLECT" aggregation="SUM"' in text
    through_dmn = read_dmn(text)
    assert isinstance(through_dmn.decisions[0].logic, Scorecard)
    assert model_differences(original, through_dmn, generated_ids_ok=True) == []
    assert write_yaml(through_dmn, ids=False) == write_yaml(original, ids=False)
    assert write_dmn(read_yaml(write_yaml(through_dmn))) == text


def test_the_dmn_form_is_a_plain_context_any_engine_evaluates() -> None:
    text = write_dmn(read_yaml(EXAMPLE.read_text()))
    assert "<text>350 + Age + Income + Debt Ratio + Credit History + Employment</text>" in text
    plain = re.sub(r"<extensionElements>.*?</extensionElements>", "", text, flags=re.S)
    assert "decisionary:" not in plain
    as_context = decisions.load(plain)
    assert isinstance(as_context.definitions.decisions[0].logic, Context)
    scorecard = decisions.load(EXAMPLE)
    for changes in ({}, {"Applicant Age": 19, "Credit Score": None}, {"Monthly Income": 0},
                    {"Employment Status": "Retired", "Monthly Debt": 4000}, {"Applicant Age": None}):
        inputs = {**SAMPLE, **changes}
        assert as_context.evaluate(inputs).outputs == scorecard.evaluate(inputs).outputs


def test_a_dmn_scorecard_context_of_another_shape_is_refused() -> None:
    text = write_dmn(read_yaml(CARD))
    broken = text.replace('hitPolicy="COLLECT" aggregation="SUM"', 'hitPolicy="FIRST"', 1)
    # Each is a problem of the scorecard's decision, which gives null with it (test_element_errors_reader.py).
    [problem] = reader_problems(read_dmn(broken))
    assert "scorecard characteristic 'Age band' must be a COLLECT SUM table, not FIRST" in problem.message
    [problem] = reader_problems(read_dmn(text.replace("<text>300 + Age band + Job</text>", "<text>300 + Job</text>")))
    assert "ends with the result entry '300 + Age band + Job'" in problem.message
    [problem] = reader_problems(read_dmn(text.replace('name="Age band" code="AGE"', 'name="Nope" code="AGE"')))
    assert "names 'Nope', which is not an entry" in problem.message


def test_a_workbook_cannot_hold_a_scorecard() -> None:
    with pytest.raises(ModelError, match="a workbook cannot hold decision 'Points', whose logic is a Scorecard"):
        write_xlsx(read_yaml(CARD))


# --- batch -----------------------------------------------------------------------------------


def reasons_of(result: Any, decision: str, top: int) -> list[Any]:
    found: list[Any] = []
    for reason in result.reasons.get(decision, []):
        found += [reason.input, reason.contribution, reason.code]
    return found + [None] * (3 * top - len(found))


def assert_batch_matches_single(model: Any, rows: list[dict[str, Any]], top: int) -> None:
    frame = pd.DataFrame(rows)
    batch = model.evaluate_batch(frame, fired=True)
    tables = list(model.rule_ids)
    for i, row in enumerate(rows):
        single = model.evaluate(row)
        got = batch.iloc[i]
        assert got["Points"] == single.outputs["Points"], (row, got["Points"], single.outputs["Points"])
        columns = [got[f"Points.reason {k} {part}".rstrip()] for k in range(1, top + 1)
                   for part in ("", "contribution", "code")]
        assert columns == reasons_of(single, "Points", top), row
        assert [got[f"fired.{t}"] for t in tables] == [single.fired[t] for t in tables], row
        assert sorted(p.code for p in got["problems"] or []) == sorted(p.code for p in single.problems), row


applicants = st.fixed_dictionaries({
    "Applicant Age": st.one_of(st.integers(15, 90), st.sampled_from([21, 25, 35, 50]), st.none()),
    "Monthly Income": st.one_of(st.integers(0, 9000), st.sampled_from([1500, 3000, 6000]), st.none()),
    "Monthly Debt": st.one_of(st.integers(0, 5000), st.none()),
    "Credit Score": st.one_of(st.integers(300, 850), st.sampled_from([580, 670, 740, 800]), st.none()),
    "Employment Status": st.sampled_from(["Employed", "Self-employed", "Unemployed", "Retired", None]),
})


@settings(max_examples=40, deadline=None)
@given(st.lists(applicants, min_size=1, max_size=25))
def test_batch_gives_the_scores_and_reasons_of_single_calls(rows: list[dict[str, Any]]) -> None:
    assert_batch_matches_single(EXAMPLE_MODEL, rows, 3)


@st.composite
def scorecards(draw: st.DrawFn) -> Any:
    """A scorecard over one number and one text, with any bins: overlaps, gaps, cells on `?`."""
    characteristics = []
    for name, column, cell in (("Number", "Age", numeric_cell()),
                               ("Word", "Status", st.sampled_from(['"A"', '"B", "C"', 'not("A")', "null", "-"]))):
        bins = [f"['{draw(cell)}', {draw(st.integers(-20, 60))}]"
                for _ in range(draw(st.integers(1, 5)))]
        characteristics.append(f"        {name}:\n          input: {column}\n          bins: [{', '.join(bins)}]\n")
    reasons = draw(st.integers(1, 3))
    return decisions.load(with_card(f"      base: 100\n      reasons: {reasons}\n      characteristics:\n"
                                    + "".join(characteristics))), reasons


@settings(max_examples=40, deadline=None)
@given(scorecards(), st.lists(st.fixed_dictionaries({
    "Age": st.one_of(st.sampled_from([-5, 0, 1, 2.5, 10, 18, 30, 100]), st.integers(-10, 110), st.none()),
    "Status": st.sampled_from(["A", "B", "C", "D", None])}), min_size=1, max_size=12))
def test_batch_equals_single_for_random_scorecards(made: Any, rows: list[dict[str, Any]]) -> None:
    model, reasons = made
    assert_batch_matches_single(model, rows, reasons)


EXAMPLE_MODEL = decisions.load(EXAMPLE)


# --- verification ----------------------------------------------------------------------------


def test_verify_reports_overlapping_bins_as_errors_and_gaps_as_warnings() -> None:
    model = decisions.load(with_card("""\
      base: 0
      characteristics:
        Age band:
          input: Age
          bins: [['< 30', 1], ['[25..40]', 2], ['> 50', 3], ['null', 0]]
"""))
    report = model.verify()
    texts = [str(f) for f in report]
    assert "error: Points.Age band: overlap: Age in [25..30): bins 1 and 2 both match (a scorecard's bins must " \
           "not overlap: their points would add up)" in texts
    assert "warning: Points.Age band: gap: Age in (40..50]: no bin matches (the points and the score are null)" \
        in texts
    assert not report.ok
    assert decisions.load(EXAMPLE).verify().findings == []


# --- bad input: located errors ---------------------------------------------------------------


def problems_of(source: str | Path) -> list[str]:
    """The reader's refusal of a model, or else the errors of its elements that do not compile
    (each of which gives null when evaluated)."""
    try:
        model = decisions.load(source)
    except ModelError as caught:
        return [str(p) for p in caught.problems]
    return [str(p) for p in model.errors]


@pytest.mark.parametrize(("body", "expected"), [
    ("""\
      base: 300
      characteristics:
        Age band:
          input: Age
          bins: [['< 25', 10], ['>= 25', ten]]
""", "error: 14, 'Points', decisions.Points.scorecard.characteristics.Age band.bins[2]: the points of bin 2 must "
     "be a number, not 'ten'"),
    ("""\
      base: lots
      characteristics:
        Age band:
          input: Age
          bins: [['< 25', 10]]
""", "error: 10, 'Points', decisions.Points.scorecard.base: the base must be a number, not 'lots'"),
    ("""\
      base: 300
      reasons: 0
      characteristics:
        Age band:
          input: Age
          bins: [['< 25', 10]]
""", "error: 11, 'Points', decisions.Points.scorecard.reasons: reasons must be a whole number of at least 1, "
     "not '0'"),
    ("""\
      base: 300
      characteristics:
        Age band:
          input: Age
          bins: []
""", "error: 14, 'Points', decisions.Points.scorecard.characteristics.Age band.bins: characteristic 'Age band' "
     "has no bins"),
    ("""\
      base: 300
      characteristics:
        Age band:
          input: Age
          bins: [['< 25', 10], ['>= 2S', 20]]
""", "error: 14, 'Points', scorecard.characteristics.Age band.bins[2], position 4: '>= 2S': unexpected name"),
    ("""\
      base: 300
      characteristics:
        Age band:
          input: Agee
          bins: [['< 25', 10]]
""", "error: 12, 'Points', scorecard.characteristics.Age band.input, position 0: 'Agee': 'Agee' is not an "
     "input, decision or function of the model"),
    ("""\
      base: 300
      characteristics:
        Age band:
          input: Age
          bins: [['< 25', 10]]
        Age band:
          input: Age
          bins: [['< 25', 10]]
""", "error: 15: duplicate key 'Age band'"),
])
def test_bad_scorecards_are_located_errors(body: str, expected: str, tmp_path: Path) -> None:
    """Each error names the file and line, the decision, and the characteristic and bin by their path."""
    path = tmp_path / "card.yaml"
    path.write_text(with_card(body))
    [found] = problems_of(path)
    assert found.startswith(expected.replace("error: ", f"error: {path}:", 1)), found


def test_compile_time_checks_hold_for_any_form() -> None:
    """What the YAML reader cannot see (a model built in Python, or read from DMN) the compiler checks."""
    defs = read_yaml(CARD)
    card = defs.decisions[0].logic
    assert isinstance(card, Scorecard)
    card.base, card.reasons = "x", 0
    card.characteristics.append(Characteristic("Job", "Status", [Bin("-", "1")]))
    card.characteristics[0].bins.append(Bin("null", "zero"))
    card.characteristics.append(Characteristic("Empty", "Status", []))
    model = compile_model(defs)
    messages = [f"{p.location.path}: {p.message}" for p in model.errors]
    assert messages == [
        "scorecard.base: the base must be a number, not 'x'",
        "scorecard.reasons: reasons must be at least 1, not 0",
        "scorecard.characteristics.Age band.bins[4]: the points of bin 4 must be a number, not 'zero'",
        "scorecard.characteristics.Job: the characteristic 'Job' is declared twice",
        "scorecard.characteristics.Empty.bins: characteristic 'Empty' has no bins",
    ]


def test_a_characteristic_may_not_read_an_earlier_ones_name() -> None:
    """In DMN each characteristic is a context entry, so a later one reading that name would get its points."""
    text = CARD.replace("Age band:", "Age:").replace("input: Status", "input: Age").replace(
        "['not(\"Employed\", \"Self-employed\", \"Retired\")', -5]", "['-', -5]")
    [found] = problems_of(text)
    assert "scorecard.characteristics.Job: characteristic 'Job' reads 'Age', which is also the name of an earlier " \
           "characteristic" in found


# --- the command line ------------------------------------------------------------------------


def test_the_command_line_on_the_example() -> None:
    from tests.test_cli import run

    checked = run("check", str(EXAMPLE))
    assert checked.returncode == 0 and "ok: 1 decisions, 5 inputs" in checked.stdout
    verified = run("verify", str(EXAMPLE))
    assert verified.returncode == 0 and "0 error(s), 0 warning(s), 0 note(s)" in verified.stdout
    tested = run("test", str(EXAMPLE))
    assert tested.returncode == 0 and "coverage: 27/27 rules (100%)" in tested.stdout
    evaluated = run("eval", str(EXAMPLE), "--input", json.dumps(SAMPLE), "--json")
    assert evaluated.returncode == 0
    answer = json.loads(evaluated.stdout)
    assert answer["outputs"] == {"Points": 555}
    assert answer["reasons"]["Points"][0] == {"input": "Credit History", "value": 712, "baseline": 100,
                                              "contribution": -40, "code": "CRS"}
    converted = run("convert", str(EXAMPLE), "--to", "xlsx", "-o", "/dev/null")
    assert converted.returncode == 2 and "a workbook cannot hold decision 'Points'" in converted.stdout + \
        converted.stderr
