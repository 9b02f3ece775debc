"""The YAML model format: reading the analyst's form, round trips over the TCK, located errors."""

from __future__ import annotations

import copy
import dataclasses
from pathlib import Path

import pytest
from dmn.model_compare import model_differences
from dmn.tck_files import TCK_MODELS, tck_id, tck_model
from hypothesis import given, settings
from hypothesis import strategies as st

from decisions.dmn import read_dmn, read_dmn_file, write_dmn
from decisions.dmn.writer import stable_id
from decisions.errors import ModelError, Problem
from decisions.model import (
    Binding,
    BusinessKnowledgeModel,
    Conditional,
    Context,
    Decision,
    DecisionTable,
    Definitions,
    Diagram,
    Filter,
    FunctionDefinition,
    InputClause,
    Invocation,
    Iterator,
    ListExpression,
    LiteralExpression,
    OutputClause,
    Relation,
    Rule,
    Shape,
    reader_problems,
)
from decisions.yaml_format import read_yaml, write_yaml

LOAN_APPROVAL = """\
model: loan-approval          # name (key optional)
key: loan-approval
namespace: https://decisionary.dev/examples/loan-approval
types:
  tApplicant: {components: {age: number, income: number}}
  tRisk: {type: string, allowed: '"Low", "Medium", "High"'}
inputs:
  Applicant Age: number
  Credit Score: number
  Monthly Income: {type: number, description: Net income per month}
decisions:
  Risk Category:
    type: tRisk
    requires: [Applicant Age, Credit Score]
    table:
      hit policy: FIRST
      inputs:  [Applicant Age, {expression: Credit Score, label: Score, type: number}]
      outputs: [Risk Category]
      rules:
        - [">= 60", "< 600", '"High"']
        - {when: ["-", ">= 750"], then: ['"Low"'], annotation: [best customers], description: Good score}
        - [-, -, '"Medium"']
  Limit:
    requires: [Risk Category, Monthly Income, PMT]
    expression: "if Risk Category = \\"Low\\" then 50000 else 10000"
  Monthly Payment:
    requires: [Limit, PMT]
    invoke: PMT
    with: {p: Limit, r: "0.05", n: 60}
knowledge:
  PMT: {parameters: {p: number, r: number, n: number}, expression: "(p*r/12)/(1-(1+r/12)**-n)"}
"""


def problems_of(text: str, file: str = "model.yaml") -> list[Problem]:
    with pytest.raises(ModelError) as caught:
        read_yaml(text, file=file)
    assert caught.value.problems
    return caught.value.problems


def logic_problems(text: str, file: str = "model.yaml") -> list[Problem]:
    """A problem inside one element's type or logic belongs to that element: the model is read,
    and the element's logic holds the problem (tests/decisions/test_element_errors_reader.py)."""
    problems = reader_problems(read_yaml(text, file=file))
    assert problems
    return problems


def test_the_analysts_form_reads() -> None:
    defs = read_yaml(LOAN_APPROVAL, file="loan.yaml")
    assert (defs.name, defs.key, defs.dmn_version) == ("loan-approval", "loan-approval", None)  # not stated: DMN 1.3 on writing
    applicant, risk_type = defs.item_definitions
    assert [(c.name, c.type_ref) for c in applicant.components] == [("age", "number"), ("income", "number")]
    assert (risk_type.type_ref, risk_type.allowed_values) == ("string", '"Low", "Medium", "High"')
    assert [(i.name, i.type_ref, i.description) for i in defs.inputs] == [
        ("Applicant Age", "number", None), ("Credit Score", "number", None),
        ("Monthly Income", "number", "Net income per month")]
    risk, limit, payment = defs.decisions
    assert (risk.type_ref, risk.required_inputs, risk.required_decisions) == ("tRisk", ["Applicant Age", "Credit Score"], [])
    assert risk.source.file == "loan.yaml" and risk.source.line == 12
    table = risk.logic
    assert isinstance(table, DecisionTable) and table.hit_policy == "FIRST"
    assert table.inputs == [InputClause("Applicant Age"), InputClause("Credit Score", "Score", "number")]
    assert table.outputs == [OutputClause(name="Risk Category")]
    assert [(r.input_entries, r.output_entries) for r in table.rules] == [
        ([">= 60", "< 600"], ['"High"']), (["-", ">= 750"], ['"Low"']), (["-", "-"], ['"Medium"'])]
    assert table.rules[1].annotations == ["best customers"] and table.rules[1].description == "Good score"
    assert [r.source.line for r in table.rules] == [20, 21, 22]
    assert limit.required_decisions == ["Risk Category"] and limit.required_inputs == ["Monthly Income"]
    assert limit.required_knowledge == ["PMT"]
    assert isinstance(limit.logic, LiteralExpression)
    assert limit.logic.text == 'if Risk Category = "Low" then 50000 else 10000'
    assert isinstance(payment.logic, Invocation) and payment.logic.callee == "PMT"
    assert [(b.name, getattr(b.value, "text", None)) for b in payment.logic.bindings] == [
        ("p", "Limit"), ("r", "0.05"), ("n", "60")]
    [pmt] = defs.knowledge_models
    assert isinstance(pmt.logic, FunctionDefinition)
    assert [(p.name, p.type_ref) for p in pmt.logic.parameters] == [("p", "number"), ("r", "number"), ("n", "number")]
    assert isinstance(pmt.logic.body, LiteralExpression) and pmt.logic.body.text == "(p*r/12)/(1-(1+r/12)**-n)"


