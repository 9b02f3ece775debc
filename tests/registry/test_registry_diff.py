"""diff(key, v1, v2) over stored versions, on both databases."""

from __future__ import annotations

import pytest
from registry_samples import AUTHOR, KEY, LOAN_RULES, loan_dmn
from sqlalchemy.engine import Engine

from decisions import load
from decisions.yaml_format import write_yaml
from registry import Invalid, NotFound, create_draft, unit_of_work
from registry.diff import diff


def _store(engine: Engine, *contents: str) -> list[int]:
    with unit_of_work(engine) as session:
        return [create_draft(session, KEY, text, author=AUTHOR).number for text in contents]


def test_diff_of_two_versions_cell_by_cell(engine: Engine) -> None:
    rules = [LOAN_RULES[0], ("-", "< 620", '"High"'), LOAN_RULES[2], LOAN_RULES[3], ("> 90", "-", '"Review"')]
    v1, v2 = _store(engine, loan_dmn(), loan_dmn(rules, limit="1000", extra_input=True))
    with unit_of_work(engine, read_only=True) as session:
        result = diff(session, KEY, v1, v2)
    assert result.inputs_added == ["Region"]
    risk, limit = result.changed
    assert risk.table is not None and risk.table.matched_by == "id"
    assert [(r.number, r.id) for r in risk.table.rules_added] == [(5, "rule-5")]
    [changed] = risk.table.rules_changed
    assert (changed.id, [(c.column, c.old, c.new) for c in changed.cells]) == (
        "rule-2", [("Credit Score", "< 600", "< 620")])
    assert (limit.name, limit.new_text) == ("Credit Limit", "1000")
    assert "decision 'Risk Category': rule 5 added: Applicant Age: > 90 | Credit Score: - | Risk Category: \"Review\"" \
        in result.summary()


def test_the_same_model_in_another_format_diffs_as_identical(engine: Engine) -> None:
    as_yaml = write_yaml(load(loan_dmn().encode(), format="dmn").definitions)
    v1, v2 = _store(engine, loan_dmn(), as_yaml)
    with unit_of_work(engine, read_only=True) as session:
        assert diff(session, KEY, v1, v2).identical


def test_a_version_that_does_not_compile_can_still_be_diffed(engine: Engine) -> None:
    v1, v2 = _store(engine, loan_dmn(), loan_dmn(limit="if then"))
    with unit_of_work(engine, read_only=True) as session:
        [change] = diff(session, KEY, v1, v2).changed
    assert change.new_text == "if then"


def test_diff_refuses_what_is_not_a_model_and_unknown_versions(engine: Engine) -> None:
    v1, v2 = _store(engine, loan_dmn(), "<definitions")
    with unit_of_work(engine, read_only=True) as session:
        with pytest.raises(Invalid, match=f"{KEY} version {v2} cannot be read as a model"):
            diff(session, KEY, v1, v2)
        with pytest.raises(NotFound, match="has no version 7"):
            diff(session, KEY, v1, 7)
