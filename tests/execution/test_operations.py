"""Operators and dead letters: list by filter, inspect the history, retry or cancel one by one or
in bulk; a retried run resumes at its failed step with the same idempotency key."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine

from execution.errors import ExecutionConflict
from execution.operations import (
    RunFilter,
    attempts_of,
    cancel_run,
    cancel_runs,
    get_run,
    list_runs,
    retry_run,
    retry_runs,
    runs_of_decision,
)
from execution.receiver import Receiver
from registry import unit_of_work
from tests.execution.conftest import SCORE_YAML, config_for, count, decide, publish_model, settled, work

RETRY = "{attempts: 2, backoff: 10ms, max_backoff: 20ms}"


def two_workflows(receiver: Receiver) -> str:
    return f"""
defaults: {{retry: {RETRY}}}
workflows:
  bill: {{steps: [{{name: charge, call: {{url: "{receiver.url}/bill"}}}}]}}
  mail: {{steps: [{{name: letter, call: {{url: "{receiver.url}/mail"}}}}]}}
always: [bill, mail]
"""


@pytest.fixture
def dead(engine: Engine, receiver: Receiver) -> list[str]:
    """Six decisions whose two workflows both dead-letter: their decision ids."""
    publish_model(engine, "score", SCORE_YAML, two_workflows(receiver), config=config_for())
    receiver.fail_rate = 1.0
    decisions = [decide(engine, "score", {"Amount": n, "Email": "a@b.c"})[0] for n in range(6)]
    work(engine, config_for(), settled(engine))
    receiver.fail_rate = 0.0
    assert count(engine, "SELECT count(*) FROM workflow_runs WHERE state = 'dead'") == 12
    return decisions


def test_dead_letters_are_listed_by_filter_with_their_history(engine: Engine, dead: list[str]) -> None:
    with unit_of_work(engine, read_only=True) as session:
        assert len(list_runs(session, RunFilter(state="dead"))) == 12
        bills = list_runs(session, RunFilter(state="dead", workflow="bill"))
        assert len(bills) == 6 and {r.workflow for r in bills} == {"bill"}
        assert len(list_runs(session, RunFilter(state="dead", step="letter"))) == 6
        assert len(list_runs(session, RunFilter(state="dead", error="answered 500"))) == 12
        assert list_runs(session, RunFilter(state="dead", error="no such text")) == []
        assert len(list_runs(session, RunFilter(decision_id=dead[0]))) == 2
        page = list_runs(session, RunFilter(state="dead"), limit=5)
        rest = list_runs(session, RunFilter(state="dead"), before=page[-1].id)
        assert len(page) == 5 and len(rest) == 7 and not {r.id for r in page} & {r.id for r in rest}
        history = attempts_of(session, bills[0].id)
        assert [(a.attempt, a.outcome, a.status_code) for a in history] == [(1, "retry", 500), (2, "failed", 500)]


def test_retry_one_then_in_bulk(engine: Engine, receiver: Receiver, dead: list[str]) -> None:
    with unit_of_work(engine) as session:
        run = list_runs(session, RunFilter(state="dead", workflow="bill", decision_id=dead[0]))[0]
        retried = retry_run(session, run.id, by="olga")
        assert retried.state == "ready" and retried.attempt == 0
        with pytest.raises(ExecutionConflict, match="only dead-lettered"):
            retry_run(session, run.id, by="olga")
    work(engine, config_for(), settled(engine))
    assert receiver.processed_count("/bill") == 1
    delivered = next(d for d in receiver.deliveries if d.answer == 200)
    assert delivered.key == f"{run.id}:0"  # the same key as the failed attempts
    with unit_of_work(engine) as session:
        assert get_run(session, run.id).state == "done"
        outcomes = [a.outcome for a in attempts_of(session, run.id)]
        assert outcomes == ["retry", "failed", "operator-retry", "ok"]
        assert retry_runs(session, RunFilter(workflow="bill"), by="olga") == 5
    work(engine, config_for(), settled(engine))
    assert receiver.processed_count("/bill") == 6 and receiver.processed_count("/mail") == 0
    assert count(engine, "SELECT count(*) FROM workflow_runs WHERE state = 'dead'") == 6


def test_cancel_one_and_in_bulk(engine: Engine, dead: list[str]) -> None:
    with unit_of_work(engine) as session:
        runs = runs_of_decision(session, dead[0])
        assert [r.workflow for r, _ in runs] == ["bill", "mail"]
        cancelled = cancel_run(session, runs[0][0].id, by="olga")
        assert cancelled.state == "cancelled" and cancelled.finished_at is not None
        with pytest.raises(ExecutionConflict, match="cannot be cancelled"):
            cancel_run(session, runs[0][0].id, by="olga")
        assert cancel_runs(session, RunFilter(state="dead", error="answered 500"), by="olga") == 11
    assert count(engine, "SELECT count(*) FROM workflow_runs WHERE state = 'cancelled'") == 12
    assert count(engine, "SELECT count(*) FROM step_attempts WHERE outcome = 'operator-cancel'") == 12
