"""Evaluation over HTTP: answers equal the engine's, records are written first, idempotency,
version selection, batches (JSON and CSV), and the 503 when the record cannot be written."""

from __future__ import annotations

import csv
import io
import json
import logging
from decimal import Decimal
from typing import Any

import pytest

import decisions
from api.jsonio import to_api_json
from tests.api.conftest import LOAN_DMN, LOAN_INPUT, SHIPPING_YAML, Live

LOAN_MODEL = decisions.load(LOAN_DMN)


def expected(model: Any, inputs: dict[str, Any]) -> dict[str, Any]:
    """What the engine itself answers, in the service's JSON form."""
    result = model.evaluate(json.loads(json.dumps(inputs), parse_float=Decimal))
    return {"outputs": to_api_json(result.outputs), "fired": {k: list(v) for k, v in result.fired.items()}}


def applicant(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(LOAN_INPUT.read_text())
    data.update(changes)
    return data


def test_evaluate_answers_what_the_engine_answers_and_records_it(loan: Live) -> None:
    inputs = applicant()
    response = loan.client("caller").post("/v1/decisions/loan-approval/evaluate", json={"inputs": inputs})
    assert response.status_code == 200, response.text
    body = response.json()
    want = expected(LOAN_MODEL, inputs)
    assert body["outputs"] == want["outputs"]
    assert body["fired"] == want["fired"]
    assert (body["key"], body["version"], body["alias"]) == ("loan-approval", 1, "production")
    version = loan.client("viewer").get("/v1/models/loan-approval/versions/1").json()
    assert body["hash"] == version["content_hash"]

    record = loan.client("reviewer").get(f"/v1/records/{body['decision_id']}")
    assert record.status_code == 200
    stored = record.json()
    assert stored["outputs"] == body["outputs"]
    assert stored["inputs"] == inputs
    assert stored["version"] == 1 and stored["content_hash"] == body["hash"]
    assert stored["caller"] == loan.client("caller").get("/v1/whoami").json()["key_id"]


def test_each_applicant_gets_the_engines_answer(loan: Live) -> None:
    client = loan.client("caller")
    for changes in ({"Credit Score": 580}, {"Applicant Age": 17}, {"Monthly Income": 0},
                    {"Employment Status": "Unemployed", "Requested Amount": 90000}):
        inputs = applicant(**changes)
        body = client.post("/v1/decisions/loan-approval/evaluate", json={"inputs": inputs}).json()
        assert body["outputs"] == expected(LOAN_MODEL, inputs)["outputs"], changes


def test_decimal_inputs_keep_their_digits(live: Live) -> None:
    live.publish("shipping", SHIPPING_YAML, "shipping.yaml")
    # As a binary float 1.0000000000000000001 would be 1, and rule 1 ("<= 1") would fire.
    raw = b'{"inputs": {"Weight": 1.0000000000000000001, "Speed": "standard", "Ship Date": "2024-05-31"}}'
    response = live.client("caller").post("/v1/decisions/shipping/evaluate", content=raw,
                                          headers={"Content-Type": "application/json"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["fired"]["Fee"] == [3]
    assert body["outputs"]["Fee"] == 4.0  # 4.0000000000000000004 as a JSON number
    assert body["outputs"]["Arrival"] == "2024-06-03"  # the ISO date string became a FEEL date


def test_only_the_requested_decisions_are_answered(loan: Live) -> None:
    body = loan.client("caller").post("/v1/decisions/loan-approval/evaluate",
                                      json={"inputs": applicant(), "decisions": ["Risk Category"]}).json()
    assert list(body["outputs"]) == ["Risk Category"]
    assert body["outputs"]["Risk Category"] == expected(LOAN_MODEL, applicant())["outputs"]["Risk Category"]


def test_trace_is_included_when_asked(loan: Live) -> None:
    body = loan.client("caller").post("/v1/decisions/loan-approval/evaluate",
                                      json={"inputs": applicant(), "trace": True}).json()
    assert [step["decision"] for step in body["trace"]] == LOAN_MODEL.decision_names


def test_version_and_alias_select_the_answering_version(live: Live) -> None:
    first = live.publish("shipping", SHIPPING_YAML, "shipping.yaml")
    changed = SHIPPING_YAML.replace("Weight * 4", "Weight * 6")
    second = live.publish("shipping", changed, "shipping.yaml", alias="staging")
    client = live.client("caller")
    inputs = {"inputs": {"Weight": 3, "Speed": "standard"}}

    default = client.post("/v1/decisions/shipping/evaluate", json=inputs).json()
    assert (default["version"], default["alias"], default["outputs"]["Fee"]) == (first, "production", 12)
    staged = client.post("/v1/decisions/shipping/evaluate?alias=staging", json=inputs).json()
    assert (staged["version"], staged["alias"], staged["outputs"]["Fee"]) == (second, "staging", 18)
    by_header = client.post("/v1/decisions/shipping/evaluate", json=inputs,
                            headers={"X-Decision-Version": str(second)}).json()
    assert (by_header["version"], by_header["outputs"]["Fee"]) == (second, 18)

    both = client.post(f"/v1/decisions/shipping/evaluate?alias=staging&version={second}", json=inputs)
    assert both.status_code == 400
    missing = client.post("/v1/decisions/shipping/evaluate?alias=nowhere", json=inputs)
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("application/problem+json")


def test_idempotency_key_replays_the_first_answer_and_refuses_another_body(loan: Live) -> None:
    client = loan.client("caller")
    headers = {"Idempotency-Key": "order-42"}
    first = client.post("/v1/decisions/loan-approval/evaluate", json={"inputs": applicant()}, headers=headers)
    records = loan.count_records()
    again = client.post("/v1/decisions/loan-approval/evaluate", json={"inputs": applicant()}, headers=headers)
    assert again.status_code == 200
    assert again.json() == first.json()
    assert again.headers.get("Idempotency-Replayed") == "true"
    assert "Idempotency-Replayed" not in first.headers
    assert loan.count_records() == records

    other = client.post("/v1/decisions/loan-approval/evaluate", json={"inputs": applicant(**{"Credit Score": 600})},
                        headers=headers)
    assert other.status_code == 409
    assert other.json()["status"] == 409
    assert loan.count_records() == records

    # The key belongs to its caller: another caller's same key is a new request.
    admin = loan.client("admin").post("/v1/decisions/loan-approval/evaluate", json={"inputs": applicant()},
                                      headers=headers)
    assert admin.status_code == 200
    assert admin.json()["decision_id"] != first.json()["decision_id"]


def test_a_record_that_cannot_be_written_fails_the_call(loan: Live) -> None:
    with loan.records_table_missing():
        response = loan.client("caller").post("/v1/decisions/loan-approval/evaluate", json={"inputs": applicant()})
    assert response.status_code == 503
    problem = response.json()
    assert problem["type"].endswith("/record-not-written")
    assert "outputs" not in problem


def test_json_batch_answers_each_row_and_records_each(loan: Live) -> None:
    rows = [applicant(), applicant(**{"Credit Score": 590}), applicant(**{"Applicant Age": 16})]
    before = loan.count_records()
    response = loan.client("caller").post("/v1/decisions/loan-approval/evaluate-batch", json={"rows": rows})
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert [r["outputs"] for r in results] == [expected(LOAN_MODEL, row)["outputs"] for row in rows]
    assert len({r["decision_id"] for r in results}) == 3
    assert loan.count_records() == before + 3


def test_a_bad_row_gets_its_own_problem_and_the_good_rows_are_decided(loan: Live) -> None:
    rows = [applicant(), applicant(**{"Credit Score": "high"}), applicant(**{"Requested Amount": 45000})]
    before = loan.count_records()
    response = loan.client("caller").post("/v1/decisions/loan-approval/evaluate-batch", json={"rows": rows})
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["decided"], body["failed"]) == (2, 1)
    good, bad, refer = body["results"]
    assert [good["row"], bad["row"], refer["row"]] == [0, 1, 2]
    assert good["outputs"] == expected(LOAN_MODEL, rows[0])["outputs"]
    assert refer["outputs"] == expected(LOAN_MODEL, rows[2])["outputs"]
    assert set(bad) == {"row", "error"} and bad["error"]["status"] == 422
    assert bad["error"]["errors"] == [{"pointer": "/rows/1/Credit Score",
                                       "message": "expected a number, got a string"}]
    assert loan.count_records() == before + 2
    # Every row refused: still one answer per row (the request itself was fine), nothing recorded.
    refused = loan.client("caller").post("/v1/decisions/loan-approval/evaluate-batch",
                                         json={"rows": [{"Credit Score": "x"}, 5]})
    assert refused.status_code == 200, refused.text
    assert [r["error"]["errors"][0]["pointer"] for r in refused.json()["results"]] == \
        ["/rows/0/Credit Score", "/rows/1"]
    assert loan.count_records() == before + 2
    # What no row can be decided with is the request's fault: 422.
    unknown = loan.client("caller").post("/v1/decisions/loan-approval/evaluate-batch",
                                         json={"rows": rows, "decisions": ["Decision", "Nope"]})
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["pointer"] == "/decisions/1"
    assert loan.count_records() == before + 2


def _csv(rows: list[dict[str, Any]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode()


def test_csv_batch_answers_json_or_csv(loan: Live) -> None:
    rows = [applicant(), applicant(**{"Credit Score": 600, "Employment Status": "Retired"})]
    client = loan.client("caller")
    as_json = client.post("/v1/decisions/loan-approval/evaluate-csv", files={"file": ("rows.csv", _csv(rows))})
    assert as_json.status_code == 200, as_json.text
    assert [r["outputs"] for r in as_json.json()["results"]] == [expected(LOAN_MODEL, r)["outputs"] for r in rows]

    as_csv = client.post("/v1/decisions/loan-approval/evaluate-csv", files={"file": ("rows.csv", _csv(rows))},
                         headers={"Accept": "text/csv"})
    assert as_csv.status_code == 200
    assert as_csv.headers["content-type"].startswith("text/csv")
    table = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert [row["Decision"] for row in table] == [expected(LOAN_MODEL, r)["outputs"]["Decision"] for row, r in
                                                  zip(table, rows, strict=True)]
    assert all(row["decision_id"] for row in table)


def test_csv_cells_are_checked_against_their_types(loan: Live) -> None:
    rows = [applicant(), applicant(**{"Credit Score": "lots"})]
    before = loan.count_records()
    response = loan.client("caller").post("/v1/decisions/loan-approval/evaluate-csv",
                                          files={"file": ("rows.csv", _csv(rows))})
    assert response.status_code == 200, response.text
    good, bad = response.json()["results"]
    assert good["outputs"] == expected(LOAN_MODEL, rows[0])["outputs"] and "error" not in good
    error = bad["error"]["errors"][0]
    assert error["pointer"] == "/rows/1/Credit Score"
    assert "line 3" in error["message"] and "line 3" in bad["error"]["detail"]
    assert loan.count_records() == before + 1
    as_csv = loan.client("caller").post("/v1/decisions/loan-approval/evaluate-csv", headers={"Accept": "text/csv"},
                                        files={"file": ("rows.csv", _csv(rows))})
    table = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert table[0]["decision_id"] and table[0]["Decision"] == good["outputs"]["Decision"]
    assert table[1]["decision_id"] == "" and table[1]["Decision"] == "" and "line 3" in table[1]["problems"]

    unknown = loan.client("caller").post("/v1/decisions/loan-approval/evaluate-csv",
                                         files={"file": ("rows.csv", b"Salary\n100\n")})
    assert unknown.status_code == 422
    assert "Salary" in unknown.json()["errors"][0]["message"]


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


ECHO_YAML = """\
model: echo
namespace: https://decisionary.dev/tests/echo
inputs:
  Note: string
  Amount: number
decisions:
  Echo:
    type: string
    requires: [Note]
    expression: Note
  Change:
    type: number
    requires: [Amount]
    expression: 0 - Amount
"""


def test_csv_answers_escape_cells_a_spreadsheet_would_run_as_formulas(live: Live) -> None:
    # OWASP CSV injection: a text cell that begins with = + - @ tab or carriage return is
    # prefixed with a single quote, so a spreadsheet shows it as text instead of running it.
    live.publish("echo", ECHO_YAML, "echo.yaml")
    hostile = ["=HYPERLINK(\"http://evil.example\",\"x\")", "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)",
               "\t=1+1", "\r=1+1"]
    rows = [{"Note": text, "Amount": 5} for text in hostile]
    answer = live.client("caller").post("/v1/decisions/echo/evaluate-csv", headers={"Accept": "text/csv"},
                                        files={"file": ("rows.csv", _csv(rows))})
    assert answer.status_code == 200, answer.text
    table = list(csv.reader(io.StringIO(answer.text, newline="")))
    header = table[0]
    for column in ("Note", "Echo"):
        assert [row[header.index(column)] for row in table[1:]] == ["'" + text for text in hostile]
    change = header.index("Change")
    assert [row[change] for row in table[1:]] == ["-5"] * len(hostile)  # a number is never a formula
    assert not [cell for row in table for i, cell in enumerate(row) if i != change and cell.startswith(FORMULA_STARTS)]


def test_a_problem_lists_a_bounded_number_of_faults_and_says_how_many_it_left_out(loan: Live) -> None:
    header = ",".join(f"Unknown {n}" for n in range(100_000))
    answer = loan.client("caller").post("/v1/decisions/loan-approval/evaluate-csv",
                                        files={"file": ("rows.csv", (header + "\n" + "1," * 99_999 + "1\n").encode())})
    assert answer.status_code == 422
    assert len(answer.content) < 100_000
    body = answer.json()
    assert len(body["errors"]) == 100 and body["errors_left_out"] == 99_900
    assert "99,900 more" in body["detail"]
    assert "'Unknown 0'" in body["errors"][0]["message"]


def test_describe_shows_the_answering_version_and_its_schemas(loan: Live) -> None:
    body = loan.client("caller").get("/v1/decisions/loan-approval").json()
    assert body["version"] == 1 and body["via"] == "alias"
    assert [i["name"] for i in body["inputs"]] == LOAN_MODEL.input_names
    status = body["input_schema"]["properties"]["Employment Status"]
    assert status["anyOf"][0]["enum"] == ["Employed", "Self-employed", "Unemployed", "Retired"]


def test_logs_hold_no_keys_and_no_inputs(loan: Live, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    client = loan.client("caller")
    marker = "712.918273645"
    inputs = applicant(**{"Credit Score": Decimal(marker)})
    body = json.dumps({"inputs": inputs}, default=str).replace(f'"{marker}"', marker)
    ok = client.post("/v1/decisions/loan-approval/evaluate", content=body, headers={"Content-Type": "application/json"})
    assert ok.status_code == 200
    bad = client.post("/v1/decisions/loan-approval/evaluate", json={"inputs": {"Secret Name 9x": 1}})
    assert bad.status_code == 422
    assert loan.client(secret="dcy_marker-secret-never-logged").get("/v1/whoami").status_code == 401
    with loan.records_table_missing():
        assert client.post("/v1/decisions/loan-approval/evaluate", content=body,
                           headers={"Content-Type": "application/json"}).status_code == 503
    assert "decision record" in caplog.text  # the failure was logged ...
    for secret in (marker, "Secret Name 9x", "dcy_marker-secret-never-logged", *loan.keys.values()):
        assert secret not in caplog.text  # ... without inputs or keys
