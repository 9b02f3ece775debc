"""How built-in functions are declared, selected and invoked.

Each domain module lists its functions as a table: a FEEL name, one or more signatures
(parameter specs such as `"start position: number"`, `"length?: number"` for optional,
`"list...: any"` for variadic) and a Python body taking FEEL values. Invocation picks the
first signature whose arity and parameter types fit (with singleton-list coercion both ways),
calls the body and turns any `BuiltinError` into null plus a problem naming the function.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from decisions.feel.env import Env
from decisions.feel.values import (
    DayTimeDuration,
    FeelFunction,
    Range,
    YearMonthDuration,
    type_name,
)


class BuiltinError(Exception):
    """Raised by a built-in body for invalid arguments; becomes null plus a problem."""


class TooLarge(Exception):
    """Raised by a built-in body before it makes a value (`size` characters or items) that the
    evaluation's memory budget cannot hold: the budget is exceeded, the call gives null."""

    def __init__(self, size: int) -> None:
        super().__init__(size)
        self.size = size


def reserve(env: Env, size: int) -> None:
    """Refuse (TooLarge) to make a value of `size` characters or items the evaluation's memory
    budget cannot hold, for a body whose result can be far larger than its arguments (a join,
    a replacement, a flattening); what it makes is charged when it returns, as for every body."""
    if size > env.budget.memory:
        raise TooLarge(size)


def to_int(value: Decimal, what: str = "number") -> int:
    """An integer argument (position, length, scale): fractions are truncated toward zero."""
    if not value.is_finite():
        raise BuiltinError(f"{what} must be a finite number")
    return int(value)


def _is_date(v: Any) -> bool:
    return isinstance(v, dt.date) and not isinstance(v, dt.datetime)


CHECKS: dict[str, Callable[[Any], bool]] = {
    "any": lambda v: True,
    "number": lambda v: type(v) is Decimal,
    "string": lambda v: type(v) is str,
    "boolean": lambda v: type(v) is bool,
    "list": lambda v: type(v) is list,
    "context": lambda v: type(v) is dict,
    "date": _is_date,
    "datetime": lambda v: isinstance(v, dt.datetime),
    "date or datetime": lambda v: isinstance(v, dt.date),
    "time": lambda v: isinstance(v, dt.time),
    "temporal": lambda v: isinstance(v, (dt.date, dt.time)),
    "dt duration": lambda v: type(v) is DayTimeDuration,
    "ym duration": lambda v: type(v) is YearMonthDuration,
    "duration": lambda v: type(v) in (DayTimeDuration, YearMonthDuration),
    "range": lambda v: type(v) is Range,
    "function": lambda v: isinstance(v, FeelFunction),
}


@dataclass(frozen=True)
class Param:
    name: str
    type: str = "any"
    optional: bool = False
    variadic: bool = False
    nullable: bool = False  # null is a meaningful argument (otherwise: null result, problem)

    @classmethod
    def parse(cls, spec: str) -> Param:
        name, _, type_ = spec.partition(":")
        name, type_ = name.strip(), (type_.strip() or "any")
        optional = name.endswith("?")
        variadic = name.endswith("...")
        name = name.rstrip("?.").strip()
        nullable = type_.endswith("?") or type_ == "any"
        type_ = type_.rstrip("?")
        if type_ not in CHECKS:
            raise ValueError(f"unknown parameter type {type_!r} in {spec!r}")
        return cls(name, type_, optional, variadic, nullable)

    def accepts(self, value: Any) -> tuple[bool, Any]:
        """(fits, value after singleton-list coercion)."""
        if value is None:
            return self.nullable, None
        check = CHECKS[self.type]
        if check(value):
            return True, value
        if self.type == "list":
            return True, [value]
        if type(value) is list and len(value) == 1 and check(value[0]):
            return True, value[0]
        return False, value


