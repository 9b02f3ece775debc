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

Fn = Callable[[Env], Any]
Report = Callable[[Env, str], None]


def product(env: Env, iterations: list[tuple[str, Fn, Fn | None]], k: int,
            visit: Callable[[Env], Any], report: Callable[[Env, str], None]) -> bool:
    """Visit every combination of the iteration sources (nested loops), binding each name.

    False (after reporting) when a source is not iterable or the evaluation's budget runs out:
    each item bound is a step of the one budget the whole evaluation shares (decisions/feel/
    budget.py), so `for a in 1..100000 return for b in 1..100000 return a * b` stops as
    `for a in 1..100000, b in 1..100000` does, instead of hanging.
    """
    name, source, end = iterations[k]
    items = iteration_items(env, source, end, report)
    if items is None:
        return False
    budget = env.budget
    last = k + 1 == len(iterations)
    for item in items:
        budget.left -= 1
        if budget.left < 0:
            why = budget.renew()
            if why is not None:
                if why:
                    report(env, why)
                return False
        if last:
            visit(env.bind(name, item))
        elif not product(env.bind(name, item), iterations, k + 1, visit, report):
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
    contains itself. Parts that do not hold `partial` are kept as they are, and each list or
    context is visited once however often it is shared (`concatenate(partial, partial)` in a
    loop shares the earlier results exponentially often)."""
    if value is partial:
        return list(partial)
    kind = type(value)
    if kind is not list and kind is not dict:
        return value
    return _detach(value, partial, {})


def _detach(value: Any, partial: list[Any], seen: dict[int, Any]) -> Any:
    key = id(value)
    if key in seen:
        return seen[key]
    if value is partial:
        out: Any = list(partial)
    elif type(value) is list:
        items = [_detach(v, partial, seen) if type(v) in (list, dict) else v for v in value]
        out = value if all(a is b for a, b in zip(items, value, strict=True)) else items
    elif type(value) is dict:
        entries = {k: _detach(v, partial, seen) if type(v) in (list, dict) else v for k, v in value.items()}
        out = value if all(entries[k] is v for k, v in value.items()) else entries
    else:
        out = value
    seen[key] = out
    return out


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
    budget = env.budget
    for k, item in enumerate(items):
        budget.left -= 1  # each item tested is a step (nested filters multiply them)
        if budget.left < 0:
            why = budget.renew()
            if why is not None:
                if why:
                    report(env, why)
                return None
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
