"""The service's shared state: settings, the database engine, the compiled-model cache, the
per-worker caches of keys and resolutions, the decision record writer, and the hooks that run
inside each decision record's transaction.

One `Service` per process (per uvicorn worker); route handlers reach it through
`request.app.state.service`. Nothing here knows about HTTP.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from sqlalchemy.engine import Engine
from sqlmodel import Session

from api.caches import TimedCache
from api.model_cache import LoadedModel, ModelCache
from api.record_writer import Recorded, RecordHook, RecordWriter
from api.settings import Settings
from registry import make_engine
from registry.resolve import Resolved
from registry.views import ApiKey, DecisionRecord

__all__ = ["RecordHook", "Service"]


class RecordPreparer(Protocol):
    def wants(self, record: DecisionRecord) -> bool:
        """Whether `prepare` has work for this record (cheap: it runs on the event loop)."""

    def prepare(self, session: Session, recorded: Sequence[Recorded]) -> None:
        """The work, on the caller's worker thread, with a session for reads."""


@dataclass
class Service:
    settings: Settings
    engine: Engine
    cache: ModelCache
    record_hooks: list[RecordHook] = field(default_factory=list)
    # Before a record goes to the record writer, each preparer that `wants` it does its work on
    # the caller's worker thread: work that depends on the decision alone (the bindings' `when`
    # rules) is done there, so that it cannot hold up the writer's single thread that every
    # caller's answer waits on (execution/outbox.py, `Outbox.choose`).
    record_preparers: list[RecordPreparer] = field(default_factory=list)
    # Why a request's callback URL would be refused (None: it would not); set by the execution
    # layer from its allow-list, so a call naming a host nobody allowed fails at once (422).
    callback_refusal: Callable[[str], str | None] | None = None
    keys: TimedCache[str, ApiKey] = field(init=False)  # by the secret's hash
    resolutions: TimedCache[str, tuple[Resolved, LoadedModel]] = field(init=False)  # by "key@alias"
    writer: RecordWriter = field(init=False)

    def __post_init__(self) -> None:
        self.keys = TimedCache(self.settings.cache_seconds)
        self.resolutions = TimedCache(self.settings.cache_seconds)
        self.writer = RecordWriter(self.engine, self.record_hooks, chained=self.settings.chain_records)

    @classmethod
    def create(cls, settings: Settings, engine: Engine | None = None) -> Service:
        return cls(settings, engine or make_engine(settings.database_url), ModelCache(settings.model_cache_size))

    def registry_changed(self) -> None:
        """Something this worker changed (a key, an alias, a publication): forget what was cached."""
        self.keys.clear()
        self.resolutions.clear()

    def close(self) -> None:
        self.writer.close()
        self.engine.dispose()
