"""The xlsx form of a model: round trips with YAML and DMN, the committed example, and located errors."""

from __future__ import annotations

import io
import json
import zipfile
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import decisions
from decisions.compiler import compile_model
from decisions.dmn import read_dmn
from decisions.dmn.writer import write_dmn
from decisions.errors import ModelError
from decisions.model import (
    BusinessKnowledgeModel,
    Decision,
    DecisionTable,
    Definitions,
    FunctionDefinition,
    InputClause,
    InputData,
    LiteralExpression,
    OutputClause,
    Rule,
)
from decisions.xlsx_format import read_xlsx, write_xlsx
from decisions.yaml_format import read_yaml, write_yaml
from tests.dmn.model_compare import model_differences
from tests.tables_strategies import numeric_cell, string_cell

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"


def workbook(sheets: dict[str, list[list[Any]]]) -> bytes:
    """A workbook with one sheet per entry, rows as given (None: an empty cell)."""
    book = openpyxl.Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for r, row in enumerate(rows, 1):
            for c, value in enumerate(row, 1):
                if value is not None:
                    sheet.cell(r, c).value = value
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def rates(*, hit_policy: Any = "FIRST", rule_1: Any = "< 600", out_type: str = "number") -> list[list[Any]]:
    return [
        ["decision", "Rate"],               # 1
        ["hit policy", hit_policy],         # 2
        [],                                 # 3
        ["columns", "input", "output", "annotation"],  # 4
        ["expression", "Score"],            # 5
        ["type", "number", out_type],       # 6
        ["name", None, None, "Why"],        # 7
        ["rules"],                          # 8
        ["r1", rule_1, 0.1, "Thin file"],   # 9
        ["r2", ">= 600", 0.05],             # 10
    ]


def problems_of(data: bytes) -> list[str]:
    with pytest.raises(ModelError) as caught:
        read_xlsx(data, file="t.xlsx")
    return [str(problem) for problem in caught.value.problems]


# --- round trips -----------------------------------------------------------------------------


def test_the_loan_example_round_trips_through_xlsx_with_yaml_and_dmn() -> None:
    from_yaml = decisions.read_definitions(EXAMPLES / "loan-approval.yaml")
    data = write_xlsx(from_yaml)
    again = read_xlsx(data)
    assert model_differences(from_yaml, again) == []
    assert write_xlsx(again) == data  # deterministic bytes
    assert write_yaml(again) == write_yaml(from_yaml)
    from_dmn = decisions.read_definitions(EXAMPLES / "loan-approval.dmn")
    through = read_dmn(write_dmn(read_xlsx(write_xlsx(from_dmn))))
    assert model_differences(from_dmn, through) == []  # ids, types, values, annotations kept


def test_the_committed_example_workbook_is_the_yaml_model() -> None:
    committed = EXAMPLES / "loan-approval.xlsx"
    from_yaml = decisions.read_definitions(EXAMPLES / "loan-approval.yaml")
    assert model_differences(from_yaml, decisions.read_definitions(committed)) == []
    assert committed.read_bytes() == write_xlsx(from_yaml), \
        "regenerate: decisionary convert examples/loan-approval.yaml --to xlsx -o examples/loan-approval.xlsx"
    inputs = json.loads((EXAMPLES / "loan-approval-input.json").read_text(), parse_float=Decimal)
    assert decisions.load(committed).evaluate(inputs).to_json() == \
        decisions.load(EXAMPLES / "loan-approval.dmn").evaluate(inputs).to_json()


def test_a_single_sheet_without_a_model_sheet_loads_with_implicit_inputs() -> None:
    model = decisions.load(workbook({"Rates": rates()}))
    assert model.evaluate({"Score": 500}).outputs["Rate"] == Decimal("0.1")
    assert model.evaluate({"Score": 700}).outputs["Rate"] == Decimal("0.05")
    table = decisions.read_definitions(workbook({"Rates": rates()})).decisions[0].logic
    assert isinstance(table, DecisionTable)
    assert [r.id for r in table.rules] == ["r1", "r2"] and table.rules[0].annotations == ["Thin file"]
    assert table.rules[1].annotations == [""] and table.annotation_columns == ["Why"]


