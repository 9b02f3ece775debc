"""`decisionary audit drift`: the PSI table, and with --alert the closed loop: an alert is recorded
and the production version's `monitors: drift` workflow is queued for the drifted input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.engine import Engine

from audit.synthetic import generate_history
from tests.execution.conftest import LOAN_BINDINGS, config_for, publish_model, rows

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
END = datetime(2026, 6, 1, tzinfo=UTC)


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DECISIONARY_ALLOWED_HOSTS": "127.0.0.1", "DECISIONARY_WEBHOOK_SECRET": "s"}
    return subprocess.run([sys.executable, "-m", "api.cli", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=120, env=env, check=False)


def test_drift_alert_queues_the_bound_workflow(engine: Engine, database_url: str) -> None:
    bindings = LOAN_BINDINGS.read_text().replace("http://127.0.0.1:8001", "http://127.0.0.1:9")
    publish_model(engine, "loan-approval", (EXAMPLES / "loan-approval.yaml").read_bytes(), bindings,
                  config=config_for())
    history = generate_history(engine, days=60, per_day=60, end=END, challenger_share=0.0, drift_days=14)
    period = ["--from", history.drift_from.isoformat(), "--to", END.isoformat(), "--database-url", database_url]

    plain = _cli("audit", "drift", "loan-approval", *period, "--json")
    assert plain.returncode == 0, plain.stderr
    table = {row["name"]: row for row in json.loads(plain.stdout)["drift"]}
    assert table["Credit Score"]["status"] == "drift", table["Credit Score"]
    assert table["Applicant Age"]["status"] == "stable"
    assert rows(engine, "SELECT count(*) FROM audit_alerts")[0][0] == 0  # no --alert: nothing recorded

    alerted = _cli("audit", "drift", "loan-approval", *period, "--alert")
    assert alerted.returncode == 0, alerted.stderr
    assert "Credit Score" in alerted.stdout and "started run(s)" in alerted.stdout, alerted.stdout
    alerts = rows(engine, "SELECT subject, run_ids FROM audit_alerts WHERE kind = 'drift'")
    subjects = {alert.subject for alert in alerts}
    assert "Credit Score" in subjects and "Applicant Age" not in subjects
    runs = rows(engine, "SELECT workflow, origin FROM workflow_runs WHERE origin = 'monitor:drift'")
    assert len(runs) == len(alerts) and {tuple(run) for run in runs} == {("drift-alert", "monitor:drift")}


def test_bad_periods_are_refused_with_the_option_named(database_url: str) -> None:
    done = _cli("audit", "drift", "loan-approval", "--from", "2026-05-01", "--to", "2026-04-01",
                "--database-url", database_url)
    assert done.returncode != 0 and "end after it starts" in (done.stdout + done.stderr)
    done = _cli("audit", "drift", "loan-approval", "--from", "yesterday", "--database-url", database_url)
    assert done.returncode != 0 and "--from" in (done.stdout + done.stderr)
