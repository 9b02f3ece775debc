"""`audit.connect`: the reviewer's entry point in a notebook.

    import audit
    a = audit.connect("data/decisionary.db")            # a SQLite file, or any database URL
    a = audit.connect("https://decisions.example.com", api_key=REVIEWER_KEY)   # or the service
    a.metrics("loan-approval", window="week").outputs.plot()
    a.performance("loan-approval", label="defaulted", score="Credit Score").bad_rate_by_band.plot()
    a.drift("loan-approval", reference=(jan1, feb1), current=(nov1, dec1)).plot()
    a.comparison("loan-approval", label="defaulted")     # champion and challenger side by side
    a.log("loan-approval", output="Decision:Reject", limit=200)
    a.report("loan-approval", out="report.html")

Every answer is a pandas DataFrame (or a small object of them) whose `.plot()` draws the chart a
reviewer needs (audit/frames.py). Times are UTC; a date means its midnight. Without `start` and
`end`, a question covers the last 90 days up to now.

The answers are computed where the data is. Given a database, here, by the audit modules
(`DatabaseSource`); given the service's address, by the service's audit routes with a reviewer's
API key (audit/remote.py), which run the same functions. Either way the frames are the same.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

import pandas as pd
from sqlalchemy.engine import Engine

from audit.frames import AuditFrame, audit_frame
from registry import make_engine

DEFAULT_DAYS = 90


def connect(url_or_path: str | Path, *, api_key: str | None = None, timeout: float = 300.0) -> Audit:
    """An `Audit` over a database (a SQLite file's path, or a database URL: sqlite:///...,
    postgresql://...) or over a running service (http:// or https://, with a reviewer's
    `api_key`, or DECISIONARY_API_KEY)."""
    text = str(url_or_path)
    if text.startswith(("http://", "https://")):
        from audit.remote import ServiceSource

        return Audit(ServiceSource(text, api_key, timeout=timeout))
    if api_key is not None:
        raise ValueError("api_key is for a service's address (http:// or https://); a database is read directly")
    if "://" not in text:
        path = Path(text).expanduser()
        if not path.is_file():
            raise FileNotFoundError(f"no database file at {path}")
        text = f"sqlite:///{path.resolve()}"
    return Audit(DatabaseSource(make_engine(text)))


class Source(Protocol):
    """Where the answers are computed: the database here, or the service (audit/remote.py)."""

    def records(self, key: str, *, limit: int, filters: dict[str, Any]) -> list[dict[str, Any]]: ...
    def metrics(self, key: str, *, start: datetime | None, end: datetime | None, window: str,
                versions: Sequence[int] | None, alias: str | None, as_of: datetime | None) -> Any: ...
    def performance(self, key: str, *, label: str, decision_output: str | None, positive: Sequence[str] | None,
                    score: str | None, bands: int, start: datetime | None, end: datetime | None,
                    as_of: datetime | None, versions: Sequence[int] | None) -> Any: ...
    def drift(self, key: str, *, reference: tuple[datetime, datetime], current: tuple[datetime, datetime],
              bins: int, thresholds: tuple[float, float], versions: Sequence[int] | None) -> pd.DataFrame: ...
    def replay(self, key: str, version: int, *, start: datetime | None, end: datetime | None, alias: str | None,
               bad_label: str | None) -> dict[str, Any]: ...
    def report(self, key: str, *, start: datetime, end: datetime, **options: Any) -> str: ...
    def close(self) -> None: ...


class DatabaseSource:
    """The audit modules on a database engine (the records as audit.log returns them)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def records(self, key: str, *, limit: int, filters: dict[str, Any]) -> list[dict[str, Any]]:
        from audit.log import parse_fired, parse_output, query_records

        if isinstance(filters.get("output"), str):
            filters["output"] = parse_output(filters["output"])
        if isinstance(filters.get("fired"), str):
            filters["fired"] = parse_fired(filters["fired"])
        rows: list[dict[str, Any]] = []
        cursor = None
        while len(rows) < limit:
            page = query_records(self.engine, key=key, limit=min(500, limit - len(rows)), cursor=cursor, **filters)
            rows += [{"id": r.id, "created_at": r.created_at, "version": r.version, "alias": r.alias, "arm": r.arm,
                      "caller": r.caller, "business_key": r.business_key, "inputs": r.inputs, "outputs": r.outputs}
                     for r in page.records]
            cursor = page.next_cursor
            if cursor is None:
                break
        return rows

    def metrics(self, key: str, **options: Any) -> Any:
        from audit.metrics import compute_metrics
        from audit.store import rule_ids_of, version_models

        rule_ids = rule_ids_of(version_models(self.engine, key))
        return compute_metrics(self.engine, key, rule_ids=rule_ids or None, **options)

    def performance(self, key: str, **options: Any) -> Any:
        from audit.performance import compute_performance

        return compute_performance(self.engine, key, **options)

    def drift(self, key: str, **options: Any) -> pd.DataFrame:
        from audit.drift import population_stability

        return population_stability(self.engine, key, **options)

    def replay(self, key: str, version: int, **options: Any) -> dict[str, Any]:
        from audit.replay import replay_version

        found: dict[str, Any] = replay_version(self.engine, key, version, by="notebook", attach=False, **options)
        return found

    def report(self, key: str, *, start: datetime, end: datetime, **options: Any) -> str:
        from audit.report import report_from_database

        return report_from_database(self.engine, key, start=start, end=end, **options)

    def close(self) -> None:
        self.engine.dispose()


