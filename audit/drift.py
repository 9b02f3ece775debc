"""Drift: has the population of inputs and outputs moved between two periods?

    summary = population_stability(engine, "loan-approval", reference=(jan_1, apr_1),
                                   current=(jun_1, jul_1))
    detail = stability(engine, "loan-approval", reference=..., current=...).bins   # both frames
    pd.DataFrame(summary.attrs["bins"])   # the same detail, kept on the summary as plain records
    findings = check_drift(engine, "loan-approval", reference=..., current=...,
                           start_workflow=lambda finding: start_monitor_runs(...))

The summary has one row per input and output (a multi-output decision's outputs as
"Decision.Output"): kind ("input" or "output"), name, psi, status, reference_n, current_n.
The detail frame has one row per bin: kind, name, bin, lower, upper, reference_count,
reference_share, current_count, current_share, psi (the bin's part of the index).

The population stability index is sum((c - r) * ln(c / r)) over bins, with r and c the shares of
the reference and the current period's decisions in each bin:
- numbers are binned at the reference period's quantiles (`bins` equal-count bins, fewer when
  values repeat; bins are right-closed, the outer ones open-ended, so every current value has a
  bin); a number with at most `bins` distinct values in the reference period, and anything
  else (text, booleans), is binned by value: the MAX_CATEGORIES = 50 most frequent values (in the
  reference period first), the rest together in "(other)". Null (or missing) is a bin of its own.
  With no decisions in either period there is no index (NaN) and there are no bins.
- an empty bin would make the logarithm infinite: shares below EPSILON = 0.0001 count as
  EPSILON (the usual convention; it caps one empty bin's part at about 0.0009 + share * 9.2).
- status by `thresholds` (watch, alert), by default (0.1, 0.25): psi below watch "stable", below
  alert "watch", else "drift"; "no data" when either period has no decisions (psi NaN).
Shadow versions' records never count; `versions` narrows both periods to those versions.

A period with more than `sample` (default SAMPLE = 50,000) decisions is read as a deterministic
sample of about that many: the records whose hash falls below a threshold (`_sampled`), so the
same records every time, spread evenly over the period.
The PSI of two samples that size from one population is about (bins - 1) * 2 / 50,000 = 0.0004,
far below any threshold, and reading a sample keeps a check over millions of decisions to a
second. `reference_n` and `current_n` count every decision of the period; `reference_read` and
`current_read` the ones the shares were computed on (the bins' counts are of those).

`check_drift` writes an audit_alerts row for every name whose PSI reaches the alert threshold
and calls `start_workflow(finding)` (the execution layer's monitor runs; it returns their run
ids, stored on the alert). A failing start_workflow does not lose the alert: the error is kept
in its detail.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from audit.log import QueryError
from audit.store import (
    ALERTS,
    RECORDS,
    Field,
    Scope,
    check_time,
    extract,
    find_field,
    frame,
    is_number,
    make_scope,
    reader,
    sample_fields,
)
from registry.ids import new_ulid

EPSILON = 1e-4
SAMPLE = 50_000  # decisions read per period at most (see the module docstring)
BUCKETS = 1024  # of the deterministic sample
SUMMARY = ["kind", "name", "psi", "status", "reference_n", "current_n", "reference_read", "current_read"]
BINS = ["kind", "name", "bin", "lower", "upper", "reference_count", "reference_share", "current_count",
        "current_share", "psi"]
NULL_BIN = "null"
OTHER_BIN = "(other)"
MAX_CATEGORIES = 50  # values binned by value, most frequent first; the rest share OTHER_BIN

Period = tuple[datetime, datetime]


@dataclass(frozen=True)
class Stability:
    summary: pd.DataFrame
    bins: pd.DataFrame


@dataclass(frozen=True)
class DriftFinding:
    """One input or output whose PSI reached the alert threshold."""

    key: str
    kind: str
    name: str
    psi: float
    threshold: float
    status: str
    reference: Period
    current: Period
    reference_n: int
    current_n: int
    bins: tuple[dict[str, Any], ...] = ()
    alert_id: str | None = None
    run_ids: tuple[str, ...] = field(default=())
    error: str | None = None  # why start_workflow failed, if it did

    def as_dict(self) -> dict[str, Any]:
        """JSON data: what a monitor workflow sees as vars.drift."""
        return {"key": self.key, "kind": self.kind, "name": self.name, "psi": self.psi,
                "threshold": self.threshold, "status": self.status,
                "reference": [t.isoformat() for t in self.reference],
                "current": [t.isoformat() for t in self.current], "reference_n": self.reference_n,
                "current_n": self.current_n, "bins": [dict(b) for b in self.bins]}


def population_stability(engine: Engine, key: str, *, reference: Period, current: Period,
                         names: Sequence[str] | None = None, bins: int = 10,
                         thresholds: tuple[float, float] = (0.1, 0.25),
                         versions: Sequence[int] | None = None, sample: int = SAMPLE) -> pd.DataFrame:
    """The PSI summary frame (see the module docstring); its attrs["bins"] holds the detail frame's
    rows as plain records (a DataFrame there would break pd.concat of summaries, which compares
    attrs)."""
    result = stability(engine, key, reference=reference, current=current, names=names, bins=bins,
                       thresholds=thresholds, versions=versions, sample=sample)
    summary = result.summary
    summary.attrs["bins"] = result.bins.to_dict("records")
    return summary


def stability(engine: Engine, key: str, *, reference: Period, current: Period, names: Sequence[str] | None = None,
              bins: int = 10, thresholds: tuple[float, float] = (0.1, 0.25),
              versions: Sequence[int] | None = None, sample: int = SAMPLE) -> Stability:
    """The PSI summary and per-bin detail of every input and output (or of `names`)."""
    reference = _period(reference, "reference")
    current = _period(current, "current")
    watch, alert = _thresholds(thresholds)
    if isinstance(bins, bool) or not isinstance(bins, int) or not 2 <= bins <= 100:
        raise QueryError("bins", f"must be a whole number from 2 to 100, got {bins!r}")
    scopes = [make_scope(key, start=p[0], end=p[1], versions=versions) for p in (reference, current)]
    fields = _fields(engine, scopes, names)
    if not fields:
        return Stability(pd.DataFrame(columns=SUMMARY), pd.DataFrame(columns=BINS))
    if isinstance(sample, bool) or not isinstance(sample, int) or sample < 100:
        raise QueryError("sample", f"must be a whole number of at least 100, got {sample!r}")
    counts = [_count(engine, scope) for scope in scopes]
    reference_values, current_values = (_values(engine, scope, fields, _sampled(engine.dialect.name, n, sample))
                                        for scope, n in zip(scopes, counts, strict=True))
    summary_rows, bin_rows = [], []
    for chosen in fields:
        before, after = reference_values[chosen.name], current_values[chosen.name]
        detail = _bins(before, after, bins)
        psi = float(detail["psi"].sum()) if len(before[0]) and len(after[0]) else math.nan
        status = "no data" if math.isnan(psi) else "stable" if psi < watch else "watch" if psi < alert else "drift"
        summary_rows.append((chosen.kind, chosen.name, psi, status, *counts, len(before[0]), len(after[0])))
        bin_rows.append(detail.assign(kind=chosen.kind, name=chosen.name))
    summary = pd.DataFrame(summary_rows, columns=SUMMARY)
    detail_frame = pd.concat(bin_rows, ignore_index=True)[BINS] if bin_rows else pd.DataFrame(columns=BINS)
    return Stability(summary, detail_frame)


def check_drift(engine: Engine, key: str, *, reference: Period, current: Period,
                names: Sequence[str] | None = None, bins: int = 10, thresholds: tuple[float, float] = (0.1, 0.25),
                versions: Sequence[int] | None = None,
                start_workflow: Callable[[DriftFinding], list[str]] | None = None,
                now: datetime | None = None) -> list[DriftFinding]:
    """Compute the PSI, and for every name at or above the alert threshold start the monitor's
    workflows and write an alert (kind "drift"). The findings, with their alert ids and runs."""
    result = stability(engine, key, reference=reference, current=current, names=names, bins=bins,
                       thresholds=thresholds, versions=versions)
    alert = float(thresholds[1])
    reference, current = _period(reference, "reference"), _period(current, "current")
    at = check_time(now, "now") or datetime.now(UTC)
    findings = []
    for row in result.summary.to_dict("records"):
        psi = float(row["psi"])
        if not psi >= alert:  # NaN (no data) never alerts
            continue
        mine = result.bins[(result.bins["kind"] == row["kind"]) & (result.bins["name"] == row["name"])]
        finding = DriftFinding(key, str(row["kind"]), str(row["name"]), psi, alert, str(row["status"]), reference,
                               current, int(row["reference_n"]), int(row["current_n"]),
                               tuple(_plain_bin(b) for b in mine.drop(columns=["kind", "name"]).to_dict("records")))
        run_ids: list[str] = []
        error = None
        if start_workflow is not None:
            try:
                run_ids = [str(r) for r in start_workflow(finding) or []]
            except Exception as err:  # noqa: BLE001 - the alert is written whatever the workflow did
                error = f"{type(err).__name__}: {err}"
        alert_id = new_ulid()
        detail = finding.as_dict()
        detail["watch_threshold"] = float(thresholds[0])
        if error is not None:
            detail["workflow_error"] = error
        with engine.begin() as connection:
            connection.execute(ALERTS.insert().values(
                id=alert_id, model_key=key, kind="drift", subject=finding.name, value=finding.psi,
                threshold=alert, detail=detail, run_ids=run_ids, created_at=at))
        findings.append(dataclasses.replace(finding, alert_id=alert_id, run_ids=tuple(run_ids), error=error))
    return findings


# --- arguments -----------------------------------------------------------------------------------

def _period(value: Any, parameter: str) -> Period:
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise QueryError(parameter, f"must be a (start, end) pair of date-times, got {value!r}")
    start, end = check_time(value[0], f"{parameter}[0]"), check_time(value[1], f"{parameter}[1]")
    if start is None or end is None:
        raise QueryError(parameter, "needs both a start and an end")
    if start >= end:
        raise QueryError(parameter, f"must start before it ends, got {start.isoformat()} to {end.isoformat()}")
    return start, end


def _thresholds(value: Any) -> tuple[float, float]:
    try:
        watch, alert = (float(v) for v in value)
    except (TypeError, ValueError):
        raise QueryError("thresholds", f"must be two numbers (watch, alert), got {value!r}") from None
    if not (0 < watch <= alert) or not math.isfinite(alert):
        raise QueryError("thresholds", f"must be 0 < watch <= alert, got {value!r}")
    return watch, alert


def _fields(engine: Engine, scopes: Sequence[Scope], names: Sequence[str] | None) -> list[Field]:
    seen: dict[tuple[str, tuple[str, ...]], Field] = {}
    for scope in scopes:
        for found in sample_fields(engine, scope):
            known = seen.get((found.kind, found.path))
            seen[(found.kind, found.path)] = found if known is None else \
                dataclasses.replace(known, sample=known.sample + found.sample)
    fields = list(seen.values())
    if names is None:
        return fields
    if isinstance(names, str) or not all(isinstance(n, str) for n in names):
        raise QueryError("names", f"must be a list of input or output names, got {names!r}")
    return [find_field(fields, name, "names") for name in dict.fromkeys(names)]


# --- values and bins -----------------------------------------------------------------------------

def _count(engine: Engine, scope: Scope) -> int:
    with reader(engine) as connection:
        return int(connection.execute(sa.select(sa.func.count()).select_from(RECORDS)
                                      .where(*scope.conditions(engine.dialect.name))).scalar_one())


def _sampled(dialect: str, count: int, sample: int) -> Any:
    """The condition that keeps about `sample` of `count` records (None: keep them all): a hash of
    the record into 1024 equally likely buckets, below a threshold. PostgreSQL hashes the id
    (hashtext); SQLite its rowid, by Knuth's multiplicative hash (the top 10 of 32 bits), which
    needs no table read for the records it leaves out. Ids alone would not do: bulk-written
    records can have consecutive ids, and a slice of those is a slice of time."""
    kept = math.ceil(BUCKETS * sample / count) if count else BUCKETS
    if kept >= BUCKETS:
        return None
    if dialect == "postgresql":
        return sa.func.hashtext(RECORDS.c.id).op("&")(BUCKETS - 1) < kept
    bucket: Any = sa.literal_column("(decision_records.rowid * 2654435761 % 4294967296) / 4194304")
    return bucket < kept


def _values(engine: Engine, scope: Scope, fields: Sequence[Field],
            sampled: Any = None) -> dict[str, tuple[pd.Series, pd.Series]]:
    """Per field name: (values, canonical keys) of every decision in scope (one row each), or of
    those `sampled` keeps."""
    dialect = engine.dialect.name
    conditions = scope.conditions(dialect) + ([sampled] if sampled is not None else [])
    # One statement for the inputs and the outputs: one pass over the records.
    parts = [(mine, extract(dialect, RECORDS.c[column], [f.path for f in mine], column[:1], separate=True))
             for column in ("inputs", "outputs") if (mine := [f for f in fields if f.column == column])]
    if not parts:
        return {}
    source: Any = RECORDS
    for _, extraction in parts:
        source = extraction.select_from(source)
    columns = [c for _, extraction in parts for c in extraction.columns]
    data = frame(engine, sa.select(*columns).select_from(source).where(*conditions), [c.key for c in columns])
    found: dict[str, tuple[pd.Series, pd.Series]] = {}
    for mine, extraction in parts:
        for chosen, pair in zip(mine, extraction.decode(data), strict=True):
            found[chosen.name] = pair
    return found


def _bins(before: tuple[pd.Series, pd.Series], after: tuple[pd.Series, pd.Series], bins: int) -> pd.DataFrame:
    (before_values, before_keys), (after_values, after_keys) = before, after
    if before_keys.empty or after_keys.empty:  # no index without both periods: no bins either
        return _psi_frame([], len(before_keys), len(after_keys))
    numeric = _all_numbers(before_values) and _all_numbers(after_values)
    reference_numbers = pd.to_numeric(before_values[before_keys != "null"], errors="coerce").astype(float) \
        if numeric else pd.Series(dtype=float)
    if numeric and reference_numbers.nunique() > bins:
        return _numeric_bins(before_values, before_keys, after_values, after_keys, reference_numbers, bins)
    return _category_bins(before_values, before_keys, after_values, after_keys)


def _all_numbers(values: pd.Series) -> bool:
    return all(v is None or is_number(v) for v in values.drop_duplicates())


def _numeric_bins(before_values: pd.Series, before_keys: pd.Series, after_values: pd.Series, after_keys: pd.Series,
                  reference: pd.Series, bins: int) -> pd.DataFrame:
    edges = np.unique(np.quantile(reference.to_numpy(), np.linspace(0, 1, bins + 1))[1:-1])

    def counts(values: pd.Series, keys: pd.Series) -> tuple[np.ndarray, int]:
        numbers = pd.to_numeric(values[keys != "null"], errors="coerce").astype(float).to_numpy()
        placed = np.searchsorted(edges, numbers, side="left")  # x <= edge[0] -> 0: right-closed bins
        return np.bincount(placed, minlength=len(edges) + 1), int((keys == "null").sum())

    before_counts, before_nulls = counts(before_values, before_keys)
    after_counts, after_nulls = counts(after_values, after_keys)
    lowers = [-math.inf, *edges.tolist()]
    uppers = [*edges.tolist(), math.inf]
    labels = [f"({lo:g}, {hi:g}]" for lo, hi in zip(lowers, uppers, strict=True)]
    rows = list(zip(labels, lowers, uppers, before_counts.tolist(), after_counts.tolist(), strict=True))
    if before_nulls or after_nulls:
        rows.append((NULL_BIN, math.nan, math.nan, before_nulls, after_nulls))
    return _psi_frame(rows, len(before_keys), len(after_keys))


def _category_bins(before_values: pd.Series, before_keys: pd.Series, after_values: pd.Series,
                   after_keys: pd.Series) -> pd.DataFrame:
    before_counts = before_keys.value_counts()
    after_counts = after_keys.value_counts()
    names = dict(zip(before_keys, before_values, strict=True)) | dict(zip(after_keys, after_values, strict=True))
    order = sorted(set(before_counts.index) | set(after_counts.index),
                   key=lambda k: (-int(before_counts.get(k, 0)), -int(after_counts.get(k, 0)), k))
    rows = [(NULL_BIN if k == "null" else str(names.get(k)), math.nan, math.nan, int(before_counts.get(k, 0)),
             int(after_counts.get(k, 0))) for k in order[:MAX_CATEGORIES]]
    if len(order) > MAX_CATEGORIES:  # the rest (ids, free text) together: bounded, and comparable
        rest = order[MAX_CATEGORIES:]
        rows.append((OTHER_BIN, math.nan, math.nan, int(before_counts.reindex(rest).fillna(0).sum()),
                     int(after_counts.reindex(rest).fillna(0).sum())))
    return _psi_frame(rows, len(before_keys), len(after_keys))


def _psi_frame(rows: Sequence[tuple[Any, ...]], before_n: int, after_n: int) -> pd.DataFrame:
    detail = pd.DataFrame(rows, columns=["bin", "lower", "upper", "reference_count", "current_count"])
    detail["reference_share"] = detail["reference_count"] / before_n if before_n else 0.0
    detail["current_share"] = detail["current_count"] / after_n if after_n else 0.0
    r = detail["reference_share"].clip(lower=EPSILON)
    c = detail["current_share"].clip(lower=EPSILON)
    detail["psi"] = (c - r) * np.log(c / r)
    return detail[["bin", "lower", "upper", "reference_count", "reference_share", "current_count", "current_share",
                   "psi"]]


def _plain_bin(row: Mapping[Any, Any]) -> dict[str, Any]:
    """A bin as JSON data (infinite edges as null)."""
    return {str(k): (None if isinstance(v, float) and not math.isfinite(v) else
                int(v) if isinstance(v, np.integer) else float(v) if isinstance(v, np.floating) else v)
            for k, v in row.items()}
