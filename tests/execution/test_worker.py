"""Workers carry out steps against a real receiver: signed, with a stable idempotency key, retried
with backoff, dead-lettered with their history; leases expire and are taken over; a stale
worker cannot overwrite the new owner's progress."""

from __future__ import annotations

import json
import threading
import time

from sqlalchemy.engine import Engine

from execution.claims import Completion, claim_runs, complete, start_attempt
from execution.receiver import Receiver
from execution.signing import verify
from tests.execution.conftest import (
    APPROVE,
    LOAN_DMN,
    REJECT,
    SCORE_YAML,
    SECRET,
    config_for,
    count,
    decide,
    loan_bindings,
    publish_model,
    rows,
    settled,
    work,
)

FAST_RETRY = "{attempts: 4, backoff: 50ms, max_backoff: 200ms}"


def score_bindings(receiver: Receiver, steps: str, retry: str = FAST_RETRY) -> str:
    return f"""
defaults: {{timeout: 1s, retry: {retry}}}
targets:
  hook: {{url: "{receiver.url}/hook"}}
workflows:
  main:
    steps:
{steps}
always: main
"""


def test_approve_and_reject_reach_the_lender_signed_once(engine: Engine, receiver: Receiver) -> None:
    config = config_for()
    publish_model(engine, "loan", LOAN_DMN.read_bytes(), loan_bindings(receiver), config=config)
    approved, approved_runs = decide(engine, "loan", APPROVE)
    rejected, rejected_runs = decide(engine, "loan", REJECT)
    work(engine, config, settled(engine))
    bodies = {body["decision_id"]: body for body in receiver.processed_bodies("/lender/decisions")}
    assert bodies[approved]["outcome"] == "approved" and bodies[approved]["credit_limit"] == 25000
    assert bodies[rejected] == {"decision_id": rejected, "outcome": "rejected", "reason": "Applicant is under 18"}
    keys = {d.key for d in receiver.deliveries}
    assert keys == {f"{approved_runs[0]}:0", f"{rejected_runs[0]}:0"}
    for delivery in receiver.deliveries:
        assert delivery.signature_ok is True
        stamp, signature = delivery.headers["Decisionary-Timestamp"], delivery.headers["Decisionary-Signature"]
        url = receiver.url + delivery.path
        assert verify(SECRET, stamp, signature, delivery.method, url, delivery.body)
        assert not verify("another-secret", stamp, signature, delivery.method, url, delivery.body)
        assert not verify(SECRET, stamp, signature, delivery.method, receiver.url + "/elsewhere", delivery.body)
    assert count(engine, "SELECT count(*) FROM workflow_runs WHERE state = 'done'") == 2
    attempts = rows(engine, "SELECT outcome, status_code, step_name FROM step_attempts")
    assert sorted((a.outcome, a.status_code, a.step_name) for a in attempts) == [("ok", 200, "tell-lender")] * 2


def test_failures_are_retried_with_the_same_key_until_they_succeed(engine: Engine, receiver: Receiver) -> None:
    config = config_for()
    steps = "      - call: {target: hook, body: {n: \"{{ inputs.Amount }}\"}}"
    publish_model(engine, "score", SCORE_YAML, score_bindings(receiver, steps), config=config)
    receiver.fail_rate = 1.0
    decide(engine, "score", {"Amount": 5, "Email": "a@b.c"})
    work(engine, config, lambda: len(receiver.deliveries) >= 2)
    receiver.fail_rate = 0.0
    work(engine, config, settled(engine))
    assert len({d.key for d in receiver.deliveries}) == 1
    assert [d.answer for d in receiver.deliveries][-1] == 200
    assert receiver.processed_bodies("/hook") == [{"n": 5}]
    outcomes = [r.outcome for r in rows(engine, "SELECT outcome FROM step_attempts ORDER BY id")]
    assert outcomes[-1] == "ok" and set(outcomes[:-1]) == {"retry"} and len(outcomes) == len(receiver.deliveries)


