"""The engines under comparison, behind one small interface.

Each engine gets its inputs in its own native form, prepared before any clock starts
(zen reads camelCase fields, the others the DMN input names), and each result is reduced to
an `Outcome` so that answers can be compared: decision, rate as a float, and the 1-based rule
that fired where the engine reports it.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from benchmarks.credit_table import (
    CreditTable,
    applicants,
    hand_written,
    to_dmn,
    to_jdm,
    to_jdm_json,
    zen_context,
)

DECISION = "Credit Decision"


@dataclass(frozen=True)
class Outcome:
    decision: str | None
    rate: float | None
    rule: int | None = None  # None where the engine does not say which rule fired

    def agrees_with(self, other: Outcome) -> bool:
        if self.decision != other.decision:
            return False
        if (self.rate is None) != (other.rate is None):
            return False
        if self.rate is not None and other.rate is not None and not math.isclose(
            self.rate, other.rate, rel_tol=1e-12, abs_tol=1e-12
        ):
            return False
        return self.rule is None or other.rule is None or self.rule == other.rule


@dataclass
class Engine:
    name: str
    prepare: Callable[[Mapping[str, Any]], Any]  # applicant by DMN input names -> native input
    call: Callable[[Any], Any]  # the timed call: native input -> raw result
    outcome: Callable[[Any], Outcome]  # raw result -> comparable outcome
    load_s: float  # time to load and compile the table
    handle: Any = None  # the engine's own object (Decisionary's Model), for batch calls

    def evaluate(self, applicant: Mapping[str, Any]) -> Outcome:
        return self.outcome(self.call(self.prepare(applicant)))


class DisagreementError(Exception):
    """Two engines gave different answers for the same applicant."""


def hand_written_engine(table: CreditTable) -> Engine:
    t0 = time.perf_counter()
    first_hit = hand_written(table)
    load_s = time.perf_counter() - t0

    def outcome(hit: tuple[str, float, int] | None) -> Outcome:
        return Outcome(None, None) if hit is None else Outcome(hit[0], hit[1], hit[2])

    return Engine("hand-written loop", dict, first_hit, outcome, load_s)


def zen_engine(table: CreditTable) -> Engine:
    """zen-engine's fastest path: one engine whose static loader config holds the graph.

    In zen 2.1.3 a callback loader runs on every `evaluate` (it cannot return bytes; returning
    the JSON text re-parses the graph each call, returning a `ZenDecisionContent` built once is
    close to the static config but slower). `zen_api_paths` measures each way side by side.
    """
    import zen

    key = table.name
    t0 = time.perf_counter()
    engine = zen.ZenEngine({"loader": {"type": "static", "content": {key: to_jdm(table)}}})
    engine.evaluate(key, zen_context(applicants(1, seed=0)[0]))  # the graph is compiled on first use
    load_s = time.perf_counter() - t0

    def call(ctx: dict[str, Any]) -> Any:
        return engine.evaluate(key, ctx)

    def outcome(response: Any) -> Outcome:
        result = response["result"]
        rate = result.get("rate")
        return Outcome(result.get("decision"), None if rate is None else float(rate))

    return Engine("zen-engine", zen_context, call, outcome, load_s)


def decisionary_engine(table: CreditTable) -> Engine:
    import decisions

    dmn = to_dmn(table)
    t0 = time.perf_counter()
    model = decisions.load(dmn)
    load_s = time.perf_counter() - t0

    def outcome(result: Any) -> Outcome:
        if result.problems:
            raise DisagreementError(f"Decisionary reported problems: {[str(p) for p in result.problems]}")
        value = result.outputs.get(DECISION)
        if value is None:
            return Outcome(None, None)
        fired = result.fired.get(DECISION) or []
        rate = value.get("Rate")
        return Outcome(value.get("Decision"), None if rate is None else float(rate),
                       fired[0] if len(fired) == 1 else None)

    return Engine("Decisionary", dict, model.evaluate, outcome, load_s, handle=model)


def check_agreement(engines: Sequence[Engine], applicants: Sequence[Mapping[str, Any]], label: str) -> int:
    """Every engine must give the reference engine's (the first's) answer for every applicant.

    Returns the number of applicants checked; raises `DisagreementError` on the first mismatch.
    """
    reference, *others = engines
    for applicant in applicants:
        expected = reference.evaluate(applicant)
        for engine in others:
            got = engine.evaluate(applicant)
            if not got.agrees_with(expected):
                raise DisagreementError(
                    f"{label}: {engine.name} disagrees with {reference.name} for {dict(applicant)}: "
                    f"{got} != {expected}"
                )
    return len(applicants)


def zen_api_paths(table: CreditTable) -> dict[str, Callable[[Any], Any]]:
    """The ways zen-engine 2.1.3 can evaluate one graph, each as a call on a zen context.

    Measured side by side because they differ several-fold and the documentation does not say
    which is fast: the loader runs on every `evaluate`, whatever it returns.
    """
    import zen

    text = to_jdm_json(table)
    content = zen.ZenDecisionContent(text)
    key = table.name
    with_content = zen.ZenEngine({"loader": lambda k: content})
    with_text = zen.ZenEngine({"loader": lambda k: text})
    static = zen.ZenEngine({"loader": {"type": "static", "content": {key: json.loads(text)}}})
    decision = zen.ZenEngine().create_decision(text)
    passthrough = {"contentType": "application/vnd.gorules.decision", "nodes": [n for n in to_jdm(table)["nodes"]
                   if n["type"] != "decisionTableNode"],
                   "edges": [{"id": "e", "type": "edge", "sourceId": "request", "targetId": "response"}]}
    floor = zen.ZenEngine({"loader": {"type": "static", "content": {key: passthrough}}})
    return {
        "static loader config (used)": lambda ctx: static.evaluate(key, ctx),
        "loader returning ZenDecisionContent": lambda ctx: with_content.evaluate(key, ctx),
        "loader returning JSON text": lambda ctx: with_text.evaluate(key, ctx),
        "create_decision(...).evaluate": lambda ctx: decision.evaluate(ctx),
        "input -> output, no table (the binding's floor)": lambda ctx: floor.evaluate(key, ctx),
    }
