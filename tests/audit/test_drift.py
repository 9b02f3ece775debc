"""Population stability on both databases: identical periods give 0, a shifted number and moved
categories give the index worked out here (reference deciles, the epsilon for an empty bin),
nulls are a bin, shadow records never count; check_drift writes an alert per drifted name with
the runs start_workflow started, and keeps the alert when starting them fails."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from audit.drift import EPSILON, DriftFinding, check_drift, population_stability, stability
from audit.log import QueryError
from audit.store import ALERTS
from registry.views import DecisionRecord
from tests.audit.test_log import write_records
from tests.audit.test_metrics import KEY, MONDAY

REFERENCE = (MONDAY, MONDAY + timedelta(days=7))
CURRENT = (MONDAY + timedelta(days=7), MONDAY + timedelta(days=14))
SCORES = [300 + 5 * k for k in range(100)]


def _write(engine: Engine, start: Any, scores: Sequence[int | None], channels: list[str], decisions: list[str],
           version: int = 1, shadow_of: str | None = None) -> list[DecisionRecord]:
    return write_records(engine, [{"at": start + timedelta(minutes=10 * k), "version": version,
                                   "inputs": {"Score": score, "Channel": channel}, "outputs": {"Decision": decision},
                                   "shadow_of": shadow_of}
                                  for k, (score, channel, decision) in enumerate(zip(scores, channels, decisions,
                                                                                    strict=True))])


def _psi(reference: list[float], current: list[float]) -> float:
    return sum((c - r) * math.log(c / r) for r, c in zip((max(x, EPSILON) for x in reference),
                                                         (max(x, EPSILON) for x in current), strict=True))


def _decile_shares(reference: list[int], values: list[int]) -> list[float]:
    edges = np.unique(np.quantile(reference, np.linspace(0, 1, 11))[1:-1])
    bounds = [-math.inf, *edges, math.inf]
    return [sum(1 for v in values if bounds[j] < v <= bounds[j + 1]) / len(values) for j in range(len(bounds) - 1)]


def test_identical_periods_are_stable(engine: Engine) -> None:
    channels = ["web"] * 50 + ["branch"] * 50
    decisions = ["Approve"] * 70 + ["Reject"] * 30
    _write(engine, REFERENCE[0], SCORES, channels, decisions)
    _write(engine, CURRENT[0], list(reversed(SCORES)), channels[::-1], decisions[::-1])
    summary = population_stability(engine, KEY, reference=REFERENCE, current=CURRENT)
    assert set(zip(summary["kind"], summary["name"], strict=True)) == {("input", "Score"), ("input", "Channel"),
                                                                      ("output", "Decision")}
    assert summary["psi"].abs().max() < 1e-12
    assert set(summary["status"]) == {"stable"}
    assert set(summary["reference_n"]) == {100} and set(summary["current_n"]) == {100}
    bins = pd.DataFrame(summary.attrs["bins"])
    assert len(bins[bins["name"] == "Score"]) == 10  # reference deciles
    for _, mine in bins.groupby("name"):
        assert mine["reference_share"].sum() == pytest.approx(1) and mine["current_share"].sum() == pytest.approx(1)


def test_shifted_and_moved_distributions_cross_the_threshold(engine: Engine) -> None:
    _write(engine, REFERENCE[0], SCORES, ["web"] * 50 + ["branch"] * 50, ["Approve"] * 70 + ["Reject"] * 30)
    shifted = [s + 150 for s in SCORES[:90]] + [None] * 10  # ten current decisions have no score
    live = _write(engine, CURRENT[0], shifted, ["web"] * 50 + ["branch"] * 40 + ["phone"] * 10,
                  ["Approve"] * 40 + ["Reject"] * 60)
    # A shadow version's records are not the population.
    _write(engine, CURRENT[0] + timedelta(seconds=1), [10_000] * 5, ["fax"] * 5, ["Refer"] * 5, version=9,
           shadow_of=live[0].id)

    found = stability(engine, KEY, reference=REFERENCE, current=CURRENT)
    bins = found.bins
    summary = found.summary.set_index("name")
    assert pd.DataFrame(population_stability(engine, KEY, reference=REFERENCE, current=CURRENT).attrs["bins"]) \
        .equals(bins)
    numbers = [s for s in shifted if s is not None]
    reference_shares = [*_decile_shares(SCORES, SCORES), 0.0]  # the last bin: null
    current_shares = [*(share * len(numbers) / 100 for share in _decile_shares(SCORES, numbers)), 10 / 100]
    assert summary.loc["Score", "psi"] == pytest.approx(_psi(reference_shares, current_shares))
    assert summary.loc["Score", "status"] == "drift" and summary.loc["Score", "current_n"] == 100
    # Categories: "phone" is new, so its reference share is the epsilon.
    assert summary.loc["Channel", "psi"] == pytest.approx(_psi([0.5, 0.5, 0.0], [0.5, 0.4, 0.1]))
    assert summary.loc["Decision", "psi"] == pytest.approx(_psi([0.7, 0.3], [0.4, 0.6]))
    assert summary.loc["Decision", "status"] == "drift"
    watched = population_stability(engine, KEY, reference=REFERENCE, current=CURRENT, names=["Channel"],
                                   thresholds=(0.5, 0.8))
    assert list(watched["status"]) == ["watch"] and list(watched["name"]) == ["Channel"]
    null_bin = bins[(bins["name"] == "Score") & (bins["bin"] == "null")]
    assert null_bin[["reference_count", "current_count"]].values.tolist() == [[0, 10]]


def test_check_drift_writes_alerts_and_starts_the_workflow(engine: Engine) -> None:
    _write(engine, REFERENCE[0], SCORES, ["web"] * 100, ["Approve"] * 70 + ["Reject"] * 30)
    _write(engine, CURRENT[0], [s + 150 for s in SCORES], ["web"] * 100, ["Approve"] * 69 + ["Reject"] * 31)
    seen: list[DriftFinding] = []

    def start_workflow(finding: DriftFinding) -> list[str]:
        seen.append(finding)
        json.dumps(finding.as_dict())  # what the workflow gets is JSON
        return [f"run-{finding.name}"]

    findings = check_drift(engine, KEY, reference=REFERENCE, current=CURRENT, start_workflow=start_workflow)
    assert [f.name for f in seen] == ["Score"] and [f.name for f in findings] == ["Score"]
    assert findings[0].run_ids == ("run-Score",) and findings[0].alert_id is not None
    with engine.connect() as connection:
        alerts = [dict(r) for r in connection.execute(sa.select(ALERTS)).mappings()]
    assert len(alerts) == 1
    alert = alerts[0]
    assert (alert["id"], alert["model_key"], alert["kind"], alert["subject"]) == (findings[0].alert_id, KEY, "drift",
                                                                                  "Score")
    assert alert["value"] == pytest.approx(seen[0].psi) and alert["value"] >= 0.25
    assert alert["threshold"] == 0.25 and alert["run_ids"] == ["run-Score"]
    assert alert["detail"]["kind"] == "input" and len(alert["detail"]["bins"]) == 10

    def broken(finding: DriftFinding) -> list[str]:
        raise RuntimeError("the outbox is down")

    failed = check_drift(engine, KEY, reference=REFERENCE, current=CURRENT, start_workflow=broken)
    assert failed[0].run_ids == () and failed[0].error == "RuntimeError: the outbox is down"
    with engine.connect() as connection:
        stored = connection.execute(sa.select(ALERTS.c.detail, ALERTS.c.run_ids)
                                    .where(ALERTS.c.id == failed[0].alert_id)).one()
    assert stored.run_ids == [] and stored.detail["workflow_error"] == "RuntimeError: the outbox is down"
    assert check_drift(engine, KEY, reference=REFERENCE, current=CURRENT, names=["Decision"]) == []


def test_no_decisions_in_a_period_is_no_data(engine: Engine) -> None:
    _write(engine, REFERENCE[0], SCORES[:10], ["web"] * 10, ["Approve"] * 10)
    summary = population_stability(engine, KEY, reference=REFERENCE, current=CURRENT)
    assert set(summary["status"]) == {"no data"} and summary["psi"].isna().all()
    assert check_drift(engine, KEY, reference=REFERENCE, current=CURRENT, start_workflow=lambda f: ["x"]) == []


@pytest.mark.parametrize(("arguments", "parameter"), [
    ({"reference": (CURRENT[1], CURRENT[0])}, "reference"),
    ({"reference": MONDAY}, "reference"),
    ({"current": (MONDAY.replace(tzinfo=None), MONDAY + timedelta(days=1))}, "current[0]"),
    ({"thresholds": (0.3, 0.1)}, "thresholds"),
    ({"bins": 1}, "bins"),
    ({"names": ["Income"]}, "names"),
    ({"versions": [0]}, "versions"),
])
def test_bad_arguments_are_named(engine: Engine, arguments: dict[str, Any], parameter: str) -> None:
    _write(engine, REFERENCE[0], SCORES[:10], ["web"] * 10, ["Approve"] * 10)
    with pytest.raises(QueryError) as raised:
        population_stability(engine, KEY, **{"reference": REFERENCE, "current": CURRENT, **arguments})
    assert raised.value.parameter == parameter


def test_a_large_period_is_read_as_a_deterministic_sample(engine: Engine) -> None:
    """Over `sample` decisions, the shares come from a stable subset of about that many, the
    counts still say how many there were, and the index stays close to the one over everything."""
    rng = np.random.default_rng(3)
    n = 4000  # one a minute: under 3 days of each period

    def period(start: Any, scores: Any, channels: list[str]) -> list[dict[str, Any]]:
        return [{"at": start + timedelta(minutes=k), "version": 1, "inputs": {"Score": int(score), "Channel": channel},
                 "outputs": {"Decision": "Approve"}} for k, (score, channel) in enumerate(zip(scores, channels,
                                                                                             strict=True))]

    write_records(engine, period(REFERENCE[0], rng.normal(650, 50, n), ["web"] * n)
                  + period(CURRENT[0], rng.normal(630, 50, n), ["web"] * (n // 2) + ["branch"] * (n - n // 2)))
    everything = population_stability(engine, KEY, reference=REFERENCE, current=CURRENT, sample=n)
    sampled = population_stability(engine, KEY, reference=REFERENCE, current=CURRENT, sample=1500)
    again = population_stability(engine, KEY, reference=REFERENCE, current=CURRENT, sample=1500)
    assert set(everything["reference_read"]) == {n} and set(everything["current_read"]) == {n}
    assert set(sampled["reference_n"]) == {n} and set(sampled["current_n"]) == {n}
    for column in ("reference_read", "current_read"):
        assert 1200 <= int(sampled[column].iloc[0]) <= 1800  # about 1500 of 4000
    pd.testing.assert_frame_equal(sampled, again)
    full = dict(zip(everything["name"], everything["psi"], strict=True))
    part = dict(zip(sampled["name"], sampled["psi"], strict=True))
    assert full["Channel"] > 1 and part["Channel"] == pytest.approx(full["Channel"], rel=0.1)
    assert full["Score"] > 0.1 and abs(part["Score"] - full["Score"]) < 0.05
    with pytest.raises(QueryError, match="sample"):
        population_stability(engine, KEY, reference=REFERENCE, current=CURRENT, sample=99)


def test_many_distinct_texts_share_one_bin_and_an_empty_period_has_none(engine: Engine) -> None:
    """An id-like input gets its 50 most frequent values and "(other)", not a bin per record; a
    period without decisions gives no index and no bins, however many the other period has."""
    channels = [f"agent-{k}" for k in range(100)]  # 100 distinct values in each period
    _write(engine, REFERENCE[0], SCORES, channels, ["Approve"] * 100)
    _write(engine, CURRENT[0], SCORES, channels[::-1], ["Approve"] * 100)
    result = stability(engine, KEY, reference=REFERENCE, current=CURRENT)
    channel_bins = result.bins[result.bins["name"] == "Channel"]
    assert len(channel_bins) == 51 and channel_bins["bin"].iloc[-1] == "(other)"
    assert channel_bins["reference_count"].sum() == 100 and channel_bins["current_count"].sum() == 100
    assert result.summary.set_index("name").loc["Channel", "psi"] == pytest.approx(0, abs=1e-12)

    empty = stability(engine, KEY, reference=(REFERENCE[0] - timedelta(days=30), REFERENCE[0]), current=CURRENT)
    assert set(empty.summary["status"]) == {"no data"} and empty.bins.empty
    assert set(empty.summary["current_n"]) == {100} and set(empty.summary["reference_n"]) == {0}
