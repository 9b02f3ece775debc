"""Bad input gets a 4xx problem that says where, never a 500 (the `live` fixture checks that no
request reached the catch-all handler)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx

from tests.api.conftest import LOAN_DMN, Live

EVALUATE = "/v1/decisions/loan-approval/evaluate"
LOAN_INPUT = Path(__file__).parents[2] / "examples" / "loan-approval-input.json"


def problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["status"] == status and body["type"].startswith("https://") and body["title"]
    assert "Traceback" not in response.text
    return body


def post_raw(client: httpx.Client, path: str, data: bytes) -> httpx.Response:
    return client.post(path, content=data, headers={"Content-Type": "application/json"})


def test_malformed_json(loan: Live) -> None:
    client = loan.client("caller")
    body = problem(post_raw(client, EVALUATE, b'{"inputs": {"Credit Score": 7'), 400)
    assert body["type"].endswith("/malformed-json")
    for raw in (b'{"inputs": {"Credit Score": NaN}}', b"\xff\xfe{}", b'{"inputs": ' + b"[" * 5000 + b"]" * 5000 + b"}"):
        problem(post_raw(client, EVALUATE, raw), 400)


def test_wrong_shapes_and_types_point_at_the_field(loan: Live) -> None:
    client = loan.client("caller")
    body = problem(client.post(EVALUATE, json={"inputs": {"Credit Score": "seven hundred", "Applicant Age": True,
                                                          "Employment Status": "Astronaut", "Shoe Size": 44}}), 422)
    pointers = {e["pointer"]: e["message"] for e in body["errors"]}
    assert pointers["/inputs/Credit Score"] == "expected a number, got a string"
    assert pointers["/inputs/Applicant Age"] == "expected a number, got a boolean"
    assert "Astronaut" in pointers["/inputs/Employment Status"]
    assert "Shoe Size" in pointers["/inputs/Shoe Size"]

    body = problem(client.post(EVALUATE, json={"inputs": [1, 2]}), 422)
    assert body["errors"][0]["pointer"] == "/inputs"
    body = problem(client.post(EVALUATE, json={"inputs": {}, "trace": "yes", "extra": 1}), 422)
    assert {e["pointer"] for e in body["errors"]} == {"/trace", "/extra"}
    body = problem(client.post(EVALUATE, json=["not", "an", "object"]), 422)
    assert body["errors"][0]["pointer"] == ""
    body = problem(client.post(f"{EVALUATE}?version=zero", json={"inputs": {}}), 422)
    assert body["errors"][0] == {"parameter": "version", "in": "query", "message": body["errors"][0]["message"]}


def test_unknown_decision_and_unknown_model(loan: Live) -> None:
    client = loan.client("caller")
    body = problem(client.post(EVALUATE, json={"inputs": {}, "decisions": ["Risk Category", "Horoscope"]}), 422)
    assert body["errors"][0]["pointer"] == "/decisions/1"
    assert "Horoscope" in body["errors"][0]["message"]
    body = problem(client.post("/v1/decisions/no-such-model/evaluate", json={"inputs": {}}), 404)
    assert "no-such-model" in body["detail"]
    problem(client.post("/v1/decisions/loan-approval/evaluate?version=9", json={"inputs": {}}), 404)
    problem(client.post("/v1/decisions/bad%20key!/evaluate", json={"inputs": {}}), 422)
    problem(client.get("/v1/no/such/route"), 404)


def test_huge_bodies_are_refused(loan: Live) -> None:
    client = loan.client("caller")
    huge = b'{"inputs": {"x": "' + b"a" * (1024 * 1024) + b'"}}'
    body = problem(post_raw(client, EVALUATE, huge), 413)
    assert "1 MiB" in body["detail"]

    def chunks() -> Any:  # no Content-Length: counted as it streams
        yield b'{"inputs": {"x": "'
        for _ in range(200):
            yield b"a" * 8192
        yield b'"}}'

    problem(client.post(EVALUATE, content=chunks(), headers={"Content-Type": "application/json"}), 413)
    upload = b"<definitions>" + b" " * (10 * 1024 * 1024) + b"</definitions>"
    problem(loan.upload("big-model", upload, "big.dmn"), 413)


def test_bad_uploads(live: Live) -> None:
    body = problem(live.upload("junk", b"\x00\x01\x02 not a model \xff", "junk.dmn"), 400)
    assert "UTF-8" in body["detail"]
    body = problem(live.upload("junk", b"<definitions><decision name='x'>", "junk.dmn"), 422)
    assert body["errors"] and all("location" in e for e in body["errors"])
    body = problem(live.upload("junk", "decisions: [1, 2\n", "junk.yaml"), 422)
    assert body["errors"][0]["location"]
    problem(live.upload("junk", b"", "empty.dmn"), 400)
    body = problem(live.upload("sheet", b"PK\x03\x04 a workbook", "model.xlsx"), 422)
    assert "not an xlsx workbook" in body["errors"][0]["message"]


def test_xml_bombs_are_refused_with_a_location(live: Live) -> None:
    bomb = ('<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
            + "".join(f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10 if i > 1 else "&lol;" * 10}">'
                      for i in range(1, 10))
            + ']>\n<definitions xmlns="https://www.omg.org/spec/DMN/20230324/MODEL/" name="x" '
              'namespace="x">&lol9;</definitions>')
    body = problem(live.upload("bomb", bomb, "bomb.dmn"), 422)
    assert body["errors"][0]["location"]
    external = ('<?xml version="1.0"?><!DOCTYPE d [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
                '<definitions name="x" namespace="x">&e;</definitions>')
    body = problem(live.upload("bomb", external, "bomb.dmn"), 422)
    assert "root:" not in str(body)
    assert live.client("viewer").get("/v1/models/bomb").status_code == 404  # nothing was stored


def test_bad_lifecycle_requests_are_problems(loan: Live) -> None:
    approver = loan.client("approver")
    problem(approver.post("/v1/models/loan-approval/versions/1/approve"), 409)  # already published
    problem(approver.put("/v1/models/loan-approval/aliases/production", json={"version": 7}), 404)
    problem(approver.put("/v1/models/loan-approval/aliases/production", json={"version": "seven"}), 422)
    problem(approver.post("/v1/models/loan-approval/aliases/staging/rollback"), 404)
    problem(loan.client("viewer").get("/v1/models/loan-approval/diff?from=1&to=5"), 404)
    problem(loan.client("author").post("/v1/models/loan-approval/versions", files={"file": ("a.dmn", b"")}), 400)
    bad_cases = "- inputs: {}\n  expect: not-a-mapping\n"
    problem(loan.upload("loan-approval", LOAN_DMN.read_bytes(), "loan.dmn", test_cases=bad_cases), 400)


def test_a_nul_character_in_a_parameter_is_refused_on_every_route(loan: Live) -> None:
    """No stored text holds a NUL (PostgreSQL's text type cannot): a filter holding one is a 422
    naming the parameter, on any route, before it reaches the database."""
    reviewer = loan.client("reviewer")
    body = problem(reviewer.get("/v1/records", params={"key": "loan-approval", "caller": "a\x00b"}), 422)
    assert body["errors"] == [{"parameter": "caller", "in": "query", "message": "contains a NUL character"}]
    body = problem(reviewer.get("/v1/models/loan%00approval"), 422)
    assert body["errors"][0]["in"] == "path" and "%00" in body["instance"]
    admin = loan.client("admin")
    problem(admin.get("/v1/execution/dead-letters", params={"error": "v\x00"}), 422)
    assert reviewer.get("/v1/records", params={"key": "loan-approval"}).status_code == 200


def test_a_nul_character_in_a_body_is_refused_with_a_pointer(live: Live) -> None:
    assert live.upload("nul-probe", LOAN_DMN.read_bytes(), "loan.dmn").status_code == 201
    body = problem(live.client("author").post("/v1/models/nul-probe/versions/1/submit",
                                              json={"comment": "a\x00b"}), 422)
    assert body["errors"][0]["pointer"] == "/comment" and "NUL" in body["errors"][0]["message"]
    body = problem(live.client("admin").post("/v1/keys", json={"name": "a\x00b", "role": "caller"}), 422)
    assert body["errors"][0]["pointer"] == "/name"
    version = live.client("viewer").get("/v1/models/nul-probe/versions/1").json()
    assert version["state"] == "draft"  # nothing was changed by the refused call


def test_numbers_no_feel_number_can_be_are_refused_with_a_pointer(loan: Live) -> None:
    # FEEL numbers are decimal128: a body may not make the service spell out a billion digits.
    client = loan.client("caller")
    applicant = json.loads(LOAN_INPUT.read_text())
    for number in (b"1e999999999", b"1e99999999", b"-1e7000", b"1e-7000", b"1" + b"0" * 7000):
        raw = json.dumps({"inputs": applicant}).replace('"Monthly Income": 5200', '"Monthly Income": 0').encode()
        raw = raw.replace(b'"Monthly Income": 0', b'"Monthly Income": ' + number)
        response = post_raw(client, EVALUATE, raw)
        body = problem(response, 422)
        assert [e["pointer"] for e in body["errors"]] == ["/inputs/Monthly Income"]
        assert "FEEL number" in body["errors"][0]["message"] and len(response.content) < 2000

    largest = json.dumps({"inputs": {**applicant, "Monthly Income": 0}}).encode().replace(
        b'"Monthly Income": 0', b'"Monthly Income": 9.999E+6144')
    answered = post_raw(client, EVALUATE, largest)
    assert answered.status_code == 200, answered.text
    assert len(answered.content) < 20_000

    cells = "Monthly Income,Credit Score\n1e50000000,700\n5000,1e-9999999\n"
    response = client.post("/v1/decisions/loan-approval/evaluate-csv", files={"file": ("rows.csv", cells.encode())})
    assert response.status_code == 200, response.text  # each row is refused on its own (api/batches.py)
    body = response.json()
    assert body["failed"] == 2 and body["decided"] == 0
    assert [e["pointer"] for r in body["results"] for e in r["error"]["errors"]] == \
        ["/rows/0/Monthly Income", "/rows/1/Credit Score"]
    assert len(response.content) < 5000
