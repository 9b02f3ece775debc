"""Performance against outcomes, on both databases, against figures worked out here: the outcome
as of a time (a later outcome does not change it, a repeated one counts once, ties go to the
latest received), bad rates by outcome and by score band, confusion, KS and AUC equal to scipy's
and scikit-learn's on the same arrays, calibration; shadow records and their outcomes never
count; bad arguments are named."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pytest
from scipy.stats import ks_2samp
from sklearn.metrics import roc_auc_score
from sqlalchemy.engine import Engine

from audit.log import QueryError
from audit.performance import compute_performance
from registry.views import DecisionRecord
from tests.audit.test_log import write_records
from tests.audit.test_metrics import KEY, MONDAY, add_outcome

KNOWN = MONDAY + timedelta(days=60)  # when most outcomes became known
AS_OF = MONDAY + timedelta(days=70)
LATER = MONDAY + timedelta(days=80)  # a restated outcome arrives: after AS_OF
NO_OUTCOME = {5, 17}
NO_LABEL = {21}


def _decision(i: int) -> str:
    return "Reject" if i % 4 == 0 else "Approve"


def _bad(i: int, as_of: datetime) -> bool | None:
    """The label the test's outcomes give decision i as of `as_of` (None: not known)."""
    if i in NO_OUTCOME or i in NO_LABEL:
        return None
    if i == 30:  # good, restated as bad after AS_OF
        return as_of >= LATER
    if i == 32:  # two outcomes known at once: the one received later (good) wins
        return False
    return i % 3 == 0 or i < 8


def _history(engine: Engine) -> list[DecisionRecord]:
    specs = [{"at": MONDAY + timedelta(hours=i), "version": 1 if i < 40 else 2,
              "inputs": {"Credit Score": 600 + 5 * i if i != 11 else 620},
              "outputs": {"Decision": _decision(i), "PD": round(0.9 - 0.02 * (i % 40), 4)}} for i in range(50)]
    records = write_records(engine, specs)
    for i, record in enumerate(records):
        if i in NO_OUTCOME:
            continue
        if i in NO_LABEL:
            add_outcome(engine, record, {"paid_off": True}, KNOWN)
        elif i == 30:
            add_outcome(engine, record, {"defaulted": False}, KNOWN)
            add_outcome(engine, record, {"defaulted": True}, LATER)
        elif i == 31:  # the same outcome sent twice (known a little later the second time)
            add_outcome(engine, record, {"defaulted": _bad(i, AS_OF)}, KNOWN)
            add_outcome(engine, record, {"defaulted": _bad(i, AS_OF)}, KNOWN + timedelta(hours=1))
        elif i == 32:
            add_outcome(engine, record, {"defaulted": True}, KNOWN, received_at=KNOWN)
            add_outcome(engine, record, {"defaulted": False}, KNOWN, received_at=KNOWN + timedelta(hours=2))
        else:
            add_outcome(engine, record, {"defaulted": _bad(i, AS_OF)}, KNOWN, values={"loss": 100 * i})
    shadows = write_records(engine, [{**specs[i], "version": 3, "shadow_of": records[i].id} for i in range(6)])
    for shadow in shadows:
        add_outcome(engine, shadow, {"defaulted": True}, KNOWN)
    return records


def _score(i: int) -> int:
    return 600 + 5 * i if i != 11 else 620


def _known(version: int, as_of: datetime) -> list[tuple[int, bool]]:
    return [(i, bad) for i in range(50) if (1 if i < 40 else 2) == version
            and (bad := _bad(i, as_of)) is not None]


def test_bad_rate_by_outcome_and_confusion_as_of_a_time(engine: Engine) -> None:
    _history(engine)
    for as_of in (AS_OF, LATER + timedelta(days=1)):
        performance = compute_performance(engine, KEY, label="defaulted", positive={"Reject"}, as_of=as_of,
                                          versions=[1])
        by_outcome = performance.bad_rate_by_outcome.set_index("value")
        known = _known(1, as_of)
        for value in ("Approve", "Reject"):
            mine = [bad for i, bad in known if _decision(i) == value]
            row = by_outcome.loc[value]
            assert row["decisions"] == sum(_decision(i) == value for i in range(40))
            assert (row["known"], row["bad"]) == (len(mine), sum(mine))
            assert row["bad_rate"] == pytest.approx(sum(mine) / len(mine))
        confusion = {(r["predicted"], r["actual"]): r["count"] for r in performance.confusion.to_dict("records")}
        expected: dict[tuple[str, str], int] = {}
        for i, bad in known:
            place = ("bad" if _decision(i) == "Reject" else "good", "bad" if bad else "good")
            expected[place] = expected.get(place, 0) + 1
        assert confusion == expected
    before = compute_performance(engine, KEY, label="defaulted", as_of=AS_OF).bad_rate_by_outcome
    after = compute_performance(engine, KEY, label="defaulted", as_of=LATER).bad_rate_by_outcome
    assert int(after["bad"].sum()) == int(before["bad"].sum()) + 1  # decision 30, restated
    assert int(after["known"].sum()) == int(before["known"].sum())
    # As of a time before any outcome was known, nothing is.
    early = compute_performance(engine, KEY, label="defaulted", as_of=KNOWN - timedelta(seconds=1))
    assert int(early.bad_rate_by_outcome["known"].sum()) == 0 and early.discrimination.empty


