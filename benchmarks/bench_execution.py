"""Execution benchmark: workflow steps carried out per second, and what actions cost the service.

    .venv/bin/python benchmarks/bench_execution.py            # full run (about 5 minutes)
    .venv/bin/python benchmarks/bench_execution.py --quick    # small sizes: a smoke test

1. Steps per second with 1, 2 and 4 worker processes (`decisionary worker --threads 4`), on
   SQLite and on PostgreSQL (a throwaway server, tests/pg.py). N runs of one HTTP step each are
   queued first; the receiver (`decisionary example-receiver --quiet`) is its own process on
   127.0.0.1. The rate is N over the time from the first step started to the last step finished,
   read from the attempts table: worker start-up is not counted.
2. The evaluate endpoint's throughput with actions (the version has bindings: each decision
   queues two workflow runs in its record's transaction) and without (the same model, no
   bindings), against `decisionary serve` in its own process, from client threads in this one.
   Rounds alternate between the two; figures are the median round. No worker runs meanwhile:
   this is the cost of the outbox itself.

Results are printed as markdown and written to benchmarks/results/bench-execution-<time>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from decisions.feel.values import to_json  # noqa: E402
from execution.bindings_store import LoadedVersions, attach_bindings  # noqa: E402
from execution.outbox import enqueue_runs  # noqa: E402
from registry import (  # noqa: E402
    approve,
    create_draft,
    create_key,
    make_engine,
    publish,
    record_decision,
    resolve,
    set_alias,
    submit,
    unit_of_work,
    upgrade,
)

SECRET = "bench-secret"
MODEL = """\
model: {key}
namespace: https://decisionary.dev/bench/{key}
inputs:
  Amount: number
  Email: string
decisions:
  Outcome:
    type: string
    requires: [Amount]
    expression: 'if Amount > 100 then "big" else "small"'
"""
ONE_STEP = """\
workflows:
  notify: {{steps: [{{call: {{url: "{url}/hook", body: {{decision: "{{{{ decision.id }}}}"}}}}}}]}}
always: notify
"""
TWO_WORKFLOWS = """\
workflows:
  first: {{steps: [{{call: {{url: "{url}/a"}}}}]}}
  second: {{steps: [{{call: {{url: "{url}/b"}}}}]}}
always: [first, second]
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def env() -> dict[str, str]:
    return {**os.environ, "DECISIONARY_ALLOWED_HOSTS": "127.0.0.1", "DECISIONARY_WEBHOOK_SECRET": SECRET,
            "PYTHONPATH": str(ROOT)}


def cli(*args: str, log: Path) -> subprocess.Popen[bytes]:
    handle = open(log, "ab")  # noqa: SIM115 - the child writes it
    return subprocess.Popen([sys.executable, "-m", "api.cli", *args], cwd=ROOT, env=env(), stdout=handle,
                            stderr=handle)


