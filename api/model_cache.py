"""Compiled models kept in memory: a published version is compiled once, then only evaluated.

Entries are keyed by (model key, content hash): a version's content never changes once
submitted, so an entry never goes stale. The least recently used entry goes when the cache
is full. Two threads may compile the same version at once; both results are equal and the
second simply replaces the first.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field

from api.typed import ModelSchemas, camel
from decisions.compiled import Model
from registry.content import check_format, load_model
from registry.views import Version


@dataclass
class LoadedModel:
    key: str
    content_hash: str
    model: Model
    _schemas: ModelSchemas | None = field(default=None, repr=False)

    @property
    def schemas(self) -> ModelSchemas:
        """The model's input and output types as pydantic models (built on first use)."""
        if self._schemas is None:
            self._schemas = ModelSchemas(self.model, camel(self.key))
        return self._schemas


class ModelCache:
    def __init__(self, size: int = 64) -> None:
        self.size = max(1, size)
        self._entries: OrderedDict[tuple[str, str], LoadedModel] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, version: Version) -> LoadedModel:
        """The compiled model of `version`; raises decisions' ModelError if it does not load."""
        cache_key = (version.key, version.content_hash)
        with self._lock:
            entry = self._entries.get(cache_key)
            if entry is not None:
                self._entries.move_to_end(cache_key)
                return entry
        model = load_model(version.content, check_format(version.format))
        entry = LoadedModel(version.key, version.content_hash, model)
        with self._lock:
            self._entries[cache_key] = entry
            self._entries.move_to_end(cache_key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)
        return entry

    def __len__(self) -> int:
        return len(self._entries)
