"""List functions. Positions are 1-based; negative positions count from the end.

Aggregates (`min`, `max`, `sum`, `mean`, `product`, `median`, `stddev`, `mode`, `all`, `any`)
take either one list or their items as separate arguments.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from decimal import Decimal, DecimalException
from typing import Any

from decisions.feel.builtins.registry import BuiltinError, TooLarge, fn, reserve, to_int, with_env
from decisions.feel.env import Env
from decisions.feel.values import DECIMAL_CONTEXT, FeelFunction, feel_compare, feel_equal

_ctx = DECIMAL_CONTEXT


def _numbers(items: list[Any], what: str) -> list[Decimal]:
    if any(type(x) is not Decimal for x in items):
        raise BuiltinError(f"{what} needs a list of numbers")
    return items


def _index(position: Decimal, size: int, *, insert: bool = False) -> int:
    p = to_int(position, "position")
    limit = size + 1 if insert else size
    if 1 <= p <= limit:
        return p - 1
    if -size <= p <= -1:
        return size + p
    raise BuiltinError(f"position {p} is outside the list (size {size})")


def _list_contains(xs: list[Any], element: Any) -> bool:
    return any(feel_equal(x, element) is True for x in xs)


def _count(xs: list[Any]) -> Decimal:
    return Decimal(len(xs))


def _extreme(items: list[Any], sign: int) -> Any:
    if not items:
        return None
    best = items[0]
    for x in items[1:]:
        c = feel_compare(x, best)
        if c is None:
            raise BuiltinError("items are not comparable")
        if c * sign > 0:
            best = x
    if len(items) == 1 and feel_compare(best, best) is None:
        raise BuiltinError("item is not comparable")
    return best


def _min(xs: list[Any]) -> Any:
    return _extreme(xs, -1)


def _max(xs: list[Any]) -> Any:
    return _extreme(xs, 1)


def _sum(xs: list[Any]) -> Decimal | None:
    if not xs:
        return None
    total = Decimal(0)
    for x in _numbers(xs, "sum"):
        total = _ctx.add(total, x)
    return total


def _mean(xs: list[Any]) -> Decimal | None:
    if not xs:
        return None
    total = _sum(xs)
    assert total is not None
    return _ctx.divide(total, Decimal(len(xs)))


def _product(xs: list[Any]) -> Decimal | None:
    if not xs:
        return None
    total = Decimal(1)
    for x in _numbers(xs, "product"):
        total = _ctx.multiply(total, x)
    return total


def _median(xs: list[Any]) -> Decimal | None:
    if not xs:
        return None
    items = sorted(_numbers(xs, "median"))
    n = len(items)
    if n % 2:
        return items[n // 2]
    return _ctx.divide(_ctx.add(items[n // 2 - 1], items[n // 2]), Decimal(2))


def _stddev(xs: list[Any]) -> Decimal | None:
    items = _numbers(xs, "stddev")
    if len(items) < 2:
        return None
    mean = _mean(items)
    assert mean is not None
    squares = Decimal(0)
    for x in items:
        d = _ctx.subtract(x, mean)
        squares = _ctx.add(squares, _ctx.multiply(d, d))
    return _ctx.sqrt(_ctx.divide(squares, Decimal(len(items) - 1)))


def _mode(xs: list[Any]) -> list[Decimal]:
    items = _numbers(xs, "mode")
    counts: dict[Decimal, int] = {}
    for x in items:
        counts[x] = counts.get(x, 0) + 1
    if not counts:
        return []
    top = max(counts.values())
    return sorted(x for x, c in counts.items() if c == top)


def _all(xs: list[Any]) -> bool | None:
    if any(x is False for x in xs):
        return False
    return True if all(x is True for x in xs) else None


def _any(xs: list[Any]) -> bool | None:
    if any(x is True for x in xs):
        return True
    return False if all(x is False for x in xs) else None


def _sublist(xs: list[Any], start: Decimal, length: Decimal | None = None) -> list[Any]:
    begin = _index(start, len(xs))
    if length is None:
        return xs[begin:]
    if length != length.to_integral_value() or length < 0:
        raise BuiltinError(f"length must be a non-negative integer, got {length}")
    if begin + int(length) > len(xs):
        raise BuiltinError(f"sublist of length {length} from position {start} is outside the list")
    return xs[begin : begin + int(length)]


def _append(xs: list[Any], *items: Any) -> list[Any]:
    return [*xs, *items]


def _concatenate(env: Env, *lists: list[Any]) -> list[Any]:
    out: list[Any] = []
    for x in lists:
        if type(x) is not list:
            raise BuiltinError("concatenate needs lists")
    reserve(env, sum(len(x) for x in lists))
    for x in lists:
        out.extend(x)
    return out


def _insert_before(xs: list[Any], position: Decimal, new_item: Any) -> list[Any]:
    i = _index(position, len(xs))
    return [*xs[:i], new_item, *xs[i:]]


def _remove(xs: list[Any], position: Decimal) -> list[Any]:
    i = _index(position, len(xs))
    return [*xs[:i], *xs[i + 1:]]


def _reverse(xs: list[Any]) -> list[Any]:
    return xs[::-1]


def _index_of(xs: list[Any], match: Any) -> list[Decimal]:
    return [Decimal(i + 1) for i, x in enumerate(xs) if feel_equal(x, match) is True]


def _distinct(items: list[Any]) -> list[Any]:
    out: list[Any] = []
    for x in items:
        if not any(feel_equal(x, y) is True for y in out):
            out.append(x)
    return out


def _union(env: Env, *lists: list[Any]) -> list[Any]:
    return _distinct(_concatenate(env, *lists))


def _flatten(env: Env, xs: list[Any]) -> list[Any]:
    """The items of `xs` and of the lists in it, at any depth. A list can hold the same list
    many times (`[a, a]` where `a` is `[b, b]`, ...), so the result can be exponentially larger
    than the lists it reads: it is bounded by the evaluation's memory budget as it grows."""
    room = env.budget.memory
    out: list[Any] = []
    stack: list[tuple[list[Any], int]] = [(xs, 0)]
    while stack:
        items, i = stack.pop()
        while i < len(items):
            x = items[i]
            i += 1
            if type(x) is list:
                stack.append((items, i))
                items, i = x, 0
                continue
            out.append(x)
            if len(out) > room:
                raise TooLarge(len(out))
    return out


