"""Request limits: bodies larger than the limit get a 413 problem, NUL characters in the URL a 422.

A declared Content-Length over the limit is refused before the body is read. A body sent
without one (chunked) is counted as it streams in, and the read fails once it passes the
limit, so no request can make the service buffer more than the limit.

A NUL character in a path or query parameter is refused here, once for every route: no stored
text may hold one (PostgreSQL's text type refuses it), so a filter holding one can match nothing
and must not reach the database as a 500.
"""

from __future__ import annotations

import json
from urllib.parse import parse_qsl

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.problems import PROBLEM_MEDIA_TYPE, problem_body


class BodyTooLarge(HTTPException):
    """Raised while the body is read; FastAPI lets HTTP exceptions through its body parsing."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is larger than the limit of {_limit_text(limit)}")


def _limit_text(limit: int) -> str:
    return f"{limit // (1024 * 1024)} MiB" if limit % (1024 * 1024) == 0 else f"{limit} bytes"


class BodySizeLimit:
    """ASGI middleware: multipart uploads may be up to `upload_limit` bytes, other bodies `json_limit`."""

    def __init__(self, app: ASGIApp, *, json_limit: int, upload_limit: int) -> None:
        self.app = app
        self.json_limit = json_limit
        self.upload_limit = upload_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if b"%00" in scope.get("query_string", b"") or "\x00" in scope.get("path", ""):
            await self._refuse_nul(scope, send)
            return
        headers = {name.lower(): value for name, value in scope.get("headers", [])}
        content_type = headers.get(b"content-type", b"").decode("latin-1").lower()
        limit = self.upload_limit if content_type.startswith("multipart/") else self.json_limit
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await self._refuse(scope, send, limit)
            return

        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        await self.app(scope, limited_receive, send)

    @staticmethod
    async def _refuse(scope: Scope, send: Send, limit: int) -> None:
        body = problem_body(413, f"the request body is larger than the limit of {_limit_text(limit)}",
                            instance=scope.get("path"))
        await _send_problem(send, 413, body)

    @staticmethod
    async def _refuse_nul(scope: Scope, send: Send) -> None:
        path = str(scope.get("path", ""))
        query = scope.get("query_string", b"").decode("latin-1")
        errors = [{"parameter": name, "in": "query", "message": "contains a NUL character"}
                  for name, value in parse_qsl(query, keep_blank_values=True)
                  if "\x00" in name or "\x00" in value]
        if "\x00" in path:
            errors.append({"parameter": "path", "in": "path", "message": "contains a NUL character"})
        body = problem_body(422, "a parameter contains a NUL character", instance=path.replace("\x00", "%00"),
                            errors=errors)
        await _send_problem(send, 422, body)


async def _send_problem(send: Send, status: int, body: dict[str, object]) -> None:
    data = json.dumps(body).encode("utf-8")
    await send({"type": "http.response.start", "status": status, "headers": [
        (b"content-type", PROBLEM_MEDIA_TYPE.encode()), (b"content-length", str(len(data)).encode()),
        (b"connection", b"close"),
    ]})
    await send({"type": "http.response.body", "body": data})
