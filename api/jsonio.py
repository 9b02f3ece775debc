"""JSON in and out of the service, exact for numbers.

In: request bodies are parsed with numbers as `Decimal` (FEEL numbers are decimals: `0.1`
stays 0.1, and 20-digit amounts keep their digits), `NaN`/`Infinity` are refused, and nesting
is bounded so that no body can exhaust the stack later on, and every number must be one a FEEL
number can be (decimal128: at most about 1E+6145 in size, no closer to zero than 1E-6176), so
that no body can make the service spell out a billion digits. `DecimalJSONRoute` makes FastAPI
use this parser for every route of a router; a number beyond that range is answered 422 with
its JSON pointer.

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
from starlette.exceptions import HTTPException

from decisions.feel import values

MAX_DEPTH = 64  # arrays and objects inside each other; deeper bodies are refused
_MAX_INT_DIGITS = 4000  # Python refuses to print integers longer than 4300 digits


class NumberBeyondRange(json.JSONDecodeError):
    """A JSON number no FEEL number can be; `pointer` is where it is (RFC 6901)."""

    def __init__(self, pointer: str, reason: str, doc: str) -> None:
        super().__init__(f"the number at {pointer or '/'} {reason}", doc, 0)
        self.pointer = pointer


class BodyProblem(HTTPException):
    """A request body refused while FastAPI reads it, with one problem item per fault.

    FastAPI lets only HTTP exceptions through from body parsing; the problem handler answers
    this one with its items."""

    def __init__(self, status: int, detail: str, errors: list[dict[str, Any]]) -> None:
        super().__init__(status, detail)
        self.errors = errors


def _integer(text: str) -> int | Decimal:
    # Python refuses to read integers of more than 4300 digits; as decimals they are numbers
    # like any other, refused only when beyond FEEL's range.
    return int(text) if len(text) <= _MAX_INT_DIGITS else Decimal(text)


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def parse_json(data: bytes | str) -> Any:
    """Parse a JSON document with exact decimal numbers; any fault is a `json.JSONDecodeError`."""
    text = data.decode("utf-8") if isinstance(data, bytes) else data
    try:
        document = json.loads(text, parse_float=Decimal, parse_int=_integer, parse_constant=_refuse_constant)
    except json.JSONDecodeError:
        raise
    except UnicodeDecodeError as exc:
        raise json.JSONDecodeError(f"the body is not UTF-8 text ({exc.reason})", "", exc.start) from None
    except RecursionError:
        raise json.JSONDecodeError(f"nested deeper than {MAX_DEPTH} levels", text, 0) from None
    except ValueError as exc:
        raise json.JSONDecodeError(str(exc), text, 0) from None
    _check(document, text)
    return document


def _check(document: Any, text: str) -> None:
    """Refuse nesting deeper than MAX_DEPTH and numbers beyond FEEL's range, without recursion."""
    stack: list[tuple[Any, int, tuple[str, ...]]] = [(document, 1, ())]
    while stack:
        node, depth, path = stack.pop()
        if isinstance(node, dict):
            if depth > MAX_DEPTH:
                raise json.JSONDecodeError(f"nested deeper than {MAX_DEPTH} levels", text, 0)
            stack.extend((child, depth + 1, (*path, key)) for key, child in node.items())
        elif isinstance(node, list):
            if depth > MAX_DEPTH:
                raise json.JSONDecodeError(f"nested deeper than {MAX_DEPTH} levels", text, 0)
            stack.extend((child, depth + 1, (*path, str(i))) for i, child in enumerate(node))
        elif isinstance(node, (Decimal, int)) and not isinstance(node, bool):
            reason = values.number_beyond_range(Decimal(node))
            if reason:
                pointer = "".join("/" + p.replace("~", "~0").replace("/", "~1") for p in path)
                raise NumberBeyondRange(pointer, reason, text)


class DecimalJSONRequest(Request):
    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            try:
                self._json = parse_json(await self.body())
            except NumberBeyondRange as exc:
                raise BodyProblem(422, exc.msg, [{"pointer": exc.pointer, "message": exc.msg}]) from None
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