def test_texts_that_look_like_formulas_or_numbers_stay_text() -> None:
    table = DecisionTable([InputClause("x", type_ref="string")], [OutputClause(type_ref="string")],
                          [Rule(['"=1+2"'], ['"=SUM(A1)"']), Rule(["-"], ["007"])], hit_policy="FIRST")
    defs = Definitions(name="t", inputs=[InputData("x", "string")],
                       decisions=[Decision("D", table, required_inputs=["x"])])
    data = write_xlsx(defs)
    assert model_differences(defs, read_xlsx(data)) == []
    sheet = openpyxl.load_workbook(io.BytesIO(data))["D"]
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)


def test_a_collect_sum_table_with_types_and_values_round_trips() -> None:
    table = DecisionTable([InputClause("Kind", label="Kind", type_ref="tKind", input_values='"A", "B"')],
                          [OutputClause(name="Points", type_ref="number", default_output="0")],
                          [Rule(['"A"'], ["1"], id="a"), Rule(['"A", "B"'], ["2"], id="b", description="both")],
                          hit_policy="COLLECT", aggregation="SUM", output_label="Points")
    from decisions.model import ItemDefinition
    defs = Definitions(name="points", namespace="urn:p", business_key="Kind",
                       item_definitions=[ItemDefinition("tKind", "string", allowed_values='"A", "B"'),
                                         ItemDefinition("tPair", components=[ItemDefinition("left", "number")],
                                                        is_collection=True)],
                       inputs=[InputData("Kind", "tKind", description="the kind")],
                       decisions=[Decision("Points", table, type_ref="number", required_inputs=["Kind"]),
                                  Decision("Double", LiteralExpression("Points * 2", type_ref="number"),
                                           required_decisions=["Points"])])
    again = read_xlsx(write_xlsx(defs))
    assert model_differences(defs, again) == []
    assert decisions.load(write_xlsx(defs)).evaluate({"Kind": "A"}).outputs == {"Points": 3, "Double": 6}


def test_models_a_workbook_cannot_hold_are_refused_when_writing() -> None:
    defs = Definitions(name="m", knowledge_models=[BusinessKnowledgeModel(
        "F", FunctionDefinition([], LiteralExpression("1")))])
    with pytest.raises(ModelError, match="business knowledge models"):
        write_xlsx(defs)


# --- the property: generated tables round-trip and answer alike ----------------------------------


@st.composite
def table_models(draw: st.DrawFn) -> tuple[Definitions, list[dict[str, Any]]]:
    kinds = draw(st.lists(st.sampled_from(["number", "string", "boolean"]), min_size=1, max_size=3))
    hit_policy = draw(st.sampled_from(["UNIQUE", "FIRST", "PRIORITY", "ANY", "COLLECT", "RULE ORDER",
                                       "OUTPUT ORDER", "COLLECT SUM", "COLLECT COUNT", "COLLECT MAX"]))
    aggregation = hit_policy.split(" ")[1] if hit_policy.startswith("COLLECT ") else None
    numeric_out = aggregation in ("SUM", "MAX")
    names = [f"In {i}" for i in range(len(kinds))]
    clauses = []
    for name, kind in zip(names, kinds, strict=True):
        values = None
        if kind == "string" and draw(st.booleans()):
            values = '"A", "B", "C", "High", "Low"'
        elif kind == "number" and draw(st.booleans()):
            values = "[-100..100]"
        clauses.append(InputClause(name, label=draw(st.sampled_from([None, f"{name} label"])), type_ref=kind,
                                   input_values=values))
    out_values = None if numeric_out else draw(st.sampled_from([None, '"High", "Medium", "Low"']))
    if hit_policy in ("PRIORITY", "OUTPUT ORDER"):
        out_values = '"High", "Medium", "Low"'
    rules = []
    notes = draw(st.integers(0, 2))
    for n in range(draw(st.integers(1, 8))):
        cells = []
        for kind in kinds:
            if kind == "number":
                cells.append(draw(numeric_cell()))
            elif kind == "string":
                cells.append(draw(string_cell()))
            else:
                cells.append(draw(st.sampled_from(["-", "true", "false", "not(true)"])))
        out = str(draw(st.integers(0, 9))) if numeric_out else f'"{draw(st.sampled_from(["Low", "Medium", "High"]))}"'
        notes_text = [draw(st.text("ab c,é\"", max_size=8).map(str.strip)) for _ in range(notes)]
        rules.append(Rule(cells, [out], annotations=notes_text, id=draw(st.sampled_from([None, f"rule-{n}"]))))
    table = DecisionTable(
        clauses, [OutputClause(name="Out", type_ref="number" if numeric_out else "string", output_values=out_values,
                               default_output=draw(st.sampled_from([None, "null"])))],
        rules, hit_policy="COLLECT" if aggregation else hit_policy,  # type: ignore[arg-type]
        aggregation=aggregation,  # type: ignore[arg-type]
        annotation_columns=[f"Note {i}" for i in range(notes)])
    defs = Definitions(name="generated", namespace="urn:generated",
                       inputs=[InputData(n, type_ref=k) for n, k in zip(names, kinds, strict=True)],
                       decisions=[Decision("Result", table, required_inputs=names)])
    pools = {"number": [-5, 0, 1, 2.5, 10, 18, 30, 100, None], "string": ["A", "B", "High", "other", None],
             "boolean": [True, False, None]}
    cases = [{n: draw(st.sampled_from(pools[k])) for n, k in zip(names, kinds, strict=True)}
             for _ in range(draw(st.integers(1, 6)))]
    return defs, cases


