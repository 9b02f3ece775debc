"""Monitoring: what the workflows are doing, read from the database (so it covers every worker).

`execution_stats()` (GET /v1/execution/stats) gives, per workflow: runs by state, and `crashes`,
the times a worker lost a run's lease before finishing (killed, or cut off from the database),
which are not attempts; per step: runs
waiting there by state, attempts by outcome, and latency (p50/p95/max over the recent window);
and overall: the queue depth (ready runs already due), the age of the oldest due step, open
review tasks by queue (overdue ones too), batch jobs by state.

`prometheus_text()` (GET /metrics) renders the same figures in the Prometheus text format.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlmodel import Session

from execution.tables import AttemptRow, BatchJobRow, ReviewTaskRow, RunRow
from registry.tables import utcnow

RUNS = RunRow.__table__  # type: ignore[attr-defined]
ATTEMPTS = AttemptRow.__table__  # type: ignore[attr-defined]
TASKS = ReviewTaskRow.__table__  # type: ignore[attr-defined]
JOBS = BatchJobRow.__table__  # type: ignore[attr-defined]

LATENCY_WINDOW = timedelta(hours=1)
LATENCY_SAMPLE = 20_000  # attempts read for the percentiles


def _percentile(sorted_values: list[float], fraction: float) -> float:
    if not sorted_values:
        return 0.0
    index = min(len(sorted_values) - 1, max(0, round(fraction * (len(sorted_values) - 1))))
    return sorted_values[index]


def execution_stats(session: Session, now: datetime | None = None) -> dict[str, Any]:
    now = now or utcnow()
    workflows: dict[str, Any] = defaultdict(lambda: {"runs": {}, "crashes": 0, "steps": {}})

    def step_entry(workflow: str, step: str) -> dict[str, Any]:
        steps = workflows[workflow]["steps"]
        if step not in steps:
            steps[step] = {"runs": {}, "attempts": {}, "latency_ms": None}
        entry: dict[str, Any] = steps[step]
        return entry

    for row in session.execute(sa.select(RUNS.c.workflow, RUNS.c.state, sa.func.count(), sa.func.sum(RUNS.c.crashes))
                               .group_by(RUNS.c.workflow, RUNS.c.state)).all():
        workflows[row[0]]["runs"][row[1]] = int(row[2])
        workflows[row[0]]["crashes"] += int(row[3] or 0)

    names: dict[tuple[str, int], str] = {}
    attempt_rows = session.execute(
        sa.select(RUNS.c.workflow, ATTEMPTS.c.step_index, ATTEMPTS.c.step_name, ATTEMPTS.c.outcome, sa.func.count())
        .join(RUNS, RUNS.c.id == ATTEMPTS.c.run_id).where(ATTEMPTS.c.kind != "operator")
        .group_by(RUNS.c.workflow, ATTEMPTS.c.step_index, ATTEMPTS.c.step_name, ATTEMPTS.c.outcome)).all()
    for workflow, index, step, outcome, count in attempt_rows:
        names[(workflow, index)] = step
        step_entry(workflow, step)["attempts"][outcome] = int(count)

    for workflow, index, state, count in session.execute(
            sa.select(RUNS.c.workflow, RUNS.c.step_index, RUNS.c.state, sa.func.count())
            .where(RUNS.c.state.in_(("ready", "waiting", "dead")))
            .group_by(RUNS.c.workflow, RUNS.c.step_index, RUNS.c.state)).all():
        step = names.get((workflow, index), f"step {index + 1}")
        step_entry(workflow, step)["runs"][state] = int(count)

    durations: dict[tuple[str, str], list[float]] = defaultdict(list)
    for workflow, step, duration in session.execute(
            sa.select(RUNS.c.workflow, ATTEMPTS.c.step_name, ATTEMPTS.c.duration_ms)
            .join(RUNS, RUNS.c.id == ATTEMPTS.c.run_id)
            .where(ATTEMPTS.c.finished_at >= now - LATENCY_WINDOW, ATTEMPTS.c.kind != "operator",
                   ATTEMPTS.c.outcome != "lease-lost")
            .order_by(ATTEMPTS.c.id.desc()).limit(LATENCY_SAMPLE)).all():
        durations[(workflow, step)].append(float(duration))
    for (workflow, step), values in durations.items():
        values.sort()
        step_entry(workflow, step)["latency_ms"] = {
            "count": len(values), "p50": round(_percentile(values, 0.5), 3),
            "p95": round(_percentile(values, 0.95), 3), "max": round(values[-1], 3)}

    due = session.execute(sa.select(sa.func.count(), sa.func.min(RUNS.c.due_at))
                          .where(RUNS.c.state == "ready", RUNS.c.due_at <= now)).one()
    oldest = due[1]  # min() keeps the column's type: an aware datetime on both databases
    scheduled = session.execute(sa.select(sa.func.count()).where(RUNS.c.state == "ready",
                                                                 RUNS.c.due_at > now)).scalar_one()
    tasks: dict[str, dict[str, int]] = defaultdict(dict)
    for queue, state, count in session.execute(
            sa.select(TASKS.c.queue, TASKS.c.state, sa.func.count()).group_by(TASKS.c.queue, TASKS.c.state)).all():
        tasks[queue][state] = int(count)
    overdue = session.execute(sa.select(sa.func.count()).where(
        TASKS.c.state.in_(("open", "claimed")), TASKS.c.due_at < now)).scalar_one()
    jobs = {state: int(count) for state, count in session.execute(
        sa.select(JOBS.c.state, sa.func.count()).group_by(JOBS.c.state)).all()}
    return {
        "at": now.isoformat(),
        "queue_depth": int(due[0]),
        "oldest_due_age_seconds": round(max(0.0, (now - _aware(oldest)).total_seconds()), 3) if oldest else 0.0,
        "scheduled_later": int(scheduled),
        "workflows": {name: workflows[name] for name in sorted(workflows)},
        "review_tasks": {queue: tasks[queue] for queue in sorted(tasks)},
        "review_tasks_overdue": int(overdue),
        "batch_jobs": jobs,
    }


def _aware(value: datetime) -> datetime:
    from datetime import UTC

    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


class _StatsCollector(Collector):
    def __init__(self, stats: dict[str, Any]) -> None:
        self.stats = stats

    def collect(self) -> Any:
        stats = self.stats
        runs = GaugeMetricFamily("decisionary_workflow_runs", "Workflow runs by workflow and state",
                                 labels=["workflow", "state"])
        at_step = GaugeMetricFamily("decisionary_workflow_step_runs", "Runs currently at a step, by state",
                                    labels=["workflow", "step", "state"])
        attempts = CounterMetricFamily("decisionary_step_attempts", "Step attempts by outcome",
                                       labels=["workflow", "step", "outcome"])
        crashes = CounterMetricFamily("decisionary_workflow_crashes",
                                      "Leases of runs lost by their worker before finishing (not attempts)",
                                      labels=["workflow"])
        latency = GaugeMetricFamily("decisionary_step_latency_seconds",
                                    "Step attempt duration over the last hour, by quantile",
                                    labels=["workflow", "step", "quantile"])
        for workflow, data in stats["workflows"].items():
            for state, count in data["runs"].items():
                runs.add_metric([workflow, state], count)
            crashes.add_metric([workflow], data["crashes"])
            for step, entry in data["steps"].items():
                for state, count in entry["runs"].items():
                    at_step.add_metric([workflow, step, state], count)
                for outcome, count in entry["attempts"].items():
                    attempts.add_metric([workflow, step, outcome], count)
                if entry["latency_ms"]:
                    for quantile, key in (("0.5", "p50"), ("0.95", "p95"), ("1", "max")):
                        latency.add_metric([workflow, step, quantile], entry["latency_ms"][key] / 1000.0)
        yield runs
        yield at_step
        yield attempts
        yield crashes
        yield latency
        yield GaugeMetricFamily("decisionary_workflow_queue_depth", "Ready runs already due",
                                value=stats["queue_depth"])
        yield GaugeMetricFamily("decisionary_workflow_oldest_due_age_seconds",
                                "How long the oldest due step has been waiting", value=stats["oldest_due_age_seconds"])
        tasks = GaugeMetricFamily("decisionary_review_tasks", "Review tasks by queue and state",
                                  labels=["queue", "state"])
        for queue, states in stats["review_tasks"].items():
            for state, count in states.items():
                tasks.add_metric([queue, state], count)
        yield tasks
        yield GaugeMetricFamily("decisionary_review_tasks_overdue", "Open review tasks past their due time",
                                value=stats["review_tasks_overdue"])
        jobs = GaugeMetricFamily("decisionary_batch_jobs", "Batch jobs by state", labels=["state"])
        for state, count in stats["batch_jobs"].items():
            jobs.add_metric([state], count)
        yield jobs


def prometheus_text(stats: dict[str, Any]) -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_StatsCollector(stats))
    return bytes(generate_latest(registry))
