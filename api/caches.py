"""Short-lived per-worker caches of what every evaluation reads: API keys and version resolutions.

Without them each decision would pay two database round trips before its own work (the key
check and the alias lookup), several times the cost of evaluating the model. An entry lives
`ttl` seconds, so a change made elsewhere (a key revoked by another worker or from the CLI,
an alias moved) reaches every worker within that time; the worker that makes a change clears
its own cache at once. Only positive answers are kept: an unknown key or alias is looked up
again each time, so a new key or a first publication works immediately.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class TimedCache(Generic[K, V]):
    def __init__(self, ttl: float, size: int = 10_000) -> None:
        self.ttl = ttl
        self.size = max(1, size)
        self._entries: OrderedDict[K, tuple[float, V]] = OrderedDict()
        self._lock = threading.Lock()

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

    def put(self, key: K, value: V) -> None:
        if self.ttl <= 0:
            return
        with self._lock:
            self._entries[key] = (time.monotonic() + self.ttl, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)
