"""Reason codes through a real server (both databases): a scoring decision's answer lists what
moved its score, as the engine computes them; the record keeps them, under its hash."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import decisions
from registry.chain import verify
from tests.api.conftest import Live

SCORE = Path(__file__).parents[2] / "examples" / "loan-score.yaml"
APPLICANT: dict[str, Any] = {"Applicant Age": 19, "Monthly Income": 2500, "Monthly Debt": 800,
                             "Credit Score": 640, "Requested Amount": 30000}


def _expected(inputs: dict[str, Any]) -> Any:
    return decisions.load(SCORE.read_bytes(), format="yaml").evaluate(inputs).to_json()["reasons"]


def test_the_answer_and_the_record_carry_the_reason_codes(live: Live) -> None:
    live.publish("loan-score", SCORE.read_bytes(), SCORE.name)
    caller = live.client("caller")
    answer = caller.post("/v1/decisions/loan-score/evaluate", json={"inputs": APPLICANT})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    expected = _expected(APPLICANT)
    assert list(expected) == ["Score"] and len(expected["Score"]) == 3  # the model lists 3
    assert body["reasons"] == expected
    assert body["reasons"]["Score"][0]["input"] in APPLICANT

    record = live.client("reviewer").get(f"/v1/records/{body['decision_id']}").json()
    assert record["reasons"] == expected

    other = dict(APPLICANT, **{"Credit Score": 800, "Applicant Age": 45})
    rows = caller.post("/v1/decisions/loan-score/evaluate-batch",
                       json={"rows": [APPLICANT, other]})
    assert rows.status_code == 200, rows.text
    assert [row["reasons"] for row in rows.json()["results"]] == [expected, _expected(other)]

    schemas = live.client("reviewer").get("/openapi.json").json()["components"]["schemas"]
    typed = schemas["LoanScoreEvaluateResponse"]  # the decision's own typed answer
    assert typed["properties"]["reasons"]["anyOf"][0]["additionalProperties"]["items"] == {
        "$ref": "#/components/schemas/ReasonOut"}


def test_a_changed_reason_code_breaks_the_records_hash(live: Live) -> None:
    live.publish("loan-score", SCORE.read_bytes(), SCORE.name)
    answer = live.client("caller").post("/v1/decisions/loan-score/evaluate", json={"inputs": APPLICANT}).json()
    assert verify(live.engine).ok
    with live.engine.begin() as connection:
        stored = connection.exec_driver_sql("SELECT reasons FROM decision_records WHERE id = ?" if
                                            live.database_url.startswith("sqlite") else
                                            "SELECT reasons FROM decision_records WHERE id = %s",
                                            (answer["decision_id"],)).scalar_one()
        assert stored is not None
        edited = '{"Score": []}'
        connection.exec_driver_sql("UPDATE decision_records SET reasons = ? WHERE id = ?" if
                                   live.database_url.startswith("sqlite") else
                                   "UPDATE decision_records SET reasons = %s WHERE id = %s",
                                   (edited, answer["decision_id"]))
    broken = verify(live.engine).first_broken
    assert broken is not None and broken.record_id == answer["decision_id"]


def test_a_decision_without_scores_answers_without_reasons(live: Live) -> None:
    live.publish("loan-score", SCORE.read_bytes(), SCORE.name)
    body = live.client("caller").post("/v1/decisions/loan-score/evaluate",
                                      json={"inputs": {}}).json()  # no inputs: a null score, no reasons
    assert "reasons" not in body
    assert verify(live.engine).ok
