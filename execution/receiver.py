"""A small webhook receiver: what a partner system does with Decisionary's calls, for trying
workflows out (`decisionary example-receiver --port 8001`) and for testing them.

It verifies each request's signature (when given the secret: method, URL, timestamp and body), processes each Idempotency-Key
once (a repeat is answered 200 again, marked as a duplicate, and not processed twice), and can
be told to misbehave: answer 500 (`fail_rate`) or take longer than the caller waits
(`timeout_rate`, half the time after processing the request, half before), at random.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from execution.signing import IDEMPOTENCY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, verify

MAX_BODY = 1_048_576


@dataclass
class Delivery:
    """One request as it arrived."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    key: str | None
    signature_ok: bool | None  # None: no secret to check against
    at: float
    answer: int = 0
    processed: bool = False

    def json(self) -> Any:
        try:
            return json.loads(self.body.decode("utf-8")) if self.body else None
        except ValueError:
            return None


@dataclass
class Receiver:
    host: str = "127.0.0.1"
    port: int = 0
    secret: str | None = None
    public_url: str | None = None  # the origin senders call, e.g. https://partner.example.com
    fail_rate: float = 0.0
    timeout_rate: float = 0.0
    slow_seconds: float = 2.0
    delay: float = 0.0  # every request waits this long before it is handled
    seed: int | None = None
    responses: Mapping[str, tuple[int, Any]] = field(default_factory=dict)  # path -> (status, JSON body)
    on_delivery: Callable[[Delivery], None] | None = None

    def __post_init__(self) -> None:
        self.lock = threading.Lock()
        self.deliveries: list[Delivery] = []
        self.processed: dict[str, Delivery] = {}  # idempotency key -> the delivery that was processed
        self.duplicates: Counter[str] = Counter()
        self.bad_signatures = 0
        self.in_flight = 0
        self.max_in_flight = 0  # the most requests handled at once
        self.chaos = True  # set False to stop misbehaving (e.g. to let a test drain)
        self._rng = random.Random(self.seed)  # noqa: S311 - test chaos, not security
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- life cycle ----------------------------------------------------------------------------

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body go out in two writes: no 40 ms stall

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                receiver._handle(self)

            do_PUT = do_PATCH = do_DELETE = do_GET = do_POST  # noqa: N815

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - silence the access log
                return

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request: Any, client_address: Any) -> None:
                return  # a caller that gave up (timeout) resets the connection: not worth a traceback

        server = Server((self.host, self.port), Handler)
        self._server = server
        self.port = int(server.server_address[1])
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                                        name="decisionary-receiver", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> Receiver:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    # --- reading what arrived ------------------------------------------------------------------

    def processed_bodies(self, path_prefix: str = "") -> list[Any]:
        with self.lock:
            return [d.json() for d in self.processed.values() if d.path.startswith(path_prefix)]

    def processed_count(self, path_prefix: str = "") -> int:
        with self.lock:
            return sum(1 for d in self.processed.values() if d.path.startswith(path_prefix))

    # --- handling ------------------------------------------------------------------------------

    def _handle(self, request: BaseHTTPRequestHandler) -> None:
        with self.lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            self._respond(request)
        finally:
            with self.lock:
                self.in_flight -= 1

    def _url_of(self, request: BaseHTTPRequestHandler) -> str:
        """The URL the request was sent to, as the sender signed it: this receiver's public
        origin (`public_url`, else http:// and the Host header) and the request's path and query."""
        origin = self.public_url or f"http://{request.headers.get('Host') or f'{self.host}:{self.port}'}"
        return origin.rstrip("/") + request.path

    def _respond(self, request: BaseHTTPRequestHandler) -> None:
        if self.delay:
            time.sleep(self.delay)
        length = int(request.headers.get("Content-Length") or 0)
        body = request.rfile.read(min(length, MAX_BODY)) if length else b""
        if len(body) < min(length, MAX_BODY):
            request.close_connection = True  # the caller went away mid-request (e.g. it was killed)
            return
        headers = {k: v for k, v in request.headers.items()}
        key = request.headers.get(IDEMPOTENCY_HEADER)
        signature_ok = None
        if self.secret is not None:
            signature_ok = verify(self.secret, request.headers.get(TIMESTAMP_HEADER),
                                  request.headers.get(SIGNATURE_HEADER), request.command,
                                  self._url_of(request), body)
        delivery = Delivery(request.command, request.path, headers, body, key, signature_ok, time.time())
        with self.lock:
            self.deliveries.append(delivery)
            fate = self._rng.random() if self.chaos else 1.0
            slow_first = self._rng.random() < 0.5
        if signature_ok is False:
            with self.lock:
                self.bad_signatures += 1
            self._answer(request, delivery, 401, {"error": "bad signature"})
            return
        if fate < self.fail_rate:
            self._answer(request, delivery, 500, {"error": "induced failure"})
            return
        if fate < self.fail_rate + self.timeout_rate:
            if slow_first:
                time.sleep(self.slow_seconds)  # the caller gives up before anything happens
                self._answer(request, delivery, 503, {"error": "too slow"})
                return
            duplicate = self._process(delivery)
            time.sleep(self.slow_seconds)  # processed, but the caller gives up before the answer
            self._answer(request, delivery, 200, {"received": key, "duplicate": duplicate})
            return
        duplicate = self._process(delivery)
        status, answer = self.responses.get(request.path, (200, {"received": key, "duplicate": duplicate}))
        self._answer(request, delivery, status, answer)

    def _process(self, delivery: Delivery) -> bool:
        """Process once per idempotency key; True when this key was seen before."""
        with self.lock:
            if delivery.key is not None and delivery.key in self.processed:
                self.duplicates[delivery.key] += 1
                return True
            delivery.processed = True
            self.processed[delivery.key or f"no-key-{len(self.deliveries)}"] = delivery
        if self.on_delivery is not None:
            self.on_delivery(delivery)
        return False

    @staticmethod
    def _answer(request: BaseHTTPRequestHandler, delivery: Delivery, status: int, answer: Any) -> None:
        delivery.answer = status
        data = json.dumps(answer).encode("utf-8")
        try:
            request.send_response(status)
            request.send_header("Content-Type", "application/json")
            request.send_header("Content-Length", str(len(data)))
            request.end_headers()
            request.wfile.write(data)
        except OSError:
            pass  # the caller gave up (timeout) and closed the connection


def print_delivery(delivery: Delivery) -> None:
    """How `decisionary example-receiver` shows what it got."""
    signature = {True: "signature ok", False: "BAD SIGNATURE", None: "signature not checked"}[delivery.signature_ok]
    print(f"{time.strftime('%H:%M:%S')} {delivery.method} {delivery.path}  key={delivery.key}  {signature}",
          flush=True)
    payload = delivery.json()
    text = json.dumps(payload, indent=2, ensure_ascii=False) if payload is not None else delivery.body.decode(
        "utf-8", "replace")
    print("  " + text.replace("\n", "\n  "), flush=True)
