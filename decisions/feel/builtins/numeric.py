"""Numeric functions: decimal, floor, ceiling, round up/down/half up/half down, abs, modulo,
sqrt, log, exp, odd, even. All in `DECIMAL_CONTEXT` (34 digits, half-even)."""

from __future__ import annotations

from decimal import (
    ROUND_CEILING,
    ROUND_DOWN,
    ROUND_FLOOR,
    ROUND_HALF_DOWN,
    ROUND_HALF_EVEN,
    ROUND_HALF_UP,
    ROUND_UP,
    Decimal,
    DecimalException,
)
from typing import Any

from decisions.feel.builtins.registry import BuiltinError, fn, to_int
from decisions.feel.values import DECIMAL_CONTEXT, DayTimeDuration, YearMonthDuration

_ctx = DECIMAL_CONTEXT


def _scale(scale: Decimal) -> int:
    s = to_int(scale, "scale")
    if not -6111 <= s <= 6176:
        raise BuiltinError(f"scale must be between -6111 and 6176, got {s}")
    return s


def _rounder(mode: str) -> Any:
    def rounded(n: Decimal, scale: Decimal | None = None) -> Decimal:
        s = _scale(scale) if scale is not None else 0
        exponent = n.as_tuple().exponent
        if isinstance(exponent, int) and -exponent <= s:
            return n  # already at most `s` decimals
        try:
            result = n.quantize(Decimal(1).scaleb(-s), rounding=mode, context=_ctx)
        except DecimalException:
            raise BuiltinError(f"cannot round {n} to scale {s}") from None
        return result if result else abs(result)  # no negative zero
    return rounded


def _integer(value: Decimal) -> int:
    if value != value.to_integral_value():
        raise BuiltinError(f"{value} is not an integer")
    return int(value)


def _abs(n: Any) -> Any:
    if type(n) is Decimal:
        return abs(n)
    if type(n) is DayTimeDuration:
        return DayTimeDuration(abs(n.seconds))
    if type(n) is YearMonthDuration:
        return YearMonthDuration(abs(n.months))
    raise BuiltinError("abs needs a number or a duration")


def _modulo(dividend: Decimal, divisor: Decimal) -> Decimal:
    if not divisor:
        raise BuiltinError("division by zero")
    # The result has the sign of the divisor: dividend - divisor * floor(dividend / divisor).
    quotient = _ctx.divide(dividend, divisor).to_integral_value(rounding=ROUND_FLOOR)
    return _ctx.subtract(dividend, _ctx.multiply(divisor, quotient))


def _sqrt(number: Decimal) -> Decimal:
    if number < 0:
        raise BuiltinError("square root of a negative number")
    return _ctx.sqrt(number)


def _log(number: Decimal) -> Decimal:
    if number <= 0:
        raise BuiltinError("logarithm of a number that is not positive")
    return _ctx.ln(number)


def _exp(number: Decimal) -> Decimal:
    try:
        return _ctx.exp(number)
    except DecimalException:
        raise BuiltinError("exp overflow") from None


def _odd(number: Decimal) -> bool:
    return _integer(number) % 2 == 1


def _even(number: Decimal) -> bool:
    return _integer(number) % 2 == 0


FUNCTIONS = [
    fn("decimal", (["n: number", "scale: number"], _rounder(ROUND_HALF_EVEN))),
    fn("floor", (["n: number", "scale?: number"], _rounder(ROUND_FLOOR))),
    fn("ceiling", (["n: number", "scale?: number"], _rounder(ROUND_CEILING))),
    fn("round up", (["n: number", "scale: number"], _rounder(ROUND_UP))),
    fn("round down", (["n: number", "scale: number"], _rounder(ROUND_DOWN))),
    fn("round half up", (["n: number", "scale: number"], _rounder(ROUND_HALF_UP))),
    fn("round half down", (["n: number", "scale: number"], _rounder(ROUND_HALF_DOWN))),
    fn("abs", (["n: any"], _abs)),
    fn("modulo", (["dividend: number", "divisor: number"], _modulo)),
    fn("sqrt", (["number: number"], _sqrt)),
    fn("log", (["number: number"], _log)),
    fn("exp", (["number: number"], _exp)),
    fn("odd", (["number: number"], _odd)),
    fn("even", (["number: number"], _even)),
]
