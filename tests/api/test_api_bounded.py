"""One slow call does not hold up the service: evaluation runs off the event loop, so /healthz
and other callers keep answering, and a call is bounded in time (Settings.evaluation_seconds,
answered 503 evaluation-timeout)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from api.settings import Settings
from tests.api.conftest import Live, start_live, stop_live

# Nested loops within the step budget (1,900,000 of 2,000,000 steps) that take seconds.
HEAVY = """
model: heavy
inputs:
  n: number
decisions:
  Work:
    requires: [n]
    expression: count(for a in 1..n return for b in 1..1000 return a)
"""
EVALUATE = "/v1/decisions/heavy/evaluate"


def serve(database_url: str, seconds: float) -> Iterator[Live]:
    live, server = start_live(database_url, Settings(database_url=database_url, evaluation_seconds=seconds))
    try:
        live.publish("heavy", HEAVY, "heavy.yaml")
        yield live
    finally:
        stop_live(live, server)
    assert live.app.state.unexpected_errors == [], "requests reached the catch-all 500 handler"


@pytest.fixture
def patient(database_url: str) -> Iterator[Live]:
    yield from serve(database_url, 600.0)


@pytest.fixture
def hurried(database_url: str) -> Iterator[Live]:
    yield from serve(database_url, 0.2)


def in_background(call: Any) -> tuple[threading.Thread, list[Any]]:
    out: list[Any] = []
    thread = threading.Thread(target=lambda: out.append(call()), daemon=True)
    thread.start()
    return thread, out


@pytest.mark.parametrize("path", ["lane", "route"])
def test_healthz_answers_while_a_heavy_call_evaluates(patient: Live, path: str) -> None:
    caller = patient.client("caller")
    headers = {"Idempotency-Key": "heavy-1"} if path == "route" else {}
    thread, out = in_background(lambda: caller.post(EVALUATE, json={"inputs": {"n": 1900}}, headers=headers))
    health = httpx.Client(base_url=patient.url, timeout=30)
    waits: list[float] = []
    while thread.is_alive():
        started = time.monotonic()
        assert health.get("/healthz").status_code == 200
        waits.append(time.monotonic() - started)
    thread.join()
    health.close()
    response = out[0]
    assert response.status_code == 200, response.text
    assert response.json()["outputs"]["Work"] == 1900
    assert len(waits) >= 2, "the heavy call finished before /healthz was asked twice"
    assert max(waits) < 1.0, f"/healthz waited {max(waits):.2f} s while the heavy call ran"


def test_another_caller_is_answered_while_a_heavy_call_evaluates(patient: Live) -> None:
    caller = patient.client("caller")
    thread, out = in_background(lambda: caller.post(EVALUATE, json={"inputs": {"n": 1900}}))
    other = patient.client("caller")
    answered = 0
    while thread.is_alive():
        quick = other.post(EVALUATE, json={"inputs": {"n": 1}})
        assert quick.status_code == 200 and quick.json()["outputs"]["Work"] == 1
        answered += 1
    thread.join()
    assert out[0].status_code == 200
    assert answered >= 2, "the other caller waited for the heavy call"


@pytest.mark.parametrize("path", ["lane", "route"])
def test_a_call_past_the_time_bound_is_503(hurried: Live, path: str) -> None:
    caller = hurried.client("caller")
    headers = {"Idempotency-Key": "slow-1"} if path == "route" else {}
    response = caller.post(EVALUATE, json={"inputs": {"n": 1900}}, headers=headers)
    assert response.status_code == 503, response.text
    problem = response.json()
    assert problem["type"].endswith("evaluation-timeout")
    assert "took longer than 0.2 s" in problem["detail"]
    assert response.headers["Retry-After"] == "1"
    # within the bound, the same model answers
    assert caller.post(EVALUATE, json={"inputs": {"n": 1}}).json()["outputs"]["Work"] == 1
