"""DMN XML reader: every TCK model, spot checks of parsed structure, versions, vendor dialects."""

from __future__ import annotations

from pathlib import Path

import pytest
from samples import CAMUNDA, DMN11, minimal
from tck_files import TCK_MODELS, tck_id, tck_model

from decisions.dmn import read_dmn, read_dmn_file
from decisions.dmn.namespaces import DMN_NAMESPACES
from decisions.model import (
    Conditional,
    Context,
    DecisionTable,
    FunctionDefinition,
    Invocation,
    Iterator,
    ListExpression,
    LiteralExpression,
)


def test_the_tck_models_are_there() -> None:
    assert len(TCK_MODELS) >= 130


@pytest.mark.parametrize("path", TCK_MODELS, ids=tck_id)
def test_every_tck_model_reads(path: Path) -> None:
    defs = read_dmn_file(path)
    assert defs.name
    assert defs.dmn_version == "1.5"
    assert defs.decisions or defs.knowledge_models
    for decision in defs.decisions:
        assert decision.source.file == str(path)
        assert decision.source.line is not None and decision.source.line > 1
        known = {element.name for group in (defs.inputs, defs.decisions, defs.knowledge_models, defs.services)
                 for element in group}
        for name in decision.required_inputs + decision.required_decisions + decision.required_knowledge:
            assert name in known or "." in name, f"{decision.name} requires unknown {name!r}"


def test_collect_min_table() -> None:
    defs = read_dmn_file(tck_model("0114-"))
    decision = defs.decisions[0]
    assert (decision.name, decision.type_ref, decision.required_inputs) == ("CarInsurance", "number", ["NumOfYears"])
    table = decision.logic
    assert isinstance(table, DecisionTable)
    assert (table.hit_policy, table.aggregation, table.output_label) == ("COLLECT", "MIN", "CarInsurance")
    assert [(clause.expression, clause.type_ref) for clause in table.inputs] == [("NumOfYears", "number")]
    assert len(table.outputs) == 1 and table.outputs[0].name is None and table.outputs[0].id == "output_1"
    assert [rule.input_entries for rule in table.rules] == [[">1"], [">2"], [">3"], [">4"]]
    assert [rule.output_entries for rule in table.rules] == [["98.83"], ["150.21"], ["205.43"], ["64.32"]]
    assert table.rules[0].id == "DecisionRule_0acwtg0"
    rule_line, decision_line = table.rules[0].source.line, decision.source.line
    assert rule_line is not None and decision_line is not None and rule_line > decision_line


def test_bkm_parameters_and_invoking_decision() -> None:
    defs = read_dmn_file(tck_model("0009-"))
    pmt = next(bkm for bkm in defs.knowledge_models if bkm.name == "PMT")
    assert isinstance(pmt.logic, FunctionDefinition)
    assert [(p.name, p.type_ref) for p in pmt.logic.parameters] == [("p", "number"), ("r", "number"), ("n", "number")]
    assert isinstance(pmt.logic.body, LiteralExpression)
    assert pmt.logic.body.text == "(p*r/12)/(1-(1+r/12)**-n)"
    assert pmt.logic.body.type_ref == "number"
    payment = next(d for d in defs.decisions if "PMT(" in getattr(d.logic, "text", ""))
    assert payment.required_knowledge == ["PMT"]
    assert sorted(payment.required_inputs) == ["Loan", "fee"]


def test_context_entries_and_imported_references() -> None:
    defs = read_dmn_file(tck_model("0086-", "0086-import.dmn"))
    assert [(i.name, i.namespace) for i in defs.imports] == [
        ("myimport", "http://www.trisotech.com/definitions/_f27bb64b-6fc7-4e1f-9848-11ba35e0df36")]
    assert defs.inputs[0].type_ref == "myimport.tPerson"
    decision = defs.decisions[0]
    assert decision.required_knowledge == ["myimport.Say Hello"]  # namespace#id resolved via the sibling file
    context = decision.logic
    assert isinstance(context, Context)
    assert [entry.name for entry in context.entries] == ["normal greeting", "override greeting", None]
    assert [entry.type_ref for entry in context.entries] == ["Any", "string", None]
    first, second, result = (entry.value for entry in context.entries)
    assert isinstance(first, LiteralExpression) and first.text == "myimport.Say Hello(A Person)"
    assert isinstance(second, DecisionTable) and second.rules[1].output_entries == ['"Respectfully, "+normal greeting']
    assert isinstance(result, LiteralExpression) and result.text == "override greeting"


def test_imported_href_without_the_imported_file_keeps_the_raw_href() -> None:
    path = tck_model("0086-", "0086-import.dmn")
    defs = read_dmn(path.read_bytes())  # no file name: nothing to look beside
    assert defs.decisions[0].required_knowledge == [
        "http://www.trisotech.com/definitions/_f27bb64b-6fc7-4e1f-9848-11ba35e0df36"
        "#_32543811-b499-4608-b784-6c6f294b1c58"]
    imported = read_dmn_file(path.parent / "Imported_Model.dmn")
    again = read_dmn(path.read_bytes(), imported=[imported])
    assert again.decisions[0].required_knowledge == ["myimport.Say Hello"]


def test_two_imports_with_the_same_element_id_resolve_per_namespace() -> None:
    defs = read_dmn_file(tck_model("0089-", "0089-nested-inputdata-imports.dmn"))
    assert defs.decisions[0].required_decisions == ["Model B2.Evaluating B2 Say Hello", "Model B.Evaluating Say Hello"]


