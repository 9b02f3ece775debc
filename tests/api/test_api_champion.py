"""Champion/challenger splits and shadow versions on an alias, through a real server (both databases):
setting and clearing a routing, the split in the route, the fast lane and batches, shadow records."""

from __future__ import annotations

import json
import math
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import text

from decisions.errors import ModelError
from execution.outbox import RUNS
from registry import get_version, parse_routing, unit_of_work
from registry import set_routing as store_routing
from tests.api.conftest import Live

KEY = "pricing"
EVALUATE = f"/v1/decisions/{KEY}/evaluate"
ROUTED = EVALUATE + "?alias=production"  # a query parameter keeps a call out of the fast lane
ALIAS = f"/v1/models/{KEY}/aliases/production"


def pricing_yaml(factor: int, *, amount_type: str = "number") -> str:
    return f"""\
model: pricing
namespace: https://decisionary.dev/tests/pricing
inputs:
  Customer: string
  Amount: {amount_type}
decisions:
  Price:
    type: number
    requires: [Amount]
    expression: 'Amount * {factor}'
"""


# Every decision of version 1 starts a workflow run (a review): shadows must start none.
BINDINGS = """
on:
  - when: Price > 0
    run: check
workflows:
  check: {steps: [{review: {queue: pricing, reason: "check"}}]}
"""


def publish(live: Live, factor: int, *, alias: str | None = None, bindings: str | None = None,
            amount_type: str = "number") -> int:
    response = live.upload(KEY, pricing_yaml(factor, amount_type=amount_type), "pricing.yaml")
    assert response.status_code == 201, response.text
    number = int(response.json()["number"])
    base = f"/v1/models/{KEY}/versions/{number}"
    if bindings is not None:
        put = live.client("author").put(f"{base}/bindings", json={"bindings": bindings})
        assert put.status_code == 200, put.text
    assert live.client("author").post(f"{base}/submit").status_code == 200
    for step in ("approve", "publish"):
        assert live.client("approver").post(f"{base}/{step}", json={"comment": step}).status_code == 200
    if alias is not None:
        moved = live.client("approver").put(f"/v1/models/{KEY}/aliases/{alias}", json={"version": number})
        assert moved.status_code == 200, moved.text
    return number


def split(champion: int, challenger: int, shares: tuple[Any, Any] = (50, 50), **extra: Any) -> dict[str, Any]:
    return {"split_on": "Customer", "arms": [{"name": "champion", "version": champion, "percent": shares[0]},
                                             {"name": "challenger", "version": challenger, "percent": shares[1]}],
            **extra}


def set_routing(live: Live, routing: dict[str, Any]) -> httpx.Response:
    return live.client("approver").put(f"{ALIAS}/routing", json=routing)


@dataclass(frozen=True)
class Stored:
    id: str
    version: int
    arm: str | None
    shadow_of: str | None
    outputs: Any
    problems: Any


def records(live: Live, where: str, **params: Any) -> list[Stored]:
    def data(value: Any) -> Any:  # SQLite hands JSON columns of a text query back as text
        return json.loads(value) if isinstance(value, str) else value

    with live.engine.connect() as connection:
        rows = connection.execute(
            text(f"SELECT id, version, arm, shadow_of, outputs, problems FROM decision_records WHERE {where} "
                 "ORDER BY id"), params)
        return [Stored(row[0], row[1], row[2], row[3], data(row[4]), data(row[5])) for row in rows]


def eventually(condition: Any, *, within: float = 20.0) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return bool(condition())


