"""Charts drawn to SVG on worker processes, so that a report's charts are drawn side by side.

    drawing = draw(charts.outcome_mix, (outputs, "Decision"), id_prefix="chart-m2")
    svg, title = drawing.result()

Drawing one chart (matplotlib, text as paths) takes about a tenth of a second of one CPU and
holds the GIL, so the dozen charts of a report drawn one after another take over a second
whatever the machine has. `draw` sends the chart's function (one of audit.charts) and its data
to a pool of worker processes, made once per process from a fork server that has imported
matplotlib, and returns at once.

Workers never import the caller's main module (which multiprocessing does by default, running
an unguarded script again in every worker): they need only audit.charts, and the main module is
hidden from multiprocessing while a worker starts (`_main_hidden`).

With one CPU there is no pool. When the pool cannot start, or a worker dies, the chart is drawn
in this process instead: the report is the same either way.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from typing import Any

from audit import charts

log = logging.getLogger(__name__)

_lock = threading.Lock()
_pool: ProcessPoolExecutor | None = None
_unavailable = False


def workers() -> int:
    return min(2, os.cpu_count() or 1)


def draw(function: Callable[..., Any], args: Sequence[Any], *, id_prefix: str) -> Drawing:
    """Start drawing `function(*args)` (a Figure) as SVG; `.result()` gives (svg, title)."""
    pool = _the_pool()
    if pool is not None:
        try:
            with _lock, _main_hidden():  # a submit may start a worker
                future = pool.submit(drawn, function, tuple(args), id_prefix)
            return Drawing(function, args, id_prefix, future)
        except (BrokenProcessPool, RuntimeError) as exc:
            _lost(exc)
    return Drawing(function, args, id_prefix, None)


def warm() -> None:
    """Start the workers now (they import matplotlib), e.g. while a report's figures are computed."""
    pool = _the_pool()
    if pool is not None:
        try:
            with _lock, _main_hidden():
                for _ in range(workers()):
                    pool.submit(int)
        except (BrokenProcessPool, RuntimeError) as exc:
            _lost(exc)


def drawn(function: Callable[..., Any], args: Sequence[Any], id_prefix: str) -> tuple[str, str]:
    """The chart as (SVG, title): what a worker runs."""
    figure = function(*args)
    return charts.to_svg(figure, id_prefix=id_prefix), str(figure.get_label())


class Drawing:
    def __init__(self, function: Callable[..., Any], args: Sequence[Any], id_prefix: str,
                 future: Future[tuple[str, str]] | None) -> None:
        self._redo = (function, tuple(args), id_prefix)
        self._future = future

    def result(self) -> tuple[str, str]:
        """(svg, title); the chart's own errors (a frame without a column it needs) are raised."""
        if self._future is not None:
            try:
                return self._future.result()
            except BrokenProcessPool as exc:
                _lost(exc)
        return drawn(*self._redo)


def _the_pool() -> ProcessPoolExecutor | None:
    global _pool, _unavailable
    if _unavailable or workers() < 2:
        return None
    with _lock:
        if _pool is None:
            try:
                context = multiprocessing.get_context("forkserver")
                context.set_forkserver_preload(["audit.charts"])
                _pool = ProcessPoolExecutor(workers(), mp_context=context, initializer=_watch,
                                            initargs=(os.getpid(),))
            except (OSError, ValueError) as exc:
                log.warning("charts are drawn in this process: no worker processes (%s)", exc)
                _unavailable = True
        return _pool


def _watch(owner: int) -> None:
    """In a worker: exit when the process that made the pool is gone. A process killed without
    running its exit handlers (a notebook kernel restarted) cannot stop its workers, and they
    would otherwise wait for work forever."""

    def watch() -> None:
        while not _gone(owner):
            time.sleep(1.0)
        os._exit(0)
    threading.Thread(target=watch, name="owner-watch", daemon=True).start()


def _gone(pid: int) -> bool:
    """Whether process `pid` has ended: it no longer exists, or it is a zombie (ended, not yet
    reaped by its parent, which may itself be waiting for our pipes to close)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            return stat.read().rsplit(b")", 1)[1].split()[0] == b"Z"
    except FileNotFoundError:
        return True
    except (OSError, IndexError):
        pass  # no /proc here: ask the kernel
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        pass  # alive, under another user
    return False


def _lost(exc: BaseException) -> None:
    """The pool broke (a worker was killed): draw here from now on."""
    global _pool, _unavailable
    log.warning("charts are drawn in this process from now on: %s", exc)
    with _lock:
        _unavailable = True
        if _pool is not None:
            _pool.shutdown(wait=False, cancel_futures=True)
            _pool = None


@contextmanager
def _main_hidden() -> Iterator[None]:
    """While a worker starts: no main module for multiprocessing to import in it (it reads
    `__main__.__spec__` and `__file__`). Under `_lock`, so threads do not interleave."""
    main = sys.modules.get("__main__")
    if main is None:
        yield
        return
    saved: dict[str, Any] = {name: main.__dict__[name] for name in ("__spec__", "__file__") if name in main.__dict__}
    main.__dict__["__spec__"] = None
    main.__dict__.pop("__file__", None)
    try:
        yield
    finally:
        main.__dict__.update(saved)