def test_exhausted_retries_dead_letter_with_every_attempt(engine: Engine, receiver: Receiver) -> None:
    config = config_for()
    steps = "      - call: {target: hook}"
    publish_model(engine, "score", SCORE_YAML, score_bindings(receiver, steps), config=config)
    receiver.fail_rate = 1.0
    decision, runs = decide(engine, "score", {"Amount": 5, "Email": "a@b.c"})
    other, _ = decide(engine, "score", {"Amount": 6, "Email": "a@b.c"})
    work(engine, config, settled(engine))
    dead = rows(engine, "SELECT id, state, last_error, last_status FROM workflow_runs WHERE decision_id = :d",
                d=decision)[0]
    assert dead.state == "dead" and dead.last_status == 500 and "failed 4 time(s)" in dead.last_error
    history = rows(engine, "SELECT attempt, outcome, status_code, worker, duration_ms FROM step_attempts "
                           "WHERE run_id = :r ORDER BY id", r=runs[0])
    assert [(h.attempt, h.outcome, h.status_code) for h in history] == [
        (1, "retry", 500), (2, "retry", 500), (3, "retry", 500), (4, "failed", 500)]
    assert all(h.worker and h.duration_ms >= 0 for h in history)
    assert count(engine, "SELECT count(*) FROM workflow_runs WHERE decision_id = :d AND state = 'dead'", d=other) == 1


def test_a_status_that_does_not_retry_dead_letters_at_once(engine: Engine, receiver: Receiver) -> None:
    config = config_for()
    receiver.responses = {"/hook": (422, {"error": "bad order"})}
    publish_model(engine, "score", SCORE_YAML, score_bindings(receiver, "      - call: {target: hook}"),
                  config=config)
    decide(engine, "score", {"Amount": 5, "Email": "a@b.c"})
    work(engine, config, settled(engine))
    run = rows(engine, "SELECT state, last_error, last_status FROM workflow_runs")[0]
    assert (run.state, run.last_status) == ("dead", 422) and "bad order" in run.last_error
    assert count(engine, "SELECT count(*) FROM step_attempts") == 1


def test_timeouts_are_retried_and_the_receiver_deduplicates(engine: Engine, receiver: Receiver) -> None:
    config = config_for()
    receiver.timeout_rate, receiver.slow_seconds = 1.0, 1.5
    steps = "      - call: {target: hook}\n        timeout: 300ms"
    publish_model(engine, "score", SCORE_YAML, score_bindings(receiver, steps, "{attempts: 10, backoff: 50ms, "
                                                              "max_backoff: 100ms}"), config=config)
    decide(engine, "score", {"Amount": 5, "Email": "a@b.c"})
    work(engine, config, lambda: len(receiver.deliveries) >= 3)
    receiver.timeout_rate = 0.0
    work(engine, config, settled(engine))
    assert count(engine, "SELECT count(*) FROM workflow_runs WHERE state = 'done'") == 1
    assert len(receiver.processed) == 1 and len({d.key for d in receiver.deliveries}) == 1
    errors = [r.error for r in rows(engine, "SELECT error FROM step_attempts WHERE outcome = 'retry'")]
    assert errors and all("within 0.3s" in e for e in errors)


def test_hosts_outside_the_allow_list_are_refused_at_send_time(engine: Engine, receiver: Receiver) -> None:
    config = config_for()
    bindings = "workflows:\n  tell: {steps: [{approve: {}}]}\nalways: tell\n"  # to the request's callback URL
    publish_model(engine, "loan", LOAN_DMN.read_bytes(), bindings, config=config)
    # not a static URL: checked when sending (the request named it)
    decide(engine, "loan", APPROVE, callback_url="http://localhost.evil.example.com:1/steal")
    work(engine, config, settled(engine))
    run = rows(engine, "SELECT state, last_error FROM workflow_runs")[0]
    assert run.state == "dead" and "not in the allow-list" in run.last_error
    assert receiver.deliveries == []