def test_the_analysts_form_round_trips_and_writes_deterministically() -> None:
    defs = read_yaml(LOAN_APPROVAL)
    text = write_yaml(defs)
    assert text == write_yaml(read_yaml(LOAN_APPROVAL))
    assert "- ['>= 60', < 600, '\"High\"']" in text  # one rule per line
    assert model_differences(defs, read_yaml(text)) == []
    through_dmn = read_dmn(write_dmn(defs))
    assert model_differences(defs, through_dmn, generated_ids_ok=True) == []


@pytest.mark.parametrize("path", TCK_MODELS, ids=tck_id)
def test_tck_models_round_trip_through_yaml(path: Path) -> None:
    original = read_dmn_file(path)
    assert model_differences(as_yaml_keeps(original), read_yaml(write_yaml(original), file="x.yaml")) == []
    without_ids = read_yaml(write_yaml(original, ids=False))
    assert model_differences(without_ids, original, generated_ids_ok=True) == []
    assert all(decision.id is None for decision in without_ids.decisions)


@pytest.mark.parametrize("path", TCK_MODELS, ids=tck_id)
def test_tck_models_round_trip_dmn_yaml_dmn(path: Path) -> None:
    original = read_dmn_file(path)
    imported = [read_dmn_file(p) for p in sorted(path.parent.glob("*.dmn")) if p != path] if original.imports else []
    via_yaml = read_yaml(write_yaml(original))
    again = read_dmn(write_dmn(via_yaml, imported=imported), file=str(path))
    assert model_differences(positions_only(original), again, generated_ids_ok=True) == []


def as_yaml_keeps(defs: Definitions) -> Definitions:
    """The model as YAML keeps it: element ids that the DMN writer generates again are left out,
    and the diagram is kept by position."""
    kept = positions_only(copy.deepcopy(defs))
    for group in (kept.inputs, kept.decisions, kept.knowledge_models, kept.services, kept.knowledge_sources):
        for index, element in enumerate(group):
            if element.id == stable_id(element.name):
                group[index] = dataclasses.replace(element, id=None)  # type: ignore[call-overload]
    return kept


def positions_only(defs: Definitions) -> Definitions:
    """The model as YAML keeps it: its diagram's shapes by position (edges are drawn again)."""
    if defs.diagram is None:
        return dataclasses.replace(defs)
    shapes = [Shape(shape.element, shape.bounds) for shape in defs.diagram.shapes]
    return dataclasses.replace(defs, diagram=Diagram(shapes))


