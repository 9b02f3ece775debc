"""Symbolic checks of a scoring expression: declared monotonicity, and a score defined over the domain.

Both are run when the model compiles, and what they find is a located problem on the model
(so `decisionary check` and the registry's publishing gate see it).

The box: each variable over its declared domain `[low, high]`; a variable without one is
taken over all real numbers by the proofs and over [-10^6, 10^6] by the sampled check.

- **Monotonicity.** `increasing` means the score never falls when that input rises, the
  others held (`decreasing`: never rises). When the input appears in no `if` condition, the
  score is continuous in it, and the derivative's sign over the box decides: first by
  interval arithmetic (sympy's `AccumBounds`: a lower bound >= 0 proves `increasing`), then,
  for a derivative of that one input alone, by `solveset` of `derivative < 0` over its
  domain (empty: proved; otherwise a point of it is the counterexample). An `if` on the
  input can jump, so there, and when the above is inconclusive, a dense sampled check runs:
  256 random points of the other inputs, each with the input on a 65-point grid across its
  range; a fall beyond float noise, confirmed by the exact FEEL evaluation, is the
  counterexample. A sampled check that finds none says so: an `info` problem, "not proved".
- **Domain.** Where the expression divides, takes a logarithm, a square root or a
  non-integer power, the operand must be non-zero, positive or non-negative over the box.
  Interval arithmetic proves it; otherwise a point where the score is not a finite number
  is searched for (solveset for one variable, else sampling) and, if found, reported.
  Only operands whose variables all have a declared domain are checked.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np
import sympy
from sympy.calculus.accumulationbounds import AccumBounds

from decisions.errors import Location, Problem
from decisions.feel.values import DECIMAL_CONTEXT

SAMPLE_POINTS = 256
GRID = 65
UNBOUNDED = 1e6
Exact = Callable[[Mapping[str, Decimal]], Any]  # variable values -> the exact score (Decimal or None)


@dataclass
class Box:
    names: list[str]
    symbols: dict[str, sympy.Symbol]
    domain: dict[str, tuple[Decimal, Decimal]]

    def bounds(self, name: str) -> tuple[float, float]:
        low, high = self.domain.get(name, (Decimal(-UNBOUNDED), Decimal(UNBOUNDED)))
        return float(low), float(high)

    def interval(self, name: str) -> Any:
        if name in self.domain:
            low, high = self.domain[name]
            return AccumBounds(_rational(low), _rational(high)) if low != high else _rational(low)
        return AccumBounds(-sympy.oo, sympy.oo)

    def samples(self, seed: int) -> dict[str, np.ndarray]:
        rng = np.random.default_rng(seed)
        points: dict[str, np.ndarray] = {}
        for i, name in enumerate(self.names):
            low, high = self.bounds(name)
            values = rng.uniform(low, high, SAMPLE_POINTS)
            values[: 2] = (low, high)  # the corners too
            values[2 + i % 2] = (low + high) / 2
            points[name] = values
        return points


def _rational(value: Decimal) -> sympy.Rational:
    numerator, denominator = value.as_integer_ratio()
    return sympy.Rational(numerator, denominator)


def _bound(expr: sympy.Expr, box: Box) -> tuple[Any, Any] | None:
    """Lower and upper bound of `expr` over the box by interval arithmetic, or None."""
    try:
        value = expr.subs({box.symbols[n]: box.interval(n) for n in box.names if box.symbols[n] in expr.free_symbols})
        if isinstance(value, AccumBounds):
            return value.min, value.max
        if value.is_real and value.is_number:
            return value, value
    except Exception:  # sympy raises many kinds on what it cannot bound
        return None
    return None


def _at_least(value: Any, floor: int, strict: bool) -> bool:
    try:
        result = value > floor if strict else value >= floor
        return bool(result == sympy.true)
    except TypeError:
        return False


def _decimal(value: Any) -> Decimal:
    """A sympy number (exact rational where it is one) as a FEEL number."""
    if isinstance(value, sympy.Rational):
        return DECIMAL_CONTEXT.divide(Decimal(int(value.p)), Decimal(int(value.q)))
    return Decimal(repr(float(value)))


def _point_text(point: Mapping[str, Any]) -> str:
    return ", ".join(f"{name} = {_number_text(value)}" for name, value in point.items())


def _number_text(value: Any) -> str:
    if isinstance(value, Decimal):
        return str(value.normalize()) if value == value.to_integral_value() else str(value)
    return f"{float(value):.10g}"


class Checker:
    def __init__(self, decision: str, expr: sympy.Expr, raw: sympy.Expr, box: Box, where: Location,
                 exact: Exact) -> None:
        self.decision = decision
        self.expr = expr
        self.raw = raw
        self.box = box
        self.where = where
        self.exact = exact
        self._float: Callable[..., Any] | None = None

    def score(self, points: Mapping[str, np.ndarray]) -> np.ndarray:
        if self._float is None:
            self._float = sympy.lambdify([self.box.symbols[n] for n in self.box.names], self.raw, modules="numpy")
        first = next(iter(points.values()))
        with np.errstate(all="ignore"):
            value = self._float(*(points[n] for n in self.box.names))
        return np.broadcast_to(np.asarray(value, dtype=np.float64), first.shape)

    def _exact_at(self, point: Mapping[str, float]) -> Any:
        return self.exact({n: Decimal(repr(float(v))) for n, v in point.items()})

    # --- monotonicity ----------------------------------------------------------------------

    def monotonic(self, name: str, direction: str) -> Problem | None:
        symbol = self.box.symbols[name]
        sign = 1 if direction == "increasing" else -1
        at = self.where.with_(path=f"monotonic.{name}")
        jumps = any(symbol in p.free_symbols for pw in self.expr.atoms(sympy.Piecewise)
                    for _, p in pw.args if p is not sympy.true)
        if not jumps:
            try:
                slope = sympy.diff(self.expr, symbol) * sign
            except Exception:
                slope = None
            if slope is not None:
                bound = _bound(slope, self.box)
                if bound is not None and _at_least(bound[0], 0, strict=False):
                    return None
                falling = self._falling(slope, name)
                if falling is sympy.S.EmptySet:
                    return None
                point = _inside(falling) if falling is not None else None
                if point is not None:
                    values = {n: self._middle(n) for n in self.box.names}
                    values[name] = point
                    value = slope.subs(symbol, point) * sign
                    return Problem(f"declared {direction} in '{name}', but at {_point_text(values)} the score "
                                   f"{'falls' if sign > 0 else 'rises'} as '{name}' rises "
                                   f"(slope {_number_text(value)})", at, code="scoring-monotonic")
        return self._sampled_monotonic(name, direction, sign, at)

    def _falling(self, slope: sympy.Expr, name: str) -> sympy.Set | None:
        """Where `slope` < 0 over the input's range, by solveset; None unless `slope` reads that input alone."""
        symbol = self.box.symbols[name]
        if not slope.free_symbols <= {symbol}:
            return None
        if name in self.box.domain:
            low, high = self.box.domain[name]
            where: sympy.Set = sympy.Interval(_rational(low), _rational(high))
        else:
            where = sympy.S.Reals
        try:
            found = sympy.solveset(slope < 0, symbol, where)
        except Exception:
            return None
        return found if isinstance(found, sympy.Set) else None

    def _middle(self, name: str) -> Any:
        if name in self.box.domain:
            low, high = self.box.domain[name]
            return (_rational(low) + _rational(high)) / 2
        return sympy.Integer(0)

    def _sampled_monotonic(self, name: str, direction: str, sign: int, at: Location) -> Problem:
        points = self.box.samples(seed=len(name))
        low, high = self.box.bounds(name)
        grid = np.linspace(low, high, GRID)
        wide = {n: np.repeat(v[:, None], GRID, axis=1) for n, v in points.items()}
        wide[name] = np.broadcast_to(grid, (SAMPLE_POINTS, GRID)).copy()
        scores = self.score(wide) * sign
        steps = np.diff(scores, axis=1)
        noise = 1e-9 * np.maximum(np.abs(scores[:, 1:]), 1.0)
        bad = np.isfinite(steps) & (steps < -noise)
        for row, col in zip(*np.nonzero(bad), strict=True):
            before = {n: float(wide[n][row, col]) for n in self.box.names}
            after = dict(before)
            after[name] = float(wide[name][row, col + 1])
            first, second = self._exact_at(before), self._exact_at(after)
            if isinstance(first, Decimal) and isinstance(second, Decimal) and (second - first) * sign < 0:
                others = {n: v for n, v in before.items() if n != name}
                context = f" with {_point_text(others)}" if others else ""
                return Problem(f"declared {direction} in '{name}', but the score goes from {_number_text(first)} "
                               f"to {_number_text(second)} when '{name}' goes from {_number_text(before[name])} "
                               f"to {_number_text(after[name])}{context}", at, code="scoring-monotonic")
        return Problem(f"{direction} in '{name}' is not proved symbolically; a sampled check of "
                       f"{SAMPLE_POINTS * GRID} points found no counterexample", at, "info", "scoring-sampled")

    # --- domain ----------------------------------------------------------------------------

    def domain(self) -> list[Problem]:
        problems: list[Problem] = []
        declared = {self.box.symbols[n] for n in self.box.domain}
        for operand, need, what in _operands(self.raw):
            if not operand.free_symbols or not operand.free_symbols <= declared:
                continue
            bound = _bound(operand, self.box)
            if bound is not None and _proved(bound, need):
                continue
            point = self._undefined_point(operand, need)
            at = self.where.with_(path="domain")
            if point is not None:
                problems.append(Problem(f"the score is undefined at {_point_text(point)}, inside the declared "
                                        f"domain: {what} of {_operand_text(operand, self.box)}", at,
                                        code="scoring-domain"))
                break
        return problems

    def _undefined_point(self, operand: sympy.Expr, need: str) -> dict[str, Any] | None:
        names = [n for n in self.box.names if self.box.symbols[n] in operand.free_symbols]
        if len(names) == 1:
            symbol = self.box.symbols[names[0]]
            low, high = self.box.domain[names[0]]
            wrong = {">": operand <= 0, ">=": operand < 0, "!=": sympy.Eq(operand, 0)}[need]
            try:
                found = sympy.solveset(wrong, symbol, sympy.Interval(_rational(low), _rational(high)))
            except Exception:
                found = None
            if isinstance(found, sympy.Set) and found is not sympy.S.EmptySet:
                point = _inside(found)
                if point is not None:
                    values = {n: self._middle(n) for n in self.box.names}
                    values[names[0]] = point
                    if self.exact({n: _decimal(v) for n, v in values.items()}) is None:  # not behind an `if`
                        return values
        points = self.box.samples(seed=7)
        scores = self.score(points)
        bad = np.flatnonzero(~np.isfinite(scores))
        for row in bad.tolist():
            point = {n: float(points[n][row]) for n in self.box.names}
            if self._exact_at(point) is None:
                return point
        return None


