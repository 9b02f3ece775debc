"""A small client of a running decision service, for the command line."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx


class ServiceError(Exception):
    """The service refused a request (a problem document) or could not be reached."""

    def __init__(self, message: str, status: int | None = None, problem: Mapping[str, Any] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.problem = dict(problem) if problem else None


def _problem_text(response: httpx.Response) -> tuple[str, dict[str, Any] | None]:
    try:
        problem = response.json()
    except ValueError:
        return f"HTTP {response.status_code}: {response.text[:500]}", None
    if not isinstance(problem, dict):
        return f"HTTP {response.status_code}", None
    lines = [f"HTTP {response.status_code}: {problem.get('detail') or problem.get('title')}"]
    for error in problem.get("errors") or []:
        where = error.get("pointer") or error.get("parameter") or error.get("gate") or ""
        location = error.get("location")
        if location:
            where = ", ".join(f"{k} {v}" for k, v in location.items())
        lines.append(f"  {where}: {error.get('message')}" if where else f"  {error.get('message')}")
    return "\n".join(lines), problem


class ServiceClient:
    def __init__(self, url: str, api_key: str | None, *, timeout: float = 30.0,
                 transport: httpx.BaseTransport | None = None) -> None:
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._http = httpx.Client(base_url=url.rstrip("/"), headers=headers, timeout=timeout, transport=transport)

    def __enter__(self) -> ServiceClient:
        return self

    def __exit__(self, *_: object) -> None:
        self._http.close()

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise ServiceError(f"cannot reach the service at {self._http.base_url}: {exc}") from None
        if response.status_code >= 400:
            message, problem = _problem_text(response)
            raise ServiceError(message, response.status_code, problem)
        return response

    def json(self, method: str, path: str, **kwargs: Any) -> Any:
        return self.request(method, path, **kwargs).json()

    # --- operations ------------------------------------------------------------------------

    def upload(self, key: str, model: Path, *, comment: str | None = None,
               test_cases: Path | None = None) -> dict[str, Any]:
        files: dict[str, Any] = {"file": (model.name, model.read_bytes())}
        if test_cases is not None:
            files["test_cases"] = (test_cases.name, test_cases.read_bytes())
        data = {"comment": comment} if comment else {}
        result: dict[str, Any] = self.json("POST", f"/v1/models/{key}/versions", files=files, data=data)
        return result

    def transition(self, key: str, number: int, action: str, comment: str | None = None) -> dict[str, Any]:
        result: dict[str, Any] = self.json("POST", f"/v1/models/{key}/versions/{number}/{action}",
                                           json={"comment": comment})
        return result

    def set_alias(self, key: str, alias: str, number: int, why: str | None = None) -> dict[str, Any]:
        result: dict[str, Any] = self.json("PUT", f"/v1/models/{key}/aliases/{alias}",
                                           json={"version": number, "why": why})
        return result

    def rollback(self, key: str, alias: str, why: str | None = None) -> dict[str, Any]:
        result: dict[str, Any] = self.json("POST", f"/v1/models/{key}/aliases/{alias}/rollback", json={"why": why})
        return result

    def set_routing(self, key: str, alias: str, routing: Mapping[str, Any], why: str | None = None) -> dict[str, Any]:
        result: dict[str, Any] = self.json("PUT", f"/v1/models/{key}/aliases/{alias}/routing",
                                           json={**routing, "why": why})
        return result

    def clear_routing(self, key: str, alias: str, why: str | None = None) -> dict[str, Any]:
        params = {"why": why} if why else None
        result: dict[str, Any] = self.json("DELETE", f"/v1/models/{key}/aliases/{alias}/routing", params=params)
        return result

    def diff(self, key: str, old: int, new: int) -> dict[str, Any]:
        result: dict[str, Any] = self.json("GET", f"/v1/models/{key}/diff", params={"from": old, "to": new})
        return result

    def evaluate(self, key: str, inputs: Mapping[str, Any], *, alias: str | None = None,
                 version: int | None = None, decisions: Sequence[str] | None = None,
                 trace: bool = False, idempotency_key: str | None = None) -> dict[str, Any]:
        params: dict[str, Any] = {}
        if alias:
            params["alias"] = alias
        if version is not None:
            params["version"] = version
        body: dict[str, Any] = {"inputs": dict(inputs), "trace": trace}
        if decisions:
            body["decisions"] = list(decisions)
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
        result: dict[str, Any] = self.json("POST", f"/v1/decisions/{key}/evaluate", params=params,
                                           content=_dumps(body), headers={"Content-Type": "application/json",
                                                                          **(headers or {})})
        return result


def _dumps(body: Any) -> bytes:
    return _json_text(body).encode("utf-8")


def _json_text(value: Any) -> str:
    """JSON with decimals written digit for digit (as read from the command line)."""
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"{value} is not a JSON number")
        return str(value)
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(str(k))}:{_json_text(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(_json_text(v) for v in value) + "]"
    return json.dumps(value, allow_nan=False)
