"""evaluate-batch and evaluate-csv: row by row (a bad row gets its own problem, the others are
decided), idempotent under an Idempotency-Key, and answering the body shape the README shows."""

from __future__ import annotations

import csv
import io
import json
import re
import threading
from pathlib import Path
from typing import Any

import httpx

from tests.api.conftest import Live

ROOT = Path(__file__).resolve().parents[2]
BATCH = "/v1/decisions/loan-approval/evaluate-batch"
CSV = "/v1/decisions/loan-approval/evaluate-csv"
APPLICANT = {"Applicant Age": 35, "Monthly Income": 5200, "Monthly Debt": 1100, "Credit Score": 712,
             "Employment Status": "Employed", "Requested Amount": 25000}
ROWS = {"rows": [APPLICANT, {**APPLICANT, "Credit Score": "high"}, {**APPLICANT, "Requested Amount": 45000}]}
CSV_FILE = ("Applicant Age,Monthly Income,Monthly Debt,Credit Score,Employment Status,Requested Amount\n"
            "35,5200,1100,712,Employed,45000\n35,5200,1100,lots,Employed,25000\n,1,2\n")


def readme_example(name: str) -> str:
    """The fenced block after `<!-- example: NAME -->` in the README, unindented."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    found = re.search(r"<!-- example: " + re.escape(name) + r" -->\n(\s*)```\w*\n(.*?)\n\s*```", text, re.DOTALL)
    assert found is not None, f"the README has no example {name!r}"
    indent = found.group(1)
    return "\n".join(line.removeprefix(indent) for line in found.group(2).split("\n"))


def shape(value: Any) -> Any:
    """What a body looks like: the keys of every object and the kind of every value, kept
    element by element in lists."""
    if isinstance(value, dict):
        return {key: shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [shape(item) for item in value]
    if isinstance(value, bool) or value is None:
        return type(value).__name__
    return "number" if isinstance(value, (int, float)) else type(value).__name__


def without_ids(body: dict[str, Any]) -> dict[str, Any]:
    """A batch answer without what differs between two calls of the same request (record ids)."""
    return {**body, "results": [{k: v for k, v in r.items() if k != "decision_id"} for r in body["results"]]}


def test_the_readme_shows_the_real_bodies(loan: Live) -> None:
    caller = loan.client("caller")
    request = json.loads(readme_example("evaluate-batch request"))
    shown = json.loads(readme_example("evaluate-batch answer"))
    real = caller.post(BATCH, json=request)
    assert real.status_code == 200, real.text
    assert shape(shown) == shape(real.json())
    assert without_ids(shown) == without_ids(real.json())  # the same outputs, rules and problems

    upload = readme_example("evaluate-csv request").encode()
    shown = json.loads(readme_example("evaluate-csv answer"))
    real = caller.post(CSV, files={"file": ("rows.csv", upload)})
    assert real.status_code == 200, real.text
    assert shape(shown) == shape(real.json())
    assert without_ids(shown) == without_ids(real.json())


def test_a_retried_batch_answers_its_first_answer_and_records_nothing(loan: Live) -> None:
    caller = loan.client("caller")
    before = loan.count_records()
    first = caller.post(BATCH, json=ROWS, headers={"Idempotency-Key": "batch-1"})
    assert first.status_code == 200, first.text
    assert (first.json()["decided"], first.json()["failed"]) == (2, 1)
    assert loan.count_records() == before + 2
    assert "Idempotency-Replayed" not in first.headers
    again = caller.post(BATCH, json=json.loads(json.dumps(ROWS, indent=1)), headers={"Idempotency-Key": "batch-1"})
    assert again.status_code == 200 and again.headers["Idempotency-Replayed"] == "true"
    assert again.json() == first.json()
    assert loan.count_records() == before + 2
    # The same key for another request is a client bug: refused, whichever route used it first.
    other = caller.post(BATCH, json={"rows": [APPLICANT]}, headers={"Idempotency-Key": "batch-1"})
    assert other.status_code == 409, other.text
    single = caller.post("/v1/decisions/loan-approval/evaluate", json={"inputs": APPLICANT},
                         headers={"Idempotency-Key": "batch-1"})
    assert single.status_code == 409, single.text
    assert caller.post("/v1/decisions/loan-approval/evaluate", json={"inputs": APPLICANT},
                       headers={"Idempotency-Key": "single-1"}).status_code == 200
    assert caller.post(BATCH, json=ROWS, headers={"Idempotency-Key": "single-1"}).status_code == 409
    assert loan.count_records() == before + 3
    # Without a key a retry is a new batch.
    assert caller.post(BATCH, json=ROWS).status_code == 200
    assert loan.count_records() == before + 5


def test_a_batch_of_refused_rows_is_idempotent_too(loan: Live) -> None:
    caller = loan.client("caller")
    before = loan.count_records()
    refused = {"rows": [{"Credit Score": "x"}]}
    first = caller.post(BATCH, json=refused, headers={"Idempotency-Key": "all-bad"})
    assert first.status_code == 200 and first.json()["failed"] == 1
    again = caller.post(BATCH, json=refused, headers={"Idempotency-Key": "all-bad"})
    assert again.json() == first.json() and again.headers["Idempotency-Replayed"] == "true"
    assert caller.post(BATCH, json=ROWS, headers={"Idempotency-Key": "all-bad"}).status_code == 409
    assert loan.count_records() == before


def test_a_retried_csv_answers_its_first_answer_in_either_form(loan: Live) -> None:
    caller = loan.client("caller")
    before = loan.count_records()
    upload = {"file": ("rows.csv", CSV_FILE.encode())}
    first = caller.post(CSV, files=upload, headers={"Idempotency-Key": "csv-1"})
    assert first.status_code == 200, first.text
    body = first.json()
    assert [("error" in r) for r in body["results"]] == [False, True, True]
    assert body["results"][2]["error"]["errors"][0]["pointer"] == "/rows/2"  # too few cells
    assert loan.count_records() == before + 1
    again = caller.post(CSV, files=upload, headers={"Idempotency-Key": "csv-1"})
    assert again.json() == body and again.headers["Idempotency-Replayed"] == "true"
    as_csv = caller.post(CSV, files=upload, headers={"Idempotency-Key": "csv-1", "Accept": "text/csv"})
    assert as_csv.status_code == 200 and as_csv.headers["Idempotency-Replayed"] == "true"
    table = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert [row["decision_id"] for row in table] == [body["results"][0]["decision_id"], "", ""]
    assert table[0]["Decision"] == "Refer" and "lots" in table[1]["problems"]
    other = caller.post(CSV, files={"file": ("rows.csv", CSV_FILE.replace("45000", "45001").encode())},
                        headers={"Idempotency-Key": "csv-1"})
    assert other.status_code == 409
    assert loan.count_records() == before + 1


def test_concurrent_retries_of_one_batch_record_it_once(loan: Live) -> None:
    before = loan.count_records()
    answers: list[httpx.Response] = []
    lock = threading.Lock()

    def call() -> None:
        with httpx.Client(base_url=loan.url, headers={"Authorization": f"Bearer {loan.keys['caller']}"},
                          timeout=60) as client:
            response = client.post(BATCH, json=ROWS, headers={"Idempotency-Key": "raced"})
        with lock:
            answers.append(response)

    threads = [threading.Thread(target=call) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(90)
    assert [a.status_code for a in answers] == [200] * 4, [a.text for a in answers]
    assert all(a.json() == answers[0].json() for a in answers)
    assert sum(a.headers.get("Idempotency-Replayed") == "true" for a in answers) == 3
    assert loan.count_records() == before + 2
