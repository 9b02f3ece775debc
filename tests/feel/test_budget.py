"""One budget of steps and memory per evaluation (decisions/feel/budget.py), shared by nested
loops, filters, recursion and every built-in that makes strings or lists: what exceeds it is
null with one located problem, at once, instead of a hang or a MemoryError."""

from __future__ import annotations

from typing import Any

import pytest

from decisions import feel, limits
from decisions.errors import Problem
from decisions.feel import Budget, Env

# Each would run for minutes or fill memory without a shared budget; with these budgets each
# stops after a few thousand steps or characters.
STEPS = 5_000
MEMORY = 20_000


def run(text: str, steps: int = STEPS, memory: int = MEMORY) -> tuple[Any, list[Problem], Budget]:
    budget = Budget(steps=steps, memory=memory)
    env = Env({}, [], budget=budget)
    value = feel.compile_expression(text).evaluate(env)
    return value, env.problems, budget


def exceeded(problems: list[Problem]) -> list[Problem]:
    return [p for p in problems if "evaluation budget exceeded" in p.message]


RUNAWAY = {
    # nested loops: each for stays far under the total, their product does not
    "nested for": "for a in 1..1000 return for b in 1..1000 return a * b",
    "for in a function called by a for": "{f: function(n) for i in 1..n return i, r: for a in 1..1000 return f(1000)}.r",
    "nested quantifiers": "{l: for i in 1..1000 return i, r: some a in l satisfies every b in l satisfies a > b + 5000}.r",
    "nested filters": "{l: for i in 1..200 return i, r: l[l[l[item > 0] = [1]] = [1]]}.r",
    # fan-out recursion: 2^40 calls, never deeper than 41
    "fan-out recursion": "{f: function(n) if n = 0 then 1 else f(n - 1) + f(n - 1), r: f(40)}.r",
    "recursion in sort": "{f: function(n) if n = 0 then 1 else f(n - 1) + f(n - 1),"
                         " r: sort([3, 1, 2], function(a, b) f(30) > 0)}.r",
}

GROWING = {
    "string doubled by recursion": '{f: function(s) if string length(s) > 100000000 then s else f(s + s), r: f("ab")}.r',
    "string concatenation in a loop": 'for i in 1..100 return string join(for j in 1..100 return "xxxxxxxx")',
    "string join of a large list": '{s: for i in 1..1000 return "xxxxxxxxxxxxxxxxxxxxxxxxxxx", r: string join(s, s[1])}.r',
    "replace growing text": 'replace(replace("aaaaaaaaaaaaaaaaaaaa", "a", "aaaaaaaaaaaaaaaa"), "a", "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb")',
    "substring of growing text": '{f: function(s) if string length(s) > 1000000 then substring(s, 2) else f(s + s), r: f("ab")}.r',
    "concatenate doubling a list": '{f: function(l) if count(l) > 10000000 then l else f(concatenate(l, l)), r: f([1])}.r',
    "append in recursion": '{f: function(l, n) if n = 0 then l else f(append(l, n, n, n, n, n, n, n, n), n - 1), r: f([], 3000)}.r',
    "flatten of a shared list": '{a: [1, 1], b: [a, a], c: [b, b], d: [c, c], e: [d, d], f: [e, e], g: [f, f],'
                                ' h: [g, g], i: [h, h], j: [i, i], k: [j, j], l: [k, k], m: [l, l], n: [m, m],'
                                ' o: [n, n], p: [o, o], q: [p, p], r: flatten(q)}.r',
    "for results of partial": "for i in 1..1000 return partial",
}


@pytest.mark.parametrize("text", RUNAWAY.values(), ids=RUNAWAY.keys())
def test_steps_are_one_budget_across_nesting_and_recursion(text: str) -> None:
    value, problems, budget = run(text, memory=10**9)
    assert value is None
    found = exceeded(problems)
    assert len(found) == 1, problems
    assert f"more than {STEPS:,} steps" in found[0].message
    assert found[0].location.text == text  # located: the text, at the loop or call that ran out
    assert found[0].location.position is not None
    assert budget.exceeded is not None


@pytest.mark.parametrize("text", GROWING.values(), ids=GROWING.keys())
def test_strings_and_lists_made_are_one_memory_budget(text: str) -> None:
    value, problems, _ = run(text, steps=10**6)
    assert value is None
    found = exceeded(problems)
    assert len(found) == 1, problems
    assert f"more than {MEMORY:,} characters and list items made" in found[0].message


def test_within_the_budget_results_are_unchanged() -> None:
    value, problems, _ = run("for a in 1..40 return for b in 1..40 return a * b")
    assert problems == [] and len(value) == 40 and value[39][39] == 1600
    value, problems, _ = run('string join(for i in 1..100 return "ab", ",")')
    assert problems == [] and len(value) == 299
    value, problems, _ = run("{f: function(n) if n < 2 then n else f(n - 1) + f(n - 2), r: f(15)}.r")
    assert problems == [] and value == 610
    value, problems, _ = run("for i in 1..3 return [partial, {a: partial}]")
    first = [[], {"a": []}]
    assert problems == [] and value[:2] == [first, [[first], {"a": [first]}]]


def test_the_default_budget_is_the_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Env().budget.memory == limits.MAX_MEMORY
    monkeypatch.setattr(limits, "MAX_STEPS", 3)
    env = Env()
    messages: list[str] = []
    assert [env.step(messages.append) for _ in range(4)] == [True, True, True, False]
    assert messages == ["evaluation budget exceeded: more than 3 steps (iterations and function calls)"]
    assert env.step(messages.append) is False and len(messages) == 1  # reported once


def test_a_deadline_stops_an_evaluation_within_its_steps() -> None:
    with feel.time_limit(0.0):
        value, problems, _ = run("for a in 1..100 return for b in 1..100 return a * b", steps=10**6)
    assert value is None
    assert "evaluation took longer than 0 s" in exceeded(problems)[0].message


def test_one_budget_for_every_decision_of_a_model() -> None:
    import decisions  # noqa: PLC0415 - only this test reads a model

    model = decisions.load(MODEL, format="yaml")
    result = model.evaluate({"n": 300}, budget=Budget(steps=500, memory=MEMORY))
    # Each decision spends 300 steps: the second exceeds the budget the decisions share and
    # Third, after it, is not evaluated. Alone, each is within it.
    assert result.outputs["First"] is not None
    assert result.outputs["Second"] is None and result.outputs["Third"] is None
    messages = [p.message for p in result.problems]
    assert any("evaluation budget exceeded: more than 500 steps" in m for m in messages)
    assert any(m.startswith("not evaluated: evaluation budget exceeded") for m in messages)
    alone = model.evaluate({"n": 300, "First": 1, "Second": 1}, decisions=["Third"],
                           budget=Budget(steps=500, memory=MEMORY))
    assert alone.outputs["Third"] == 300


MODEL = """
model: budget
inputs:
  n: number
decisions:
  First:
    requires: [n]
    expression: count(for i in 1..n return i)
  Second:
    requires: [n, First]
    expression: count(for i in 1..n return First)
  Third:
    requires: [n, Second]
    expression: count(for i in 1..n return n)
"""
