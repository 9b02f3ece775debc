"""POST /v1/decisions/{key}/explain through a real server (both databases): why each rule fired or
not, on the version that would answer; bad requests point at the field; nothing is recorded."""

from __future__ import annotations

import json

from tests.api.conftest import LOAN_INPUT, Live

EXPLAIN = "/v1/decisions/loan-approval/explain"


def test_why_a_rule_did_not_fire(loan: Live) -> None:
    inputs = json.loads(LOAN_INPUT.read_text())
    records = loan.count_records()
    client = loan.client("reviewer")
    answer = client.post(EXPLAIN, json={"inputs": inputs, "decision": "Risk Category", "rule": 1})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["key"], body["version"], body["decision"]) == ("loan-approval", 1, "Risk Category")
    [rule] = body["rules"]
    assert rule["rule"] == 1 and not rule["matched"] and not rule["fired"]
    assert rule["failed"] and all(not cell["satisfied"] for cell in rule["failed"])

    every = loan.client("author").post(EXPLAIN, json={"inputs": inputs, "decision": "Risk Category"}).json()
    evaluated = loan.client("caller").post("/v1/decisions/loan-approval/evaluate", json={"inputs": inputs}).json()
    assert [r["rule"] for r in every["rules"] if r["fired"]] == evaluated["fired"]["Risk Category"]
    assert loan.count_records() == records + 1  # the evaluate call only: explaining records nothing

    traced = loan.client("caller").post("/v1/decisions/loan-approval/evaluate?alias=production",
                                        json={"inputs": inputs, "trace": "explain"}).json()
    step = next(s for s in traced["trace"] if s["decision"] == "Risk Category")
    assert step["rules"] == every["rules"]


def test_bad_explanations_point_at_the_field(loan: Live) -> None:
    client = loan.client("caller")
    for body, pointer in [({"inputs": {}, "decision": "Horoscope"}, "/decision"),
                          ({"inputs": {}, "decision": "Debt To Income"}, "/decision"),
                          ({"inputs": {}, "decision": "Risk Category", "rule": 99}, "/rule"),
                          ({"inputs": {"Credit Score": "high"}, "decision": "Risk Category"}, "/inputs/Credit Score"),
                          ({"inputs": {}, "decision": "Risk Category", "rule": 0}, "/rule")]:
        answer = client.post(EXPLAIN, json=body)
        assert answer.status_code == 422, answer.text
        assert answer.json()["errors"][0]["pointer"] == pointer, answer.text
    assert loan.client("viewer").post(EXPLAIN, json={"inputs": {}, "decision": "Risk Category"}).status_code == 403
