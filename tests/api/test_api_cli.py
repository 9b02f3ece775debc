"""The service's commands: db upgrade, keys, publish / version / alias / call / diff against a
running service, `serve` (with workers, from the app factory) and the dev server's setup."""

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

from api.devserver import prepare
from registry import get_alias, make_engine, unit_of_work, verify_key
from tests.api.conftest import EXAMPLES, LOAN_INPUT, SHIPPING_YAML, Live

ROOT = Path(__file__).resolve().parents[2]


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "api.cli", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=120, env={**os.environ, **(env or {})}, check=False)


def test_db_upgrade_and_keys_create(tmp_path: Path, database_url: str) -> None:
    assert cli("db", "upgrade", "--database-url", database_url).returncode == 0
    made = cli("keys", "create", "--role", "approver", "--name", "ana", "--database-url", database_url)
    assert made.returncode == 0, made.stderr
    secret = made.stdout.strip()
    assert secret.startswith("dcy_") and "ana" in made.stderr
    engine = make_engine(database_url)
    try:
        with unit_of_work(engine, read_only=True) as session:
            key = verify_key(session, secret)
        assert key is not None and (key.name, key.role) == ("ana", "approver")
    finally:
        engine.dispose()
    listed = cli("keys", "list", "--database-url", database_url)
    assert "ana" in listed.stdout and secret not in listed.stdout
    refused = cli("keys", "create", "--role", "pilot", "--database-url", database_url)
    assert refused.returncode == 2 and "unknown role" in refused.stderr and "Traceback" not in refused.stderr
    # A second key of the same person is issued to its identity: a taken name is not a new identity.
    taken = cli("keys", "create", "--role", "admin", "--name", "Ana", "--database-url", database_url)
    assert taken.returncode == 0 and "for ana" in taken.stderr
    refused_again = cli("identities", "create", "ANA", "--database-url", database_url)
    assert refused_again.returncode == 2 and "already an identity 'ana'" in refused_again.stderr
    second = cli("keys", "create", "--role", "admin", "--name", "Ana's laptop", "--identity", "ana",
                 "--database-url", database_url)
    assert second.returncode == 0, second.stderr
    made = cli("identities", "create", "Rita", "--database-url", database_url)
    assert made.returncode == 0 and "Rita" in made.stdout
    identities = cli("identities", "list", "--database-url", database_url).stdout
    assert "Rita" in identities and "decisionary identities create" in identities
    [laptop] = [line for line in cli("keys", "list", "--database-url", database_url).stdout.splitlines()
                if "Ana's laptop" in line]
    assert "ana" in laptop.replace("Ana's laptop", "").split()  # issued to the identity ana


def test_publish_approve_alias_call_and_diff_on_a_running_service(live: Live, tmp_path: Path) -> None:
    model = tmp_path / "shipping.yaml"
    model.write_text(SHIPPING_YAML)
    remote = ["--url", live.url]
    author = [*remote, "--api-key", live.keys["author"]]
    approver = [*remote, "--api-key", live.keys["approver"]]

    published = cli("publish", str(model), "--key", "shipping", *author, "-m", "first")
    assert published.returncode == 0, published.stderr
    assert "shipping version 1: submitted" in published.stdout
    self_approval = cli("version", "approve", "shipping", "1", *author)
    assert self_approval.returncode == 2 and "403" in self_approval.stderr
    for step in ("approve", "publish"):
        done = cli("version", step, "shipping", "1", *approver)
        assert done.returncode == 0, done.stderr
    assert cli("alias", "set", "shipping", "production", "1", *approver, "--why", "go").returncode == 0

    called = cli("call", "shipping", *remote, "--api-key", live.keys["caller"], "--json",
                 "--input", '{"Weight": 2, "Speed": "standard", "Ship Date": "2024-01-30"}')
    assert called.returncode == 0, called.stderr
    answer = json.loads(called.stdout)
    assert answer["outputs"] == {"Fee": 8, "Arrival": "2024-02-02"} and answer["alias"] == "production"

    model.write_text(SHIPPING_YAML.replace("Weight * 4", "Weight * 7"))
    assert cli("publish", str(model), "--key", "shipping", *author).returncode == 0
    remote_diff = cli("diff", "shipping", "1", "2", *remote, "--api-key", live.keys["viewer"])
    assert remote_diff.returncode == 0 and "Weight * 7" in remote_diff.stdout
    local_diff = cli("diff", "shipping", "1", "2", "--database-url", live.database_url)
    assert local_diff.stdout == remote_diff.stdout

    unreachable = cli("call", "shipping", "--url", "http://127.0.0.1:9", "--input", "{}")
    assert unreachable.returncode == 2 and "cannot reach" in unreachable.stderr


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_serve_with_workers(tmp_path: Path) -> None:
    port = _free_port()
    made = cli("keys", "create", "--role", "viewer", "--data-dir", str(tmp_path))
    server = subprocess.Popen([sys.executable, "-m", "api.cli", "serve", "--port", str(port), "--data-dir",
                               str(tmp_path), "--workers", "2"], cwd=ROOT, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True, env={**os.environ})
    try:
        deadline, status = time.monotonic() + 60, None
        while time.monotonic() < deadline and server.poll() is None:
            try:
                status = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code
                break
            except httpx.HTTPError:
                time.sleep(0.2)
        assert status == 200
        whoami = httpx.get(f"http://127.0.0.1:{port}/v1/whoami",
                           headers={"Authorization": f"Bearer {made.stdout.strip()}"}, timeout=10)
        assert whoami.json()["role"] == "viewer"
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def test_dev_server_setup_publishes_the_examples_once(tmp_path: Path) -> None:
    examples = tmp_path / "examples"
    examples.mkdir()
    (examples / "loan-approval.dmn").write_bytes((EXAMPLES / "loan-approval.dmn").read_bytes())
    (examples / "shipping.yaml").write_text(SHIPPING_YAML)
    (examples / "notes.yaml").write_text("just: notes\n")  # not a model: skipped
    lines: list[str] = []
    url, secret = prepare(tmp_path / "data", examples, say=lines.append)
    assert secret.startswith("dcy_")
    assert any("loan-approval version 1" in line and ": published" in line for line in lines), lines
    assert any("skipped notes.yaml" in line for line in lines), lines
    engine = make_engine(url)
    try:
        with unit_of_work(engine, read_only=True) as session:
            assert get_alias(session, "loan-approval", "production").number == 1
            assert get_alias(session, "shipping", "production").number == 1
            key = verify_key(session, secret)
            assert key is not None and key.role == "admin"
    finally:
        engine.dispose()
    lines.clear()
    prepare(tmp_path / "data", examples, say=lines.append)
    assert any("loan-approval version 1" in line and "already published" in line for line in lines), lines


def test_dev_server_setup_publishes_the_shipped_examples(tmp_path: Path) -> None:
    lines: list[str] = []
    url, _ = prepare(tmp_path / "data", EXAMPLES, say=lines.append)
    engine = make_engine(url)
    try:
        with unit_of_work(engine, read_only=True) as session:
            target = get_alias(session, "loan-approval", "production")
    finally:
        engine.dispose()
    assert target.number >= 1, lines
    assert json.loads(LOAN_INPUT.read_text())  # the example input the README points at is there
