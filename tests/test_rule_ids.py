"""Stable rule ids: the model's own rule ids, else content hashes that survive inserted rules."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pytest

import decisions
from decisions.dmn import read_dmn
from decisions.dmn.writer import write_dmn
from decisions.tables.rule_ids import content_id, rule_ids
from decisions.yaml_format import read_yaml, write_yaml

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
HASH_ID = re.compile(r"^h[0-9a-f]{12}(#\d+)?$")

BANDS = """
model: bands
inputs:
  Score: number
decisions:
  Band:
    requires: [Score]
    table:
      hit policy: FIRST
      inputs: [Score]
      outputs: [Band]
      annotations: [why]
      rules:
{rules}
"""
RULES = [
    '        - ["< 500", \'"Poor"\', weak]',
    '        - ["[500..650)", \'"Fair"\', middling]',
    '        - {when: ["[650..750)"], then: [\'"Good"\'], id: good-rule}',
    '        - [">= 750", \'"Excellent"\', strong]',
]


def bands(rules: list[str]) -> decisions.Model:
    return decisions.load(BANDS.format(rules="\n".join(rules)))


def test_ids_are_the_models_own_else_content_hashes() -> None:
    ids = bands(RULES).rule_ids
    assert list(ids) == ["Band"]
    assert ids["Band"][2] == "good-rule"
    hashed = [ids["Band"][i] for i in (0, 1, 3)]
    assert all(HASH_ID.match(i) and "#" not in i for i in hashed)
    assert len(set(hashed)) == 3


def test_the_content_hash_is_sha256_of_the_stripped_input_and_output_entries() -> None:
    model = bands(RULES)
    rule = model.definitions.decisions[0].logic.rules[0]  # type: ignore[union-attr]
    cells = json.dumps([["< 500"], ['"Poor"']], ensure_ascii=False, separators=(",", ":"))
    assert model.rule_ids["Band"][0] == "h" + hashlib.sha256(cells.encode()).hexdigest()[:12]
    assert content_id(rule) == model.rule_ids["Band"][0]


def test_inserting_a_rule_keeps_every_other_rules_id() -> None:
    before = bands(RULES).rule_ids["Band"]
    after = bands([RULES[0], '        - ["[400..450)", \'"Odd"\', new]', *RULES[1:]]).rule_ids["Band"]
    assert len(after) == len(before) + 1
    assert after[:1] + after[2:] == before
    assert after[1] not in before


def test_whitespace_and_annotations_do_not_change_a_hash_but_cells_do() -> None:
    base = bands(RULES).rule_ids["Band"][0]
    assert bands(['        - ["  < 500 ", \'"Poor"  \', weak]', *RULES[1:]]).rule_ids["Band"][0] == base
    assert bands(['        - ["< 500", \'"Poor"\', "another note"]', *RULES[1:]]).rule_ids["Band"][0] == base
    assert bands(['        - ["< 501", \'"Poor"\', weak]', *RULES[1:]]).rule_ids["Band"][0] != base
    assert bands(['        - ["< 500", \'"Bad"\', weak]', *RULES[1:]]).rule_ids["Band"][0] != base


def test_a_cell_boundary_is_part_of_the_hash() -> None:
    def two_column_id(cells: str) -> str:
        model = decisions.load(f"""
model: m
inputs: {{A: string, B: string}}
decisions:
  D:
    requires: [A, B]
    table: {{inputs: [A, B], outputs: [D], rules: [{cells}]}}
