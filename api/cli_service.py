"""The `decisionary` commands that run or talk to the decision service.

    serve                      run the service (uvicorn; --workers N uses the app factory)
    dev                        the service on 127.0.0.1:8000 with the examples published (make run)
    db upgrade                 migrate the registry's database
    identities create/list     the persons (or services) keys are issued to, in the local registry
    keys create/list/revoke    API keys, issued to an identity (the secret is printed once)
    publish MODEL --key K      upload a model to a running service and submit it for review
    version approve|reject|publish|retire KEY N   lifecycle moves on a running service
    alias set|rollback KEY ALIAS                  move an alias on a running service
    alias split|unsplit KEY ALIAS                 champion/challenger arms and shadow versions
    diff KEY V1 V2             what changed between two versions (local registry, or --url)
    call KEY --input JSON      evaluate on a running service

Commands that talk to a service take --url and --api-key (or DECISIONARY_URL and
DECISIONARY_API_KEY); commands on the local registry take --data-dir or --database-url (or
DECISIONARY_DATA_DIR / DECISIONARY_DATABASE_URL). `register(app)` adds them to the CLI.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any, NoReturn, ParamSpec, TypeVar

import typer

P = ParamSpec("P")
R = TypeVar("R")


# api/cli.py imports this module to register the commands, so its helpers are imported when a
# command runs, never at import time (that would be circular under `python -m api.cli`).


def reports_errors(command: Callable[P, R]) -> Callable[P, R]:
    """api.cli.reports_errors, applied when the command runs."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        from api.cli import reports_errors as cli_reports_errors

        return cli_reports_errors(command)(*args, **kwargs)

    return wrapper


def fail(message: str) -> NoReturn:
    from api.cli import fail as cli_fail

    cli_fail(message)


def existing_file(path: Path, what: str) -> Path:
    from api.cli import existing_file as cli_existing_file

    return cli_existing_file(path, what)


def read_json_argument(argument: str) -> Any:
    from api.cli import read_json_argument as cli_read_json_argument

    return cli_read_json_argument(argument)


def to_json_text(data: Any) -> str:
    from api.cli import to_json_text as cli_to_json_text

    return cli_to_json_text(data)


def format_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    from api.cli import format_table as cli_format_table

    return cli_format_table(headers, rows)


Url = Annotated[str, typer.Option("--url", envvar="DECISIONARY_URL", help="The service's base URL.")]
ApiKey = Annotated[str | None, typer.Option("--api-key", envvar="DECISIONARY_API_KEY",
                                            help="An API key (Authorization: Bearer).")]
OptionalUrl = Annotated[str | None, typer.Option("--url", envvar="DECISIONARY_URL",
                                                 help="Ask this service instead of the local registry.")]
DataDir = Annotated[Path | None, typer.Option("--data-dir", help="Data directory of the SQLite database "
                                              "(default: $DECISIONARY_DATA_DIR or ./data).")]
DatabaseUrl = Annotated[str | None, typer.Option("--database-url", envvar="DECISIONARY_DATABASE_URL",
                                                 help="Database URL (sqlite:///... or postgresql+psycopg://...).")]
Comment = Annotated[str | None, typer.Option("--comment", "-m", help="Why: recorded with the move.")]

ROLES = ("viewer", "author", "approver", "caller", "reviewer", "admin")


def _client(url: str, api_key: str | None) -> Any:
    from api.client import ServiceClient

    return ServiceClient(url, api_key)


def _remote(call: Any) -> Any:
    """Run a client call; a refusal or an unreachable service is a CLI error, not a traceback."""
    from api.client import ServiceError

    try:
        return call()
    except ServiceError as exc:
        fail(str(exc))


def _local_url(data_dir: Path | None, database_url: str | None) -> str:
    from api.server import configure

    return configure(data_dir=data_dir, database_url=database_url)


# --- running -----------------------------------------------------------------------------------


