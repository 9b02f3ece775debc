"""Decision records, idempotency, and the unit of work they are written in."""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from decisions.errors import Location, Problem
from registry import (
    Conflict,
    DuplicateRequest,
    Invalid,
    NotFound,
    get_record,
    list_records,
    lookup_idempotent,
    record_decision,
    request_hash,
    unit_of_work,
)

BODY = {"inputs": {"Applicant Age": 40, "Credit Score": 800}}


def _record(session: Any, **overrides: Any) -> Any:
    fields: dict[str, Any] = {
        "key": "loan-approval", "version": 3, "content_hash": "ab" * 32, "alias": "production",
        "inputs": BODY["inputs"], "outputs": {"Risk Category": "Low", "Credit Limit": 50000},
        "fired": {"Risk Category": [4]}, "problems": [], "latency_us": 87, "caller": "svc-loans",
    }
    fields.update(overrides)
    return record_decision(session, **fields)


def test_a_record_reads_back_as_written(engine: Engine) -> None:
    with unit_of_work(engine) as session:
        written = _record(session)
    with unit_of_work(engine) as session:
        read = get_record(session, written.id)
    assert read == written
    assert len(read.id) == 26
    assert (read.key, read.version, read.alias, read.caller, read.latency_us) == (
        "loan-approval", 3, "production", "svc-loans", 87)
    assert read.outputs == {"Risk Category": "Low", "Credit Limit": 50000}
    assert list(read.outputs) == ["Risk Category", "Credit Limit"]  # order as evaluated
    assert read.fired == {"Risk Category": [4]}
    assert read.created_at.tzinfo is not None
    assert read.to_dict()["outputs"]["Credit Limit"] == 50000


def test_feel_values_and_problems_are_stored_as_json(engine: Engine) -> None:
    problem = Problem("input 'x' is missing", Location(element="x"), "warning", "missing-input")
    with unit_of_work(engine) as session:
        written = _record(session, outputs={"Limit": Decimal("1234.50"), "When": dt.date(2025, 1, 31),
                                            "Rate": Decimal("0.1")},
                          problems=[problem])
    with unit_of_work(engine) as session:
        read = get_record(session, written.id)
    assert read.outputs == {"Limit": 1234.5, "When": "2025-01-31", "Rate": 0.1}
    assert read.problems == [{"severity": "warning", "code": "missing-input", "message": "input 'x' is missing",
                              "location": {"element": "x"}}]


def test_values_that_cannot_be_json_are_refused_clearly(engine: Engine) -> None:
    circular: list[Any] = []
    circular.append(circular)
    with pytest.raises(Invalid, match="outputs cannot be stored as JSON"):
        with unit_of_work(engine) as session:
            _record(session, outputs={"x": circular})
    with unit_of_work(engine) as session:
        assert list_records(session) == []


def test_list_records_newest_first_with_paging(engine: Engine) -> None:
    with unit_of_work(engine) as session:
        ids = [_record(session, version=n, key="a" if n % 2 else "b").id for n in range(1, 6)]
    with unit_of_work(engine) as session:
        assert [r.id for r in list_records(session)] == ids[::-1]
        assert [r.version for r in list_records(session, key="a")] == [5, 3, 1]
        first_page = list_records(session, limit=2)
        second_page = list_records(session, limit=2, before=first_page[-1].id)
    assert [r.id for r in first_page + second_page] == ids[::-1][:4]


def test_unknown_record(engine: Engine) -> None:
    with unit_of_work(engine) as session:
        with pytest.raises(NotFound, match="no decision record"):
            get_record(session, "01ARZ3NDEKTSV4RRFFQ69G5FAV")


def test_a_failed_transaction_writes_nothing(engine: Engine) -> None:
    digest = request_hash(BODY)
    with pytest.raises(RuntimeError, match="action could not be queued"):
        with unit_of_work(engine) as session:
            _record(session, idempotency_key="k-1", request_hash=digest)
            raise RuntimeError("action could not be queued")
    with unit_of_work(engine) as session:
        assert list_records(session) == []
        assert lookup_idempotent(session, "svc-loans", "k-1", digest) is None