def test_a_lost_lease_is_taken_over_and_the_lost_attempt_recorded(engine: Engine, receiver: Receiver) -> None:
    config = config_for()
    publish_model(engine, "score", SCORE_YAML, score_bindings(receiver, "      - call: {target: hook}"),
                  config=config)
    _, runs = decide(engine, "score", {"Amount": 5, "Email": "a@b.c"})
    # A worker claims the step with a short lease, starts sending, and dies (never completes,
    # never renews).
    dead_worker = claim_runs(engine, "dead-worker", 10, lease_seconds=0.3)
    assert [c.run_id for c in dead_worker] == runs
    start_attempt(engine, dead_worker[0], 1)
    assert claim_runs(engine, "other", 10, lease_seconds=5) == []  # leased: nobody else takes it
    time.sleep(0.4)
    work(engine, config, settled(engine))
    history = rows(engine, "SELECT attempt, outcome, worker FROM step_attempts ORDER BY id")
    assert [(h.attempt, h.outcome) for h in history] == [(1, "lease-lost"), (2, "ok")]
    assert history[0].worker == "dead-worker" and history[1].worker != "dead-worker"
    assert rows(engine, "SELECT crashes FROM workflow_runs")[0].crashes == 1
    # The stale claim cannot write over what the new owner did.
    assert not complete(engine, dead_worker[0], Completion({"state": "dead", "last_error": "stale"}))
    assert rows(engine, "SELECT state FROM workflow_runs")[0].state == "done"


def test_claims_never_hand_one_run_to_two_workers(engine: Engine, receiver: Receiver) -> None:
    publish_model(engine, "score", SCORE_YAML, score_bindings(receiver, "      - call: {target: hook}"),
                  config=config_for())
    for n in range(60):
        decide(engine, "score", {"Amount": n, "Email": "a@b.c"})
    claimed: list[list[str]] = [[] for _ in range(6)]

    def claimer(i: int) -> None:
        for _ in range(20):
            claimed[i].extend(c.run_id for c in claim_runs(engine, f"w{i}", 3, lease_seconds=60))

    threads = [threading.Thread(target=claimer, args=(i,)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    everything = [run for part in claimed for run in part]
    assert len(everything) == 60 and len(set(everything)) == 60


def test_graceful_stop_finishes_the_step_in_progress(engine: Engine, receiver: Receiver) -> None:
    from execution.worker import Worker, WorkerOptions

    config = config_for()
    receiver.delay = 0.8  # every call takes 0.8 s
    steps = "      - call: {target: hook}\n        timeout: 5s\n      - call: {target: hook}"
    publish_model(engine, "score", SCORE_YAML, score_bindings(receiver, steps), config=config)
    decide(engine, "score", {"Amount": 5, "Email": "a@b.c"})
    worker = Worker(engine, config, WorkerOptions(threads=2, poll_interval=0.05))
    thread = threading.Thread(target=worker.run)
    thread.start()
    deadline = time.monotonic() + 60
    while count(engine, "SELECT count(*) FROM workflow_runs WHERE lease_owner IS NOT NULL") == 0 \
            and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(0.2)
    worker.stop()  # as on SIGTERM, while the first call is in flight
    thread.join(timeout=60)
    assert not thread.is_alive()
    run = rows(engine, "SELECT state, step_index, lease_owner, due_at FROM workflow_runs")[0]
    assert (run.state, run.step_index, run.lease_owner) == ("ready", 1, None)  # step 1 done, step 2 left
    assert run.due_at is not None  # due again at once: any worker picks step 2 up
    assert len(receiver.deliveries) == 1
    body = json.loads(receiver.deliveries[0].body)
    assert body["event"] == "decision.notify" and body["step"] == "call-1"