def test_a_split_sends_each_customer_to_one_arm_in_the_lane_the_route_and_batches(live: Live) -> None:
    v1, v2 = publish(live, 1, alias="production"), publish(live, 2)
    response = set_routing(live, {**split(v1, v2), "why": "try doubling"})
    assert response.status_code == 200, response.text
    routing = parse_routing(split(v1, v2))
    shown = live.client("viewer").get(ALIAS).json()
    assert shown["number"] == v1 and shown["routing"] == routing.to_dict()
    history = live.client("viewer").get(f"/v1/models/{KEY}/alias-history").json()
    assert [(m["from_number"], m["to_number"], m["why"], m["routing"]) for m in history][-1] == (
        v1, v1, "try doubling", routing.to_dict())

    caller = live.client("caller")
    customers = [f"C-{i}" for i in range(24)]
    factor = {v1: 1, v2: 2}
    seen: dict[str, tuple[str, int]] = {}
    for customer in customers:
        expected = routing.choose(KEY, "production", customer)
        assert expected is not None
        answers = [caller.post(path, json={"inputs": {"Customer": customer, "Amount": 10}}).json()
                   for path in (EVALUATE, ROUTED, EVALUATE)]
        keyed = caller.post(EVALUATE, json={"inputs": {"Customer": customer, "Amount": 10}},
                            headers={"Idempotency-Key": f"k-{customer}"}).json()
        for answer in [*answers, keyed]:
            assert (answer["arm"], answer["version"]) == (expected.name, expected.version), answer
            assert answer["outputs"] == {"Price": 10 * factor[expected.version]}
            assert answer["alias"] == "production"
        seen[customer] = (expected.name, expected.version)
    assert {arm for arm, _ in seen.values()} == {"champion", "challenger"}
    stored = records(live, "arm IS NOT NULL")
    assert len(stored) == 4 * len(customers)
    assert all(factor[row.version] * 10 == row.outputs["Price"] for row in stored)

    batch = caller.post(f"/v1/decisions/{KEY}/evaluate-batch",
                        json={"rows": [{"Customer": c, "Amount": 1} for c in customers]})
    assert batch.status_code == 200, batch.text
    assert [(row["arm"], row["version"]) for row in batch.json()["results"]] == [seen[c] for c in customers]

    missing = caller.post(EVALUATE, json={"inputs": {"Amount": 10}}).json()
    assert (missing["arm"], missing["version"]) == ("champion", v1)
    assert [p["code"] for p in missing["problems"] if p["severity"] == "info"] == ["split-input-missing"]
    null = caller.post(ROUTED, json={"inputs": {"Customer": None, "Amount": 10}}).json()
    assert (null["arm"], null["version"]) == ("champion", v1)

    # Clearing the routing: the alias's version alone answers, without an arm.
    cleared = live.client("approver").delete(f"{ALIAS}/routing", params={"why": "done"})
    assert cleared.status_code == 200 and cleared.json()["routing"] is None
    for customer in customers[:6]:
        answer = caller.post(EVALUATE, json={"inputs": {"Customer": customer, "Amount": 10}}).json()
        assert answer["version"] == v1 and "arm" not in answer


def test_over_2000_customers_each_arm_gets_its_share(live: Live) -> None:
    v1, v2 = publish(live, 1, alias="production"), publish(live, 2)
    assert set_routing(live, split(v1, v2, (80, 20))).status_code == 200
    n = 2000
    batch = live.client("caller").post(f"/v1/decisions/{KEY}/evaluate-batch",
                                       json={"rows": [{"Customer": f"applicant-{i}", "Amount": 1} for i in range(n)]})
    assert batch.status_code == 200, batch.text
    counts = Counter(row["arm"] for row in batch.json()["results"])
    for arm, p in (("champion", 0.8), ("challenger", 0.2)):
        assert abs(counts[arm] - n * p) <= 4 * math.sqrt(n * p * (1 - p)), counts
    assert Counter(row.arm for row in records(live, "arm IS NOT NULL")) == counts


