"""Bindings attached to a model version: stored beside its content, with the same lifecycle.

A version's bindings (YAML text and its hash) live in two columns of the registry's `versions`
table. Like the content, they can be attached, replaced or removed by the version's author
while it is a draft, and are frozen from `submitted` on (the database refuses the change too),
so a workflow change goes through the same review and publish as a decision change. The
version's content hash is left as the registry computes it; the pair (content hash, bindings
hash) identifies what ran, and every workflow run stores both.

`LoadedVersions` compiles a version's bindings once per process (they never change once
submitted) for the outbox and the workers.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from decisions.compiled import Model
from execution.bindings import bindings_hash, parse_bindings
from execution.config import ExecutionConfig
from execution.tables import VERSION_BINDINGS
from execution.workflow import Bindings
from registry.content import check_format, load_model
from registry.errors import Conflict, Forbidden, NotFound
from registry.models_store import check_key
from registry.tables import ModelRow, utcnow

V = VERSION_BINDINGS


@dataclass(frozen=True)
class AttachedBindings:
    key: str
    number: int
    state: str
    text: str | None
    hash: str | None

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "number": self.number, "state": self.state, "bindings": self.text,
                "bindings_hash": self.hash}


def _version(session: Session, key: str, number: int, *, lock: bool = False) -> Any:
    check_key(key)
    query = (sa.select(V.c.id, V.c.number, V.c.state, V.c.author, V.c.content, V.c.format, V.c.content_hash,
                       V.c.bindings, V.c.bindings_hash)
             .select_from(V.join(ModelRow.__table__, ModelRow.__table__.c.id == V.c.model_id))  # type: ignore[attr-defined]
             .where(ModelRow.__table__.c.key == key, V.c.number == number))  # type: ignore[attr-defined]
    if lock:
        query = query.with_for_update(of=V)
    row = session.execute(query).first()
    if row is None:
        raise NotFound(f"{key} has no version {number}")
    return row


def get_bindings(session: Session, key: str, number: int) -> AttachedBindings:
    row = _version(session, key, number)
    return AttachedBindings(key, number, row.state, row.bindings, row.bindings_hash)


def attach_bindings(session: Session, key: str, number: int, text: str | None, *, by: str,
                    config: ExecutionConfig | None = None) -> AttachedBindings:
    """Attach (replace; None: remove) a draft's bindings after validating them against its model.

    Only the draft's author may; BindingsInvalid lists every located problem; the model must load.
    """
    row = _version(session, key, number, lock=True)
    if row.state != "draft":
        raise Conflict(f"{key} version {number} is {row.state}: its bindings are immutable like its content; "
                       "create a new draft to change them")
    if by != row.author:
        raise Forbidden(f"{key} version {number} is {row.author}'s draft: only its author may change its bindings")
    digest = None
    if text is not None:
        model = load_model(row.content, check_format(row.format))
        parse_bindings(text, input_names=model.input_names, decision_names=model.decision_names,
                       config=config, file=f"{key} version {number} bindings")
        digest = bindings_hash(text)
    session.execute(sa.update(V).where(V.c.id == row.id)
                    .values(bindings=text, bindings_hash=digest, updated_at=utcnow()))
    session.flush()
    return AttachedBindings(key, number, row.state, text, digest)


@dataclass(frozen=True)
class LoadedVersion:
    """A version's compiled model and bindings (None when it has none)."""

    key: str
    number: int
    content_hash: str
    bindings: Bindings | None
    model: Model

    @property
    def bindings_hash(self) -> str | None:
        return self.bindings.hash if self.bindings is not None else None


class LoadedVersions:
    """Compiled versions by (key, number, content hash), least recently used out when full.

    Safe to share between threads. Bindings are parsed with the model's names but without the
    allow-list (checked when attached, and again at send time).
    """

    def __init__(self, size: int = 64) -> None:
        self.size = size
        self._entries: OrderedDict[tuple[str, int, str], LoadedVersion] = OrderedDict()
        self._models: OrderedDict[str, Model] = OrderedDict()
        self._lock = threading.Lock()

    def cached(self, key: str, number: int, content_hash: str) -> LoadedVersion | None:
        """The version if it is loaded already (no database read), else None."""
        with self._lock:
            return self._entries.get((key, number, content_hash))

    def get(self, session: Session, key: str, number: int, content_hash: str | None = None) -> LoadedVersion:
        if content_hash is not None:
            with self._lock:
                entry = self._entries.get((key, number, content_hash))
                if entry is not None:
                    self._entries.move_to_end((key, number, content_hash))
                    return entry
        row = _version(session, key, number)
        cache_key = (key, number, row.content_hash)
        with self._lock:
            entry = self._entries.get(cache_key)
        if entry is not None:
            return entry
        model = self.model(row.content_hash, row.content, row.format)
        bindings = None
        if row.bindings:
            bindings = parse_bindings(row.bindings, input_names=model.input_names,
                                      decision_names=model.decision_names, file=f"{key} version {number} bindings")
        entry = LoadedVersion(key, number, row.content_hash, bindings, model)
        with self._lock:
            self._entries[cache_key] = entry
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)
        return entry

    def model(self, content_hash: str, content: bytes, fmt: str) -> Model:
        with self._lock:
            model = self._models.get(content_hash)
        if model is None:
            model = load_model(content, check_format(fmt))
            with self._lock:
                self._models[content_hash] = model
                while len(self._models) > self.size:
                    self._models.popitem(last=False)
        return model
