"""Range functions (DMN 1.5, 10.3.4.9): before, after, meets, met by, overlaps, overlaps before,
overlaps after, finishes, finished by, includes, during, starts, started by, coincides.

Each takes points and/or ranges; a range open on one side (`< 10`) has an infinite bound.
The definitions are the spec's, written with `lt`/`eq` on bounds.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from decisions.feel.builtins.registry import BuiltinError, Param, Signature, fn
from decisions.feel.values import Range, feel_compare


class _Infinity:
    def __init__(self, sign: int) -> None:
        self.sign = sign


_NEG, _POS = _Infinity(-1), _Infinity(1)


def _cmp(a: Any, b: Any) -> int:
    if isinstance(a, _Infinity) or isinstance(b, _Infinity):
        sa = a.sign if isinstance(a, _Infinity) else 0
        sb = b.sign if isinstance(b, _Infinity) else 0
        return (sa > sb) - (sa < sb)
    c = feel_compare(a, b)
    if c is None:
        raise BuiltinError("points are not comparable")
    return c


def _lt(a: Any, b: Any) -> bool:
    return _cmp(a, b) < 0


def _gt(a: Any, b: Any) -> bool:
    return _cmp(a, b) > 0


def _eq(a: Any, b: Any) -> bool:
    return _cmp(a, b) == 0


class _R:
    """A range with infinite bounds made explicit."""

    def __init__(self, r: Range) -> None:
        self.s = _NEG if r.start is None else r.start
        self.e = _POS if r.end is None else r.end
        self.si = r.start_included
        self.ei = r.end_included


def _before_pp(p1: Any, p2: Any) -> bool:
    return _lt(p1, p2)


def _before_pr(p: Any, r: Range) -> bool:
    b = _R(r)
    return _lt(p, b.s) or (_eq(p, b.s) and not b.si)


def _before_rp(r: Range, p: Any) -> bool:
    a = _R(r)
    return _lt(a.e, p) or (_eq(a.e, p) and not a.ei)


def _before_rr(r1: Range, r2: Range) -> bool:
    a, b = _R(r1), _R(r2)
    return _lt(a.e, b.s) or ((not a.ei or not b.si) and _eq(a.e, b.s))


def _after_pp(p1: Any, p2: Any) -> bool:
    return _gt(p1, p2)


def _after_pr(p: Any, r: Range) -> bool:
    b = _R(r)
    return _gt(p, b.e) or (_eq(p, b.e) and not b.ei)


def _after_rp(r: Range, p: Any) -> bool:
    a = _R(r)
    return _gt(a.s, p) or (_eq(a.s, p) and not a.si)


def _after_rr(r1: Range, r2: Range) -> bool:
    a, b = _R(r1), _R(r2)
    return _gt(a.s, b.e) or ((not a.si or not b.ei) and _eq(a.s, b.e))


def _meets(r1: Range, r2: Range) -> bool:
    a, b = _R(r1), _R(r2)
    return a.ei and b.si and _eq(a.e, b.s)


def _met_by(r1: Range, r2: Range) -> bool:
    a, b = _R(r1), _R(r2)
    return a.si and b.ei and _eq(a.s, b.e)


def _overlaps(r1: Range, r2: Range) -> bool:
    a, b = _R(r1), _R(r2)
    return ((_gt(a.e, b.s) or (_eq(a.e, b.s) and a.ei and b.si))
            and (_lt(a.s, b.e) or (_eq(a.s, b.e) and a.si and b.ei)))


def _overlaps_before(r1: Range, r2: Range) -> bool:
    a, b = _R(r1), _R(r2)
    return ((_lt(a.s, b.s) or (_eq(a.s, b.s) and a.si and not b.si))
            and (_gt(a.e, b.s) or (_eq(a.e, b.s) and a.ei and b.si))
            and (_lt(a.e, b.e) or (_eq(a.e, b.e) and (not a.ei or b.ei))))


def _overlaps_after(r1: Range, r2: Range) -> bool:
    return _overlaps_before(r2, r1)


def _finishes_pr(p: Any, r: Range) -> bool:
    b = _R(r)
    return b.ei and _eq(b.e, p)


def _finishes_rr(r1: Range, r2: Range) -> bool:
    a, b = _R(r1), _R(r2)
    return (a.ei == b.ei and _eq(a.e, b.e)
            and (_gt(a.s, b.s) or (_eq(a.s, b.s) and (not a.si or b.si))))


def _finished_by_rp(r: Range, p: Any) -> bool:
    return _finishes_pr(p, r)


def _finished_by_rr(r1: Range, r2: Range) -> bool:
    return _finishes_rr(r2, r1)


def _includes_rp(r: Range, p: Any) -> bool:
    a = _R(r)
    return ((_lt(a.s, p) and _gt(a.e, p)) or (_eq(a.s, p) and a.si) or (_eq(a.e, p) and a.ei))


def _includes_rr(r1: Range, r2: Range) -> bool:
    a, b = _R(r1), _R(r2)
    return ((_lt(a.s, b.s) or (_eq(a.s, b.s) and (a.si or not b.si)))
            and (_gt(a.e, b.e) or (_eq(a.e, b.e) and (a.ei or not b.ei))))


def _during_pr(p: Any, r: Range) -> bool:
    return _includes_rp(r, p)


def _during_rr(r1: Range, r2: Range) -> bool:
    return _includes_rr(r2, r1)


def _starts_pr(p: Any, r: Range) -> bool:
    b = _R(r)
    return b.si and _eq(b.s, p)


def _starts_rr(r1: Range, r2: Range) -> bool:
    a, b = _R(r1), _R(r2)
    return (_eq(a.s, b.s) and a.si == b.si
            and (_lt(a.e, b.e) or (_eq(a.e, b.e) and (not a.ei or b.ei))))


def _started_by_rp(r: Range, p: Any) -> bool:
    return _starts_pr(p, r)


def _started_by_rr(r1: Range, r2: Range) -> bool:
    return _starts_rr(r2, r1)


def _coincides_pp(p1: Any, p2: Any) -> bool:
    return _eq(p1, p2)


def _coincides_rr(r1: Range, r2: Range) -> bool:
    a, b = _R(r1), _R(r2)
    return _eq(a.s, b.s) and a.si == b.si and _eq(a.e, b.e) and a.ei == b.ei


def _sig(names: tuple[str, str], body: Callable[..., bool]) -> Signature:
    params = tuple(Param(n, "range" if n.startswith("range") else "any") for n in names)
    return Signature(params, lambda x, y: None if x is None or y is None else body(x, y))


def _point_or_range(name: str, rr: Callable[..., bool] | None = None, rp: Callable[..., bool] | None = None,
                    pr: Callable[..., bool] | None = None, pp: Callable[..., bool] | None = None) -> Any:
    sigs = []
    if rr:
        sigs.append(_sig(("range1", "range2"), rr))
    if rp:
        sigs.append(_sig(("range", "point"), rp))
    if pr:
        sigs.append(_sig(("point", "range"), pr))
    if pp:
        sigs.append(_sig(("point1", "point2"), pp))
    return fn(name, *sigs)


FUNCTIONS = [
    _point_or_range("before", _before_rr, _before_rp, _before_pr, _before_pp),
    _point_or_range("after", _after_rr, _after_rp, _after_pr, _after_pp),
    _point_or_range("meets", _meets),
    _point_or_range("met by", _met_by),
    _point_or_range("overlaps", _overlaps),
    _point_or_range("overlaps before", _overlaps_before),
    _point_or_range("overlaps after", _overlaps_after),
    _point_or_range("finishes", _finishes_rr, pr=_finishes_pr),
    _point_or_range("finished by", _finished_by_rr, rp=_finished_by_rp),
    _point_or_range("includes", _includes_rr, rp=_includes_rp),
    _point_or_range("during", _during_rr, pr=_during_pr),
    _point_or_range("starts", _starts_rr, pr=_starts_pr),
    _point_or_range("started by", _started_by_rr, rp=_started_by_rp),
    _point_or_range("coincides", _coincides_rr, pp=_coincides_pp),
]
