"""Decision records: every evaluation leaves one.

`record_decision` writes into the caller's session and does not commit, so the execution layer
can add the decision's pending actions in the same transaction (a transactional outbox):

    with unit_of_work(engine) as session:
        earlier = idempotency.lookup(session, caller, idem_key, req_hash)  # the first answer, if any
        if earlier is None:
            record = record_decision(session, key=..., ..., idempotency_key=idem_key, request_hash=req_hash)
            outbox.add(session, record.id, actions)    # commits together with the record, or not at all

Values are stored as JSON: FEEL values (Decimal, dates, durations) are converted with
`decisions.feel.values.to_json` when they are not JSON already.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from registry.bulk import Rows, insert_all
from registry.chain import HEADS, append_shared, chain_on_commit
from registry.errors import Conflict, DuplicateRequest, Invalid, NotFound
from registry.idempotency import check_idempotency_key
from registry.ids import new_ulid
from registry.models_store import check_key
from registry.tables import DecisionRecordRow, IdempotencyRow, utcnow
from registry.views import DecisionRecord

_RECORDS = DecisionRecordRow.__table__  # type: ignore[attr-defined]


def record_decision(
    session: Session,
    *,
    key: str,
    version: int,
    content_hash: str,
    inputs: Mapping[str, Any],
    outputs: Mapping[str, Any],
    fired: Mapping[str, Sequence[int]] | None = None,
    problems: Sequence[Any] | None = None,
    latency_us: int,
    alias: str | None = None,
    caller: str | None = None,
    idempotency_key: str | None = None,
    request_hash: str | None = None,
    created_at: datetime | None = None,
    fired_ids: Mapping[str, Sequence[str]] | None = None,
    business_key: str | None = None,
    arm: str | None = None,
    shadow_of: str | None = None,
    reasons: Mapping[str, Sequence[Any]] | None = None,
) -> DecisionRecord:
    """Write one decision record (and its idempotency entry) in `session`, without committing.

    The record is linked into the shared hash chain when the session commits (registry/chain.py).

    With an idempotency key (which needs a caller and a request hash): if a concurrent request
    recorded the same key first, raises DuplicateRequest (same request: answer with its record)
    or Conflict (a different request).
    """
    check_key(key)
    row = DecisionRecordRow(
        id=new_ulid(), model_key=key, version=version, content_hash=content_hash, alias=alias,
        inputs=_json("inputs", dict(inputs)), outputs=_json("outputs", dict(outputs)),
        fired=_json("fired", {k: list(v) for k, v in (fired or {}).items()}),
        problems=_json("problems", [_problem(p) for p in problems or []]),
        latency_us=max(0, int(latency_us)), caller=caller, idempotency_key=idempotency_key,
        request_hash=request_hash,
        fired_ids=None if fired_ids is None else _json("fired_ids", {k: list(v) for k, v in fired_ids.items()}),
        business_key=_business_key(business_key), arm=arm, shadow_of=shadow_of,
        reasons=_json("reasons", _reasons(reasons)),
    )
    if created_at is not None:
        row.created_at = created_at
    chain_on_commit(session, row)
    if idempotency_key is None:
        session.add(row)
        session.flush()
        return DecisionRecord.of(row)

    check_idempotency_key(idempotency_key)
    if not caller or not request_hash:
        raise Invalid("an idempotency key needs the caller and the request hash")
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
            session.add(IdempotencyRow(caller=caller, key=idempotency_key, request_hash=request_hash,
                                       record_id=row.id))
            session.flush()
    except IntegrityError:
        existing = session.get(IdempotencyRow, (caller, idempotency_key), populate_existing=True)
        if existing is None:
            raise
        if existing.request_hash != request_hash:
            raise Conflict(f"idempotency key {idempotency_key!r} was already used by {caller} for a "
                           "different request") from None
        raise DuplicateRequest(f"idempotency key {idempotency_key!r} was answered by record "
                               f"{existing.record_id}", existing.record_id) from None
    return DecisionRecord.of(row)


def new_record(
    *,
    key: str,
    version: int,
    content_hash: str,
    inputs: Mapping[str, Any],
    outputs: Mapping[str, Any],
    fired: Mapping[str, Sequence[int]],
    problems: Sequence[Any],
    latency_us: int,
    alias: str | None = None,
    caller: str | None = None,
    fired_ids: Mapping[str, Sequence[str]] | None = None,
    business_key: str | None = None,
    arm: str | None = None,
    shadow_of: str | None = None,
    reasons: Mapping[str, Sequence[Any]] | None = None,
) -> DecisionRecord:
    """A record (without an idempotency key) to write with `record_rows` and `registry.bulk`.

    The values must already be JSON data (the service converts them on the way in); what is
    not fails the insert, and with it the transaction."""
    check_key(key)
    return DecisionRecord(new_ulid(), key, version, content_hash, alias, inputs, outputs, fired, problems,
                          max(0, int(latency_us)), caller, None, None, utcnow(), fired_ids,
                          _business_key(business_key), arm, shadow_of, _reasons(reasons))


def record_rows(records: Sequence[DecisionRecord]) -> Rows:
    """The rows that store `records` (made with `new_record`), for `registry.bulk`, not yet
    linked into a chain (registry.chain.WriterChain.link does that).

    This is the service's hot path: a batch of concurrent evaluations is written in one
    statement (group commit), so it avoids the ORM's per-object bookkeeping."""
    return _RECORDS, [
        {"id": r.id, "model_key": r.key, "version": r.version, "content_hash": r.content_hash, "alias": r.alias,
         "inputs": r.inputs, "outputs": r.outputs, "fired": r.fired, "problems": r.problems,
         "latency_us": r.latency_us, "caller": r.caller, "idempotency_key": None, "request_hash": None,
         "created_at": r.created_at, "fired_ids": r.fired_ids, "business_key": r.business_key, "arm": r.arm,
         "shadow_of": r.shadow_of, "reasons": r.reasons, "chain_id": None, "chain_seq": None, "prev_hash": None, "record_hash": None}
        for r in records]


