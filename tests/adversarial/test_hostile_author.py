"""A hostile author: XML and YAML bombs in uploads, an alias bomb in test cases read by the
gates, a model whose evaluation would never end or fill memory (nested loops, fan-out recursion,
string doubling, a backtracking regular expression) evaluated by a caller, and publishing while
evaluations run. Each attack gets its deliberate answer while /healthz keeps answering within a
second (conftest.while_healthy)."""

from __future__ import annotations

import json

import httpx
from sqlalchemy import text

from tests.adversarial.conftest import parallel, problem_of, while_healthy
from tests.api.conftest import LOAN_DMN, LOAN_INPUT, SHIPPING_YAML, Live

APPLICANT = json.loads(LOAN_INPUT.read_text())

XML_BOMB = ('<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
            + "".join(f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10 if i > 1 else "&lol;" * 10}">'
                      for i in range(1, 10))
            + ']>\n<definitions xmlns="https://www.omg.org/spec/DMN/20230324/MODEL/" name="x" '
              'namespace="x">&lol9;</definitions>')


def _alias_bomb(indent: str, levels: int = 9) -> str:
    """Lines of a YAML mapping whose aliases stand for 9**levels strings (a few hundred bytes)."""
    lines = [f'{indent}l0: &l0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"{indent}l{i}: &l{i} [{','.join([f'*l{i - 1}'] * 9)}]" for i in range(1, levels)]
    return "\n".join(lines) + "\n"


YAML_BOMB_MODEL = SHIPPING_YAML.replace("model: shipping\n", "model: shipping\nannotations:\n" + _alias_bomb("  "))
YAML_BOMB_CASES = ("- name: bomb\n  inputs:\n    Weight: 1\n    Speed: standard\n    Ship Date: 2024-01-02\n"
                   + _alias_bomb("    ") + "  expect: {Fee: 5}\n")

HOSTILE_MODEL = """\
model: hostile
namespace: https://decisionary.dev/tests/hostile
inputs:
  N: number
  Text: string
decisions:
  Nested Loops:
    type: number
    requires: [N]
    expression: 'count(for a in 1..N return count(for b in 1..N return count(for c in 1..N return c)))'
  Fan Out:
    type: number
    requires: [N]
    expression: '{calls: function(n) if n <= 0 then 1 else calls(n - 1) + calls(n - 1), total: calls(N)}.total'
  Doubling:
    type: number
    requires: [N]
    expression: '{grow: function(s, n) if n <= 0 then string length(s) else grow(s + s, n - 1), total: grow("ab", N)}.total'
  Backtracking:
    type: boolean
    requires: [Text]
    expression: 'matches(Text, "(a+)+$")'
"""


def test_an_xml_bomb_is_refused_and_nothing_is_stored(live: Live) -> None:
    response = while_healthy(live, lambda: live.upload("bomb", XML_BOMB, "bomb.dmn"))
    body = problem_of(response, 422, max_bytes=5000)
    assert body["errors"][0]["location"]  # type: ignore[index]
    assert live.client("viewer").get("/v1/models/bomb").status_code == 404


def test_a_yaml_alias_bomb_in_a_model_is_refused_with_its_line(live: Live) -> None:
    assert len(YAML_BOMB_MODEL) < len(SHIPPING_YAML) + 700
    response = while_healthy(live, lambda: live.upload("shipping", YAML_BOMB_MODEL, "shipping.yaml"))
    body = problem_of(response, 422, max_bytes=5000)
    assert "alias" in response.text.lower() and body["errors"][0]["location"]["line"]  # type: ignore[index]
    assert live.client("viewer").get("/v1/models/shipping").status_code == 404


def test_a_yaml_alias_bomb_in_test_cases_is_refused_on_upload_and_by_the_gates(live: Live) -> None:
    assert len(YAML_BOMB_CASES) < 800  # the 555-byte bomb of the report, give or take
    refused = while_healthy(live, lambda: live.upload("shipping", SHIPPING_YAML, "shipping.yaml",
                                                      test_cases=YAML_BOMB_CASES))
    problem_of(refused, 400, max_bytes=5000)
    assert "alias" in refused.text.lower()
    # Cases stored before every YAML went through one loader: the gates read them with the cap too.
    assert live.upload("shipping", SHIPPING_YAML, "shipping.yaml").status_code == 201
    with live.engine.begin() as connection:
        connection.execute(text("UPDATE versions SET test_cases = :cases WHERE number = 1"), {"cases": YAML_BOMB_CASES})
    viewer = live.client("viewer")
    gates = while_healthy(live, lambda: viewer.get("/v1/models/shipping/versions/1/gates"))
    assert gates.status_code == 200, gates.text[:2000]
    assert len(gates.content) < 20_000  # was 80 MB after 4.5 s
    report = gates.json()
    assert report["ok"] is False and "tests" not in report["passed"]
    assert "alias" in json.dumps(report["failures"]).lower(), report["failures"]


def _publish_hostile(live: Live) -> None:
    live.publish("hostile", HOSTILE_MODEL, "hostile.yaml")


def _evaluate(client: httpx.Client, decision: str, inputs: dict[str, object]) -> httpx.Response:
    return client.post("/v1/decisions/hostile/evaluate", json={"inputs": inputs, "decisions": [decision]})


def _refused_by_the_budget(response: httpx.Response, decision: str) -> None:
    """Null with a problem saying the evaluation ran out of its budget (200), or, past the time
    bound of one call, 503 with Retry-After; never a hang, a 500 or a huge answer."""
    assert len(response.content) < 20_000, f"a {len(response.content)}-byte answer"
    if response.status_code == 503:
        problem_of(response, 503)
        assert response.headers.get("Retry-After")
        return
    assert response.status_code == 200, response.text[:2000]
    body = response.json()
    assert body["outputs"][decision] is None
    assert any("budget" in p["message"] for p in body["problems"]), body["problems"]


def test_nested_loops_share_one_budget(live: Live) -> None:
    _publish_hostile(live)
    caller = live.client("caller")
    caller.timeout = httpx.Timeout(120)
    response = while_healthy(live, lambda: _evaluate(caller, "Nested Loops", {"N": 1000, "Text": ""}))
    _refused_by_the_budget(response, "Nested Loops")
    assert _evaluate(caller, "Nested Loops", {"N": 3, "Text": ""}).json()["outputs"]["Nested Loops"] == 3


def test_fan_out_recursion_is_bounded_in_calls_not_only_depth(live: Live) -> None:
    _publish_hostile(live)
    caller = live.client("caller")
    caller.timeout = httpx.Timeout(120)
    response = while_healthy(live, lambda: _evaluate(caller, "Fan Out", {"N": 40, "Text": ""}))
    _refused_by_the_budget(response, "Fan Out")
    assert _evaluate(caller, "Fan Out", {"N": 3, "Text": ""}).json()["outputs"]["Fan Out"] == 8


def test_string_growth_is_bounded(live: Live) -> None:
    _publish_hostile(live)
    caller = live.client("caller")
    caller.timeout = httpx.Timeout(120)
    # 26 doublings: a 128-million-character string (enough to show the bound, not to hurt the machine)
    response = while_healthy(live, lambda: _evaluate(caller, "Doubling", {"N": 26, "Text": ""}))
    _refused_by_the_budget(response, "Doubling")
    assert _evaluate(caller, "Doubling", {"N": 3, "Text": ""}).json()["outputs"]["Doubling"] == 16


def test_a_backtracking_regular_expression_on_long_input(live: Live) -> None:
    _publish_hostile(live)
    caller = live.client("caller")
    response = while_healthy(live, lambda: _evaluate(caller, "Backtracking", {"N": 0, "Text": "a" * 5000 + "!"}))
    assert response.status_code == 200, response.text[:2000]
    assert response.json()["outputs"]["Backtracking"] is False
    assert _evaluate(caller, "Backtracking", {"N": 0, "Text": "aaaa"}).json()["outputs"]["Backtracking"] is True


def test_publishing_while_evaluations_run(loan: Live) -> None:
    """Submit and publish run their gates outside the write transaction: evaluations going on
    meanwhile are all answered 200 and recorded, and the new version is published."""
    cases = "".join(f"- name: case {i}\n  inputs: {json.dumps(APPLICANT)}\n  expect: {{Decision: Approve}}\n"
                    for i in range(200))
    upload = loan.upload("loan-approval", LOAN_DMN.read_bytes(), LOAN_DMN.name, test_cases=cases)
    assert upload.status_code == 201, upload.text
    base = f"/v1/models/loan-approval/versions/{upload.json()['number']}"
    author, approver = loan.client("author"), loan.client("approver")
    for client in (author, approver):
        client.timeout = httpx.Timeout(120)

    def evaluations() -> list[int]:
        caller = loan.client("caller")
        return [caller.post("/v1/decisions/loan-approval/evaluate", json={"inputs": APPLICANT}).status_code
                for _ in range(40)]

    def lifecycle() -> list[int]:
        return [author.post(f"{base}/submit").status_code,
                approver.post(f"{base}/approve", json={"comment": "ok"}).status_code,
                approver.post(f"{base}/publish", json={"comment": "go"}).status_code]

    moves, first, second = while_healthy(loan, parallel(lifecycle, evaluations, evaluations))
    assert moves == [200, 200, 200]
    assert first == [200] * 40 and second == [200] * 40
    assert loan.count_records() == 80
    assert loan.client("viewer").get(base).json()["state"] == "published"
