"""The execution routes of the service over HTTP (a real uvicorn): evaluate -> runs in the same
transaction, bindings on versions, reviews, dead letters, stats and Prometheus metrics."""

from __future__ import annotations

import json

import httpx
from typer.testing import CliRunner

from api.cli import app as cli
from execution.receiver import Receiver
from tests.api.conftest import LOAN_DMN, Live
from tests.execution.conftest import (
    APPROVE,
    REFER,
    config_for,
    count,
    publish_with_bindings,
    settled,
    work,
)

BINDINGS = """
defaults: {{retry: {{attempts: 2, backoff: 10ms, max_backoff: 20ms}}}}
on:
  - when: Decision = "Approve"
    run: approved
  - when: Decision = "Refer"
    run: referred
workflows:
  approved: {{steps: [{{approve: {{}}}}]}}
  referred:
    steps:
      - review: {{queue: underwriting, reason: "{{{{ outputs.Decision }}}}"}}
      - name: after
        call: {{url: "{url}/after", body: {{outcome: "{{{{ review.outcome }}}}", by: "{{{{ review.by }}}}"}}}}
"""




def test_evaluate_enqueues_runs_with_the_record_and_calls_back(service: Live, receiver: Receiver) -> None:
    publish_with_bindings(service, BINDINGS.format(url=receiver.url))
    caller = service.client("caller")
    body = {"inputs": APPROVE, "callback_url": f"{receiver.url}/callback"}
    answer = caller.post("/v1/decisions/loan-approval/evaluate", json=body, headers={"Idempotency-Key": "k1"})
    assert answer.status_code == 200, answer.text
    decision = answer.json()["decision_id"]
    assert count(service.engine, "SELECT count(*) FROM workflow_runs WHERE decision_id = :d", d=decision) == 1
    replay = caller.post("/v1/decisions/loan-approval/evaluate", json=body, headers={"Idempotency-Key": "k1"})
    assert replay.json()["decision_id"] == decision
    assert count(service.engine, "SELECT count(*) FROM workflow_runs") == 1  # a replay starts nothing
    bad = caller.post("/v1/decisions/loan-approval/evaluate", json={"inputs": APPROVE, "callback_url": "ftp://x"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["pointer"] == "/callback_url"
    records = count(service.engine, "SELECT count(*) FROM decision_records")
    for headers in ({}, {"Idempotency-Key": "k2"}):  # the fast path and the transactional one
        refused = caller.post("/v1/decisions/loan-approval/evaluate", headers=headers,
                              json={"inputs": APPROVE, "callback_url": "http://nobody-allowed.example.com/cb"})
        assert refused.status_code == 422, refused.text
        [error] = refused.json()["errors"]
        assert error["pointer"] == "/callback_url" and "allow-list" in error["message"]
    assert count(service.engine, "SELECT count(*) FROM decision_records") == records  # nothing answered
    queued = service.client("caller").get(f"/v1/execution/decisions/{decision}/runs").json()[0]
    pending = service.client("caller").get(f"/v1/execution/runs/{queued['id']}").json()["context"]
    assert "inputs" not in pending and pending["decision"] == {"id": decision}  # read from the record later
    work(service.engine, config_for(), settled(service.engine))
    assert receiver.processed_bodies("/callback")[0]["decision_id"] == decision
    runs = service.client("reviewer").get(f"/v1/execution/decisions/{decision}/runs")
    assert runs.status_code == 200
    [run] = runs.json()
    assert run["state"] == "done" and [a["outcome"] for a in run["attempts"]] == ["ok"]
    detail = service.client("caller").get(f"/v1/execution/runs/{run['id']}").json()
    assert detail["context"]["callback_url"] == f"{receiver.url}/callback"
    assert detail["context"]["inputs"] == APPROVE and detail["context"]["decision"]["key"] == "loan-approval"
    assert detail["context"]["outputs"] == answer.json()["outputs"]


def test_bindings_are_validated_and_frozen_with_the_version(service: Live, receiver: Receiver) -> None:
    assert service.upload("loan-approval", LOAN_DMN.read_bytes(), LOAN_DMN.name).status_code == 201
    path = "/v1/models/loan-approval/versions/1/bindings"
    author = service.client("author")
    invalid = author.put(path, json={"bindings": "workflows:\n  w:\n    steps:\n      - call: {url: 'http://evil.test/'}\n"
                                                 "always: w\n"})
    assert invalid.status_code == 422 and invalid.headers["content-type"].startswith("application/problem+json")
    [error] = invalid.json()["errors"]
    assert error["location"]["line"] == 4 and error["location"]["path"] == "workflows.w.steps[0].call.url"
    assert "allow-list" in error["message"]
    assert service.client("viewer").put(path, json={"bindings": None}).status_code == 403
    ok = author.put(path, json={"bindings": BINDINGS.format(url=receiver.url)})
    assert ok.status_code == 200 and len(ok.json()["bindings_hash"]) == 64
    assert service.client("viewer").get(path).json()["bindings"] == BINDINGS.format(url=receiver.url)
    assert author.post("/v1/models/loan-approval/versions/1/submit").status_code == 200
    frozen = author.put(path, json={"bindings": None})
    assert frozen.status_code == 409 and "immutable" in frozen.json()["detail"]


def test_reviewers_work_their_queue_over_http(service: Live, receiver: Receiver) -> None:
    publish_with_bindings(service, BINDINGS.format(url=receiver.url))
    decision = service.client("caller").post("/v1/decisions/loan-approval/evaluate",
                                             json={"inputs": REFER}).json()["decision_id"]
    work(service.engine, config_for(), settled(service.engine))
    reviewer = service.client("reviewer")
    queue = reviewer.get("/v1/reviews", params={"queue": "underwriting", "mine": "true"})
    assert queue.status_code == 200
    [task] = queue.json()["tasks"]
    assert task["decision_id"] == decision and task["reason"] == "Refer" and task["outputs"]["Decision"] == "Refer"
    assert service.client("viewer").get("/v1/reviews").status_code == 403
    claimed = reviewer.post(f"/v1/reviews/{task['id']}/claim")
    assert claimed.status_code == 200 and claimed.json()["claimed_by"] == "reviewer-person"
    admin_try = service.client("admin").post(f"/v1/reviews/{task['id']}/decide",
                                             json={"outcome": "approve", "reason": "x"})
    assert admin_try.status_code == 409 and "claimed by reviewer-person" in admin_try.json()["detail"]
    no_reason = reviewer.post(f"/v1/reviews/{task['id']}/decide", json={"outcome": "approve", "reason": ""})
    assert no_reason.status_code == 422
    decided = reviewer.post(f"/v1/reviews/{task['id']}/decide",
                            json={"outcome": "override", "reason": "exception", "outputs": {"Decision": "Approve"}})
    assert decided.status_code == 200 and decided.json()["outcome"] == "override"
    work(service.engine, config_for(), settled(service.engine))
    assert receiver.processed_bodies("/after") == [{"outcome": "override", "by": "reviewer-person"}]
    overrides = service.client("reviewer").get(f"/v1/execution/decisions/{decision}/overrides").json()
    assert overrides[0]["override"]["Decision"] == "Approve" and overrides[0]["by"] == "reviewer-person"


def test_an_override_is_checked_against_the_types_of_the_outputs(service: Live, receiver: Receiver) -> None:
    publish_with_bindings(service, BINDINGS.format(url=receiver.url))
    decision = service.client("caller").post("/v1/decisions/loan-approval/evaluate",
                                             json={"inputs": REFER}).json()["decision_id"]
    work(service.engine, config_for(), settled(service.engine))
    reviewer = service.client("reviewer")
    [task] = reviewer.get("/v1/reviews", params={"queue": "underwriting"}).json()["tasks"]
    decide = f"/v1/reviews/{task['id']}/decide"

    def override(outputs: dict[str, object]) -> httpx.Response:
        return reviewer.post(decide, json={"outcome": "override", "reason": "exception", "outputs": outputs})

    bogus = override({"Decision": "Bogus"})  # tLoanDecision allows only Approve, Refer, Reject
    assert bogus.status_code == 422, bogus.text
    [error] = bogus.json()["errors"]
    assert error["pointer"] == "/outputs/Decision" and "Approve" in error["message"]
    not_a_number = override({"Decision": "Approve", "Credit Limit": "lots"})
    assert not_a_number.status_code == 422
    assert [e["pointer"] for e in not_a_number.json()["errors"]] == ["/outputs/Credit Limit"]
    component = override({"Eligibility": {"Status": "Maybe", "Reason": "x"}})
    assert component.status_code == 422
    assert [e["pointer"] for e in component.json()["errors"]] == ["/outputs/Eligibility/Status"]
    assert reviewer.get(f"/v1/reviews/{task['id']}").json()["state"] == "open"  # nothing was answered
    decided = override({"Decision": "Approve", "Credit Limit": 25000.5})
    assert decided.status_code == 200, decided.text
    [recorded] = service.client("reviewer").get(f"/v1/execution/decisions/{decision}/overrides").json()
    assert recorded["override"]["Decision"] == "Approve" and recorded["override"]["Credit Limit"] == 25000.5


def test_runs_dead_letters_and_stats_are_read_by_the_rule_of_records(service: Live, receiver: Receiver) -> None:
    # Runs hold the decision's inputs, outputs and review data: reviewers read every decision's,
    # a caller only the decisions it asked for, viewers, authors and approvers none.
    publish_with_bindings(service, BINDINGS.format(url=receiver.url))
    mine = service.client("caller").post("/v1/decisions/loan-approval/evaluate", json={"inputs": REFER}).json()
    admin = service.client("admin")
    assert admin.post("/v1/identities", json={"name": "other-service"}).status_code == 201
    other_caller = admin.post("/v1/keys", json={"name": "k1", "role": "caller", "identity": "other-service"}).json()
    other = service.client(secret=other_caller["secret"])
    theirs = other.post("/v1/decisions/loan-approval/evaluate", json={"inputs": APPROVE}).json()
    work(service.engine, config_for(), settled(service.engine))
    run_of = {d["decision_id"]: service.client("reviewer").get(f"/v1/execution/decisions/{d['decision_id']}/runs")
              .json()[0]["id"] for d in (mine, theirs)}
    paths = ["/v1/execution/runs", "/v1/execution/dead-letters", "/v1/execution/stats", "/v1/records",
             f"/v1/execution/runs/{run_of[mine['decision_id']]}", f"/v1/execution/decisions/{mine['decision_id']}/runs",
             f"/v1/execution/decisions/{mine['decision_id']}/overrides", f"/v1/records/{mine['decision_id']}"]
    for role in ("viewer", "author", "approver"):
        for path in paths:
            assert service.client(role).get(path).status_code == 403, (role, path)
    for path in paths:
        assert service.client("reviewer").get(path).status_code == 200, path
    caller = service.client("caller")
    listed = caller.get("/v1/execution/runs").json()
    assert {r["decision_id"] for r in listed} == {mine["decision_id"]}
    assert {r["decision_id"] for r in other.get("/v1/execution/runs").json()} == {theirs["decision_id"]}
    assert caller.get(f"/v1/execution/runs/{run_of[mine['decision_id']]}").json()["context"]["inputs"] == REFER
    assert caller.get(f"/v1/execution/runs/{run_of[theirs['decision_id']]}").status_code == 404
    assert caller.get(f"/v1/execution/decisions/{theirs['decision_id']}/runs").status_code == 404
    assert caller.get(f"/v1/execution/decisions/{theirs['decision_id']}/overrides").status_code == 404
    assert caller.get("/v1/execution/runs", params={"decision_id": theirs["decision_id"]}).json() == []
    assert [r["id"] for r in caller.get("/v1/records").json()["records"]] == [mine["decision_id"]]
    assert caller.get(f"/v1/records/{theirs['decision_id']}").status_code == 404
    assert caller.get("/v1/execution/stats").status_code == 403  # counts over every caller's decisions


def test_operators_retry_and_cancel_dead_letters(service: Live, receiver: Receiver) -> None:
    publish_with_bindings(service, BINDINGS.format(url=receiver.url))
    receiver.fail_rate = 1.0
    caller = service.client("caller")
    for _ in range(3):
        caller.post("/v1/decisions/loan-approval/evaluate",
                    json={"inputs": APPROVE, "callback_url": f"{receiver.url}/callback"})
    work(service.engine, config_for(), settled(service.engine))
    receiver.fail_rate = 0.0
    dead = service.client("reviewer").get("/v1/execution/dead-letters", params={"workflow": "approved"}).json()
    assert len(dead) == 3 and all("answered 500" in d["last_error"] for d in dead)
    assert service.client("reviewer").post(f"/v1/execution/runs/{dead[0]['id']}/retry").status_code == 403
    admin = service.client("admin")
    retried = admin.post(f"/v1/execution/runs/{dead[0]['id']}/retry")
    assert retried.status_code == 200 and retried.json()["state"] == "ready"
    assert admin.post(f"/v1/execution/runs/{dead[0]['id']}/retry").status_code == 409
    bulk = admin.post("/v1/execution/dead-letters/cancel", json={"workflow": "approved", "error": "500"})
    assert bulk.status_code == 200 and bulk.json() == {"count": 2}
    work(service.engine, config_for(), settled(service.engine))
    assert receiver.processed_count("/callback") == 1
    states = sorted(r["state"] for r in admin.get("/v1/execution/runs").json())
    assert states == ["cancelled", "cancelled", "done"]


def test_stats_and_prometheus_metrics(service: Live, receiver: Receiver) -> None:
    publish_with_bindings(service, BINDINGS.format(url=receiver.url))
    caller = service.client("caller")
    for inputs in (APPROVE, APPROVE, REFER):
        caller.post("/v1/decisions/loan-approval/evaluate",
                    json={"inputs": inputs, "callback_url": f"{receiver.url}/callback"})
    before = service.client("reviewer").get("/v1/execution/stats").json()
    assert before["queue_depth"] == 3 and before["oldest_due_age_seconds"] >= 0
    work(service.engine, config_for(), settled(service.engine))
    stats = service.client("reviewer").get("/v1/execution/stats").json()
    assert stats["queue_depth"] == 0
    assert stats["workflows"]["approved"]["runs"] == {"done": 2}
    assert stats["workflows"]["referred"]["runs"] == {"waiting": 1}
    approve_step = stats["workflows"]["approved"]["steps"]["approve-1"]
    assert approve_step["attempts"] == {"ok": 2} and approve_step["latency_ms"]["count"] == 2
    assert stats["review_tasks"] == {"underwriting": {"open": 1}}
    metrics = service.client("reviewer").get("/metrics")
    assert metrics.status_code == 200 and metrics.headers["content-type"].startswith("text/plain")
    text = metrics.text
    assert 'decisionary_workflow_runs{state="done",workflow="approved"} 2.0' in text
    assert 'decisionary_step_attempts_total{outcome="ok",step="approve-1",workflow="approved"} 2.0' in text
    assert "decisionary_workflow_queue_depth 0.0" in text
    assert 'decisionary_review_tasks{queue="underwriting",state="open"} 1.0' in text
    assert service.client().get("/metrics").status_code == 401


def test_review_tasks_page_by_filters(service: Live, receiver: Receiver) -> None:
    publish_with_bindings(service, BINDINGS.format(url=receiver.url))
    caller = service.client("caller")
    decisions = [caller.post("/v1/decisions/loan-approval/evaluate",
                             json={"inputs": {**REFER, "Requested Amount": 45000 + i}}).json()["decision_id"]
                 for i in range(3)]
    work(service.engine, config_for(), settled(service.engine))
    reviewer = service.client("reviewer")
    first = reviewer.get("/v1/reviews", params={"limit": 2}).json()
    assert len(first["tasks"]) == 2 and first["next_cursor"]
    second = reviewer.get("/v1/reviews", params={"limit": 2, "cursor": first["next_cursor"]}).json()
    assert len(second["tasks"]) == 1 and second["next_cursor"] is None
    tasks = first["tasks"] + second["tasks"]
    assert sorted(t["decision_id"] for t in tasks) == sorted(decisions)  # oldest first, each once
    assert reviewer.post(f"/v1/reviews/{tasks[1]['id']}/claim").status_code == 200
    claimed = reviewer.get("/v1/reviews", params={"claimed_by": "reviewer-person"}).json()["tasks"]
    assert [t["id"] for t in claimed] == [tasks[1]["id"]]
    assert [t["id"] for t in reviewer.get("/v1/reviews", params={"state": "claimed"}).json()["tasks"]] == \
        [tasks[1]["id"]]
    assert len(reviewer.get("/v1/reviews", params={"key": "loan-approval"}).json()["tasks"]) == 3
    assert reviewer.get("/v1/reviews", params={"key": "other"}).json()["tasks"] == []
    assert reviewer.get("/v1/reviews", params={"end": "2000-01-01"}).json()["tasks"] == []
    foreign = reviewer.get("/v1/reviews", params={"limit": 2, "state": "all", "cursor": first["next_cursor"]})
    assert foreign.status_code == 422 and foreign.json()["errors"][0]["parameter"] == "cursor"
    # The CLI reads the pages of the same route.
    listed = CliRunner().invoke(cli, ["reviews", "list", "--url", service.url, "--api-key", service.keys["reviewer"],
                                      "--json"])
    assert listed.exit_code == 0, listed.output
    assert sorted(t["id"] for t in json.loads(listed.output)) == sorted(t["id"] for t in tasks)
