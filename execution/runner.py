"""Carrying out a claimed run: its current step, and the ones after it while they are due.

For each step, in order:
- `when` false (or null, or an error): skipped;
- `set` and `branch` are computed in place; `wait` moves the run's due time;
- an acting step (approve, reject, call, notify, decide) runs once per attempt with the
  idempotency key `<run id>:<step index>`. An attempt counts when it starts: once its host's
  permit is taken, just before the request goes out (`start_attempt`, fenced by the claim), so a
  worker that dies before that uses up no attempt (the claim counts a crash instead, see
  execution/claims.py); success records its result and moves on; a retryable
  failure puts the step back with exponential backoff and full jitter until its attempts are
  used up; any other failure, or the last attempt, dead-letters the run (state `dead`), with
  every attempt kept in `step_attempts`;
- `review` opens a task and the run waits for the answer (execution/review.py).

Progress is committed after every acting step (fenced by the claim's token); while the next
step is due at once the worker keeps the lease and carries on, so a run of several steps costs
one claim. A dead-lettered run stops there and never holds up other runs.
"""

from __future__ import annotations

import logging
import random
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from execution import context as ctx
from execution.bindings_store import LoadedVersions
from execution.claims import Attempt, Claim, Completion, LeaseLost, complete, start_attempt
from execution.config import ExecutionConfig
from execution.decide_step import run_decide
from execution.email_steps import EmailSteps
from execution.http_steps import HttpSteps
from execution.limiter import HostLimiter, Lease
from execution.outbox import escalation_runs, step_host
from execution.outcome import FAILED, LIMITED, OK, StepOutcome
from execution.review import review_step_effect, waiting_effect
from execution.templates import TemplateFailed
from execution.workflow import Bindings, BranchSpec, ReviewSpec, SetSpec, Step, WaitSpec, Workflow
from registry.db import unit_of_work
from registry.records import get_record
from registry.tables import utcnow

log = logging.getLogger("decisionary.execution")

MAX_STEPS_PER_CLAIM = 25


@dataclass
class RunnerStats:
    """Counts since the worker started (for logs and benchmarks); the database has the truth."""

    counts: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, name: str, n: int = 1) -> None:
        with self.lock:
            self.counts[name] += n

    def get(self, name: str) -> int:
        with self.lock:
            return self.counts[name]


