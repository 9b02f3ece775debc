"""Binding `when` rules are evaluated on the caller's worker thread when the decision is made
(execution/outbox.py `Outbox.choose`), with the evaluation's bounded budget, not in the record
writer's single thread: a heavy rule delays only its own caller."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from tests.api.conftest import Live
from tests.execution.conftest import APPROVE, count, publish_with_bindings

# Matches every outcome after some 1.5 million steps (seconds of work, within the budget).
HEAVY_RULE = """
on:
  - when: count(for a in 1..1500 return for b in 1..1000 return a) > 0
    run: noted
workflows:
  noted: {steps: [{approve: {}}]}
"""
QUICK = """
model: quick
inputs:
  n: number
decisions:
  Double:
    requires: [n]
    expression: n * 2
"""




def test_a_heavy_when_rule_does_not_delay_other_callers(service: Live) -> None:
    publish_with_bindings(service, HEAVY_RULE)
    service.publish("quick", QUICK, "quick.yaml")
    heavy_caller, other = service.client("caller"), service.client("caller")
    out: list[Any] = []
    thread = threading.Thread(target=lambda: out.append(
        heavy_caller.post("/v1/decisions/loan-approval/evaluate", json={"inputs": APPROVE})), daemon=True)
    thread.start()
    answered = 0
    while thread.is_alive():
        quick = other.post("/v1/decisions/quick/evaluate", json={"inputs": {"n": answered}})
        assert quick.status_code == 200 and quick.json()["outputs"]["Double"] == 2 * answered
        answered += 1
    thread.join()
    answer = out[0]
    assert answer.status_code == 200, answer.text
    assert answered >= 2, "the other caller's answers waited for the heavy rule"
    # the rule was evaluated, and matched: its workflow run was written with the record
    decision = answer.json()["decision_id"]
    assert count(service.engine, "SELECT count(*) FROM workflow_runs WHERE decision_id = :d", d=decision) == 1


def test_when_rules_draw_on_a_bounded_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    from decisions import limits
    from execution.bindings import parse_bindings

    bindings = parse_bindings(HEAVY_RULE.replace("run: noted", "run: noted\n  - when: true\n    run: other")
                              + "  other: {steps: [{approve: {}}]}\n", decision_names=["Decision"])
    assert bindings.workflows_for({"Decision": "Approve"}) == ["noted", "other"]
    monkeypatch.setattr(limits, "MAX_STEPS", 10_000)
    # past the budget the heavy rule does not match, nor the rules after it
    assert bindings.workflows_for({"Decision": "Approve"}) == []
