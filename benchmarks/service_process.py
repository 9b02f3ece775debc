"""Servers under test as subprocesses: `decisionary serve` and the bare-FastAPI ceiling.

Each runs in its own process group, with its output in a log file (a pipe nobody reads would
block it). `stop()` interrupts the supervisor as Ctrl-C would, which stops the workers after
the requests they are serving; a server that does not stop in time is killed.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT_S = 90.0  # workers import FastAPI, SQLAlchemy and the engine on a loaded machine
STOP_TIMEOUT_S = 30.0


class ServerFailed(RuntimeError):
    """The server did not come up; the message ends with its log."""


def decisionary_command() -> list[str]:
    """The project's CLI: the installed `decisionary` script beside this Python, else the module."""
    script = Path(sys.executable).parent / "decisionary"
    return [str(script)] if script.is_file() else [sys.executable, "-m", "api.cli"]


def service_command(port: int, workers: int, database_url: str) -> list[str]:
    return [*decisionary_command(), "serve", "--host", "127.0.0.1", "--port", str(port), "--workers",
            str(workers), "--database-url", database_url, "--no-migrate"]


def ceiling_command(port: int, workers: int) -> list[str]:
    return [sys.executable, "-m", "benchmarks.service_ceiling", "--port", str(port), "--workers", str(workers)]


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    base_url: str
    log_path: Path

    def log_tail(self, chars: int = 3000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def stop(self) -> None:
        if self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)  # its own group: the supervisor and its workers
            self.process.wait(10)


def start(command: list[str], port: int, log_path: Path, *, workers: int, env: dict[str, str] | None = None) -> Server:
    """Start `command` and wait until every worker answers /healthz (or fail with its log)."""
    log = log_path.open("wb")
    process = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                               env={**os.environ, **(env or {})})
    log.close()
    server = Server(process, f"http://127.0.0.1:{port}", log_path)
    try:
        _wait_healthy(server, workers)
    except BaseException:
        server.stop()
        raise
    return server


def _wait_healthy(server: Server, workers: int) -> None:
    """Until /healthz answers 200, then until the log shows every worker started (uvicorn logs
    one "Application startup complete" per worker): load must not hit a half-started server."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise ServerFailed(f"the server exited with {server.process.returncode}:\n{server.log_tail()}")
        if _healthy(server.base_url) and server.log_tail(1_000_000).count("Application startup complete") >= workers:
            return
        time.sleep(0.25)
    raise ServerFailed(f"the server did not start within {START_TIMEOUT_S:.0f} s:\n{server.log_tail()}")


def _healthy(base_url: str) -> bool:
    try:
        with urllib.request.urlopen(base_url + "/healthz", timeout=2) as answer:  # noqa: S310 - loopback URL
            return bool(answer.status == 200)
    except (urllib.error.URLError, OSError):
        return False


_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> tuple[int, float] | None:
    """(parent pid, CPU seconds used: user + system) of a live process, from /proc."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text.rsplit(")", 1)[1].split()  # after "pid (comm)": state, ppid, ..., utime (12), stime (13)
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS


def tree_cpu_seconds(root: int) -> float:
    """CPU seconds used so far by `root` and every live descendant (workers, database backends)."""
    stats: dict[int, tuple[int, float]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            stat = _stat(int(entry))
            if stat is not None:
                stats[int(entry)] = stat
    children: dict[int, list[int]] = {}
    for pid, (parent, _) in stats.items():
        children.setdefault(parent, []).append(pid)
    total, todo = 0.0, [root]
    while todo:
        pid = todo.pop()
        if pid in stats:
            total += stats[pid][1]
        todo.extend(children.get(pid, []))
    return total
