"""Human review: tasks opened by workflows, claimed and answered by reviewers; the workflow
carries on from the answer (even one given while the run was not waiting); overrides are
recorded against the decision; an unanswered task escalates once when its due time passes."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from execution.errors import ExecutionConflict
from execution.receiver import Receiver
from execution.review import claim_task, decide_task, get_task, list_tasks, overrides_of
from execution.tables import RunRow
from registry import unit_of_work
from registry.errors import Invalid
from registry.tables import utcnow
from tests.execution.conftest import (
    LOAN_DMN,
    REFER,
    config_for,
    count,
    decide,
    from_db,
    loan_bindings,
    publish_model,
    rows,
    settled,
    work,
)


def open_referral(engine: Engine, receiver: Receiver, bindings: str | None = None) -> tuple[str, str]:
    """A Refer decision whose review task is open: (decision id, task id)."""
    publish_model(engine, "loan-approval", LOAN_DMN.read_bytes(), bindings or loan_bindings(receiver),
                  config=config_for())
    decision, _ = decide(engine, "loan-approval", REFER)
    work(engine, config_for(), settled(engine))
    with unit_of_work(engine, read_only=True) as session:
        tasks = list_tasks(session, queue="underwriting")
    assert len(tasks) == 1
    return decision, tasks[0].id


def test_a_referral_opens_a_task_with_what_the_reviewer_needs(engine: Engine, receiver: Receiver) -> None:
    decision, task_id = open_referral(engine, receiver)
    with unit_of_work(engine, read_only=True) as session:
        task = get_task(session, task_id)
    assert task.decision_id == decision and task.state == "open" and task.queue == "underwriting"
    assert task.reason == "Refer: Medium risk, 45000 requested"
    assert task.inputs["Requested Amount"] == 45000 and task.outputs["Decision"] == "Refer"
    assert task.fired["Decision"] == [4] and task.escalate_workflow == "review-overdue"
    assert task.due_at is not None
    run = rows(engine, "SELECT state, step_index FROM workflow_runs")[0]
    assert (run.state, run.step_index) == ("waiting", 0)
    assert receiver.deliveries == []  # nothing happens before the answer


def test_claim_then_approve_continues_the_workflow(engine: Engine, receiver: Receiver) -> None:
    decision, task_id = open_referral(engine, receiver)
    with unit_of_work(engine) as session:
        claim_task(session, task_id, by="rita")
    with pytest.raises(ExecutionConflict, match="claimed by rita"), unit_of_work(engine) as session:
        decide_task(session, task_id, by="sam", outcome="approve", reason="looks fine")
    with pytest.raises(Invalid, match="reason"), unit_of_work(engine) as session:
        decide_task(session, task_id, by="rita", outcome="approve", reason="  ")
    with unit_of_work(engine) as session:
        decided = decide_task(session, task_id, by="rita", outcome="approve", reason="stable income")
        assert list_tasks(session, queue="underwriting") == []
    assert decided.state == "decided" and decided.decided_by == "rita"
    assert rows(engine, "SELECT state FROM workflow_runs")[0].state == "ready"  # woken by the answer
    work(engine, config_for(), settled(engine))
    assert receiver.processed_bodies("/lender/decisions") == [
        {"decision_id": decision, "outcome": "approved", "reviewed_by": "rita", "credit_limit": 15600}]
    with pytest.raises(ExecutionConflict, match="already decided"), unit_of_work(engine) as session:
        decide_task(session, task_id, by="rita", outcome="reject", reason="changed my mind")


def test_reject_takes_the_other_branch(engine: Engine, receiver: Receiver) -> None:
    decision, task_id = open_referral(engine, receiver)
    with unit_of_work(engine) as session:
        decide_task(session, task_id, by="rita", outcome="reject", reason="income not verified")
    work(engine, config_for(), settled(engine))
    assert receiver.processed_bodies("/lender/decisions") == [
        {"decision_id": decision, "outcome": "rejected", "reviewed_by": "rita"}]


def test_an_override_replaces_outputs_and_is_recorded(engine: Engine, receiver: Receiver) -> None:
    decision, task_id = open_referral(engine, receiver)
    with pytest.raises(Invalid, match="no output 'Limit'"), unit_of_work(engine) as session:
        decide_task(session, task_id, by="rita", outcome="override", reason="x", outputs={"Limit": 1})
    with unit_of_work(engine) as session:
        decide_task(session, task_id, by="rita", outcome="override", reason="policy exception 7",
                    outputs={"Decision": "Approve", "Credit Limit": 12000})
    work(engine, config_for(), settled(engine))
    assert receiver.processed_bodies("/lender/decisions")[0]["credit_limit"] == 12000
    with unit_of_work(engine, read_only=True) as session:
        overrides = overrides_of(session, decision)
    assert len(overrides) == 1
    assert overrides[0]["by"] == "rita" and overrides[0]["reason"] == "policy exception 7"
    assert overrides[0]["original"]["Decision"] == "Refer" and overrides[0]["override"]["Decision"] == "Approve"
    assert overrides[0]["override"]["Risk Category"] == "Medium"  # the rest is kept
    context = from_db(rows(engine, "SELECT context FROM workflow_runs")[0].context)
    assert context["review"]["outcome"] == "override" and context["outputs"]["Credit Limit"] == 12000


def test_an_answer_given_while_the_run_is_not_waiting_is_not_lost(engine: Engine, receiver: Receiver) -> None:
    decision, task_id = open_referral(engine, receiver)
    # The run is between two states (here: made ready again, e.g. its escalation came due and a
    # worker is looking at it) when the answer arrives: the answer cannot wake it...
    with engine.begin() as connection:
        connection.execute(sa.update(RunRow.__table__).values(state="ready", due_at=utcnow()))
    with unit_of_work(engine) as session:
        decide_task(session, task_id, by="rita", outcome="approve", reason="ok")
    # ...but it is on the task, and the run reads it when it gets to its review step.
    work(engine, config_for(), settled(engine))
    assert rows(engine, "SELECT state FROM workflow_runs")[0].state == "done"
    assert receiver.processed_bodies("/lender/decisions")[0]["reviewed_by"] == "rita"


def test_an_unanswered_task_escalates_once_when_due(engine: Engine, receiver: Receiver) -> None:
    bindings = loan_bindings(receiver).replace("due: 2d", "due: 1s")
    decision, task_id = open_referral(engine, receiver, bindings)
    work(engine, config_for(), lambda: receiver.processed_count("/chat") >= 1, timeout=20)
    work(engine, config_for(), settled(engine))  # and nothing more happens
    assert receiver.processed_bodies("/chat") == [{"text": f"Loan review for decision {decision} is overdue"}]
    escalation = rows(engine, "SELECT workflow, origin, state FROM workflow_runs WHERE workflow = 'review-overdue'")
    assert [(e.origin, e.state) for e in escalation] == [(f"escalation:{task_id}", "done")]
    assert count(engine, "SELECT count(*) FROM review_tasks WHERE escalated_at IS NOT NULL") == 1
    waiting = rows(engine, "SELECT state, due_at FROM workflow_runs WHERE workflow = 'referred'")[0]
    assert waiting.state == "waiting" and waiting.due_at is None
    with unit_of_work(engine) as session:  # still answerable after the escalation
        decide_task(session, task_id, by="rita", outcome="approve", reason="late but fine")
    work(engine, config_for(), settled(engine))
    assert receiver.processed_count("/lender/decisions") == 1
