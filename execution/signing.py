"""Signed webhooks: every outgoing request says who sent it and that it was not altered.

    Decisionary-Timestamp: 1732579200                 (Unix seconds when this attempt was sent)
    Decisionary-Signature: v1=<hex HMAC-SHA256(secret, timestamp + "." + body)>
    Idempotency-Key: <run id>:<step index>            (the same on every attempt of a step)

A receiver recomputes the HMAC over the raw body bytes with the target's secret, compares in
constant time, and refuses timestamps older than a few minutes (replays). It processes each
Idempotency-Key once: retries after a timeout or a worker crash carry the same key.
"""

from __future__ import annotations

import hashlib
import hmac
import time

TIMESTAMP_HEADER = "Decisionary-Timestamp"
SIGNATURE_HEADER = "Decisionary-Signature"
IDEMPOTENCY_HEADER = "Idempotency-Key"
VERSION = "v1"
DEFAULT_TOLERANCE_S = 300


def signature(secret: str, timestamp: int | str, body: bytes) -> str:
    message = str(timestamp).encode("ascii") + b"." + body
    digest = hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()
    return f"{VERSION}={digest}"


def sign_headers(secret: str, body: bytes, *, now: float | None = None) -> dict[str, str]:
    timestamp = int(now if now is not None else time.time())
    return {TIMESTAMP_HEADER: str(timestamp), SIGNATURE_HEADER: signature(secret, timestamp, body)}


def verify(secret: str, timestamp: str | None, signature_header: str | None, body: bytes, *,
           tolerance: float = DEFAULT_TOLERANCE_S, now: float | None = None) -> bool:
    """Is this a request signed with `secret`, sent within `tolerance` seconds of now?"""
    if not timestamp or not signature_header or not timestamp.isdigit():
        return False
    if abs((now if now is not None else time.time()) - int(timestamp)) > tolerance:
        return False
    expected = signature(secret, timestamp, body)
    # Several signatures may be sent while secrets rotate: "v1=abc, v1=def".
    return any(hmac.compare_digest(expected, candidate.strip()) for candidate in signature_header.split(","))
