"""`decisionary dev` (make run): the examples published with their bindings, and the service, a
worker and the example receiver started together and stopped together."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import sqlalchemy as sa

from api.devserver import dev_environment, prepare
from execution.bindings_store import get_bindings
from registry import (
    approve,
    create_draft,
    get_alias,
    make_engine,
    publish,
    revoke_key,
    set_alias,
    submit,
    unit_of_work,
    verify_key,
)
from tests.execution.conftest import APPROVE, EXAMPLES, LOAN_BINDINGS, LOAN_DMN

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _children_of(pid: int) -> dict[int, str]:
    """Live processes whose parent is `pid`, with their command lines (Linux /proc)."""
    found: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue  # it ended meanwhile
        parent = re.search(r"^PPid:\s*(\d+)", status, re.MULTILINE)
        state = re.search(r"^State:\s*(\w)", status, re.MULTILINE)
        if parent and int(parent.group(1)) == pid and not (state and state.group(1) == "Z"):
            found[int(entry.name)] = cmdline
    return found


def _alive(pid: int) -> bool:
    try:
        state = re.search(r"^State:\s*(\w)", Path(f"/proc/{pid}/status").read_text(), re.MULTILINE)
    except OSError:
        return False
    return not (state and state.group(1) == "Z")


class Output:
    """The lines a process prints, collected by a thread."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.lines: list[str] = []
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self._read, args=(process,), daemon=True)
        self.thread.start()

    def _read(self, process: subprocess.Popen[str]) -> None:
        assert process.stdout is not None
        for line in process.stdout:
            with self.lock:
                self.lines.append(line.rstrip("\n"))

    @property
    def text(self) -> str:
        with self.lock:
            return "\n".join(self.lines)

    def wait_for(self, found: Callable[[str], object], what: str, timeout: float,
                 process: subprocess.Popen[str]) -> object:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            result = found(self.text)
            if result:
                return result
            assert process.poll() is None, f"decisionary dev exited ({process.returncode}) before {what}:\n{self.text}"
            time.sleep(0.2)
        raise AssertionError(f"no {what} after {timeout:.0f} s:\n{self.text}")


def test_dev_runs_the_service_a_worker_and_the_receiver_and_stops_them_all(tmp_path: Path) -> None:
    port, receiver_port = _free_port(), _free_port()
    env = {k: v for k, v in os.environ.items()
           if k not in ("DECISIONARY_ALLOWED_HOSTS", "DECISIONARY_WEBHOOK_SECRET", "DECISIONARY_EXECUTION_CONFIG")}
    dev = subprocess.Popen([sys.executable, "-m", "api.cli", "dev", "--port", str(port), "--receiver-port",
                            str(receiver_port), "--data-dir", str(tmp_path / "data"), "--examples", str(EXAMPLES)],
                           cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True)
    output = Output(dev)
    children: dict[int, str] = {}
    try:
        key = output.wait_for(lambda text: re.search(r"admin key: (dcy_\S+)", text), "admin key", 120, dev)
        assert isinstance(key, re.Match)
        base = f"http://127.0.0.1:{port}"
        output.wait_for(lambda text: "Uvicorn running" in text, "service", 120, dev)
        assert f"receiver:  http://127.0.0.1:{receiver_port}" in output.text
        assert re.search(r"webhook secret: dev-\w+", output.text), output.text
        children = _children_of(dev.pid)
        assert sorted("example-receiver" in c for c in children.values()) == [False, True], children
        assert any(" worker " in c for c in children.values()), children

        answer = httpx.post(f"{base}/v1/decisions/loan-approval/evaluate", json={"inputs": APPROVE},
                            headers={"Authorization": f"Bearer {key.group(1)}"}, timeout=60)
        assert answer.status_code == 200, answer.text
        assert answer.json()["outputs"]["Decision"] == "Approve"
        decision_id = answer.json()["decision_id"]

        # The worker calls the receiver, which prints the signed callback with the decision's id.
        output.wait_for(lambda text: f'[receiver]     "decision_id": "{decision_id}"' in text, "callback", 90, dev)
        callback = re.search(r"\[receiver\] \S+ POST /lender/decisions  key=\S+  (.+)", output.text)
        assert callback is not None and callback.group(1) == "signature ok", output.text
        assert '[receiver]     "outcome": "approved"' in output.text
    finally:
        dev.send_signal(signal.SIGINT)
        try:
            dev.wait(90)
        except subprocess.TimeoutExpired:
            dev.kill()
            dev.wait()
            for pid in _children_of(dev.pid):
                os.kill(pid, signal.SIGKILL)
            raise
        output.thread.join(10)
    assert dev.returncode == 0, output.text
    deadline = time.monotonic() + 120
    while any(_alive(pid) for pid in children) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not [pid for pid in children if _alive(pid)], children
    assert "stopping the worker and the receiver" in output.text
    assert "[worker] worker stopped" in output.text