def stop(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        if process.poll() is None:
            process.terminate()
    for process in processes:
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()


@contextmanager
def databases(work: Path) -> Iterator[dict[str, Any]]:
    """Factories of fresh migrated databases: SQLite files and PostgreSQL databases."""
    from pg import start_postgres

    server = start_postgres()
    counter = iter(range(1_000_000))

    def sqlite() -> str:
        url = f"sqlite:///{work / f'bench-{next(counter)}.db'}"
        upgrade(url)
        return url

    def postgresql() -> str:
        name = f"bench_{next(counter)}"
        server.create_database(name)
        upgrade(server.url(name))
        return str(server.url(name))

    try:
        yield {"sqlite": sqlite, "postgresql": postgresql}
    finally:
        server.stop()


def publish_model(engine: sa.Engine, key: str, bindings: str | None) -> None:
    with unit_of_work(engine) as session:
        create_draft(session, key, MODEL.format(key=key), author="bench", format="yaml")
        if bindings is not None:
            attach_bindings(session, key, 1, bindings, by="bench")
        submit(session, key, 1, by="bench")
        approve(session, key, 1, by="bench-approver")
        publish(session, key, 1, by="bench-approver")
        set_alias(session, key, "production", 1, by="bench-approver")


def queue_decisions(engine: sa.Engine, key: str, n: int) -> None:
    """n decisions and their runs, as the service writes them, 200 to a transaction."""
    versions = LoadedVersions()
    for start in range(0, n, 200):
        with unit_of_work(engine) as session:
            resolved = resolve(session, key)
            loaded = versions.get(session, key, resolved.number, resolved.version.content_hash)
            for i in range(start, min(n, start + 200)):
                inputs = {"Amount": i % 200, "Email": "x@y.z"}
                result = loaded.model.evaluate(inputs)
                record = record_decision(session, key=key, version=resolved.number,
                                         content_hash=resolved.version.content_hash, inputs=inputs,
                                         outputs={k: to_json(v) for k, v in result.outputs.items()},
                                         latency_us=1)
                enqueue_runs(session, record, loaded, result.outputs)


def steps_per_second(url: str, workers: int, n: int, receiver_url: str, logs: Path) -> dict[str, Any]:
    engine = make_engine(url)
    try:
        publish_model(engine, "steps", ONE_STEP.format(url=receiver_url))
        queue_decisions(engine, "steps", n)
        fleet = [cli("worker", "--database-url", url, "--threads", "4", "--poll", "0.05", "--no-migrate",
                     "--no-limits", log=logs / f"worker-{i}.log") for i in range(workers)]
        try:
            deadline = time.monotonic() + 600
            while True:
                with engine.connect() as connection:
                    left = connection.execute(sa.text(
                        "SELECT count(*) FROM workflow_runs WHERE state <> 'done'")).scalar_one()
                if not left:
                    break
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{left} runs not done after 600 s")
                time.sleep(0.2)
        finally:
            stop(fleet)
        with engine.connect() as connection:
            first, last, attempts = connection.execute(sa.text(
                "SELECT min(started_at), max(finished_at), count(*) FROM step_attempts")).one()
        if isinstance(first, str):
            first, last = datetime.fromisoformat(first), datetime.fromisoformat(last)
        seconds = (last - first).total_seconds()
        return {"workers": workers, "steps": n, "attempts": attempts, "seconds": round(seconds, 2),
                "steps_per_s": round(n / seconds, 1)}
    finally:
        engine.dispose()


def evaluate_throughput(url: str, rounds: int, requests: int, clients: int, logs: Path) -> dict[str, Any]:
    engine = make_engine(url)
    port = free_port()
    try:
        publish_model(engine, "with-actions", TWO_WORKFLOWS.format(url="http://127.0.0.1:9"))
        publish_model(engine, "without", None)
        with unit_of_work(engine) as session:
            _, key = create_key(session, "bench", "caller")
        server = cli("serve", "--database-url", url, "--port", str(port), "--no-migrate", log=logs / "serve.log")
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError("the service did not start")
                time.sleep(0.2)

            def run(model: str, count: int) -> float:
                def client_loop(offset: int) -> None:
                    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"}) as client:
                        for i in range(count // clients):
                            response = client.post(f"/v1/decisions/{model}/evaluate",
                                                   json={"inputs": {"Amount": (offset + i) % 200, "Email": "x"}})
                            response.raise_for_status()

                threads = [threading.Thread(target=client_loop, args=(c * 1000,)) for c in range(clients)]
                started = time.perf_counter()
                for thread in threads:
                    thread.start()
                for thread in threads:
                    thread.join()
                return (count // clients) * clients / (time.perf_counter() - started)

            run("without", requests // 4)  # warm both up: model compiled, connections open
            run("with-actions", requests // 4)
            rates: dict[str, list[float]] = {"without": [], "with-actions": []}
            for _ in range(rounds):
                for model in ("without", "with-actions"):
                    rates[model].append(run(model, requests))
        finally:
            stop([server])
        with engine.connect() as connection:
            queued = connection.execute(sa.text("SELECT count(*) FROM workflow_runs")).scalar_one()
        without, with_actions = statistics.median(rates["without"]), statistics.median(rates["with-actions"])
        return {"requests_per_round": requests, "clients": clients, "rounds": rounds,
                "without_per_s": round(without, 1), "with_actions_per_s": round(with_actions, 1),
                "ratio": round(with_actions / without, 3), "runs_queued": queued,
                "rounds_without": [round(r, 1) for r in rates["without"]],
                "rounds_with_actions": [round(r, 1) for r in rates["with-actions"]]}
    finally:
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke test")
    parser.add_argument("--steps", type=int, default=None, help="runs queued per steps measurement")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    steps = args.steps or (200 if args.quick else 2000)
    rounds, requests = (1, 100) if args.quick else (5, 600)
    results: dict[str, Any] = {"started": datetime.now().isoformat(timespec="seconds"), "steps": [], "evaluate": {}}
    with tempfile.TemporaryDirectory(prefix="bench-execution-") as tmp:
        work = Path(tmp)
        receiver_port = free_port()
        receiver = cli("example-receiver", "--port", str(receiver_port), "--secret", SECRET, "--quiet",
                       log=work / "receiver.log")
        try:
            with databases(work) as fresh:
                for backend in ("sqlite", "postgresql"):
                    for workers in (1, 2, 4):
                        figure = steps_per_second(fresh[backend](), workers, steps,
                                                  f"http://127.0.0.1:{receiver_port}", work)
                        figure["backend"] = backend
                        results["steps"].append(figure)
                        print(f"{backend:10} {workers} worker(s): {figure['steps_per_s']:8.1f} steps/s", flush=True)
                for backend in ("sqlite", "postgresql"):
                    figure = evaluate_throughput(fresh[backend](), rounds, requests, 4, work)
                    results["evaluate"][backend] = figure
                    print(f"{backend:10} evaluate: {figure['without_per_s']:.1f}/s without actions, "
                          f"{figure['with_actions_per_s']:.1f}/s with ({figure['ratio']:.2f}x)", flush=True)
        finally:
            stop([receiver])
    print("\n| backend | workers (4 threads each) | steps/s |\n|---|---|---|")
    for figure in results["steps"]:
        print(f"| {figure['backend']} | {figure['workers']} | {figure['steps_per_s']:,.1f} |")
    print("\n| backend | evaluate/s without actions | with actions (2 runs queued each) | ratio |\n|---|---|---|---|")
    for backend, figure in results["evaluate"].items():
        print(f"| {backend} | {figure['without_per_s']:,.1f} | {figure['with_actions_per_s']:,.1f} | "
              f"{figure['ratio']:.2f} |")
    out = args.out or ROOT / "benchmarks" / "results" / f"bench-execution-{datetime.now():%Y%m%d-%H%M%S}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    print(f"\nresults: {out}")


if __name__ == "__main__":
    main()