def _call_bool(env: Env, f: FeelFunction, *args: Any) -> bool | None:
    r = f.call(env, list(args))
    return r if type(r) is bool else None


def _list_replace_at(xs: list[Any], position: Decimal, new_item: Any) -> list[Any]:
    i = _index(position, len(xs))
    return [*xs[:i], new_item, *xs[i + 1:]]


def _list_replace_matching(env: Env, xs: list[Any], match: FeelFunction, new_item: Any) -> list[Any]:
    if len(match.parameters) != 2:
        raise BuiltinError("the match function must take two parameters (item, newItem)")
    out: list[Any] = []
    for x in xs:
        r = match.call(env, [x, new_item])
        if type(r) is not bool:
            raise BuiltinError("the match function must return a boolean")
        out.append(new_item if r else x)
    return out


def _sort(env: Env, xs: list[Any], precedes: FeelFunction | None = None) -> list[Any]:
    if precedes is None:
        def natural(a: Any, b: Any) -> int:
            c = feel_compare(a, b)
            if c is None:
                raise BuiltinError("items are not comparable")
            return c
        compare: Callable[[Any, Any], int] = natural
    else:
        function = precedes

        def by_function(a: Any, b: Any) -> int:
            if _call_bool(env, function, a, b) is True:
                return -1
            if _call_bool(env, function, b, a) is True:
                return 1
            return 0
        compare = by_function
    try:
        return sorted(xs, key=functools.cmp_to_key(compare))
    except DecimalException as e:
        raise BuiltinError(f"cannot sort: {e}") from None


def _aggregate(name: str, body: Callable[[list[Any]], Any]) -> Any:
    return fn(name, (["list: list"], body), (["n...: any"], lambda *items: body(list(items))))


FUNCTIONS = [
    fn("list contains", (["list: list", "element: any"], _list_contains)),
    fn("count", (["list: list"], _count)),
    _aggregate("min", _min),
    _aggregate("max", _max),
    _aggregate("sum", _sum),
    _aggregate("mean", _mean),
    _aggregate("product", _product),
    _aggregate("median", _median),
    _aggregate("stddev", _stddev),
    _aggregate("mode", _mode),
    fn("all", (["list: list"], _all), (["b...: any"], lambda *items: _all(list(items)))),
    fn("any", (["list: list"], _any), (["b...: any"], lambda *items: _any(list(items)))),
    fn("sublist", (["list: list", "start position: number", "length?: number"], _sublist)),
    fn("append", (["list: list", "item...: any"], _append)),
    fn("concatenate", with_env(["list...: any"], _concatenate)),
    fn("insert before", (["list: list", "position: number", "newItem: any"], _insert_before)),
    fn("remove", (["list: list", "position: number"], _remove)),
    fn("reverse", (["list: list"], _reverse)),
    fn("index of", (["list: list", "match: any"], _index_of)),
    fn("union", with_env(["list...: any"], _union)),
    fn("distinct values", (["list: list"], _distinct)),
    fn("flatten", with_env(["list: list"], _flatten)),
    fn("list replace", (["list: list", "position: number", "newItem: any"], _list_replace_at),
       with_env(["list: list", "match: function", "newItem: any"], _list_replace_matching)),
    fn("sort", with_env(["list: list", "precedes?: function"], _sort)),
]
