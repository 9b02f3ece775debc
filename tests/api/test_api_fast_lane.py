"""The evaluate route's fast lane, the record writer's group commit and the per-worker caches,
through a real server (both databases)."""

from __future__ import annotations

import concurrent.futures
import contextlib
import json
import os
import time
from collections.abc import Iterator
from typing import Any

import httpx
import psycopg
import pytest
from psycopg import sql
from sqlalchemy import bindparam, text

from api.caches import TimedCache
from api.settings import Settings
from execution.outbox import RUNS
from registry.bulk import Rows
from registry.db import upgrade
from registry.ids import new_ulid
from registry.tables import utcnow
from tests.api.conftest import LOAN_DMN, LOAN_INPUT, Live, start_live, stop_live
from tests.pg import PostgresServer

EVALUATE = "/v1/decisions/loan-approval/evaluate"


def applicant(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(LOAN_INPUT.read_text())
    data.update(changes)
    return data


def eventually(condition: Any, *, within: float) -> bool:
    """Whether `condition()` holds within `within` seconds (the cache time, then a background
    refresh: a stale entry is served while it is looked up again)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return bool(condition())


def test_the_lane_answers_what_the_route_answers(loan: Live) -> None:
    client = loan.client("caller")
    # First call: nothing cached yet; the lane verifies the key and resolves the version itself.
    first = client.post(EVALUATE, json={"inputs": applicant()})
    assert first.status_code == 200, first.text
    # The same call forced onto the route (a query parameter keeps it out of the lane).
    routed = client.post(EVALUATE + "?alias=production", json={"inputs": applicant()})
    assert routed.status_code == 200, routed.text
    a, b = first.json(), routed.json()
    assert a.keys() == b.keys()
    assert a["decision_id"] != b["decision_id"]
    assert {k: v for k, v in a.items() if k != "decision_id"} == {k: v for k, v in b.items() if k != "decision_id"}
    assert first.headers["content-type"] == routed.headers["content-type"]
    with loan.engine.connect() as connection:
        stored = connection.execute(text("SELECT outputs, caller FROM decision_records WHERE id = :id"),
                                    {"id": a["decision_id"]}).one()
    assert stored[1] is not None
    outputs = stored[0] if isinstance(stored[0], dict) else json.loads(stored[0])
    assert outputs == a["outputs"]


def test_the_lane_hands_every_fault_to_the_route(loan: Live) -> None:
    client = loan.client("caller")
    assert client.post(EVALUATE, json={"inputs": applicant()}).status_code == 200  # key and version cached
    bad_type = client.post(EVALUATE, json={"inputs": applicant(**{"Credit Score": "high"})})
    assert bad_type.status_code == 422
    assert bad_type.json()["errors"][0]["pointer"] == "/inputs/Credit Score"
    unknown_field = client.post(EVALUATE, json={"inputs": applicant(), "colour": "red"})
    assert unknown_field.status_code == 422
    not_json = client.post(EVALUATE, content=b"{not json", headers={"Content-Type": "application/json"})
    assert not_json.status_code in (400, 422)
    assert not_json.headers["content-type"].startswith("application/problem+json")
    wrong_role = loan.client("viewer").post(EVALUATE, json={"inputs": applicant()})
    assert wrong_role.status_code == 403
    revoked_like = loan.client(secret="dcy_unknown").post(EVALUATE, json={"inputs": applicant()})
    assert revoked_like.status_code == 401
    no_model = client.post("/v1/decisions/no-such-model/evaluate", json={"inputs": applicant()})
    assert no_model.status_code == 404
    assert no_model.headers["content-type"].startswith("application/problem+json")


def test_concurrent_calls_share_commits_and_each_has_its_record(loan: Live) -> None:
    client = loan.client("caller")
    assert client.post(EVALUATE, json={"inputs": applicant()}).status_code == 200
    before_records, before_batches = loan.count_records(), loan.app.state.service.writer.batches
    n = 120

    def call(i: int) -> httpx.Response:
        with httpx.Client(base_url=loan.url, headers={"Authorization": f"Bearer {loan.keys['caller']}"},
                          timeout=60) as c:
            return c.post(EVALUATE, json={"inputs": applicant(**{"Requested Amount": 1000 + i})})

    with concurrent.futures.ThreadPoolExecutor(24) as pool:
        answers = list(pool.map(call, range(n)))
    assert [a.status_code for a in answers] == [200] * n
    ids = {a.json()["decision_id"] for a in answers}
    assert len(ids) == n
    assert loan.count_records() == before_records + n
    batches = loan.app.state.service.writer.batches - before_batches
    assert batches < n, "concurrent records should share transactions"
    with loan.engine.connect() as connection:
        found = connection.execute(text("SELECT count(*) FROM decision_records WHERE id IN :ids")
                                   .bindparams(bindparam("ids", expanding=True)), {"ids": sorted(ids)}).scalar_one()
    assert found == n


def test_a_failing_record_fails_only_its_own_call(loan: Live) -> None:
    """A batch the database refuses writes nothing; each record is retried alone, and only the
    one at fault is answered 503: its batch-mates commit."""
    service = loan.app.state.service

    def refuse_big_loans(session: Any, recorded: Any) -> list[Rows]:
        # A run row for a decision that does not exist: the foreign key refuses the statement
        # (or transaction) that holds it, and with it every record written alongside.
        if not any(record.inputs.get("Requested Amount") == 77_777 for record, _, _ in recorded):
            return []
        now = utcnow()
        return [(RUNS, [{"id": new_ulid(), "decision_id": "0" * 26, "model_key": "loan-approval", "version": 1,
                         "content_hash": "x", "bindings_hash": "x", "workflow": "w", "origin": "decision",
                         "state": "ready", "step_index": 0, "attempt": 0, "context": {}, "created_at": now,
                         "updated_at": now}])]

    service.record_hooks.append(refuse_big_loans)
    try:
        client = loan.client("caller")
        assert client.post(EVALUATE, json={"inputs": applicant()}).status_code == 200
        before = loan.count_records()

        def call(amount: int) -> httpx.Response:
            with httpx.Client(base_url=loan.url, headers={"Authorization": f"Bearer {loan.keys['caller']}"},
                              timeout=60) as c:
                return c.post(EVALUATE, json={"inputs": applicant(**{"Requested Amount": amount})})

        amounts = [20_000 + i for i in range(30)] + [77_777]
        with concurrent.futures.ThreadPoolExecutor(16) as pool:
            answers = dict(zip(amounts, pool.map(call, amounts), strict=True))
        assert answers[77_777].status_code == 503
        assert answers[77_777].json()["type"].endswith("/record-not-written")
        assert all(answers[a].status_code == 200 for a in amounts if a != 77_777)
        assert loan.count_records() == before + 30
    finally:
        service.record_hooks.remove(refuse_big_loans)


def test_a_key_revoked_elsewhere_stops_working_within_the_cache_time(database_url: str) -> None:
    live, server = start_live(database_url, Settings(database_url=database_url, cache_seconds=0.5))
    try:
        live.publish("loan-approval", LOAN_DMN.read_bytes(), LOAN_DMN.name)
        client = live.client("caller")
        assert client.post(EVALUATE, json={"inputs": applicant()}).status_code == 200
        # Revoked straight in the database, as another worker or the CLI would.
        with live.engine.begin() as connection:
            connection.execute(text("UPDATE api_keys SET revoked_at = CURRENT_TIMESTAMP WHERE name = 'caller-person'"))
        assert eventually(lambda: client.post(EVALUATE, json={"inputs": applicant()}).status_code == 401,
                          within=0.5 + 2.0)
    finally:
        stop_live(live, server)


def test_a_key_revoked_elsewhere_is_refused_by_every_call_made_after_the_cache_time(database_url: str) -> None:
    # A stale key is never served while it is looked up again: the delay `keys revoke` states
    # (DECISIONARY_CACHE_SECONDS) is the whole delay, through the fast lane and the route alike.
    live, server = start_live(database_url, Settings(database_url=database_url, cache_seconds=1.0))
    try:
        live.publish("loan-approval", LOAN_DMN.read_bytes(), LOAN_DMN.name)
        client = live.client("caller")
        assert client.post(EVALUATE, json={"inputs": applicant()}).status_code == 200
        assert client.get("/v1/whoami").status_code == 200
        with live.engine.begin() as connection:  # revoked as the CLI or another worker would
            connection.execute(text("UPDATE api_keys SET revoked_at = CURRENT_TIMESTAMP WHERE name = 'caller-person'"))
        revoked = time.monotonic()
        while time.monotonic() < revoked + 1.0:  # a lower bound only: later is as good
            time.sleep(0.05)
        assert client.post(EVALUATE, json={"inputs": applicant()}).status_code == 401
        assert client.get("/v1/whoami").status_code == 401
    finally:
        stop_live(live, server)


@contextlib.contextmanager
def _unreachable(server: PostgresServer, name: str) -> Iterator[None]:
    """The database refuses connections and drops the open ones, as while PostgreSQL restarts."""
    with psycopg.connect(host="127.0.0.1", port=server.port, user="postgres", dbname="postgres",
                         autocommit=True) as admin:
        admin.execute(sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS false").format(sql.Identifier(name)))
        admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,))
        try:
            yield
        finally:
            admin.execute(sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS true").format(sql.Identifier(name)))


@pytest.mark.parametrize("cached_key", [False, True])
def test_plain_calls_answer_503_with_retry_after_while_the_database_is_unreachable(
        postgres_server: PostgresServer, cached_key: bool) -> None:
    # Through the fast lane: the key check (not cached) or the version resolution (key cached)
    # meets the dead database; the answer is the routes' 503, never a 500.
    name = f"lane_down_{os.getpid()}_{int(cached_key)}"
    postgres_server.create_database(name)
    url = postgres_server.url(name)
    try:
        upgrade(url)
        live, server = start_live(url, Settings(database_url=url, cache_seconds=60.0 if cached_key else 0.0))
        try:
            live.publish("loan-approval", LOAN_DMN.read_bytes(), LOAN_DMN.name)
            client = live.client("caller")
            assert client.post(EVALUATE, json={"inputs": applicant()}).status_code == 200
            live.app.state.service.resolutions.clear()  # the version must be looked up again
            with _unreachable(postgres_server, name):
                for _ in range(3):
                    answer = client.post(EVALUATE, json={"inputs": applicant()})
                    assert answer.status_code == 503, answer.text
                    assert answer.headers["retry-after"] == "1"
                    assert answer.headers["content-type"].startswith("application/problem+json")
                    assert answer.json()["detail"] == "the database is unavailable; try again later"
            # and back, once the pool has replaced the connections the database dropped
            assert eventually(lambda: client.post(EVALUATE, json={"inputs": applicant()}).status_code == 200,
                              within=30.0)
        finally:
            stop_live(live, server)
        assert live.app.state.unexpected_errors == []
    finally:
        postgres_server.drop_database(name)


def test_an_alias_moved_elsewhere_is_followed_within_the_cache_time(database_url: str) -> None:
    live, server = start_live(database_url, Settings(database_url=database_url, cache_seconds=0.5))
    try:
        first = live.publish("loan-approval", LOAN_DMN.read_bytes(), LOAN_DMN.name)
        changed = LOAN_DMN.read_text().replace("Meets age, income and risk criteria", "Meets all criteria")
        second = live.publish("loan-approval", changed, LOAN_DMN.name, alias=None)
        client = live.client("caller")
        assert client.post(EVALUATE, json={"inputs": applicant()}).json()["version"] == first
        with live.engine.begin() as connection:  # moved in the database, as another worker would
            connection.execute(text(
                "UPDATE aliases SET version_id = (SELECT v.id FROM versions v JOIN models m ON m.id = v.model_id "
                "WHERE m.key = 'loan-approval' AND v.number = :n) WHERE name = 'production'"), {"n": second})
        assert eventually(lambda: client.post(EVALUATE, json={"inputs": applicant()}).json()["version"] == second,
                          within=0.5 + 2.0)
    finally:
        stop_live(live, server)


def test_an_expired_entry_is_refreshed_by_one_caller_while_the_others_use_it() -> None:
    cache: TimedCache[str, int] = TimedCache(ttl=0.05)
    cache.put("a", 1)
    assert cache.lookup("a") == (1, False)
    time.sleep(0.06)
    assert cache.lookup("a") == (1, True)  # the first caller refreshes ...
    assert cache.lookup("a") == (1, False)  # ... the others go on with the old value
    cache.put("a", 2)
    assert cache.lookup("a") == (2, False)
    time.sleep(0.11)  # more than ttl past its time: gone
    assert cache.lookup("a") == (None, False)


def test_timed_cache_forgets_after_its_time_and_keeps_its_size() -> None:
    cache: TimedCache[str, int] = TimedCache(ttl=0.05, size=3)
    cache.put("a", 1)
    assert cache.get("a") == 1
    time.sleep(0.06)
    assert cache.get("a") is None
    for i, k in enumerate("wxyz"):
        cache.put(k, i)
    assert len(cache) == 3 and cache.get("w") is None and cache.get("z") == 3
    off: TimedCache[str, int] = TimedCache(ttl=0)
    off.put("a", 1)
    assert off.get("a") is None


@pytest.mark.parametrize("n", [2000])
def test_ids_stay_unique_and_ordered_across_a_fork(n: int) -> None:
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child writes its ids and leaves at once
        os.close(read)
        os.write(write, "\n".join(new_ulid() for _ in range(n)).encode())
        os._exit(0)
    os.close(write)
    parent = [new_ulid() for _ in range(n)]
    chunks = []
    while chunk := os.read(read, 65536):
        chunks.append(chunk)
    os.close(read)
    os.waitpid(pid, 0)
    child = b"".join(chunks).decode().split("\n")
    assert parent == sorted(parent) and child == sorted(child)
    assert len(set(parent) | set(child)) == 2 * n
