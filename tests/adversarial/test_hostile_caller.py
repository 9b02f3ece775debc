"""A hostile caller: numbers no FEEL number can be, CSV files that are all header or too many at
once, formula cells, other callers' decisions, the API description without a key, and a key
used the moment it is revoked. Each attack gets its deliberate answer while /healthz keeps
answering within a second (conftest.while_healthy)."""

from __future__ import annotations

import csv
import io
import json

import httpx

from execution.receiver import Receiver
from tests.adversarial.conftest import parallel, problem_of, while_healthy
from tests.api.conftest import LOAN_INPUT, SHIPPING_YAML, Live
from tests.execution.conftest import APPROVE, REFER, config_for, publish_with_bindings, settled, work

EVALUATE = "/v1/decisions/loan-approval/evaluate"
EVALUATE_CSV = "/v1/decisions/loan-approval/evaluate-csv"
APPLICANT = json.loads(LOAN_INPUT.read_text())


def _raw_inputs_with(number: bytes) -> bytes:
    """The example applicant with `number` written verbatim as its Monthly Income."""
    text = json.dumps({"inputs": {**APPLICANT, "Monthly Income": 0}}).encode()
    return text.replace(b'"Monthly Income": 0', b'"Monthly Income": ' + number)


def _loan_csv(rows: int) -> bytes:
    names = list(APPLICANT)
    lines = [",".join(names)]
    lines += [",".join(str(20 + i % 50 if n == "Applicant Age" else APPLICANT[n]) for n in names) for i in range(rows)]
    return ("\n".join(lines) + "\n").encode()


def test_a_number_with_a_billion_digit_exponent_in_json(loan: Live) -> None:
    client = loan.client("caller")
    for number in (b"1e999999999", b"1e99999999", b"-1e999999999"):
        response = while_healthy(loan, lambda n=number: client.post(  # type: ignore[misc]
            EVALUATE, content=_raw_inputs_with(n), headers={"Content-Type": "application/json"}))
        body = problem_of(response, 422, max_bytes=2000)
        assert [e["pointer"] for e in body["errors"]] == ["/inputs/Monthly Income"]  # type: ignore[index, union-attr]
    assert loan.count_records() == 0  # nothing was decided, nothing 100 MB was stored


def test_a_number_with_a_huge_exponent_in_a_csv_cell(loan: Live) -> None:
    cells = "Monthly Income,Credit Score\n1e50000000,700\n5000,1e-999999999\n"
    client = loan.client("caller")
    response = while_healthy(loan, lambda: client.post(EVALUATE_CSV, files={"file": ("rows.csv", cells.encode())}))
    assert response.status_code == 200, response.text  # each row is refused on its own
    assert len(response.content) < 5000
    body = response.json()
    assert (body["decided"], body["failed"]) == (0, 2)
    assert [e["pointer"] for r in body["results"] for e in r["error"]["errors"]] == \
        ["/rows/0/Monthly Income", "/rows/1/Credit Score"]


def test_a_csv_of_100000_unknown_columns_gets_a_bounded_problem(loan: Live) -> None:
    header = ",".join(f"column {i}" for i in range(100_000))
    data = f"{header}\n" + ",".join("1" for _ in range(100_000)) + "\n"
    client = loan.client("caller")
    response = while_healthy(loan, lambda: client.post(EVALUATE_CSV, files={"file": ("wide.csv", data.encode())}))
    body = problem_of(response, 422, max_bytes=200_000)  # was an 18.7 MB answer
    errors = body["errors"]
    assert isinstance(errors, list) and 0 < len(errors) <= 100
    assert errors[0]["pointer"].startswith("/") and "column 0" in json.dumps(errors[0])
    assert "99,900" in str(body.get("detail")) or body.get("errors_left_out") == 99_900, body.get("detail")


def test_parallel_large_csv_uploads_neither_stall_nor_fail(loan: Live) -> None:
    data = _loan_csv(10_000)

    def upload() -> httpx.Response:
        client = loan.client("caller")
        client.timeout = httpx.Timeout(600)
        return client.post(EVALUATE_CSV, files={"file": ("rows.csv", data)})

    responses = while_healthy(loan, parallel(*(upload for _ in range(4))), timeout=900)
    for response in responses:  # four fit the batch gate: one runs, the others wait their turn
        assert response.status_code == 200, response.text[:500]
        assert response.json()["decided"] == 10_000
    single = loan.client("caller").post(EVALUATE, json={"inputs": APPLICANT})
    assert single.status_code == 200