EVERY_KIND = """\
model: every kind
dmn version: "1.4"
imports:
  rates: urn:rates
  people: {namespace: urn:people, location: people.dmn, type: https://www.omg.org/spec/DMN/20211108/MODEL/}
types:
  tScores: {type: number, collection: true, constraint: "[0..100]"}
  tScorer: {function: {parameters: {x: number, y: null}, returns: number}}
  tEmpty: {}
inputs:
  Scores: tScores
  Untyped:
decisions:
  Summary:
    type: context
    requires: {inputs: [Scores], decisions: [people.Adults], knowledge: [Scale]}
    expression type: context
    expression id: ctx1
    context:
      count: count(Scores)
      top: {type: number, expression: max(Scores), expression type: number}
      table:
        relation: {columns: [name, score], rows: [['"a"', 1], ['"b"', {expression: "2", type: number}]]}
      pick:
        function: {n: number}
        body: Scores[n]
      java:
        function: {}
        kind: Java
        body:
          context: {class: '"java.lang.Math"', method signature: '"max(double, double)"'}
      scaled:
        invoke: Scale
        with: {value: top, unused: null}
    result: count + top
  Checks:
    list:
      - if: count(Scores) > 0
        then: '"some"'
        else: '"none"'
      - {filter: Scores, match: item > 50}
      - {for: s, in: Scores, return: s * 2}
      - {some: s, in: Scores, satisfies: s > 90}
      - {every: s, in: Scores, satisfies: s >= 0, type: boolean, id: all-positive}
  Decided elsewhere:
knowledge:
  Scale:
    parameters: {value: number}
    kind: FEEL
    function id: f1
    table:
      hit policy: C+
      inputs: [value]
      outputs: [{name: scaled, type: number, values: "1, 2", default: "0"}]
      annotations: [why]
      rules:
        - ["> 10", "2", big]
        - {when: ["<= 10"], then: ["1"], id: r2}
  Nothing:
services:
  Summary service:
    outputs: [Summary]
    encapsulated: [Checks]
    input decisions: [Decided elsewhere]
    inputs: [Scores]
"""


def test_every_expression_kind_reads() -> None:
    defs = read_yaml(EVERY_KIND)
    assert defs.dmn_version == "1.4"
    assert [(i.name, i.namespace, i.location) for i in defs.imports] == [
        ("rates", "urn:rates", None), ("people", "urn:people", "people.dmn")]
    scores, scorer, empty = defs.item_definitions
    assert (scores.is_collection, scores.type_constraint) == (True, "[0..100]")
    assert [(p.name, p.type_ref) for p in scorer.function_parameters or []] == [("x", "number"), ("y", None)]
    assert empty.type_ref is None and empty.components == []
    assert defs.inputs[1].type_ref is None
    summary, checks, elsewhere = defs.decisions
    assert (summary.required_inputs, summary.required_decisions, summary.required_knowledge) == (
        ["Scores"], ["people.Adults"], ["Scale"])
    context = summary.logic
    assert isinstance(context, Context) and (context.type_ref, context.id) == ("context", "ctx1")
    assert [e.name for e in context.entries] == ["count", "top", "table", "pick", "java", "scaled", None]
    top = context.entries[1]
    assert top.type_ref == "number" and isinstance(top.value, LiteralExpression)
    assert (top.value.text, top.value.type_ref) == ("max(Scores)", "number")
    relation = context.entries[2].value
    assert isinstance(relation, Relation) and relation.columns == ["name", "score"]
    assert isinstance(relation.rows[1][1], LiteralExpression) and relation.rows[1][1].type_ref == "number"
    pick, java = context.entries[3].value, context.entries[4].value
    assert isinstance(pick, FunctionDefinition) and pick.parameters[0].name == "n"
    assert isinstance(java, FunctionDefinition) and java.kind == "Java" and isinstance(java.body, Context)
    scaled = context.entries[5].value
    assert isinstance(scaled, Invocation) and scaled.bindings[1] == Binding("unused", None)
    assert isinstance(checks.logic, ListExpression)
    conditional, filtered, loop, some, every = checks.logic.items
    assert isinstance(conditional, Conditional) and isinstance(filtered, Filter)
    assert isinstance(loop, Iterator) and (loop.kind, loop.variable) == ("for", "s")
    assert isinstance(some, Iterator) and some.kind == "some"
    assert isinstance(every, Iterator) and (every.type_ref, every.id) == ("boolean", "all-positive")
    assert elsewhere.logic is None
    scale, nothing = defs.knowledge_models
    assert isinstance(scale.logic, FunctionDefinition) and scale.logic.id == "f1"
    table = scale.logic.body
    assert isinstance(table, DecisionTable) and (table.hit_policy, table.aggregation) == ("COLLECT", "SUM")
    assert table.rules[0] == Rule(["> 10"], ["2"], ["big"], source=table.rules[0].source)
    assert table.rules[1].id == "r2" and table.rules[1].annotations == []
    assert nothing == BusinessKnowledgeModel("Nothing", None, source=nothing.source)
    [service] = defs.services
    assert (service.output_decisions, service.encapsulated_decisions, service.input_decisions, service.input_data) == (
        ["Summary"], ["Checks"], ["Decided elsewhere"], ["Scores"])


