"""decisions.diff: what changed between two parsed models."""

from __future__ import annotations

import json

from decisions.diff import CellChange, RuleChange, diff_definitions, diff_tables
from decisions.model import (
    BusinessKnowledgeModel,
    Context,
    ContextEntry,
    Decision,
    DecisionTable,
    Definitions,
    FunctionDefinition,
    InputClause,
    InputData,
    LiteralExpression,
    OutputClause,
    Parameter,
    Rule,
    Source,
)

RULES = [("< 25", "-", '"High"'), ("-", "< 600", '"High"'), ("-", "[600..750)", '"Medium"'), ("-", ">= 750", '"Low"')]


def table(rules: list[tuple[str, str, str]] = RULES, ids: list[str | None] | None = None,
          hit_policy: str = "FIRST", line: int | None = None) -> DecisionTable:
    ids = ids if ids is not None else [f"r{i + 1}" for i in range(len(rules))]
    return DecisionTable(
        inputs=[InputClause("Age", label="Applicant Age"), InputClause("Score", label="Credit Score")],
        outputs=[OutputClause("Risk")],
        rules=[Rule([age, score], [risk], id=rule_id, source=Source(line=line))
               for rule_id, (age, score, risk) in zip(ids, rules, strict=True)],
        hit_policy=hit_policy,  # type: ignore[arg-type]
    )


def model(risk: DecisionTable | LiteralExpression | None = None, limit: str = "if Risk = \"Low\" then 1 else 2",
          inputs: tuple[str, ...] = ("Age", "Score"), extra: list[Decision] | None = None,
          bkms: list[BusinessKnowledgeModel] | None = None) -> Definitions:
    return Definitions(
        name="Loan",
        inputs=[InputData(name, type_ref="number") for name in inputs],
        decisions=[
            Decision("Risk", risk if risk is not None else table(), required_inputs=list(inputs)),
            Decision("Limit", LiteralExpression(limit), required_decisions=["Risk"]),
            *(extra or []),
        ],
        knowledge_models=bkms or [],
    )


def test_identical_models_have_no_changes() -> None:
    diff = diff_definitions(model(), model())
    assert diff.identical and diff.summary() == [] and diff.changed == []


def test_positions_and_element_ids_are_not_changes() -> None:
    old = model(table(line=10))
    new = model(table(line=99))
    new.decisions[1].source = Source(file="other.dmn", line=5)
    new.decisions[1].id = "regenerated"
    assert diff_definitions(old, new).identical


def test_rules_matched_by_stable_ids() -> None:
    rules = [RULES[0], RULES[2], ("-", ">= 780", '"Low"'), ("-", "[750..780)", '"Medium"')]
    diff = diff_tables(table(), table(rules, ids=["r1", "r3", "r4", "r5"]))
    assert diff.matched_by == "id"
    assert [(r.number, r.id) for r in diff.rules_removed] == [(2, "r2")]
    assert [(r.number, r.id, r.cells) for r in diff.rules_added] == [
        (4, "r5", {"Applicant Age": "-", "Credit Score": "[750..780)", "Risk": '"Medium"'})]
    # r3 moved from position 3 to 2 unchanged: not reported; r4's score cell changed
    assert diff.rules_changed == [RuleChange(4, 3, "r4", [CellChange("Credit Score", "input", ">= 750", ">= 780")])]


def test_rules_matched_by_position_when_ids_are_missing() -> None:
    no_ids: list[str | None] = [None] * 4
    inserted = [RULES[0], ("-", "< 500", '"Declined"'), *RULES[1:]]
    diff = diff_tables(table(ids=no_ids), table(inserted, ids=[None] * 5))
    assert diff.matched_by == "position"
    # one inserted rule is one added rule, not four changed ones
    assert [r.number for r in diff.rules_added] == [2] and diff.rules_changed == [] and diff.rules_removed == []


def test_rules_matched_by_position_when_ids_were_regenerated() -> None:
    changed = [RULES[0], RULES[1], ("-", "[600..700)", '"Medium"'), RULES[3]]
    diff = diff_tables(table(), table(changed, ids=["x1", "x2", "x3", "x4"]))
    assert diff.matched_by == "position"
    assert diff.rules_changed == [
        RuleChange(3, 3, "x3", [CellChange("Credit Score", "input", "[600..750)", "[600..700)")])]


