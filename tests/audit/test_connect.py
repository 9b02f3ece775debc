"""audit.connect: the reviewer's answers as frames that plot themselves, on a synthetic history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from matplotlib.figure import Figure

import audit
from audit.frames import AuditFrame
from audit.reviewer import Audit
from audit.synthetic import demo_database

END = datetime(2026, 6, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("connect") / "demo.db"
    demo_database(path, days=150, per_day=25, end=END, challenger_from_day=100, drift_days=20)
    return path


def _drawn(figure: Figure) -> int:
    return sum(len(ax.patches) + len(ax.lines) + len(ax.collections) for ax in figure.axes)


def test_metrics_answer_in_frames_that_draw_reviewer_charts(history: Path) -> None:
    with audit.connect(history) as reviewer:
        metrics = reviewer.metrics("loan-approval", start=END - timedelta(days=150), end=END, window="week")
    assert isinstance(metrics.volume, AuditFrame) and metrics.volume["decisions"].sum() > 3000
    for frame in (metrics.volume, metrics.outputs, metrics.rules, metrics.reviews, metrics.workflows):
        figure = frame.plot()
        assert isinstance(figure, Figure) and _drawn(figure) > 0
    recent = metrics.volume[metrics.volume["version"] == metrics.volume["version"].max()]
    assert isinstance(recent, AuditFrame) and recent.kind == "volume"  # pandas operations keep the kind
    with pytest.raises(TypeError, match="no reviewer chart"):
        metrics.overrides.plot()


def test_performance_drift_and_comparison(history: Path) -> None:
    reviewer = audit.connect(f"sqlite:///{history}")
    try:
        performance = reviewer.performance("loan-approval", label="defaulted", decision_output="Decision",
                                           score="Credit Score", end=END)
        assert _drawn(performance.bad_rate_by_band.plot()) > 0
        auc = performance.discrimination["auc"].dropna()
        assert len(auc) and (auc > 0.5).all()  # higher scores do default less in the synthetic world
        drift = reviewer.drift("loan-approval", reference=(END - timedelta(days=60), END - timedelta(days=20)),
                               current=(END - timedelta(days=20), END))
        status = dict(zip(drift["name"], drift["status"], strict=True))
        assert status["Credit Score"] == "drift" and status["Applicant Age"] == "stable"
        assert _drawn(drift.plot()) > 0
        comparison = reviewer.comparison("loan-approval", end=END, label="defaulted")
        arms = dict(zip(comparison["version"], comparison["arm"], strict=True))
        assert set(arms.values()) == {"champion", "challenger"}
        assert comparison["share"].sum() == pytest.approx(1.0)
        assert {"Approve rate", "Reject rate", "bad rate"} <= set(comparison.columns)
    finally:
        reviewer.close()


def test_the_log_and_the_report(history: Path, tmp_path: Path) -> None:
    with audit.connect(history) as reviewer:
        rejected = reviewer.log("loan-approval", output="Decision:Reject", limit=120)
        assert len(rejected) == 120 and set(rejected["Decision"]) == {"Reject"}
        assert list(rejected["created_at"]) == sorted(rejected["created_at"], reverse=True)
        path = reviewer.report("loan-approval", out=tmp_path / "r.html", start=END - timedelta(days=60), end=END,
                               label="defaulted", score="Credit Score")
    html = path.read_text()
    assert html.startswith("<!DOCTYPE html>") and html.count("<svg") >= 6


def test_what_it_cannot_connect_to_is_refused_clearly(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no database file"):
        audit.connect(tmp_path / "missing.db")
    with audit.connect(f"sqlite:///{tmp_path / 'empty.db'}") as reviewer:
        assert isinstance(reviewer, Audit)
        with pytest.raises(TypeError, match="ISO 8601"):
            reviewer.metrics("loan-approval", start=12)
