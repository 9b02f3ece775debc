"""The execution commands, run as a user runs them (`python -m api.cli ...` in a subprocess):
worker (with a graceful SIGTERM), runs, dead-letters, bindings, batch, schedule, example-receiver."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from sqlalchemy.engine import Engine

from execution.receiver import Receiver
from execution.signing import sign_headers
from tests.execution.conftest import (
    APPROVE,
    LOAN_BINDINGS,
    LOAN_DMN,
    REJECT,
    SCORE_YAML,
    SECRET,
    count,
    decide,
    loan_bindings,
    publish_model,
    settled,
)

ROOT = Path(__file__).resolve().parents[2]
ENV = {"DECISIONARY_ALLOWED_HOSTS": "127.0.0.1", "DECISIONARY_WEBHOOK_SECRET": SECRET}


def cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "api.cli", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, **ENV}, check=False)


def start_cli(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "api.cli", *args], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, **ENV})


def wait_for(condition: object, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:  # type: ignore[operator]
        time.sleep(0.1)
    assert condition(), "timed out"  # type: ignore[operator]


def test_worker_process_runs_steps_and_stops_gracefully_on_sigterm(engine: Engine, database_url: str,
                                                                 receiver: Receiver) -> None:
    publish_model(engine, "loan-approval", LOAN_DMN.read_bytes(), loan_bindings(receiver))
    approved, _ = decide(engine, "loan-approval", APPROVE)
    decide(engine, "loan-approval", REJECT)
    worker = start_cli("worker", "--database-url", database_url, "--threads", "2", "--poll", "0.1")
    try:
        wait_for(settled(engine))
        worker.send_signal(signal.SIGTERM)
        _, stderr = worker.communicate(timeout=60)
    finally:
        if worker.poll() is None:
            worker.kill()
    assert worker.returncode == 0, stderr
    assert "SIGTERM: finishing the steps in progress" in stderr and "worker stopped" in stderr
    assert receiver.processed_count("/lender/decisions") == 2

    shown = cli("runs", approved, "--database-url", database_url)
    assert shown.returncode == 0, shown.stderr
    assert "approved (" in shown.stdout and ": done" in shown.stdout and "tell-lender #1: ok 200" in shown.stdout
    as_json = json.loads(cli("runs", approved, "--database-url", database_url, "--json").stdout)
    assert as_json[0]["workflow"] == "approved" and as_json[0]["attempts"][0]["status_code"] == 200


def test_dead_letters_commands(engine: Engine, database_url: str, receiver: Receiver) -> None:
    bindings = (f"defaults: {{retry: 1}}\nworkflows:\n  w: {{steps: [{{name: ping, call: {{url: \"{receiver.url}/p\"}}}}]}}"
                "\nalways: w\n")
    publish_model(engine, "score", SCORE_YAML, bindings)
    receiver.fail_rate = 1.0
    for n in range(3):
        decide(engine, "score", {"Amount": n, "Email": "a@b.c"})
    from tests.execution.conftest import config_for, work

    work(engine, config_for(), settled(engine))
    listed = cli("dead-letters", "list", "--database-url", database_url, "--step", "ping")
    assert listed.returncode == 0 and listed.stdout.count(" dead ") == 3
    run_id = listed.stdout.splitlines()[2].split()[0]
    shown = json.loads(cli("dead-letters", "show", run_id, "--database-url", database_url).stdout)
    assert shown["attempts"][0]["status_code"] == 500 and shown["context"]["inputs"]["Email"] == "a@b.c"
    refused = cli("dead-letters", "retry", "--database-url", database_url)
    assert refused.returncode == 2 and "--all" in refused.stderr
    one = cli("dead-letters", "retry", run_id, "--by", "olga", "--database-url", database_url)
    assert one.returncode == 0 and "retry: 1 run(s)" in one.stdout
    bulk = cli("dead-letters", "cancel", "--all", "--error", "500", "--database-url", database_url)
    assert bulk.returncode == 0 and "cancel: 2 run(s)" in bulk.stdout
    assert count(engine, "SELECT count(*) FROM workflow_runs WHERE state = 'ready'") == 1
    missing = cli("dead-letters", "retry", "01NOPE", "--database-url", database_url)
    assert missing.returncode == 2 and "no workflow run" in missing.stderr


def test_bindings_batch_and_schedule_commands(engine: Engine, database_url: str, tmp_path: Path) -> None:
    ok = cli("bindings", "check", str(LOAN_BINDINGS), "--model", str(LOAN_DMN))
    assert ok.returncode == 0 and "ok: 6 workflow(s)" in ok.stdout
    bad = tmp_path / "bad.yaml"
    bad.write_text("workflows:\n  w: {steps: [{set: {x: Nope}}]}\nalways: w\n")
    refused = cli("bindings", "check", str(bad), "--model", str(LOAN_DMN))
    assert refused.returncode == 1 and f"{bad}:2, workflows.w.steps[0].set.x" in refused.stderr

    publish_model(engine, "score", SCORE_YAML, None)
    rows = tmp_path / "rows.csv"
    rows.write_text("Amount,Email\n5,a@b.c\n500,d@e.f\n")
    submitted = cli("batch", "submit", "score", str(rows), "--database-url", database_url)
    assert submitted.returncode == 0 and "score version 1" in submitted.stdout
    listed = cli("batch", "list", "--database-url", database_url)
    assert "queued" in listed.stdout and "0/?" in listed.stdout
    added = cli("schedule", "add", "nightly", "--cron", "0 2 * * *", "--model", "score", "--file", str(rows),
                "--database-url", database_url)
    assert added.returncode == 0 and "next run" in added.stdout
    assert "nightly" in cli("schedule", "list", "--database-url", database_url).stdout
    assert "disabled" in cli("schedule", "disable", "nightly", "--database-url", database_url).stdout
    bad_cron = cli("schedule", "add", "x", "--cron", "nope", "--model", "score", "--file", str(rows),
                   "--database-url", database_url)
    assert bad_cron.returncode == 2 and "not a cron expression" in bad_cron.stderr


def test_example_receiver_prints_what_it_gets() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    receiver = start_cli("example-receiver", "--port", str(port), "--secret", SECRET)
    try:
        body = json.dumps({"outcome": "approved"}).encode()
        headers = {"Idempotency-Key": "run:0", "Content-Type": "application/json",
                   **sign_headers(SECRET, "POST", f"http://127.0.0.1:{port}/lender", body)}
        # Until it listens: on a busy machine starting the process alone can take many seconds,
        # so the wait ends when it exits (a real failure) or after a generous limit.
        deadline = time.monotonic() + 300
        while True:
            try:
                response = httpx.post(f"http://127.0.0.1:{port}/lender", content=body, headers=headers, timeout=60)
                break
            except httpx.TransportError:
                assert receiver.poll() is None, f"the receiver exited with {receiver.returncode}"
                assert time.monotonic() < deadline, "the receiver did not listen within 300 s"
                time.sleep(0.2)
        assert response.status_code == 200 and response.json() == {"received": "run:0", "duplicate": False}
        again = httpx.post(f"http://127.0.0.1:{port}/lender", content=body, headers=headers, timeout=60)
        assert again.json()["duplicate"] is True
        forged = httpx.post(f"http://127.0.0.1:{port}/lender", content=b"{}", headers=headers, timeout=60)
        assert forged.status_code == 401
    finally:
        receiver.send_signal(signal.SIGINT)
        stdout, _ = receiver.communicate(timeout=120)
    assert "POST /lender  key=run:0  signature ok" in stdout and '"outcome": "approved"' in stdout
