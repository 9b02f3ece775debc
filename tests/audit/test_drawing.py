"""Charts drawn on worker processes are the charts drawn here; a worker never runs the caller's
script again; a broken pool falls back to drawing here."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd
import pytest

from audit import charts, drawing

ROOT = Path(__file__).parents[2]
VOLUME = pd.DataFrame({"window_start": pd.to_datetime(["2026-01-05", "2026-01-12"], utc=True),
                       "version": [1, 1], "alias": ["production", "production"], "arm": [None, None],
                       "decisions": [120, 80]})


def test_a_worker_draws_what_this_process_draws() -> None:
    pending = drawing.draw(charts.volume, (VOLUME,), id_prefix="v1")
    here = drawing.drawn(charts.volume, (VOLUME,), "v1")
    assert pending.result() == here
    assert here[0].startswith("<svg") and 'id="v1-' in here[0] and here[1]


def test_a_chart_error_reaches_the_caller() -> None:
    with pytest.raises(ValueError, match="window_start"):
        drawing.draw(charts.volume, (VOLUME.drop(columns=["window_start"]),), id_prefix="x").result()


def test_an_unguarded_script_is_not_run_again_by_the_workers(tmp_path: Path) -> None:
    runs = tmp_path / "runs.txt"
    script = tmp_path / "report_script.py"
    script.write_text(textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(ROOT)!r})
        with open({str(runs)!r}, "a") as out:
            out.write("ran\\n")
        import pandas as pd
        from audit import charts, drawing
        volume = pd.DataFrame({{"window_start": pd.to_datetime(["2026-01-05"], utc=True), "version": [1],
                                "alias": ["production"], "arm": [None], "decisions": [3]}})
        drawings = [drawing.draw(charts.volume, (volume,), id_prefix=f"c{{i}}") for i in range(4)]
        print(sum(d.result()[0].startswith("<svg") for d in drawings))
    """))
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "4"
    assert runs.read_text() == "ran\n"  # once: in the script's own process


def test_a_broken_pool_falls_back_to_drawing_here() -> None:
    pending = drawing.draw(charts.volume, (VOLUME,), id_prefix="b")
    pool = drawing._the_pool()
    if pool is not None:  # kill the workers under the pending drawing
        for process in list(pool._processes.values()):  # type: ignore[union-attr]
            process.kill()
    assert pending.result() == drawing.drawn(charts.volume, (VOLUME,), "b")
    assert drawing.draw(charts.volume, (VOLUME,), id_prefix="c").result()[0].startswith("<svg")
    drawing._unavailable = False  # later tests may have a pool again


def test_workers_exit_when_their_owner_is_killed(tmp_path: Path) -> None:
    script = tmp_path / "killed.py"
    script.write_text(textwrap.dedent(f"""
        import os, signal, sys
        sys.path.insert(0, {str(ROOT)!r})
        import pandas as pd
        from audit import charts, drawing
        volume = pd.DataFrame({{"window_start": pd.to_datetime(["2026-01-05"], utc=True), "version": [1],
                                "alias": ["production"], "arm": [None], "decisions": [3]}})
        drawing.draw(charts.volume, (volume,), id_prefix="k").result()
        print(" ".join(str(pid) for pid in drawing._the_pool()._processes), flush=True)
        os.kill(os.getpid(), signal.SIGKILL)  # as a notebook kernel is killed: no exit handlers
    """))
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120)
    workers = [int(pid) for pid in done.stdout.split()]
    assert workers, done.stderr
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and any(_alive(pid) for pid in workers):
        time.sleep(0.2)
    assert not [pid for pid in workers if _alive(pid)]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is gone for our purposes
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split()[2] != "Z"
    except OSError:
        return False
    return True
