"""The evaluation environment of compiled FEEL: variable bindings plus the problem sink.

An `Env` is cheap: a dict of variables, a shared list of problems, a base location (set by
the caller, e.g. to the decision and rule being evaluated), the user-function call depth and
the evaluation's budget of steps and memory (decisions/feel/budget.py). Child environments
(function calls, iterations, filters, contexts) copy the bindings dict and share the problems
list and the budget, so whatever goes wrong anywhere ends up in one place, and nested loops,
recursion and invocations draw on one budget.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from decisions.errors import Location, Problem, Severity
from decisions.feel.budget import Budget


class Env:
    __slots__ = ("vars", "problems", "location", "depth", "_budget")

    def __init__(
        self,
        vars: Mapping[str, Any] | None = None,
        problems: list[Problem] | None = None,
        location: Location | None = None,
        depth: int = 0,
        budget: Budget | None = None,
    ) -> None:
        self.vars: dict[str, Any] = dict(vars) if vars else {}
        self.problems: list[Problem] = problems if problems is not None else []
        self.location: Location | None = location
        self.depth = depth
        self._budget = budget

    @classmethod
    def over(cls, vars: dict[str, Any], problems: list[Problem], budget: Budget | None = None) -> Env:
        """A top-level environment whose bindings are `vars` itself, not a copy: for a caller
        that builds the dict for this environment alone (the model, once per evaluation)."""
        env = cls.__new__(cls)
        env.vars = vars
        env.problems = problems
        env.location = None
        env.depth = 0
        env._budget = budget
        return env

    # The budget is made when something first draws on it (a loop, a call, a string or list
    # made): a decision table's evaluation, the hot path, never pays for it. Children take the
    # parent's, making it if need be, so that all of an evaluation's environments share one.
    @property
    def budget(self) -> Budget:
        budget = self._budget
        if budget is None:
            budget = self._budget = Budget()
        return budget

    @budget.setter
    def budget(self, budget: Budget) -> None:
        self._budget = budget

    def exceeded(self) -> str | None:
        """Why the evaluation's budget ran out, or None (also when nothing has drawn on it)."""
        budget = self._budget
        return None if budget is None else budget.exceeded

    def child(self, bindings: Mapping[str, Any] | None = None) -> Env:
        env = Env.__new__(Env)
        env.vars = {**self.vars, **bindings} if bindings else dict(self.vars)
        env.problems = self.problems
        env.location = self.location
        env.depth = self.depth
        env._budget = self.budget
        return env

    def bind(self, name: str, value: Any) -> Env:
        """A child environment with one more binding (the common case of iterations)."""
        env = Env.__new__(Env)
        env.vars = self.vars.copy()
        env.vars[name] = value
        env.problems = self.problems
        env.location = self.location
        env.depth = self.depth
        env._budget = self.budget
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

    def step(self, report: Callable[[str], None]) -> bool:
        """Count one step (a call; loops count theirs inline, the same way): False, after
        `report`ing why the first time, when the budget is spent."""
        budget = self.budget
        budget.left -= 1
        if budget.left >= 0:
            return True
        why = budget.renew()
        if why is None:
            return True
        if why:
            report(why)
        return False

    def charge(self, size: int, report: Callable[[str], None]) -> bool:
        """Count `size` characters or list items about to be made (as `step`)."""
        budget = self.budget
        budget.memory -= size
        if budget.memory >= 0 and budget.exceeded is None:
            return True
        budget.memory += size
        why = budget.charge(size)
        if why:
            report(why)
        return False

    def __repr__(self) -> str:
        return f"Env({sorted(self.vars)!r}, problems={len(self.problems)})"
