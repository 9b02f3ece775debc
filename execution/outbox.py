"""The transactional outbox: a decision's workflow runs are written in the decision record's
transaction, so they commit together or not at all.

    with unit_of_work(engine) as session:
        record = record_decision(session, ...)
        enqueue_runs(session, record, loaded, result.outputs)   # same transaction

Each run row is immediately claimable (state `ready`, due now); workers carry it out.
`Outbox.runs_for` is the API's record hook (api/service.py `record_hooks`): it finds the
bindings of the version that decided and returns the run rows they say, which the record
writer inserts in the same statement as the records (registry/bulk.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from sqlmodel import Session

from decisions.result import EvaluationResult
from execution.bindings_store import LoadedVersion, LoadedVersions
from execution.config import ExecutionConfig
from execution.context import pending_context
from execution.tables import RunRow
from execution.workflow import Bindings, HttpSpec, Step
from registry.bulk import Rows, insert_rows
from registry.ids import new_ulid
from registry.tables import utcnow
from registry.views import DecisionRecord

RUNS = RunRow.__table__  # type: ignore[attr-defined]


def enqueue_runs(session: Session, record: DecisionRecord, loaded: LoadedVersion, outputs: Mapping[str, Any],
                 *, callback_url: str | None = None, origin: str = "decision",
                 config: ExecutionConfig | None = None) -> list[str]:
    """Add the runs of every workflow the outcome starts, in `session` (no commit); their ids.

    `outputs` are the evaluation's FEEL values (bindings match on those); the runs' context
    keeps the record's JSON.
    """
    rows = outcome_runs(record, loaded, outputs, callback_url=callback_url, origin=origin, config=config)
    return _insert(session, rows)


def outcome_runs(record: DecisionRecord, loaded: LoadedVersion, outputs: Mapping[str, Any], *,
                 callback_url: str | None = None, origin: str = "decision",
                 config: ExecutionConfig | None = None, chosen: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """The run rows of every workflow the outcome starts (nothing is written); `chosen`: the
    workflows, when the `when` rules were already evaluated (`Outbox.choose`)."""
    bindings = loaded.bindings
    if bindings is None:
        return []
    names = chosen if chosen is not None else \
        bindings.workflows_for(outputs, record.inputs if isinstance(record.inputs, Mapping) else None)
    return record_runs(record, bindings, names, callback_url=callback_url, origin=origin, config=config)


def add_runs(session: Session, record: DecisionRecord, bindings: Bindings, workflows: Sequence[str], *,
             callback_url: str | None = None, origin: str = "decision",
             config: ExecutionConfig | None = None) -> list[str]:
    return _insert(session, record_runs(record, bindings, workflows, callback_url=callback_url, origin=origin,
                                        config=config))


def record_runs(record: DecisionRecord, bindings: Bindings, workflows: Sequence[str], *,
                callback_url: str | None = None, origin: str = "decision",
                config: ExecutionConfig | None = None) -> list[dict[str, Any]]:
    if not workflows:
        return []
    # The decision's part of the context is read from its record when the run first runs.
    context = pending_context(decision_id=record.id, callback_url=callback_url)
    return run_rows(decision_id=record.id, key=record.key, version=record.version,
                    content_hash=record.content_hash, bindings=bindings, workflows=workflows, context=context,
                    origin=origin, config=config)


def insert_runs(session: Session, *, decision_id: str, key: str, version: int, content_hash: str,
                bindings: Bindings, workflows: Sequence[str], context: Mapping[str, Any], origin: str,
                config: ExecutionConfig | None = None) -> list[str]:
    """Insert one ready run per workflow, all sharing `context` as their starting context."""
    return _insert(session, run_rows(decision_id=decision_id, key=key, version=version, content_hash=content_hash,
                                     bindings=bindings, workflows=workflows, context=context, origin=origin,
                                     config=config))


def run_rows(*, decision_id: str, key: str, version: int, content_hash: str, bindings: Bindings,
             workflows: Sequence[str], context: Mapping[str, Any], origin: str,
             config: ExecutionConfig | None = None) -> list[dict[str, Any]]:
    """One ready run row per workflow, all sharing `context` as their starting context."""
    now = utcnow()
    rows: list[dict[str, Any]] = []
    for name in workflows:
        workflow = bindings.workflows[name]
        rows.append({
            "id": new_ulid(), "decision_id": decision_id, "model_key": key, "version": version,
            "content_hash": content_hash, "bindings_hash": bindings.hash, "workflow": name, "origin": origin,
            "state": "ready", "step_index": 0, "attempt": 0, "due_at": now,
            "target": step_host(bindings, workflow.steps[0], context, config) if workflow.steps else None,
            "context": dict(context), "created_at": now, "updated_at": now,
        })
    return rows


def _insert(session: Session, rows: list[dict[str, Any]]) -> list[str]:
    insert_rows(session, RUNS, rows)
    return [str(row["id"]) for row in rows]


def escalation_runs(session: Session, *, run: Any, workflows: Sequence[str], origin: str,
                    bindings: Bindings, config: ExecutionConfig | None = None) -> list[str]:
    """Runs started from another run (a review's escalation): same decision, a fresh context."""
    context = dict(run.context or {})
    context.update(steps={}, vars={}, review=None)
    return insert_runs(session, decision_id=run.decision_id, key=run.model_key, version=run.version,
                       content_hash=run.content_hash, bindings=bindings, workflows=workflows, context=context,
                       origin=origin, config=config)


def step_host(bindings: Bindings, step: Step, context: Mapping[str, Any],
              config: ExecutionConfig | None = None) -> str | None:
    """The host an HTTP step will call, when it is known without rendering templates (the
    claim query uses it to pass over hosts at their limit); None otherwise."""
    spec = step.spec
    if not isinstance(spec, HttpSpec):
        return None
    url: str | None = None
    if spec.url is not None:
        url = spec.url.source if "{" not in spec.url.source else None
        if url is None and spec.url.source.strip() == "{{ callback_url }}":
            url = context.get("callback_url")
    elif spec.target is not None and spec.target in bindings.targets:
        url = bindings.targets[spec.target].url
    elif step.kind in ("approve", "reject"):
        url = context.get("callback_url") or (config.callback_url if config else None)
    if not url:
        return None
    try:
        host = urlsplit(url).hostname
    except ValueError:
        return None
    return host.lower() if host else None


class Outbox:
    """The API's record hook: the run rows of the recorded decisions, for their transaction.

    The service writes records in batches (group commit); all their runs go in one part. The
    bindings' `when` rules are evaluated by `choose`, which the service calls on the caller's
    worker thread before it hands the record to the record writer: a heavy rule then costs its
    own caller's time, not the writer's single thread that every caller's answer waits on.
    `runs_for` evaluates them itself only for a record `choose` did not see."""

    MAX_CHOSEN = 10_000  # choices kept for records not yet written (a failed write leaves its own)

    def __init__(self, versions: LoadedVersions | None = None, config: ExecutionConfig | None = None) -> None:
        self.versions = versions or LoadedVersions()
        self.config = config
        self._chosen: dict[str, list[str]] = {}  # record id -> the workflows its outcome starts

    def wants(self, record: DecisionRecord) -> bool:
        """Whether `choose` has work for this record: cheap, so that a decision of a version
        without bindings (known from the cache) costs no trip to a worker thread."""
        if record.shadow_of is not None:
            return False
        loaded = self.versions.cached(record.key, record.version, record.content_hash)
        return loaded is None or loaded.bindings is not None

    def prepare(self, session: Session, recorded: Sequence[tuple[DecisionRecord, EvaluationResult, str | None]]) -> None:
        self.choose(session, recorded)

    def choose(self, session: Session, recorded: Sequence[tuple[DecisionRecord, EvaluationResult, str | None]]) -> None:
        for record, result, _ in recorded:
            if record.shadow_of is not None:
                continue
            bindings = self.versions.get(session, record.key, record.version, record.content_hash).bindings
            if bindings is None:
                continue
            if len(self._chosen) >= self.MAX_CHOSEN:
                self._chosen.pop(next(iter(self._chosen)), None)
            self._chosen[record.id] = bindings.workflows_for(
                result.outputs, record.inputs if isinstance(record.inputs, Mapping) else None)

    def runs_for(self, session: Session,
                 recorded: Sequence[tuple[DecisionRecord, EvaluationResult, str | None]]) -> list[Rows]:
        rows: list[dict[str, Any]] = []
        for record, result, callback_url in recorded:
            if record.shadow_of is not None:  # a shadow version's answer was never given: it acts on nothing
                continue
            loaded = self.versions.get(session, record.key, record.version, record.content_hash)
            rows.extend(outcome_runs(record, loaded, result.outputs, callback_url=callback_url, config=self.config,
                                     chosen=self._chosen.pop(record.id, None)))
        return [(RUNS, rows)] if rows else []