def test_a_routing_that_cannot_be_is_refused_and_changes_nothing(live: Live) -> None:
    v1, v2 = publish(live, 1, alias="production"), publish(live, 2)
    draft = int(live.upload(KEY, pricing_yaml(5), "pricing.yaml").json()["number"])
    history = live.client("viewer").get(f"/v1/models/{KEY}/alias-history").json()

    short = set_routing(live, split(v1, v2, (90, 5)))
    assert short.status_code == 422
    assert short.headers["content-type"].startswith("application/problem+json")
    problem = short.json()
    assert "percentages add up to 95, not 100" in problem["detail"]
    assert "champion 90" in problem["detail"] and "challenger 5" in problem["detail"]
    assert problem["errors"][0]["pointer"] == "/arms"

    cases = [
        (split(v1, v2, ("50.125", "49.875")), 422),
        (split(v1, v2, (50.125, 49.875)), 422),
        (split(v1, draft), 409),
        ({"shadows": [draft]}, 409),
        (split(v1, v2, split_on="Region"), 422),
        (split(v1, 99), 404),
        ({"split_on": "Customer", "arms": [{"name": "solo", "version": v2, "percent": 100}]}, 422),
        ({"shadows": [v1]}, 422),
        ({}, 422),
        ({"arms": "all"}, 422),
    ]
    for body, status in cases:
        response = set_routing(live, body)
        assert response.status_code == status, (body, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
    assert "draft" in set_routing(live, split(v1, draft)).json()["detail"]
    for role in ("viewer", "author", "caller", "reviewer"):
        assert live.client(role).put(f"{ALIAS}/routing", json=split(v1, v2)).status_code == 403
        assert live.client(role).delete(f"{ALIAS}/routing").status_code == 403
    assert live.client("approver").put(f"/v1/models/{KEY}/aliases/staging/routing",
                                       json={"shadows": [v2]}).status_code == 404

    assert live.client("viewer").get(ALIAS).json()["routing"] is None
    assert live.client("viewer").get(f"/v1/models/{KEY}/alias-history").json() == history
    answer = live.client("caller").post(EVALUATE, json={"inputs": {"Customer": "C-1", "Amount": 3}}).json()
    assert answer["version"] == v1 and "arm" not in answer


def test_rollback_restores_the_routing_with_the_version(live: Live) -> None:
    v1, v2, v3 = publish(live, 1, alias="production"), publish(live, 2), publish(live, 3)
    routing = parse_routing(split(v1, v2, (12.5, 87.5)))
    assert set_routing(live, split(v1, v2, (12.5, 87.5))).status_code == 200
    approver, caller = live.client("approver"), live.client("caller")
    moved = approver.put(ALIAS, json={"version": v3, "why": "promote"})
    assert moved.status_code == 200 and moved.json()["routing"] is None
    assert caller.post(EVALUATE, json={"inputs": {"Customer": "C-7", "Amount": 1}}).json()["version"] == v3

    back = approver.post(f"{ALIAS}/rollback", json={"why": "too early"})
    assert back.status_code == 200, back.text
    assert back.json()["number"] == v1 and back.json()["routing"] == routing.to_dict()
    expected = routing.choose(KEY, "production", "C-7")
    assert expected is not None
    answer = caller.post(EVALUATE, json={"inputs": {"Customer": "C-7", "Amount": 1}}).json()
    assert (answer["arm"], answer["version"]) == (expected.name, expected.version)

    again = approver.post(f"{ALIAS}/rollback")
    assert again.status_code == 200 and (again.json()["number"], again.json()["routing"]) == (v1, None)


def _shadow_setup(live: Live) -> tuple[int, int, int]:
    live_version = publish(live, 1, alias="production", bindings=BINDINGS)
    doubled = publish(live, 2)
    as_text = publish(live, 3, amount_type="string")  # its Amount is text: the checked number does not fit
    return live_version, doubled, as_text


def test_shadow_versions_are_recorded_without_changing_the_answer_or_starting_runs(live: Live) -> None:
    v1, v2, v3 = _shadow_setup(live)
    caller = live.client("caller")
    body = {"inputs": {"Customer": "C-1", "Amount": 21}}
    before = [caller.post(path, json=body).json() for path in (EVALUATE, ROUTED)]
    assert set_routing(live, {"shadows": [v2, v3]}).status_code == 200
    after = [caller.post(path, json=body).json() for path in (EVALUATE, ROUTED)]
    keyed = caller.post(EVALUATE, json=body, headers={"Idempotency-Key": "shadowed-1"}).json()
    batch = caller.post(f"/v1/decisions/{KEY}/evaluate-batch", json={"rows": [body["inputs"]] * 2}).json()

    def same(answer: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in answer.items() if k != "decision_id"}

    assert [same(a) for a in after] == [same(b) for b in before] and same(keyed) == same(before[0])
    assert "arm" not in after[0] and after[0]["outputs"] == {"Price": 21}
    live_ids = [a["decision_id"] for a in after] + [keyed["decision_id"]] + [
        r["decision_id"] for r in batch["results"]]

    assert eventually(lambda: len(records(live, "shadow_of IS NOT NULL")) == 2 * len(live_ids))
    shadows = records(live, "shadow_of IS NOT NULL")
    assert sorted(str(row.shadow_of) for row in shadows) == sorted(live_ids * 2)
    assert {row.arm for row in shadows} == {"shadow"}
    by_version = {v: [row for row in shadows if row.version == v] for v in (v2, v3)}
    assert all(row.outputs == {"Price": 42} for row in by_version[v2])
    for row in by_version[v3]:  # converted what it could: the number is not text, so it is null
        assert any(p["code"] == "input-type" for p in row.problems), row.problems
    with live.engine.connect() as connection:
        runs = Counter(connection.execute(text(f"SELECT decision_id FROM {RUNS.name}")).scalars())
    assert all(runs[decision] == 1 for decision in live_ids)  # the live answers started their workflow
    assert not any(runs[row.id] for row in shadows)  # the shadows started none
    assert sum(runs.values()) == len(live_ids) + 2  # and the two calls made before the shadows


def test_a_shadow_that_fails_never_affects_the_answer(live: Live) -> None:
    v1, v2, v3 = _shadow_setup(live)
    assert set_routing(live, {"shadows": [v2, v3]}).status_code == 200
    service = live.app.state.service
    broken = service.cache.get(_version(live, v2))
    original = service.cache.get

    def get(version: Any) -> Any:
        if version.content_hash == broken.content_hash:
            raise ModelError("this server cannot load it")
        return original(version)

    service.cache.get = get
    try:
        answer = live.client("caller").post(EVALUATE, json={"inputs": {"Customer": "C-2", "Amount": 4}})
        assert answer.status_code == 200 and answer.json()["outputs"] == {"Price": 4}
        decision = answer.json()["decision_id"]
        assert eventually(lambda: len(records(live, "shadow_of = :d", d=decision)) == 1)
        time.sleep(0.2)  # nothing more comes: the broken shadow is skipped, not retried
        assert [row.version for row in records(live, "shadow_of = :d", d=decision)] == [v3]
    finally:
        service.cache.get = original


def _version(live: Live, number: int) -> Any:
    with unit_of_work(live.engine, read_only=True) as session:
        return get_version(session, KEY, number)


def test_a_routing_changed_elsewhere_reaches_the_service_like_an_alias_move(live: Live) -> None:
    v1, v2 = publish(live, 1, alias="production"), publish(live, 2)
    caller = live.client("caller")
    body = {"inputs": {"Customer": "C-3", "Amount": 5}}
    assert caller.post(EVALUATE, json=body).json()["version"] == v1  # resolved and cached by this worker
    with unit_of_work(live.engine) as session:  # as the CLI or another worker would
        store_routing(session, KEY, "production", split(v1, v2, (0, 100)), by="ops")
    assert eventually(lambda: caller.post(EVALUATE, json=body).json().get("arm") == "challenger", within=10)
    assert caller.post(ROUTED, json=body).json()["version"] == v2


def test_the_cli_splits_and_unsplits_an_alias(live: Live) -> None:
    from tests.api.test_api_cli import cli

    one, two = publish(live, 2, alias="production"), publish(live, 3)
    approver = ["--url", live.url, "--api-key", live.keys["approver"]]
    done = cli("alias", "split", KEY, "production", *approver, "--on", "Customer",
               "--arm", f"champion={one}:75.5", "--arm", f"challenger={two}:24.5", "--why", "try 3x")
    assert done.returncode == 0, done.stderr
    assert f"challenger v{two} 24.5%" in done.stdout
    routing = live.client("viewer").get(ALIAS).json()["routing"]
    assert routing["arms"][1] == {"name": "challenger", "version": two, "percent": 24.5}

    refused = cli("alias", "split", KEY, "production", *approver, "--on", "Customer",
                  "--arm", f"champion={one}:75", "--arm", f"challenger={two}:20")
    assert refused.returncode == 2 and "100" in refused.stderr and "Traceback" not in refused.stderr
    malformed = cli("alias", "split", KEY, "production", *approver, "--arm", "champion")
    assert malformed.returncode != 0 and "NAME=VERSION:PERCENT" in malformed.stderr

    undone = cli("alias", "unsplit", KEY, "production", *approver, "--why", "enough")
    assert undone.returncode == 0, undone.stderr
    assert live.client("viewer").get(ALIAS).json()["routing"] is None
