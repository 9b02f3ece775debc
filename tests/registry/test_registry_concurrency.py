"""Concurrent writers: version numbers never collide, new keys register once, approvals queue."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from registry_samples import APPROVER, AUTHOR, loan_dmn
from sqlalchemy.engine import Engine

from registry import (
    Forbidden,
    InvalidTransition,
    approve,
    create_draft,
    history,
    list_models,
    list_versions,
    submit,
    unit_of_work,
)

THREADS = 8


def _run_together(work: Callable[[int], Any], count: int = THREADS) -> list[Any]:
    """Run work(0..count-1) in threads released at the same moment; results or exceptions."""
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count

    def run(i: int) -> None:
        barrier.wait(timeout=30)
        try:
            results[i] = work(i)
        except Exception as err:  # noqa: BLE001 - collected for the test to inspect
            results[i] = err

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    return results


def test_concurrent_drafts_of_a_new_key_get_distinct_numbers(engine: Engine) -> None:
    def draft(i: int) -> int:
        with unit_of_work(engine) as session:
            return create_draft(session, "busy", loan_dmn(limit=str(i)), author=f"author{i}").number

    numbers = _run_together(draft)
    assert [n for n in numbers if isinstance(n, Exception)] == []
    assert sorted(numbers) == list(range(1, THREADS + 1)), numbers
    with unit_of_work(engine) as session:
        assert [m.key for m in list_models(session)] == ["busy"]
        versions = list_versions(session, "busy")
    assert sorted(v.number for v in versions) == list(range(1, THREADS + 1))
    # each number belongs to exactly the content its thread wrote
    assert {v.author: v.number for v in versions} == {f"author{i}": n for i, n in enumerate(numbers)}


def test_concurrent_submits_of_an_existing_key(engine: Engine) -> None:
    with unit_of_work(engine) as session:
        create_draft(session, "existing", loan_dmn(), author=AUTHOR)

    def draft_and_submit(i: int) -> int:
        with unit_of_work(engine) as session:
            number = create_draft(session, "existing", loan_dmn(limit=str(i)), author=AUTHOR).number
            return submit(session, "existing", number, by=AUTHOR).number

    numbers = _run_together(draft_and_submit)
    assert [n for n in numbers if isinstance(n, Exception)] == []
    assert sorted(numbers) == list(range(2, THREADS + 2)), numbers


def test_two_approvals_of_one_version_record_one_transition(engine: Engine) -> None:
    with unit_of_work(engine) as session:
        number = create_draft(session, "contested", loan_dmn(), author=AUTHOR).number
        submit(session, "contested", number, by=AUTHOR)

    def try_approve(i: int) -> str:
        with unit_of_work(engine) as session:
            return approve(session, "contested", number, by=f"{APPROVER}{i}").state

    results = _run_together(try_approve, 4)
    assert results.count("approved") == 1, results
    assert all(isinstance(r, InvalidTransition) for r in results if r != "approved"), results
    with unit_of_work(engine) as session:
        assert [t.to_state for t in history(session, "contested", number)] == ["draft", "submitted", "approved"]


def test_maker_checker_holds_under_concurrency(engine: Engine) -> None:
    with unit_of_work(engine) as session:
        number = create_draft(session, "selfie", loan_dmn(), author=AUTHOR).number
        submit(session, "selfie", number, by=AUTHOR)

    def self_approve(_: int) -> str:
        with unit_of_work(engine) as session:
            return approve(session, "selfie", number, by=AUTHOR).state

    assert all(isinstance(r, Forbidden) for r in _run_together(self_approve, 3))