def _answers(model: Any, cases: list[dict[str, Any]]) -> list[Any]:
    """Each case's outputs, fired rules and problems (a DMN file's line numbers left out)."""
    answers = []
    for case in cases:
        answer = model.evaluate(case).to_json()
        for problem in answer.get("problems", []):
            problem["location"].pop("line", None)
        answers.append(answer)
    return answers


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(table_models())
def test_generated_tables_round_trip_through_xlsx_and_dmn_and_answer_alike(
        generated: tuple[Definitions, list[dict[str, Any]]]) -> None:
    defs, cases = generated
    data = write_xlsx(defs)
    from_xlsx = read_xlsx(data)
    assert model_differences(defs, from_xlsx) == []
    assert model_differences(defs, read_xlsx(write_xlsx(from_xlsx))) == []
    through_dmn = read_dmn(write_dmn(from_xlsx))
    assert model_differences(defs, read_xlsx(write_xlsx(through_dmn)), generated_ids_ok=True) == []
    assert model_differences(defs, read_yaml(write_yaml(from_xlsx))) == []
    expected = _answers(compile_model(defs), cases)
    assert _answers(decisions.load(data), cases) == expected
    assert _answers(compile_model(through_dmn), cases) == expected


# --- located errors --------------------------------------------------------------------------------


def test_merged_cells_are_refused_at_their_cell() -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Rates"
    for r, row in enumerate(rates(), 1):
        for c, value in enumerate(row, 1):
            sheet.cell(r, c).value = value
    sheet.merge_cells("B9:C9")
    buffer = io.BytesIO()
    book.save(buffer)
    assert problems_of(buffer.getvalue()) == [
        "error: t.xlsx, Rates!B9: merged cells (B9:C9): unmerge them and write each cell's text"]


def test_a_formula_is_refused_and_never_evaluated() -> None:
    found = problems_of(workbook({"Rates": rates(rule_1="=1/0")}))
    assert found == ["error: t.xlsx, Rates!B9: a formula (=1/0): write the value itself; formulas are never "
                     "evaluated"]


def test_an_empty_or_unknown_hit_policy_is_refused_at_its_cell() -> None:
    assert "Rates!B2: the hit policy is empty" in problems_of(workbook({"Rates": rates(hit_policy=None)}))[0]
    assert "Rates!B2: unknown hit policy 'FRIST'" in problems_of(workbook({"Rates": rates(hit_policy="FRIST")}))[0]


