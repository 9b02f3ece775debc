"""audit.connect over HTTP: a reviewer's notebook against a running service (both databases) gets
the same frames as one reading the database itself, and the same charts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

import audit
from api.client import ServiceError
from audit.frames import AuditFrame
from audit.reviewer import Audit, DatabaseSource
from audit.synthetic import generate_history
from tests.api.conftest import Live

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
END = datetime(2026, 6, 1, tzinfo=UTC)
KEY = "loan-approval"


def _same(remote: pd.DataFrame, local: pd.DataFrame) -> None:
    """The same columns and values (a missing value is missing, whether None or NaN)."""
    assert list(remote.columns) == list(local.columns)

    def plain(frame: pd.DataFrame) -> pd.DataFrame:
        frame = pd.DataFrame(frame).reset_index(drop=True)
        return frame.astype(object).where(frame.notna(), None)

    assert_frame_equal(plain(remote), plain(local), check_dtype=False, check_index_type=False,
                       check_column_type=False, atol=1e-9)


def test_the_service_answers_as_the_database_does(live: Live, tmp_path: Path) -> None:
    live.publish(KEY, (EXAMPLES / "loan-approval.yaml").read_bytes(), "loan-approval.yaml")
    generate_history(live.engine, days=100, per_day=10, end=END, challenger_from_day=60, drift_days=20)
    local = Audit(DatabaseSource(live.engine))  # not closed: the engine belongs to the fixture
    with audit.connect(live.url, api_key=live.keys["reviewer"]) as remote:
        period = {"start": END - timedelta(days=100), "end": END}
        there, here = remote.metrics(KEY, window="week", **period), local.metrics(KEY, window="week", **period)
        for name in ("volume", "outputs", "rules", "never_fired", "reviews", "overrides", "workflows"):
            _same(getattr(there, name), getattr(here, name))
        assert there.volume["decisions"].sum() > 500
        assert isinstance(there.volume, AuditFrame) and there.volume.plot().axes
        assert str(there.volume["window_start"].dtype).startswith("datetime64")

        there_p = remote.performance(KEY, label="defaulted", score="Credit Score", **period)
        here_p = local.performance(KEY, label="defaulted", score="Credit Score", **period)
        _same(there_p.discrimination, here_p.discrimination)
        _same(there_p.bad_rate_by_band, here_p.bad_rate_by_band)

        windows = {"reference": (END - timedelta(days=60), END - timedelta(days=20)),
                   "current": (END - timedelta(days=20), END)}
        drift = remote.drift(KEY, **windows)
        _same(drift, local.drift(KEY, **windows))
        assert dict(zip(drift["name"], drift["status"], strict=True))["Credit Score"] == "drift"
        assert drift.attrs["bins"] and drift.plot().axes

        _same(remote.comparison(KEY, end=END, label="defaulted"), local.comparison(KEY, end=END, label="defaulted"))

        logged = remote.log(KEY, output="Decision:Reject", limit=30, end=END)
        assert len(logged) == 30 and set(logged["Decision"]) == {"Reject"}
        _same(logged, local.log(KEY, output="Decision:Reject", limit=30, end=END))

        challenger = int(there.volume["version"].max())
        replayed = remote.replay(KEY, challenger, alias="production")
        assert replayed.rows > 0 and replayed.changed["changed"].iloc[0] >= 0
        assert live.client("reviewer").get(f"/v1/models/{KEY}/versions/{challenger}/replays").json() == []

        page = remote.report(KEY, out=tmp_path / "r.html", label="defaulted", score="Credit Score", **period)
        assert page.read_text().startswith("<!DOCTYPE html>")

        with pytest.raises(ServiceError, match="404") as refused:
            remote.metrics("no-such-model")
        assert refused.value.status == 404
    with audit.connect(live.url, api_key=live.keys["caller"]) as wrong_role, pytest.raises(ServiceError, match="403"):
        wrong_role.metrics(KEY)


def test_a_reviewer_may_replay_only_without_attaching(live: Live) -> None:
    live.publish(KEY, (EXAMPLES / "loan-approval.yaml").read_bytes(), "loan-approval.yaml")
    generate_history(live.engine, days=30, per_day=5, end=END, challenger_from_day=10, drift_days=5)
    attached = live.client("reviewer").post(f"/v1/models/{KEY}/versions/2/replay", json={"attach": True})
    assert attached.status_code == 403 and attached.json()["errors"][0]["pointer"] == "/attach"
    assert live.client("viewer").get(f"/v1/models/{KEY}/versions/2/replays").json() == []
    author = live.client("author").post(f"/v1/models/{KEY}/versions/2/replay", json={})
    assert author.status_code == 201, author.text
    assert len(live.client("viewer").get(f"/v1/models/{KEY}/versions/2/replays").json()) == 1


def test_connecting_to_a_service_needs_a_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DECISIONARY_API_KEY", raising=False)
    with pytest.raises(ValueError, match="API key"):
        audit.connect("http://127.0.0.1:9")
    with pytest.raises(ValueError, match="api_key is for a service"):
        audit.connect("sqlite:///x.db", api_key="k")
