"""Errors of the execution layer. Each says what was refused and why, in words an operator can act on.

They extend the registry's errors, so the API maps them the same way (NotFound 404, Conflict
409, Invalid 400); `BindingsInvalid` carries located problems (file, path, line) like a
model error does.
"""

from __future__ import annotations

from decisions.errors import Problem
from registry.errors import Conflict, Invalid, NotFound


class ExecutionNotFound(NotFound):
    """A run, review task, batch job or schedule does not exist."""


class ExecutionConflict(Conflict):
    """The request contradicts the current state (a task claimed by someone else, a finished run...)."""


class BindingsInvalid(Invalid):
    """A bindings document cannot be used; `problems` lists every fault, each located."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"the bindings are invalid ({len(problems)} problem(s)):\n{lines}")


class TargetRefused(Invalid):
    """An outgoing call to a host outside the allow-list, or to a URL that is not http(s)."""
