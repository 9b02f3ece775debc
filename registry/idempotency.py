"""Idempotency: the same (caller, idempotency key) always gets the first answer.

The entry maps (caller, key) to the hash of the request it answered and the id of the decision
record that holds the answer. The same key with a different request is a Conflict: a client
bug that silently returning the old answer would hide. Entries are written by
`records.record_decision` in the same transaction as the record.

A batch (evaluate-batch, evaluate-csv) keeps its whole answer instead, in `idempotent_batches`:
`claim_batch` inserts the entry first in the transaction that writes the batch's records (so a
concurrent retry waits on it, then finds it), and `keep_batch_answer` stores the answer before
that transaction commits. One key names one request, whichever of the two tables holds it.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from registry.errors import Conflict, Invalid
from registry.tables import DecisionRecordRow, IdempotencyRow, IdempotentBatchRow
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
        if session.get(IdempotentBatchRow, (caller, key)) is not None:
            raise Conflict(f"idempotency key {key!r} was already used by {caller} for a batch; use a new key "
                           "for a new request")
        return None
    if entry.request_hash != request_hash:
        raise Conflict(f"idempotency key {key!r} was already used by {caller} for a different request "
                       f"(recorded as {entry.record_id}); use a new key for a new request")
    record = session.get(DecisionRecordRow, entry.record_id)
    if record is None:  # pragma: no cover - the foreign key keeps the record
        return None
    return DecisionRecord.of(record)


class DuplicateBatch(Conflict):
    """A concurrent request with the same key and body recorded its batch first: its answer."""

    def __init__(self, message: str, answer: Any) -> None:
        super().__init__(message)
        self.answer = answer


def lookup_batch(session: Session, caller: str, key: str, request_hash: str) -> Any | None:
    """The answer that first answered the batch (caller, key), None if the key is new.

    Raises Conflict when the key was used for another request (a batch or a single call)."""
    check_idempotency_key(key)
    entry = session.get(IdempotentBatchRow, (caller, key))
    if entry is None:
        if session.get(IdempotencyRow, (caller, key)) is not None:
            raise Conflict(f"idempotency key {key!r} was already used by {caller} for a single evaluation; "
                           "use a new key for a new request")
        return None
    if entry.request_hash != request_hash:
        raise Conflict(f"idempotency key {key!r} was already used by {caller} for a different batch; "
                       "use a new key for a new request")
    return entry.answer


def claim_batch(session: Session, caller: str, key: str, request_hash: str) -> None:
    """Insert the batch's entry (without its answer yet) in `session`'s transaction. A concurrent
    request that inserted it first: DuplicateBatch with its answer (same request) or Conflict."""
    check_idempotency_key(key)
    try:
        with session.begin_nested():
            session.add(IdempotentBatchRow(caller=caller, key=key, request_hash=request_hash))
            session.flush()
    except IntegrityError:
        existing = session.get(IdempotentBatchRow, (caller, key), populate_existing=True)
        if existing is None:
            raise
        if existing.request_hash != request_hash:
            raise Conflict(f"idempotency key {key!r} was already used by {caller} for a different batch") from None
        raise DuplicateBatch(f"idempotency key {key!r} was answered by a concurrent batch", existing.answer) from None
    if session.get(IdempotencyRow, (caller, key)) is not None:
        raise Conflict(f"idempotency key {key!r} was already used by {caller} for a single evaluation; "
                       "use a new key for a new request")


def keep_batch_answer(session: Session, caller: str, key: str, answer: Any) -> None:
    entry = session.get(IdempotentBatchRow, (caller, key))
    if entry is None:  # pragma: no cover - claim_batch inserted it in this transaction
        raise Invalid(f"no batch entry for idempotency key {key!r}")
    entry.answer = answer
    session.add(entry)
    session.flush()