def _proved(bound: tuple[Any, Any], need: str) -> bool:
    low, high = bound
    if need == ">":
        return _at_least(low, 0, strict=True)
    if need == ">=":
        return _at_least(low, 0, strict=False)
    return _at_least(low, 0, strict=True) or _at_least(-high, 0, strict=True)


def _operands(expr: sympy.Expr) -> list[tuple[sympy.Expr, str, str]]:
    """The operands that must be positive (`>`), non-negative (`>=`) or non-zero (`!=`)."""
    found: list[tuple[sympy.Expr, str, str]] = []
    for node in sympy.preorder_traversal(expr):
        if isinstance(node, sympy.log):
            found.append((node.args[0], ">", "the logarithm"))
        elif isinstance(node, sympy.Pow):
            base, exponent = node.args
            if not exponent.is_number:
                found.append((base, ">", "a power with a variable exponent"))
            elif exponent == sympy.Rational(1, 2):
                found.append((base, ">=", "the square root"))
            elif exponent.is_negative:
                found.append((base, "!=", "a division by zero" if exponent == -1 else "a negative power"))
            elif not exponent.is_integer:
                found.append((base, ">=", "a non-integer power"))
    return found


def _operand_text(operand: sympy.Expr, box: Box) -> str:
    names = {symbol: sympy.Symbol(name) for name, symbol in box.symbols.items()}
    return str(operand.xreplace(names))


def _inside(found: sympy.Set) -> Any:
    """A point of a non-empty set of reals (an end of an interval, or a listed value)."""
    try:
        if isinstance(found, sympy.FiniteSet):
            return min(found.args)
        if isinstance(found, sympy.Union):
            return _inside(found.args[0])
        if isinstance(found, sympy.Interval):
            low, high = found.inf, found.sup
            if not found.left_open:
                return low
            if not found.right_open:
                return high
            return (low + high) / 2
    except Exception:
        return None
    return None