def test_every_expression_kind_round_trips() -> None:
    defs = read_yaml(EVERY_KIND)
    text = write_yaml(defs)
    assert model_differences(defs, read_yaml(text)) == []
    assert "requires:\n      inputs: [Scores]\n      decisions: [people.Adults]" in text


def test_feel_texts_keep_their_spelling() -> None:
    defs = read_yaml("model: m\ndecisions:\n  D:\n    list: [5, 0.10, true, yes, null, ~, -, 1e3, '', 007]\n")
    logic = defs.decisions[0].logic
    assert isinstance(logic, ListExpression)
    assert [getattr(item, "text", None) for item in logic.items] == [
        "5", "0.10", "true", "yes", "null", "", "-", "1e3", "", "007"]


TEXTS = st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=40)


@settings(max_examples=150, deadline=None)
@given(name=TEXTS, cell=TEXTS, literal=TEXTS)
def test_any_text_round_trips(name: str, cell: str, literal: str) -> None:
    table = DecisionTable([InputClause(cell)], [OutputClause(name=name or None)], [Rule([cell], [literal])])
    defs = Definitions(name=name, decisions=[Decision(name, table), Decision(name + " 2", LiteralExpression(literal))])
    assert model_differences(defs, read_yaml(write_yaml(defs))) == []


@pytest.mark.parametrize("text", ["\x85", "a\x85b", "\u2028", "a\u2029b", "x\ry", "a\r\nb", "a\n\x85b"])
def test_texts_with_other_line_breaks_round_trip(text: str) -> None:
    """YAML readers fold NEL, LS, PS and CR outside double quotes: the writer quotes them."""
    test_any_text_round_trips.hypothesis.inner_test(name=text, cell=text, literal=text)  # type: ignore[attr-defined]


# --- errors ---------------------------------------------------------------------------


def test_rule_with_the_wrong_number_of_cells() -> None:
    bad = LOAN_APPROVAL.replace("""- [-, -, '"Medium"']""", """- [-, '"Medium"']""")
    [problem] = logic_problems(bad)
    assert problem.message == "rule 3 has 2 cells but the table has 2 inputs + 1 output"
    assert problem.location.element == "Risk Category" and problem.location.rule == 3
    assert problem.location.path == "decisions.Risk Category.table.rules[3]"
    assert problem.location.line == 22 and problem.location.file == "model.yaml"


def test_rule_mapping_with_the_wrong_number_of_input_cells() -> None:
    bad = LOAN_APPROVAL.replace('when: ["-", ">= 750"]', 'when: [">= 750"]')
    [problem] = logic_problems(bad)
    assert problem.message == "rule 2 has 1 input cell but the table has 2"
    assert problem.location.path == "decisions.Risk Category.table.rules[2].when"


def test_unknown_key_points_at_its_line() -> None:
    [problem] = logic_problems(LOAN_APPROVAL.replace("      hit policy: FIRST", "      hitpolicy: FIRST"))
    assert problem.message.startswith("unknown key 'hitpolicy' in a decision table; expected one of:")
    assert "hit policy" in problem.message
    assert problem.location.line == 16 and problem.location.path == "decisions.Risk Category.table.hitpolicy"


def test_top_level_must_be_a_mapping() -> None:
    [problem] = problems_of("- model: a\n- model: b\n")
    assert "top level must be a mapping" in problem.message and problem.location.line == 1


def test_yaml_syntax_error_is_located() -> None:
    [problem] = problems_of("model: m\ndecisions:\n  D: [unclosed\n  E: 1\n")
    assert problem.message.startswith("YAML syntax error") and problem.location.line == 4
    assert problem.code == "yaml-syntax"


def test_missing_name_and_empty_document() -> None:
    assert "add 'model: <name>'" in problems_of("decisions: {}\n")[0].message
    assert "empty" in problems_of("# nothing\n")[0].message