def test_the_same_key_and_body_get_the_first_answer(engine: Engine) -> None:
    digest = request_hash(BODY)
    with unit_of_work(engine) as session:
        assert lookup_idempotent(session, "svc-loans", "k-1", digest) is None
        first = _record(session, idempotency_key="k-1", request_hash=digest)
    with unit_of_work(engine) as session:
        again = lookup_idempotent(session, "svc-loans", "k-1", request_hash({"inputs": {
            "Credit Score": 800, "Applicant Age": 40}}))  # same body, other key order
    assert again == first
    with unit_of_work(engine) as session:
        assert len(list_records(session)) == 1


def test_the_same_key_with_another_body_is_a_conflict(engine: Engine) -> None:
    with unit_of_work(engine) as session:
        _record(session, idempotency_key="k-1", request_hash=request_hash(BODY))
    other = request_hash({"inputs": {"Applicant Age": 41, "Credit Score": 800}})
    with unit_of_work(engine) as session:
        with pytest.raises(Conflict, match="already used by svc-loans for a different request"):
            lookup_idempotent(session, "svc-loans", "k-1", other)
    # the same key from another caller is another key
    with unit_of_work(engine) as session:
        assert lookup_idempotent(session, "svc-other", "k-1", other) is None
        _record(session, caller="svc-other", idempotency_key="k-1", request_hash=other)


def test_a_key_recorded_meanwhile_is_detected_at_write_time(engine: Engine) -> None:
    digest = request_hash(BODY)
    with unit_of_work(engine) as session:
        first = _record(session, idempotency_key="k-1", request_hash=digest)
    # A request that missed the lookup (it ran before the first committed) and now writes:
    with pytest.raises(DuplicateRequest) as caught:
        with unit_of_work(engine) as session:
            _record(session, idempotency_key="k-1", request_hash=digest)
    assert caught.value.record_id == first.id
    with pytest.raises(Conflict, match="different request"):
        with unit_of_work(engine) as session:
            _record(session, idempotency_key="k-1", request_hash=request_hash({"other": 1}))
    with unit_of_work(engine) as session:
        assert [r.id for r in list_records(session)] == [first.id]


def test_concurrent_requests_with_one_key_write_one_record(engine: Engine) -> None:
    digest = request_hash(BODY)
    barrier = threading.Barrier(4)
    outcomes: list[Any] = []
    lock = threading.Lock()

    def attempt() -> None:
        barrier.wait(timeout=30)
        try:
            with unit_of_work(engine) as session:
                outcome: Any = _record(session, idempotency_key="k-race", request_hash=digest).id
        except DuplicateRequest as err:
            outcome = ("duplicate", err.record_id)
        except Exception as err:  # noqa: BLE001
            outcome = err
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=attempt) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    written = [o for o in outcomes if isinstance(o, str)]
    assert len(written) == 1, outcomes
    assert sorted(outcomes[i] for i in range(4) if not isinstance(outcomes[i], str)) == [
        ("duplicate", written[0])] * 3
    with unit_of_work(engine) as session:
        assert [r.id for r in list_records(session)] == written


def test_an_idempotency_key_needs_a_caller_and_a_request_hash(engine: Engine) -> None:
    with pytest.raises(Invalid, match="needs the caller and the request hash"):
        with unit_of_work(engine) as session:
            _record(session, caller=None, idempotency_key="k", request_hash="x")
    with pytest.raises(Invalid, match="idempotency key is 1-200 characters"):
        with unit_of_work(engine) as session:
            _record(session, idempotency_key="k" * 201, request_hash="x")


def test_request_hash_ignores_key_order_and_layout() -> None:
    assert request_hash({"a": 1, "b": [1, 2]}) == request_hash({"b": [1, 2], "a": 1})
    assert request_hash({"a": 1}) != request_hash({"a": 2})
    assert len(request_hash(None)) == 64
