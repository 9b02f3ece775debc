"""How decisions turned out: bad rates, score bands, confusion, discrimination and calibration.

    performance = compute_performance(engine, "loan-approval", label="defaulted",
                                      decision_output="Decision", positive={"Reject"},
                                      score="Credit Score", as_of=...)

A decision is "bad" when its outcome's label `label` is true and "good" when it is false; its
outcome is the one known as of `as_of` (default now): the outcomes row with the latest
known_at <= as_of (audit.store.latest_outcomes), so figures as of a time never change when later
outcomes arrive, and a repeated outcome counts once. A decision whose outcome is unknown, or
whose label is missing or not a boolean, is not "known" and counts in no rate. Shadow
versions' records never count.

`Performance` holds one DataFrame per subject, with these columns:

    bad_rate_by_outcome  version, value, decisions, known, bad, bad_rate
    bad_rate_by_band     version, band, lower, upper, known, bad, bad_rate, mean_score
    confusion            version, predicted, actual, count
    discrimination       version, known, bad, ks, ks_pvalue, auc, gini
    calibration          version, band, mean_score, predicted_rate, observed_rate, known

- bad_rate_by_outcome: per value of `decision_output` (a decision's name, or "Decision.Output"
  for one output of a multi-output decision; default: the last decision in the records whose
  values are text). `decisions` counts every decision in the period, `known` those with a known
  outcome.
- bands: `bands` equal-count bands of the known decisions' `score` (an input or an output that
  is a number), per version, numbered from 1 (lowest scores); ties stay in one band, so there
  may be fewer. `lower` and `upper` are the lowest and highest score in the band.
- confusion: `predicted` is "bad" when the decision output is in `positive` (e.g. {"Reject"}),
  else "good"; `actual` is the outcome, "bad" or "good". Empty without `positive`.
- discrimination: KS is scipy.stats.ks_2samp of the good and the bad decisions' scores (with
  its p-value); AUC is sklearn's roc_auc_score of the score predicting GOOD (a higher score
  meaning a lower risk, as for a credit score: AUC > 0.5 when that holds), Gini = 2 AUC - 1. A
  score that measures risk (a probability of default) gives AUC < 0.5 and a negative Gini.
  NaN when a version has no good or no bad decision with a score.
- calibration: per band, the observed bad rate against the score itself when the score is a
  probability (every score in [0, 1]): predicted_rate is then the band's mean score, else NaN.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

import numpy as np
import pandas as pd
import sqlalchemy as sa
from scipy.stats import ks_2samp
from sklearn.metrics import roc_auc_score
from sqlalchemy.engine import Engine

from audit import rollups, windows
from audit.log import QueryError
from audit.store import (
    RECORDS,
    Field,
    Scope,
    check_as_of,
    find_field,
    frame,
    is_number,
    json_text,
    latest_outcomes,
    make_scope,
    parse_texts,
    sample_fields,
    value_key,
)

BY_OUTCOME = ["version", "value", "decisions", "known", "bad", "bad_rate"]
BY_BAND = ["version", "band", "lower", "upper", "known", "bad", "bad_rate", "mean_score"]
CONFUSION = ["version", "predicted", "actual", "count"]
DISCRIMINATION = ["version", "known", "bad", "ks", "ks_pvalue", "auc", "gini"]
CALIBRATION = ["version", "band", "mean_score", "predicted_rate", "observed_rate", "known"]


@dataclass(frozen=True)
class Performance:
    bad_rate_by_outcome: pd.DataFrame
    bad_rate_by_band: pd.DataFrame
    confusion: pd.DataFrame
    discrimination: pd.DataFrame
    calibration: pd.DataFrame


def compute_performance(engine: Engine, key: str, *, label: str, decision_output: str | None = None,
                        positive: Iterable[Any] | None = None, score: str | None = None, bands: int = 10,
                        start: datetime | None = None, end: datetime | None = None,
                        as_of: datetime | None = None, versions: Sequence[int] | None = None) -> Performance:
    """The performance of `key`'s decisions in [start, end) against their outcomes (see the module
    docstring). Bad arguments raise audit.log.QueryError naming the argument."""
    if not isinstance(label, str) or not label:
        raise QueryError("label", f"must name an outcome label, got {label!r}")
    if isinstance(bands, bool) or not isinstance(bands, int) or not 1 <= bands <= 100:
        raise QueryError("bands", f"must be a whole number from 1 to 100, got {bands!r}")
    positive_keys = _positive_keys(positive)
    scope = make_scope(key, start=start, end=end, versions=versions)
    as_of = check_as_of(as_of)
    fields = sample_fields(engine, scope)
    output = _decision_output(fields, decision_output)
    score_field = find_field(fields, score, "score") if score is not None else None
    if score_field is not None and score_field.categorical:
        raise QueryError("score", f"{score!r} holds text or booleans, not numbers")

    tasks = [lambda: _known_query(engine, scope, as_of, label, output, score_field)]
    if output is not None:
        tasks.append(lambda: _decisions_query(engine, scope, output))
    results = windows.parallel(tasks)
    known = _decode_known(results[0], output is not None, score_field is not None)
    decided = results[1] if output is not None else None
    return Performance(
        bad_rate_by_outcome=_by_outcome(decided, known),
        bad_rate_by_band=_by_band(known, bands) if score_field is not None else pd.DataFrame(columns=BY_BAND),
        confusion=_confusion(known, positive_keys) if output is not None else pd.DataFrame(columns=CONFUSION),
        discrimination=_discrimination(known) if score_field is not None else pd.DataFrame(columns=DISCRIMINATION),
        calibration=_calibration(known, bands) if score_field is not None else pd.DataFrame(columns=CALIBRATION),
    )


def _positive_keys(positive: Any) -> set[str] | None:
    if positive is None:
        return None
    if isinstance(positive, (str, bytes)) or not isinstance(positive, Iterable):
        raise QueryError("positive", f"must be a set of output values (e.g. {{'Reject'}}), got {positive!r}")
    values = list(positive)
    for value in values:
        if value is not None and not isinstance(value, (str, bool, int, float)):
            raise QueryError("positive", f"must hold single values (text, numbers, booleans), got {value!r}")
    return {_key(v) for v in values}


def _key(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return value_key(value)


def _decision_output(fields: Sequence[Field], name: str | None) -> Field | None:
    if name is not None:
        return find_field(fields, name, "decision_output", kinds=("output",))
    texts = [f for f in fields if f.kind == "output" and any(isinstance(v, str) for v in f.sample)]
    return texts[-1] if texts else None


# --- queries ---------------------------------------------------------------------------------------

def _decisions_query(engine: Engine, scope: Scope, output: Field) -> pd.DataFrame:
    """Decisions per version and output value; the days that are over come from their kept rows
    (audit.rollups)."""
    dialect = engine.dialect.name
    names = ["day", "version", "value", "decisions"]
    query = rollups.digest("performance.decisions", dialect, str(_decisions_statement(dialect, rollups.any_day(scope),
                                                                                      output)),
                           output.path, rollups.scope_parts(scope))
    by_day = rollups.by_day(engine, scope, query,
                            lambda part: frame(engine, _decisions_statement(dialect, part, output), names),
                            columns=names)
    data = by_day.groupby(["version", "value"], dropna=False)["decisions"].sum().reset_index() if not by_day.empty \
        else pd.DataFrame(columns=names[1:])
    values, keys = parse_texts(data["value"])
    return data.assign(value=values, key=keys)


def _decisions_statement(dialect: str, scope: Scope, output: Field) -> Any:
    day = windows.window_sql(dialect, RECORDS.c.created_at, "day").label("day")
    value = json_text(dialect, RECORDS.c.outputs, output.path).label("value")
    inner = sa.select(day, RECORDS.c.version, value).where(*scope.conditions(dialect)).subquery("d")
    return sa.select(inner.c.day, inner.c.version, inner.c.value, sa.func.count()) \
        .group_by(inner.c.day, inner.c.version, inner.c.value)


def _known_query(engine: Engine, scope: Scope, as_of: datetime, label: str, output: Field | None,
                 score: Field | None) -> pd.DataFrame:
    """Decisions with an outcome as of `as_of`, grouped by version, output, score and label."""
    dialect = engine.dialect.name
    latest = latest_outcomes(scope.key, as_of)
    columns: list[Any] = [RECORDS.c.version, json_text(dialect, latest.c.labels, (label,)).label("label")]
    if output is not None:
        columns.append(json_text(dialect, RECORDS.c.outputs, output.path).label("value"))
    if score is not None:
        columns.append(json_text(dialect, RECORDS.c[score.column], score.path).label("score"))
    inner = (sa.select(*columns).select_from(latest.join(RECORDS, RECORDS.c.id == latest.c.decision_id))
             .where(*scope.conditions(dialect, indexed=False)).subquery("k"))
    names = [c.key for c in columns]
    statement = sa.select(*[inner.c[n] for n in names], sa.func.count()).group_by(*[inner.c[n] for n in names])
    return frame(engine, statement, [*names, "n"])


def _decode_known(data: pd.DataFrame, with_output: bool, with_score: bool) -> pd.DataFrame:
    """version, key (the output's canonical value), value, score (float or NaN), bad (bool), n:
    only decisions whose label is true or false."""
    _, label_keys = parse_texts(data["label"])
    known = data[label_keys.isin(["true", "false"])].copy()
    known["bad"] = label_keys[known.index] == "true"
    if with_output:
        values, keys = parse_texts(known["value"])
        known["value"], known["key"] = values, keys
    else:
        known["value"], known["key"] = None, "null"
    if with_score:
        scores, _ = parse_texts(known["score"])
        known["score"] = pd.to_numeric(scores.map(lambda v: v if is_number(v) else None), errors="coerce") \
            .astype(float)
    else:
        known["score"] = np.nan
    return known.astype({"version": int, "n": int})[["version", "key", "value", "score", "bad", "n"]]


# --- frames ----------------------------------------------------------------------------------------

def _by_outcome(decided: pd.DataFrame | None, known: pd.DataFrame) -> pd.DataFrame:
    if decided is None or decided.empty:
        return pd.DataFrame(columns=BY_OUTCOME)
    totals = decided.groupby(["version", "key"], dropna=False)["decisions"].sum()
    names = dict(zip(decided["key"], decided["value"], strict=True))
    outcome = known.assign(bad_n=known["n"] * known["bad"]).groupby(["version", "key"])[["n", "bad_n"]].sum()
    table = totals.to_frame().join(outcome, how="left").fillna({"n": 0, "bad_n": 0}).reset_index()
    table = table.rename(columns={"n": "known", "bad_n": "bad"}).astype(
        {"version": int, "decisions": int, "known": int, "bad": int})
    table["value"] = table["key"].map(names)
    table["bad_rate"] = table["bad"] / table["known"].where(table["known"] > 0)
    return table.sort_values(["version", "decisions"], ascending=[True, False], kind="stable") \
        .reset_index(drop=True)[BY_OUTCOME]


def _scored(known: pd.DataFrame) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """Per version: the known decisions' scores and bad flags, one entry per decision."""
    usable = known[known["score"].notna()]
    found = {}
    for version, mine in usable.groupby("version"):
        counts = mine["n"].to_numpy()
        found[int(cast(int, version))] = (np.repeat(mine["score"].to_numpy(dtype=float), counts),
                               np.repeat(mine["bad"].to_numpy(dtype=bool), counts))
    return found


def _banded(known: pd.DataFrame, bands: int) -> pd.DataFrame:
    rows = []
    for version, (scores, bad) in _scored(known).items():
        if len(scores) == 0:
            continue
        numbers = pd.qcut(scores, q=min(bands, len(scores)), labels=False, duplicates="drop")
        numbers = np.asarray(numbers, dtype=float)
        band_frame = pd.DataFrame({"band": numbers.astype(int) + 1, "score": scores, "bad": bad})
        for band, mine in band_frame.groupby("band"):
            count, bad_count = len(mine), int(mine["bad"].sum())
            rows.append((version, int(cast(int, band)), float(mine["score"].min()), float(mine["score"].max()), count, bad_count,
                         bad_count / count, float(mine["score"].mean())))
    return pd.DataFrame(rows, columns=BY_BAND)


def _by_band(known: pd.DataFrame, bands: int) -> pd.DataFrame:
    return _banded(known, bands)


def _calibration(known: pd.DataFrame, bands: int) -> pd.DataFrame:
    banded = _banded(known, bands)
    if banded.empty:
        return pd.DataFrame(columns=CALIBRATION)
    scores = known["score"].dropna()
    probability = bool(len(scores)) and bool(((scores >= 0) & (scores <= 1)).all())
    banded["predicted_rate"] = banded["mean_score"] if probability else np.nan
    banded["observed_rate"] = banded["bad_rate"]
    return banded[CALIBRATION]


def _confusion(known: pd.DataFrame, positive: set[str] | None) -> pd.DataFrame:
    if positive is None or known.empty:
        return pd.DataFrame(columns=CONFUSION)
    table = known.assign(predicted=np.where(known["key"].isin(positive), "bad", "good"),
                         actual=np.where(known["bad"], "bad", "good"))
    counted = table.groupby(["version", "predicted", "actual"])["n"].sum().reset_index()
    return counted.rename(columns={"n": "count"}).astype({"version": int, "count": int})[CONFUSION]


def _discrimination(known: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for version, (scores, bad) in _scored(known).items():
        good_scores, bad_scores = scores[~bad], scores[bad]
        ks = ks_pvalue = auc = np.nan
        if len(good_scores) and len(bad_scores):
            result = ks_2samp(good_scores, bad_scores)
            ks, ks_pvalue = float(result.statistic), float(result.pvalue)
            auc = float(roc_auc_score(~bad, scores))
        rows.append((version, len(scores), int(bad.sum()), ks, ks_pvalue, auc, 2 * auc - 1))
    return pd.DataFrame(rows, columns=DISCRIMINATION)

