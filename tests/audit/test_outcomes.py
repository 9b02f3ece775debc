"""Outcomes matched by business key: the latest live decision made by the time it became known."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.engine import Engine

from audit.outcomes import import_outcomes, outcomes_for, record_outcome
from registry import Invalid, NotFound, record_decision, unit_of_work

T0 = datetime(2026, 3, 1, tzinfo=UTC)


def _decide(engine: Engine, business_key: str, at: datetime, shadow_of: str | None = None) -> str:
    with unit_of_work(engine) as session:
        return record_decision(session, key="loans", version=1, content_hash="ab" * 32, inputs={"Id": business_key},
                               outputs={"Decision": "Approve"}, latency_us=1, business_key=business_key,
                               created_at=at, shadow_of=shadow_of).id


def test_by_business_key_the_decision_made_by_then_is_chosen(engine: Engine) -> None:
    first = _decide(engine, "APP-1", T0)
    again = _decide(engine, "APP-1", T0 + timedelta(days=10))  # decided again later
    _decide(engine, "APP-1", T0 + timedelta(days=11), shadow_of=again)
    early = record_outcome(engine, key="loans", business_key="APP-1", labels=["defaulted"],
                           known_at=T0 + timedelta(days=5), now=T0 + timedelta(days=30))
    late = record_outcome(engine, key="loans", business_key="APP-1", labels={"defaulted": False},
                          known_at=T0 + timedelta(days=20), now=T0 + timedelta(days=30))
    assert (early.decision_id, late.decision_id) == (first, again)
    with pytest.raises(NotFound, match="APP-2"):
        record_outcome(engine, key="loans", business_key="APP-2", labels=["defaulted"], now=T0)
    with pytest.raises(Invalid, match="before decision"):
        record_outcome(engine, decision_id=again, labels=["defaulted"], known_at=T0, now=T0 + timedelta(days=30))


def test_a_file_keyed_by_business_key(engine: Engine) -> None:
    ids = [_decide(engine, f"APP-{i}", T0 + timedelta(hours=i)) for i in range(4)]
    text = "Application,known_at,label:defaulted,value:loss\n" + "\n".join(
        f"APP-{i},{(T0 + timedelta(days=90)).isoformat()},{i % 2 == 0},{i * 100}" for i in range(4))
    summary = import_outcomes(engine, "loans", text.encode(), filename="o.csv", business_key_column="Application",
                              now=T0 + timedelta(days=100))
    assert (summary.added, summary.repeated) == (4, 0)
    again = import_outcomes(engine, "loans", text.encode(), filename="o.csv", business_key_column="Application",
                            now=T0 + timedelta(days=100))
    assert (again.added, again.repeated) == (0, 4)
    table = outcomes_for(engine, "loans", as_of=T0 + timedelta(days=100)).set_index("decision_id")
    assert [bool(table.loc[i, "label:defaulted"]) for i in ids] == [True, False, True, False]
    assert [table.loc[i, "value:loss"] for i in ids] == [0, 100, 200, 300]
    assert outcomes_for(engine, "loans", as_of=T0 + timedelta(days=89)).empty
