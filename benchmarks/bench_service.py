"""The decision service under load: decisions per second, p50/p99 latency, and a record per answer.

    .venv/bin/python benchmarks/bench_service.py [--quick] [--db sqlite|postgresql|both]
        [--workers N] [--duration S] [--connections C] [--rounds R] [--out FILE] [--shadow]

Each run, on a fresh database (SQLite in a temp data directory, or a new database on a
throwaway PostgreSQL server with durable settings):
1. migrate it, publish examples/loan-approval.dmn (author and approver differ), point
   `production` at it, and create a `caller` API key (benchmarks/service_databases.py);
2. start the service with `decisionary serve --workers N` and wait for every worker;
3. warm up with a short wrk run, then wait until the decision record count is steady;
4. run wrk on loopback (C connections, S seconds): POST /v1/decisions/loan-approval/evaluate
   with `Authorization: Bearer <caller key>` and applicant bodies varied per request;
5. stop the service and count the decision records written during the run: every 2xx answer
   must have its record (records >= 2xx). Records above that are requests the service answered
   after wrk stopped reading (at most the requests in flight at the end); fewer records than
   2xx answers fail the benchmark.
The bare-FastAPI ceiling (benchmarks/service_ceiling.py: a 5-field body validated, no database)
is measured in the same rounds, served the same way, so each figure can be read as a share of
what the HTTP stack itself does on this machine at that moment. Without --quick every
measurement runs in 3 rounds (ceiling, SQLite, PostgreSQL in turn, so a noisy minute hurts all
alike) and the medians are reported. Results are printed as markdown and written as JSON to
benchmarks/results/.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: make the repository importable
    sys.path.insert(0, str(ROOT))

from benchmarks import service_ceiling, service_process, service_profile  # noqa: E402
from benchmarks.service_databases import (  # noqa: E402
    EXAMPLE_MODEL,
    Databases,
    Prepared,
    count_records,
    count_runs,
    prepare,
)
from benchmarks.service_wrk import (  # noqa: E402
    BodyField,
    BodyShape,
    LoadPlan,
    LoadResult,
    WrkFailed,
    WrkMissing,
    run_load,
    wrk_path,
)
from tests.pg import _free_port  # noqa: E402

TARGET_PER_S = 1500
TARGET_P99_MS = 50.0
# With actions (each decision queues its workflow runs), at least this share of the throughput
# without them: the workflow execution issue's criterion.
TARGET_ACTIONS_RATIO = 0.80
# With every record linked into its hash chain (the default), at least this share of the
# throughput with chaining switched off (DECISIONARY_CHAIN_RECORDS=off): the audit issue's.
TARGET_CHAIN_RATIO = 0.90
UNCHAINED = " without chain"
KINDS = ("sqlite", "postgresql")

# The example applicant (examples/loan-approval-input.json) with every field drawn per request.
APPLICANT = BodyShape(wrapper="inputs", fields=(
    BodyField("Applicant Age", low=21, high=70),
    BodyField("Monthly Income", low=1500, high=12000, step=100),
    BodyField("Monthly Debt", low=0, high=4000, step=50),
    BodyField("Credit Score", low=450, high=850),
    BodyField("Employment Status", choices=("Employed", "Self-employed", "Unemployed", "Retired")),
    BodyField("Requested Amount", low=2000, high=60000, step=1000),
))
CEILING_BODY = BodyShape(fields=(
    BodyField("age", low=18, high=80),
    BodyField("income", low=1500, high=12000, step=100),
    BodyField("debt", low=0, high=4000, step=50),
    BodyField("credit_score", low=450, high=850),
    BodyField("employment", choices=("Employed", "Self-employed", "Unemployed", "Retired")),
))


class RecordsMissing(RuntimeError):
    """Some answered requests have no decision record."""


@dataclass(frozen=True)
class Options:
    kinds: tuple[str, ...]
    workers: int
    connections: int
    duration_s: float
    warmup_s: float
    rounds: int
    wrk_threads: int
    per_connection: int  # > 0: each connection stops after this many answers (exact counts)
    ceiling: bool
    quick: bool
    profile: bool = False  # py-spy one service worker during the first round's runs
    actions: bool = False  # also run each database with the example's bindings (workflow runs queued)
    chain: bool = False  # also run each database with the records' hash chain switched off
    shadow: bool = False  # also run each database with one shadow version on the production alias


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _plan(base_url: str, path: str, body: BodyShape, options: Options, *, headers: dict[str, str] | None = None,
          duration_s: float | None = None, per_connection: int = 0) -> LoadPlan:
    return LoadPlan(base_url, path, body, headers=headers or {}, duration_s=duration_s or options.duration_s,
                    connections=options.connections, threads=options.wrk_threads, budget=per_connection)


def _steady_count(url: str, expected: int, settle_s: float = 0.5, limit_s: float = 20.0) -> int:
    """The record count once the warm-up's requests are all done: when it reaches `expected`
    (its answers plus the requests in flight when wrk stopped) and holds for `settle_s`, or holds
    still for 4 × `settle_s` below that (a request in flight may never have reached the
    service), or at the time limit."""
    deadline = time.monotonic() + limit_s
    count, still = count_records(url), 0
    while time.monotonic() < deadline:
        time.sleep(settle_s)
        again = count_records(url)
        still = still + 1 if again == count else 0
        count = again
        if (count >= expected and still >= 1) or still >= 4:
            break
    return count


def _measure(server: service_process.Server, plan: LoadPlan, workdir: Path, db_pid: int | None,
             profile_to: Path | None = None) -> tuple[LoadResult, dict[str, float]]:
    """One wrk run, with the CPU the server (and the database server) used during it; with
    `profile_to`, py-spy samples the first worker meanwhile."""
    service_cpu = service_process.tree_cpu_seconds(server.process.pid)
    db_cpu = service_process.tree_cpu_seconds(db_pid) if db_pid else 0.0
    load_before = os.getloadavg()[0]
    spy = None
    if profile_to is not None:
        worker = service_profile.worker_pids(server.process.pid)[0]
        spy = service_profile.start(worker, max(1.0, plan.duration_s - 1), profile_to)
    result = run_load(plan, workdir)
    if spy is not None:
        _, errors = spy.communicate(timeout=60)
        if spy.returncode != 0:
            say(f"    py-spy failed ({spy.returncode}): {errors.decode(errors='replace')[-500:]}")
    cpu = {"service_cpu_s": service_process.tree_cpu_seconds(server.process.pid) - service_cpu,
           "database_cpu_s": (service_process.tree_cpu_seconds(db_pid) - db_cpu) if db_pid else 0.0,
           "load_average_before": load_before, "load_average_after": os.getloadavg()[0]}
    return result, cpu


def _figures(result: LoadResult, cpu: dict[str, float]) -> dict[str, Any]:
    ok = max(result.ok, 1)
    return {**result.to_dict(), **{k: round(v, 2) for k, v in cpu.items()},
            "service_cpu_ms_per_request": round(cpu["service_cpu_s"] * 1000 / ok, 3),
            "database_cpu_ms_per_request": round(cpu["database_cpu_s"] * 1000 / ok, 3)}


SHADOW = " + shadow"


def add_shadow(url: str, prepared: Prepared) -> int:
    """Publish a challenger of the example (a stricter credit score threshold) and make it a shadow
    of the production alias: every call then also evaluates and records it. Its number."""
    from registry import approve, create_draft, make_engine, publish, set_routing, submit, unit_of_work

    content = EXAMPLE_MODEL.read_text().replace("<text>&lt; 580</text>", "<text>&lt; 600</text>", 1)
    engine = make_engine(url, pool_size=1)
    try:
        with unit_of_work(engine) as session:
            number = create_draft(session, prepared.key, content, author="bench-author").number
            submit(session, prepared.key, number, by="bench-author")
            approve(session, prepared.key, number, by="bench-approver")
            publish(session, prepared.key, number, by="bench-approver")
            set_routing(session, prepared.key, "production", {"shadows": [number]}, by="bench-approver",
                        why="benchmarks/bench_service.py --shadow")
    finally:
        engine.dispose()
    return number


def count_shadow_records(url: str) -> int:
    from sqlalchemy import text

    from registry import make_engine

    engine = make_engine(url, pool_size=1)
    try:
        with engine.connect() as connection:
            return int(connection.execute(
                text("SELECT count(*) FROM decision_records WHERE shadow_of IS NOT NULL")).scalar_one())
    finally:
        engine.dispose()


def run_service(kind: str, databases: Databases, options: Options, workdir: Path, *,
                profile: bool = False, actions: bool = False, chained: bool = True,
                shadow: bool = False) -> dict[str, Any]:
    """Steps 1-5 of the module docstring for one database; the run's figures. `chained=False`
    serves with the records' hash chain off; either way the records are then checked: all
    linked into unbroken chains, or none linked. `shadow`: with one shadow version on the
    production alias (its records are counted apart from the answers' records)."""
    url = databases.new(kind)
    prepared: Prepared = prepare(url, actions=actions)
    shadow_number = add_shadow(url, prepared) if shadow else None
    port = _free_port()
    say(f"  {kind}: {prepared.key} version {prepared.version} published; starting "
        f"`decisionary serve --workers {options.workers}` on port {port}")
    log = workdir / f"service-{kind}-{port}.log"
    server = service_process.start(service_process.service_command(port, options.workers, url), port, log,
                                   workers=options.workers,
                                   env=None if chained else {"DECISIONARY_CHAIN_RECORDS": "off"})
    path = f"/v1/decisions/{prepared.key}/evaluate"
    headers = {"Authorization": f"Bearer {prepared.caller_secret}"}
    try:
        warm, warm_in_flight = warm_up(server, _plan(server.base_url, path, APPLICANT, options, headers=headers,
                                                     duration_s=options.warmup_s), workdir)
        before = _steady_count(url, warm + warm_in_flight)
        shadows_before = count_shadow_records(url) if shadow else 0
        plan = _plan(server.base_url, path, APPLICANT, options, headers=headers,
                     per_connection=options.per_connection)
        profile_to = workdir / f"py-spy-{kind}-{port}.txt" if profile else None
        result, cpu = _measure(server, plan, workdir, databases.server_pid(kind), profile_to)
    finally:
        server.stop()
    records = count_records(url) - before
    shadow_records = count_shadow_records(url) - shadows_before if shadow else 0
    records -= shadow_records
    figures = {"db": kind, "name": kind + (" + actions" if actions else "") + ("" if chained else UNCHAINED)
               + (SHADOW if shadow else ""),
               "workers": options.workers,
               "connections": options.connections, **_figures(result, cpu), "records": records,
               "warmup_2xx": warm, "workflow_runs": count_runs(url)}
    if shadow:
        figures["shadow_version"] = shadow_number
        figures["shadow_records"] = shadow_records
    if actions and figures["workflow_runs"] == 0:
        raise RecordsMissing("the decisions were to queue workflow runs, and none was queued")
    if options.per_connection:
        figures["all_requests_answered"] = result.requests == options.per_connection * options.connections
    figures["records_check"] = check_records(records, result)
    figures["chain_check"] = check_chain(url, chained)
    if profile_to is not None and profile_to.exists():
        figures["profile"] = service_profile.summarise(profile_to)
    return figures


WARMUP_ATTEMPTS = 6


def warm_up(server: service_process.Server, plan: LoadPlan, workdir: Path) -> tuple[int, int]:
    """Load until the connections have had answers (each worker compiles the model and opens
    its database connections on its first requests, seconds on a loaded machine); the number
    of 2xx answers during the warm-up, and of requests left in flight."""
    answered = in_flight = 0
    for _ in range(WARMUP_ATTEMPTS):
        warm = run_load(plan, workdir)
        answered += warm.ok
        in_flight += warm.in_flight
        if warm.ok >= 2 * plan.connections:
            return answered, in_flight
    if answered == 0:
        raise WrkFailed(f"no request succeeded while warming up ({warm.statuses}):\n{server.log_tail()}")
    return answered, in_flight


def check_records(records: int, result: LoadResult) -> str:
    """Every 2xx answer has its record; raises RecordsMissing when one does not."""
    if records < result.ok:
        raise RecordsMissing(f"{result.ok - records} of {result.ok} answered requests have no decision record "
                             f"({records} records written during the run)")
    extra = records - result.ok
    if extra == 0:
        return "records = 2xx answers"
    if extra <= result.in_flight:
        return f"records = 2xx answers + {extra} answered after wrk stopped reading ({result.in_flight} in flight)"
    return (f"records = 2xx answers + {extra}, more than the {result.in_flight} requests in flight at the end: "
            "some non-2xx answers left a record")


def check_chain(url: str, chained: bool) -> str:
    """Every record of the run is in an unbroken hash chain (or, with chaining off, in none)."""
    from registry import make_engine
    from registry.chain import verify

    engine = make_engine(url)
    try:
        result = verify(engine)
    finally:
        engine.dispose()
    if chained and (not result.ok or result.unchained):
        raise RecordsMissing(f"the records' hash chain does not verify: {result.first_broken}; "
                             f"{result.unchained} records unchained")
    if not chained and result.records:
        raise RecordsMissing(f"chaining was off, yet {result.records} records were linked")
    return (f"{result.records:,} records in {result.chains} verified chain(s)" if chained
            else f"{result.unchained:,} records, none chained")


def run_ceiling(options: Options, workdir: Path) -> dict[str, Any]:
    port = _free_port()
    say(f"  ceiling: bare FastAPI, {options.workers} workers, port {port}")
    server = service_process.start(service_process.ceiling_command(port, options.workers), port,
                                   workdir / f"ceiling-{port}.log", workers=options.workers)
    try:
        warm_up(server, _plan(server.base_url, service_ceiling.PATH, CEILING_BODY, options,
                              duration_s=options.warmup_s), workdir)
        result, cpu = _measure(server, _plan(server.base_url, service_ceiling.PATH, CEILING_BODY, options),
                               workdir, None)
    finally:
        server.stop()
    return {"db": "none (bare FastAPI ceiling)", "workers": options.workers, "connections": options.connections,
            **_figures(result, cpu)}


MEDIAN_FIELDS = ("requests_per_s", "ok_per_s", "p50_ms", "p90_ms", "p99_ms", "max_ms", "service_cpu_ms_per_request",
                 "database_cpu_ms_per_request", "load_average_before", "load_average_after")


def median_of(runs: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Each figure's median over the rounds; counts are summed over them."""
    summary: dict[str, Any] = {k: runs[0][k] for k in ("db", "workers", "connections")}
    summary["name"] = runs[0].get("name", runs[0]["db"])
    summary.update({k: round(statistics.median(r[k] for r in runs), 2) for k in MEDIAN_FIELDS})
    for k in ("requests", "ok_2xx", "non_2xx", "records", "in_flight_at_end", "workflow_runs", "shadow_records"):
        if all(k in r for r in runs):
            summary[k] = sum(r[k] for r in runs)
    summary["rounds"] = len(runs)
    return summary


def run(options: Options, workdir: Path) -> dict[str, Any]:
    by_name: dict[str, list[dict[str, Any]]] = {}
    steps: list[tuple[str, Callable[[], dict[str, Any]]]] = []
    with Databases() as databases:
        for round_number in range(1, options.rounds + 1):
            steps.clear()
            if options.ceiling:
                steps.append(("ceiling", lambda: run_ceiling(options, workdir)))
            for kind in options.kinds:
                profile = options.profile and round_number == 1
                steps.append((kind, lambda kind=kind, profile=profile: run_service(  # type: ignore[misc]
                    kind, databases, options, workdir, profile=profile)))
                if options.actions:
                    steps.append((f"{kind} + actions", lambda kind=kind, profile=profile: run_service(  # type: ignore[misc]
                        kind, databases, options, workdir, profile=profile, actions=True)))
                if options.chain:
                    steps.append((kind + UNCHAINED, lambda kind=kind: run_service(  # type: ignore[misc]
                        kind, databases, options, workdir, chained=False)))
                if options.shadow:
                    steps.append((kind + SHADOW, lambda kind=kind: run_service(  # type: ignore[misc]
                        kind, databases, options, workdir, shadow=True)))
            say(f"round {round_number} of {options.rounds}")
            for name, step in steps:
                figures = step()
                figures["round"] = round_number
                by_name.setdefault(name, []).append(figures)
                say(f"    {name}: {figures['requests_per_s']:,.0f} requests/s, p50 {figures['p50_ms']:.1f} ms, "
                    f"p99 {figures['p99_ms']:.1f} ms, {figures['non_2xx']} non-2xx"
                    + (f"; {figures['records_check']}" if "records_check" in figures else ""))
    medians = summarise(by_name)
    return {"environment": environment(options), "medians": medians, "runs": by_name}


def summarise(by_name: dict[str, list[dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    """The median run of each measurement, with its ratios and whether it meets its target."""
    medians = {name: median_of(runs) for name, runs in by_name.items()}
    ceiling = medians.get("ceiling")
    for name in (n for n in medians if n != "ceiling"):
        m = medians[name]
        m["ratio_to_ceiling"] = round(m["ok_per_s"] / ceiling["requests_per_s"], 4) if ceiling else None
        if name.endswith(UNCHAINED) and m["db"] in medians:
            chained = medians[m["db"]]
            chained["ratio_to_unchained"] = round(chained["ok_per_s"] / m["ok_per_s"], 4)
            chained["chain_ratio_by_round"] = ratios_by_round(by_name[m["db"]], by_name[name])
            chained["meets_chain_target"] = chained["ratio_to_unchained"] >= TARGET_CHAIN_RATIO
            m["meets_target"] = True  # a reference run: its figure is what the chained run is judged against
        elif name.endswith(SHADOW) and m["db"] in medians:
            without = medians[m["db"]]
            m["ratio_to_without_shadow"] = round(m["ok_per_s"] / without["ok_per_s"], 4)
            m["shadow_ratio_by_round"] = ratios_by_round(by_name[name], by_name[m["db"]])
            m["p50_ms_without_shadow"], m["p99_ms_without_shadow"] = without["p50_ms"], without["p99_ms"]
            m["meets_target"] = m["ok_per_s"] >= TARGET_PER_S and m["p99_ms"] < TARGET_P99_MS
        elif name.endswith(" + actions") and m["db"] in medians:
            m["ratio_to_without_actions"] = round(m["ok_per_s"] / medians[m["db"]]["ok_per_s"], 4)
            m["ratio_by_round"] = ratios_by_round(by_name[name], by_name[m["db"]])
            m["meets_target"] = m["ratio_to_without_actions"] >= TARGET_ACTIONS_RATIO
        else:
            m["meets_target"] = m["ok_per_s"] >= TARGET_PER_S and m["p99_ms"] < TARGET_P99_MS
    return medians


def ratios_by_round(with_actions: list[dict[str, Any]], without: list[dict[str, Any]]) -> list[float]:
    """Each round's throughput with actions over the same round's without (runs of one round
    ran minutes apart, on the machine as it was then)."""
    by_round = {run["round"]: run["ok_per_s"] for run in without}
    return [round(run["ok_per_s"] / by_round[run["round"]], 4) for run in with_actions if by_round.get(run["round"])]


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def environment(options: Options) -> dict[str, Any]:
    try:
        wrk = subprocess.run([wrk_path(), "-v"], capture_output=True, text=True, check=False).stdout.split("\n")[0]
    except (OSError, WrkMissing):
        wrk = "?"
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                                check=False).stdout.strip()
    except OSError:
        commit = ""
    return {
        "when": dt.datetime.now().isoformat(timespec="seconds"), "commit": commit, "python": platform.python_version(),
        "platform": platform.platform(), "cpus": os.cpu_count(), "wrk": wrk.strip(),
        "uvicorn": _version("uvicorn"), "fastapi": _version("fastapi"), "sqlalchemy": _version("sqlalchemy"),
        "httptools": _version("httptools"), "uvloop": _version("uvloop"), "sqlite": sqlite3.sqlite_version,
        "rounds": options.rounds, "quick": options.quick, "duration_s": options.duration_s,
        "warmup_s": options.warmup_s, "wrk_threads": options.wrk_threads, "connections": options.connections,
        "workers": options.workers, "requests_per_connection": options.per_connection or None,
        "load_average_at_start": os.getloadavg(),
        "target": {"decisions_per_s": TARGET_PER_S, "p99_ms": TARGET_P99_MS},
    }


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    return (["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
            + ["| " + " | ".join(row) + " |" for row in rows])


def _row(name: str, m: dict[str, Any], *, round_text: str = "") -> list[str]:
    return [m.get("name", m["db"]) if name != "ceiling" else "— (ceiling)", str(m["workers"]), str(m["connections"]),
            f"{m['requests_per_s']:,.0f}", f"{m['p50_ms']:.1f}", f"{m['p99_ms']:.1f}", f"{m['non_2xx']:,}",
            f"{m['records']:,}" if "records" in m else "—", f"{m['ok_2xx']:,}",
            f"{m['service_cpu_ms_per_request']:.2f}",
            f"{m['database_cpu_ms_per_request']:.2f}" if m["db"] == "postgresql" else "—"] + (
        [round_text] if round_text else [])


HEADER = ["db", "workers", "connections", "requests/s", "p50 ms", "p99 ms", "non-2xx", "records", "2xx",
          "service CPU ms/req", "PostgreSQL CPU ms/req"]


def markdown_report(results: dict[str, Any]) -> str:
    env, medians = results["environment"], results["medians"]
    rounds = env["rounds"]
    out = [f"# Decision service under load — {env['when']}", "",
           f"{env['cpus']} CPUs, Python {env['python']}, uvicorn {env['uvicorn']} (httptools {env['httptools']}, "
           f"uvloop {env['uvloop']}), {env['wrk']}; {env['duration_s']:.0f} s per run, {env['connections']} "
           f"connections, {env['wrk_threads']} wrk threads; "
           + (f"median of {rounds} rounds" if rounds > 1 else "one round") + (" (quick)" if env["quick"] else "")
           + f"; load average at start {env['load_average_at_start'][0]:.1f}.", ""]
    out += _table(HEADER, [_row(name, m) for name, m in medians.items()])
    lines = []
    for kind in (k for k in medians if k != "ceiling"):
        m = medians[kind]
        ratio = f"{m['ratio_to_ceiling']:.0%} of the ceiling's requests/s; " if m.get("ratio_to_ceiling") else ""
        verdict = "met" if m["meets_target"] else "NOT met"
        if "ratio_to_without_actions" in m:
            rounds_text = ", ".join(f"{r:.0%}" for r in m["ratio_by_round"])
            target = (f"{m['ratio_to_without_actions']:.0%} of the throughput without actions (by round: "
                      f"{rounds_text}); target (≥ {TARGET_ACTIONS_RATIO:.0%} of it) {verdict}; "
                      f"{m['workflow_runs']:,} workflow runs queued")
        else:
            target = f"{ratio}target (≥ {TARGET_PER_S:,}/s, p99 < {TARGET_P99_MS:.0f} ms) {verdict}"
        if kind.endswith(UNCHAINED):
            target = "the reference for the hash chain's cost"
        if "ratio_to_without_shadow" in m:
            rounds_text = ", ".join(f"{r:.0%}" for r in m["shadow_ratio_by_round"])
            target += (f"; with one shadow version {m['ratio_to_without_shadow']:.0%} of the throughput without "
                       f"it (by round: {rounds_text}), p50 {m['p50_ms']:.1f} ms / p99 {m['p99_ms']:.1f} ms against "
                       f"{m['p50_ms_without_shadow']:.1f} / {m['p99_ms_without_shadow']:.1f} ms without; "
                       f"{m.get('shadow_records', 0):,} shadow records")
        lines.append(f"- {kind}: {m['ok_per_s']:,.0f} decisions/s, p99 {m['p99_ms']:.1f} ms — {target}; "
                     f"{m['records']:,} records for {m['ok_2xx']:,} 2xx answers")
        if "ratio_to_unchained" in m:
            rounds_text = ", ".join(f"{r:.0%}" for r in m["chain_ratio_by_round"])
            verdict = "met" if m["meets_chain_target"] else "NOT met"
            lines.append(f"- {kind} with every record chained: {m['ratio_to_unchained']:.0%} of the throughput "
                         f"without the chain (by round: {rounds_text}); target (≥ {TARGET_CHAIN_RATIO:.0%}) "
                         f"{verdict}")
    out += ["", *lines]
    if rounds > 1:
        out += ["", "Every run:", ""]
        rows = [_row(name, r, round_text=str(r["round"])) for name, runs in results["runs"].items() for r in runs]
        out += _table([*HEADER, "round"], rows)
    for name, runs in results["runs"].items():
        profile = runs[0].get("profile")
        if not profile or not profile["samples"]:
            continue
        out += ["", f"Where one {name} worker's Python time went (py-spy --gil, {profile['samples']:,} samples, "
                "round 1), by the innermost frame:", ""]
        out += _table(["where", "% of samples"], [[k, f"{v:.1f}"] for k, v in profile["by_package"].items()])
        out += ["", "Inclusive, the service's own functions:", ""]
        out += _table(["function", "% of samples"], [[k, f"{v:.1f}"] for k, v in profile["own_functions"].items()])
    return "\n".join(out)


def parse_args(argv: Sequence[str] | None) -> tuple[Options, Path | None]:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="one round of 5 s runs: a smoke test")
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn workers (default 2)")
    parser.add_argument("--duration", type=float, help="seconds of load per run (default 30, quick 5)")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections (default 32)")
    parser.add_argument("--rounds", type=int, help="runs of each measurement; medians reported (default 3, quick 1)")
    parser.add_argument("--warmup", type=float, help="seconds of warm-up load per run (default 5, quick 2)")
    parser.add_argument("--wrk-threads", type=int, default=2, help="wrk threads (default 2)")
    parser.add_argument("--requests-per-connection", type=int, default=0, metavar="N",
                        help="each connection stops after N answers, so none is in flight at the end and the "
                             "record count must equal the 2xx count (wrk still waits out --duration)")
    parser.add_argument("--no-ceiling", action="store_true", help="skip the bare-FastAPI ceiling")
    parser.add_argument("--profile", action="store_true",
                        help="sample one service worker with py-spy during the first round (pip install py-spy)")
    parser.add_argument("--actions", action="store_true",
                        help="also run each database with the example's bindings: every decision queues its "
                             "workflow runs in its record's transaction (no worker runs them meanwhile)")
    parser.add_argument("--chain", action="store_true",
                        help="also run each database with the records' hash chain switched off "
                             "(DECISIONARY_CHAIN_RECORDS=off), to measure what chaining costs")
    parser.add_argument("--shadow", action="store_true",
                        help="also run each database with one shadow version on the production alias (every "
                             "call also evaluates and records it), to measure what a shadow costs per call")
    parser.add_argument("--out", type=Path, help="JSON results file (default benchmarks/results/...)")
    args = parser.parse_args(argv)
    if args.workers < 1 or args.connections < 1:
        parser.error("--workers and --connections must be at least 1")
    options = Options(
        kinds=KINDS if args.db == "both" else (args.db,), workers=args.workers, connections=args.connections,
        duration_s=args.duration or (5.0 if args.quick else 30.0), warmup_s=args.warmup or (2.0 if args.quick else 5.0),
        rounds=args.rounds or (1 if args.quick else 3), wrk_threads=args.wrk_threads,
        per_connection=args.requests_per_connection, ceiling=not args.no_ceiling, quick=args.quick,
        profile=args.profile, actions=args.actions, chain=args.chain, shadow=args.shadow)
    return options, args.out


def main(argv: Sequence[str] | None = None) -> int:
    options, out = parse_args(argv)
    try:
        wrk_path()
        if options.profile:
            service_profile.py_spy_path()
    except (WrkMissing, service_profile.PySpyMissing) as exc:
        say(f"ABORTED: {exc}")
        return 2
    try:
        with tempfile.TemporaryDirectory(prefix="decisionary-bench-service-") as workdir:
            results = run(options, Path(workdir))
    except RecordsMissing as exc:
        say(f"FAILED: every answered request must have its decision record, and some do not: {exc}")
        return 1
    except (WrkFailed, service_process.ServerFailed) as exc:
        say(f"FAILED: {exc}")
        return 1
    print(markdown_report(results))
    out = out or ROOT / "benchmarks" / "results" / (
        f"service-{dt.datetime.now().strftime('%Y%m%d-%H%M%S')}{'-quick' if options.quick else ''}.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    say(f"\nresults written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
