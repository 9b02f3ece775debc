"""The `decisionary` commands of the execution layer: workers, runs, dead letters, reviews,
bindings, batch jobs and schedules.

    worker                       carry out workflow steps, batch jobs and schedules until stopped
    example-receiver             a local webhook receiver that prints what it gets (make run)
    runs DECISION_ID             a decision's workflow runs, step by step (--follow to watch)
    dead-letters list|show|retry|cancel   dead-lettered runs, one by one or by filter (--all)
    reviews list|claim|decide    review tasks on a running service (--url, a reviewer's --api-key)
    bindings check|attach|show   bindings YAML: validate against a model; attach to a draft
    batch submit|list            decide every row of a CSV/Parquet file
    schedule add|list|enable|disable   cron schedules that queue batch jobs

Local commands take --data-dir / --database-url like the other registry commands.
`register(app)` adds them to the CLI.
"""

from __future__ import annotations

import getpass
import signal
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from api.cli_service import (
    ApiKey,
    DatabaseUrl,
    DataDir,
    Url,
    _client,
    _local_url,
    _remote,
    existing_file,
    fail,
    format_table,
    read_json_argument,
    reports_errors,
    to_json_text,
)

By = Annotated[str | None, typer.Option("--by", help="Who is acting (default: your user name).")]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def _engine(data_dir: Path | None, database_url: str | None, *, migrate: bool = False) -> Any:
    from registry import make_engine, upgrade

    url = _local_url(data_dir, database_url)
    if migrate:
        upgrade(url)
    return make_engine(url)


def _who(by: str | None) -> str:
    return by or getpass.getuser()


def _run_rows(runs: list[Any]) -> list[list[str]]:
    return [[r.id, r.workflow, r.state, str(r.step_index), r.model_key + "@" + str(r.version),
             r.updated_at.isoformat(timespec="seconds"), (r.last_error or "")[:80]] for r in runs]


RUN_HEADERS = ["run", "workflow", "state", "step", "version", "updated", "last error"]


# --- running -----------------------------------------------------------------------------------


@reports_errors
def worker_command(
    threads: Annotated[int, typer.Option("--threads", min=1, max=256, help="Steps carried out at once.")] = 8,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
    lease: Annotated[float | None, typer.Option("--lease", help="Lease seconds (default: "
                                                "DECISIONARY_LEASE_SECONDS or 30).")] = None,
    poll: Annotated[float, typer.Option("--poll", help="Seconds between claims when idle.")] = 0.5,
    limits: Annotated[bool, typer.Option("--limits/--no-limits", help="Per-host limits.")] = True,
    migrate: Annotated[bool, typer.Option("--migrate/--no-migrate", help="Migrate the database first.")] = True,
) -> None:
    """Carry out workflow steps, batch jobs and schedules until SIGTERM/SIGINT (then finish what runs)."""
    import logging

    from execution.config import ExecutionConfig
    from execution.worker import Worker, WorkerOptions

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    try:
        config = ExecutionConfig.from_env()
    except ValueError as exc:
        fail(str(exc))
    engine = _engine(data_dir, database_url, migrate=migrate)
    worker = Worker(engine, config, WorkerOptions(threads=threads, lease_seconds=lease, poll_interval=poll,
                                                  limits=limits))
    if not config.allowed_hosts:
        typer.echo("warning: DECISIONARY_ALLOWED_HOSTS is empty: every HTTP step will be refused", err=True)

    def stop(signum: int, _frame: Any) -> None:
        typer.echo(f"{signal.Signals(signum).name}: finishing the steps in progress...", err=True)
        worker.stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        worker.run()
    finally:
        engine.dispose()
    typer.echo(f"worker stopped: {dict(worker.stats.counts)}", err=True)


