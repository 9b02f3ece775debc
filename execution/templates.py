"""Templated text and JSON bodies: jinja2 in a sandbox, compiled once when bindings are read.

Templates see the run's context (see execution/context.py): `decision`, `inputs`, `outputs`,
`fired`, `steps`, `vars`, `review`, `run`, `callback_url`, `now`. An undefined name is an error
(StrictUndefined), not an empty string, so a typo fails the step instead of sending a blank.

In a JSON body, a string that is exactly one `{{ expression }}` keeps the expression's type
(`amount: "{{ outputs['Credit Limit'] }}"` sends a number); any other string is rendered as text.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from jinja2 import StrictUndefined, TemplateError, Undefined
from jinja2.sandbox import SandboxedEnvironment

MAX_RENDERED_CHARS = 1_000_000

_ENV = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True)
_SINGLE = re.compile(r"^\{\{(?P<expr>(?:(?!\}\}).)*)\}\}$", re.DOTALL)


class TemplateFailed(ValueError):
    """A template did not render (undefined name, bad operation); the message says which."""


class Text:
    """A text template."""

    def __init__(self, source: str) -> None:
        self.source = source
        self._template = _ENV.from_string(source)

    def __repr__(self) -> str:
        return f"Text({self.source!r})"

    def render(self, context: Mapping[str, Any]) -> str:
        try:
            text = str(self._template.render(dict(context)))
        except TemplateError as exc:
            raise TemplateFailed(f"template {self.source!r}: {exc}") from None
        except Exception as exc:  # noqa: BLE001 - e.g. a division by zero inside the template
            raise TemplateFailed(f"template {self.source!r}: {type(exc).__name__}: {exc}") from None
        if len(text) > MAX_RENDERED_CHARS:
            raise TemplateFailed(f"template {self.source!r} rendered more than {MAX_RENDERED_CHARS} characters")
        return text


class Expression:
    """A string that is one `{{ expression }}`: renders to the expression's value, typed."""

    def __init__(self, source: str) -> None:
        match = _SINGLE.match(source.strip())
        if match is None:
            raise ValueError(f"{source!r} is not a single {{{{ expression }}}}")
        self.source = source
        self._expr = _ENV.compile_expression(match.group("expr"), undefined_to_none=False)

    def __repr__(self) -> str:
        return f"Expression({self.source!r})"

    def render(self, context: Mapping[str, Any]) -> Any:
        try:
            value = self._expr(**dict(context))
        except TemplateError as exc:
            raise TemplateFailed(f"template {self.source!r}: {exc}") from None
        except Exception as exc:  # noqa: BLE001
            raise TemplateFailed(f"template {self.source!r}: {type(exc).__name__}: {exc}") from None
        if isinstance(value, Undefined):
            # StrictUndefined raises on use, not on being returned: say which name is missing.
            raise TemplateFailed(f"template {self.source!r}: {value._undefined_message}")
        return value


def compile_text(source: str) -> Text:
    """A text template; raises jinja2.TemplateSyntaxError (with .lineno) on bad syntax."""
    return Text(source)


def compile_value(value: Any) -> Any:
    """A JSON body with its strings compiled: `{{ x }}` alone -> Expression, other text -> Text."""
    if isinstance(value, str):
        if "{{" not in value and "{%" not in value:
            return value
        if _SINGLE.match(value.strip()):
            return Expression(value)
        return Text(value)
    if isinstance(value, Mapping):
        return {str(k): compile_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [compile_value(v) for v in value]
    return value


def render_value(compiled: Any, context: Mapping[str, Any]) -> Any:
    if isinstance(compiled, (Text, Expression)):
        return compiled.render(context)
    if isinstance(compiled, dict):
        return {k: render_value(v, context) for k, v in compiled.items()}
    if isinstance(compiled, list):
        return [render_value(v, context) for v in compiled]
    return compiled
