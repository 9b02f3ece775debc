"""Errors of the registry: each one says what was refused and why, in words a caller can show.

The API layer maps them to HTTP statuses (NotFound 404, Conflict 409, Forbidden 403,
InvalidTransition 409, GateFailed 422, Invalid 400); nothing here knows about HTTP.
"""

from __future__ import annotations

from dataclasses import dataclass, field


class RegistryError(Exception):
    """Base class of every error the registry raises."""


class NotFound(RegistryError):
    """A model, version, alias, record or key does not exist."""


class Conflict(RegistryError):
    """The request contradicts what is stored (immutable content, idempotency key reused, ...)."""


class DuplicateRequest(Conflict):
    """An idempotency key was recorded by a concurrent request with the same body.

    Carries the id of the decision record that request wrote: answer with that record.
    """

    def __init__(self, message: str, record_id: str) -> None:
        super().__init__(message)
        self.record_id = record_id


class Forbidden(RegistryError):
    """The person may not do this (e.g. approving their own version)."""


class InvalidTransition(RegistryError):
    """A lifecycle move that the state machine does not allow from the current state."""


class Invalid(RegistryError):
    """Malformed input: a bad key or alias name, unknown format, unreadable test cases."""


@dataclass(frozen=True)
class GateFailure:
    """One publish gate that did not pass, with the reasons (one line each)."""

    gate: str
    reasons: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        lines = [f"gate '{self.gate}' failed:"]
        lines.extend(f"  - {reason}" for reason in self.reasons)
        return "\n".join(lines)


class GateFailed(RegistryError):
    """Publishing (or, when the model does not load, submitting) was refused: one or more gates
    failed. `failures` lists them in order; `step` is "publish" or "submit"."""

    def __init__(self, key: str, number: int, failures: list[GateFailure], step: str = "publish") -> None:
        self.key = key
        self.number = number
        self.failures = failures
        self.step = step
        names = ", ".join(f.gate for f in failures)
        body = "\n".join(str(f) for f in failures)
        super().__init__(f"cannot {step} {key} version {number}: gate(s) {names} failed\n{body}")
