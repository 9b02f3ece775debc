"""`decisionary dev` (what `make run` starts): the service on 127.0.0.1:8000 with the examples.

1. migrate the SQLite database under ./data;
2. create an admin API key and print it (a new one each start; it is stored as a hash only);
3. publish every model in examples/ (*.dmn, *.yaml, *.yml) through the full lifecycle, author
   "examples", approver "examples-approver", and point its production alias at it; a model
   whose content is already published is left as it is;
4. print the URL, the docs URL and the key, and serve until interrupted.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import Engine

import decisions
from decisions.errors import DecisionsError
from registry import (
    PRODUCTION,
    RegistryError,
    approve,
    create_draft,
    create_key,
    list_versions,
    make_engine,
    publish,
    set_alias,
    submit,
    unit_of_work,
    upgrade,
)
from registry.content import content_hash, detect_format
from registry.errors import NotFound

AUTHOR = "examples"
APPROVER = "examples-approver"
MODEL_SUFFIXES = (".dmn", ".yaml", ".yml")
_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")


@dataclass
class Published:
    key: str
    number: int
    path: Path
    new: bool


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


def publish_examples(engine: Engine, folder: Path, *, say: Callable[[str], None] = print) -> list[Published]:
    """Publish each model of `folder` and point its production alias at it (see module docstring)."""
    done: list[Published] = []
    for path in sorted(p for p in folder.iterdir() if p.suffix.lower() in MODEL_SUFFIXES):
        data = path.read_bytes()
        try:
            decisions.load(path)
        except DecisionsError as exc:
            say(f"  skipped {path.name}: not a usable model ({str(exc).splitlines()[0]})")
            continue
        key = model_key(path)
        try:
            done.append(_publish_one(engine, key, path, data))
        except RegistryError as exc:
            say(f"  skipped {path.name}: {exc}")
    return done


def _publish_one(engine: Engine, key: str, path: Path, data: bytes) -> Published:
    fmt = detect_format(data, path.name)
    digest, _ = content_hash(data, fmt)
    with unit_of_work(engine) as session:
        try:
            existing = [v for v in list_versions(session, key, state="published") if v.content_hash == digest]
        except NotFound:
            existing = []
        if existing:
            number, new = existing[-1].number, False
        else:
            version = create_draft(session, key, data, author=AUTHOR, format=fmt, filename=path.name,
                                   comment=f"published from {path.name} by the dev server")
            number, new = version.number, True
            submit(session, key, number, by=AUTHOR)
            approve(session, key, number, by=APPROVER, comment="example")
            publish(session, key, number, by=APPROVER)
        set_alias(session, key, PRODUCTION, number, by=APPROVER, why="dev server start")
    return Published(key, number, path, new)


def prepare(data_dir: Path, examples: Path, *, say: Callable[[str], None] = print) -> tuple[str, str]:
    """Steps 1-3: returns (database URL, the new admin key)."""
    url = f"sqlite:///{(data_dir / 'decisionary.db').resolve()}"
    upgrade(url)
    engine = make_engine(url)
    try:
        with unit_of_work(engine) as session:
            _, secret = create_key(session, "local-admin", "admin", by="decisionary dev")
        if examples.is_dir():
            say(f"publishing the models in {examples}/ ...")
            for item in publish_examples(engine, examples, say=say):
                state = "published" if item.new else "already published"
                say(f"  {item.key} version {item.number} ({item.path.name}): {state}, production -> {item.number}")
    finally:
        engine.dispose()
    return url, secret


def run_dev(host: str = "127.0.0.1", port: int = 8000, *, data_dir: Path = Path("data"),
            examples: Path = Path("examples")) -> None:
    import uvicorn

    from api.app import create_app
    from api.settings import Settings

    url, secret = prepare(data_dir, examples)
    base = f"http://{host}:{port}"
    print(f"\nDecisionary is starting on {base}")
    print(f"  API docs:  {base}/docs")
    print(f"  admin key: {secret}   (shown once; stored only as a hash)")
    print(f"  try:       curl -H 'Authorization: Bearer {secret}' {base}/v1/models\n")
    uvicorn.run(create_app(Settings(database_url=url)), host=host, port=port, log_level="info")
