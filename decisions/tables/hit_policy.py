"""Hit policies: from the rules that matched to the table's result (DMN 1.5, 8.2.11).

`apply_hit_policy` receives the matched rules in rule order, each with its output values
already evaluated, and returns the result and the rules that count as fired. Violations
(two rules under UNIQUE, differing outputs under ANY) give the spec's null and an error that
names the rules.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from decisions.errors import Location, Problem
from decisions.feel.values import DECIMAL_CONTEXT, feel_compare, feel_equal

# rule index (0-based) and its output values, one per output column
Match = tuple[int, tuple[Any, ...]]


def _rule_list(matches: Sequence[Match]) -> str:
    return ", ".join(str(r + 1) for r, _ in matches)


def _same_outputs(a: tuple[Any, ...], b: tuple[Any, ...]) -> bool:
    return len(a) == len(b) and all(feel_equal(x, y) is True for x, y in zip(a, b, strict=True))


def _aggregate(aggregation: str, values: list[Any], where: Location) -> tuple[Any, list[Problem]]:
    if aggregation == "COUNT":
        return Decimal(len(values)), []
    present = [v for v in values if v is not None]
    if not present:
        return None, []
    if aggregation == "SUM":
        if not all(isinstance(v, Decimal) for v in present):
            return None, [Problem("COLLECT SUM needs numbers", where, code="hit-policy")]
        total = Decimal(0)
        for v in present:
            total = DECIMAL_CONTEXT.add(total, v)
        return total, []
    best = present[0]
    for v in present[1:]:
        order = feel_compare(v, best)
        if order is None:
            return None, [Problem(f"COLLECT {aggregation} over values that cannot be compared", where,
                                  code="hit-policy")]
        if (aggregation == "MIN" and order < 0) or (aggregation == "MAX" and order > 0):
            best = v
    return best, []


def apply_hit_policy(
    hit_policy: str,
    aggregation: str | None,
    matches: Sequence[Match],
    shape: Callable[[tuple[Any, ...]], Any],
    priority: Callable[[tuple[Any, ...]], tuple[int, ...]],
    where: Location,
) -> tuple[Any, list[int], list[Problem]]:
    """Return (result, fired rule indexes, problems). `shape` turns one rule's outputs into
    the table's value (the value itself for one output, a context for several)."""
    fired = [r for r, _ in matches]
    if hit_policy == "UNIQUE":
        if len(matches) > 1:
            return None, fired, [Problem(
                f"UNIQUE hit policy violated: rules {_rule_list(matches)} all match", where,
                code="hit-policy")]
        return shape(matches[0][1]), fired, []
    if hit_policy == "FIRST":
        return shape(matches[0][1]), fired[:1], []
    if hit_policy == "ANY":
        first = matches[0][1]
        for _, outputs in matches[1:]:
            if not _same_outputs(first, outputs):
                return None, fired, [Problem(
                    f"ANY hit policy violated: rules {_rule_list(matches)} match with different outputs",
                    where, code="hit-policy")]
        return shape(first), fired, []
    if hit_policy == "PRIORITY":
        best = min(matches, key=lambda m: priority(m[1]))  # min() keeps rule order on ties
        return shape(best[1]), [best[0]], []
    if hit_policy == "OUTPUT ORDER":
        ordered = sorted(matches, key=lambda m: priority(m[1]))  # stable: rule order on ties
        return [shape(o) for _, o in ordered], [r for r, _ in ordered], []
    if hit_policy == "RULE ORDER":
        return [shape(o) for _, o in matches], fired, []
    # COLLECT
    if aggregation is None:
        return [shape(o) for _, o in matches], fired, []
    values = [shape(o) for _, o in matches]
    result, problems = _aggregate(aggregation, values, where)
    return result, fired, problems
