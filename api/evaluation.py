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

An alias with a routing (registry/routing.py) is routed per call: `route_call` picks the arm of
its champion/challenger split from the split input's value (the same value, the same arm, in
every worker), and that arm's version answers and is recorded with the arm's name. Its shadow
versions are then evaluated on the same checked inputs and recorded with `shadow_of` pointing at
the live record, off the answer's path (`start_shadows`):
- the answer never waits for a shadow's record: shadow evaluation starts once the live record
  is committed and the answer is ready, in a background task, and shadow records are handed to
  the record writer without being awaited by the call; a shadow that fails to load, evaluate or
  be written is logged and changes nothing else;
- that task evaluates on the event loop (a batch's shadows: in a worker thread), so it can hold
  up the sending of this or another answer of the worker by at most the call's shadow
  evaluation: a call starts no further shadow once it has spent `SHADOW_BUDGET_S` (25 ms) on
  them (a routing has at most 3), so the bound is 25 ms plus one evaluation (tens of µs for
  the examples); skipped shadows are logged;
- at most `MAX_SHADOW_TASKS` calls' shadow work is in flight per worker; beyond that, shadows
  are dropped (logged) rather than queued without bound behind a slow database.
Nothing here knows about HTTP beyond raising `ProblemError`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
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
from decisions.errors import InputError, ModelError
from decisions.feel import Budget, time_limit
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
from registry.idempotency import DuplicateBatch, claim_batch, keep_batch_answer
from registry.records import record_decisions
from registry.resolve import Resolved
from registry.routing import SHADOW_ARM
from registry.views import DecisionRecord, Version

log = logging.getLogger("decisionary.api")

# An idempotent batch's (key, request hash, its answer built from the records written)
BatchEntry = tuple[str, str, Callable[[list[DecisionRecord]], Any]]

SHADOW_BUDGET_S = 0.025  # a call starts no further shadow evaluation once it has spent this on them
MAX_SHADOW_TASKS = 1000  # calls whose shadow work is in flight, per worker; beyond that shadows are dropped
_shadow_tasks: set[asyncio.Task[None]] = set()  # a task needs a reference until it is done


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
    trace: bool | str = False  # True, or "explain": with each table rule's cells
    callback_url: str | None = None  # for the decision's workflows (approve/reject callbacks)


@dataclass(frozen=True)
class ShadowCall:
    """What the shadow versions of one answered call need: the call, its checked inputs, its record."""

    call: Evaluation
    values: Mapping[str, Any]
    live: DecisionRecord


@dataclass(frozen=True)
class ShadowWork:
    """Shadow evaluations to start once the answer is ready (see `start_shadows`)."""

    resolved: Resolved
    calls: Sequence[ShadowCall]
    caller: Principal


@dataclass
class Answer:
    body: dict[str, Any]
    replayed: bool = False
    shadows: ShadowWork | None = None  # for the caller on the event loop to start


@dataclass(frozen=True)
class Done:
    """One evaluated call, ready to record: the version (arm) that answered, and what it answered."""

    resolved: Resolved
    model: Any
    call: Evaluation
    result: EvaluationResult
    latency_us: int
    values: Mapping[str, Any] | None = None  # the checked inputs (for the shadows and the business key)
    notes: Sequence[Mapping[str, Any]] = field(default_factory=tuple)  # information for the record's problems


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


def route_call(service: Service, resolved: Resolved, loaded: LoadedModel,
               call: Evaluation) -> tuple[Resolved, LoadedModel, list[dict[str, Any]]]:
    """The arm of the alias's split that answers `call`, with its model, and notes for its record.

    Without a split: `resolved` and `loaded` as they are. A call whose split input is missing or
    null goes to the champion (the alias's own version), and its record says so."""
    routing = resolved.routing
    if routing is None or not routing.arms or routing.split_on is None:
        return resolved, loaded, []
    value = call.inputs.get(routing.split_on) if isinstance(call.inputs, Mapping) else None
    notes: list[dict[str, Any]] = []
    arm = None
    if value is not None:
        arm = routing.choose(resolved.key, resolved.alias or "", value)
    else:
        notes.append({"severity": "info", "code": "split-input-missing",
                      "message": f"the split input {routing.split_on!r} is missing or null, so the champion "
                                 f"(version {resolved.number}) answered",
                      "location": {"element": routing.split_on}})
    if arm is None:
        arm = routing.arm_of(resolved.number) or routing.arms[0]
    answering = resolved.for_arm(arm)
    if answering.version.content_hash == loaded.content_hash:
        return answering, loaded, notes
    return answering, load(service, answering), notes


def evaluate(service: Service, selector: Selector, call: Evaluation, caller: Principal, *,
             idempotency_key: str | None = None) -> Answer:
    """Evaluate one call (see the module docstring for the steps)."""
    fingerprint = request_hash({"ref": selector.ref, "inputs": call.inputs,
                                "decisions": list(call.decisions) if call.decisions else None,
                                "trace": call.trace})
    check_callback(service, call)
    if idempotency_key is not None:
        check_idempotency_key(idempotency_key)
        with unit_of_work(service.engine, read_only=True) as session:
            earlier = lookup_idempotent(session, caller.key_id, idempotency_key, fingerprint)
        if earlier is not None:
            return Answer(answer_body(earlier), replayed=True)

    resolved, loaded, notes = route_call(service, *resolve_version(service, selector), call)
    result, latency_us, values = run(loaded, call, pointer=("inputs",), decisions_pointer=("decisions",),
                                     seconds=service.settings.evaluation_seconds)
    done = Done(resolved, loaded.model, call, result, latency_us, values, notes)
    try:
        record = write_records(service, [done], caller, idempotency_key=idempotency_key, fingerprint=fingerprint)[0]
    except DuplicateRequest as duplicate:  # a concurrent call with the same key and body won
        with unit_of_work(service.engine, read_only=True) as session:
            return Answer(answer_body(get_record(session, duplicate.record_id)), replayed=True)
    body = answer_body(record)
    if call.trace and result.trace is not None:
        body["trace"] = [step.to_json() for step in result.trace]
    return Answer(body, shadows=shadow_work(resolved, [ShadowCall(call, values, record)], caller))


async def evaluate_async(service: Service, selector: Selector, call: Evaluation, caller: Principal, *,
                         idempotency_key: str | None = None) -> Answer:
    """`evaluate` for async routes (see the module docstring)."""
    if idempotency_key is not None:
        answer = await run_in_threadpool(lambda: evaluate(service, selector, call, caller,
                                                          idempotency_key=idempotency_key))
        if answer.shadows is not None:
            start_shadows(service, answer.shadows)
        return answer
    resolved, loaded, notes = route_call(service, *await resolve_version_async(service, selector), call)
    result, latency_us, values = await run_async(service, loaded, call, pointer=("inputs",),
                                                 decisions_pointer=("decisions",))
    return await record_and_answer(service, resolved, call, result, latency_us, caller, values=values,
                                   notes=notes)


async def record_and_answer(service: Service, resolved: Resolved, call: Evaluation, result: EvaluationResult,
                            latency_us: int, caller: Principal, *, values: Mapping[str, Any] | None = None,
                            notes: Sequence[Mapping[str, Any]] = ()) -> Answer:
    """Have the record writer commit the decision's record (and its hooks' rows), then answer.

    `resolved` is the version that answered (the arm's, under a split: `route_call`); `values`,
    the checked inputs, are what its shadow versions are evaluated on (none without them)."""
    check_callback(service, call)
    version = resolved.version
    try:
        problems: list[Any] = [p.to_dict() for p in result.problems]
        if notes:
            problems.extend(notes)
        record = new_record(
            key=version.key, version=version.number, content_hash=version.content_hash, alias=resolved.alias,
            inputs=to_api_json(call.inputs), outputs=to_api_json(result.outputs),
            fired={k: list(v) for k, v in result.fired.items()}, problems=problems,
            latency_us=latency_us, caller=caller.key_id, arm=resolved.arm,
            **audit_fields(loaded_model(service, resolved), call, result, values))
        if any(preparer.wants(record) for preparer in service.record_preparers):
            await run_in_threadpool(prepare_records, service, [(record, result, call.callback_url)])
        record = await service.writer.write(PendingRecord(record, result, call.callback_url))
    except ProblemError:
        raise
    except Conflict as exc:
        raise ProblemError(409, str(exc), slug="idempotency-conflict") from None
    except (SQLAlchemyError, Invalid, OSError) as exc:
        raise _not_written(version.ref, exc) from None
    if values is not None and resolved.routing is not None and resolved.routing.shadows:
        start_shadows(service, ShadowWork(resolved, [ShadowCall(call, values, record)], caller))
    body = answer_body(record)
    if call.trace and result.trace is not None:
        body["trace"] = [step.to_json() for step in result.trace]
    return Answer(body)


class EvaluationTimeout(ProblemError):
    """The evaluation took longer than the service allows one call (`Settings.evaluation_seconds`):
    503, as for any server that cannot answer in time; the caller may try again later."""

    def __init__(self, seconds: float) -> None:
        super().__init__(503, f"the evaluation took longer than {seconds:g} s, the most one call may take, "
                              "so it was stopped; the model may loop too much for these inputs",
                         slug="evaluation-timeout", headers={"Retry-After": "1"})


async def run_async(service: Service, loaded: LoadedModel, call: Evaluation, *, pointer: tuple[object, ...],
                    decisions_pointer: tuple[object, ...]) -> tuple[EvaluationResult, int, dict[str, Any]]:
    """`run` on a worker thread, never on the event loop: health checks and other callers keep
    answering while one call evaluates. The evaluation's budget stops it at the time bound; the
    call is answered then even if the evaluation is inside work the budget does not count."""
    seconds = service.settings.evaluation_seconds
    work = run_in_threadpool(run, loaded, call, pointer=pointer, decisions_pointer=decisions_pointer,
                             seconds=seconds)
    try:
        return await asyncio.wait_for(work, seconds + 1.0)
    except TimeoutError:
        raise EvaluationTimeout(seconds) from None


def prepare_records(service: Service, recorded: Sequence[tuple[DecisionRecord, EvaluationResult, str | None]]) -> None:
    """The service's record preparers, on this (the caller's) thread: see `Service.record_preparers`."""
    with unit_of_work(service.engine, read_only=True) as session:
        for preparer in service.record_preparers:
            preparer.prepare(session, recorded)


def run(loaded: LoadedModel, call: Evaluation, *, pointer: tuple[object, ...],
        decisions_pointer: tuple[object, ...],
        seconds: float | None = None) -> tuple[EvaluationResult, int, dict[str, Any]]:
    """Check the inputs against the model's types and evaluate, within `seconds` if given;
    returns (result, latency in µs, the checked inputs). EvaluationTimeout past the time."""
    schemas = loaded.schemas
    values = checked_inputs(loaded, call.inputs, pointer=pointer)
    if call.decisions:
        unknown = [(i, name) for i, name in enumerate(call.decisions) if name not in schemas.decision_names]
        if unknown:
            known = ", ".join(schemas.decision_names)
            raise ProblemError(422, "unknown decision(s) requested", errors=[
                {"pointer": "/" + "/".join(map(str, (*decisions_pointer, i))),
                 "message": f"the model has no decision named {name!r}; it has: {known}"}
                for i, name in unknown])
    started = time.perf_counter()
    if seconds is None:
        budget = Budget()
    else:
        with time_limit(seconds):
            budget = Budget()
    result = loaded.model.evaluate(values, decisions=list(call.decisions) if call.decisions else None,
                                   trace="explain" if call.trace == "explain" else bool(call.trace), budget=budget)
    if budget.timed_out:
        raise EvaluationTimeout(seconds or 0.0)
    latency_us = int((time.perf_counter() - started) * 1_000_000)
    return result, latency_us, values


def checked_inputs(loaded: LoadedModel, inputs: Any, *, pointer: tuple[object, ...]) -> dict[str, Any]:
    """The inputs converted to the model's types; a 422 problem pointing at each misfit."""
    if not isinstance(inputs, Mapping):
        raise ProblemError(422, "the inputs must be an object of input names to values",
                           errors=[{"pointer": "/" + "/".join(map(str, pointer)), "message": "expected an object"}])
    try:
        values: dict[str, Any] = loaded.schemas.check_inputs(dict(inputs))
    except InputsInvalid as exc:
        raise ProblemError(422, "the inputs do not fit the model's types",
                           errors=pydantic_errors(exc.errors, prefix=pointer)) from None
    return values


def explain_call(service: Service, selector: Selector, call: Evaluation, decision: str,
                 rule: int | str | None) -> dict[str, Any]:
    """Why the rules of `decision` fired or did not for `call`, on the version (and arm) that
    would answer it; nothing is recorded (decisions/explain.py)."""
    resolved, loaded, _ = route_call(service, *resolve_version(service, selector), call)
    values = checked_inputs(loaded, call.inputs, pointer=("inputs",))
    try:
        explanations = loaded.model.explain(values, decision, rule)
    except InputError as exc:
        pointer = "/decision" if decision not in loaded.model.decisions or \
            loaded.model.decisions[decision].logic.table is None else "/rule"
        raise ProblemError(422, str(exc), errors=[{"pointer": pointer, "message": str(exc)}]) from None
    version = resolved.version
    return {"key": version.key, "version": version.number, "hash": version.content_hash, "alias": resolved.alias,
            "arm": resolved.arm, "decision": decision, "rules": [e.to_json() for e in explanations]}


def write_records(service: Service, done: Sequence[Done], caller: Principal, *, idempotency_key: str | None,
                  fingerprint: str | None, batch: BatchEntry | None = None) -> list[DecisionRecord]:
    """Write the records of `done` and their hooks' rows in one transaction. `batch`: (key, request
    hash, the answer built from the records) of an idempotent batch, claimed first and stored
    last in the same transaction (api/batches.py)."""
    ref = done[0].resolved.version.ref if done else "?"
    try:
        # Without an idempotency key (a batch's rows), the records are made before the write
        # transaction and inserted in bulk (registry.records.record_decisions): the transaction,
        # and SQLite's write lock, lasts as long as the insert (api/batch_gate.py).
        made = [_new_record(item, caller) for item in done] if idempotency_key is None else None
        with unit_of_work(service.engine) as session:
            if batch is not None:
                claim_batch(session, caller.key_id, batch[0], batch[1])
            records = []
            if made is not None:
                record_decisions(session, made)
                records = made
            for item in done if made is None else ():
                version, call, result = item.resolved.version, item.call, item.result
                record = record_decision(
                    session, key=version.key, version=version.number, content_hash=version.content_hash,
                    alias=item.resolved.alias, inputs=dict(call.inputs), outputs=to_api_json(result.outputs),
                    fired={k: list(v) for k, v in result.fired.items()},
                    problems=[p.to_dict() for p in result.problems] + list(item.notes), latency_us=item.latency_us,
                    caller=caller.key_id, idempotency_key=idempotency_key, request_hash=fingerprint,
                    arm=item.resolved.arm, **audit_fields(item.model, call, result, item.values))
                records.append(record)
            recorded = [(record, item.result, item.call.callback_url)
                        for record, item in zip(records, done, strict=True)]
            insert_all(session, [part for hook in service.record_hooks for part in hook(session, recorded)])
            if batch is not None:
                keep_batch_answer(session, caller.key_id, batch[0], batch[2](records))
            return records
    except (DuplicateRequest, DuplicateBatch, ProblemError):
        raise
    except Conflict as exc:
        raise ProblemError(409, str(exc), slug="idempotency-conflict") from None
    except (SQLAlchemyError, Invalid, OSError) as exc:
        raise _not_written(ref, exc) from None


def _new_record(item: Done, caller: Principal) -> DecisionRecord:
    version, call, result = item.resolved.version, item.call, item.result
    return new_record(
        key=version.key, version=version.number, content_hash=version.content_hash, alias=item.resolved.alias,
        inputs=to_api_json(dict(call.inputs)), outputs=to_api_json(result.outputs),
        fired={k: list(v) for k, v in result.fired.items()},
        problems=[p.to_dict() for p in result.problems] + list(item.notes), latency_us=item.latency_us,
        caller=caller.key_id, arm=item.resolved.arm, **audit_fields(item.model, call, result, item.values))


def loaded_model(service: Service, resolved: Resolved) -> Any:
    """The compiled model of the version that answered (already in the model cache)."""
    return service.cache.get(resolved.version).model


def audit_fields(model: Any, call: Evaluation, result: EvaluationResult,
                 values: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """What the record keeps besides the answer: the fired rules' stable ids (always a dict:
    registry/bulk.py writes a batch in one statement only when no JSON column holds None), the
    scoring decisions' reason codes, and the checked value (`values`, else the value sent) of the
    input the model names as its business key."""
    fired_ids = getattr(model, "fired_ids", None)
    fields: dict[str, Any] = {"fired_ids": fired_ids(result.fired) if fired_ids is not None else {},
                              "reasons": result.reasons}
    name = getattr(model, "business_key", None)
    source = values if values is not None else call.inputs
    if name is not None and isinstance(source, Mapping) and source.get(name) is not None:
        fields["business_key"] = to_api_json(source[name])
    return fields


# --- shadow versions ---------------------------------------------------------------------------


def shadow_work(resolved: Resolved, calls: Sequence[ShadowCall], caller: Principal) -> ShadowWork | None:
    if resolved.routing is None or not resolved.routing.shadows or not calls:
        return None
    return ShadowWork(resolved, calls, caller)


def start_shadows(service: Service, work: ShadowWork) -> None:
    """Evaluate and record `work`'s shadow versions in a background task of the running event loop;
    the caller does not wait for it, and nothing it does is raised to the caller."""
    if len(_shadow_tasks) >= MAX_SHADOW_TASKS:
        log.warning("shadow versions of %s skipped for %d call(s): %d calls' shadows are still in flight",
                    work.resolved.version.ref, len(work.calls), len(_shadow_tasks))
        return
    task = asyncio.get_running_loop().create_task(_run_shadows(service, work))
    _shadow_tasks.add(task)
    task.add_done_callback(_shadow_tasks.discard)


async def _run_shadows(service: Service, work: ShadowWork) -> None:
    ref = work.resolved.version.ref
    try:
        if len(work.calls) == 1:  # one call's few evaluations: cheaper here than a thread hop
            pending = shadow_records(service, work)
        else:  # a batch's: off the event loop
            pending = await run_in_threadpool(shadow_records, service, work)
        if not pending:
            return
        outcomes = await asyncio.gather(*(service.writer.write(item) for item in pending), return_exceptions=True)
    except Exception as exc:  # noqa: BLE001 - a shadow never affects an answer; it is only logged
        log.warning("shadow versions of %s not recorded: %s", ref, exc)
        return
    failed = [outcome for outcome in outcomes if isinstance(outcome, BaseException)]
    if failed:
        log.warning("%d shadow record(s) of %s not written: %s", len(failed), ref, type(failed[0]).__name__)


def shadow_records(service: Service, work: ShadowWork) -> list[PendingRecord]:
    """Each call's shadow versions evaluated on its checked inputs, as records to write (see the
    module docstring for the time bound). A shadow that fails to load or evaluate is logged."""
    resolved = work.resolved
    routing = resolved.routing
    if routing is None:
        return []
    models: list[tuple[Version, LoadedModel]] = []
    for number in routing.shadows:
        version = resolved.routed[number]
        try:
            models.append((version, service.cache.get(version)))
        except Exception as exc:  # noqa: BLE001 - whatever a shadow does, the answer stands
            log.warning("shadow version %s does not load: %s", version.ref, exc)
    pending: list[PendingRecord] = []
    for shadow_call in work.calls:
        started = time.perf_counter()
        for i, (version, loaded) in enumerate(models):
            if i and time.perf_counter() - started > SHADOW_BUDGET_S:
                log.warning("shadow versions of %s: %d skipped for record %s, the call's %.0f ms shadow budget "
                            "is spent", resolved.version.ref, len(models) - i, shadow_call.live.id,
                            SHADOW_BUDGET_S * 1000)
                break
            try:
                pending.append(_shadow_record(resolved, version, loaded, shadow_call, work.caller))
            except Exception as exc:  # noqa: BLE001 - whatever a shadow does, the answer stands
                log.warning("shadow version %s failed on record %s: %s", version.ref, shadow_call.live.id, exc)
    return pending


def _shadow_record(resolved: Resolved, version: Version, loaded: LoadedModel, shadow_call: ShadowCall,
                   caller: Principal) -> PendingRecord:
    model, call, live = loaded.model, shadow_call.call, shadow_call.live
    known = set(model.inputs) | set(model.decisions)
    unused = [name for name in shadow_call.values if name not in known]
    wanted = [name for name in call.decisions if name in model.decisions] if call.decisions else None
    started = time.perf_counter()
    result = model.evaluate(dict(shadow_call.values), decisions=wanted or None)
    latency_us = int((time.perf_counter() - started) * 1_000_000)
    problems = [p.to_dict() for p in result.problems]
    if unused:
        problems.append({"severity": "info", "code": "shadow-input-unused",
                         "message": f"version {version.number} has no input named "
                                    + ", ".join(repr(name) for name in unused) + "; not used",
                         "location": {"element": unused[0]}})
    record = new_record(
        key=version.key, version=version.number, content_hash=version.content_hash, alias=resolved.alias,
        inputs=live.inputs, outputs=to_api_json(result.outputs), fired={k: list(v) for k, v in result.fired.items()},
        problems=problems, latency_us=latency_us, caller=caller.key_id, business_key=live.business_key,
        fired_ids=model.fired_ids(result.fired), arm=SHADOW_ARM, shadow_of=live.id, reasons=result.reasons)
    return PendingRecord(record, result, None)


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


def check_idempotency_key(key: str) -> None:
    if not key.strip() or len(key) > 200:
        raise ProblemError(400, "the Idempotency-Key header must be 1-200 characters",
                           errors=[{"parameter": "Idempotency-Key", "in": "header", "message": "1-200 characters"}])


def answer_body(record: DecisionRecord) -> dict[str, Any]:
    """The answer to an evaluation, read from its decision record (with the arm under a split)."""
    body: dict[str, Any] = {
        "decision_id": record.id, "key": record.key, "version": record.version, "hash": record.content_hash,
        "alias": record.alias, "outputs": record.outputs, "fired": record.fired, "problems": record.problems,
    }
    if record.reasons:
        body["reasons"] = record.reasons
    if record.arm is not None:
        body["arm"] = record.arm
    return body