@reports_errors
def example_receiver_command(
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 8001,
    host: Annotated[str, typer.Option("--host", help="Interface to listen on.")] = "127.0.0.1",
    secret: Annotated[str | None, typer.Option("--secret", envvar="DECISIONARY_WEBHOOK_SECRET",
                                               help="Check signatures with this secret.")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", help="Print nothing per call (load tests).")] = False,
) -> None:
    """A local webhook receiver that prints every call it gets (each idempotency key processed once)."""
    from execution.receiver import Receiver, print_delivery

    receiver = Receiver(host=host, port=port, secret=secret, on_delivery=None if quiet else print_delivery).start()
    typer.echo(f"receiving on {receiver.url} (signatures {'checked' if secret else 'not checked'}); "
               "Ctrl-C to stop", err=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        receiver.stop()


# --- runs and dead letters ---------------------------------------------------------------------


@reports_errors
def runs_command(
    decision_id: Annotated[str, typer.Argument(help="The decision record id (decision_id of an answer).")],
    url: Annotated[str | None, typer.Option("--url", envvar="DECISIONARY_URL",
                                            help="Ask this service instead of the local database.")] = None,
    api_key: ApiKey = None,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
    follow: Annotated[bool, typer.Option("--follow", "-f", help="Watch until every run has finished.")] = False,
    as_json: AsJson = False,
) -> None:
    """Follow a decision's workflow runs step by step: each attempt, its outcome and error."""
    seen = -1
    while True:
        runs = _decision_runs(decision_id, url, api_key, data_dir, database_url)
        if as_json:
            typer.echo(to_json_text(runs))
        else:
            shown = sum(len(r.get("attempts") or []) + 1 for r in runs)
            if shown != seen:
                _print_runs(decision_id, runs)
                seen = shown
        active = any(r["state"] in ("ready", "waiting") for r in runs)
        if not follow or not active or as_json:
            return
        time.sleep(1.0)


def _decision_runs(decision_id: str, url: str | None, api_key: str | None, data_dir: Path | None,
                   database_url: str | None) -> list[dict[str, Any]]:
    if url:
        with _client(url, api_key) as client:
            response = _remote(lambda: client.request("GET", f"/v1/execution/decisions/{decision_id}/runs"))
        data: list[dict[str, Any]] = response.json()
        return data
    from execution.operations import runs_of_decision
    from registry import unit_of_work

    engine = _engine(data_dir, database_url)
    try:
        with unit_of_work(engine, read_only=True) as session:
            found = runs_of_decision(session, decision_id)
    finally:
        engine.dispose()
    return [{**run.to_dict(), "attempts": [a.to_dict() for a in attempts]} for run, attempts in found]


def _print_runs(decision_id: str, runs: list[dict[str, Any]]) -> None:
    if not runs:
        typer.echo(f"decision {decision_id} started no workflow run")
        return
    for run in runs:
        typer.echo(f"{run['workflow']} ({run['id']}): {run['state']}, at step {run['step_index'] + 1}"
                   + (f", due {run['due_at']}" if run.get("due_at") and run["state"] == "ready" else "")
                   + (f" [{run['origin']}]" if run.get("origin") != "decision" else "")
                   + (f", {run['crashes']} crash(es) of its workers" if run.get("crashes") else ""))
        for attempt in run.get("attempts") or []:
            status = f" {attempt['status_code']}" if attempt.get("status_code") else ""
            error = f"  {attempt['error'][:120]}" if attempt.get("error") else ""
            typer.echo(f"  {attempt['finished_at'][:19]}  step {attempt['step_index'] + 1} {attempt['step_name']}"
                       f" #{attempt['attempt']}: {attempt['outcome']}{status} ({attempt['duration_ms']:.0f} ms, "
                       f"{attempt['worker']}){error}")
        if run.get("last_error") and run["state"] == "dead":
            typer.echo(f"  dead letter: {run['last_error']}")


dead_app = typer.Typer(help="Dead-lettered workflow runs (local database).", no_args_is_help=True)

WorkflowOpt = Annotated[str | None, typer.Option("--workflow", help="Only this workflow.")]
KeyOpt = Annotated[str | None, typer.Option("--key", help="Only this model key.")]
StepOpt = Annotated[str | None, typer.Option("--step", help="Only runs stopped at this step (by name).")]
ErrorOpt = Annotated[str | None, typer.Option("--error", help="Only runs whose last error contains this.")]


def _dead_filter(workflow: str | None, key: str | None, step: str | None, error: str | None) -> Any:
    from execution.operations import RunFilter

    return RunFilter(state="dead", workflow=workflow, key=key, step=step, error=error)


@dead_app.command("list")
@reports_errors
def dead_list(workflow: WorkflowOpt = None, key: KeyOpt = None, step: StepOpt = None, error: ErrorOpt = None,
              limit: Annotated[int, typer.Option("--limit")] = 100, data_dir: DataDir = None,
              database_url: DatabaseUrl = None, as_json: AsJson = False) -> None:
    """List dead-lettered runs, newest first."""
    from execution.operations import list_runs
    from registry import unit_of_work

    engine = _engine(data_dir, database_url)
    try:
        with unit_of_work(engine, read_only=True) as session:
            runs = list_runs(session, _dead_filter(workflow, key, step, error), limit=limit)
    finally:
        engine.dispose()
    if as_json:
        typer.echo(to_json_text([r.to_dict() for r in runs]))
        return
    typer.echo(format_table(RUN_HEADERS, _run_rows(runs)) if runs else "no dead letters")


@dead_app.command("show")
@reports_errors
def dead_show(run_id: Annotated[str, typer.Argument()], data_dir: DataDir = None,
              database_url: DatabaseUrl = None) -> None:
    """A run with its context and every attempt of its steps."""
    from execution.operations import attempts_of, get_run
    from registry import RegistryError, unit_of_work

    engine = _engine(data_dir, database_url)
    try:
        with unit_of_work(engine, read_only=True) as session:
            run = get_run(session, run_id)
            attempts = attempts_of(session, run_id)
    except RegistryError as exc:
        fail(str(exc))
    finally:
        engine.dispose()
    typer.echo(to_json_text({**run.to_dict(with_context=True), "attempts": [a.to_dict() for a in attempts]}))


def _act(action: str, run_ids: list[str] | None, all_: bool, workflow: str | None, key: str | None,
         step: str | None, error: str | None, by: str | None, data_dir: Path | None,
         database_url: str | None) -> None:
    from execution import operations
    from registry import RegistryError, unit_of_work

    if not run_ids and not all_:
        fail("name the run(s), or use --all (with --workflow/--key/--step/--error to narrow it)")
    engine = _engine(data_dir, database_url)
    who = _who(by)
    try:
        with unit_of_work(engine) as session:
            if run_ids:
                one = operations.retry_run if action == "retry" else operations.cancel_run
                for run_id in run_ids:
                    one(session, run_id, by=who)
                count = len(run_ids)
            else:
                bulk = operations.retry_runs if action == "retry" else operations.cancel_runs
                count = bulk(session, _dead_filter(workflow, key, step, error), by=who)
    except RegistryError as exc:
        fail(str(exc))
    finally:
        engine.dispose()
    typer.echo(f"{action}: {count} run(s)")


@dead_app.command("retry")
@reports_errors
def dead_retry(run_ids: Annotated[list[str] | None, typer.Argument(help="Run ids.")] = None,
               all_: Annotated[bool, typer.Option("--all", help="Every dead letter matching the filters.")] = False,
               workflow: WorkflowOpt = None, key: KeyOpt = None, step: StepOpt = None, error: ErrorOpt = None,
               by: By = None, data_dir: DataDir = None, database_url: DatabaseUrl = None) -> None:
    """Retry dead-lettered runs from their failed step (fresh attempts, same idempotency keys)."""
    _act("retry", run_ids, all_, workflow, key, step, error, by, data_dir, database_url)


@dead_app.command("cancel")
@reports_errors
def dead_cancel(run_ids: Annotated[list[str] | None, typer.Argument(help="Run ids.")] = None,
                all_: Annotated[bool, typer.Option("--all", help="Every dead letter matching the filters.")] = False,
                workflow: WorkflowOpt = None, key: KeyOpt = None, step: StepOpt = None, error: ErrorOpt = None,
                by: By = None, data_dir: DataDir = None, database_url: DatabaseUrl = None) -> None:
    """Cancel runs for good (named runs in any unfinished state; with --all, dead letters)."""
    _act("cancel", run_ids, all_, workflow, key, step, error, by, data_dir, database_url)


# --- reviews (on a running service) ------------------------------------------------------------

reviews_app = typer.Typer(help="Review tasks on a running service (a reviewer's API key).", no_args_is_help=True)


@reviews_app.command("list")
@reports_errors
def reviews_list(url: Url, api_key: ApiKey = None,
                 queue: Annotated[str | None, typer.Option("--queue")] = None,
                 mine: Annotated[bool, typer.Option("--mine", help="Assigned to or claimed by me.")] = False,
                 as_json: AsJson = False) -> None:
    """Open review tasks, oldest first."""
    params: dict[str, Any] = {"mine": str(mine).lower()}
    if queue:
        params["queue"] = queue
    tasks: list[dict[str, Any]] = []
    with _client(url, api_key) as client:
        while True:  # every page
            page = _remote(lambda: client.request("GET", "/v1/reviews", params=params)).json()
            tasks.extend(page["tasks"])
            if not page.get("next_cursor"):
                break
            params["cursor"] = page["next_cursor"]
    if as_json:
        typer.echo(to_json_text(tasks))
        return
    rows = [[t["id"], t["queue"], t.get("assignee") or "-", t["state"], t.get("claimed_by") or "-",
             (t.get("due_at") or "-")[:19], (t.get("reason") or "")[:60]] for t in tasks]
    typer.echo(format_table(["task", "queue", "assignee", "state", "claimed by", "due", "reason"], rows)
               if rows else "no open review tasks")


@reviews_app.command("claim")
@reports_errors
def reviews_claim(task_id: Annotated[str, typer.Argument()], url: Url, api_key: ApiKey = None) -> None:
    """Claim a task: nobody else can answer it then."""
    with _client(url, api_key) as client:
        task = _remote(lambda: client.request("POST", f"/v1/reviews/{task_id}/claim")).json()
    typer.echo(f"claimed {task['id']} (decision {task['decision_id']}): {task.get('reason') or ''}")
    typer.echo(to_json_text({"inputs": task["inputs"], "outputs": task["outputs"], "fired": task["fired"]}))


@reviews_app.command("decide")
@reports_errors
def reviews_decide(
    task_id: Annotated[str, typer.Argument()],
    outcome: Annotated[str, typer.Option("--outcome", help="approve, reject or override.")],
    reason: Annotated[str, typer.Option("--reason", help="Why (recorded).")],
    url: Url,
    api_key: ApiKey = None,
    outputs: Annotated[str | None, typer.Option("--outputs", help="With override: JSON object of outputs, "
                                                "or @file.json.")] = None,
) -> None:
    """Answer a review task; the waiting workflow carries on with the answer."""
    body: dict[str, Any] = {"outcome": outcome, "reason": reason}
    if outputs is not None:
        body["outputs"] = read_json_argument(outputs)
    with _client(url, api_key) as client:
        task = _remote(lambda: client.request("POST", f"/v1/reviews/{task_id}/decide", json=body)).json()
    typer.echo(f"{task['id']}: {task['outcome']} by {task['decided_by']}")


# --- bindings ----------------------------------------------------------------------------------

bindings_app = typer.Typer(help="Bindings: which outcome starts which workflow.", no_args_is_help=True)


@bindings_app.command("check")
@reports_errors
def bindings_check(file: Annotated[Path, typer.Argument(help="The bindings YAML.")],
                   model: Annotated[Path, typer.Option("--model", help="The model they bind (.dmn/.yaml).")]) -> None:
    """Validate bindings against a model and the allow-list (DECISIONARY_ALLOWED_HOSTS)."""
    import decisions
    from execution.bindings import parse_bindings
    from execution.config import ExecutionConfig
    from execution.errors import BindingsInvalid

    existing_file(file, "bindings file")
    loaded = decisions.load(existing_file(model, "model file"))
    try:
        bindings = parse_bindings(file.read_text(encoding="utf-8"), input_names=loaded.input_names,
                                  decision_names=loaded.decision_names, config=ExecutionConfig.from_env(),
                                  file=str(file))
    except BindingsInvalid as exc:
        for problem in exc.problems:
            typer.echo(str(problem), err=True)
        raise typer.Exit(1) from None
    steps = sum(len(w.steps) for w in bindings.workflows.values())
    typer.echo(f"ok: {len(bindings.workflows)} workflow(s), {steps} step(s), {len(bindings.rules)} rule(s); "
               f"hash {bindings.hash[:12]}")


@bindings_app.command("attach")
@reports_errors
def bindings_attach(key: Annotated[str, typer.Argument()], number: Annotated[int, typer.Argument()],
                    file: Annotated[Path, typer.Argument(help="The bindings YAML.")], by: By = None,
                    data_dir: DataDir = None, database_url: DatabaseUrl = None) -> None:
    """Attach bindings to a draft in the local registry (its author only)."""
    from execution.bindings_store import attach_bindings
    from execution.config import ExecutionConfig
    from execution.errors import BindingsInvalid
    from registry import RegistryError, unit_of_work

    text = existing_file(file, "bindings file").read_text(encoding="utf-8")
    engine = _engine(data_dir, database_url)
    try:
        with unit_of_work(engine) as session:
            attached = attach_bindings(session, key, number, text, by=_who(by), config=ExecutionConfig.from_env())
    except BindingsInvalid as exc:
        for problem in exc.problems:
            typer.echo(str(problem), err=True)
        raise typer.Exit(1) from None
    except RegistryError as exc:
        fail(str(exc))
    finally:
        engine.dispose()
    typer.echo(f"{key} version {number}: bindings {attached.hash[:12] if attached.hash else 'removed'}")


@bindings_app.command("show")
@reports_errors
def bindings_show(key: Annotated[str, typer.Argument()], number: Annotated[int, typer.Argument()],
                  data_dir: DataDir = None, database_url: DatabaseUrl = None) -> None:
    """Print a version's bindings."""
    from execution.bindings_store import get_bindings
    from registry import RegistryError, unit_of_work

    engine = _engine(data_dir, database_url)
    try:
        with unit_of_work(engine, read_only=True) as session:
            attached = get_bindings(session, key, number)
    except RegistryError as exc:
        fail(str(exc))
    finally:
        engine.dispose()
    typer.echo(attached.text if attached.text else f"{key} version {number} has no bindings")


# --- batch jobs and schedules ------------------------------------------------------------------

batch_app = typer.Typer(help="Batch jobs: a decision per row of a CSV or Parquet file.", no_args_is_help=True)
schedule_app = typer.Typer(help="Cron schedules that queue batch jobs.", no_args_is_help=True)
FormatOpt = Annotated[str | None, typer.Option("--format", help="csv or parquet (default: from the name).")]


@batch_app.command("submit")
@reports_errors
def batch_submit(model: Annotated[str, typer.Argument(help="key, key@alias or key@version.")],
                 file: Annotated[Path, typer.Argument(help="The CSV or Parquet file (readable by workers).")],
                 fmt: FormatOpt = None, by: By = None, data_dir: DataDir = None,
                 database_url: DatabaseUrl = None) -> None:
    """Queue a batch job; a worker decides its rows (resumable) and runs their workflows."""
    from execution.batch import submit_batch
    from registry import RegistryError, unit_of_work

    engine = _engine(data_dir, database_url)
    try:
        with unit_of_work(engine) as session:
            job = submit_batch(session, model_ref=model, source=str(file.resolve()), fmt=fmt, created_by=_who(by))
    except RegistryError as exc:
        fail(str(exc))
    finally:
        engine.dispose()
    typer.echo(f"batch job {job.id}: {job.model_key} version {job.version}, {job.source}")


@batch_app.command("list")
@reports_errors
def batch_list(data_dir: DataDir = None, database_url: DatabaseUrl = None) -> None:
    """Batch jobs and their progress, newest first."""
    from execution.batch import list_jobs
    from registry import unit_of_work

    engine = _engine(data_dir, database_url)
    try:
        with unit_of_work(engine, read_only=True) as session:
            jobs = list_jobs(session)
    finally:
        engine.dispose()
    rows = [[j.id, f"{j.model_key}@{j.version}", j.state, f"{j.position}/{j.total if j.total is not None else '?'}",
             str(j.problem_rows), Path(j.source).name, (j.error or "")[:60]] for j in jobs]
    typer.echo(format_table(["job", "version", "state", "rows", "problems", "file", "error"], rows)
               if rows else "no batch jobs")


@schedule_app.command("add")
@reports_errors
def schedule_add(name: Annotated[str, typer.Argument()],
                 cron: Annotated[str, typer.Option("--cron", help="Five cron fields, UTC: '0 2 * * *'.")],
                 model: Annotated[str, typer.Option("--model", help="key, key@alias or key@version.")],
                 file: Annotated[Path, typer.Option("--file", help="The file each run decides.")],
                 fmt: FormatOpt = None, by: By = None, data_dir: DataDir = None,
                 database_url: DatabaseUrl = None) -> None:
    """Add a schedule that queues a batch job over FILE at every cron time."""
    from execution.schedules import add_schedule
    from registry import RegistryError, unit_of_work

    engine = _engine(data_dir, database_url)
    try:
        with unit_of_work(engine) as session:
            schedule = add_schedule(session, name=name, cron=cron, model_ref=model, source=str(file.resolve()),
                                    fmt=fmt, created_by=_who(by))
    except RegistryError as exc:
        fail(str(exc))
    finally:
        engine.dispose()
    typer.echo(f"schedule {schedule.name}: next run {schedule.next_run_at.isoformat(timespec='minutes')}")


@schedule_app.command("list")
@reports_errors
def schedule_list(data_dir: DataDir = None, database_url: DatabaseUrl = None) -> None:
    """Schedules and when they run next."""
    from execution.schedules import list_schedules
    from registry import unit_of_work

    engine = _engine(data_dir, database_url)
    try:
        with unit_of_work(engine, read_only=True) as session:
            schedules = list_schedules(session)
    finally:
        engine.dispose()
    rows = [[s.name, s.cron, s.model_ref, "on" if s.enabled else "off", s.next_run_at.isoformat(timespec="minutes"),
             Path(s.source).name] for s in schedules]
    typer.echo(format_table(["name", "cron", "model", "enabled", "next run", "file"], rows) if rows else "no schedules")


def _toggle(name: str, enabled: bool, data_dir: Path | None, database_url: str | None) -> None:
    from execution.schedules import set_enabled
    from registry import RegistryError, unit_of_work

    engine = _engine(data_dir, database_url)
    try:
        with unit_of_work(engine) as session:
            schedule = set_enabled(session, name, enabled)
    except RegistryError as exc:
        fail(str(exc))
    finally:
        engine.dispose()
    typer.echo(f"schedule {schedule.name}: {'enabled' if schedule.enabled else 'disabled'}")


@schedule_app.command("enable")
@reports_errors
def schedule_enable(name: Annotated[str, typer.Argument()], data_dir: DataDir = None,
                    database_url: DatabaseUrl = None) -> None:
    """Enable a schedule (its next time is computed from now)."""
    _toggle(name, True, data_dir, database_url)


@schedule_app.command("disable")
@reports_errors
def schedule_disable(name: Annotated[str, typer.Argument()], data_dir: DataDir = None,
                     database_url: DatabaseUrl = None) -> None:
    """Disable a schedule."""
    _toggle(name, False, data_dir, database_url)


def register(app: typer.Typer) -> None:
    """Add the execution commands to the `decisionary` CLI."""
    app.command("worker")(worker_command)
    app.command("example-receiver")(example_receiver_command)
    app.command("runs")(runs_command)
    app.add_typer(dead_app, name="dead-letters")
    app.add_typer(reviews_app, name="reviews")
    app.add_typer(bindings_app, name="bindings")
    app.add_typer(batch_app, name="batch")
    app.add_typer(schedule_app, name="schedule")

