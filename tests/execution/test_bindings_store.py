"""Bindings as part of a version: attached to drafts by their author, frozen from submitted on
(in the store and in the database), validated against the model; and the outbox: runs are
written in the decision record's transaction or not at all."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from execution.bindings_store import LoadedVersions, attach_bindings, get_bindings
from execution.errors import BindingsInvalid
from execution.receiver import Receiver
from registry import create_draft, record_decision, submit, unit_of_work
from registry.errors import Conflict, Forbidden
from tests.execution.conftest import (
    APPROVE,
    LARGE,
    LOAN_DMN,
    REFER,
    config_for,
    count,
    decide,
    loan_bindings,
    publish_model,
    rows,
)


def test_attach_replace_remove_while_draft_then_frozen(engine: Engine, receiver: Receiver) -> None:
    text = loan_bindings(receiver)
    with unit_of_work(engine) as session:
        create_draft(session, "loan", LOAN_DMN.read_bytes(), author="ana")
        attached = attach_bindings(session, "loan", 1, text, by="ana", config=config_for())
        assert attached.hash and attached.text == text
        with pytest.raises(Forbidden, match="only its author"):
            attach_bindings(session, "loan", 1, text, by="mallory")
        assert attach_bindings(session, "loan", 1, None, by="ana").hash is None
        attach_bindings(session, "loan", 1, text, by="ana")
        submit(session, "loan", 1, by="ana")
    with unit_of_work(engine) as session:
        with pytest.raises(Conflict, match="immutable"):
            attach_bindings(session, "loan", 1, text.replace("10s", "20s"), by="ana")
        assert get_bindings(session, "loan", 1).text == text
    # The database refuses it too, whoever asks.
    with pytest.raises(DBAPIError, match="immutable"), engine.begin() as connection:
        connection.execute(sa.text("UPDATE versions SET bindings = 'x' WHERE number = 1"))
    with pytest.raises(DBAPIError, match="immutable"), engine.begin() as connection:
        connection.execute(sa.text("UPDATE versions SET bindings_hash = NULL WHERE number = 1"))


def test_invalid_bindings_are_refused_with_locations(engine: Engine) -> None:
    with unit_of_work(engine) as session:
        create_draft(session, "loan", LOAN_DMN.read_bytes(), author="ana")
    with pytest.raises(BindingsInvalid) as caught, unit_of_work(engine) as session:
        attach_bindings(session, "loan", 1, "workflows:\n  w: {steps: [{set: {x: Nope + 1}}]}\nalways: w\n",
                        by="ana", config=config_for())
    problem = caught.value.problems[0]
    assert problem.location.line == 2 and problem.location.path == "workflows.w.steps[0].set.x"
    assert "unknown name 'Nope'" in problem.message and problem.location.file == "loan version 1 bindings"
    with unit_of_work(engine) as session:
        assert get_bindings(session, "loan", 1).text is None


def test_runs_are_written_with_the_record_pinned_to_the_version(engine: Engine, receiver: Receiver) -> None:
    number = publish_model(engine, "loan", LOAN_DMN.read_bytes(), loan_bindings(receiver), config=config_for())
    decision, runs = decide(engine, "loan", LARGE)
    assert len(runs) == 2
    stored = rows(engine, "SELECT workflow, state, step_index, attempt, version, decision_id, bindings_hash, "
                          "target FROM workflow_runs ORDER BY workflow")
    with unit_of_work(engine) as session:
        expected_hash = get_bindings(session, "loan", number).hash
    assert [(r.workflow, r.state, r.step_index, r.attempt, r.version, r.decision_id) for r in stored] == [
        ("approved", "ready", 0, 0, number, decision), ("large-loan-alert", "ready", 0, 0, number, decision)]
    assert {r.bindings_hash for r in stored} == {expected_hash}
    assert {r.target for r in stored} == {"127.0.0.1"}
    # A version without bindings starts nothing.
    publish_model(engine, "plain", LOAN_DMN.read_bytes(), None)
    assert decide(engine, "plain", REFER)[1] == []


def test_a_failed_transaction_writes_neither_record_nor_runs(engine: Engine, receiver: Receiver) -> None:
    publish_model(engine, "loan", LOAN_DMN.read_bytes(), loan_bindings(receiver))
    versions = LoadedVersions()
    decide(engine, "loan", APPROVE, versions=versions)
    with pytest.raises(RuntimeError), unit_of_work(engine) as session:
        from execution.outbox import enqueue_runs

        loaded = versions.get(session, "loan", 1)
        result = loaded.model.evaluate(APPROVE)
        record = record_decision(session, key="loan", version=1, content_hash=loaded.content_hash, inputs=APPROVE,
                                 outputs={"Decision": "Approve"}, latency_us=1)
        assert enqueue_runs(session, record, loaded, result.outputs)
        raise RuntimeError("the service fails before committing")
    assert count(engine, "SELECT count(*) FROM decision_records") == 1
    assert count(engine, "SELECT count(*) FROM workflow_runs") == 1


def test_example_models_come_with_their_bindings(engine: Engine) -> None:
    from execution.examples import attach_example_bindings, example_bindings

    assert example_bindings(LOAN_DMN) is not None
    assert example_bindings(LOAN_DMN.with_name("nothing.dmn")) is None
    with unit_of_work(engine) as session:
        create_draft(session, "loan-approval", LOAN_DMN.read_bytes(), author="examples")
        attached = attach_example_bindings(session, "loan-approval", 1, LOAN_DMN, by="examples")
    assert attached is not None and "review-overdue" in (attached.text or "")
