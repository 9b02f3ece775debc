"""`decisionary dev` (what `make run` starts): the service on 127.0.0.1:8000 with the examples,
a worker and the example receiver.

1. migrate the SQLite database under ./data;
2. the admin API key: the one kept in data/dev-admin-key (readable by its owner only, 0600)
   while it is still an active admin key of this database, else a new one, kept there;
3. publish every model in examples/ (*.dmn, *.yaml, *.yml) with its bindings
   (examples/bindings/<name>.yaml, attached to the draft before it is submitted) through the
   full lifecycle, author "examples", approver "examples-approver", and point its production
   alias at it. One file is a key's source: when several declare the same key (loan-approval.dmn
   and loan-approval.yaml are one model in two forms), the DMN file is published, as the studio
   edits DMN, and the others are skipped. A restart with unchanged files publishes nothing and
   moves no alias: a model is published again only when its content hash or its bindings differ
   from the latest version the examples published, and production then moves to it (a version
   published since by someone else keeps production);
   then, once per database, load six months of synthetic `loan-approval` history (audit/
   synthetic.py: decisions, a challenger, a drift, reviews, workflow runs and outcomes), so the
   report, the notebooks and the metrics show something real on first start;
4. start the example receiver (127.0.0.1:8001, which the example bindings call) and a worker on
   the same database, as child processes of this one (api/dev_processes.py): they stop when it
   stops, Ctrl-C included, and their output shows with a `[receiver]` / `[worker]` prefix;
5. print the URLs, the key, the webhook secret and a `curl` to try, and serve until interrupted.

The dev run allows calls to 127.0.0.1 (added to DECISIONARY_ALLOWED_HOSTS, which the worker and
the service read) and signs them with DECISIONARY_WEBHOOK_SECRET, or when that is not set with a
secret made up for the run and printed (the receiver checks signatures with the same secret).
"""

from __future__ import annotations

import json
import os
import re
import secrets
import signal
import sys
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine

import decisions
from decisions.errors import DecisionsError
from execution.bindings_store import get_bindings
from execution.config import ExecutionConfig
from execution.examples import EXAMPLE_RECEIVER, attach_example_bindings, example_bindings_hash
from registry import (
    PRODUCTION,
    RegistryError,
    approve,
    create_draft,
    create_key,
    get_alias,
    list_versions,
    make_engine,
    publish,
    set_alias,
    submit,
    unit_of_work,
    upgrade,
    verify_key,
)
from registry.content import content_hash, detect_format
from registry.errors import NotFound

ADMIN_KEY_FILE = "dev-admin-key"  # next to the dev database
AUTHOR = "examples"
APPROVER = "examples-approver"
MODEL_SUFFIXES = (".dmn", ".yaml", ".yml")
RECEIVER_PORT = 8001
_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
# The loan-approval example input; its answer is Approve with a limit of 25,000.
LOAN_INPUTS = {"Applicant Age": 35, "Monthly Income": 5200, "Monthly Debt": 1100, "Credit Score": 712,
               "Employment Status": "Employed", "Requested Amount": 25000}


@dataclass
class Published:
    key: str
    number: int
    path: Path
    new: bool
    bindings: bool = False
    production: int | None = None  # where production points afterwards


def model_key(path: Path) -> str:
    """The registry key of an example: the key (or name) its model declares, else its file name."""
    try:
        definitions = decisions.read_definitions(path)
        key = definitions.key or definitions.name
    except DecisionsError:
        key = ""
    if key and _KEY.fullmatch(key):
        return key
    return re.sub(r"[^A-Za-z0-9._-]+", "-", path.stem).strip("-.") or "model"


