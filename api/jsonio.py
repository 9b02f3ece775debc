"""JSON in and out of the service, exact for numbers.

In: request bodies are parsed with numbers as `Decimal` (FEEL numbers are decimals: `0.1`
stays 0.1, and 20-digit amounts keep their digits), `NaN`/`Infinity` are refused, and nesting
is bounded so that no body can exhaust the stack later on. `DecimalJSONRoute` makes FastAPI
use this parser for every route of a router.

Out: `to_api_json` turns FEEL values into JSON data: integral numbers as integers, others as
JSON numbers (a binary double, what a JSON client reads anyway), dates, times and durations as
ISO 8601 strings. The same data is stored in the decision record, so an idempotent replay
answers exactly what the first call answered.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from decimal import Decimal
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute

from decisions.feel import values

MAX_DEPTH = 64  # arrays and objects inside each other; deeper bodies are refused
_MAX_INT_DIGITS = 4000  # Python refuses to print integers longer than 4300 digits


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def parse_json(data: bytes | str) -> Any:
    """Parse a JSON document with exact decimal numbers; any fault is a `json.JSONDecodeError`."""
    text = data.decode("utf-8") if isinstance(data, bytes) else data
    try:
        document = json.loads(text, parse_float=Decimal, parse_constant=_refuse_constant)
    except json.JSONDecodeError:
        raise
    except UnicodeDecodeError as exc:
        raise json.JSONDecodeError(f"the body is not UTF-8 text ({exc.reason})", "", exc.start) from None
    except RecursionError:
        raise json.JSONDecodeError(f"nested deeper than {MAX_DEPTH} levels", text, 0) from None
    except ValueError as exc:
        raise json.JSONDecodeError(str(exc), text, 0) from None
    if _depth(document) > MAX_DEPTH:
        raise json.JSONDecodeError(f"nested deeper than {MAX_DEPTH} levels", text, 0)
    return document


def _depth(document: Any) -> int:
    """Nesting depth of a parsed document, without recursion."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(document, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            deepest = max(deepest, depth)
            stack.extend((child, depth + 1) for child in node.values())
        elif isinstance(node, list):
            deepest = max(deepest, depth)
            stack.extend((child, depth + 1) for child in node)
        if deepest > MAX_DEPTH:
            break
    return deepest


class DecimalJSONRequest(Request):
    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            self._json = parse_json(await self.body())
        return self._json


class DecimalJSONRoute(APIRoute):
    """A route whose JSON body is parsed by `parse_json`."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def decimal_json_handler(request: Request) -> Response:
            return await handler(DecimalJSONRequest(request.scope, request.receive))

        return decimal_json_handler


def number_to_json(number: Decimal) -> int | float | str:
    if not number.is_finite():
        return str(number)
    if number == number.to_integral_value() and number.adjusted() < _MAX_INT_DIGITS:
        return int(number)
    as_float = float(number)
    return as_float if as_float not in (float("inf"), float("-inf")) else values.format_number(number)


def to_api_json(value: Any) -> Any:
    """A FEEL value (or plain data holding FEEL values) as JSON data."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, Decimal):
        return number_to_json(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return value if value == value and value not in (float("inf"), float("-inf")) else None
    if isinstance(value, dict):
        return {str(k): to_api_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_api_json(v) for v in value]
    return values.to_json(value)