def test_dev_publishes_the_examples_with_their_bindings_once(tmp_path: Path) -> None:
    examples = tmp_path / "examples"
    (examples / "bindings").mkdir(parents=True)
    shutil.copy(LOAN_DMN, examples / "loan-approval.dmn")
    shutil.copy(LOAN_BINDINGS, examples / "bindings" / "loan-approval.yaml")
    lines: list[str] = []
    url, _ = prepare(tmp_path / "data", examples, say=lines.append)
    assert any("loan-approval version 1 (loan-approval.dmn with its bindings): published" in line
               for line in lines), lines
    lines.clear()
    prepare(tmp_path / "data", examples, say=lines.append)  # a restart changes nothing
    assert any("loan-approval version 1" in line and "already published" in line for line in lines), lines
    lines.clear()
    # The receiver elsewhere: other bindings, so another version, whose bindings call it there.
    prepare(tmp_path / "data", examples, say=lines.append, receiver_url="http://127.0.0.1:9123")
    assert any("loan-approval version 2" in line and ": published" in line for line in lines), lines
    engine = make_engine(url)
    try:
        with unit_of_work(engine, read_only=True) as session:
            assert get_alias(session, "loan-approval", "production").number == 2
            first, second = get_bindings(session, "loan-approval", 1), get_bindings(session, "loan-approval", 2)
    finally:
        engine.dispose()
    assert first.state == second.state == "published"
    assert first.text == LOAN_BINDINGS.read_text(encoding="utf-8")
    assert second.text is not None and "http://127.0.0.1:9123/lender/decisions" in second.text
    assert "127.0.0.1:8001" not in second.text and first.hash != second.hash


def test_dev_environment_allows_the_receiver_and_has_a_secret() -> None:
    env: dict[str, str] = {}
    made = dev_environment(8001, env)
    assert made == env and env["DECISIONARY_ALLOWED_HOSTS"] == "127.0.0.1"
    assert env["DECISIONARY_WEBHOOK_SECRET"].startswith("dev-") and len(env["DECISIONARY_WEBHOOK_SECRET"]) > 16
    assert dev_environment(8001, {})["DECISIONARY_WEBHOOK_SECRET"] != env["DECISIONARY_WEBHOOK_SECRET"]
    mine = {"DECISIONARY_ALLOWED_HOSTS": "partner.example.com", "DECISIONARY_WEBHOOK_SECRET": "s3cret"}
    assert dev_environment(8001, mine) == {"DECISIONARY_ALLOWED_HOSTS": "partner.example.com,127.0.0.1",
                                           "DECISIONARY_WEBHOOK_SECRET": "s3cret"}
    already = {"DECISIONARY_ALLOWED_HOSTS": "127.0.0.1:8001"}
    assert dev_environment(8001, already)["DECISIONARY_ALLOWED_HOSTS"] == "127.0.0.1:8001"


