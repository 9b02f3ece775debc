"""Outcomes through the service: one by one and as files, figures as of a time unchanged by late
or repeated outcomes, and every kind of bad input answered with a problem and nothing stored."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import sqlalchemy as sa

from audit.outcomes import outcomes_for
from tests.api.conftest import LOAN_INPUT, Live


def _decide(loan: Live, **changes: Any) -> str:
    import json

    inputs = {**json.loads(LOAN_INPUT.read_text()), **changes}
    response = loan.client("caller").post("/v1/decisions/loan-approval/evaluate", json={"inputs": inputs})
    assert response.status_code == 200, response.text
    return str(response.json()["decision_id"])


def _outcomes(loan: Live) -> int:
    with loan.engine.connect() as connection:
        return int(connection.execute(sa.text("SELECT count(*) FROM outcomes")).scalar_one())


def test_an_outcome_is_recorded_once_and_a_later_one_beside_it(loan: Live) -> None:
    decision = _decide(loan)
    caller = loan.client("caller")
    first = caller.post(f"/v1/decisions/{decision}/outcome", json={"labels": ["defaulted"], "values": {"loss": 1200}})
    assert first.status_code == 201, first.text
    assert first.json()["decision_id"] == decision and first.json()["repeated"] is False
    known_at = datetime.now(UTC).isoformat()
    second = caller.post(f"/v1/decisions/{decision}/outcome", json={"labels": {"defaulted": False},
                                                                  "known_at": known_at})
    again = caller.post(f"/v1/decisions/{decision}/outcome", json={"labels": {"defaulted": False},
                                                                 "known_at": known_at})
    assert second.status_code == 201 and again.status_code == 200 and again.json()["repeated"] is True
    assert again.json()["outcome_id"] == second.json()["outcome_id"]
    assert _outcomes(loan) == 2
    before = outcomes_for(loan.engine, "loan-approval", as_of=datetime.fromisoformat(known_at) - timedelta(
        microseconds=1))
    now = outcomes_for(loan.engine, "loan-approval")
    assert before.set_index("decision_id").loc[decision, "label:defaulted"] == True  # noqa: E712
    assert now.set_index("decision_id").loc[decision, "label:defaulted"] == False  # noqa: E712


def test_bad_outcomes_get_problems_and_nothing_is_stored(loan: Live) -> None:
    decision = _decide(loan)
    caller = loan.client("caller")
    unknown = caller.post("/v1/decisions/01NOSUCHDECISION000000000/outcome", json={"labels": ["defaulted"]})
    assert unknown.status_code == 404 and "no decision" in unknown.json()["detail"]
    assert unknown.headers["content-type"].startswith("application/problem+json")
    future = (datetime.now(UTC) + timedelta(days=3)).isoformat()
    for body, status, text in (({"labels": ["defaulted"], "known_at": future}, 422, "future"),
                               ({}, 422, "at least one"),
                               ({"values": {"loss": "a lot"}}, 422, ""),
                               ({"labels": {"defaulted": "maybe"}}, 422, ""),
                               ({"labels": ["x"], "extra": 1}, 422, "")):
        answer = caller.post(f"/v1/decisions/{decision}/outcome", json=body)
        assert answer.status_code == status, (body, answer.text)
        assert text in answer.json()["detail"] or answer.json().get("errors"), answer.text
    assert loan.client("viewer").post(f"/v1/decisions/{decision}/outcome",
                                      json={"labels": ["defaulted"]}).status_code == 403
    assert _outcomes(loan) == 0


def test_a_file_of_outcomes_is_written_whole_or_not_at_all(loan: Live) -> None:
    decisions = [_decide(loan, **{"Credit Score": 700 + i}) for i in range(3)]
    reviewer = loan.client("reviewer")
    good = "decision_id,known_at,label:defaulted,value:loss\n" + "\n".join(
        f"{d},,{'true' if i == 0 else 'false'},{1200 if i == 0 else 0}" for i, d in enumerate(decisions))
    answer = reviewer.post("/v1/models/loan-approval/outcomes", files={"file": ("o.csv", good, "text/csv")})
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"rows": 3, "added": 3, "repeated": 0, "decisions": 3}

    bad = good.replace(f"{decisions[1]},,false", f"{decisions[1]},yesterday,false") + "\n01NOSUCH,,true,5\n"
    refused = reviewer.post("/v1/models/loan-approval/outcomes", files={"file": ("late.csv", bad, "text/csv")})
    assert refused.status_code == 422, refused.text
    messages = [e["message"] for e in refused.json()["errors"]]
    assert any("late.csv row 3, column known_at" in m and "yesterday" in m for m in messages), messages
    assert any("late.csv row 5" in m and "01NOSUCH" in m for m in messages), messages
    assert _outcomes(loan) == 3  # nothing of the refused file was written

    table = pa.table({"decision_id": decisions, "label:defaulted": [True, False, False]})
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    parquet = reviewer.post("/v1/models/loan-approval/outcomes",
                            files={"file": ("o.parquet", buffer.getvalue(), "application/octet-stream")})
    assert parquet.status_code == 200 and parquet.json()["added"] == 3  # known now: new outcomes

    broken = reviewer.post("/v1/models/loan-approval/outcomes",
                           files={"file": ("o.parquet", buffer.getvalue()[:-40], "application/octet-stream")})
    assert broken.status_code == 422 and "o.parquet" in broken.json()["detail"]
    assert "not a readable parquet file" in broken.json()["detail"]
    assert _outcomes(loan) == 6


KEYED_MODEL = """\
model: keyed
namespace: https://decisionary.dev/tests/keyed
business key: Application Id
inputs:
  Application Id: string
  Score: number
decisions:
  Decision:
    requires: [Score]
    table:
      hit policy: FIRST
      inputs: [Score]
      outputs: [Decision]
      rules:
        - ["< 600", '"Reject"']
        - ["-", '"Approve"']
"""


def test_records_carry_rule_ids_and_the_business_key_that_outcomes_find(live: Live) -> None:
    live.publish("keyed", KEYED_MODEL, "keyed.yaml")
    caller = live.client("caller")
    answers = [caller.post("/v1/decisions/keyed/evaluate",
                           json={"inputs": {"Application Id": f"APP-{i}", "Score": 550 + 100 * i}}).json()
               for i in range(2)]
    with live.engine.connect() as connection:
        stored = {row.id: row for row in connection.execute(sa.text(
            "SELECT id, business_key, fired_ids FROM decision_records"))}
    for i, answer in enumerate(answers):
        row = stored[answer["decision_id"]]
        assert row.business_key == f"APP-{i}"
        assert "Decision" in str(row.fired_ids) and "h" in str(row.fired_ids)
    text = "Application Id,label:defaulted\nAPP-0,false\nAPP-1,true\n"
    uploaded = live.client("reviewer").post("/v1/models/keyed/outcomes", data={"business_key_column": "Application Id"},
                                            files={"file": ("o.csv", text, "text/csv")})
    assert uploaded.status_code == 200 and uploaded.json()["added"] == 2, uploaded.text
    table = outcomes_for(live.engine, "keyed").set_index("decision_id")
    assert bool(table.loc[answers[1]["decision_id"], "label:defaulted"]) is True
