"""Compile-time FEEL errors: raised by the lexer, parser and compiler, always with a position."""

from __future__ import annotations

from decisions.errors import DecisionsError, Location, Problem


def line_and_column(text: str, position: int) -> tuple[int, int]:
    """1-based line and column of a 0-based character offset."""
    position = max(0, min(position, len(text)))
    line = text.count("\n", 0, position) + 1
    column = position - (text.rfind("\n", 0, position) + 1) + 1
    return line, column


class FeelSyntaxError(DecisionsError):
    """FEEL text that cannot be compiled: bad syntax, an unknown name, or nesting too deep.

    `position` is the 0-based character offset in `text`; `line` and `column` are 1-based.
    """

    code = "feel-syntax"

    def __init__(self, message: str, text: str, position: int) -> None:
        self.message = message
        self.text = text
        self.position = max(0, min(position, len(text)))
        self.line, self.column = line_and_column(text, self.position)
        super().__init__(f"{message} (in {_excerpt(text)})")

    def to_problem(self, location: Location | None = None) -> Problem:
        where = (location or Location()).with_(text=self.text, position=self.position)
        return Problem(self.message, where, "error", self.code)


class UnknownNameError(FeelSyntaxError):
    """A name used as a value that is neither in scope, nor built in, nor introduced by the text."""

    code = "feel-unknown-name"

    def __init__(self, name: str, text: str, position: int) -> None:
        self.name = name
        super().__init__(f"unknown name '{name}' at position {position}", text, position)


def _excerpt(text: str, limit: int = 80) -> str:
    return repr(text if len(text) <= limit else text[: limit - 3] + "...")
