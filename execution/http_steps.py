"""Steps that make one HTTP request: approve, reject, call, notify webhook, notify chat.

Every request:
- goes only to a host in the allow-list (checked again here, after templates are rendered:
  a callback URL from the request or a templated URL is only known now);
- carries `Idempotency-Key: <run id>:<step index>`, the same on every attempt, and is signed
  (execution/signing.py) with the target's secret from the configuration;
- takes a permit of the host's limits first (execution/limiter.py), held under the run's lease;
- counts as an attempt only once it is about to be sent (`start`, after the permit);
- follows no redirects (a redirect could leave the allow-list), and times out after the
  step's timeout.

A 2xx answer (or a status the step `expect`s) is success and its JSON body becomes the step's
result; statuses and errors named by the retry policy are retried; anything else fails the step.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import httpx

from execution.config import ExecutionConfig
from execution.errors import TargetRefused
from execution.limiter import HostLimiter, Lease, Permit
from execution.outcome import StepOutcome
from execution.signing import IDEMPOTENCY_HEADER, sign_headers
from execution.templates import TemplateFailed, render_value
from execution.workflow import Bindings, HttpSpec, Step

log = logging.getLogger("decisionary.execution")

USER_AGENT = "decisionary-worker/1"
MAX_RESULT_CHARS = 65_536  # of a response body kept as the step's result


def default_body(step: Step, context: Mapping[str, Any], template_context: Mapping[str, Any]) -> dict[str, Any]:
    decision = context.get("decision") or {}
    run = template_context.get("run") or {}
    body: dict[str, Any] = {
        "event": f"decision.{step.kind}" if step.kind in ("approve", "reject") else "decision.notify",
        "decision_id": decision.get("id"), "key": decision.get("key"), "version": decision.get("version"),
        "workflow": run.get("workflow"), "run_id": run.get("id"), "step": step.name,
        "outputs": context.get("outputs"),
    }
    if step.kind in ("approve", "reject"):
        body["outcome"] = step.kind
    if context.get("review") is not None:
        body["review"] = context.get("review")
    return body


class HttpSteps:
    def __init__(self, config: ExecutionConfig, client: httpx.Client, limiter: HostLimiter | None) -> None:
        self.config = config
        self.client = client
        self.limiter = limiter

    def url_of(self, step: Step, spec: HttpSpec, bindings: Bindings, context: Mapping[str, Any],
               template_context: Mapping[str, Any]) -> tuple[str, str]:
        """(url, target name) of the request; raises TargetRefused or TemplateFailed."""
        target = bindings.targets.get(spec.target) if spec.target else None
        if spec.url is not None:
            url = spec.url.render(template_context).strip()
        elif target is not None:
            url = target.url
        else:
            url = str(context.get("callback_url") or self.config.callback_url or "")
            if not url:
                raise TargetRefused(f"step {step.name!r} ({step.kind}) has no URL: the request named no "
                                    "callback_url, the step no url or target, and DECISIONARY_CALLBACK_URL is not set")
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError as exc:
            raise TargetRefused(f"{url!r} is not a URL: {exc}") from None
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise TargetRefused(f"{url!r} is not an http(s) URL")
        self.config.check_host(parts.hostname, port, url)
        return url, (target.name if target is not None else parts.hostname.lower())

    def run(self, step: Step, bindings: Bindings, context: Mapping[str, Any], template_context: Mapping[str, Any],
            *, idempotency_key: str, run_id: str, lease: Lease | None = None,
            start: Callable[[], None] | None = None) -> StepOutcome:
        spec = step.spec
        assert isinstance(spec, HttpSpec)
        try:
            url, target_name = self.url_of(step, spec, bindings, context, template_context)
            body = self._body(step, spec, context, template_context)
            headers = {k: v.render(template_context) for k, v in spec.headers.items()}
        except (TargetRefused, TemplateFailed) as exc:
            return StepOutcome.failed(str(exc))
        host = (urlsplit(url).hostname or "").lower()
        secret = self.config.secret_for(target_name, host)
        if not secret:
            return StepOutcome.failed(f"no signing secret for target {target_name!r}: set DECISIONARY_SECRET_"
                                      f"{target_name.upper().replace('-', '_').replace('.', '_')} or "
                                      "DECISIONARY_WEBHOOK_SECRET")
        target = bindings.targets.get(spec.target) if spec.target else None
        send_headers = {**(dict(target.headers) if target else {}), **headers}
        send_headers.update({
            "Content-Type": "application/json", "User-Agent": USER_AGENT, IDEMPOTENCY_HEADER: idempotency_key,
            "Decisionary-Run-Id": run_id, "Decisionary-Decision-Id": str((context.get("decision") or {}).get("id")),
            **sign_headers(secret, spec.method, url, body),
        })
        permit: Permit | None = None
        if self.limiter is not None:
            granted = self.limiter.acquire(host, step.timeout + 30.0, lease=lease)
            if not isinstance(granted, Permit):
                return StepOutcome("limited", error=granted.reason, error_class="limited", wait=granted.wait)
            permit = granted
        if start is not None:
            try:
                start()
            except BaseException:
                if permit is not None and self.limiter is not None:
                    _release_quietly(self.limiter, permit)
                raise
        outcome = self._send(step, spec, url, host, body, send_headers)
        outcome.permit = permit
        return outcome

    def _body(self, step: Step, spec: HttpSpec, context: Mapping[str, Any],
              template_context: Mapping[str, Any]) -> bytes:
        if spec.method in ("GET", "DELETE") and spec.body is None:
            return b""
        if spec.chat_text is not None:
            data: Any = {"text": spec.chat_text.render(template_context)}
        elif spec.body is not None:
            data = render_value(spec.body, template_context)
        else:
            data = default_body(step, context, template_context)
        if isinstance(data, str):
            return data.encode("utf-8")
        return json.dumps(data, ensure_ascii=False, separators=(",", ":"), default=str).encode("utf-8")

    def _send(self, step: Step, spec: HttpSpec, url: str, host: str, body: bytes,
              headers: Mapping[str, str]) -> StepOutcome:
        retry = step.retry
        try:
            response = self.client.request(spec.method, url, content=body or None, headers=dict(headers),
                                           timeout=step.timeout, follow_redirects=False)
        except httpx.TimeoutException as exc:
            return self._error("timeout", f"no answer from {host} within {step.timeout:g}s ({type(exc).__name__})",
                               retry.on_errors)
        except httpx.TransportError as exc:
            return self._error("connection", f"cannot reach {host}: {type(exc).__name__}: {exc}", retry.on_errors)
        except httpx.HTTPError as exc:
            return self._error("connection", f"request to {host} failed: {type(exc).__name__}: {exc}",
                               retry.on_errors)
        status = response.status_code
        success = status in spec.expect if spec.expect is not None else 200 <= status <= 299
        if success:
            return StepOutcome.ok({"status": status, "body": _response_body(response)}, status)
        snippet = response.text[:300].strip()
        error = f"{host} answered {status}" + (f": {snippet}" if snippet else "")
        if retry.retries_status(status):
            return StepOutcome.retry(error, "status", status, _retry_after(response.headers.get("Retry-After")))
        return StepOutcome.failed(error, status)

    @staticmethod
    def _error(error_class: str, message: str, retried: frozenset[str]) -> StepOutcome:
        if error_class in retried:
            return StepOutcome.retry(message, error_class)
        return StepOutcome.failed(message)


def _release_quietly(limiter: HostLimiter, permit: Permit) -> None:
    """Give a permit back on the way out of a failure; if that fails too, the permit is free
    anyway once the run's lease is (execution/limiter.py)."""
    try:
        limiter.release(permit)
    except Exception:  # noqa: BLE001 - the original failure is the one to report
        log.warning("permit %s/%s not given back at once; it is free when the lease is", permit.host, permit.slot)


def _response_body(response: httpx.Response) -> Any:
    text = response.text[:MAX_RESULT_CHARS]
    if "json" in response.headers.get("content-type", ""):
        try:
            return json.loads(text)
        except ValueError:
            pass
    return text or None


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - datetime.now(when.tzinfo)).total_seconds())