""")
        return model.rule_ids["D"][0]

    assert two_column_id('[\'"x", "y"\', "-", "1"]') != two_column_id('[\'"x"\', \'"y", -\', "1"]')


def test_identical_rules_get_numbered_suffixes_in_order() -> None:
    same = '        - ["< 500", \'"Poor"\', weak]'
    ids = bands([same, RULES[1], same, same]).rule_ids["Band"]
    assert ids[0] == ids[2].removesuffix("#2") == ids[3].removesuffix("#3")
    assert ids[2] == ids[0] + "#2" and ids[3] == ids[0] + "#3"
    assert len(set(ids)) == 4


def test_a_reused_model_id_is_made_unique_too() -> None:
    twice = '        - {when: ["> 900"], then: [\'"Top"\'], id: good-rule}'
    ids = bands([*RULES, twice]).rule_ids["Band"]
    assert ids[2] == "good-rule" and ids[4] == "good-rule#2"


def test_ids_survive_dmn_to_yaml_and_back() -> None:
    model = decisions.load(EXAMPLES / "loan-approval.dmn")
    as_yaml = decisions.load(write_yaml(model.definitions))
    back = decisions.load(write_dmn(read_yaml(write_yaml(model.definitions))))
    assert as_yaml.rule_ids == model.rule_ids == back.rule_ids
    dmn_ids = decisions.load(write_dmn(bands(RULES).definitions)).rule_ids
    assert dmn_ids == bands(RULES).rule_ids


def test_dmn_rule_ids_are_used() -> None:
    text = write_dmn(bands(RULES).definitions)
    text = text.replace("<rule>", '<rule id="first-rule">', 1)
    defs = read_dmn(text)
    ids = rule_ids(defs.decisions[0].logic)  # type: ignore[arg-type]
    assert ids[0] == "first-rule" and ids[2] == "good-rule" and HASH_ID.match(ids[1])
    assert decisions.load(text).rule_ids["Band"] == ids


def test_fired_ids_names_what_evaluate_fired() -> None:
    model = decisions.load(EXAMPLES / "loan-approval.yaml")
    result = model.evaluate({
        "Applicant Age": 34, "Monthly Income": 5200, "Monthly Debt": 1100,
        "Credit Score": 712, "Employment Status": "Employed", "Requested Amount": 15000,
    })
    assert result.fired
    named = model.fired_ids(result.fired)
    assert list(named) == list(result.fired)
    for decision, positions in result.fired.items():
        assert named[decision] == [model.rule_ids[decision][p - 1] for p in positions]
    assert set(model.rule_ids) == {"Risk Category", "Eligibility", "Decision", "Credit Limit"}


def test_fired_ids_of_several_rules_and_of_none() -> None:
    model = decisions.load("""
model: m
inputs: {X: number}
decisions:
  All:
    requires: [X]
    table:
      hit policy: RULE ORDER
      inputs: [X]
      outputs: [All]
      rules:
        - ["> 0", '"positive"']
        - {when: ["> 10"], then: ['"big"'], id: big}
        - ["< 0", '"negative"']
""")
    ids = model.rule_ids["All"]
    assert model.fired_ids(model.evaluate({"X": 20}).fired) == {"All": [ids[0], "big"]}
    assert model.fired_ids(model.evaluate({"X": 0}).fired) == {"All": []}


def test_fired_ids_rejects_what_fired_cannot_hold() -> None:
    model = bands(RULES)
    with pytest.raises(decisions.InputError, match="no decision table decision .* table decisions: Band"):
        model.fired_ids({"Nope": [1]})
    with pytest.raises(decisions.InputError, match="5 is not a rule position; the table has rules 1 to 4"):
        model.fired_ids({"Band": [5]})
    with pytest.raises(decisions.InputError, match="0 is not a rule position"):
        model.fired_ids({"Band": [0]})
    with pytest.raises(decisions.InputError, match="must be a list of rule positions"):
        model.fired_ids({"Band": "1"})  # type: ignore[dict-item]


def test_rule_ids_cannot_be_changed_through_the_property() -> None:
    model = bands(RULES)
    model.rule_ids["Band"].clear()
    assert len(model.rule_ids["Band"]) == 4


def test_tables_inside_knowledge_models_are_not_reported_so_not_named() -> None:
    model = decisions.load("""
model: m
inputs: {X: number}
decisions:
  Scaled:
    requires: {inputs: [X], knowledge: [Scale]}
    expression: Scale(X)
  Direct:
    requires: [X]
    table: {inputs: [X], outputs: [Direct], rules: [["> 0", "1"], ["<= 0", "0"]]}
knowledge:
  Scale:
    parameters: {value: number}
    table:
      inputs: [value]
      outputs: [scaled]
      rules: [["> 10", "2"], ["<= 10", "1"]]
services:
  Both:
    outputs: [Scaled, Direct]
    inputs: [X]
""")
    result = model.evaluate({"X": 20})
    assert result.outputs["Scaled"] == 2
    assert set(result.fired) == set(model.rule_ids) == {"Direct"}
    served = model.invoke_service("Both", {"X": -1})
    assert model.fired_ids(served.fired) == {"Direct": [model.rule_ids["Direct"][1]]}