def test_discrimination_equals_scipy_and_sklearn(engine: Engine) -> None:
    _history(engine)
    performance = compute_performance(engine, KEY, label="defaulted", score="Credit Score", as_of=AS_OF)
    rows = performance.discrimination.set_index("version")
    for version in (1, 2):
        known = _known(version, AS_OF)
        scores = np.array([_score(i) for i, _ in known], dtype=float)
        bad = np.array([b for _, b in known])
        row = rows.loc[version]
        assert (row["known"], row["bad"]) == (len(known), bad.sum())
        result = ks_2samp(scores[~bad], scores[bad])
        assert row["ks"] == pytest.approx(result.statistic) and row["ks_pvalue"] == pytest.approx(result.pvalue)
        auc = roc_auc_score(~bad, scores)  # the score predicting good
        assert row["auc"] == pytest.approx(auc) and row["gini"] == pytest.approx(2 * auc - 1)
    assert performance.discrimination.set_index("version")["auc"][1] > 0.5  # higher scores were the better risks here


def test_score_bands_and_calibration(engine: Engine) -> None:
    _history(engine)
    performance = compute_performance(engine, KEY, label="defaulted", score="Credit Score", bands=4, as_of=AS_OF,
                                      versions=[1])
    bands = performance.bad_rate_by_band.sort_values("band")
    known = _known(1, AS_OF)
    assert list(bands["band"]) == [1, 2, 3, 4]
    assert int(bands["known"].sum()) == len(known) and int(bands["bad"].sum()) == sum(b for _, b in known)
    assert max(bands["known"]) - min(bands["known"]) <= 2  # equal-count bands, up to ties
    previous_upper = -np.inf
    for row in bands.to_dict("records"):
        inside = [(i, b) for i, b in known if row["lower"] <= _score(i) <= row["upper"]]
        assert row["lower"] > previous_upper
        assert (row["known"], row["bad"]) == (len(inside), sum(b for _, b in inside))
        assert row["mean_score"] == pytest.approx(np.mean([_score(i) for i, _ in inside]))
        assert row["bad_rate"] == pytest.approx(row["bad"] / row["known"])
        previous_upper = row["upper"]
    assert performance.calibration["predicted_rate"].isna().all()  # a credit score is no probability

    by_pd = compute_performance(engine, KEY, label="defaulted", score="PD", bands=4, as_of=AS_OF, versions=[1])
    calibration = by_pd.calibration.merge(by_pd.bad_rate_by_band[["band", "lower", "upper"]], on="band")
    assert len(calibration) == 4 and int(calibration["known"].sum()) == len(known)
    assert list(calibration["predicted_rate"]) == pytest.approx(list(calibration["mean_score"]))
    for row in calibration.to_dict("records"):
        inside = [(i, b) for i, b in known if row["lower"] <= round(0.9 - 0.02 * i, 4) <= row["upper"]]
        assert row["known"] == len(inside)
        assert row["observed_rate"] == pytest.approx(sum(b for _, b in inside) / len(inside))
        assert row["mean_score"] == pytest.approx(np.mean([round(0.9 - 0.02 * i, 4) for i, _ in inside]))


def test_without_positive_or_score_those_frames_are_empty(engine: Engine) -> None:
    _history(engine)
    performance = compute_performance(engine, KEY, label="defaulted", decision_output="Decision")
    assert performance.confusion.empty and performance.discrimination.empty and performance.bad_rate_by_band.empty
    assert not performance.bad_rate_by_outcome.empty
    assert list(performance.calibration.columns) == ["version", "band", "mean_score", "predicted_rate",
                                                     "observed_rate", "known"]


@pytest.mark.parametrize(("arguments", "parameter"), [
    ({"label": ""}, "label"),
    ({"label": "defaulted", "bands": 0}, "bands"),
    ({"label": "defaulted", "score": "Income"}, "score"),
    ({"label": "defaulted", "score": "Decision"}, "score"),
    ({"label": "defaulted", "positive": "Reject"}, "positive"),
    ({"label": "defaulted", "decision_output": "Credit Score"}, "decision_output"),  # an input
    ({"label": "defaulted", "as_of": datetime(2026, 1, 1)}, "as_of"),
])
def test_bad_arguments_are_named(engine: Engine, arguments: dict[str, Any], parameter: str) -> None:
    write_records(engine, [{"at": MONDAY, "inputs": {"Credit Score": 700}, "outputs": {"Decision": "Approve"}}])
    with pytest.raises(QueryError) as raised:
        compute_performance(engine, KEY, **arguments)
    assert raised.value.parameter == parameter