def record_decisions(session: Session, records: Sequence[DecisionRecord]) -> None:
    """Write many records (made with `new_record`, before the transaction) in `session`, without
    committing: one bulk insert, linked into the shared chain under its lock. A batch's write
    transaction, and with it SQLite's write lock, lasts as long as that insert, not as long as
    building, flushing and re-reading each record through the ORM (seconds for 10,000)."""
    if not records:
        return
    table, rows = record_rows(records)
    linked = [dict(row) for row in rows]
    head = append_shared(session.connection(), linked)
    insert_all(session, [(table, linked), (HEADS, [head])])


def get_record(session: Session, record_id: str) -> DecisionRecord:
    row = session.get(DecisionRecordRow, record_id)
    if row is None:
        raise NotFound(f"no decision record {record_id!r}")
    return DecisionRecord.of(row)


def list_records(
    session: Session, *, key: str | None = None, limit: int = 100, before: str | None = None
) -> list[DecisionRecord]:
    """Newest first; page with `before=<id of the last record seen>` (ids sort by time)."""
    query = select(DecisionRecordRow)
    if key is not None:
        query = query.where(DecisionRecordRow.model_key == key)
    if before is not None:
        query = query.where(col(DecisionRecordRow.id) < before)
    rows = session.exec(query.order_by(col(DecisionRecordRow.id).desc()).limit(max(1, min(limit, 1000)))).all()
    return [DecisionRecord.of(row) for row in rows]


def _business_key(value: Any) -> str | None:
    """A business key as stored: text of at most 200 characters (numbers as FEEL writes them)."""
    if value is None:
        return None
    text = value if isinstance(value, str) else json.dumps(_json("business_key", value))
    if len(text) > 200:
        raise Invalid(f"the business key is {len(text)} characters long; at most 200 are kept")
    return text


def _problem(problem: Any) -> Any:
    to_dict = getattr(problem, "to_dict", None)
    if callable(to_dict):
        return to_dict()
    return problem if isinstance(problem, dict) else str(problem)


def _json(field: str, value: Any) -> Any:
    """`value` as JSON-able data, converting FEEL values; Invalid when that is impossible."""
    try:
        json.dumps(value, allow_nan=False)
        return value
    except (TypeError, ValueError):
        pass
    try:
        from decisions.feel.values import to_json

        converted = to_json(value)
        json.dumps(converted, allow_nan=False)
        return converted
    except Exception as err:  # noqa: BLE001 - any failure means the value cannot be recorded
        raise Invalid(f"the decision record's {field} cannot be stored as JSON: {err}") from None


def _reasons(reasons: Mapping[str, Sequence[Any]] | None) -> dict[str, list[Any]]:
    """Reason codes as stored: {decision: [reason as JSON]}, {} when there are none (never None:
    registry/bulk.py writes a batch in one statement only when no JSON column holds None)."""
    if not reasons:
        return {}
    stored: dict[str, list[Any]] = {}
    for decision, listed in reasons.items():
        if listed:
            stored[decision] = [_json("reasons", r.to_json() if callable(getattr(r, "to_json", None)) else r)
                                for r in listed]
    return stored
