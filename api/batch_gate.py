"""A bound on batch evaluation per worker process, so that single calls keep their latency.

A batch (`evaluate-batch`, `evaluate-csv`: up to `max_batch_rows` rows) is seconds of CPU in a
thread and one long write transaction; single calls are evaluated on the event loop in tens of
microseconds and their records written by the record writer in group commits. Four 10,000-row
uploads at once left a single call waiting 9 s: for the GIL behind four batch threads, and for
SQLite's write lock behind four large transactions queued on it (some past the busy timeout, 503).

So each worker process runs at most `limit` batches at once (DECISIONARY_BATCH_CONCURRENCY,
1 by default). Up to `queue` more (DECISIONARY_BATCH_QUEUE, 4) wait their turn, in arrival
order, on the event loop: a waiting batch holds no thread, and its body is not read until its
turn. Beyond that a batch is answered at once with 503 and `Retry-After`, before its body is
read. Single calls never wait here: they are not batches.
"""

from __future__ import annotations

import asyncio
import json

from starlette.types import ASGIApp, Receive, Scope, Send

from api.problems import PROBLEM_MEDIA_TYPE, problem_body

BATCH_SUFFIXES = ("/evaluate-batch", "/evaluate-csv")
RETRY_AFTER_S = 2


def is_batch(scope: Scope) -> bool:
    path = str(scope.get("path", ""))
    return scope.get("method") == "POST" and path.startswith("/v1/decisions/") and path.endswith(BATCH_SUFFIXES)


class BatchGate:
    """ASGI middleware: at most `limit` batch requests run at once in this process, `queue` wait."""

    def __init__(self, app: ASGIApp, *, limit: int, queue: int) -> None:
        self.app = app
        self.limit = max(1, limit)
        self.queue = max(0, queue)
        self.running = 0
        self.waiting = 0
        self._turns: asyncio.Semaphore | None = None  # made on the serving event loop

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_batch(scope):
            await self.app(scope, receive, send)
            return
        if self._turns is None:
            self._turns = asyncio.Semaphore(self.limit)
        turns = self._turns
        if turns.locked() and self.waiting >= self.queue:
            await self._refuse(scope, send)
            return
        self.waiting += 1
        try:
            await turns.acquire()
        finally:
            self.waiting -= 1
        self.running += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.running -= 1
            turns.release()

    async def _refuse(self, scope: Scope, send: Send) -> None:
        detail = (f"this worker is already evaluating {self.running} batch(es) with {self.waiting} waiting "
                  f"(DECISIONARY_BATCH_CONCURRENCY={self.limit}, DECISIONARY_BATCH_QUEUE={self.queue}); "
                  f"try again in {RETRY_AFTER_S} s")
        body = problem_body(503, detail, instance=str(scope.get("path")), slug="batch-capacity")
        data = json.dumps(body).encode("utf-8")
        await send({"type": "http.response.start", "status": 503, "headers": [
            (b"content-type", PROBLEM_MEDIA_TYPE.encode()), (b"content-length", str(len(data)).encode()),
            (b"retry-after", str(RETRY_AFTER_S).encode()), (b"connection", b"close"),
        ]})
        await send({"type": "http.response.body", "body": data})
