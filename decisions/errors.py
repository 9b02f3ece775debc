"""Errors of the decision core: every one says where it happened.

A `Location` names the place in a model (file, decision, rule, column, position) so that
an analyst can go straight to the cell that is wrong. Load-time problems are raised as
`ModelError`; evaluation-time problems are never raised: they are collected as `Problem`
records in the evaluation result, next to the null they caused (the DMN spec's semantics).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Literal

from decisions.limits import MESSAGE, QUOTED

Severity = Literal["error", "warning", "info"]  # info: worth knowing, nothing wrong



def excerpt(text: str, position: int | None = None, limit: int = QUOTED) -> str:
    """At most `limit` characters of `text`, around `position` when given, with "…" where text
    was left out: a 10 MB expression is never repeated in full by the problem about it."""
    if len(text) <= limit:
        return text
    start = 0 if position is None else max(0, min(position - limit // 2, len(text) - limit))
    end = start + limit
    return ("…" if start > 0 else "") + text[start:end] + ("…" if end < len(text) else "")


def _shortened(message: str) -> str:
    if len(message) <= MESSAGE:
        return message
    return f"{message[:MESSAGE]}… ({len(message) - MESSAGE:,} more characters)"


@dataclass(frozen=True)
class Location:
    """Where in a model something is. Every field is optional; `str()` prints what is known."""

    file: str | None = None
    element: str | None = None  # decision, BKM or input data name
    rule: int | None = None  # 1-based rule number in a decision table
    column: str | None = None  # input or output column label of a decision table
    path: str | None = None  # inner path, e.g. a context entry or XML element
    text: str | None = None  # the expression text at fault
    position: int | None = None  # 0-based character offset in `text`
    line: int | None = None  # line in the file, where known

    def with_(self, **changes: object) -> Location:
        return replace(self, **changes)  # type: ignore[arg-type]

    def __str__(self) -> str:
        parts: list[str] = []
        if self.file:
            parts.append(f"{self.file}:{self.line}" if self.line else self.file)
        if self.element:
            parts.append(f"'{self.element}'")
        if self.rule is not None:
            parts.append(f"rule {self.rule}")
        if self.column:
            parts.append(f"column '{self.column}'")
        if self.path:
            parts.append(self.path)
        if self.position is not None:
            parts.append(f"position {self.position}")
        where = ", ".join(parts)
        if self.text is not None:
            quoted = repr(excerpt(self.text, self.position))
            where = f"{where}: {quoted}" if where else quoted
        return where


@dataclass(frozen=True)
class Problem:
    """A located problem found while loading, checking or evaluating a model."""

    message: str
    location: Location = field(default_factory=Location)
    severity: Severity = "error"
    code: str = "error"

    def __str__(self) -> str:
        where = str(self.location)
        message = _shortened(self.message)
        return f"{self.severity}: {where}: {message}" if where else f"{self.severity}: {message}"

    def to_dict(self) -> dict[str, object]:
        """As JSON data. `location.text` is an excerpt of at most QUOTED characters around the
        position (which still counts in the whole text)."""
        loc: dict[str, object] = {k: v for k, v in vars(self.location).items() if v is not None}
        if self.location.text is not None:
            loc["text"] = excerpt(self.location.text, self.location.position)
        return {"severity": self.severity, "code": self.code, "message": _shortened(self.message), "location": loc}


class DecisionsError(Exception):
    """Base class of every error the decision core raises."""


class ModelError(DecisionsError):
    """A model cannot be loaded or compiled. Carries every problem found, each located."""

    def __init__(self, problems: list[Problem] | Problem | str, location: Location | None = None) -> None:
        if isinstance(problems, str):
            problems = [Problem(problems, location or Location())]
        elif isinstance(problems, Problem):
            problems = [problems]
        self.problems: list[Problem] = problems
        super().__init__("\n".join(str(p) for p in problems))


class InputError(DecisionsError):
    """Inputs given to an evaluation are unusable (e.g. not a mapping)."""