def example_sources(folder: Path, *, say: Callable[[str], None] = print) -> list[tuple[str, Path]]:
    """(key, file) of each model in `folder`, one file per key: by suffix, .dmn before .yaml
    before .yml (see the module docstring); files that are not usable models are skipped."""
    chosen: dict[str, Path] = {}
    for path in sorted((p for p in folder.iterdir() if p.suffix.lower() in MODEL_SUFFIXES),
                       key=lambda p: (MODEL_SUFFIXES.index(p.suffix.lower()), p.name)):
        try:
            decisions.load(path)
        except DecisionsError as exc:
            say(f"  skipped {path.name}: not a usable model ({str(exc).splitlines()[0]})")
            continue
        key = model_key(path)
        if key in chosen:
            say(f"  skipped {path.name}: {key} is published from {chosen[key].name}")
            continue
        chosen[key] = path
    return sorted(((key, path) for key, path in chosen.items()), key=lambda item: item[1].name)


def publish_examples(engine: Engine, folder: Path, *, say: Callable[[str], None] = print,
                     receiver_url: str | None = None, config: ExecutionConfig | None = None) -> list[Published]:
    """Publish each model of `folder` and point its production alias at it (see module docstring).

    `receiver_url`: publish each model with its example bindings, calling the example receiver
    there; None: without bindings. `config`: check the bindings' URLs against its allow-list.
    """
    done: list[Published] = []
    for key, path in example_sources(folder, say=say):
        try:
            done.append(_publish_one(engine, key, path, path.read_bytes(), receiver_url, config))
        except RegistryError as exc:
            say(f"  skipped {path.name}: {exc}")
    return done


def _publish_one(engine: Engine, key: str, path: Path, data: bytes, receiver_url: str | None,
                 config: ExecutionConfig | None) -> Published:
    fmt = detect_format(data, path.name)
    digest, _ = content_hash(data, fmt)
    wanted = example_bindings_hash(path, receiver_url) if receiver_url is not None else None
    with unit_of_work(engine) as session:
        try:
            ours = [v for v in list_versions(session, key) if v.author == AUTHOR]
        except NotFound:
            ours = []
        latest = ours[-1] if ours else None
        if (latest is not None and latest.state == "published" and latest.content_hash == digest
                and get_bindings(session, key, latest.number).hash == wanted):
            number, new = latest.number, False
        else:
            version = create_draft(session, key, data, author=AUTHOR, format=fmt, filename=path.name,
                                   comment=f"published from {path.name} by the dev server")
            number, new = version.number, True
            if receiver_url is not None:
                attach_example_bindings(session, key, number, path, by=AUTHOR, receiver_url=receiver_url,
                                        config=config)
            submit(session, key, number, by=AUTHOR)
            approve(session, key, number, by=APPROVER, comment="example")
            publish(session, key, number, by=APPROVER)
        try:
            production: int | None = get_alias(session, key, PRODUCTION).number
        except NotFound:
            production = None
        if new or production is None:
            production = set_alias(session, key, PRODUCTION, number, by=APPROVER, why="dev server start").number
    return Published(key, number, path, new, wanted is not None, production)


def prepare(data_dir: Path, examples: Path, *, say: Callable[[str], None] = print,
            receiver_url: str | None = EXAMPLE_RECEIVER, config: ExecutionConfig | None = None,
            published: list[Published] | None = None, history: bool = False) -> tuple[str, str]:
    """Steps 1-3: returns (database URL, the admin key); `published` collects what was published;
    `history`: load the synthetic history when the database has none."""
    url = f"sqlite:///{(data_dir / 'decisionary.db').resolve()}"
    upgrade(url)
    engine = make_engine(url)
    try:
        secret = dev_admin_key(engine, data_dir / ADMIN_KEY_FILE)
        if examples.is_dir():
            say(f"publishing the models in {examples}/ ...")
            for item in publish_examples(engine, examples, say=say, receiver_url=receiver_url, config=config):
                state = "published" if item.new else "already published"
                extra = " with its bindings" if item.bindings else ""
                say(f"  {item.key} version {item.number} ({item.path.name}{extra}): {state}, "
                    f"production -> {item.production}")
                if published is not None:
                    published.append(item)
        if history:
            load_history(engine, say=say)
    finally:
        engine.dispose()
    return url, secret


