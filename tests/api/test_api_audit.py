"""The audit routes over a real server: the same figures as the Python functions, the report as
one self-contained page, and bad periods or keys answered with problems."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from audit.charts import external_references
from audit.metrics import compute_metrics
from audit.synthetic import generate_history
from tests.api.conftest import Live

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
END = datetime(2026, 6, 1, tzinfo=UTC)
PERIOD = {"from": (END - timedelta(days=60)).isoformat(), "to": END.isoformat()}


def test_metrics_performance_drift_and_report(live: Live) -> None:
    live.publish("loan-approval", (EXAMPLES / "loan-approval.yaml").read_bytes(), "loan-approval.yaml")
    generate_history(live.engine, days=130, per_day=12, end=END, challenger_from_day=80, drift_days=20)
    reviewer = live.client("reviewer")
    metrics = reviewer.get("/v1/audit/loan-approval/metrics", params={**PERIOD, "window": "week"})
    assert metrics.status_code == 200, metrics.text
    direct = compute_metrics(live.engine, "loan-approval", start=END - timedelta(days=60), end=END, window="week")
    assert sum(r["decisions"] for r in metrics.json()["volume"]) == int(direct.volume["decisions"].sum()) > 0
    assert {"volume", "outputs", "rules", "never_fired", "reviews", "overrides", "workflows"} == set(metrics.json())

    performance = reviewer.get("/v1/audit/loan-approval/performance",
                               params={"label": "defaulted", "score": "Credit Score", "to": END.isoformat(),
                                       "from": (END - timedelta(days=130)).isoformat()})
    assert performance.status_code == 200, performance.text
    assert performance.json()["discrimination"] and performance.json()["bad_rate_by_outcome"]

    drift = reviewer.get("/v1/audit/loan-approval/drift", params={
        "from": (END - timedelta(days=20)).isoformat(), "to": END.isoformat(),
        "reference_from": (END - timedelta(days=80)).isoformat(), "reference_to": (END - timedelta(days=20)).isoformat()})
    assert drift.status_code == 200, drift.text
    status = {row["name"]: row["status"] for row in drift.json()["drift"]}
    assert status["Credit Score"] == "drift"

    report = reviewer.get("/v1/audit/loan-approval/report", params={**PERIOD, "label": "defaulted"})
    assert report.status_code == 200 and report.headers["content-type"].startswith("text/html")
    assert report.text.count("<svg") >= 6 and external_references(report.text) == []


def test_bad_requests_are_problems(live: Live) -> None:
    reviewer = live.client("reviewer")
    unknown = reviewer.get("/v1/audit/nobody/metrics")
    assert unknown.status_code == 404 and "nobody" in unknown.json()["detail"]
    live.publish("loan-approval", (EXAMPLES / "loan-approval.yaml").read_bytes(), "loan-approval.yaml")
    backwards = reviewer.get("/v1/audit/loan-approval/metrics", params={"from": "2026-05-01", "to": "2026-04-01"})
    assert backwards.status_code == 422 and backwards.json()["errors"][0]["parameter"] == "to"
    too_long = reviewer.get("/v1/audit/loan-approval/metrics", params={"from": "2020-01-01", "to": "2026-01-01"})
    assert too_long.status_code == 422 and "800 days" in too_long.json()["detail"]
    assert reviewer.get("/v1/audit/loan-approval/metrics", params={"window": "year"}).status_code == 422
    assert live.client("caller").get("/v1/audit/loan-approval/metrics").status_code == 403


def test_the_report_command_writes_the_same_page(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    from audit.synthetic import demo_database

    url = demo_database(tmp_path / "demo.db", days=100, per_day=10, end=END)
    out = tmp_path / "report.html"
    done = subprocess.run([sys.executable, "-m", "api.cli", "report", "loan-approval", "--from", "2026-03-01",
                           "--to", "2026-06-01", "--out", str(out), "--label", "defaulted", "--database-url", url],
                          cwd=EXAMPLES.parent, capture_output=True, text=True, timeout=120, env=dict(os.environ),
                          check=False)
    assert done.returncode == 0, done.stderr
    assert "wrote" in done.stdout and out.read_text().count("<svg") >= 6
    unknown = subprocess.run([sys.executable, "-m", "api.cli", "report", "nobody", "--out", str(out),
                              "--database-url", url], cwd=EXAMPLES.parent, capture_output=True, text=True,
                             timeout=120, env=dict(os.environ), check=False)
    assert unknown.returncode != 0 and "nobody" in unknown.stdout + unknown.stderr
