"""Per-host limits hold across workers (the database is the limiter): concurrency, rate, and a
slow host does not hold up calls to the others."""

from __future__ import annotations

import threading
import time

from sqlalchemy.engine import Engine

from execution.config import HostLimit
from execution.limiter import HostLimiter, Permit, Refusal
from execution.receiver import Receiver
from execution.worker import Worker, WorkerOptions
from tests.execution.conftest import SCORE_YAML, SECRET, config_for, count, decide, publish_model, settled


def bindings(url: str) -> str:
    return f"workflows:\n  main: {{steps: [{{call: {{url: \"{url}/hook\"}}, timeout: 5s}}]}}\nalways: main\n"


def run_workers(engine: Engine, config: object, n: int, until: object, timeout: float = 30) -> list[Worker]:
    workers = [Worker(engine, config, WorkerOptions(threads=4, poll_interval=0.05)) for _ in range(n)]  # type: ignore[arg-type]
    threads = [threading.Thread(target=w.run) for w in workers]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + timeout
    while not until() and time.monotonic() < deadline:  # type: ignore[operator]
        time.sleep(0.05)
    for worker in workers:
        worker.stop()
    for thread in threads:
        thread.join(timeout=20)
    assert until(), "the workers did not finish in time"  # type: ignore[operator]
    return workers


def test_concurrency_limit_holds_across_workers(engine: Engine, receiver: Receiver) -> None:
    config = config_for(host_limits={"127.0.0.1": HostLimit(concurrency=2)})
    receiver.delay = 0.25
    publish_model(engine, "score", SCORE_YAML, bindings(receiver.url), config=config)
    for n in range(12):
        decide(engine, "score", {"Amount": n, "Email": "a@b.c"})
    run_workers(engine, config, 2, settled(engine))
    assert receiver.processed_count() == 12
    assert receiver.max_in_flight == 2  # 8 threads available, 2 permits
    assert count(engine, "SELECT count(*) FROM target_slots WHERE holder IS NOT NULL") == 0
    assert count(engine, "SELECT count(*) FROM step_attempts") == 12  # waiting for a permit is no attempt


def test_rate_limit_spaces_calls(engine: Engine, receiver: Receiver) -> None:
    config = config_for(host_limits={"127.0.0.1": HostLimit(concurrency=None, rate=10, burst=2)})
    publish_model(engine, "score", SCORE_YAML, bindings(receiver.url), config=config)
    for n in range(12):
        decide(engine, "score", {"Amount": n, "Email": "a@b.c"})
    run_workers(engine, config, 2, settled(engine))
    times = sorted(d.at for d in receiver.deliveries)
    assert len(times) == 12
    assert times[-1] - times[0] >= (12 - 2) / 10 * 0.9  # 10/s after a burst of 2


def test_a_slow_host_does_not_starve_the_others(engine: Engine, receiver: Receiver) -> None:
    slow = Receiver(secret=SECRET, delay=0.4).start()
    try:
        slow_url = slow.url.replace("127.0.0.1", "localhost")
        config = config_for(allowed_hosts=("127.0.0.1", "localhost"),
                            host_limits={"localhost": HostLimit(concurrency=1)})
        publish_model(engine, "slow", SCORE_YAML.replace("model: score", "model: slow"), bindings(slow_url),
                      config=config)
        publish_model(engine, "fast", SCORE_YAML.replace("model: score", "model: fast"), bindings(receiver.url),
                      config=config)
        for n in range(15):
            decide(engine, "slow", {"Amount": n, "Email": "a@b.c"})
        for n in range(30):
            decide(engine, "fast", {"Amount": n, "Email": "a@b.c"})
        run_workers(engine, config, 1, lambda: receiver.processed_count() == 30, timeout=20)
        assert slow.processed_count() <= 8  # the fast host's 30 calls did not wait behind the slow host's 15
        assert slow.max_in_flight == 1
    finally:
        slow.stop()


def test_permits_of_a_dead_holder_expire(engine: Engine) -> None:
    config = config_for(host_limits={"partner": HostLimit(concurrency=1)})
    first, second = HostLimiter(engine, config, "w1"), HostLimiter(engine, config, "w2")
    permit = first.acquire("partner", lease_seconds=0.3)
    assert isinstance(permit, Permit)
    refused = second.acquire("partner", lease_seconds=5)
    assert isinstance(refused, Refusal) and "in flight" in refused.reason
    time.sleep(0.35)  # w1 died holding it
    assert isinstance(second.acquire("partner", lease_seconds=5), Permit)