def test_unknown_requirement_suggests_the_explicit_form() -> None:
    [problem] = problems_of("model: m\ndecisions:\n  D:\n    requires: [Nowhere]\n    expression: '1'\n")
    assert "'Nowhere' is not an input, decision or knowledge model" in problem.message
    assert "requires: {inputs: [...]" in problem.message and problem.location.element == "D"


def test_expression_shape_errors() -> None:
    two = logic_problems("model: m\ndecisions:\n  D:\n    expression: '1'\n    list: ['2']\n")[0]
    assert two.message == "several expressions given (expression, list); expected one"
    orphan = logic_problems("model: m\ndecisions:\n  D:\n    then: '1'\n")[0]
    assert orphan.message == "'then' needs 'if'"
    partial = logic_problems("model: m\ndecisions:\n  D:\n    if: 'true'\n    then: '1'\n")[0]
    assert partial.message == "'if' needs 'else'"
    wrong = logic_problems("model: m\ndecisions:\n  D:\n    for: x\n    in: l\n    satisfies: x\n")[0]
    assert wrong.message == "'satisfies' does not go with 'for'"


def test_bad_hit_policy() -> None:
    [problem] = logic_problems(LOAN_APPROVAL.replace("hit policy: FIRST", "hit policy: SOMETIMES"))
    assert problem.message.startswith("unknown hit policy 'SOMETIMES'")
    assert problem.location.path == "decisions.Risk Category.table.hit policy"


def test_duplicate_keys_are_refused() -> None:
    [problem] = problems_of("model: m\ninputs:\n  A: number\n  A: string\n")
    assert problem.message == "duplicate key 'A'" and problem.location.line == 4


def test_problems_in_several_decisions_are_all_reported() -> None:
    problems = logic_problems("model: m\ndecisions:\n  A: {table: {inputs: [x], rules: [[1]]}}\n  B: {list: 3}\n")
    assert [p.location.element for p in problems] == ["A", "B"]


def test_alias_bomb_is_refused_quickly() -> None:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for level in range(1, 9):
        lines.append(f"a{level}: &a{level} [" + ", ".join([f"*a{level - 1}"] * 9) + "]")
    [problem] = problems_of("\n".join(lines) + "\nmodel: m\n")
    assert "refused" in problem.message and "alias" in problem.message


def test_recursive_alias_is_refused() -> None:
    [problem] = problems_of("model: m\ntypes: &t {loop: *t}\n")
    assert "recursive alias" in problem.message


def test_python_tags_construct_nothing() -> None:
    [problem] = problems_of("model: !!python/object/apply:os.system [echo hi]\n")
    assert problem.message == "the model name must be a text, not a list"


def test_writer_refuses_what_yaml_cannot_hold() -> None:
    defs = Definitions(name="m", decisions=[Decision("D", None), Decision("D", None)])
    with pytest.raises(ModelError, match="two decisions are named 'D'"):
        write_yaml(defs)


def test_imported_requirements_are_written_explicitly() -> None:
    defs = read_dmn_file(tck_model("0086-", "0086-import.dmn"))
    text = write_yaml(defs, ids=False)
    assert "requires:\n      inputs: [A Person]\n      knowledge: [myimport.Say Hello]" in text


def test_bad_merge_key_is_a_model_error() -> None:
    [problem] = problems_of("model: m\ninputs:\n  A: {<<: 3}\n")
    assert problem.message.startswith("YAML merge key error") and problem.location.line == 3


YAML_DAMAGE = ["\n", ": ", "- ", "[", "]", "{", "}", "  ", "table:", "rules:", "&a ", "*a", "!!str ", "<<: ", "null",
               '"', "'", "if: x\n", "context: 1", "\t"]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 1), st.integers(0, 3), st.sampled_from(YAML_DAMAGE)), min_size=1, max_size=4))
def test_damaged_yaml_gives_model_errors_only(edits: list[tuple[float, int, str]]) -> None:
    text = LOAN_APPROVAL
    for where, action, piece in edits:
        position = int(where * (len(text) - 1))
        if action == 0:
            text = text[:position] + text[position + 5:]
        else:
            text = text[:position] + piece + text[position:]
    try:
        defs = read_yaml(text, file="damaged.yaml")
    except ModelError as error:
        assert all(problem.location.file == "damaged.yaml" for problem in error.problems)
    else:
        assert model_differences(defs, read_yaml(write_yaml(defs))) == []
