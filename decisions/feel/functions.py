"""Function values defined in FEEL: `function(a, b) body` and `function(...) external {...}`."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from decisions.feel import external
from decisions.feel import types as feel_types
from decisions.feel.env import Env
from decisions.feel.values import FeelFunction, type_name
from decisions.limits import MAX_CALL_DEPTH

Fn = Callable[[Env], Any]


class UserFunction(FeelFunction):
    """`function(a, b) body`: closes over the environment where it was defined."""

    def __init__(self, parameters: Sequence[str], parameter_types: Sequence[feel_types.FeelType | None],
                 body: Fn, closure: Env, text: str, position: int,
                 result_type: feel_types.FeelType | None = None) -> None:
        self.name = "function"
        self.parameters = tuple(parameters)
        self.parameter_types: tuple[feel_types.FeelType, ...] | None = (
            tuple(t or feel_types.ANY for t in parameter_types) if any(parameter_types) else None)
        # The type of the body when it is known without running it (for `instance of`), else None.
        self.result_type = result_type
        self._types = tuple(parameter_types)
        self._body = body
        self._closure = closure
        self._text = text
        self._position = position

    def call(self, env: Env, args: Sequence[Any], named: Mapping[str, Any] | None = None) -> Any:
        if named is not None:
            unknown = [k for k in named if k not in self.parameters]
            if unknown:
                env.report(f"function has no parameter '{unknown[0]}'", self._text, self._position,
                           code="feel-function")
                return None
            args = [named.get(p) for p in self.parameters]
        elif len(args) != len(self.parameters):
            env.report(f"function expects {len(self.parameters)} arguments, got {len(args)}",
                       self._text, self._position, code="feel-function")
            return None
        if env.depth >= MAX_CALL_DEPTH:
            env.report(f"recursion deeper than {MAX_CALL_DEPTH} calls", self._text, self._position,
                       code="feel-recursion")
            return None
        budget = env.budget
        budget.left -= 1  # a call is a step: fan-out recursion is bounded in total, not only in depth
        if budget.left < 0:
            why = budget.renew()
            if why is not None:
                if why:
                    env.report(why, self._text, self._position, code="feel-budget")
                return None
        bindings: dict[str, Any] = {}
        for name, t, value in zip(self.parameters, self._types, args, strict=True):
            if t is not None:
                coerced = t.coerce(value)
                if coerced is feel_types.NOT_CONFORMING:
                    env.report(f"argument '{name}' should be {t}, got {type_name(value)}",
                               self._text, self._position, code="feel-function")
                    return None
                value = coerced
            bindings[name] = value
        local = self._closure.child(bindings)
        local.problems = env.problems
        local.budget = budget
        local.depth = env.depth + 1
        try:
            return self._body(local)
        except RecursionError:
            env.report("recursion too deep", self._text, self._position, code="feel-recursion")
            return None


class ExternalFunction(FeelFunction):
    """`function(...) external {java: {class: ..., method signature: ...}}`.

    Only the whitelisted `java.lang` methods of `decisions.feel.external` run; anything else
    (other classes, PMML) gives null and a problem when called.
    """

    def __init__(self, parameters: Sequence[str], body: Fn, closure: Env,
                 report: Callable[[Env, str], None]) -> None:
        self.name = "external function"
        self.parameters = tuple(parameters)
        self._body = body
        self._closure = closure
        self._report = report

    def call(self, env: Env, args: Sequence[Any], named: Mapping[str, Any] | None = None) -> Any:
        if named is not None:
            args = [named.get(p) for p in self.parameters]
        mapping = self._body(self._closure)
        java = mapping.get("java") if isinstance(mapping, dict) else None
        if not isinstance(java, dict):
            self._report(env, "only Java external functions are supported")
            return None
        try:
            return external.invoke(java.get("class"), java.get("method signature"), args)
        except external.ExternalError as e:
            self._report(env, str(e))
            return None