def dev_admin_key(engine: Engine, path: Path) -> str:
    """The dev run's admin key: the secret kept at `path` while it is an active admin key of this
    database (a restart reuses it, so no key piles up per start), else a new one, written there
    readable by its owner only. A key revoked meanwhile, or a file from another database, is
    replaced."""
    kept = _read_secret(path)
    with unit_of_work(engine) as session:
        if kept is not None:
            key = verify_key(session, kept)
            if key is not None and key.role == "admin":
                return kept
        _, secret = create_key(session, "local-admin", "admin", by="decisionary dev")
    _write_secret(path, secret)
    return secret


def _read_secret(path: Path) -> str | None:
    try:
        text = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return text or None


def _write_secret(path: Path, secret: str) -> None:
    """Write the secret readable and writable by its owner only (0600), whatever the umask."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)  # a file left by an older run may have had other permissions
        os.write(fd, (secret + "\n").encode("ascii"))
    finally:
        os.close(fd)


def load_history(engine: Engine, key: str = "loan-approval", *, say: Callable[[str], None] = print) -> None:
    """The synthetic history of `key`, once: a database that has it already is left alone."""
    from audit.synthetic import CHALLENGERS, generate_history, has_history

    if has_history(engine, key):
        say(f"synthetic history of {key}: already loaded")
        return
    try:
        with unit_of_work(engine, read_only=True) as session:
            list_versions(session, key, state="published")
    except NotFound:
        say(f"synthetic history: no published {key} model to decide it with; skipped")
        return
    if not (CHALLENGERS / f"{key}.yaml").is_file():
        say(f"synthetic history: no challenger for {key} in {CHALLENGERS}; skipped")
        return
    say(f"loading six months of synthetic {key} history (once) ...")
    say(f"  {generate_history(engine, key)}")


def dev_environment(receiver_port: int, env: MutableMapping[str, str] | None = None) -> dict[str, str]:
    """The execution settings of a dev run, set in `env` (os.environ by default) and returned.

    127.0.0.1 is allowed (added to DECISIONARY_ALLOWED_HOSTS when that is set and lacks it);
    DECISIONARY_WEBHOOK_SECRET is kept, else made up for this run.
    """
    if env is None:
        env = os.environ
    allowed = [h.strip() for h in env.get("DECISIONARY_ALLOWED_HOSTS", "").split(",") if h.strip()]
    if not ExecutionConfig(allowed_hosts=tuple(h.lower() for h in allowed)).host_allowed("127.0.0.1", receiver_port):
        allowed.append("127.0.0.1")
    env["DECISIONARY_ALLOWED_HOSTS"] = ",".join(allowed)
    if not env.get("DECISIONARY_WEBHOOK_SECRET"):
        env["DECISIONARY_WEBHOOK_SECRET"] = "dev-" + secrets.token_hex(12)
    return {"DECISIONARY_ALLOWED_HOSTS": env["DECISIONARY_ALLOWED_HOSTS"],
            "DECISIONARY_WEBHOOK_SECRET": env["DECISIONARY_WEBHOOK_SECRET"]}


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "api.cli", *args]


def _interrupt(signum: int, _frame: Any) -> None:
    raise KeyboardInterrupt  # SIGTERM stops the dev run as Ctrl-C does: children stopped first


def run_dev(host: str = "127.0.0.1", port: int = 8000, *, data_dir: Path = Path("data"),
            examples: Path = Path("examples"), receiver_port: int = RECEIVER_PORT, worker: bool = True,
            receiver: bool = True, history: bool = True) -> None:
    import uvicorn

    from api.app import create_app
    from api.dev_processes import Child, ChildFailed, Children
    from api.settings import Settings

    signal.signal(signal.SIGTERM, _interrupt)
    settings = dev_environment(receiver_port)
    receiver_url = f"http://127.0.0.1:{receiver_port}"
    children = Children()
    try:
        published: list[Published] = []
        url, key = prepare(data_dir, examples, receiver_url=receiver_url, config=ExecutionConfig.from_env(),
                           published=published, history=history)
        try:
            if receiver:
                children.start(Child("receiver", _cli("example-receiver", "--host", "127.0.0.1", "--port",
                                                      str(receiver_port)), os.environ,
                                     ready_text="receiving on", stop_signal=signal.SIGTERM, stop_seconds=10))
                children.started[-1].wait_ready(60)
            if worker:
                children.start(Child("worker", _cli("worker", "--database-url", url, "--no-migrate"), os.environ,
                                     stop_signal=signal.SIGTERM, stop_seconds=30))
        except ChildFailed as exc:
            hint = (f"\n(is port {receiver_port} taken? choose another with --receiver-port, or --no-receiver)"
                    if "Address already in use" in str(exc) else "")
            print(f"error: {exc}{hint}", file=sys.stderr)
            raise SystemExit(1) from None
        print(banner(host, port, key, settings, receiver_url if receiver else None, worker, published))
        uvicorn.run(create_app(Settings(database_url=url, public_docs=True)), host=host, port=port, log_level="info")
    except KeyboardInterrupt:
        pass
    finally:
        if children.started:
            names = " and the ".join(child.name for child in reversed(children.started))
            print(f"stopping the {names} ...", file=sys.stderr, flush=True)
        children.stop()


def banner(host: str, port: int, key: str, settings: dict[str, str], receiver_url: str | None, worker: bool,
           published: list[Published]) -> str:
    """What the dev run prints once it is set up: where everything is, and a call to try."""
    shown = "localhost" if host in ("0.0.0.0", "::") else host
    cli = sys.argv[0] if Path(sys.argv[0]).name == "decisionary" else "decisionary"
    base = f"http://{shown}:{port}"
    lines = [
        "",
        f"Decisionary is starting on {base}",
        f"  API docs:  {base}/docs",
        f"  admin key: {key}   (kept for the next start in {ADMIN_KEY_FILE} beside the database, "
        "readable only by you)",
    ]
    if receiver_url:
        lines.append(f"  receiver:  {receiver_url}   (the example bindings' lender and chat; "
                     "prints what it gets, lines [receiver])")
    lines.append("  worker:    " + ("running on the same database (lines [worker])" if worker
                                    else "not started (--no-worker): workflows wait in the queue"))
    lines.append(f"  allowed hosts: {settings['DECISIONARY_ALLOWED_HOSTS']}   "
                 f"webhook secret: {settings['DECISIONARY_WEBHOOK_SECRET']}")
    loan = next((p for p in published if p.key == "loan-approval" and p.bindings), None)
    if loan is None:
        lines += [f"  try:       curl -H 'Authorization: Bearer {key}' {base}/v1/models", ""]
        return "\n".join(lines)
    body = json.dumps({"inputs": LOAN_INPUTS})
    lines += [
        "",
        "Try it: this applicant is approved, and the receiver prints the lender's callback",
        "(POST /lender/decisions, outcome approved, credit_limit 25000):",
        f"  curl -s -X POST {base}/v1/decisions/loan-approval/evaluate \\",
        f"    -H 'Authorization: Bearer {key}' -H 'Content-Type: application/json' \\",
        f"    -d '{body}'",
        "With \"Requested Amount\": 45000 the answer is Refer and an underwriting review task opens:",
        f"  {cli} reviews list --url {base} --api-key {key}",
        f"  {cli} reviews decide TASK_ID --outcome approve --reason ok --url {base} --api-key {key}",
        "With \"Credit Score\": 540 it is Reject, and the receiver prints the rejection.",
        "",
    ]
    return "\n".join(lines)
