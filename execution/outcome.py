"""What one attempt of a step came to, as the runner needs it to decide what happens next."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from execution.claims import Effect
from execution.limiter import Permit

OK = "ok"  # done: record the result, move on
RETRY = "retry"  # failed in a way the retry policy may retry
FAILED = "failed"  # failed for good: dead letter
LIMITED = "limited"  # not tried: the host is at its limit; put the step back (not an attempt)
BLOCKED = "blocked"  # waiting for a person (review): the completion's effect decides


@dataclass
class StepOutcome:
    kind: str
    result: Any = None  # JSON kept as steps[<name>] in the run's context
    status: int | None = None  # HTTP status, when there was one
    error: str | None = None
    error_class: str | None = None  # timeout, connection, limited, status: what a retry policy matches
    retry_after: float | None = None  # the receiver's Retry-After, in seconds
    wait: float = 0.0  # LIMITED: how long to leave the step
    effects: list[Effect] = field(default_factory=list)
    permit: Permit | None = None

    @classmethod
    def ok(cls, result: Any = None, status: int | None = None, effects: list[Effect] | None = None) -> StepOutcome:
        return cls(OK, result=result, status=status, effects=effects or [])

    @classmethod
    def failed(cls, error: str, status: int | None = None) -> StepOutcome:
        return cls(FAILED, status=status, error=error)

    @classmethod
    def retry(cls, error: str, error_class: str, status: int | None = None,
              retry_after: float | None = None) -> StepOutcome:
        return cls(RETRY, status=status, error=error, error_class=error_class, retry_after=retry_after)
