"""Evaluating a published decision for a caller, and recording it before answering.

    1. idempotency: a key seen before answers with the first call's record (another body -> 409)
    2. resolve key@alias / key@version to a published version (registry.resolve)
    3. check and convert the inputs with the model's types (422 with pointers on a fault)
    4. evaluate the compiled model (cached by content hash)
    5. write the decision record, and run the record hooks, in ONE unit of work; if that fails
       the call fails (503): no answer leaves the service without its record
    6. answer from the record, so a replay is byte for byte the first answer

Steps 1-2 use a read-only transaction and step 4 runs outside any transaction, so the write
transaction (and on SQLite the write lock) lasts only as long as the insert. Resolutions are
kept for a second per worker (api/caches.py).

`evaluate_async` is the routes' path. Calls without an idempotency key (the common case) are
evaluated on the event loop and their records written by the worker's record writer, which
commits concurrent calls' records together (api/record_writer.py); calls with a key take the
transactional path of `evaluate` in a thread.
Nothing here knows about HTTP beyond raising `ProblemError`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool

from api.auth import Principal
from api.caches import cached
from api.jsonio import to_api_json
from api.model_cache import LoadedModel
from api.problems import ProblemError, pydantic_errors
from api.record_writer import PendingRecord
from api.service import Service
from api.typed import InputsInvalid
from decisions.errors import ModelError
from decisions.result import EvaluationResult
from registry import (
    Conflict,
    DuplicateRequest,
    Invalid,
    get_record,
    lookup_idempotent,
    new_record,
    record_decision,
    request_hash,
    resolve,
    unit_of_work,
)
from registry.bulk import insert_all
from registry.resolve import Resolved
from registry.views import DecisionRecord

log = logging.getLogger("decisionary.api")


@dataclass(frozen=True)
class Selector:
    """Which version answers: an alias, a version number, or (neither) the production alias."""

    key: str
    alias: str | None = None
    version: int | None = None

    def __post_init__(self) -> None:
        if self.alias is not None and self.version is not None:
            raise ProblemError(400, "choose a version by alias or by number, not both",
                               errors=[{"parameter": "alias", "in": "query", "message": "given with version"}])

    @property
    def ref(self) -> str:
        if self.version is not None:
            return f"{self.key}@{self.version}"
        if self.alias is not None:
            return f"{self.key}@{self.alias}"
        return self.key


@dataclass
class Evaluation:
    """One row to evaluate: its raw inputs (as sent) and what to return."""

    inputs: Mapping[str, Any]
    decisions: Sequence[str] | None = None
    trace: bool = False
    callback_url: str | None = None  # for the decision's workflows (approve/reject callbacks)


@dataclass
class Answer:
    body: dict[str, Any]
    replayed: bool = False


def resolve_version(service: Service, selector: Selector) -> tuple[Resolved, LoadedModel]:
    found = service.resolutions.get(selector.ref)
    if found is None:
        found = _resolve(service, selector)
        service.resolutions.put(selector.ref, found)
    return found


async def resolve_version_async(service: Service, selector: Selector) -> tuple[Resolved, LoadedModel]:
    found = await cached(service.resolutions, selector.ref, lambda: _resolve(service, selector))
    if found is None:  # _resolve raises rather than finding nothing
        raise ProblemError(503, f"{selector.ref} could not be resolved")
    return found


def _resolve(service: Service, selector: Selector) -> tuple[Resolved, LoadedModel]:
    with unit_of_work(service.engine, read_only=True) as session:
        resolved = resolve(session, selector.ref)
    return resolved, load(service, resolved)


def load(service: Service, resolved: Resolved) -> LoadedModel:
    try:
        return service.cache.get(resolved.version)
    except ModelError as exc:  # published versions passed the load gate: this is the service's fault
        log.error("published version %s does not load: %s", resolved.version.ref, exc)
        raise ProblemError(503, f"{resolved.version.ref} cannot be loaded by this server; "
                                "it passed its publish gates, so this is a server fault") from None


def evaluate(service: Service, selector: Selector, call: Evaluation, caller: Principal, *,
             idempotency_key: str | None = None) -> Answer:
    """Evaluate one call (see the module docstring for the steps)."""
    fingerprint = request_hash({"ref": selector.ref, "inputs": call.inputs,
                                "decisions": list(call.decisions) if call.decisions else None,
                                "trace": call.trace})
    check_callback(service, call)
    if idempotency_key is not None:
        _check_idempotency_key(idempotency_key)
        with unit_of_work(service.engine, read_only=True) as session:
            earlier = lookup_idempotent(session, caller.key_id, idempotency_key, fingerprint)
        if earlier is not None:
            return Answer(answer_body(earlier), replayed=True)

    resolved, loaded = resolve_version(service, selector)
    result, latency_us = run(loaded, call, pointer=("inputs",), decisions_pointer=("decisions",))
    try:
        record = _write(service, resolved, [(call, result, latency_us)], caller,
                        idempotency_key=idempotency_key, fingerprint=fingerprint)[0]
    except DuplicateRequest as duplicate:  # a concurrent call with the same key and body won
        with unit_of_work(service.engine, read_only=True) as session:
            return Answer(answer_body(get_record(session, duplicate.record_id)), replayed=True)
    body = answer_body(record)
    if call.trace and result.trace is not None:
        body["trace"] = [step.to_json() for step in result.trace]
    return Answer(body)


async def evaluate_async(service: Service, selector: Selector, call: Evaluation, caller: Principal, *,
                         idempotency_key: str | None = None) -> Answer:
    """`evaluate` for async routes (see the module docstring)."""
    if idempotency_key is not None:
        return await run_in_threadpool(lambda: evaluate(service, selector, call, caller,
                                                        idempotency_key=idempotency_key))
    resolved, loaded = await resolve_version_async(service, selector)
    result, latency_us = run(loaded, call, pointer=("inputs",), decisions_pointer=("decisions",))
    return await record_and_answer(service, resolved, call, result, latency_us, caller)


async def record_and_answer(service: Service, resolved: Resolved, call: Evaluation, result: EvaluationResult,
                            latency_us: int, caller: Principal) -> Answer:
    """Have the record writer commit the decision's record (and its hooks' rows), then answer."""
    check_callback(service, call)
    version = resolved.version
    try:
        record = new_record(
            key=version.key, version=version.number, content_hash=version.content_hash, alias=resolved.alias,
            inputs=to_api_json(call.inputs), outputs=to_api_json(result.outputs),
            fired={k: list(v) for k, v in result.fired.items()}, problems=[p.to_dict() for p in result.problems],
            latency_us=latency_us, caller=caller.key_id, **audit_fields(loaded_model(service, resolved), call, result))
        record = await service.writer.write(PendingRecord(record, result, call.callback_url))
    except ProblemError:
        raise
    except Conflict as exc:
        raise ProblemError(409, str(exc), slug="idempotency-conflict") from None
    except (SQLAlchemyError, Invalid, OSError) as exc:
        raise _not_written(version.ref, exc) from None
    body = answer_body(record)
    if call.trace and result.trace is not None:
        body["trace"] = [step.to_json() for step in result.trace]
    return Answer(body)


def evaluate_rows(service: Service, resolved: Resolved, loaded: LoadedModel, rows: Sequence[Evaluation],
                  caller: Principal) -> list[dict[str, Any]]:
    """Evaluate many rows against one resolved version; all records are written in one transaction."""
    done = [(row, *run(loaded, row, pointer=("rows", i, "inputs"), decisions_pointer=("decisions",)))
            for i, row in enumerate(rows)]
    records = _write(service, resolved, done, caller, idempotency_key=None, fingerprint=None)
    return [row_body(record) for record in records]


def run(loaded: LoadedModel, call: Evaluation, *, pointer: tuple[object, ...],
        decisions_pointer: tuple[object, ...]) -> tuple[EvaluationResult, int]:
    """Check the inputs against the model's types and evaluate; returns (result, latency in µs)."""
    schemas = loaded.schemas
    if not isinstance(call.inputs, Mapping):
        raise ProblemError(422, "the inputs must be an object of input names to values",
                           errors=[{"pointer": "/" + "/".join(map(str, pointer)), "message": "expected an object"}])
    try:
        values = schemas.check_inputs(dict(call.inputs))
    except InputsInvalid as exc:
        raise ProblemError(422, "the inputs do not fit the model's types",
                           errors=pydantic_errors(exc.errors, prefix=pointer)) from None
    if call.decisions:
        unknown = [(i, name) for i, name in enumerate(call.decisions) if name not in schemas.decision_names]
        if unknown:
            known = ", ".join(schemas.decision_names)
            raise ProblemError(422, "unknown decision(s) requested", errors=[
                {"pointer": "/" + "/".join(map(str, (*decisions_pointer, i))),
                 "message": f"the model has no decision named {name!r}; it has: {known}"}
                for i, name in unknown])
    started = time.perf_counter()
    result = loaded.model.evaluate(values, decisions=list(call.decisions) if call.decisions else None,
                                   trace=call.trace)
    latency_us = int((time.perf_counter() - started) * 1_000_000)
    return result, latency_us


