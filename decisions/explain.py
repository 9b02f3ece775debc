"""Why a rule fired, or why it did not: each of its cells, with the value the column saw.

    model.explain({"Credit Score": 640, ...}, "Risk Category", 7)    # one rule (number or id)
    model.explain(inputs, "Risk Category")                           # every rule of the table
    model.explain(inputs, "Points.Age")                              # the bins of a scorecard characteristic

A rule matches when every one of its input cells is satisfied. For each cell the explanation
gives the column, the cell's text, the value the column's input expression gave for this call
(after type conversion, as the cell test saw it), and whether the test was satisfied. `fired`
says whether the hit policy counted the rule (a rule can match and not fire: FIRST and
PRIORITY keep one of several matches). The required decisions are evaluated first, exactly as
`evaluate` does, so a column reading another decision sees its result.

The explanation reruns the table's cell tests one by one (no index), which is the reference
the rule index is tested against; it is meant for a person asking about one call, not for
batches.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from decisions import feel
from decisions.errors import InputError, Problem
from decisions.feel.values import from_python, to_json

if TYPE_CHECKING:
    from decisions.compiled import Model
    from decisions.tables.table import CompiledTable


@dataclass(frozen=True)
class CellCheck:
    column: str  # the input column's label (or expression)
    cell: str  # the cell's unary tests, as written
    value: Any  # what the column's input expression gave (JSON data)
    satisfied: bool

    def to_json(self) -> dict[str, Any]:
        return {"column": self.column, "cell": self.cell, "value": self.value, "satisfied": self.satisfied}


@dataclass(frozen=True)
class RuleExplanation:
    decision: str
    rule: int  # 1-based, in rule order
    rule_id: str  # the stable id (decisions/tables/rule_ids.py)
    matched: bool  # every cell satisfied
    fired: bool  # counted by the hit policy
    cells: tuple[CellCheck, ...]

    @property
    def failed(self) -> tuple[CellCheck, ...]:
        return tuple(cell for cell in self.cells if not cell.satisfied)

    def to_json(self) -> dict[str, Any]:
        return {"decision": self.decision, "rule": self.rule, "rule_id": self.rule_id, "matched": self.matched,
                "fired": self.fired, "cells": [cell.to_json() for cell in self.cells],
                "failed": [cell.to_json() for cell in self.failed]}

    def __str__(self) -> str:
        head = f"{self.decision}, rule {self.rule} ({self.rule_id})"
        if self.matched:
            how = "fired" if self.fired else "matched but did not fire (the hit policy kept another rule)"
            return f"{head} {how}: " + "; ".join(f"{c.column} is {_text(c.value)}, which satisfies '{c.cell}'"
                                                 for c in self.cells if c.cell.strip() != "-") \
                if any(c.cell.strip() != "-" for c in self.cells) else f"{head} {how}: every cell is '-'"
        return f"{head} did not match: " + "; ".join(f"{c.column} is {_text(c.value)}, which does not satisfy "
                                                      f"'{c.cell}'" for c in self.failed)


def explain(model: Model, inputs: Mapping[str, Any], decision: str,
            rule: int | str | None = None) -> list[RuleExplanation]:
    """The explanation of `rule` (a 1-based number or a rule id) of `decision`'s table for these
    inputs, or of every rule when `rule` is None. InputError names an unknown decision or rule,
    or a decision that is not a table (or is one that does not compile)."""
    compiled = model.decisions.get(decision)
    owner = model.decision_of(decision)  # a scorecard characteristic's table: its scorecard
    if owner not in model.decisions:
        known = ", ".join(model.decisions) or "none"
        raise InputError(f"unknown decision {decision!r}; the model's decisions are {known}")
    table = model.tables().get(decision)
    if table is None:
        assert compiled is not None
        if compiled.logic.errors:
            reasons = "; ".join(p.message for p in compiled.logic.errors)
            raise InputError(f"decision {decision!r} does not compile ({reasons}), so it has no rules to explain; "
                             "it gives null")
        if compiled.logic.scorecard is not None:
            keys = ", ".join(c.key for c in compiled.logic.scorecard.characteristics)
            raise InputError(f"decision {decision!r} is a scorecard: explain one of its characteristics ({keys})")
        raise InputError(f"decision {decision!r} is not a decision table, so it has no rules to explain")
    ids = model.rule_ids[decision]
    wanted = _rules(decision, rule, ids)

    result = model.evaluate(inputs, decisions=[owner], trace=True)
    problems: list[Problem] = []
    values = model._bind_inputs(inputs, problems, feel_values=True)  # noqa: SLF001 - the same variables
    for step in result.trace or ():
        values[step.decision] = step.output
    for name in model.decisions:
        if name in inputs:  # a given value stands in for the decision, as in evaluate
            values[name] = from_python(inputs[name])
    for alias in model.decisions[owner].aliases:  # required decisions' outputs read by their names
        values[alias.name] = alias.value(values)
    env = feel.Env.over(values, problems)
    return explain_rules(decision, table, env, result.fired.get(decision, []), ids, wanted)


def explain_rules(decision: str, table: CompiledTable, env: feel.Env, fired: Sequence[int], ids: Sequence[str],
                  wanted: Sequence[int]) -> list[RuleExplanation]:
    """The explanations of the rules `wanted` (0-based) of `table`, evaluated in `env` (the
    variables the table saw), given the rules that fired (1-based). Also what `evaluate` puts in
    the trace with trace="explain"."""
    seen = []
    for inp in table.inputs:
        value = env.vars.get(inp.name) if inp.name is not None else inp.getter(env)
        seen.append(from_python(value) if type(value) in (int, float) else value)
    counted = set(fired)
    explanations = []
    for r in wanted:
        cells = tuple(CellCheck(inp.title, table.table.rules[r].input_entries[c], to_json(seen[c]),
                                table.cell_tests[c][r](env, seen[c]) is True)
                      for c, inp in enumerate(table.inputs))
        explanations.append(RuleExplanation(decision, r + 1, ids[r], all(c.satisfied for c in cells),
                                            r + 1 in counted, cells))
    return explanations


def _rules(decision: str, rule: int | str | None, ids: Sequence[str]) -> list[int]:
    """0-based rule indexes for `rule`."""
    if rule is None:
        return list(range(len(ids)))
    if isinstance(rule, bool) or not isinstance(rule, int | str):
        raise InputError(f"a rule is a number (1, 2, ...) or a rule id, not {rule!r}")
    if isinstance(rule, int):
        if not 1 <= rule <= len(ids):
            raise InputError(f"decision {decision!r} has rules 1 to {len(ids)}, not {rule}")
        return [rule - 1]
    if rule in ids:
        return [ids.index(rule)]
    if rule.isdigit():
        return _rules(decision, int(rule), ids)
    raise InputError(f"decision {decision!r} has no rule with the id {rule!r}")


def _text(value: Any) -> str:
    return "null" if value is None else repr(value) if isinstance(value, str) else str(value)