@dataclass(frozen=True)
class Frames:
    """Several AuditFrames answering one question (metrics, performance)."""

    def __repr__(self) -> str:
        parts = ", ".join(f"{f.name}: {len(getattr(self, f.name))} rows" for f in fields(self))
        return f"{type(self).__name__}({parts})"


@dataclass(frozen=True, repr=False)
class MetricsFrames(Frames):
    volume: AuditFrame
    outputs: AuditFrame
    rules: AuditFrame
    never_fired: AuditFrame
    reviews: AuditFrame
    overrides: AuditFrame
    workflows: AuditFrame


@dataclass(frozen=True, repr=False)
class PerformanceFrames(Frames):
    bad_rate_by_outcome: AuditFrame
    bad_rate_by_band: AuditFrame
    confusion: AuditFrame
    discrimination: AuditFrame
    calibration: AuditFrame


@dataclass(frozen=True)
class ReplayFrames:
    rows: int
    changed: AuditFrame
    swaps: AuditFrame
    bad_rates: AuditFrame
    summary: dict[str, Any]


class Audit:
    def __init__(self, source: Source) -> None:
        self.source = source

    def close(self) -> None:
        self.source.close()

    def __enter__(self) -> Audit:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def log(self, key: str, *, limit: int = 1000, **filters: Any) -> AuditFrame:
        """Decision records, newest first, one row each: when, version, alias, arm, caller,
        business key, then a column per input (`input.<name>`) and per output (`<decision>`).
        Filters as `audit.log.query_records` (output="Decision:Reject", fired="Risk Category:7",
        start=, end=, version=, ...), up to `limit` records."""
        for name in ("start", "end"):
            if name in filters:
                filters[name] = _time(filters[name])
        rows = []
        for record in self.source.records(key, limit=limit, filters=filters):
            row = {"decision_id": record["id"], "created_at": record["created_at"], "version": record["version"],
                   "alias": record["alias"], "arm": record["arm"], "caller": record["caller"],
                   "business_key": record["business_key"]}
            row.update({f"input.{k}": v for k, v in (record["inputs"] or {}).items()})
            row.update(dict(record["outputs"] or {}))
            rows.append(row)
        return audit_frame(pd.DataFrame(rows), None)

    def metrics(self, key: str, *, start: Any = None, end: Any = None, window: str = "week",
                versions: list[int] | None = None, alias: str | None = None, as_of: Any = None) -> MetricsFrames:
        """Volume, outcome mix, rule hits, reviews, overrides and workflows by window."""
        first, last = _period(start, end)
        found = self.source.metrics(key, start=first, end=last, window=window, versions=versions, alias=alias,
                                    as_of=_time(as_of) if as_of is not None else None)
        return MetricsFrames(
            volume=audit_frame(found.volume, "volume"), outputs=audit_frame(found.outputs, "outputs"),
            rules=audit_frame(found.rules, "rules", found.never_fired),
            never_fired=audit_frame(found.never_fired, None), reviews=audit_frame(found.reviews, "reviews"),
            overrides=audit_frame(found.overrides, None), workflows=audit_frame(found.workflows, "workflows"))

    def performance(self, key: str, *, label: str, decision_output: str | None = None,
                    positive: list[str] | None = None, score: str | None = None, bands: int = 10,
                    start: Any = None, end: Any = None, as_of: Any = None,
                    versions: list[int] | None = None) -> PerformanceFrames:
        """Bad rate by outcome and by score band, the confusion matrix, KS/AUC/Gini, calibration,
        against the outcomes known at `as_of` (default now)."""
        first, last = _period(start, end, days=None)
        found = self.source.performance(key, label=label, decision_output=decision_output, positive=positive,
                                        score=score, bands=bands, start=first, end=last,
                                        as_of=_time(as_of) if as_of is not None else None, versions=versions)
        return PerformanceFrames(
            bad_rate_by_outcome=audit_frame(found.bad_rate_by_outcome, None),
            bad_rate_by_band=audit_frame(found.bad_rate_by_band, "bad_rate_by_band"),
            confusion=audit_frame(found.confusion, None),
            discrimination=audit_frame(found.discrimination, None),
            calibration=audit_frame(found.calibration, "calibration"))

    def drift(self, key: str, *, reference: tuple[Any, Any], current: tuple[Any, Any] | None = None,
              bins: int = 10, thresholds: tuple[float, float] = (0.1, 0.25),
              versions: list[int] | None = None) -> AuditFrame:
        """PSI of every input and output, `current` (default: the last 30 days) against `reference`."""
        now = datetime.now(UTC)
        current = current or (now - timedelta(days=30), now)
        found = self.source.drift(key, reference=(_time(reference[0]), _time(reference[1])),
                                  current=(_time(current[0]), _time(current[1])), bins=bins,
                                  thresholds=(thresholds[0], thresholds[1]), versions=versions)
        frame = audit_frame(found, "drift")
        frame.attrs.update(found.attrs)  # the per-bin detail
        return frame

    def comparison(self, key: str, *, start: Any = None, end: Any = None, decision_output: str = "Decision",
                   label: str | None = None, as_of: Any = None) -> AuditFrame:
        """Each version (champion, challenger) side by side over the same period: its arm, its
        decisions and share of traffic, the rate of each `decision_output` value, and with
        `label` its bad rate among decisions whose outcome is known."""
        first, last = _period(start, end, days=None)
        metrics = self.source.metrics(key, start=first, end=last, window="month", versions=None, alias=None,
                                      as_of=None)
        volume = metrics.volume.copy()
        volume["arm"] = volume["arm"].fillna("")
        by_version = volume.groupby("version").agg(
            decisions=("decisions", "sum"),
            arm=("arm", lambda arms: ", ".join(sorted({a for a in arms if a})) or "-"))
        by_version["share"] = by_version["decisions"] / by_version["decisions"].sum()
        outputs = metrics.outputs[metrics.outputs["decision"] == decision_output]
        counts = outputs.pivot_table(index="version", columns="value", values="count", aggfunc="sum", fill_value=0)
        for value in counts.columns:
            by_version[f"{value} rate"] = counts[value] / by_version["decisions"]
        if label:
            found = self.source.performance(key, label=label, decision_output=decision_output, positive=None,
                                            score=None, bands=10, start=first, end=last,
                                            as_of=_time(as_of) if as_of is not None else None, versions=None)
            known = found.bad_rate_by_outcome.groupby("version")[["known", "bad"]].sum()
            by_version["known outcomes"] = known["known"]
            by_version["bad rate"] = known["bad"] / known["known"].where(known["known"] > 0)
        return audit_frame(by_version.reset_index(), None)

    def replay(self, key: str, version: int, *, start: Any = None, end: Any = None, alias: str | None = "production",
               decision: str = "Decision", bad_label: str | None = None) -> ReplayFrames:
        """What version `version` would have decided on the decisions logged through `alias` (in
        [start, end), default all): for `decision`, how many change, the swap set, and the bad
        rate of each value as decided and as the candidate would decide. Nothing is stored."""
        found = self.source.replay(key, version, start=_time(start) if start else None,
                                   end=_time(end) if end else None, alias=alias, bad_label=bad_label)
        summary = found["summary"]
        item = summary["decisions"].get(decision)
        if item is None:
            raise ValueError(f"the replay compared {', '.join(summary['decisions'])}, not {decision!r}")
        changed = pd.DataFrame([{"decision": decision, "rows": item["rows"], "changed": item["changed"],
                                 "share": item["changed_share"]}])
        swaps = pd.DataFrame(item.get("swaps", []), columns=["from", "to", "count", "examples"])
        rates = pd.DataFrame(item.get("bad_rate", []))
        if not rates.empty:
            rates["decided"] = rates["decided_known"] + rates["decided_unknown"]
            rates["candidate"] = rates["candidate_known"] + rates["candidate_unknown"]
        return ReplayFrames(rows=int(summary["rows"]), changed=audit_frame(changed, None),
                            swaps=audit_frame(swaps, None), bad_rates=audit_frame(rates, None), summary=summary)

    def report(self, key: str, *, out: str | Path, start: Any = None, end: Any = None, **options: Any) -> Path:
        """Write the self-contained HTML report (audit/report.py); its path."""
        first, last = _period(start, end)
        assert first is not None and last is not None
        html = self.source.report(key, start=first, end=last, **options)
        path = Path(out)
        path.write_text(html, encoding="utf-8")
        return path


def _time(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    if isinstance(value, str):
        return _time(datetime.fromisoformat(value.replace("Z", "+00:00")))
    if isinstance(value, pd.Timestamp):
        return _time(value.to_pydatetime())
    raise TypeError(f"expected a date, a datetime or an ISO 8601 text, not {value!r}")


def _period(start: Any, end: Any, *, days: int | None = DEFAULT_DAYS) -> tuple[datetime | None, datetime | None]:
    last = _time(end) if end is not None else datetime.now(UTC)
    if start is not None:
        return _time(start), last
    return (last - timedelta(days=days) if days is not None else None), last
