"""Where a service worker spends its time under load: py-spy on one worker during the run.

py-spy samples the worker from outside (no change to the service) with `--gil`: only the
thread holding the GIL is sampled, so the samples are the worker's Python CPU time, not its
idle threads. The summary gives
- the share of samples by where the innermost frame is (its package: SQLAlchemy and the
  database driver, the HTTP stack, the decision engine, the service's own code, ...), and
- the inclusive share of the service's own functions (api/, registry/, execution/), which says
  which step of a request costs what.

py-spy is not a dependency of the project: `pip install py-spy` (into the virtualenv, or
anywhere on PATH, or point $PY_SPY at it).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

INSTALL_HINT = "py-spy is not installed: `.venv/bin/pip install py-spy` (or set $PY_SPY to its path)"
_FRAME = re.compile(r"^(?P<function>.*) \((?P<file>.*?)(?::(?P<line>\d+))?\)$")
OWN_CODE = ("api/", "registry/", "execution/", "decisions/", "audit/")

# Buckets for the innermost frame, by file path; the first match wins.
BUCKETS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("database: SQLAlchemy/SQLModel", ("sqlalchemy/", "sqlmodel/")),
    ("database: driver (sqlite3, psycopg)", ("sqlite3/", "psycopg/", "psycopg_binary/", "psycopg_pool/")),
    ("HTTP: uvicorn, h11, httptools", ("uvicorn/", "h11/", "httptools/")),
    ("HTTP: FastAPI, Starlette, anyio", ("fastapi/", "starlette/", "anyio/")),
    ("validation: pydantic", ("pydantic/", "pydantic_core/")),
    ("asyncio and threads", ("asyncio/", "threading.py", "queue.py", "concurrent/", "selectors.py")),
    ("JSON", ("json/",)),
    ("logging", ("logging/",)),
    ("decision engine (decisions/)", ("decisions/",)),
    ("registry/", ("registry/",)),
    ("api/", ("api/",)),
    ("execution/", ("execution/",)),
)


class PySpyMissing(RuntimeError):
    pass


def py_spy_path() -> str:
    for candidate in (os.environ.get("PY_SPY"), str(Path(sys.executable).parent / "py-spy"), shutil.which("py-spy")):
        if candidate and Path(candidate).is_file():
            return candidate
    raise PySpyMissing(INSTALL_HINT)


def worker_pids(supervisor: int) -> list[int]:
    """The uvicorn worker processes under a `decisionary serve` supervisor (itself, with one worker)."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            command = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        if parent == supervisor and "spawn_main" in command:
            pids.append(int(entry))
    return sorted(pids) or [supervisor]


def start(pid: int, seconds: float, out: Path, rate: int = 100) -> subprocess.Popen[bytes]:
    """Start sampling `pid` for `seconds` into `out` (py-spy's raw, collapsed-stack format)."""
    command = [py_spy_path(), "record", "--pid", str(pid), "--duration", str(max(1, round(seconds))),
               "--rate", str(rate), "--gil", "--nonblocking", "--format", "raw", "--output", str(out)]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _frames(stack: str) -> list[tuple[str, str]]:
    frames = []
    for text in stack.split(";"):
        match = _FRAME.match(text)
        if match is None:
            frames.append((text, ""))
            continue
        path = match["file"].replace("\\", "/")
        path = path.split("site-packages/", 1)[-1]
        path = re.sub(r"^.*?/lib/python3\.\d+/", "", path)
        path = path.split("/work/main/", 1)[-1]
        frames.append((match["function"], path))
    return frames


def bucket(path: str) -> str:
    for name, markers in BUCKETS:
        if any(path.startswith(marker) or f"/{marker}" in path for marker in markers):
            return name
    return "other (Python stdlib, C code)"


def summarise(raw: Path, top: int = 20) -> dict[str, Any]:
    """Shares (in % of GIL-holding samples) by bucket of the innermost frame, and by own function."""
    by_bucket: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for line in raw.read_text(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        total += count
        frames = _frames(stack)
        by_bucket[bucket(frames[-1][1])] += count
        for name in {f"{function} ({path})" for function, path in frames if path.startswith(OWN_CODE)}:
            own[name] += count
    if total == 0:
        return {"samples": 0, "by_package": {}, "own_functions": {}}
    return {
        "samples": total,
        "by_package": {k: round(100 * v / total, 1) for k, v in by_bucket.most_common()},
        "own_functions": {k: round(100 * v / total, 1) for k, v in own.most_common(top)},
    }
