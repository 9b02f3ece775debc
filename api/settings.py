"""The service's settings, read once from the environment (so that every uvicorn worker, started
from an import string, configures itself the same way)."""

from __future__ import annotations

import os
from dataclasses import dataclass

from decisions.limits import MAX_CALL_SECONDS
from registry.db import default_url

MIB = 1024 * 1024


def _int_env(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ValueError(f"{name} must be a whole number, not {raw!r}") from None


def _float_env(name: str, default: float) -> float:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{name} must be a number of seconds, not {raw!r}") from None
    if not 0 <= value <= 3600:
        raise ValueError(f"{name} must be between 0 and 3600 seconds, not {raw!r}")
    return value


@dataclass(frozen=True)
class Settings:
    database_url: str
    max_json_bytes: int = 1 * MIB  # JSON bodies
    max_upload_bytes: int = 10 * MIB  # multipart uploads (models, CSV files)
    max_batch_rows: int = 10_000
    # Batches (evaluate-batch, evaluate-csv) a worker process runs at once, and how many more wait
    # their turn; beyond that a batch is answered 503 with Retry-After (api/batch_gate.py).
    batch_concurrency: int = 1
    batch_queue: int = 4
    model_cache_size: int = 64  # compiled models kept in memory, by content hash
    # How long a worker trusts what it looked up about a key or an alias (api/caches.py): a key
    # revoked or an alias moved elsewhere takes effect in every worker within this time.
    cache_seconds: float = 1.0
    # Link every decision record into a hash chain (registry/chain.py). Off only to measure what
    # the chain costs: records written without it are not tamper-evident.
    chain_records: bool = True
    # Whether /openapi.json and /docs show the typed operation of every published decision (its
    # key, input and output types) to callers without an API key. Off in production: without a
    # key the document describes the generic API only. `decisionary dev` turns it on.
    public_docs: bool = False
    # The most one evaluate call may take (seconds): the evaluation's budget stops it there and the
    # call is answered 503 (decisions/limits.py, MAX_CALL_SECONDS).
    evaluation_seconds: float = MAX_CALL_SECONDS

    @classmethod
    def from_env(cls) -> Settings:
        """DECISIONARY_DATABASE_URL (else SQLite under DECISIONARY_DATA_DIR), and the limits."""
        return cls(
            database_url=default_url(),
            max_json_bytes=_int_env("DECISIONARY_MAX_JSON_BYTES", 1 * MIB),
            max_upload_bytes=_int_env("DECISIONARY_MAX_UPLOAD_BYTES", 10 * MIB),
            max_batch_rows=_int_env("DECISIONARY_MAX_BATCH_ROWS", 10_000),
            batch_concurrency=_int_env("DECISIONARY_BATCH_CONCURRENCY", 1),
            batch_queue=_int_env("DECISIONARY_BATCH_QUEUE", 4),
            model_cache_size=_int_env("DECISIONARY_MODEL_CACHE_SIZE", 64),
            cache_seconds=_float_env("DECISIONARY_CACHE_SECONDS", 1.0),
            chain_records=os.environ.get("DECISIONARY_CHAIN_RECORDS", "on").strip().lower() not in ("off", "0", "false"),
            public_docs=os.environ.get("DECISIONARY_PUBLIC_DOCS", "off").strip().lower() in ("on", "1", "true"),
            evaluation_seconds=_float_env("DECISIONARY_EVALUATION_SECONDS", MAX_CALL_SECONDS),
        )
