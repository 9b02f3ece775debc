"""Fewer garbage collections while a model is read and compiled.

Reading and compiling a large decision table allocates millions of objects that all stay
alive: the XML tree, the parsed cells, the compiled tests. Python's cycle collector runs a
young collection every 700 net allocations and, as the heap grows, full collections over all
of it; here they free nothing, and took 40% of the time of loading a 20,000-rule table. While
a load runs, the young generation's threshold is raised (cycles are still collected, less
often), and the thresholds found before are put back when the last load in progress ends.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

YOUNG_THRESHOLD_WHILE_LOADING = 50_000

_lock = threading.Lock()
_loads_in_progress = 0
_saved: tuple[int, int, int] | None = None


@contextmanager
def fewer_collections() -> Iterator[None]:
    """Raise the young generation's collection threshold for the duration of the block.

    Nested and concurrent blocks share one raise. A threshold of 0 (collection turned off)
    or one already higher is left alone."""
    global _loads_in_progress, _saved
    with _lock:
        if _loads_in_progress == 0:
            young, middle, old = _saved = gc.get_threshold()
            if 0 < young < YOUNG_THRESHOLD_WHILE_LOADING:
                gc.set_threshold(YOUNG_THRESHOLD_WHILE_LOADING, middle, old)
        _loads_in_progress += 1
    try:
        yield
    finally:
        with _lock:
            _loads_in_progress -= 1
            if _loads_in_progress == 0 and _saved is not None:
                gc.set_threshold(*_saved)
                _saved = None