def test_a_feel_cell_that_does_not_parse_is_named_by_its_cell() -> None:
    model = decisions.load(workbook({"Rates": rates(rule_1=">= 6OO")}), format="xlsx")
    found = [str(p) for p in model.errors]
    assert len(found) == 1
    assert "Rates!B9" in found[0] and "'Rate', rule 1, column 'Score'" in found[0] and "'>= 6OO'" in found[0]
    result = model.evaluate({"Score": 700})  # the table gives null, and says where it is wrong
    assert result.outputs == {"Rate": None} and [str(p) for p in result.problems] == found
    other = decisions.load(workbook({"Rate Table": rates(rule_1="[1..")}), format="xlsx")
    assert "'Rate Table'!B9" in str(other.errors[0])


def test_an_unknown_type_is_refused_at_its_cell() -> None:
    found = problems_of(workbook({"Rates": rates(out_type="numbr")}))
    assert len(found) == 1 and found[0].startswith("error: t.xlsx, Rates!C6: unknown type 'numbr'")


def test_structure_errors_name_their_cells() -> None:
    bad_kind = rates()
    bad_kind[3] = ["columns", "input", "outptu"]
    assert "Rates!C4: unknown column kind 'outptu'" in problems_of(workbook({"Rates": bad_kind}))[0]
    no_rules = rates()[:7]
    assert "Rates!A4: the table has no 'rules' row" in problems_of(workbook({"Rates": no_rules}))[0]
    assert "Notes!A1: expected 'model'" in problems_of(workbook({"Notes": [["hello"]]}))[0]
    model = [["model", "m"], [], ["inputs", "type"], ["Score", "numbr"]]
    found = problems_of(workbook({"Model": model, "Rates": rates()}))
    assert found == ["error: t.xlsx, Model!B4: unknown type 'numbr': use number, string, boolean, date, time, "
                     "date and time, days and time duration, years and months duration, Any, or a type of the "
                     "model sheet (none declared)"]
    requires = rates()
    requires.insert(2, ["requires", "Scroe"])
    found = problems_of(workbook({"Model": [["model", "m"], [], ["inputs", "type"], ["Score", "number"]],
                                  "Rates": requires}))
    assert len(found) == 1 and "Rates!B3: requires 'Scroe'" in found[0]


def test_a_date_cell_is_refused() -> None:
    from datetime import date

    assert "Rates!B9: a date or time value" in problems_of(workbook({"Rates": rates(rule_1=date(2024, 5, 1))}))[0]


@pytest.mark.parametrize("data, message", [
    (b"\x00\x01random bytes" * 50, "not an xlsx workbook: the content is not a zip package"),
    (b"PK\x03\x04" + b"\x00" * 200, "not an xlsx workbook: the zip package is damaged"),
    (b"", "not an xlsx workbook"),
])
def test_bytes_that_are_not_a_workbook_get_a_clear_error(data: bytes, message: str) -> None:
    found = problems_of(data)
    assert len(found) == 1 and message in found[0]


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as package:
        for name, content in members.items():
            package.writestr(name, content)
    return buffer.getvalue()


def test_a_zip_that_is_not_a_workbook_or_unpacks_too_far_is_refused() -> None:
    assert "has no xl/workbook.xml" in problems_of(_zip({"hello.txt": b"hi"}))[0]
    bomb = _zip({"[Content_Types].xml": b"", "xl/workbook.xml": b"<" + b" " * (80 * 2**20)})
    assert len(bomb) < 200_000
    assert "unpacks to" in problems_of(bomb)[0]
    truncated = (EXAMPLES / "loan-approval.xlsx").read_bytes()[:5000]
    assert "not" in problems_of(truncated)[0] and "workbook" in problems_of(truncated)[0]
    broken = _zip({"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"<not-closed"})
    assert "not a readable xlsx workbook" in problems_of(broken)[0]


def test_the_loader_tells_xlsx_by_suffix_and_by_content(tmp_path: Path) -> None:
    data = (EXAMPLES / "loan-approval.xlsx").read_bytes()
    assert decisions.read_definitions(data).name == "loan-approval"
    renamed = tmp_path / "model.bin"
    renamed.write_bytes(data)
    assert decisions.read_definitions(renamed).name == "loan-approval"
    wrong = tmp_path / "model.xlsx"
    wrong.write_text("model: m\n")
    with pytest.raises(ModelError, match="not a zip package"):
        decisions.load(wrong)
