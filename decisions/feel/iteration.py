"""Run-time helpers of iterations, filters and paths: `for`/`some`/`every` products,
integer and date ranges (`for i in 1..3`), list indexing and projections (`persons.age`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from decisions.feel.builtins.properties import get_property
from decisions.feel.env import Env
from decisions.feel.values import Range, feel_compare, type_name
from decisions.limits import MAX_ITERATIONS

Fn = Callable[[Env], Any]
Report = Callable[[Env, str], None]




def product(env: Env, iterations: list[tuple[str, Fn, Fn | None]], k: int,
            visit: Callable[[Env], Any], report: Callable[[Env, str], None],
            budget: list[int] | None = None) -> bool:
    """Visit every combination of the iteration sources (nested loops), binding each name.

    False (after reporting) when a source is not iterable or the combinations exceed
    MAX_ITERATIONS: a runaway `for a in 1..100000, b in 1..100000` stops instead of hanging.
    """
    if budget is None:
        budget = [MAX_ITERATIONS]
    if k == len(iterations):
        budget[0] -= 1
        if budget[0] < 0:
            report(env, f"more than {MAX_ITERATIONS:,} iterations")
            return False
        visit(env)
        return True
    name, source, end = iterations[k]
    items = iteration_items(env, source, end, report)
    if items is None:
        return False
    for item in items:
        if not product(env.bind(name, item), iterations, k + 1, visit, report, budget):
            return False
    return True


def quantify(env: Env, outcomes: list[Any], every: bool, report: Report) -> bool | None:
    """`some`/`every` over the outcomes of `satisfies`, with the three-valued logic of `or` and
    `and`: one true (some) or one false (every) decides; otherwise a null outcome makes the
    result null. An outcome that is not a boolean or null is an error (null)."""
    wrong = next((o for o in outcomes if o is not None and type(o) is not bool), None)
    if wrong is not None:
        report(env, f"'satisfies' must give a boolean, got {type_name(wrong)}")
        return None
    deciding = not every
    if any(o is deciding for o in outcomes):
        return deciding
    return None if any(o is None for o in outcomes) else not deciding


def detach(value: Any, partial: list[Any]) -> Any:
    """`value` with the list `partial` (the results so far of a `for`) replaced by a copy of
    itself wherever it appears: `for i in 1..3 return partial` must not build a list that
    contains itself."""
    if value is partial:
        return list(partial)
    if type(value) is list and any(type(v) in (list, dict) for v in value):
        return [detach(v, partial) for v in value]
    if type(value) is dict and any(type(v) in (list, dict) for v in value.values()):
        return {k: detach(v, partial) for k, v in value.items()}
    return value


def iteration_items(env: Env, source: Fn, end: Fn | None, report: Callable[[Env, str], None]) -> Sequence[Any] | None:
    start = source(env)
    if end is not None:
        stop = end(env)
        if _is_plain_date(start) and _is_plain_date(stop):
            return _date_range(env, start, stop, report)
        return _integer_range(env, start, stop, True, True, report)
    if type(start) is list:
        return start
    if type(start) is Range:
        if start.start is None or start.end is None or feel_compare(start.start, start.end) == 1:
            report(env, "cannot iterate over a range without both bounds in ascending order")
            return None
        if _is_plain_date(start.start) and _is_plain_date(start.end):
            days = _date_range(env, start.start, start.end, report)
            if days is None:
                return None
            return days[(0 if start.start_included else 1):(None if start.end_included else -1)]
        return _integer_range(env, start.start, start.end, start.start_included, start.end_included, report)
    if start is None:
        report(env, "cannot iterate over null")
        return None
    return [start]


def _is_plain_date(value: Any) -> bool:
    return isinstance(value, dt.date) and not isinstance(value, dt.datetime)


def _date_range(env: Env, start: dt.date, stop: dt.date, report: Callable[[Env, str], None]) -> list[dt.date] | None:
    days = (stop - start).days
    if abs(days) > 1_000_000:
        report(env, "iteration range too large (more than 1,000,000 items)")
        return None
    step = 1 if days >= 0 else -1
    return [start + dt.timedelta(days=k) for k in range(0, days + step, step)]


def _integer_range(env: Env, start: Any, stop: Any, start_in: bool, stop_in: bool,
                   report: Callable[[Env, str], None]) -> list[Decimal] | None:
    if type(start) is not Decimal or type(stop) is not Decimal or start != start.to_integral_value() \
            or stop != stop.to_integral_value():
        report(env, f"iteration range bounds must be integers, got {type_name(start)} and {type_name(stop)}")
        return None
    a, b = int(start), int(stop)
    if abs(b - a) > 1_000_000:
        report(env, "iteration range too large (more than 1,000,000 items)")
        return None
    step = 1 if b >= a else -1
    values = [Decimal(i) for i in range(a, b + step, step)]
    if not start_in and values:
        values = values[1:]
    if not stop_in and values:
        values = values[:-1]
    return values


def filter_items(env: Env, items: list[Any], condition: Fn, report: Report) -> Any:
    """`items[condition]` for a condition that depends on the item: the items for which it is
    true (false, null and any other value drop the item). `item` names the item, and the
    entries of an item that is a context are names too (an entry named `item` wins). A number
    from the first item makes the filter an index (`[1, 2, 3][1 + 1]`)."""
    kept: list[Any] = []
    for k, item in enumerate(items):
        scope = env.bind("item", item)
        if type(item) is dict:
            scope.vars.update(item)
        r = condition(scope)
        if r is True:
            kept.append(item)
        elif type(r) is Decimal and k == 0:
            return index(env, items, r, report)
    return kept


def index(env: Env, items: list[Any], selector: Any, report: Callable[[Env, str], None]) -> Any:
    if type(selector) is not Decimal:
        return items if selector is True else ([] if selector is False else None)
    if selector != selector.to_integral_value():
        report(env, f"list index {selector} is not an integer")
        return None
    i = int(selector)
    n = len(items)
    if 1 <= i <= n:
        return items[i - 1]
    if -n <= i <= -1:
        return items[n + i]
    return None


def member(env: Env, value: Any, name: str, report: Callable[[Env, str], None]) -> Any:
    if value is None:
        return None
    if type(value) is list:
        return [_project(env, v, name, report) for v in value]
    found, result = get_property(value, name)
    if not found:
        report(env, f"{type_name(value)} has no property '{name}'")
        return None
    return result


def _project(env: Env, value: Any, name: str, report: Callable[[Env, str], None]) -> Any:
    if type(value) is dict:
        return value.get(name)
    return member(env, value, name, report)
