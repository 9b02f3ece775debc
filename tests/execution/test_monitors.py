"""Monitors' workflows: a drift finding starts the workflow the production version's bindings
name under `monitors:`, carried out by a worker like any other (the closed loop)."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from execution.bindings import parse_bindings
from execution.errors import BindingsInvalid
from execution.monitors import start_monitor_runs
from execution.receiver import Receiver
from tests.execution.conftest import (
    APPROVE,
    LOAN_DMN,
    config_for,
    decide,
    loan_bindings,
    publish_model,
    rows,
    settled,
    work,
)

FINDING = {"kind": "input", "name": "Credit Score", "psi": 0.41, "threshold": 0.25}


def test_a_drift_finding_runs_the_bound_workflow_through_a_worker(engine: Engine, receiver: Receiver) -> None:
    config = config_for()
    number = publish_model(engine, "loan", LOAN_DMN.read_bytes(), loan_bindings(receiver), config=config)
    decision_id, _ = decide(engine, "loan", APPROVE)
    work(engine, config, settled(engine))
    runs = start_monitor_runs(engine, "loan", "drift", FINDING, config=config)
    assert len(runs) == 1
    stored = rows(engine, "SELECT workflow, origin, version, decision_id, state FROM workflow_runs WHERE id = :id",
                  id=runs[0])
    assert [tuple(r) for r in stored] == [("drift-alert", "monitor:drift", number, decision_id, "ready")]
    work(engine, config, settled(engine))
    texts = [body.get("text") for body in receiver.processed_bodies("/chat/loans")]
    assert "Drift in loan-approval: input Credit Score has PSI 0.41 (alert at 0.25)" in texts, texts


def test_no_run_without_a_monitor_binding_or_without_a_decision(engine: Engine, receiver: Receiver) -> None:
    config = config_for()
    bindings = loan_bindings(receiver).replace("monitors:\n  drift: drift-alert\n", "")
    publish_model(engine, "loan", LOAN_DMN.read_bytes(), bindings, config=config)
    decide(engine, "loan", APPROVE)
    assert start_monitor_runs(engine, "loan", "drift", FINDING, config=config) == []
    publish_model(engine, "other", LOAN_DMN.read_bytes(), loan_bindings(receiver), config=config)
    assert start_monitor_runs(engine, "other", "drift", FINDING, config=config) == []  # nothing decided yet
    assert start_monitor_runs(engine, "missing", "drift", FINDING, config=config) == []


def test_an_unknown_monitor_or_workflow_is_a_located_bindings_error(receiver: Receiver) -> None:
    text = loan_bindings(receiver).replace("  drift: drift-alert\n", "  drift: nowhere\n  speed: drift-alert\n")
    try:
        parse_bindings(text, input_names=["Credit Score"], decision_names=["Decision", "Credit Limit"])
    except BindingsInvalid as exc:
        messages = [str(p) for p in exc.problems]
    else:
        raise AssertionError("the bindings were accepted")
    assert any("monitors.speed" in m and "unknown key" in m for m in messages), messages
    assert any("monitors.drift" in m and "nowhere" in m for m in messages), messages
