"""Evaluating a batch of rows (evaluate-batch, evaluate-csv): each row decided or refused on its
own, all records written in one transaction, and a retry with the same Idempotency-Key answered
with the first answer.

Row by row: a row whose inputs do not fit the model's types (or a CSV row whose cells cannot be
read) gets its own problem, pointing into the request (`/rows/3/Credit Score`), and no
record; every other row is decided and recorded. The answer is 200 whenever the request itself
can be used, however many of its rows are refused: a service caller reads its results row by row
either way, and `failed` counts the refused rows. What makes no row decidable (no rows, too many,
an unknown decision asked for, a CSV header naming unknown columns) is the request's fault: 422.

    {"key", "version", "hash", "alias", "decided": 2, "failed": 1,
     "results": [{"row": 0, "decision_id": ..., "outputs": ..., "fired": ..., "problems": [...]},
                 {"row": 1, "error": {"type", "title", "status": 422, "detail", "errors": [{"pointer", "message"}]}},
                 ...]}

Idempotency: the same (caller, key) with the same request answers the stored answer again,
with `Idempotency-Replayed: true`, and records nothing; with another request it is refused (409).
The answer is stored with the records, in their transaction (registry/idempotency.py).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import anyio.from_thread

from api.auth import Principal
from api.evaluation import (
    Done,
    Evaluation,
    ShadowCall,
    check_idempotency_key,
    route_call,
    run,
    shadow_work,
    start_shadows,
    write_records,
)
from api.model_cache import LoadedModel
from api.problems import ProblemError, problem_body
from api.service import Service
from registry import request_hash, unit_of_work
from registry.idempotency import DuplicateBatch, lookup_batch
from registry.resolve import Resolved
from registry.views import DecisionRecord

log = logging.getLogger("decisionary.api")


@dataclass(frozen=True)
class BatchKey:
    """An idempotent batch: the caller's key and the hash of its request."""

    key: str
    request_hash: str


@dataclass
class BatchAnswer:
    body: dict[str, Any]
    replayed: bool = False


@dataclass
class _Rows:
    done: list[Done] = field(default_factory=list)
    places: list[int | dict[str, Any]] = field(default_factory=list)  # per row: index into done, or its error


def batch_key(idempotency_key: str | None, route: str, ref: str, request: Any) -> BatchKey | None:
    """The batch's key and request hash (None without an Idempotency-Key). `request` is what makes
    two requests the same: the rows and decisions asked for, or the CSV file's bytes."""
    if idempotency_key is None:
        return None
    check_idempotency_key(idempotency_key)
    if isinstance(request, bytes):
        request = {"sha256": hashlib.sha256(request).hexdigest()}
    return BatchKey(idempotency_key, request_hash({"route": route, "ref": ref, "request": request}))


def replayed(service: Service, caller: Principal, key: BatchKey | None) -> BatchAnswer | None:
    """The stored answer of a batch with this key and request, if there is one."""
    if key is None:
        return None
    with unit_of_work(service.engine, read_only=True) as session:
        earlier = lookup_batch(session, caller.key_id, key.key, key.request_hash)  # another request: 409
    return BatchAnswer(earlier, replayed=True) if earlier is not None else None


def check_decisions(loaded: LoadedModel, decisions: Sequence[str] | None) -> None:
    """Decisions asked for that the model lacks: no row could be decided, so the request is refused."""
    if not decisions:
        return
    names = loaded.schemas.decision_names
    unknown = [(i, name) for i, name in enumerate(decisions) if name not in names]
    if unknown:
        raise ProblemError(422, "unknown decision(s) requested", errors=[
            {"pointer": f"/decisions/{i}", "message": f"the model has no decision named {name!r}; it has: "
                                                       + ", ".join(names)} for i, name in unknown])


def evaluate_batch(service: Service, resolved: Resolved, loaded: LoadedModel, rows: Sequence[Evaluation],
                   caller: Principal, *, key: BatchKey | None = None,
                   refused: Mapping[int, ProblemError] | None = None) -> BatchAnswer:
    """Decide every row that can be decided (routed to its arm under a split), write their records
    in one transaction (with the idempotent answer, under a key), then start the shadows.
    `refused`: rows already refused while reading them (a CSV cell), by index.

    Called from a sync route, in a worker thread of the event loop."""
    found = _Rows()
    for i, row in enumerate(rows):
        problem = (refused or {}).get(i)
        if problem is None:
            answering, row_loaded, notes = route_call(service, resolved, loaded, row)
            try:
                result, latency_us, values = run(row_loaded, row, pointer=("rows", i),
                                                 decisions_pointer=("decisions",))
            except ProblemError as exc:
                if exc.status != 422:
                    raise
                problem = exc
            else:
                found.places.append(len(found.done))
                found.done.append(Done(answering, row_loaded.model, row, result, latency_us, values, notes))
                continue
        body = problem_body(problem.status, problem.detail, instance=None, slug=problem.slug, title=problem.title,
                            errors=problem.errors)
        body.pop("instance", None)  # the row's place is in its pointers
        found.places.append(body)

    def answer(records: list[DecisionRecord]) -> dict[str, Any]:
        return _body(resolved, found.places, records)

    if not found.done and key is None:
        return BatchAnswer(answer([]))
    try:
        records = write_records(service, found.done, caller, idempotency_key=None, fingerprint=None,
                         batch=(key.key, key.request_hash, answer) if key is not None else None)
    except DuplicateBatch as duplicate:  # a concurrent retry with the same key and body won
        return BatchAnswer(duplicate.answer, replayed=True)
    _start_shadows(service, resolved, found.done, records, caller)
    return BatchAnswer(answer(records))


def _body(resolved: Resolved, places: Sequence[int | dict[str, Any]],
          records: Sequence[DecisionRecord]) -> dict[str, Any]:
    results: list[dict[str, Any]] = []
    for i, place in enumerate(places):
        results.append({"row": i, **row_body(records[place])} if isinstance(place, int)
                       else {"row": i, "error": place})
    failed = sum(1 for place in places if not isinstance(place, int))
    return {"key": resolved.key, "version": resolved.number, "hash": resolved.version.content_hash,
            "alias": resolved.alias, "decided": len(places) - failed, "failed": failed, "results": results}


def row_body(record: DecisionRecord) -> dict[str, Any]:
    body: dict[str, Any] = {"decision_id": record.id, "outputs": record.outputs, "fired": record.fired,
                            "problems": record.problems}
    if record.reasons:
        body["reasons"] = record.reasons
    if record.arm is not None:  # under a split, rows of one batch may be answered by different versions
        body["version"] = record.version
        body["arm"] = record.arm
    return body


def _start_shadows(service: Service, resolved: Resolved, done: Sequence[Done], records: Sequence[DecisionRecord],
                   caller: Principal) -> None:
    work = shadow_work(resolved, [ShadowCall(d.call, d.values, record) for d, record in zip(done, records, strict=True)
                                   if d.values is not None], caller)
    if work is None:
        return
    try:
        anyio.from_thread.run_sync(start_shadows, service, work)
    except RuntimeError:  # not in a worker thread of an event loop: nobody to run them for
        log.warning("shadow versions of %s not run: no event loop to run them on", resolved.version.ref)