@dataclass(frozen=True)
class Signature:
    params: tuple[Param, ...]
    body: Callable[..., Any]
    needs_env: bool = False

    @property
    def required(self) -> int:
        # a variadic parameter needs at least one argument: `min()` is an error, not null
        return sum(1 for p in self.params if not p.optional)

    def bind_positional(self, args: Sequence[Any]) -> list[Any] | None:
        params = self.params
        variadic = bool(params) and params[-1].variadic
        if len(args) < self.required or (not variadic and len(args) > len(params)):
            return None
        out: list[Any] = []
        for k, value in enumerate(args):
            param = params[min(k, len(params) - 1)]
            fits, value = param.accepts(value)
            if not fits:
                return None
            out.append(value)
        return out

    def bind_named(self, named: Mapping[str, Any]) -> list[Any] | None:
        names = {p.name for p in self.params}
        if any(k not in names for k in named):
            return None
        out: list[Any] = []
        missing = False
        for param in self.params:
            if param.name not in named:
                if not (param.optional or param.variadic):
                    # a required parameter left out is null (and must accept null)
                    if not param.nullable:
                        return None
                    out.append(None)
                    continue
                missing = True
                continue
            if missing:
                return None  # an optional parameter skipped before a given one
            fits, value = param.accepts(named[param.name])
            if not fits:
                return None
            if param.variadic:
                out.extend(value if isinstance(value, list) else [value])
            else:
                out.append(value)
        return out


class BuiltinFunction(FeelFunction):
    """A built-in FEEL function value (so it can be passed around: `sort(xs, precedes)`)."""

    def __init__(self, name: str, signatures: Sequence[Signature]) -> None:
        self.name = name
        self.signatures = tuple(signatures)
        self.parameters = tuple(p.name for p in self.signatures[0].params)

    def call(self, env: Env, args: Sequence[Any], named: Mapping[str, Any] | None = None) -> Any:
        signatures = self.signatures
        if named is not None and len(signatures) > 1:
            # `before(point, range)` and `before(range, point)` take the same names: the one
            # whose parameters are in the order the names were written is tried first.
            order = list(named)
            signatures = tuple(sorted(signatures, key=lambda s: [p.name for p in s.params if p.name in named] != order))
        for sig in signatures:
            bound = sig.bind_named(named) if named is not None else sig.bind_positional(args)
            if bound is None:
                continue
            try:
                result = sig.body(env, *bound) if sig.needs_env else sig.body(*bound)
            except TooLarge as e:
                why = env.budget.charge(e.size)
                if why:
                    env.report(f"{self.name}: {why}", code="feel-budget")
                return None
            except BuiltinError as e:
                env.report(f"{self.name}: {e}", code="feel-function")
                return None
            except RecursionError:
                env.report(f"{self.name}: recursion too deep", code="feel-recursion")
                return None
            except Exception as e:  # noqa: BLE001 - a built-in must never break an evaluation
                env.report(f"{self.name}: failed ({type(e).__name__}: {e})", code="feel-function")
                return None
            kind = type(result)
            if kind is str or kind is list or kind is dict:
                # What a built-in makes draws on the evaluation's memory budget.
                budget = env.budget
                budget.memory -= len(result)
                if budget.memory < 0 or budget.exceeded is not None:
                    why = budget.charge(0)
                    if why:
                        env.report(f"{self.name}: {why}", code="feel-budget")
                    return None
            return result
        given = (", ".join(f"{k}: {type_name(v)}" for k, v in named.items()) if named is not None
                 else ", ".join(type_name(v) for v in args))
        env.report(f"function '{self.name}' cannot be invoked with ({given}); expected "
                   + " or ".join(_describe(sig) for sig in self.signatures), code="feel-function")
        return None


def _describe(sig: Signature) -> str:
    parts = []
    for p in sig.params:
        suffix = "..." if p.variadic else ("?" if p.optional else "")
        parts.append(f"{p.name}{suffix}: {p.type}")
    return "(" + ", ".join(parts) + ")"


def fn(name: str, *signatures: tuple[Sequence[str], Callable[..., Any]] | Signature) -> BuiltinFunction:
    """Declare a built-in: `fn("abs", (["n: number"], body))`; several signatures are overloads."""
    sigs: list[Signature] = []
    for s in signatures:
        if isinstance(s, Signature):
            sigs.append(s)
        else:
            specs, body = s
            sigs.append(Signature(tuple(Param.parse(p) for p in specs), body))
    return BuiltinFunction(name, sigs)


def with_env(specs: Sequence[str], body: Callable[..., Any]) -> Signature:
    """A signature whose body also receives the Env (to call function arguments or report)."""
    return Signature(tuple(Param.parse(p) for p in specs), body, needs_env=True)