class Runner:
    def __init__(self, engine: Engine, config: ExecutionConfig, worker_id: str, versions: LoadedVersions,
                 http: HttpSteps, email: EmailSteps, *, limiter: HostLimiter | None = None,
                 rng: Callable[[], float] = random.random, stopping: threading.Event | None = None,
                 lease_seconds: float | None = None, on_limited: Callable[[str, float], None] | None = None) -> None:
        self.engine = engine
        self.config = config
        self.worker_id = worker_id
        self.versions = versions
        self.http = http
        self.email = email
        self.limiter = limiter
        self.rng = rng
        self.stopping = stopping or threading.Event()
        self.lease_seconds = lease_seconds or config.lease_seconds
        self.on_limited = on_limited
        self.stats = RunnerStats()

    # --- one claim -----------------------------------------------------------------------------

    def run(self, claim: Claim) -> None:
        try:
            self._run(claim)
        except LeaseLost:
            self.stats.add("lease_lost")
            log.warning("run %s: the lease was taken over before this worker started the step; nothing was sent",
                        claim.run_id)
        except SQLAlchemyError as exc:
            self.stats.add("crashed")
            log.warning("run %s: database unavailable (%s); its lease will expire and it will be retried",
                        claim.run_id, type(exc).__name__)
        except Exception:  # noqa: BLE001 - the lease expires and another attempt follows
            self.stats.add("crashed")
            log.exception("run %s: unexpected error; its lease will expire and it will be retried", claim.run_id)

    def _run(self, claim: Claim) -> None:
        bindings = self._bindings(claim)
        if bindings is None:
            return
        workflow = bindings.workflows[claim.workflow]
        context = claim.context
        if ctx.is_pending(context):
            context = self._decision_context(claim, context)
        context.setdefault("steps", {})
        context.setdefault("vars", {})
        attempts = self._lost_attempt(claim, workflow)
        index, attempt = claim.step_index, claim.attempt
        if claim.state == "waiting":
            self._resume_waiting(claim, workflow, bindings, context, index)
            return
        for _ in range(MAX_STEPS_PER_CLAIM):
            if index >= len(workflow.steps):
                self._finish(claim, context, attempts, len(workflow.steps))
                return
            step = workflow.steps[index]
            if not ctx.holds(step.when, context):
                context["steps"][step.name] = {"skipped": True}
                index = self._next(step)
                continue
            if isinstance(step.spec, SetSpec):
                errors = self._set(step.spec, context)
                if errors:
                    self._dead(claim, context, attempts, index, attempt, f"step {step.name!r}: {'; '.join(errors)}")
                    return
                index = self._next(step)
                continue
            if isinstance(step.spec, BranchSpec):
                index = self._branch(step, step.spec, context)
                continue
            if isinstance(step.spec, WaitSpec):
                self._wait(claim, step, step.spec, context, attempts, bindings, workflow)
                return
            if isinstance(step.spec, ReviewSpec):
                self._review(claim, step, step.spec, context, attempts, workflow)
                return
            if attempt >= step.retry.attempts:  # the last one started and its worker stopped
                self._dead(claim, context, attempts, index, attempt,
                           f"step {step.name!r} was started {attempt} time(s), the last time without finishing "
                           f"(its worker stopped), and has no attempts left")
                return
            carry_on = self._act(claim, step, context, attempts, attempt + 1, bindings, workflow)
            attempts = []
            if not carry_on:
                return
            index, attempt = self._next(step), 0

    # --- acting steps ------------------------------------------------------------------------

    def _decision_context(self, claim: Claim, context: dict[str, Any]) -> dict[str, Any]:
        """The run's context completed from its decision record (see execution/context.py)."""
        with unit_of_work(self.engine, read_only=True) as session:
            record = get_record(session, claim.decision_id)
        decision = {"id": record.id, "key": record.key, "version": record.version, "hash": record.content_hash,
                    "alias": record.alias, "created_at": record.created_at.isoformat()}
        return ctx.with_decision(context, decision=decision, inputs=record.inputs, outputs=record.outputs,
                                 fired=record.fired)

    def _act(self, claim: Claim, step: Step, context: dict[str, Any], attempts: list[Attempt], attempt: int,
             bindings: Bindings, workflow: Workflow) -> bool:
        """Run attempt number `attempt` of an acting step and commit its outcome; True to carry on
        with the next. `attempts` (lost ones found at the claim) are written when it starts."""
        started = utcnow()
        pending = list(attempts)

        def start() -> None:
            start_attempt(self.engine, claim, attempt, history=pending)
            pending.clear()

        outcome = self._execute(claim, step, context, bindings, start)
        attempts = pending
        finished = utcnow()
        if outcome.kind == LIMITED:
            self.stats.add("limited")
            if self.on_limited is not None and outcome.error_class == "limited":
                host = step_host(bindings, step, context, self.config)
                if host:
                    self.on_limited(host, outcome.wait)
            self._commit(claim, Completion(
                {"state": "ready", "step_index": step.index, "attempt": max(0, attempt - 1), "context": context,
                 "due_at": finished + timedelta(seconds=outcome.wait)}, attempts))
            return False
        record = Attempt(step.index, step.name, step.label, attempt, self.worker_id, started, finished,
                         outcome.kind if outcome.kind != FAILED else "failed", outcome.status, outcome.error)
        attempts = [*attempts, record]
        effects = list(outcome.effects)
        release = None
        if outcome.permit is not None and self.limiter is not None:
            limiter, permit = self.limiter, outcome.permit

            def release(connection: Connection) -> None:
                limiter.release(permit, connection)
        if outcome.kind == OK:
            self.stats.add("steps_ok")
            context["steps"][step.name] = outcome.result
            next_index = self._next(step)
            done = next_index >= len(workflow.steps)
            carry_on = not done and not self.stopping.is_set()
            values: dict[str, Any] = {"context": context, "last_error": None, "last_status": outcome.status}
            if done:
                values.update(state="done", step_index=len(workflow.steps), attempt=0, due_at=None, target=None,
                              finished_at=finished)
            else:
                values.update(state="ready", step_index=next_index, attempt=0, due_at=finished,
                              target=step_host(bindings, workflow.steps[next_index], context, self.config))
            committed = self._commit(claim, Completion(values, attempts, effects, keep_lease=carry_on,
                                                       lease_seconds=self.lease_seconds, release=release))
            if done and committed:
                self.stats.add("runs_done")
            self._release_if_lost(committed, outcome)
            return committed and carry_on
        if outcome.kind != FAILED and attempt < step.retry.attempts:
            self.stats.add("retries")
            delay = step.retry.delay(attempt, self.rng(), at_least=outcome.retry_after or 0.0)
            record.outcome = "retry"
            committed = self._commit(claim, Completion(
                {"state": "ready", "step_index": step.index, "attempt": attempt, "context": context,
                 "due_at": finished + timedelta(seconds=delay), "last_error": outcome.error,
                 "last_status": outcome.status}, attempts, effects, release=release))
            self._release_if_lost(committed, outcome)
            return False
        if outcome.kind != FAILED:
            record.outcome = "failed"
            error = f"step {step.name!r} failed {attempt} time(s), its last attempt: {outcome.error}"
        else:
            error = f"step {step.name!r}: {outcome.error}"
        committed = self._dead(claim, context, attempts, step.index, attempt, error, status=outcome.status,
                               effects=effects, release=release)
        self._release_if_lost(committed, outcome)
        return False

    def _release_if_lost(self, committed: bool, outcome: StepOutcome) -> None:
        """A permit released in a completion that did not commit goes back now, not at its expiry."""
        if not committed and outcome.permit is not None and self.limiter is not None:
            self.limiter.release(outcome.permit)

    def _execute(self, claim: Claim, step: Step, context: dict[str, Any], bindings: Bindings,
                 start: Callable[[], None]) -> StepOutcome:
        """One attempt; `start()` counts it, just before it acts (an HTTP step: after its permit)."""
        key = f"{claim.run_id}:{step.index}"
        template_context = ctx.template_context(context, run_id=claim.run_id, workflow=claim.workflow,
                                                step=step.name, now=utcnow())
        try:
            if step.kind == "decide":
                start()
                return run_decide(self.engine, self.versions, step, context, workflow=claim.workflow)
            if step.channel == "email":
                start()
                return self.email.run(step, template_context, idempotency_key=key)
            return self.http.run(step, bindings, context, template_context, idempotency_key=key,
                                 run_id=claim.run_id, lease=Lease(claim.run_id, claim.token), start=start)
        except TemplateFailed as exc:
            return StepOutcome.failed(str(exc))

    # --- steps that act on the run itself ----------------------------------------------------

    @staticmethod
    def _next(step: Step) -> int:
        return step.goto if step.goto is not None else step.index + 1

    @staticmethod
    def _set(spec: SetSpec, context: dict[str, Any]) -> list[str]:
        errors: list[str] = []
        for name, expression in spec.values.items():
            value, problems = ctx.evaluate(expression, context)
            errors.extend(f"{name}: {p}" for p in problems)
            context["vars"][name] = ctx.as_json(value)
        return errors

    def _branch(self, step: Step, spec: BranchSpec, context: dict[str, Any]) -> int:
        for condition, target in spec.arms:
            if ctx.holds(condition, context):
                context["steps"][step.name] = {"goto": target}
                return target
        context["steps"][step.name] = {"goto": None}
        return self._next(step)

    def _wait(self, claim: Claim, step: Step, spec: WaitSpec, context: dict[str, Any], attempts: list[Attempt],
              bindings: Bindings, workflow: Workflow) -> None:
        now = utcnow()
        if spec.seconds is not None:
            due = now + timedelta(seconds=spec.seconds)
        else:
            assert spec.until is not None
            value, errors = ctx.evaluate(spec.until, context)
            due_or_error = _as_time(value)
            if errors or isinstance(due_or_error, str):
                self._dead(claim, context, attempts, step.index, 0,
                           f"step {step.name!r}: `until` is not a time: {'; '.join(errors) or due_or_error}")
                return
            due = due_or_error
        context["steps"][step.name] = {"until": due.isoformat()}
        next_index = self._next(step)
        target = step_host(bindings, workflow.steps[next_index], context, self.config) \
            if next_index < len(workflow.steps) else None
        self._commit(claim, Completion({"state": "ready", "step_index": next_index, "attempt": 0, "due_at": due,
                                        "context": context, "target": target}, attempts))

    def _review(self, claim: Claim, step: Step, spec: ReviewSpec, context: dict[str, Any],
                attempts: list[Attempt], workflow: Workflow) -> None:
        template_context = ctx.template_context(context, run_id=claim.run_id, workflow=claim.workflow,
                                                step=step.name, now=utcnow())
        try:
            assignee = spec.assignee.render(template_context).strip() if spec.assignee else None
            reason = spec.reason.render(template_context).strip() if spec.reason else None
        except TemplateFailed as exc:
            self._dead(claim, context, attempts, step.index, 0, f"step {step.name!r}: {exc}")
            return
        effect = review_step_effect(run_id=claim.run_id, step_index=step.index, step_name=step.name,
                                    workflow=workflow.name, spec=spec, assignee=assignee, reason=reason,
                                    next_index=self._next(step))
        values = {"state": "waiting", "step_index": step.index, "attempt": 0, "context": context, "target": None}
        self._commit(claim, Completion(values, attempts, [effect]))

    def _resume_waiting(self, claim: Claim, workflow: Workflow, bindings: Bindings, context: dict[str, Any],
                        index: int) -> None:
        def insert(session: Any, *, run: Any, workflows: list[str], origin: str) -> None:
            escalation_runs(session, run=run, workflows=workflows, origin=origin, bindings=bindings,
                            config=self.config)
            self.stats.add("escalations")

        effect = waiting_effect(run_id=claim.run_id, step_index=index, bindings=bindings, insert_runs=insert)
        self._commit(claim, Completion({"context": context}, [], [effect]))

    # --- endings -------------------------------------------------------------------------------

    def _finish(self, claim: Claim, context: dict[str, Any], attempts: list[Attempt], end: int) -> None:
        now = utcnow()
        if self._commit(claim, Completion({"state": "done", "step_index": end, "attempt": 0, "due_at": None,
                                           "target": None, "context": context, "finished_at": now}, attempts)):
            self.stats.add("runs_done")

    def _dead(self, claim: Claim, context: dict[str, Any], attempts: list[Attempt], index: int, attempt: int,
              error: str, *, status: int | None = None, effects: list[Any] | None = None,
              release: Callable[[Connection], None] | None = None) -> bool:
        self.stats.add("dead")
        log.warning("run %s (%s) dead-lettered: %s", claim.run_id, claim.workflow, error)
        return self._commit(claim, Completion(
            {"state": "dead", "step_index": index, "attempt": attempt, "due_at": None, "context": context,
             "last_error": error[:4000], "last_status": status, "finished_at": utcnow()}, attempts, effects or [],
            release=release))

    def _commit(self, claim: Claim, completion: Completion) -> bool:
        if complete(self.engine, claim, completion):
            return True
        self.stats.add("lease_lost")
        log.warning("run %s: the lease was taken over before this worker finished; its result is dropped",
                    claim.run_id)
        return False

    # --- helpers -------------------------------------------------------------------------------

    def _bindings(self, claim: Claim) -> Bindings | None:
        with unit_of_work(self.engine, read_only=True) as session:
            loaded = self.versions.get(session, claim.model_key, claim.version, claim.content_hash)
        bindings = loaded.bindings
        if bindings is None or bindings.hash != claim.bindings_hash or claim.workflow not in bindings.workflows:
            self._dead(claim, claim.context, [], claim.step_index, claim.attempt,
                       f"the bindings this run was started with ({claim.bindings_hash[:12]}) are not those of "
                       f"{claim.model_key} version {claim.version} any more")
            return None
        return bindings

    def _lost_attempt(self, claim: Claim, workflow: Workflow) -> list[Attempt]:
        """The attempt a worker started and never finished (its lease ran out meanwhile)."""
        if claim.attempt_started_at is None or claim.state != "ready" or claim.attempt < 1:
            return []
        if claim.step_index >= len(workflow.steps):
            return []
        step = workflow.steps[claim.step_index]
        self.stats.add("lost_attempts")
        return [Attempt(step.index, step.name, step.label, claim.attempt, claim.prev_owner or "unknown",
                        claim.attempt_started_at, utcnow(), "lease-lost", None,
                        "the worker's lease expired before the step finished (the worker stopped, or lost "
                        "the database); the step runs again with the same idempotency key")]


def _as_time(value: Any) -> datetime | str:
    """A FEEL value as an aware datetime (a date is its midnight UTC), or why it is not one."""
    from datetime import UTC

    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime.combine(value, time(0), tzinfo=UTC)
    if isinstance(value, str):
        try:
            return _as_time(datetime.fromisoformat(value))
        except ValueError:
            return f"{value!r} is not an ISO 8601 date or date and time"
    return f"{value!r} is not a date or date and time"
