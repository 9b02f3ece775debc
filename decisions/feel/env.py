"""The evaluation environment of compiled FEEL: variable bindings plus the problem sink.

An `Env` is cheap: a dict of variables, a shared list of problems, a base location (set by
the caller, e.g. to the decision and rule being evaluated) and the user-function call depth.
Child environments (function calls, iterations, filters, contexts) copy the bindings dict
and share the problems list, so whatever goes wrong anywhere ends up in one place.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from decisions.errors import Location, Problem, Severity


class Env:
    __slots__ = ("vars", "problems", "location", "depth")

    def __init__(
        self,
        vars: Mapping[str, Any] | None = None,
        problems: list[Problem] | None = None,
        location: Location | None = None,
        depth: int = 0,
    ) -> None:
        self.vars: dict[str, Any] = dict(vars) if vars else {}
        self.problems: list[Problem] = problems if problems is not None else []
        self.location: Location | None = location
        self.depth = depth

    @classmethod
    def over(cls, vars: dict[str, Any], problems: list[Problem]) -> Env:
        """A top-level environment whose bindings are `vars` itself, not a copy: for a caller
        that builds the dict for this environment alone (the model, once per evaluation)."""
        env = cls.__new__(cls)
        env.vars = vars
        env.problems = problems
        env.location = None
        env.depth = 0
        return env

    def child(self, bindings: Mapping[str, Any] | None = None) -> Env:
        env = Env.__new__(Env)
        env.vars = {**self.vars, **bindings} if bindings else dict(self.vars)
        env.problems = self.problems
        env.location = self.location
        env.depth = self.depth
        return env

    def bind(self, name: str, value: Any) -> Env:
        """A child environment with one more binding (the common case of iterations)."""
        env = Env.__new__(Env)
        env.vars = self.vars.copy()
        env.vars[name] = value
        env.problems = self.problems
        env.location = self.location
        env.depth = self.depth
        return env

    def report(
        self,
        message: str,
        text: str | None = None,
        position: int | None = None,
        severity: Severity = "error",
        code: str = "feel-evaluation",
    ) -> None:
        base = self.location or Location()
        where = base.with_(text=text, position=position) if text is not None else base
        self.problems.append(Problem(message, where, severity, code))

    def __repr__(self) -> str:
        return f"Env({sorted(self.vars)!r}, problems={len(self.problems)})"