@reports_errors
def serve_command(
    host: Annotated[str, typer.Option("--host", help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 8000,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
    workers: Annotated[int, typer.Option("--workers", min=1, help="Worker processes.")] = 1,
    migrate: Annotated[bool, typer.Option("--migrate/--no-migrate", help="Migrate the database first.")] = True,
    access_log: Annotated[bool, typer.Option(
        "--access-log/--no-access-log",
        help="Log one line per HTTP request (off by default: every decision is recorded anyway).")] = False,
) -> None:
    """Run the decision service."""
    from api.server import serve

    serve(host, port, workers=workers, data_dir=data_dir, database_url=database_url, migrate=migrate,
          access_log=access_log)


@reports_errors
def dev_command(
    host: Annotated[str, typer.Option("--host")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port")] = 8000,
    data_dir: Annotated[Path, typer.Option("--data-dir")] = Path("data"),
    examples: Annotated[Path, typer.Option("--examples", help="Folder of models to publish.")] = Path("examples"),
    receiver_port: Annotated[int, typer.Option("--receiver-port", help="Port of the example receiver.")] = 8001,
    worker: Annotated[bool, typer.Option("--worker/--no-worker", help="Start a worker beside the service.")] = True,
    receiver: Annotated[bool, typer.Option("--receiver/--no-receiver", help="Start the example receiver.")] = True,
    history: Annotated[bool, typer.Option(
        "--history/--no-history",
        help="Load six months of synthetic loan-approval history on first start.")] = True,
) -> None:
    """Start the service locally with the example models and their bindings published, a fresh
    admin key, a worker and the example receiver (Ctrl-C stops all three)."""
    from api.devserver import run_dev

    run_dev(host, port, data_dir=data_dir, examples=examples, receiver_port=receiver_port, worker=worker,
            receiver=receiver, history=history)


# --- local registry ----------------------------------------------------------------------------

db_app = typer.Typer(help="The registry's database.", no_args_is_help=True)
keys_app = typer.Typer(help="API keys in the local registry, each issued to an identity.", no_args_is_help=True)
identities_app = typer.Typer(help="Identities (persons or services) in the local registry: API keys are issued "
                                  "to them, and the two-person rule compares them.", no_args_is_help=True)


@identities_app.command("create")
@reports_errors
def identities_create(name: Annotated[str, typer.Argument(help="The person's or service's name (unique).")],
                      data_dir: DataDir = None, database_url: DatabaseUrl = None) -> None:
    """Create an identity; then issue keys to it with `keys create --identity NAME`."""
    from registry import RegistryError, create_identity, make_engine, unit_of_work, upgrade

    url = _local_url(data_dir, database_url)
    upgrade(url)
    engine = make_engine(url)
    try:
        with unit_of_work(engine) as session:
            identity = create_identity(session, name, by="decisionary identities create")
    except RegistryError as exc:
        fail(str(exc))
    finally:
        engine.dispose()
    typer.echo(f"created identity {identity.id} ({identity.name})")


@identities_app.command("list")
@reports_errors
def identities_list(data_dir: DataDir = None, database_url: DatabaseUrl = None) -> None:
    """List identities."""
    from registry import list_identities, make_engine, unit_of_work

    engine = make_engine(_local_url(data_dir, database_url))
    try:
        with unit_of_work(engine, read_only=True) as session:
            identities = list_identities(session)
    finally:
        engine.dispose()
    rows = [[i.id, i.name, i.created_at.isoformat(timespec="seconds"), i.created_by or ""] for i in identities]
    typer.echo(format_table(["id", "name", "created", "created by"], rows))


@db_app.command("upgrade")
@reports_errors
def db_upgrade(data_dir: DataDir = None, database_url: DatabaseUrl = None) -> None:
    """Apply the registry's migrations (safe to repeat)."""
    from registry import current_revision, upgrade

    url = _local_url(data_dir, database_url)
    upgrade(url)
    typer.echo(f"database at revision {current_revision(url)}")


@keys_app.command("create")
@reports_errors
def keys_create(
    role: Annotated[str, typer.Option("--role", help=f"One of: {', '.join(ROLES)}.")],
    name: Annotated[str | None, typer.Option("--name", help="The key's label (default: the identity, else the role).")] = None,
    identity: Annotated[str | None, typer.Option(
        "--identity", help="The existing identity (id or name) to issue the key to. Without it, the identity "
                           "named like the key (created if there is none).")] = None,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Create an API key for an identity and print its secret (shown only now; stored as a hash)."""
    from registry import RegistryError, create_key, make_engine, unit_of_work, upgrade

    if role not in ROLES:
        fail(f"unknown role {role!r}: expected one of {', '.join(ROLES)}")
    url = _local_url(data_dir, database_url)
    upgrade(url)
    engine = make_engine(url)
    try:
        with unit_of_work(engine) as session:
            key, secret = create_key(session, name or identity or role, role, by="decisionary keys create",
                                     identity=identity)
    except RegistryError as exc:
        fail(str(exc))
    finally:
        engine.dispose()
    typer.echo(f"created key {key.id} ({key.name}, role {key.role}) for {key.identity}; its secret, shown only now:",
               err=True)
    typer.echo(secret)


@keys_app.command("list")
@reports_errors
def keys_list(data_dir: DataDir = None, database_url: DatabaseUrl = None,
              all_: Annotated[bool, typer.Option("--all", help="Include revoked keys.")] = False) -> None:
    """List API keys (never their secrets)."""
    from registry import list_keys, make_engine, unit_of_work

    engine = make_engine(_local_url(data_dir, database_url))
    try:
        with unit_of_work(engine, read_only=True) as session:
            keys = list_keys(session, include_revoked=all_)
    finally:
        engine.dispose()
    rows = [[k.id, k.name, k.identity, k.role, k.prefix + "...", k.created_at.isoformat(timespec="seconds"),
             "revoked" if k.revoked_at else "active"] for k in keys]
    typer.echo(format_table(["id", "name", "identity", "role", "prefix", "created", "state"], rows))


@keys_app.command("revoke")
@reports_errors
def keys_revoke(key_id: Annotated[str, typer.Argument(help="The key's id (see `keys list`).")],
                data_dir: DataDir = None, database_url: DatabaseUrl = None) -> None:
    """Revoke an API key: refused at once by new processes; a running service refuses it from
    DECISIONARY_CACHE_SECONDS (1 s by default) after the revocation, on every call."""
    from registry import RegistryError, make_engine, revoke_key, unit_of_work

    engine = make_engine(_local_url(data_dir, database_url))
    try:
        with unit_of_work(engine) as session:
            key = revoke_key(session, key_id, by="decisionary keys revoke")
    except RegistryError as exc:
        fail(str(exc))
    finally:
        engine.dispose()
    typer.echo(f"revoked {key.id} ({key.name}); running services refuse it within their cache time "
               "(DECISIONARY_CACHE_SECONDS, 1 s by default)")


# --- talking to a service ----------------------------------------------------------------------

version_app = typer.Typer(help="Lifecycle moves of a version on a running service.", no_args_is_help=True)
alias_app = typer.Typer(help="Aliases (environments) on a running service.", no_args_is_help=True)


@reports_errors
def publish_command(
    model: Annotated[Path, typer.Argument(help="The model file (.dmn, .yaml or .xlsx).")],
    key: Annotated[str, typer.Option("--key", help="The model's registry key.")],
    url: Url,
    api_key: ApiKey = None,
    comment: Comment = None,
    test_cases: Annotated[Path | None, typer.Option("--test-cases", help="YAML test cases to attach.")] = None,
    no_submit: Annotated[bool, typer.Option("--no-submit", help="Leave the upload a draft.")] = False,
) -> None:
    """Upload a model as a new version and submit it for review (approve and publish are separate:
    `decisionary version approve|publish`, by another person)."""
    existing_file(model, "model file")
    if test_cases is not None:
        existing_file(test_cases, "test cases file")
    with _client(url, api_key) as client:
        version = _remote(lambda: client.upload(key, model, comment=comment, test_cases=test_cases))
        number = version["number"]
        if not no_submit:
            version = _remote(lambda: client.transition(key, number, "submit", comment))
    typer.echo(f"{key} version {number}: {version['state']} (hash {version['content_hash'][:12]})")


def _transition(action: str) -> Any:
    @reports_errors
    def command(
        key: Annotated[str, typer.Argument(help="The model's key.")],
        number: Annotated[int, typer.Argument(help="The version number.")],
        url: Url,
        api_key: ApiKey = None,
        comment: Comment = None,
    ) -> None:
        with _client(url, api_key) as client:
            version = _remote(lambda: client.transition(key, number, action, comment))
        typer.echo(f"{key} version {number}: {version['state']}")

    command.__doc__ = f"{action.capitalize()} a version on a running service."
    return command


for _action in ("submit", "approve", "reject", "publish", "retire"):
    version_app.command(_action)(_transition(_action))


@alias_app.command("set")
@reports_errors
def alias_set(key: Annotated[str, typer.Argument()], alias: Annotated[str, typer.Argument()],
              number: Annotated[int, typer.Argument(help="The published version to point at.")],
              url: Url, api_key: ApiKey = None,
              why: Annotated[str | None, typer.Option("--why", help="Recorded with the move.")] = None) -> None:
    """Point an alias at a published version."""
    with _client(url, api_key) as client:
        target = _remote(lambda: client.set_alias(key, alias, number, why))
    typer.echo(f"{key}@{alias} -> version {target['number']}")


@alias_app.command("rollback")
@reports_errors
def alias_rollback(key: Annotated[str, typer.Argument()], alias: Annotated[str, typer.Argument()],
                   url: Url, api_key: ApiKey = None,
                   why: Annotated[str | None, typer.Option("--why")] = None) -> None:
    """Move an alias back to where it pointed before its last move."""
    with _client(url, api_key) as client:
        target = _remote(lambda: client.rollback(key, alias, why))
    typer.echo(f"{key}@{alias} -> version {target['number']}")


def _arm(text: str) -> dict[str, Any]:
    """NAME=VERSION:PERCENT, e.g. challenger=4:10 (the percent is sent as a number)."""
    name, _, rest = text.rpartition("=")
    version, _, percent = rest.partition(":")
    try:
        return {"name": name, "version": int(version), "percent": json.loads(percent)}
    except ValueError:
        fail(f"--arm {text!r}: expected NAME=VERSION:PERCENT, e.g. challenger=4:10")


def _routing_echo(key: str, alias: str, target: Mapping[str, Any]) -> None:
    routing = target.get("routing") or {}
    arms = ", ".join(f"{a['name']} v{a['version']} {a['percent']}%" for a in routing.get("arms", []))
    shadows = ", ".join(f"v{n}" for n in routing.get("shadows", []))
    typer.echo(f"{key}@{alias} -> version {target['number']}"
               + (f"; split on {routing['split_on']!r}: {arms}" if arms else "")
               + (f"; shadows: {shadows}" if shadows else ""))


@alias_app.command("split")
@reports_errors
def alias_split(key: Annotated[str, typer.Argument()], alias: Annotated[str, typer.Argument()],
                url: Url, api_key: ApiKey = None,
                on: Annotated[str | None, typer.Option("--on", help="The input whose value chooses the arm.")] = None,
                arm: Annotated[list[str] | None, typer.Option(
                    "--arm", help="NAME=VERSION:PERCENT, repeated; one arm is the alias's own version and the "
                                  "percents add up to 100.")] = None,
                shadow: Annotated[list[int] | None, typer.Option(
                    "--shadow", help="A published version evaluated on every call without affecting the answer "
                                     "(repeatable, up to 3).")] = None,
                why: Annotated[str | None, typer.Option("--why", help="Recorded with the move.")] = None) -> None:
    """Split an alias's calls between a champion and challengers, and/or shadow it with other versions.

    decisionary alias split loan-approval production --on "Applicant Id" --arm champion=3:90 --arm challenger=4:10
    """
    routing = {"split_on": on, "arms": [_arm(a) for a in arm or []], "shadows": list(shadow or [])}
    with _client(url, api_key) as client:
        target = _remote(lambda: client.set_routing(key, alias, routing, why))
    _routing_echo(key, alias, target)


@alias_app.command("unsplit")
@reports_errors
def alias_unsplit(key: Annotated[str, typer.Argument()], alias: Annotated[str, typer.Argument()],
                  url: Url, api_key: ApiKey = None,
                  why: Annotated[str | None, typer.Option("--why", help="Recorded with the move.")] = None) -> None:
    """Remove an alias's split and shadows: its own version answers every call again."""
    with _client(url, api_key) as client:
        target = _remote(lambda: client.clear_routing(key, alias, why))
    _routing_echo(key, alias, target)


@reports_errors
def diff_command(
    key: Annotated[str, typer.Argument(help="The model's key.")],
    old: Annotated[int, typer.Argument(help="The older version.")],
    new: Annotated[int, typer.Argument(help="The newer version.")],
    url: OptionalUrl = None,
    api_key: ApiKey = None,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the diff as JSON.")] = False,
) -> None:
    """What changed between two versions: inputs, decisions, rules cell by cell."""
    if url:
        with _client(url, api_key) as client:
            data = _remote(lambda: client.diff(key, old, new))
        summary = data.get("summary", [])
    else:
        from registry import RegistryError, make_engine, unit_of_work
        from registry.diff import diff

        engine = make_engine(_local_url(data_dir, database_url))
        try:
            with unit_of_work(engine, read_only=True) as session:
                changes = diff(session, key, old, new)
        except RegistryError as exc:
            fail(str(exc))
        finally:
            engine.dispose()
        summary = changes.summary()
        data = {"key": key, "from_version": old, "to_version": new, "summary": summary, **changes.to_dict()}
    if as_json:
        typer.echo(to_json_text(data))
        return
    typer.echo(f"{key}: version {old} -> {new}")
    for line in summary or ["no differences"]:
        typer.echo(f"  {line}")


def remote_eval(url: str, key: str, inputs: dict[str, Any], *, api_key: str | None = None,
                alias: str | None = None, version: int | None = None, decisions: Sequence[str] | None = None,
                as_json: bool = False, idempotency_key: str | None = None) -> None:
    """Evaluate on a running service and print the answer (for `call`, and for `eval --url`)."""

    with _client(url, api_key) as client:
        answer = _remote(lambda: client.evaluate(key, inputs, alias=alias, version=version, decisions=decisions,
                                                 idempotency_key=idempotency_key))
    if as_json:
        typer.echo(to_json_text(answer))
        return
    rows = [[name, json.dumps(value, ensure_ascii=False),
             ", ".join(str(r) for r in answer["fired"].get(name, [])) or "-"]
            for name, value in answer["outputs"].items()]
    typer.echo(format_table(["decision", "value", "rules fired"], rows))
    typer.echo(f"\n{answer['key']} version {answer['version']}"
               f"{' via ' + answer['alias'] if answer.get('alias') else ''}; record {answer['decision_id']}")
    for problem in answer["problems"]:
        typer.echo(f"  {problem.get('severity')}: {problem.get('message')}")


@reports_errors
def call_command(
    key: Annotated[str, typer.Argument(help="The decision model's key.")],
    url: Url,
    api_key: ApiKey = None,
    input: Annotated[str, typer.Option("--input", "-i", help="Inputs as a JSON object, or @file.json.")] = "{}",
    alias: Annotated[str | None, typer.Option("--alias", help="Evaluate the version of this alias.")] = None,
    version: Annotated[int | None, typer.Option("--version", help="Evaluate this version.")] = None,
    decision: Annotated[list[str] | None, typer.Option("--decision", "-d", help="Only this decision.")] = None,
    idempotency_key: Annotated[str | None, typer.Option("--idempotency-key")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the answer as JSON.")] = False,
) -> None:
    """Evaluate a published decision on a running service."""
    inputs = read_json_argument(input)
    if not isinstance(inputs, dict):
        fail(f"input must be a JSON object of input names to values, not {type(inputs).__name__}")
    remote_eval(url, key, inputs, api_key=api_key, alias=alias, version=version, decisions=decision,
                as_json=as_json, idempotency_key=idempotency_key)


def register(app: typer.Typer) -> None:
    """Add the service commands to the `decisionary` CLI."""
    app.command("serve")(serve_command)
    app.command("dev")(dev_command)
    app.command("publish")(publish_command)
    app.command("diff")(diff_command)
    app.command("call")(call_command)
    app.add_typer(db_app, name="db")
    app.add_typer(keys_app, name="keys")
    app.add_typer(identities_app, name="identities")
    app.add_typer(version_app, name="version")
    app.add_typer(alias_app, name="alias")
