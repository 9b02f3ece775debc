"""Signed webhooks: every outgoing request says who sent it, where to, and that it was not altered.

    Decisionary-Timestamp: 1732579200                 (Unix seconds when this attempt was sent)
    Decisionary-Signature: v2=<hex HMAC-SHA256(secret, timestamp "." METHOD "." URL "." body)>
    Idempotency-Key: <run id>:<step index>            (the same on every attempt of a step)

The method and the URL are signed with the body, so a captured request cannot be replayed to
another path, another receiver sharing the secret, or with another method. The URL is signed in
its canonical form (`canonical_url`): scheme and host lower-cased, the port only when it is not
the scheme's default, the path ("/" when empty) and the query as sent. A receiver rebuilds it
from its own public scheme and host, the request's path and query.

A receiver recomputes the HMAC with the target's secret, compares in constant time, and refuses
timestamps older than a few minutes (replays). It processes each Idempotency-Key once: retries
after a timeout or a worker crash carry the same key.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from urllib.parse import urlsplit

TIMESTAMP_HEADER = "Decisionary-Timestamp"
SIGNATURE_HEADER = "Decisionary-Signature"
IDEMPOTENCY_HEADER = "Idempotency-Key"
VERSION = "v2"  # v1 signed the timestamp and the body only; it is neither sent nor accepted
DEFAULT_TOLERANCE_S = 300
_DEFAULT_PORTS = {"http": 80, "https": 443}


def canonical_url(url: str) -> str:
    """`url` as it is signed: `HTTP://Host:80/a?b` and `http://host/a?b` sign the same."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if ":" in host:  # an IPv6 address
        host = f"[{host}]"
    port = parts.port
    netloc = host if port is None or port == _DEFAULT_PORTS.get(scheme) else f"{host}:{port}"
    query = f"?{parts.query}" if parts.query else ""
    return f"{scheme}://{netloc}{parts.path or '/'}{query}"


def signature(secret: str, timestamp: int | str, method: str, url: str, body: bytes) -> str:
    message = b".".join((str(timestamp).encode("ascii"), method.upper().encode("ascii"),
                         canonical_url(url).encode("utf-8"), body))
    digest = hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()
    return f"{VERSION}={digest}"


def sign_headers(secret: str, method: str, url: str, body: bytes, *, now: float | None = None) -> dict[str, str]:
    timestamp = int(now if now is not None else time.time())
    return {TIMESTAMP_HEADER: str(timestamp), SIGNATURE_HEADER: signature(secret, timestamp, method, url, body)}


def verify(secret: str, timestamp: str | None, signature_header: str | None, method: str, url: str, body: bytes,
           *, tolerance: float = DEFAULT_TOLERANCE_S, now: float | None = None) -> bool:
    """Is this a request for `method` `url` signed with `secret`, sent within `tolerance` seconds of now?"""
    if not timestamp or not signature_header or not timestamp.isdigit():
        return False
    if abs((now if now is not None else time.time()) - int(timestamp)) > tolerance:
        return False
    expected = signature(secret, timestamp, method, url, body)
    # Several signatures may be sent while secrets rotate: "v2=abc, v2=def".
    return any(hmac.compare_digest(expected, candidate.strip()) for candidate in signature_header.split(","))
