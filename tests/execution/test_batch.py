"""Batch jobs over CSV and Parquet files: each row a decision with its workflows, the position
stored with each chunk so a job resumes where it stopped; schedules start a job once per
occurrence, however many workers look."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from execution.batch import claim_batch_job, get_job, process_batch_job, submit_batch
from execution.bindings_store import LoadedVersions
from execution.receiver import Receiver
from execution.schedules import add_schedule, fire_due_schedules
from execution.tables import ScheduleRow
from registry import unit_of_work
from registry.errors import Invalid
from registry.tables import utcnow
from tests.execution.conftest import SCORE_YAML, config_for, count, publish_model, settled, work


def chat_bindings(receiver: Receiver) -> str:
    return f"""
on:
  - when: Outcome = "big"
    run: alert
workflows:
  alert: {{steps: [{{notify: {{chat: {{url: "{receiver.url}/chat", text: "{{{{ inputs.Amount }}}}"}}}}}}]}}
"""


def write_rows(path: Path, n: int) -> Path:
    frame = pd.DataFrame({"Amount": [float(i * 10) for i in range(n)], "Email": [f"p{i}@x.y" for i in range(n)]})
    if path.suffix == ".csv":
        frame.loc[3, "Amount"] = None  # an empty cell: a missing input
        frame.to_csv(path, index=False)
    else:
        frame.to_parquet(path, index=False)
    return path


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_a_batch_decides_every_row_once_and_runs_their_workflows(engine: Engine, receiver: Receiver,
                                                                 tmp_path: Path, suffix: str) -> None:
    config = config_for()
    publish_model(engine, "score", SCORE_YAML, chat_bindings(receiver), config=config)
    source = write_rows(tmp_path / f"rows{suffix}", 450)
    with unit_of_work(engine) as session:
        job = submit_batch(session, model_ref="score", source=str(source), created_by="olga")
    assert job.state == "queued" and job.version == 1
    work(engine, config, lambda: count(engine, "SELECT count(*) FROM batch_jobs WHERE state = 'done'") == 1
         and settled(engine)(), timeout=60)
    with unit_of_work(engine, read_only=True) as session:
        done = get_job(session, job.id)
    assert (done.position, done.total) == (450, 450)
    assert count(engine, "SELECT count(*) FROM decision_records WHERE caller = :c", c=f"batch:{job.id}") == 450
    big = [i * 10 for i in range(450) if i * 10 > 100 and not (suffix == ".csv" and i == 3)]
    assert sorted(int(float(b["text"])) for b in receiver.processed_bodies("/chat")) == big
    assert count(engine, "SELECT count(*) FROM workflow_runs WHERE origin = :o", o=f"batch:{job.id}") == len(big)


class Killed(BaseException):
    """Stands for SIGKILL: nothing after it runs, no handler sees it."""


def test_a_job_resumes_where_its_worker_died(engine: Engine, receiver: Receiver, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    import execution.batch

    config = config_for()
    publish_model(engine, "score", SCORE_YAML, chat_bindings(receiver), config=config)
    source = write_rows(tmp_path / "rows.csv", 500)
    with unit_of_work(engine) as session:
        submit_batch(session, model_ref="score", source=str(source), created_by="olga")
    versions = LoadedVersions()
    first = claim_batch_job(engine, "w1", lease_seconds=0.5)
    assert first is not None and claim_batch_job(engine, "w2", lease_seconds=5) is None
    original = execution.batch.record_decision
    written: list[int] = []

    def record_then_die(*args: object, **kwargs: object) -> object:
        written.append(1)
        if len(written) == 250:  # in the middle of the second chunk
            raise Killed()
        return original(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(execution.batch, "record_decision", record_then_die)
    with pytest.raises(Killed):
        process_batch_job(engine, first, versions, config, chunk_rows=200, lease_seconds=0.5)
    monkeypatch.setattr(execution.batch, "record_decision", original)
    assert count(engine, "SELECT count(*) FROM decision_records") == 200  # the first chunk, all of it
    assert count(engine, "SELECT count(*) FROM batch_jobs WHERE position = 200 AND state = 'running'") == 1
    assert claim_batch_job(engine, "w2", lease_seconds=5) is None  # w1's lease still runs
    time.sleep(0.6)
    second = claim_batch_job(engine, "w2", lease_seconds=5)
    assert second is not None and second.position == 200
    assert process_batch_job(engine, second, versions, config, chunk_rows=200) == "done"
    assert count(engine, "SELECT count(*) FROM decision_records") == 500
    amounts = [r[0] for r in engine.connect().execute(sa.text(
        "SELECT count(DISTINCT CAST(inputs AS TEXT)) FROM decision_records")).all()]
    assert amounts == [500]  # every row once
    with unit_of_work(engine, read_only=True) as session:
        assert get_job(session, second.id).position == 500


def test_bad_submissions_are_refused(engine: Engine, tmp_path: Path) -> None:
    publish_model(engine, "score", SCORE_YAML, None)
    with unit_of_work(engine) as session:
        with pytest.raises(Invalid, match="no file"):
            submit_batch(session, model_ref="score", source=str(tmp_path / "nope.csv"), created_by="olga")
        with pytest.raises(Invalid, match="cannot tell the format"):
            submit_batch(session, model_ref="score", source=str(tmp_path / "rows.txt"), created_by="olga")


def test_an_unreadable_file_fails_the_job_with_the_reason(engine: Engine, tmp_path: Path) -> None:
    publish_model(engine, "score", SCORE_YAML, None)
    source = tmp_path / "rows.parquet"
    source.write_bytes(b"not parquet at all")
    with unit_of_work(engine) as session:
        job = submit_batch(session, model_ref="score", source=str(source), created_by="olga")
    work(engine, config_for(), lambda: count(engine, "SELECT count(*) FROM batch_jobs WHERE state = 'failed'") == 1)
    with unit_of_work(engine, read_only=True) as session:
        assert "Parquet" in (get_job(session, job.id).error or "")


def test_a_schedule_fires_once_per_occurrence_whatever_the_workers(engine: Engine, tmp_path: Path) -> None:
    publish_model(engine, "score", SCORE_YAML, None)
    source = write_rows(tmp_path / "nightly.csv", 5)
    with unit_of_work(engine) as session:
        schedule = add_schedule(session, name="nightly", cron="0 2 * * *", model_ref="score@production",
                                source=str(source), created_by="olga")
        with pytest.raises(Invalid, match="not a cron expression"):
            add_schedule(session, name="bad", cron="every night", model_ref="score", source=str(source),
                         created_by="olga")
    assert schedule.next_run_at.hour == 2 and schedule.next_run_at > utcnow()
    assert fire_due_schedules(engine) == []  # not due yet
    with engine.begin() as connection:
        connection.execute(sa.update(ScheduleRow.__table__).values(next_run_at=utcnow() - timedelta(minutes=1)))
    started: list[list[str]] = []
    threads = [threading.Thread(target=lambda: started.append(fire_due_schedules(engine))) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(len(s) for s in started) == [0, 0, 0, 1]
    assert count(engine, "SELECT count(*) FROM batch_jobs WHERE schedule_id IS NOT NULL") == 1
    with unit_of_work(engine, read_only=True) as session:
        from execution.schedules import get_schedule

        moved = get_schedule(session, "nightly")
    assert moved.next_run_at > utcnow() and moved.last_run_at is not None