def test_hrefs_with_the_models_own_namespace_are_local() -> None:
    defs = read_dmn_file(tck_model("0091-"))
    decision = next(d for d in defs.decisions if d.name == "decision_002")
    assert (decision.required_decisions, decision.required_inputs, decision.required_knowledge) == (
        ["decision_001"], ["input_001"], ["bkm_001"])


def test_decision_services() -> None:
    defs = read_dmn_file(tck_model("0087-"))
    service = next(s for s in defs.services if s.name == "Routing Decision Service")
    decision_names = {d.name for d in defs.decisions}
    input_names = {i.name for i in defs.inputs}
    assert len(service.output_decisions) == 1 and len(service.encapsulated_decisions) == 4
    assert set(service.output_decisions + service.encapsulated_decisions) <= decision_names
    assert len(service.input_data) == 3 and set(service.input_data) <= input_names


def test_boxed_conditional_iterators_and_lists() -> None:
    conditional = read_dmn_file(tck_model("1150-")).decisions[0].logic
    assert isinstance(conditional, Conditional)
    assert isinstance(conditional.condition, LiteralExpression) and conditional.condition.text == "true"
    assert isinstance(conditional.otherwise, LiteralExpression) and conditional.otherwise.text == '"else"'
    loop = read_dmn_file(tck_model("1152-")).decisions[0].logic
    assert isinstance(loop, Iterator) and (loop.kind, loop.variable) == ("for", "element")
    assert isinstance(loop.body, LiteralExpression) and loop.body.text == "element * 2"
    every = read_dmn_file(tck_model("1154-")).decisions[0].logic
    assert isinstance(every, Iterator) and every.kind == "every"
    items = read_dmn_file(tck_model("1161-")).decisions[0].logic
    assert isinstance(items, ListExpression)
    assert [getattr(item, "text", None) for item in items.items] == ["string(A)", "string(B)", "C"]


def test_function_item_definitions() -> None:
    defs = read_dmn_file(tck_model("0070-"))
    item = next(i for i in defs.item_definitions if i.name == "tStringFunctionWithUntypedParams")
    assert item.function_output == "string"
    assert [(p.name, p.type_ref) for p in item.function_parameters or []] == [("p1", None), ("p2", None)]
    no_params = next(i for i in defs.item_definitions if i.name == "tFunctionWithNoParams")
    assert no_params.function_parameters == []


# --- versions, prefixes and dialects -------------------------------------------------


@pytest.mark.parametrize("version", sorted(DMN_NAMESPACES))
@pytest.mark.parametrize("prefix", ["", "dmn", "semantic"])
def test_every_dmn_version_and_prefix(version: str, prefix: str) -> None:
    defs = read_dmn(minimal(DMN_NAMESPACES[version], prefix), file="minimal.dmn")
    assert defs.dmn_version == version
    assert defs.inputs[0].name == "Age"  # surrounding whitespace stripped
    decision = defs.decisions[0]
    assert decision.required_inputs == ["Age"]
    assert isinstance(decision.logic, LiteralExpression) and decision.logic.text == "Age >= 18"
    assert decision.source.line == 6


def test_http_and_https_spellings_of_a_namespace_are_the_same_version() -> None:
    defs = read_dmn(minimal("http://www.omg.org/spec/DMN/20191111/MODEL"))
    assert defs.dmn_version == "1.3"


def test_dmn11_qualified_type_refs_lose_their_prefix() -> None:
    defs = read_dmn(DMN11, file="loans.dmn")
    assert defs.dmn_version == "1.1"
    assert [(i.name, i.type_ref) for i in defs.item_definitions] == [("tAmount", "number"), ("tLoan", None)]
    assert [(c.name, c.type_ref) for c in defs.item_definitions[1].components] == [
        ("amount", "tAmount"), ("rate", "rates.tRate")]
    assert defs.inputs[0].type_ref == "tLoan"
    assert defs.decisions[0].type_ref == "boolean"


def test_camunda_model_without_input_data_reads_faithfully() -> None:
    defs = read_dmn(CAMUNDA, file="dish.dmn")
    assert defs.inputs == [] and defs.dmn_version == "1.3"
    decision = defs.decisions[0]
    assert decision.required_inputs == [] and decision.type_ref is None
    table = decision.logic
    assert isinstance(table, DecisionTable) and table.hit_policy == "FIRST"
    assert [(c.expression, c.label, c.type_ref) for c in table.inputs] == [
        ("season", "Season", "string"), ("guestCount", "How many guests", "integer")]
    assert table.inputs[0].input_values == '"Fall","Winter","Spring","Summer"'
    assert (table.outputs[0].name, table.outputs[0].label) == ("desiredDish", "Dish")
    assert table.rules[0].input_entries == ['"Fall"', "<= 8"] and table.rules[0].description == "Fall is for roasts"
    assert table.rules[1].input_entries == ["", "-"]


def test_invocation_bindings_and_empty_binding() -> None:
    text = minimal(DMN_NAMESPACES["1.5"]).replace(
        '<literalExpression><text>  Age &gt;= 18\n    </text></literalExpression>',
        '<invocation><literalExpression><text>Check</text></literalExpression>'
        '<binding><parameter name="age"/><literalExpression><text>Age</text></literalExpression></binding>'
        '<binding><parameter name="limit"/></binding></invocation>')
    invocation = read_dmn(text).decisions[0].logic
    assert isinstance(invocation, Invocation) and invocation.callee == "Check"
    assert [(b.name, getattr(b.value, "text", None)) for b in invocation.bindings] == [("age", "Age"), ("limit", None)]