def _write(service: Service, resolved: Resolved, done: Sequence[tuple[Evaluation, EvaluationResult, int]],
           caller: Principal, *, idempotency_key: str | None, fingerprint: str | None) -> list[DecisionRecord]:
    version = resolved.version
    model = loaded_model(service, resolved)
    try:
        with unit_of_work(service.engine) as session:
            records = []
            for call, result, latency_us in done:
                record = record_decision(
                    session, key=version.key, version=version.number, content_hash=version.content_hash,
                    alias=resolved.alias, inputs=dict(call.inputs), outputs=to_api_json(result.outputs),
                    fired={k: list(v) for k, v in result.fired.items()},
                    problems=[p.to_dict() for p in result.problems], latency_us=latency_us,
                    caller=caller.key_id, idempotency_key=idempotency_key, request_hash=fingerprint,
                    **audit_fields(model, call, result))
                records.append(record)
            recorded = [(record, result, call.callback_url)
                        for record, (call, result, _) in zip(records, done, strict=True)]
            insert_all(session, [part for hook in service.record_hooks for part in hook(session, recorded)])
            return records
    except (DuplicateRequest, ProblemError):
        raise
    except Conflict as exc:
        raise ProblemError(409, str(exc), slug="idempotency-conflict") from None
    except (SQLAlchemyError, Invalid, OSError) as exc:
        raise _not_written(version.ref, exc) from None


