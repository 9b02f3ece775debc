"""The service's shared state: settings, the database engine, the compiled-model cache, and the
hooks that run inside each decision record's transaction.

One `Service` per process (per uvicorn worker); route handlers reach it through
`request.app.state.service`. Nothing here knows about HTTP.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.engine import Engine
from sqlmodel import Session

from api.model_cache import ModelCache
from api.settings import Settings
from decisions.result import EvaluationResult
from registry import make_engine
from registry.views import DecisionRecord

# Runs in the transaction that writes the record, after it: a later layer queues the decision's
# actions here (transactional outbox), and they commit together with the record or not at all.
# The last argument is the callback URL the request named, if any.
RecordHook = Callable[[Session, DecisionRecord, EvaluationResult, str | None], None]


@dataclass
class Service:
    settings: Settings
    engine: Engine
    cache: ModelCache
    record_hooks: list[RecordHook] = field(default_factory=list)

    @classmethod
    def create(cls, settings: Settings, engine: Engine | None = None) -> Service:
        return cls(settings, engine or make_engine(settings.database_url), ModelCache(settings.model_cache_size))

    def close(self) -> None:
        self.engine.dispose()
