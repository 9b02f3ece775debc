"""Short-lived per-worker caches of what every evaluation reads: API keys and version resolutions.

Without them each decision would pay two database round trips before its own work (the key
check and the alias lookup), several times the cost of evaluating the model. An entry lives
`ttl` seconds, so a change made elsewhere (a key revoked by another worker or from the CLI,
an alias moved) reaches every worker within that time; the worker that makes a change clears
its own cache at once. Only positive answers are kept: an unknown key or alias is looked up
again each time, so a new key or a first publication works immediately.

When an entry expires, the first request to see it looks it up again in the background
(`lookup` says so) while the others go on with the old value for the moment that takes: a
busy worker would otherwise send every request in flight to the database at the same
instant, once a second. API keys are never served stale (`cached(..., stale=False)`): a key
revoked elsewhere is refused by every call made `ttl` seconds after the revocation.

A lookup that started before `clear()` (this worker changed something) does not put its
answer back afterwards: it may have read the database before the change committed.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

from starlette.concurrency import run_in_threadpool

log = logging.getLogger("decisionary.api")

K = TypeVar("K")
V = TypeVar("V")


class TimedCache(Generic[K, V]):
    def __init__(self, ttl: float, size: int = 10_000) -> None:
        self.ttl = ttl
        self.size = max(1, size)
        self._entries: OrderedDict[K, tuple[float, V]] = OrderedDict()
        self._refreshing: set[K] = set()
        self._lock = threading.Lock()
        self.generation = 0  # advanced by clear(): answers looked up before it are not kept

    def get(self, key: K) -> V | None:
        if self.ttl <= 0:
            return None
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry[0] < time.monotonic():
            with self._lock:
                self._entries.pop(key, None)
            return None
        return entry[1]

    def lookup(self, key: K) -> tuple[V | None, bool]:
        """(value, refresh). A fresh entry: (value, False). An expired one, less than `ttl` past
        its time: its value, with refresh True for the first caller only, who must `put` (or
        `pop`) the looked-up value; the others get False meanwhile. Otherwise (None, False)."""
        if self.ttl <= 0:
            return None, False
        entry = self._entries.get(key)
        if entry is None:
            return None, False
        expires, value = entry
        now = time.monotonic()
        if now < expires:
            return value, False
        with self._lock:
            if now >= expires + self.ttl:
                self._entries.pop(key, None)
                self._refreshing.discard(key)
                return None, False
            if key in self._refreshing:
                return value, False
            self._refreshing.add(key)
            return value, True

    def pop(self, key: K) -> None:
        with self._lock:
            self._entries.pop(key, None)
            self._refreshing.discard(key)

    def put(self, key: K, value: V, *, generation: int | None = None) -> None:
        """Keep `value`; when `generation` (read before looking it up) is not the current one,
        the cache was cleared meanwhile and the value may be older than the change: dropped."""
        if self.ttl <= 0:
            return
        with self._lock:
            if generation is not None and generation != self.generation:
                self._refreshing.discard(key)
                return
            self._refreshing.discard(key)
            self._entries[key] = (time.monotonic() + self.ttl, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self.generation += 1
            self._entries.clear()
            self._refreshing.clear()

    def __len__(self) -> int:
        return len(self._entries)


_background: set[asyncio.Task[None]] = set()  # refreshes in flight (a task needs a reference)


async def cached(cache: TimedCache[K, V], key: K, look_up: Callable[[], V | None], *,
                 stale: bool = True) -> V | None:
    """`cache`'s value for `key`, or what the (blocking) `look_up` finds, which is then kept.

    With `stale`, an expired value is answered while `look_up` refreshes it in the background
    (module docstring); a refresh that finds nothing, or fails, drops the entry. Without it, an
    expired value is looked up again before answering."""
    if stale:
        value, refresh = cache.lookup(key)
    else:
        value, refresh = cache.get(key), False
    if value is None:
        generation = cache.generation
        value = await run_in_threadpool(look_up)
        if value is not None:
            cache.put(key, value, generation=generation)
        return value
    if refresh:
        task = asyncio.get_running_loop().create_task(_refresh(cache, key, look_up, cache.generation))
        _background.add(task)
        task.add_done_callback(_background.discard)
    return value


async def _refresh(cache: TimedCache[K, V], key: K, look_up: Callable[[], V | None], generation: int) -> None:
    try:
        value = await run_in_threadpool(look_up)
    except Exception as exc:  # noqa: BLE001 - the next request looks it up itself and answers the fault
        log.warning("refreshing a cached lookup failed: %s", type(exc).__name__)
        cache.pop(key)
        return
    if value is None:
        cache.pop(key)
    else:
        cache.put(key, value, generation=generation)
