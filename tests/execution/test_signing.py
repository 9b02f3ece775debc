"""Webhook signatures cover the timestamp, the method, the URL and the body: a captured request
verifies only where and how it was sent."""

from __future__ import annotations

import httpx

from execution.receiver import Receiver
from execution.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, canonical_url, sign_headers, verify

SECRET = "s3cret"
BODY = b'{"decision": "Approve"}'
NOW = 1_800_000_000.0


def _headers(method: str = "POST", url: str = "https://partner.example.com/lender/decisions?x=1") -> dict[str, str]:
    return sign_headers(SECRET, method, url, BODY, now=NOW)


def _verify(headers: dict[str, str], method: str, url: str, body: bytes = BODY) -> bool:
    return verify(SECRET, headers[TIMESTAMP_HEADER], headers[SIGNATURE_HEADER], method, url, body, now=NOW)


def test_a_signature_verifies_only_for_the_method_url_and_body_it_was_made_for() -> None:
    headers = _headers()
    assert _verify(headers, "POST", "https://partner.example.com/lender/decisions?x=1")
    assert _verify(headers, "post", "HTTPS://Partner.Example.com:443/lender/decisions?x=1")  # the same URL
    assert not _verify(headers, "POST", "https://partner.example.com/lender/refunds?x=1")  # another path
    assert not _verify(headers, "POST", "https://partner.example.com/lender/decisions?x=2")  # another query
    assert not _verify(headers, "POST", "https://other.example.com/lender/decisions?x=1")  # another receiver
    assert not _verify(headers, "PUT", "https://partner.example.com/lender/decisions?x=1")  # another method
    assert not _verify(headers, "POST", "https://partner.example.com/lender/decisions?x=1", b"{}")  # another body
    assert not verify(SECRET, headers[TIMESTAMP_HEADER], headers[SIGNATURE_HEADER], "POST",
                      "https://partner.example.com/lender/decisions?x=1", BODY, now=NOW + 301)  # too old


def test_canonical_urls() -> None:
    assert canonical_url("HTTP://Host.Example:80") == "http://host.example/"
    assert canonical_url("http://127.0.0.1:8001/a/b?c=d") == "http://127.0.0.1:8001/a/b?c=d"
    assert canonical_url("https://[::1]:8443/x") == "https://[::1]:8443/x"


def test_the_example_receiver_refuses_a_request_replayed_to_another_path() -> None:
    receiver = Receiver(secret=SECRET)
    receiver.start()
    try:
        url = f"{receiver.url}/lender/decisions"
        headers = {"Content-Type": "application/json", "Idempotency-Key": "run:0",
                   **sign_headers(SECRET, "POST", url, BODY)}
        assert httpx.post(url, content=BODY, headers=headers).status_code == 200
        replayed = httpx.post(f"{receiver.url}/lender/refunds", content=BODY,
                              headers={**headers, "Idempotency-Key": "run:1"})
        assert replayed.status_code == 401 and receiver.bad_signatures == 1
    finally:
        receiver.stop()
