"""The synthetic history: decided by the real model, with a challenger, a drift, reviews, runs
and outcomes as its docstring says, chained, reproducible, and loaded once by the dev server."""

from __future__ import annotations

import json
import statistics
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

import decisions
from api.devserver import load_history, publish_examples
from audit.synthetic import CALLER, OUTCOME_DELAY, generate_history, has_history
from decisions.feel.values import to_json
from registry import make_engine, upgrade
from registry.chain import verify

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
END = datetime(2026, 6, 1, tzinfo=UTC)


def _publish(engine: Engine, tmp_path: Path) -> None:
    folder = tmp_path / "examples"
    folder.mkdir()
    (folder / "loan-approval.yaml").write_bytes((EXAMPLES / "loan-approval.yaml").read_bytes())
    publish_examples(engine, folder, receiver_url=None)


def _rows(engine: Engine, sql: str) -> list[sa.Row[object]]:
    with engine.connect() as connection:
        return list(connection.execute(sa.text(sql)))


def test_the_history_is_what_its_docstring_promises(engine: Engine, tmp_path: Path) -> None:
    _publish(engine, tmp_path)
    history = generate_history(engine, days=120, per_day=20, end=END, challenger_from_day=60, drift_days=20)
    assert history.challenger is not None and history.challenger != history.champion
    records = _rows(engine, "SELECT id, version, arm, inputs, outputs, created_at FROM decision_records "
                            f"WHERE caller = '{CALLER}' ORDER BY id")
    assert len(records) == history.decisions > 1500
    models = {history.champion: decisions.load((EXAMPLES / "loan-approval.yaml").read_text()),
              history.challenger: decisions.load((EXAMPLES / "challengers" / "loan-approval.yaml").read_text())}
    challenger_from = history.start + timedelta(days=60)
    in_split = arms = 0
    for record in records[::7]:
        inputs, outputs = _json(record.inputs), _json(record.outputs)
        expected = models[record.version].evaluate(inputs).outputs
        assert outputs == {name: to_json(value) for name, value in expected.items()}
    for record in records:
        if _aware(record.created_at) < challenger_from:
            assert record.arm is None and record.version == history.champion
        else:
            in_split += 1
            arms += record.arm == "challenger"
            assert (record.arm == "challenger") == (record.version == history.challenger)
    share = arms / in_split
    assert abs(share - 0.2) < 4 * (0.2 * 0.8 / in_split) ** 0.5, share

    # The drift: credit scores of the last 20 days are lower.
    late = [float(_json(r.inputs)["Credit Score"]) for r in records if _aware(r.created_at) >= history.drift_from]
    early = [float(_json(r.inputs)["Credit Score"]) for r in records if _aware(r.created_at) < history.drift_from]
    assert statistics.mean(early) - statistics.mean(late) > 25

    outcomes = _rows(engine, "SELECT o.decision_id, o.known_at, r.created_at, r.outputs FROM outcomes o "
                             "JOIN decision_records r ON r.id = o.decision_id")
    assert len(outcomes) == history.outcomes > 0
    for outcome in outcomes:
        assert _aware(outcome.known_at) - _aware(outcome.created_at) == OUTCOME_DELAY
        assert _aware(outcome.known_at) <= END
    reviews = _rows(engine, "SELECT t.outcome, r.outputs FROM review_tasks t JOIN decision_records r "
                            "ON r.id = t.decision_id")
    assert len(reviews) == history.reviews > 0
    assert all("Refer" in str(r.outputs) for r in reviews)
    assert {r.outcome for r in reviews} == {"approve", "reject", "override"}
    assert verify(engine).ok
    assert has_history(engine, "loan-approval")


def _json(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else json.loads(str(value))


def _aware(value: object) -> datetime:
    when = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def test_the_same_seed_gives_the_same_history(tmp_path: Path) -> None:
    ids = []
    for name in ("a", "b"):
        url = f"sqlite:///{tmp_path / name}.db"
        upgrade(url)
        engine = make_engine(url)
        (tmp_path / name).mkdir()
        _publish(engine, tmp_path / name)
        generate_history(engine, days=20, per_day=10, end=END, challenger_from_day=5, drift_days=5)
        ids.append(_rows(engine, "SELECT id, outputs, record_hash FROM decision_records ORDER BY id"))
        engine.dispose()
    assert ids[0] == ids[1] and len(ids[0]) > 100


def test_the_dev_server_loads_it_once(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'dev.db'}"
    upgrade(url)
    engine = make_engine(url)
    lines: list[str] = []
    load_history(engine, say=lines.append)
    assert any("no published loan-approval" in line for line in lines), lines
    _publish(engine, tmp_path)
    lines.clear()
    load_history(engine, say=lines.append)
    count = _rows(engine, "SELECT count(*) FROM decision_records")[0][0]
    assert count > 40_000, lines
    lines.clear()
    load_history(engine, say=lines.append)
    assert any("already loaded" in line for line in lines), lines
    assert _rows(engine, "SELECT count(*) FROM decision_records")[0][0] == count
    engine.dispose()