def test_cell_changes_in_outputs_and_a_changed_hit_policy() -> None:
    changed = [RULES[0], ("-", "< 600", '"Declined"'), RULES[2], RULES[3]]
    diff = diff_tables(table(), table(changed, hit_policy="UNIQUE"))
    assert diff.hit_policy == ("FIRST", "UNIQUE")
    assert diff.rules_changed == [RuleChange(2, 2, "r2", [CellChange("Risk", "output", '"High"', '"Declined"')])]


def test_an_added_column_shows_in_every_rule_it_fills() -> None:
    old = table()
    new = table()
    new.inputs.append(InputClause("Region"))
    for rule in new.rules:
        rule.input_entries.append('"EU"')
    diff = diff_tables(old, new)
    assert diff.columns_added == ["input 'Region'"]
    assert [c for r in diff.rules_changed for c in r.cells] == [CellChange("Region", "input", None, '"EU"')] * 4


def test_a_column_definition_change_is_listed() -> None:
    new = table()
    new.outputs[0].output_values = '"High","Medium","Low"'
    diff = diff_tables(table(), new)
    assert diff.columns_changed == ["output 'Risk': (plain) -> values '\"High\",\"Medium\",\"Low\"'"]


def test_empty_and_dash_input_entries_are_the_same() -> None:
    rules = [("< 25", "", '"High"'), *RULES[1:]]
    assert not diff_tables(table(), table(rules)).changed


def test_literal_expressions_report_their_text() -> None:
    diff = diff_definitions(model(), model(limit='if Risk = "Low" then 10 else 2'))
    [change] = diff.changed
    assert (change.name, change.old_kind, change.old_text, change.new_text) == (
        "Limit", "literal expression", 'if Risk = "Low" then 1 else 2', 'if Risk = "Low" then 10 else 2')
    assert diff.summary() == [
        "decision 'Limit': expression 'if Risk = \"Low\" then 1 else 2' -> 'if Risk = \"Low\" then 10 else 2'"]


def test_inputs_and_decisions_added_and_removed() -> None:
    extra = Decision("Fee", LiteralExpression("10"))
    diff = diff_definitions(model(), model(inputs=("Age", "Income"), extra=[extra]))
    assert (diff.inputs_added, diff.inputs_removed) == (["Income"], ["Score"])
    assert (diff.decisions_added, diff.decisions_removed) == (["Fee"], [])
    assert diff_definitions(model(extra=[extra]), model()).decisions_removed == ["Fee"]
    [risk] = diff.changed
    assert risk.notes == ["now requires input 'Income'", "no longer requires input 'Score'"]


def test_logic_kind_changes_and_other_expression_kinds() -> None:
    diff = diff_definitions(model(), model(risk=LiteralExpression('"Low"')))
    [change] = diff.changed
    assert (change.old_kind, change.new_kind, change.new_text) == ("decision table", "literal expression", '"Low"')
    ctx = Context([ContextEntry("a", LiteralExpression("1")), ContextEntry(None, LiteralExpression("a"))])
    ctx2 = Context([ContextEntry("a", LiteralExpression("2")), ContextEntry(None, LiteralExpression("a"))])
    assert diff_definitions(model(extra=[Decision("C", ctx)]), model(extra=[Decision("C", ctx2)])).changed[0].notes \
        == ["the context changed"]


def test_knowledge_models_are_compared_too() -> None:
    bkm = BusinessKnowledgeModel("Fee", FunctionDefinition([Parameter("x")], LiteralExpression("x * 2")))
    bkm2 = BusinessKnowledgeModel("Fee", FunctionDefinition([Parameter("x"), Parameter("y")],
                                                            LiteralExpression("x * y")))
    diff = diff_definitions(model(bkms=[bkm]), model(bkms=[bkm2]))
    [change] = diff.changed
    assert (change.element, change.old_text, change.new_text) == ("knowledge", "x * 2", "x * y")
    assert change.notes == ["parameters (x) -> (x, y)"]
    assert diff_definitions(model(), model(bkms=[bkm])).knowledge_added == ["Fee"]


def test_the_diff_is_json() -> None:
    changed = [RULES[0], ("-", "< 600", '"Declined"')]
    diff = diff_definitions(model(), model(table(changed)))
    data = json.loads(json.dumps(diff.to_dict()))
    table_diff = data["changed"][0]["table"]
    assert table_diff["matched_by"] == "id"
    assert [r["id"] for r in table_diff["rules_removed"]] == ["r3", "r4"]
    assert table_diff["rules_changed"][0]["cells"] == [
        {"column": "Risk", "kind": "output", "old": '"High"', "new": '"Declined"'}]
    assert data["identical"] is False
