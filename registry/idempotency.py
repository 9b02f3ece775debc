"""Idempotency: the same (caller, idempotency key) always gets the first answer.

The entry maps (caller, key) to the hash of the request it answered and the id of the decision
record that holds the answer. The same key with a different request is a Conflict: a client
bug that silently returning the old answer would hide. Entries are written by
`records.record_decision` in the same transaction as the record.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlmodel import Session

from registry.errors import Conflict, Invalid
from registry.tables import DecisionRecordRow, IdempotencyRow
from registry.views import DecisionRecord

MAX_KEY_LENGTH = 200


def request_hash(body: Any) -> str:
    """SHA-256 of a request body as canonical JSON (sorted keys, no spaces): key order and
    formatting do not make two requests different."""
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def check_idempotency_key(key: str) -> str:
    if not isinstance(key, str) or not key.strip() or len(key) > MAX_KEY_LENGTH:
        raise Invalid(f"an idempotency key is 1-{MAX_KEY_LENGTH} characters")
    return key


def lookup(session: Session, caller: str, key: str, request_hash: str) -> DecisionRecord | None:
    """The record that first answered (caller, key), None if the key is new.

    Raises Conflict when the key was used for a different request.
    """
    check_idempotency_key(key)
    entry = session.get(IdempotencyRow, (caller, key))
    if entry is None:
        return None
    if entry.request_hash != request_hash:
        raise Conflict(f"idempotency key {key!r} was already used by {caller} for a different request "
                       f"(recorded as {entry.record_id}); use a new key for a new request")
    record = session.get(DecisionRecordRow, entry.record_id)
    if record is None:  # pragma: no cover - the foreign key keeps the record
        return None
    return DecisionRecord.of(record)
