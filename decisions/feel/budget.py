"""One evaluation's budget of steps, memory and (optionally) time, shared by all it runs.

Steps are the iterations (each item a `for`, `some` or `every` binds, each item a filter
tests) and the function calls (FEEL functions, BKMs, decision services) of the evaluation.
Memory is the size of the strings and lists it makes (characters and items), counted as they
are made, so a string doubled in a loop or a list concatenated with itself runs out of budget
instead of filling the process. The limits are in decisions/limits.py.

The evaluation environment (`Env.budget`) carries the budget, and every environment derived
from it shares it: nested loops, recursion, BKM and decision-service invocations and every
decision of one model evaluation draw on the same counts.

Counting is cheap: a step decrements `left` and compares it with zero; every `CHUNK` steps
`renew` checks the total and the deadline. The first expression to exceed the budget reports
"evaluation budget exceeded: ..." at its location and gives null; from then on every step and
charge fails without a further report, so the loops and calls in progress unwind at once, and
the decision (or top-level expression) being evaluated is null.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from decisions import limits

CHUNK = 1024  # steps between two checks of the total and of the deadline

# (monotonic deadline, seconds allowed) of the evaluations started in this context; see `time_limit`.
_DEADLINE: ContextVar[tuple[float, float] | None] = ContextVar("evaluation_deadline", default=None)


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Every evaluation started inside this block stops (null, a problem) once `seconds` have
    passed since the block began: a service bounds the time of one call without passing a
    deadline through every layer that evaluates."""
    token = _DEADLINE.set((time.monotonic() + seconds, seconds))
    try:
        yield
    finally:
        _DEADLINE.reset(token)


class Budget:
    __slots__ = ("left", "exceeded", "timed_out", "memory", "_steps", "_granted", "_memory_total", "_deadline")

    def __init__(self, steps: int | None = None, memory: int | None = None,
                 deadline: tuple[float, float] | None = None) -> None:
        # One is made per evaluation: kept to plain assignments (no calls but the deadline's).
        if steps is None:
            steps = limits.MAX_STEPS
        if memory is None:
            memory = limits.MAX_MEMORY
        self._steps = steps
        self._memory_total = self.memory = memory  # `memory`: what is left of it
        self._deadline = deadline if deadline is not None else _DEADLINE.get()
        self._granted = self.left = CHUNK if steps > CHUNK else steps  # `left`: of the current chunk
        self.exceeded: str | None = None  # why the budget ran out, once it has
        self.timed_out = False  # whether it ran out of time (the others are steps or memory)

    def renew(self) -> str | None:
        """Called by a step that took `left` below zero: None (go on, with a new chunk), or why
        the evaluation must stop, the first time; "" once that has been reported."""
        if self.exceeded is not None:
            return ""
        if self._granted >= self._steps:
            return self._exceed(f"more than {self._steps:,} steps (iterations and function calls)")
        if self._deadline is not None and time.monotonic() > self._deadline[0]:
            self.timed_out = True
            return self._exceed(f"evaluation took longer than {self._deadline[1]:g} s")
        grant = min(CHUNK, self._steps - self._granted)
        self._granted += grant
        self.left = grant - 1
        return None

    def charge(self, size: int) -> str | None:
        """Count `size` characters or list items about to be made: None (go on), or why the
        evaluation must stop (as `renew`)."""
        self.memory -= size
        if self.memory >= 0 and self.exceeded is None:
            return None
        if self.exceeded is not None:
            return ""
        return self._exceed(f"more than {self._memory_total:,} characters and list items made")

    def _exceed(self, why: str) -> str:
        self.exceeded = message = f"evaluation budget exceeded: {why}"
        self.left = -(1 << 62)  # every later step renews, and fails
        return message

    def __repr__(self) -> str:
        return f"Budget(steps={self._granted - max(self.left, 0)}/{self._steps}, memory left={self.memory})"
