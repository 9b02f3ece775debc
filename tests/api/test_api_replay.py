"""Replays through the service: a candidate version on logged decisions or a file, attached to the
version; a version that does not exist, or a bad file, is a problem and nothing is stored."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

from audit.synthetic import generate_history
from tests.api.conftest import Live

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
END = datetime(2026, 6, 1, tzinfo=UTC)


def _replays(live: Live) -> int:
    with live.engine.connect() as connection:
        return int(connection.execute(sa.text("SELECT count(*) FROM replays")).scalar_one())


def test_a_replay_is_attached_to_the_version_the_approver_sees(live: Live) -> None:
    live.publish("loan-approval", (EXAMPLES / "loan-approval.yaml").read_bytes(), "loan-approval.yaml")
    history = generate_history(live.engine, days=130, per_day=15, end=END, challenger_share=0.0)
    candidate = live.client("author").post(
        "/v1/models/loan-approval/versions",
        files={"file": ("c.yaml", (EXAMPLES / "challengers" / "loan-approval.yaml").read_bytes(), "text/yaml")})
    assert candidate.status_code == 201, candidate.text
    number = candidate.json()["number"]
    answer = live.client("approver").post(f"/v1/models/loan-approval/versions/{number}/replay",
                                          json={"from": (END - timedelta(days=130)).isoformat(), "to": END.isoformat()})
    assert answer.status_code == 201, answer.text
    summary = answer.json()["summary"]
    assert summary["rows"] == history.decisions
    decision = summary["decisions"]["Decision"]
    assert decision["changed"] > 0
    assert {(s["from"], s["to"]) for s in decision["swaps"]} == {("Refer", "Approve")}  # the challenger's change
    assert sum(s["count"] for s in decision["swaps"]) == decision["changed"]
    assert summary["bad_label"] == "defaulted" and any(r["decided_known"] for r in decision["bad_rate"])
    listed = live.client("viewer").get(f"/v1/models/loan-approval/versions/{number}/replays").json()
    assert [r["id"] for r in listed] == [answer.json()["id"]]


def test_bad_replays_are_problems_and_store_nothing(live: Live) -> None:
    live.publish("loan-approval", (EXAMPLES / "loan-approval.yaml").read_bytes(), "loan-approval.yaml")
    author = live.client("author")
    missing = author.post("/v1/models/loan-approval/versions/42/replay", json={})
    assert missing.status_code == 404 and "42" in missing.json()["detail"]
    empty = author.post("/v1/models/loan-approval/versions/1/replay", json={})
    assert empty.status_code == 422 and "no logged decisions" in empty.json()["detail"]
    backwards = author.post("/v1/models/loan-approval/versions/1/replay",
                            json={"from": "2026-05-01T00:00:00Z", "to": "2026-04-01T00:00:00Z"})
    assert backwards.status_code == 422
    broken = author.post("/v1/models/loan-approval/versions/1/replay-file",
                         files={"file": ("r.parquet", b"PAR1 not really", "application/octet-stream")})
    assert broken.status_code == 422 and "r.parquet" in broken.json()["detail"]
    no_outputs = author.post("/v1/models/loan-approval/versions/1/replay-file",
                             files={"file": ("r.csv", "Applicant Age,Credit Score\n30,700\n", "text/csv")})
    assert no_outputs.status_code == 422 and "nothing to compare" in no_outputs.json()["detail"]
    assert live.client("caller").post("/v1/models/loan-approval/versions/1/replay", json={}).status_code == 403
    assert _replays(live) == 0
