"""`notify: {email: ...}`: one message over SMTP (smtplib), with templated recipients, subject and body.

SMTP has no idempotency keys: a step retried after the server accepted the message but before
the run recorded it sends it again. Every attempt of a step therefore sends the same
`Message-ID: <run id>.<step index>@decisionary` (and an `Idempotency-Key` header), by which mail
systems and receivers drop the duplicate.
"""

from __future__ import annotations

import smtplib
from collections.abc import Mapping
from email.message import EmailMessage
from email.utils import formatdate
from typing import Any

from execution.config import ExecutionConfig
from execution.outcome import StepOutcome
from execution.signing import IDEMPOTENCY_HEADER
from execution.templates import TemplateFailed
from execution.workflow import EmailSpec, Step


def message_id(idempotency_key: str) -> str:
    return f"<{idempotency_key.replace(':', '.')}@decisionary>"


class EmailSteps:
    def __init__(self, config: ExecutionConfig) -> None:
        self.config = config

    def run(self, step: Step, template_context: Mapping[str, Any], *, idempotency_key: str) -> StepOutcome:
        spec = step.spec
        assert isinstance(spec, EmailSpec)
        smtp = self.config.smtp
        if smtp is None:
            return StepOutcome.failed("no SMTP server is configured: set DECISIONARY_SMTP_HOST (and _PORT, _FROM)")
        try:
            to = [t.render(template_context).strip() for t in spec.to]
            cc = [t.render(template_context).strip() for t in spec.cc]
            subject = spec.subject.render(template_context).strip()
            body = spec.body.render(template_context)
        except TemplateFailed as exc:
            return StepOutcome.failed(str(exc))
        recipients = [r for r in to + cc if r]
        bad = [r for r in recipients if "@" not in r or any(c in r for c in "\r\n,;")]
        if not to or bad:
            return StepOutcome.failed(f"not an email address: {', '.join(bad) or '(no recipient)'}")
        message = EmailMessage()
        message["From"] = spec.sender or smtp.sender
        message["To"] = ", ".join(to)
        if cc:
            message["Cc"] = ", ".join(cc)
        message["Subject"] = subject.replace("\r", " ").replace("\n", " ")
        message["Date"] = formatdate(localtime=False)
        message["Message-ID"] = message_id(idempotency_key)
        message[IDEMPOTENCY_HEADER] = idempotency_key
        message.set_content(body)
        retried = step.retry.on_errors
        try:
            with smtplib.SMTP(smtp.host, smtp.port, timeout=min(step.timeout, smtp.timeout)) as client:
                if smtp.starttls:
                    client.starttls()
                if smtp.username and smtp.password:
                    client.login(smtp.username, smtp.password)
                refused = client.send_message(message, to_addrs=recipients)
        except smtplib.SMTPRecipientsRefused as exc:
            return StepOutcome.failed(f"the SMTP server refused every recipient: {_codes(exc.recipients)}")
        except smtplib.SMTPResponseException as exc:
            text = f"the SMTP server answered {exc.smtp_code}: {_text(exc.smtp_error)}"
            if 400 <= exc.smtp_code < 500 and "connection" in retried:
                return StepOutcome.retry(text, "connection", exc.smtp_code)
            return StepOutcome.failed(text, exc.smtp_code)
        except TimeoutError as exc:
            return _error("timeout", f"SMTP server {smtp.host}:{smtp.port} timed out: {exc}", retried)
        except (OSError, smtplib.SMTPException) as exc:
            return _error("connection", f"SMTP server {smtp.host}:{smtp.port}: {type(exc).__name__}: {exc}", retried)
        result: dict[str, Any] = {"message_id": message["Message-ID"], "to": to, "cc": cc}
        if refused:
            result["refused"] = _codes(refused)
        return StepOutcome.ok(result)


def _error(error_class: str, message: str, retried: frozenset[str]) -> StepOutcome:
    return StepOutcome.retry(message, error_class) if error_class in retried else StepOutcome.failed(message)


def _text(value: Any) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _codes(recipients: Mapping[str, Any]) -> str:
    return "; ".join(f"{address}: {code[0] if isinstance(code, tuple) else code}"
                     for address, code in recipients.items())
