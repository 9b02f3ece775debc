"""Identifiers: ULIDs, 26-character strings that sort by creation time.

Decision records are written at a high rate and read back by time; an id that sorts by time
keeps the primary key index append-mostly and lets "newest first" be an index scan. Within one
millisecond a process increments the random part of its previous id (monotonic ULIDs), so ids
made by one process always sort in the order they were made.

The random part comes from a generator seeded from the operating system when the process
starts (and again in a forked child), not from `os.urandom` per id: ids must be unique, not
secret, and `os.urandom` releases the GIL, so on a busy service each id could wait a whole
thread switch interval (5 ms) to get it back.
"""

from __future__ import annotations

import os
import random
import threading
import time

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_RANDOM_BITS = 80
_lock = threading.Lock()
_last = 0  # the previous ULID made by this process, as an integer
_random = random.Random(os.urandom(32))


def _reseed() -> None:
    global _last
    _random.seed(os.urandom(32))
    _last = 0


os.register_at_fork(after_in_child=_reseed)


def new_ulid(now_ms: int | None = None) -> str:
    """A ULID: 48 bits of milliseconds since the epoch, then 80 random bits, Crockford base 32."""
    global _last
    ms = time.time_ns() // 1_000_000 if now_ms is None else now_ms
    with _lock:
        value = (ms << _RANDOM_BITS) | _random.getrandbits(_RANDOM_BITS)
        if value >> _RANDOM_BITS <= _last >> _RANDOM_BITS:
            # Same millisecond (or the clock stepped back): stay after the previous id.
            value = _last + 1
        _last = value
    chars = [""] * 26
    for i in range(25, -1, -1):
        chars[i] = _CROCKFORD[value & 31]
        value >>= 5
    return "".join(chars)
