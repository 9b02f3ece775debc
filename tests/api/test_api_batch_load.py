"""Batches do not hold up single calls: large CSV uploads run one at a time per worker process
(api/batch_gate.py), their records are written in one short bulk insert, and single evaluate
calls keep answering while they run. Beyond the queue a batch is refused with 503 and
Retry-After before its body is read."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import MutableMapping
from typing import Any

from api.batch_gate import BatchGate
from tests.api.conftest import LOAN_INPUT, Live

UPLOADS = 4
ROWS = 10_000


def _csv(rows: int) -> bytes:
    inputs = json.loads(LOAN_INPUT.read_text())
    names = list(inputs)
    lines = [",".join(names)]
    for i in range(rows):
        lines.append(",".join(str(20 + i % 50 if name == "Applicant Age" else inputs[name]) for name in names))
    return ("\n".join(lines) + "\n").encode()


def test_single_calls_answer_while_large_csv_uploads_run(loan: Live) -> None:
    data = _csv(ROWS)
    inputs = json.loads(LOAN_INPUT.read_text())
    uploads: list[tuple[int, float, int]] = []  # (status, seconds, rows decided)
    lock = threading.Lock()

    def upload() -> None:
        client = loan.client("caller")
        client.timeout = 600
        started = time.monotonic()
        response = client.post("/v1/decisions/loan-approval/evaluate-csv", files={"file": ("rows.csv", data)})
        decided = response.json().get("decided", 0) if response.status_code == 200 else 0
        with lock:
            uploads.append((response.status_code, time.monotonic() - started, decided))

    threads = [threading.Thread(target=upload) for _ in range(UPLOADS)]
    for thread in threads:
        thread.start()
    single = loan.client("caller")
    answered: list[tuple[int, float]] = []
    while True:
        with lock:
            if len(uploads) == UPLOADS:
                break
        started = time.monotonic()
        response = single.post("/v1/decisions/loan-approval/evaluate", json={"inputs": inputs})
        answered.append((response.status_code, time.monotonic() - started))
    for thread in threads:
        thread.join()

    assert [status for status, _, _ in uploads] == [200] * UPLOADS
    assert all(decided == ROWS for _, _, decided in uploads)
    assert loan.count_records() >= UPLOADS * ROWS
    assert len(answered) >= UPLOADS and all(status == 200 for status, _ in answered), answered
    # Generous, and relative to this machine's speed: no single call waited as long as a whole
    # upload (before, one waited for the write lock past the busy timeout and got 503).
    quickest_upload = min(seconds for _, seconds, _ in uploads)
    slowest_single = max(seconds for _, seconds in answered)
    assert slowest_single < quickest_upload, (slowest_single, quickest_upload)


def test_batches_beyond_the_queue_are_refused_with_retry_after() -> None:
    """One batch runs, one waits; a third is answered 503 with Retry-After at once, and a single
    call (not a batch) is never held at the gate."""

    async def scenario() -> dict[str, Any]:
        release = asyncio.Event()
        entered: list[str] = []

        async def app(scope: Any, receive: Any, send: Any) -> None:
            entered.append(scope["path"])
            if scope["path"].endswith("/evaluate-csv"):
                await release.wait()
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": b"ok"})

        gate = BatchGate(app, limit=1, queue=1)

        async def call(path: str) -> tuple[int, dict[str, str]]:
            sent: list[MutableMapping[str, Any]] = []

            async def send(message: MutableMapping[str, Any]) -> None:
                sent.append(message)

            async def receive() -> dict[str, Any]:
                return {"type": "http.request", "body": b"", "more_body": False}

            await gate({"type": "http", "method": "POST", "path": path, "headers": []}, receive, send)
            start = sent[0]
            return start["status"], {k.decode(): v.decode() for k, v in start["headers"]}

        running = asyncio.create_task(call("/v1/decisions/loan/evaluate-csv"))
        waiting = asyncio.create_task(call("/v1/decisions/loan/evaluate-batch"))
        while gate.running != 1 or gate.waiting != 1:
            await asyncio.sleep(0)
        refused = await call("/v1/decisions/loan/evaluate-csv")
        single = await call("/v1/decisions/loan/evaluate")  # answered while the batch still runs
        release.set()
        return {"refused": refused, "single": single, "running": await running, "waiting": await waiting,
                "entered": entered}

    outcome = asyncio.run(scenario())
    status, headers = outcome["refused"]
    assert status == 503 and headers["retry-after"] == "2"
    assert headers["content-type"].startswith("application/problem+json")
    assert outcome["single"][0] == 200
    assert outcome["running"][0] == 200 and outcome["waiting"][0] == 200
    assert outcome["entered"] == ["/v1/decisions/loan/evaluate-csv", "/v1/decisions/loan/evaluate",
                                  "/v1/decisions/loan/evaluate-batch"]
