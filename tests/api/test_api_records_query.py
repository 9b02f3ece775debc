"""GET /v1/records as the decision log (filters, cursor pages, problems naming the parameter),
GET /v1/audit/verify, and `decisionary records` locally and over HTTP, on a real server."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from typer.testing import CliRunner

from api.cli import app
from registry.chain import RECORDS
from tests.api.conftest import LOAN_INPUT, Live
from tests.audit.test_log import write_records

runner = CliRunner()
APPLICANTS: list[dict[str, Any]] = [
    {}, {"Credit Score": 580}, {"Applicant Age": 17}, {"Monthly Income": 0},
    {"Employment Status": "Unemployed", "Requested Amount": 90000}, {"Credit Score": 790}, {"Credit Score": 650},
]


def _decide(loan: Live) -> list[dict[str, Any]]:
    base = json.loads(LOAN_INPUT.read_text())
    client = loan.client("caller")
    answers = []
    for changes in APPLICANTS:
        response = client.post("/v1/decisions/loan-approval/evaluate", json={"inputs": {**base, **changes}})
        assert response.status_code == 200, response.text
        answers.append(response.json())
    return answers


def _pages(loan: Live, limit: int, **params: Any) -> list[str]:
    client = loan.client("reviewer")
    ids: list[str] = []
    cursor = None
    for _ in range(50):
        query = {**params, "limit": limit, **({"cursor": cursor} if cursor else {})}
        response = client.get("/v1/records", params=query)
        assert response.status_code == 200, response.text
        page = response.json()
        ids.extend(r["id"] for r in page["records"])
        cursor = page["next_cursor"]
        if cursor is None:
            return ids
    raise AssertionError("the pages never ended")


def test_the_decision_log_filters_and_pages(loan: Live) -> None:
    answers = _decide(loan)
    newest_first = [a["decision_id"] for a in reversed(answers)]
    assert _pages(loan, 2) == newest_first
    assert _pages(loan, 100, key="loan-approval", version=1, alias="production") == newest_first
    assert _pages(loan, 100, key="shipping") == []
    for value in {a["outputs"]["Decision"] for a in answers}:
        expected = [a["decision_id"] for a in reversed(answers) if a["outputs"]["Decision"] == value]
        assert _pages(loan, 3, output=f"Decision:{value}") == expected, value
    position = answers[1]["fired"]["Risk Category"][0]
    by_position = [a["decision_id"] for a in reversed(answers) if position in a["fired"]["Risk Category"]]
    assert _pages(loan, 100, fired=f"Risk Category:{position}") == by_position
    record = loan.client("reviewer").get(f"/v1/records/{answers[1]['decision_id']}").json()
    assert record["chain_id"] and record["record_hash"] and record["chain_seq"] >= 1
    # Stable rule ids, as records carry them (written here directly: the service's own records
    # may carry them or not, which is not what this tests).
    (with_ids,) = write_records(loan.engine, [{"at": datetime.now(UTC) - timedelta(days=1), "fired": {
        "Risk Category": [7]}, "fired_ids": {"Risk Category": ["rule-seven"]}}])
    assert _pages(loan, 100, fired="Risk Category:rule-seven") == [with_ids.id]
    got = loan.client("reviewer").get(f"/v1/records/{with_ids.id}").json()
    assert got["fired_ids"] == {"Risk Category": ["rule-seven"]}
    with loan.engine.begin() as connection:
        connection.execute(RECORDS.delete().where(RECORDS.c.id == with_ids.id))
    stored = loan.client("reviewer").get("/v1/records", params={"limit": 100}).json()["records"]
    pivot = datetime.fromisoformat(stored[3]["created_at"])
    later = [r["id"] for r in stored if datetime.fromisoformat(r["created_at"]) >= pivot]
    assert 4 <= len(later) < len(stored)
    assert _pages(loan, 2, start=pivot.isoformat()) == later
    assert _pages(loan, 100, end=pivot.isoformat()) == [r for r in newest_first if r not in later]
    assert _pages(loan, 100, end="2000-01-01") == []
    assert _pages(loan, 100, workflow_state="dead") == []
    assert _pages(loan, 100, review_outcome="override") == []


def test_bad_filters_are_problems_naming_the_parameter(loan: Live) -> None:
    _decide(loan)
    client = loan.client("reviewer")
    page = client.get("/v1/records", params={"limit": 2, "output": "Decision:Approve"}).json()
    cases: list[tuple[dict[str, Any], str]] = [
        ({"output": "Decision"}, "output"),
        ({"output": "Decision:[1]"}, "output"),
        ({"fired": "Risk Category:"}, "fired"),
        ({"start": "last tuesday"}, "start"),
        ({"start": "2026-02-01", "end": "2026-01-01"}, "end"),
        ({"workflow_state": "running"}, "workflow_state"),
        ({"review_outcome": "maybe"}, "review_outcome"),
        ({"cursor": "bm9wZQ"}, "cursor"),
        ({"limit": 0}, "limit"),
        ({"version": "two"}, "version"),
        ({"key": "bad key!"}, "key"),
    ]
    if page["next_cursor"]:
        cases.append(({"cursor": page["next_cursor"], "output": "Decision:Reject"}, "cursor"))
    for params, parameter in cases:
        response = client.get("/v1/records", params=params)
        assert response.status_code == 422, (params, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
        problem = response.json()
        assert [e["parameter"] for e in problem["errors"]] == [parameter], (params, problem)


def test_verify_over_http_and_its_roles(loan: Live) -> None:
    answers = _decide(loan)
    for role in ("reviewer", "admin"):
        response = loan.client(role).get("/v1/audit/verify")
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["ok"] is True and body["first_broken"] is None
        assert body["records"] == len(answers) and body["chains"] >= 1
        assert sum(head["seq"] for head in body["heads"].values()) == len(answers)
    for role in ("viewer", "caller", "author"):
        assert loan.client(role).get("/v1/audit/verify").status_code == 403
    with loan.engine.begin() as connection:
        connection.execute(RECORDS.update().where(RECORDS.c.id == answers[2]["decision_id"]).values(latency_us=1))
    body = loan.client("reviewer").get("/v1/audit/verify").json()
    assert body["ok"] is False and body["first_broken"]["record_id"] == answers[2]["decision_id"]


def test_the_records_command_locally_and_over_http(loan: Live) -> None:
    answers = _decide(loan)
    rejected = [a["decision_id"] for a in reversed(answers) if a["outputs"]["Decision"] == "Reject"]
    assert rejected
    local = runner.invoke(app, ["records", "--database-url", loan.database_url, "--key", "loan-approval",
                                "--output", "Decision:Reject", "--json"])
    assert local.exit_code == 0, local.output
    assert [r["id"] for r in json.loads(local.stdout)["records"]] == rejected
    remote = runner.invoke(app, ["records", "--url", loan.url, "--api-key", loan.keys["reviewer"],
                                 "--output", "Decision:Reject", "--json"])
    assert remote.exit_code == 0, remote.output
    assert [r["id"] for r in json.loads(remote.stdout)["records"]] == rejected
    table = runner.invoke(app, ["records", "--database-url", loan.database_url, "--limit", "2"])
    assert table.exit_code == 0 and answers[-1]["decision_id"] in table.stdout
    assert "more: --cursor" in table.output
    cursor = table.output.split("--cursor ")[1].split()[0]
    more = runner.invoke(app, ["records", "--database-url", loan.database_url, "--limit", "2", "--cursor", cursor,
                               "--json"])
    assert [r["id"] for r in json.loads(more.stdout)["records"]] == [a["decision_id"] for a in answers[-3:-5:-1]]
    bad = runner.invoke(app, ["records", "--database-url", loan.database_url, "--workflow-state", "running"])
    assert bad.exit_code == 2 and "--workflow-state" in bad.output
    bad_remote = runner.invoke(app, ["records", "--url", loan.url, "--api-key", loan.keys["reviewer"],
                                     "--from", "soon"])
    assert bad_remote.exit_code == 2 and "start" in bad_remote.output
    with loan.engine.connect() as connection:
        assert connection.execute(sa.select(sa.func.count()).select_from(RECORDS)).scalar_one() == len(answers)