def loaded_model(service: Service, resolved: Resolved) -> Any:
    """The compiled model of the version that answered (already in the model cache)."""
    return service.cache.get(resolved.version).model


def audit_fields(model: Any, call: Evaluation, result: EvaluationResult) -> dict[str, Any]:
    """What the audit layer reads besides the answer: the fired rules' stable ids, and the value of
    the input the model names as its business key."""
    fields: dict[str, Any] = {"fired_ids": model.fired_ids(result.fired)}
    name = model.business_key
    if name is not None and isinstance(call.inputs, Mapping) and call.inputs.get(name) is not None:
        fields["business_key"] = to_api_json(call.inputs[name])
    return fields


def _not_written(ref: str, exc: Exception) -> ProblemError:
    log.error("decision record for %s not written: %s", ref, type(exc).__name__)
    return ProblemError(503, "the decision record could not be written, so the decision is not answered; "
                             "try again", slug="record-not-written", headers={"Retry-After": "1"})


def check_callback(service: Service, call: Evaluation) -> None:
    """A callback URL whose host the workflows may not call is refused before anything is done."""
    if call.callback_url is None or service.callback_refusal is None:
        return
    refusal = service.callback_refusal(call.callback_url)
    if refusal is not None:
        raise ProblemError(422, "the callback URL cannot be called", errors=[
            {"pointer": "/callback_url", "message": refusal}])


def _check_idempotency_key(key: str) -> None:
    if not key.strip() or len(key) > 200:
        raise ProblemError(400, "the Idempotency-Key header must be 1-200 characters",
                           errors=[{"parameter": "Idempotency-Key", "in": "header", "message": "1-200 characters"}])


def answer_body(record: DecisionRecord) -> dict[str, Any]:
    """The answer to an evaluation, read from its decision record."""
    return {
        "decision_id": record.id, "key": record.key, "version": record.version, "hash": record.content_hash,
        "alias": record.alias, "outputs": record.outputs, "fired": record.fired, "problems": record.problems,
    }


def row_body(record: DecisionRecord) -> dict[str, Any]:
    return {"decision_id": record.id, "outputs": record.outputs, "fired": record.fired,
            "problems": record.problems}
