"""Identifiers: ULIDs, 26-character strings that sort by creation time.

Decision records are written at a high rate and read back by time; an id that sorts by time
keeps the primary key index append-mostly and lets "newest first" be an index scan. Within one
millisecond a process increments the random part of its previous id (monotonic ULIDs), so ids
made by one process always sort in the order they were made.
"""

from __future__ import annotations

import os
import threading
import time

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_RANDOM_BITS = 80
_lock = threading.Lock()
_last = 0  # the previous ULID made by this process, as an integer


def new_ulid(now_ms: int | None = None) -> str:
    """A ULID: 48 bits of milliseconds since the epoch, then 80 random bits, Crockford base 32."""
    global _last
    ms = time.time_ns() // 1_000_000 if now_ms is None else now_ms
    with _lock:
        value = (ms << _RANDOM_BITS) | int.from_bytes(os.urandom(10), "big")
        if value >> _RANDOM_BITS <= _last >> _RANDOM_BITS:
            # Same millisecond (or the clock stepped back): stay after the previous id.
            value = _last + 1
        _last = value
    chars = []
    for _ in range(26):
        chars.append(_CROCKFORD[value & 31])
        value >>= 5
    return "".join(reversed(chars))