def test_a_restart_with_unchanged_examples_publishes_nothing_and_keeps_the_admin_key(tmp_path: Path) -> None:
    examples = tmp_path / "examples"
    (examples / "bindings").mkdir(parents=True)
    for name in ("loan-approval.dmn", "loan-approval.yaml", "loan-scorecard.yaml"):
        shutil.copy(EXAMPLES / name, examples / name)
    shutil.copy(LOAN_BINDINGS, examples / "bindings" / "loan-approval.yaml")
    data = tmp_path / "data"
    lines: list[str] = []
    url, first_key = prepare(data, examples, say=lines.append)
    # One source per key: the DMN file; the YAML form of the same model is not a second version.
    assert any("skipped loan-approval.yaml: loan-approval is published from loan-approval.dmn" in line
               for line in lines), lines
    key_file = data / "dev-admin-key"
    assert key_file.read_text().strip() == first_key
    assert key_file.stat().st_mode & 0o777 == 0o600

    def state() -> tuple[list[tuple[str, int, str]], list[tuple[str, str, int, int]], int]:
        engine = make_engine(url)
        try:
            with engine.connect() as connection:
                versions = [tuple(r) for r in connection.execute(sa.text(
                    "SELECT m.key, v.number, v.state FROM versions v JOIN models m ON m.id = v.model_id "
                    "ORDER BY m.key, v.number"))]
                moves = [tuple(r) for r in connection.execute(sa.text(
                    "SELECT m.key, a.alias, a.id, a.to_number FROM alias_moves a JOIN models m ON m.id = a.model_id "
                    "ORDER BY a.id"))]
                keys = connection.execute(sa.text("SELECT count(*) FROM api_keys")).scalar_one()
        finally:
            engine.dispose()
        return versions, moves, int(keys)

    before = state()
    assert before[0] == [("loan-approval", 1, "published"), ("loan-scorecard", 1, "published")]
    lines.clear()
    _, second_key = prepare(data, examples, say=lines.append)
    assert second_key == first_key
    assert state() == before  # no version, no alias move, no key
    assert any("loan-approval version 1" in line and "already published" in line for line in lines), lines

    # A version published by someone else keeps production across a restart.
    engine = make_engine(url)
    try:
        with unit_of_work(engine) as session:
            draft = create_draft(session, "loan-approval", (EXAMPLES / "loan-approval.dmn").read_bytes(),
                                 author="ana", format="dmn", filename="loan-approval.dmn", comment="tuned")
            submit(session, "loan-approval", draft.number, by="ana")
            approve(session, "loan-approval", draft.number, by="ben")
            publish(session, "loan-approval", draft.number, by="ben")
            set_alias(session, "loan-approval", "production", draft.number, by="ben")
    finally:
        engine.dispose()
    after_ana = state()
    prepare(data, examples, say=lines.append)
    assert state() == after_ana

    # A changed example file is published once, and production follows it.
    changed = (EXAMPLES / "loan-scorecard.yaml").read_text(encoding="utf-8")
    assert "description: " in changed
    (examples / "loan-scorecard.yaml").write_text(changed.replace("description: ", "description: Retuned. ", 1),
                                                  encoding="utf-8")
    prepare(data, examples, say=lines.append)
    versions, moves, keys = state()
    assert ("loan-scorecard", 2, "published") in versions and keys == before[2]
    assert moves[-1][0] == "loan-scorecard" and moves[-1][3] == 2
    prepare(data, examples, say=lines.append)
    assert state() == (versions, moves, keys)


def test_a_revoked_dev_admin_key_is_replaced(tmp_path: Path) -> None:
    examples = tmp_path / "none"
    url, first = prepare(tmp_path / "data", examples, say=lambda _: None)
    engine = make_engine(url)
    try:
        with unit_of_work(engine) as session:
            key = verify_key(session, first)
            assert key is not None
            revoke_key(session, key.id, by="admin")
    finally:
        engine.dispose()
    _, second = prepare(tmp_path / "data", examples, say=lambda _: None)
    assert second != first and (tmp_path / "data" / "dev-admin-key").read_text().strip() == second
    (tmp_path / "data" / "dev-admin-key").write_text("dcy_from-another-database\n")
    _, third = prepare(tmp_path / "data", examples, say=lambda _: None)
    assert third not in (first, second, "dcy_from-another-database")
