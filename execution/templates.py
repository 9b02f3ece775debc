"""Templated text and JSON bodies: jinja2 in a sandbox, compiled once when bindings are read.

Templates see the run's context (see execution/context.py): `decision`, `inputs`, `outputs`,
`fired`, `steps`, `vars`, `review`, `run`, `callback_url`, `now`. An undefined name is an error
(StrictUndefined), not an empty string, so a typo fails the step instead of sending a blank.

In a JSON body, a string that is exactly one `{{ expression }}` keeps the expression's type
(`amount: "{{ outputs['Credit Limit'] }}"` sends a number); any other string is rendered as text.

Rendering is bounded while it happens, not checked afterwards (decisions/limits.py): the
sandbox refuses, before doing it, a repetition (`'a' * 10**9`), concatenation, power or
`range` whose result would be too large, and an integer argument beyond the output bound to a
call or filter (`'x'|center(10**9)`); every range item, call, operator, attribute and item
lookup and output chunk is a step of one budget per render, so nested loops stop; the output
is counted as it is produced.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator, Mapping
from contextvars import ContextVar
from typing import Any

from jinja2 import StrictUndefined, TemplateError, Undefined
from jinja2.exceptions import SecurityError
from jinja2.runtime import Context
from jinja2.sandbox import SandboxedEnvironment

from decisions.limits import MAX_RENDERED_CHARS, MAX_TEMPLATE_STEPS

# Steps left in the render under way (each render sets its own; see `_budgeted`).
_STEPS: ContextVar[list[int] | None] = ContextVar("template_steps", default=None)


class RenderBudgetExceeded(SecurityError):
    """A template tried to do or make more than one render may."""


def _spend(steps: int) -> None:
    left = _STEPS.get()
    if left is None:
        return  # compiling (constant folding is refused for the intercepted operators)
    left[0] -= steps
    if left[0] < 0:
        raise RenderBudgetExceeded(f"rendering took more than {MAX_TEMPLATE_STEPS:,} steps")


def _size(value: Any) -> int | None:
    return len(value) if isinstance(value, (str, bytes, list, tuple)) else None


def _check_size(size: int, what: str) -> None:
    if size > MAX_RENDERED_CHARS:
        raise RenderBudgetExceeded(f"{what} would make {size:,} items (at most {MAX_RENDERED_CHARS:,})")


def _check_arguments(args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> None:
    """An integer argument beyond the output bound (a width, a count, a padding) is refused:
    `'x'.ljust(10**9)` and `'x'|center(10**9)` would make a string that large."""
    for value in (*args, *kwargs.values()):
        if type(value) is int and abs(value) > MAX_RENDERED_CHARS:
            raise RenderBudgetExceeded(f"argument {value:,} is beyond {MAX_RENDERED_CHARS:,}")


_WIDTH = re.compile(r"\d{7,}")


def _check_format(text: str) -> None:
    """A format string (`'%1000000000d' % 1`, `'{:>1000000000}'.format(1)`) with a width or
    precision beyond the output bound is refused: the string would be made before it is counted."""
    for digits in _WIDTH.findall(text):
        if int(digits) > MAX_RENDERED_CHARS:
            raise RenderBudgetExceeded(f"format width {int(digits):,} is beyond {MAX_RENDERED_CHARS:,}")


def _bounded_range(*args: int) -> range:
    numbers = range(*args)
    _check_size(len(numbers), "range")
    _spend(len(numbers))
    return numbers


def _bounded_filter(f: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(f)
    def bounded(*args: Any, **kwargs: Any) -> Any:
        _spend(1)
        _check_arguments(args[1:], kwargs)
        if args and isinstance(args[0], str):
            _check_format(args[0])
        result = f(*args, **kwargs)
        size = _size(result)
        if size is not None:
            _check_size(size, "filter")
        return result
    return bounded


class BoundedSandbox(SandboxedEnvironment):
    """The jinja2 sandbox with what a render may do bounded before it is done."""

    intercepted_binops = frozenset({"*", "**", "+", "//", "%"})

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.globals["range"] = _bounded_range
        # Filters that take a Context or an Environment are marked with attributes that the
        # wrapper keeps (functools.wraps copies __dict__).
        self.filters = {name: _bounded_filter(f) for name, f in self.filters.items()}

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        _spend(1)
        if operator == "*":
            for seq, count in ((left, right), (right, left)):
                size = _size(seq)
                if size is not None and type(count) is int:
                    _check_size(size * count, "repetition")
                    _spend(size * max(count, 0))
        elif operator == "+":
            a, b = _size(left), _size(right)
            if a is not None and b is not None:
                _check_size(a + b, "concatenation")
        elif operator == "**" and type(left) is int and type(right) is int and right > 0:
            # the digits of the result: refused beyond the output bound (10**10**9 would hang)
            _check_size(max(left.bit_length(), 1) * right // 3, "power")
        elif operator == "%" and isinstance(left, str):
            _check_format(left)
        return super().call_binop(context, operator, left, right)

    def call(__self, __context: Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805 - jinja's signature
        _spend(1)
        _check_arguments(args, kwargs)
        owner = getattr(__obj, "__self__", None)
        if isinstance(owner, str):  # a string method: its format fields too
            _check_format(owner)
        result = super().call(__context, __obj, *args, **kwargs)
        size = _size(result)
        if size is not None:
            _check_size(size, "call")
        return result

    def getattr(self, obj: Any, attribute: str) -> Any:
        _spend(1)
        if isinstance(obj, str) and attribute in ("format", "format_map"):
            _check_format(obj)  # the sandbox hands out its own wrapper of str.format
        return super().getattr(obj, attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        _spend(1)
        return super().getitem(obj, argument)


def _rendered(chunks: Iterator[str]) -> str:
    """The output, counted chunk by chunk as the template produces it."""
    out: list[str] = []
    length = 0
    for chunk in chunks:
        _spend(1)
        length += len(chunk)
        if length > MAX_RENDERED_CHARS:
            raise RenderBudgetExceeded(f"rendered more than {MAX_RENDERED_CHARS:,} characters")
        out.append(chunk)
    return "".join(out)


def _budgeted(render: Callable[[], Any]) -> Any:
    token = _STEPS.set([MAX_TEMPLATE_STEPS])
    try:
        return render()
    finally:
        _STEPS.reset(token)


_ENV = BoundedSandbox(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True)
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
            text: str = _budgeted(lambda: _rendered(self._template.generate(dict(context))))
        except TemplateError as exc:
            raise TemplateFailed(f"template {self.source!r}: {exc}") from None
        except Exception as exc:  # noqa: BLE001 - e.g. a division by zero inside the template
            raise TemplateFailed(f"template {self.source!r}: {type(exc).__name__}: {exc}") from None
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
            value = _budgeted(lambda: self._expr(**dict(context)))
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
