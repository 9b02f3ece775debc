"""The adversarial suite: a hostile caller, author and admin against a real service.

The service is the API tests' (tests/api/conftest.py): uvicorn on 127.0.0.1 over a fresh
database, SQLite and PostgreSQL in turn. Every attack runs in a thread while the test thread
asks `GET /healthz` with a 1 second timeout until the attack is over (`while_healthy`): an
attack passes only when it gets the right answer and the service kept answering others.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TypeVar

import httpx

from execution.receiver import Receiver
from tests.api.conftest import Live, live, loan, start_live, stop_live  # noqa: F401 - fixtures
from tests.execution.conftest import SECRET, receiver, service  # noqa: F401 - fixtures

T = TypeVar("T")

HEALTH_TIMEOUT_S = 1.0  # what "the service keeps answering" means
ATTACK_TIMEOUT_S = 180.0  # generous: the machine is shared; an attack that never ends fails


class Unhealthy(AssertionError):
    """/healthz did not answer 200 within a second while an attack ran."""


def while_healthy(target: Live, attack: Callable[[], T], *, timeout: float = ATTACK_TIMEOUT_S) -> T:
    """Run `attack` in a thread; meanwhile `GET /healthz` must answer 200 within 1 s every time
    (at least once while the attack is in flight). The attack's result, or its exception."""
    outcome: dict[str, object] = {}

    def run() -> None:
        try:
            outcome["value"] = attack()
        except BaseException as error:  # noqa: BLE001 - handed back to the test thread
            outcome["error"] = error

    thread = threading.Thread(target=run, name="attack", daemon=True)
    deadline = time.monotonic() + timeout
    checks = 0
    with httpx.Client(base_url=target.url, timeout=HEALTH_TIMEOUT_S) as health:
        thread.start()
        while True:
            started = time.monotonic()
            try:
                response = health.get("/healthz")
            except httpx.TimeoutException:
                raise Unhealthy(f"/healthz gave no answer within {HEALTH_TIMEOUT_S} s while the attack ran "
                                f"(after {checks} answers)") from None
            elapsed = time.monotonic() - started
            assert response.status_code == 200, response.text
            assert elapsed <= HEALTH_TIMEOUT_S, f"/healthz took {elapsed:.2f} s while the attack ran"
            checks += 1
            # Pace the checks by waiting on the attack itself (not a fixed sleep): the server
            # shares this process, and a tight loop would only compete with the attack.
            thread.join(timeout=0.05)
            if not thread.is_alive():
                break
            if time.monotonic() > deadline:
                raise AssertionError(f"the attack was still running after {timeout} s")
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    return outcome["value"]  # type: ignore[return-value]


def parallel(*attacks: Callable[[], T]) -> Callable[[], list[T]]:
    """One attack made of several run at once (each in its own thread); their results in order."""
    def run() -> list[T]:
        results: list[object] = [None] * len(attacks)

        def one(index: int) -> None:
            try:
                results[index] = attacks[index]()
            except BaseException as error:  # noqa: BLE001 - re-raised below
                results[index] = error

        threads = [threading.Thread(target=one, args=(i,), daemon=True) for i in range(len(attacks))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        for result in results:
            if isinstance(result, BaseException):
                raise result
        return results  # type: ignore[return-value]
    return run


def problem_of(response: httpx.Response, status: int, *, max_bytes: int = 20_000) -> dict[str, object]:
    """The RFC 9457 problem `response` must be: this status, small, no traceback."""
    assert response.status_code == status, response.text[:2000]
    assert response.headers["content-type"].startswith("application/problem+json"), response.headers
    assert len(response.content) <= max_bytes, f"a {len(response.content)}-byte problem"
    assert "Traceback" not in response.text
    body: dict[str, object] = response.json()
    assert body["status"] == status
    return body



__all__ = ["Receiver", "parallel", "problem_of", "while_healthy"]