def test_formula_cells_are_escaped_in_a_text_csv_answer(loan: Live) -> None:
    formulas = ["=HYPERLINK(\"http://evil.test\")", "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)"]
    names = list(APPLICANT)
    rows = [names] + [[f if n == "Employment Status" else str(APPLICANT[n]) for n in names] for f in formulas]
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    client = loan.client("caller")
    response = while_healthy(loan, lambda: client.post(
        EVALUATE_CSV, files={"file": ("rows.csv", buffer.getvalue().encode())}, headers={"Accept": "text/csv"}))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    answer = list(csv.reader(io.StringIO(response.text)))
    assert len(answer) == 1 + len(formulas)
    column = answer[0].index("Employment Status")
    assert [row[column] for row in answer[1:]] == ["'" + f for f in formulas]
    for row in answer[1:]:
        for cell in row:  # no cell a spreadsheet would run, numbers aside
            assert not cell.startswith(("=", "+", "@", "\t", "\r")), cell
            if cell.startswith("-"):
                float(cell)


def test_a_caller_reads_no_other_decisions_runs_records_dead_letters_or_stats(
        service: Live, receiver: Receiver) -> None:
    receiver.responses = {"/fail": (500, {"error": "down"})}
    bindings = (
        "defaults: {retry: {attempts: 1, backoff: 10ms, max_backoff: 10ms}}\n"
        "on:\n"
        "  - when: Decision = \"Refer\"\n"
        "    run: referred\n"
        "workflows:\n"
        "  referred:\n"
        f"    steps: [{{call: {{url: \"{receiver.url}/fail\", body: {{d: \"{{{{ outputs.Decision }}}}\"}}}}}}]\n")
    publish_with_bindings(service, bindings)
    admin = service.client("admin")
    assert admin.post("/v1/identities", json={"name": "victim-service"}).status_code == 201
    victim_key = admin.post("/v1/keys", json={"name": "victim", "role": "caller", "identity": "victim-service"})
    victim = service.client(secret=victim_key.json()["secret"])
    theirs = victim.post(EVALUATE, json={"inputs": REFER}).json()["decision_id"]
    attacker = service.client("caller")
    mine = attacker.post(EVALUATE, json={"inputs": APPROVE}).json()["decision_id"]
    work(service.engine, config_for(), settled(service.engine))
    reviewer = service.client("reviewer")
    [dead] = reviewer.get("/v1/execution/dead-letters").json()  # the victim's run, dead-lettered
    assert dead["decision_id"] == theirs

    def attack() -> dict[str, httpx.Response]:
        paths = {
            "runs": "/v1/execution/runs", "runs of theirs": f"/v1/execution/runs?decision_id={theirs}",
            "run": f"/v1/execution/runs/{dead['id']}", "decision runs": f"/v1/execution/decisions/{theirs}/runs",
            "overrides": f"/v1/execution/decisions/{theirs}/overrides", "dead letters": "/v1/execution/dead-letters",
            "stats": "/v1/execution/stats", "records": "/v1/records", "record": f"/v1/records/{theirs}",
            "records by key": "/v1/records?key=loan-approval"}
        return {name: attacker.get(path) for name, path in paths.items()}

    answers = while_healthy(service, attack)
    assert theirs not in answers["runs"].text and answers["runs of theirs"].json() == []
    for name in ("run", "decision runs", "overrides", "record"):
        assert answers[name].status_code == 404, name
        assert "Refer" not in answers[name].text and "45000" not in answers[name].text
    assert answers["dead letters"].status_code == 200 and answers["dead letters"].json() == []
    assert answers["stats"].status_code == 403
    for name in ("records", "records by key"):
        assert [r["id"] for r in answers[name].json()["records"]] == [mine], name


def test_the_api_description_names_no_model_without_a_key_in_production(live: Live) -> None:
    live.publish("secret-pricing", SHIPPING_YAML, "shipping.yaml")  # Settings() is production: no public docs
    anonymous = live.client()

    def attack() -> tuple[httpx.Response, httpx.Response, httpx.Response]:
        return anonymous.get("/openapi.json"), anonymous.get("/docs"), live.client("caller").get("/openapi.json")

    document, docs, keyed = while_healthy(live, attack)
    assert document.status_code == 200 and docs.status_code == 200
    for answer in (document, docs):
        assert "secret-pricing" not in answer.text and "Ship Date" not in answer.text
    assert "/v1/decisions/{key}/evaluate" in document.json()["paths"]  # the generic API only
    assert "/v1/decisions/secret-pricing/typed/evaluate" in keyed.json()["paths"]  # a key shows it


def test_a_revoked_key_is_refused_by_the_next_call(live: Live) -> None:
    admin = live.client("admin")
    assert admin.post("/v1/identities", json={"name": "leaver"}).status_code == 201
    created = admin.post("/v1/keys", json={"name": "leaver key", "role": "reviewer", "identity": "leaver"}).json()
    leaver = live.client(secret=created["secret"])
    assert leaver.get("/v1/records").status_code == 200  # the key is now in the worker's cache

    def attack() -> list[httpx.Response]:
        assert admin.delete(f"/v1/keys/{created['id']}").status_code == 200
        return [leaver.get("/v1/records") for _ in range(20)]

    answers = while_healthy(live, attack)
    assert [a.status_code for a in answers] == [401] * 20
