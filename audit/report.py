"""The reviewer's report: one self-contained HTML file for a model key and a period.

    html = render_report(key="loan-approval", start=..., end=..., metrics=metrics,
                         performance=performance, drift=drift, generated_at=datetime.now(UTC))
    html = report_from_database(engine, "loan-approval", start=..., end=..., label="defaulted",
                                score="Credit Score")

The file opens anywhere without a network: styles are inline, charts are inline SVG with their
text drawn as paths (audit.charts.to_svg), there is no script at all, and a Content-Security-
Policy forbids loading anything, so a mistake shows up as a blocked request rather than a leak.
It starts with a summary (decisions, versions, outcome mix, bad rate, reviews, failed workflow
runs, drift alerts) and then has one section per subject, each with its charts and a small table
of the key figures. Templates live in audit/templates (package data) and are rendered by a
sandboxed jinja2 environment with autoescape on: model names, rule ids and output values are
data, never markup.

`metrics` is audit.metrics.Metrics (or anything with the same DataFrame attributes: volume,
outputs, rules, never_fired, reviews, overrides, workflows), `performance` audit.performance.
Performance (bad_rate_by_outcome, bad_rate_by_band, confusion, discrimination, calibration),
`drift` the frame of audit.drift.population_stability. A missing attribute or None counts as an
empty frame; a frame that lacks a needed column raises ValueError naming it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
from jinja2 import PackageLoader, StrictUndefined
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup
from sqlalchemy.engine import Engine

from audit import charts, drawing

METRICS_FRAMES = ("volume", "outputs", "rules", "never_fired", "reviews", "overrides", "workflows")
PERFORMANCE_FRAMES = ("bad_rate_by_outcome", "bad_rate_by_band", "confusion", "discrimination", "calibration")
MAX_OUTCOME_CHARTS = 6
MAX_RULE_CHARTS = 12
DASH = "–"


@dataclass
class Chart:
    svg: Markup
    title: str


@dataclass
class Table:
    caption: str
    columns: list[str]
    rows: list[list[str]]
    numeric: list[bool]  # per column: right-aligned figures
    row_classes: list[str] = field(default_factory=list)


@dataclass
class Section:
    id: str
    title: str
    intro: str
    charts: list[Chart] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)


@dataclass
class Card:
    label: str
    value: str
    detail: str
    alert: bool = False
    compact: bool = False  # a value of several words, shown smaller


def render_report(*, key: str, start: datetime, end: datetime, metrics: Any, performance: Any = None,
                  drift: pd.DataFrame | None = None, generated_at: datetime, primary_decision: str | None = None,
                  label: str | None = None, score: str | None = None, window: str | None = None,
                  thresholds: tuple[float, float] = (0.1, 0.25), title: str | None = None) -> str:
    """The report as one HTML document (text). `primary_decision` is the decision whose outcome
    mix the summary shows (default: the first decision in metrics.outputs); `label` and `score`
    name the outcome and the score behind the performance figures, `window` the metrics window,
    for the reader."""
    page = _Page(key, start, end, generated_at, primary_decision, label, score, window, thresholds, title)
    page.add_metrics(metrics)
    if performance is not None:
        page.add_performance(performance)
    if drift is not None:
        page.add_drift(drift)
    return page.render()


class _Page:
    """One report being put together: each part's sections are drawn as soon as its figures are
    given (report_from_database draws one part's charts while the others are still computed)."""

    def __init__(self, key: str, start: datetime, end: datetime, generated_at: datetime,
                 primary_decision: str | None, label: str | None, score: str | None, window: str | None,
                 thresholds: tuple[float, float], title: str | None) -> None:
        if not isinstance(key, str) or not key:
            raise ValueError("key must be a non-empty string")
        self.start, self.end = _utc(start, "start"), _utc(end, "end")
        self.generated = _utc(generated_at, "generated_at")
        if self.start >= self.end:
            raise ValueError(f"start ({self.start:%Y-%m-%d %H:%M}) must be before end ({self.end:%Y-%m-%d %H:%M})")
        self.key, self.primary_decision, self.label, self.score = key, primary_decision, label, score
        self.window, self.thresholds, self.title = window, thresholds, title
        self.m: dict[str, pd.DataFrame] | None = None
        self.p: dict[str, pd.DataFrame] | None = None
        self.d: pd.DataFrame | None = None
        self.primary: str | None = None
        self.parts: dict[str, list[Section]] = {}
        self.drawings: list[tuple[Chart, drawing.Drawing]] = []

    def _chart(self, part: str) -> Callable[..., Chart]:
        """What the sections call with a chart function of audit.charts and its data: the chart
        is drawn on a worker process (audit.drawing) and put in place when the page is rendered."""
        made = iter(range(1, 10_000))  # ids unique in the page whatever order the parts come in

        def chart(function: Callable[..., Any], *args: Any) -> Chart:
            placed = Chart(Markup(""), "")
            self.drawings.append((placed, drawing.draw(function, args, id_prefix=f"chart-{part}{next(made)}")))
            return placed
        return chart

    def add_metrics(self, metrics: Any) -> None:
        m = self.m = {name: _frame(metrics, name, "metrics") for name in METRICS_FRAMES}
        self.primary = _primary(m["outputs"], self.primary_decision)
        chart = self._chart("m")
        self.parts["metrics"] = [
            _volume_section(m["volume"], chart),
            _outcome_section(m["outputs"], self.primary, chart),
            _rules_section(m["rules"], m["never_fired"], chart),
            _review_section(m["reviews"], m["overrides"], chart),
            _workflow_section(m["workflows"], chart),
        ]

    def add_performance(self, performance: Any) -> None:
        self.p = {name: _frame(performance, name, "performance") for name in PERFORMANCE_FRAMES}
        self.parts["performance"] = [_performance_section(self.p, self.label, self.score, self._chart("p"))]

    def add_drift(self, drift: pd.DataFrame) -> None:
        self.d = drift
        self.parts["drift"] = [_drift_section(drift, self.thresholds, self._chart("d"))]

    def render(self) -> str:
        if self.m is None:
            raise ValueError("the report needs the metrics")
        for placed, pending in self.drawings:
            svg, placed.title = pending.result()
            placed.svg = Markup(svg)
        context = {
            "title": self.title or f"Decision report: {self.key}",
            "key": self.key,
            "period": f"{self.start:%Y-%m-%d %H:%M} to {self.end:%Y-%m-%d %H:%M} UTC",
            "generated": f"{self.generated:%Y-%m-%d %H:%M} UTC",
            "window": self.window,
            "cards": _summary(self.m, self.p, self.d, self.primary, self.label, self.thresholds),
            "sections": [s for part in ("metrics", "performance", "drift") for s in self.parts.get(part, [])],
        }
        return _environment().get_template("report.html.j2").render(**context)


def report_from_database(engine: Engine, key: str, *, start: datetime, end: datetime, window: str | None = None,
                         label: str | None = None, score: str | None = None, positive: Sequence[str] | None = None,
                         decision_output: str | None = None, bands: int = 10,
                         reference: tuple[datetime, datetime] | None = None, versions: Sequence[int] | None = None,
                         alias: str | None = None, as_of: datetime | None = None,
                         thresholds: tuple[float, float] = (0.1, 0.25), generated_at: datetime | None = None) -> str:
    """Compute the metrics (and, with `label`, the performance; and the drift of [start, end)
    against `reference`, by default the period of the same length just before) and render them.
    `window` defaults to day up to 45 days, week up to a year, month beyond. A key the registry
    does not know raises registry.NotFound."""
    from audit.drift import population_stability
    from audit.metrics import compute_metrics
    from audit.performance import compute_performance
    from audit.store import rule_ids_of, version_models

    models = version_models(engine, key, versions)  # first: an unknown key raises registry.NotFound
    window = window or _window_for(start, end)
    rule_ids = rule_ids_of(models)
    reference = reference or (start - (end - start), start)
    latest = models[max(models)] if models else None
    page = _Page(key, start, end, generated_at or datetime.now(UTC), None, label, score, window, thresholds, None)
    drawing.warm()
    # The three parts read the database independently, on threads; each part's charts are drawn
    # as soon as it is ready, while the drivers run the others' queries without the GIL.
    with ThreadPoolExecutor(max_workers=3, thread_name_prefix="report") as pool:
        computing: dict[Future[Any], str] = {
            pool.submit(compute_metrics, engine, key, start=start, end=end, window=window, versions=versions,
                        alias=alias, as_of=as_of, rule_ids=rule_ids or None): "metrics",
            pool.submit(population_stability, engine, key, reference=reference, current=(start, end),
                        thresholds=thresholds, versions=versions): "drift",
        }
        if label:
            computing[pool.submit(compute_performance, engine, key, label=label, decision_output=decision_output,
                                  positive=positive, score=score, bands=bands, start=start, end=end, as_of=as_of,
                                  versions=versions)] = "performance"
        for done in as_completed(computing):
            part, result = computing[done], done.result()
            if part == "metrics":
                page.primary_decision = _primary_from_model(latest, getattr(result, "outputs", None))
                page.add_metrics(result)
            elif part == "performance":
                page.add_performance(result)
            else:
                page.add_drift(result)
    return page.render()


# --- sections ------------------------------------------------------------------------------------

def _volume_section(volume: pd.DataFrame, chart: Any) -> Section:
    section = Section("volume", "Volume", "Decisions made in the period, per version. When traffic is split, "
                      "each version's arm (champion or challenger) is named.")
    section.charts.append(chart(charts.volume, volume))
    if not volume.empty:
        _need(volume, "metrics.volume", "version", "alias", "arm", "decisions")
        total = float(volume["decisions"].sum())
        rows = []
        for version, mine in sorted(volume.groupby("version"), key=lambda item: charts.sort_key(item[0])):
            count = float(mine["decisions"].sum())
            rows.append([charts.version_label(version), _names(mine["arm"]), _names(mine["alias"]), _int(count),
                         _pct(count / total if total else math.nan)])
        section.tables.append(Table("Decisions by version", ["Version", "Arm", "Alias", "Decisions", "Share"], rows,
                                    [False, False, False, True, True]))
    return section


def _outcome_section(outputs: pd.DataFrame, primary: str | None, chart: Any) -> Section:
    section = Section("outcomes", "Outcomes", "What the decisions returned. Shares are of the decisions that "
                      "returned a value for that decision, all versions pooled in the charts and per version in "
                      "the table.")
    if outputs.empty:
        section.charts.append(chart(charts.outcome_mix, outputs))
        return section
    _need(outputs, "metrics.outputs", "version", "decision", "value", "count")
    names = _ordered_decisions(outputs, primary)
    for name in names[:MAX_OUTCOME_CHARTS]:
        section.charts.append(chart(charts.outcome_mix, outputs, name))
    versions = sorted(outputs["version"].dropna().unique(), key=charts.sort_key)
    rows = []
    for name in names:
        mine = outputs[outputs["decision"].astype(str) == name].assign(
            value=lambda f: f["value"].map(lambda v: charts.NULL_LABEL if not charts.present(v) else str(v)))
        per = mine.groupby(["version", "value"])["count"].sum()
        totals = mine.groupby("version")["count"].sum()
        for value in mine.groupby("value")["count"].sum().sort_values(ascending=False).index:
            cells = [name, value]
            for version in versions:
                count = float(per.get((version, value), 0))
                total = float(totals.get(version, 0))
                cells.append(f"{_pct(count / total)} ({_int(count)})" if total else DASH)
            rows.append(cells)
    section.tables.append(Table("Outcome mix by version", ["Decision", "Value",
                                *[charts.version_label(v) for v in versions]], rows,
                                [False, False, *[True] * len(versions)]))
    return section


def _rules_section(rules: pd.DataFrame, never_fired: pd.DataFrame, chart: Any) -> Section:
    section = Section("rules", "Rules", "How often each rule of each decision table fired, as a share of the "
                      "version's decisions. A rule that never fires may be dead logic, or guard a case that has "
                      "not happened yet.")
    if not rules.empty:
        _need(rules, "metrics.rules", "version", "decision", "rule_id", "position", "hits", "hit_rate")
    if not never_fired.empty:
        _need(never_fired, "metrics.never_fired", "version", "decision", "rule_id", "position")
    names: list[str] = []
    for frame in (rules, never_fired):
        if not frame.empty:
            names += [str(n) for n in frame["decision"].dropna().unique() if str(n) not in names]
    if not names:
        section.charts.append(chart(charts.rule_hits, rules, never_fired))
    for name in names[:MAX_RULE_CHARTS]:
        section.charts.append(chart(charts.rule_hits, rules, never_fired, name))
    if not never_fired.empty:
        ordered = never_fired.sort_values(["decision", "position", "version"],
                                          key=lambda c: c.map(charts.sort_key))
        rows = [[str(r.decision), _text(r.rule_id), _text(r.position), charts.version_label(r.version)]
                for r in ordered.itertuples(index=False)]
        section.tables.append(Table("Rules that never fired in the period", ["Decision", "Rule", "Position",
                                    "Version"], rows, [False, False, True, False]))
    return section


def _review_section(reviews: pd.DataFrame, overrides: pd.DataFrame, chart: Any) -> Section:
    section = Section("reviews", "Human review", "Decisions sent to a person, and how often the person overrode "
                      "what the model decided.")
    section.charts.append(chart(charts.review_rates, reviews))
    if not reviews.empty:
        _need(reviews, "metrics.reviews", "version", "decisions", "reviewed", "overridden")
        rows = []
        for version, mine in sorted(reviews.groupby("version"), key=lambda item: charts.sort_key(item[0])):
            decided, reviewed, overridden = (float(mine[c].sum()) for c in ("decisions", "reviewed", "overridden"))
            rows.append([charts.version_label(version), _int(decided), _int(reviewed), _ratio(reviewed, decided),
                         _int(overridden), _ratio(overridden, reviewed)])
        section.tables.append(Table("Reviews by version", ["Version", "Decisions", "Reviewed",
                                    "Reviewed (% of decisions)", "Overridden", "Overridden (% of reviewed)"],
                                    rows, [False, True, True, True, True, True]))
    if not overrides.empty:
        _need(overrides, "metrics.overrides", "version", "decision", "original", "override", "count")
        ordered = overrides.sort_values("count", ascending=False)
        rows = [[charts.version_label(r.version), str(r.decision), _text(r.original), _text(r.override),
                 _int(r.count)] for r in ordered.itertuples(index=False)]
        section.tables.append(Table("Overrides: what the model said and what the reviewer chose",
                                    ["Version", "Decision", "Model said", "Reviewer chose", "Count"], rows,
                                    [False, False, False, False, True]))
    return section


def _workflow_section(workflows: pd.DataFrame, chart: Any) -> Section:
    section = Section("workflows", "Workflows", "The workflow runs the decisions started: how many finished, "
                      "failed for good (dead) or are still waiting, and how long they took.")
    section.charts.append(chart(charts.workflow_success, workflows))
    if not workflows.empty:
        _need(workflows, "metrics.workflows", "workflow", "runs", "done", "dead", "waiting")
        rows = []
        for name, mine in sorted(workflows.groupby(workflows["workflow"].astype(str))):
            runs, done, dead, waiting = (float(mine[c].sum()) for c in ("runs", "done", "dead", "waiting"))
            p50 = _weighted(mine, "latency_p50_s", "runs")
            p95 = float(pd.to_numeric(mine["latency_p95_s"], errors="coerce").max()) \
                if "latency_p95_s" in mine.columns else math.nan
            rows.append([name, _int(runs), _int(done), _int(dead), _int(waiting), _ratio(done, done + dead),
                         _seconds(p50), _seconds(p95)])
        section.tables.append(Table("Workflow runs", ["Workflow", "Runs", "Done", "Dead", "Waiting",
                                    "Completed (% of finished)", "Latency p50, mean of windows",
                                    "Latency p95, worst window"], rows, [False] + [True] * 7))
    return section


def _performance_section(p: dict[str, pd.DataFrame], label: str | None, score: str | None, chart: Any) -> Section:
    about = f"“bad” means the outcome label {label} is true" if label else "“bad” is the outcome label"
    scored = f"; bands and discrimination use the score {score}" if score else ""
    section = Section("performance", "Performance against outcomes",
                      f"How decisions turned out, for the decisions whose outcome is known: {about}{scored}. "
                      "KS and AUC measure how well the score separates good from bad (AUC 0.5 is chance, "
                      "Gini = 2 × AUC − 1).")
    section.charts.append(chart(charts.bad_rate_by_band, p["bad_rate_by_band"]))
    calibration = p["calibration"]
    if not calibration.empty and "predicted_rate" in calibration.columns \
            and pd.to_numeric(calibration["predicted_rate"], errors="coerce").notna().any():
        section.charts.append(chart(charts.calibration, calibration))
    discrimination = p["discrimination"]
    if not discrimination.empty:
        _need(discrimination, "performance.discrimination", "version", "known", "bad", "ks", "ks_pvalue", "auc",
              "gini")
        rows = [[charts.version_label(r.version), _int(r.known), _int(r.bad), _ratio(r.bad, r.known),
                 _num(r.ks, 3), _pvalue(r.ks_pvalue), _num(r.auc, 3), _num(r.gini, 3)]
                for r in discrimination.itertuples(index=False)]
        section.tables.append(Table("Discrimination by version", ["Version", "Known outcomes", "Bad", "Bad rate",
                                    "KS", "KS p-value", "AUC", "Gini"], rows, [False] + [True] * 7))
    by_outcome = p["bad_rate_by_outcome"]
    if not by_outcome.empty:
        _need(by_outcome, "performance.bad_rate_by_outcome", "version", "value", "decisions", "known", "bad")
        rows = [[charts.version_label(r.version), _text(r.value), _int(r.decisions), _int(r.known), _int(r.bad),
                 _ratio(r.bad, r.known)] for r in by_outcome.itertuples(index=False)]
        section.tables.append(Table("Bad rate by decision outcome", ["Version", "Outcome", "Decisions",
                                    "Known outcomes", "Bad", "Bad rate"], rows, [False, False] + [True] * 4))
    confusion = p["confusion"]
    if not confusion.empty:
        _need(confusion, "performance.confusion", "version", "predicted", "actual", "count")
        actuals = sorted({str(a) for a in confusion["actual"]})
        table = confusion.assign(actual=confusion["actual"].astype(str), predicted=confusion["predicted"].astype(str))
        counts = table.groupby(["version", "predicted", "actual"])["count"].sum()
        rows = []
        for (version, predicted), _ in table.groupby(["version", "predicted"]):
            rows.append([charts.version_label(version), str(predicted),
                         *[_int(counts.get((version, predicted, a), 0)) for a in actuals]])
        section.tables.append(Table("Confusion: predicted against actual", ["Version", "Predicted",
                                    *[f"Actual {a}" for a in actuals]], rows, [False, False] + [True] * len(actuals)))
    return section


def _drift_section(drift: pd.DataFrame, thresholds: tuple[float, float], chart: Any) -> Section:
    watch, alert = thresholds
    section = Section("drift", "Drift", f"Population stability index (PSI) of each input and output in the "
                      f"period against the reference period: below {watch:g} stable, {watch:g} to {alert:g} "
                      f"worth watching, above {alert:g} drifted.")
    section.charts.append(chart(charts.psi, drift, thresholds))
    if not drift.empty:
        _need(drift, "drift", "kind", "name", "psi", "status")
        ordered = drift.assign(psi=pd.to_numeric(drift["psi"], errors="coerce")).sort_values(
            "psi", ascending=False, na_position="last")
        rows, classes = [], []
        for r in ordered.to_dict("records"):
            rows.append([str(r["name"]), str(r["kind"]), _num(r["psi"], 3), str(r["status"]),
                         _int(r.get("reference_n")), _int(r.get("current_n"))])
            classes.append(str(r["status"]) if str(r["status"]) in ("watch", "drift") else "")
        section.tables.append(Table("Population stability", ["Field", "Kind", "PSI", "Status", "Reference n",
                                    "Current n"], rows, [False, False, True, False, True, True], classes))
    return section


def _summary(m: dict[str, pd.DataFrame], p: dict[str, pd.DataFrame] | None, drift: pd.DataFrame | None,
             primary: str | None, label: str | None, thresholds: tuple[float, float]) -> list[Card]:
    cards = []
    volume = m["volume"]
    total = float(volume["decisions"].sum()) if not volume.empty else 0.0
    cards.append(Card("Decisions", _int(total), "in the period" if total else "no decisions in the period"))
    if not volume.empty:
        shares = []
        for version, mine in sorted(volume.groupby("version"), key=lambda item: charts.sort_key(item[0])):
            arms = _names(mine["arm"])
            share = _pct(float(mine["decisions"].sum()) / total) if total else DASH
            shares.append(f"{charts.version_label(version)}{' ' + arms if arms != DASH else ''}: {share}")
        cards.append(Card("Versions", str(volume["version"].nunique()), "; ".join(shares)))
    outputs = m["outputs"]
    if primary is not None and not outputs.empty:
        mine = outputs[outputs["decision"].astype(str) == primary]
        counts = mine.groupby(mine["value"].map(lambda v: charts.NULL_LABEL if not charts.present(v) else str(v)))[
            "count"].sum().sort_values(ascending=False)
        whole = float(counts.sum())
        mix = " · ".join(f"{value} {_pct(float(c) / whole)}" for value, c in counts.head(4).items()) if whole else DASH
        cards.append(Card(f"Outcome mix: {primary}", mix, "share of all decisions in the period", compact=True))
    if p is not None:
        known, bad = _known_bad(p)
        about = f"outcome “{label}”" if label else "the outcome label"
        cards.append(Card("Bad rate", _ratio(bad, known),
                          f"{_int(bad)} bad of {_int(known)} known outcomes ({about})" if known
                          else "no outcome is known yet"))
    reviews = m["reviews"]
    if not reviews.empty:
        decided, reviewed, overridden = (float(reviews[c].sum()) for c in ("decisions", "reviewed", "overridden"))
        cards.append(Card("Human review", _ratio(reviewed, decided),
                          f"of decisions reviewed; {_ratio(overridden, reviewed)} of reviews overrode the model"))
    workflows = m["workflows"]
    if not workflows.empty:
        dead = float(workflows["dead"].sum())
        cards.append(Card("Failed workflow runs", _int(dead), f"dead, of {_int(float(workflows['runs'].sum()))} runs",
                          alert=dead > 0))
    if drift is not None:
        if drift.empty:
            cards.append(Card("Drift alerts", DASH, "no drift figures for the period"))
        else:
            worst_first = drift.assign(psi=pd.to_numeric(drift["psi"], errors="coerce")).sort_values(
                "psi", ascending=False, na_position="last")
            status = worst_first["status"].astype(str)
            drifted = [str(n) for n in worst_first.loc[status == "drift", "name"]]
            watched = [str(n) for n in worst_first.loc[status == "watch", "name"]]
            detail = f"drifted (PSI ≥ {thresholds[1]:g}): {', '.join(drifted)}" if drifted else "nothing drifted"
            if watched:
                detail += f"; to watch: {', '.join(watched)}"
            cards.append(Card("Drift alerts", str(len(drifted)), detail, alert=bool(drifted)))
    return cards


# --- helpers -------------------------------------------------------------------------------------------

_environment_cache: list[SandboxedEnvironment] = []


def _environment() -> SandboxedEnvironment:
    if not _environment_cache:
        _environment_cache.append(SandboxedEnvironment(
            loader=PackageLoader("audit", "templates"), autoescape=True, undefined=StrictUndefined,
            trim_blocks=True, lstrip_blocks=True))
    return _environment_cache[0]


def _frame(source: Any, name: str, what: str) -> pd.DataFrame:
    value = getattr(source, name, None) if source is not None else None
    if value is None:
        return pd.DataFrame()
    if not isinstance(value, pd.DataFrame):
        raise ValueError(f"{what}.{name} must be a pandas DataFrame, not {type(value).__name__}")
    return value


def _need(frame: pd.DataFrame, what: str, *columns: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{what}: the frame has no column {', '.join(repr(c) for c in missing)}")


def _utc(value: datetime, name: str) -> datetime:
    if not isinstance(value, datetime):
        raise ValueError(f"{name} must be a datetime, not {type(value).__name__}")
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _primary(outputs: pd.DataFrame, wanted: str | None) -> str | None:
    if outputs.empty or "decision" not in outputs.columns:
        return wanted
    present = [str(n) for n in outputs["decision"].dropna().unique()]
    if wanted is not None:
        if wanted in present:
            return wanted
        parts = [n for n in present if n.startswith(f"{wanted}.")]
        if parts:
            return parts[0]
    return present[0] if present else None


def _ordered_decisions(outputs: pd.DataFrame, primary: str | None) -> list[str]:
    names = [str(n) for n in outputs["decision"].dropna().unique()]
    return sorted(names, key=lambda n: (n != primary, names.index(n)))


def _known_bad(p: dict[str, pd.DataFrame]) -> tuple[float, float]:
    for name in ("discrimination", "bad_rate_by_outcome", "bad_rate_by_band"):
        frame = p[name]
        if not frame.empty and {"known", "bad"} <= set(frame.columns):
            return float(frame["known"].sum()), float(frame["bad"].sum())
    return 0.0, 0.0


def _weighted(frame: pd.DataFrame, column: str, weight: str) -> float:
    if column not in frame.columns:
        return math.nan
    values = pd.to_numeric(frame[column], errors="coerce")
    weights = pd.to_numeric(frame[weight], errors="coerce").where(values.notna(), 0).fillna(0)
    total = float(weights.sum())
    return float((values.fillna(0) * weights).sum()) / total if total else math.nan


def _window_for(start: datetime, end: datetime) -> str:
    span = end - start
    return "day" if span <= timedelta(days=45) else "week" if span <= timedelta(days=366) else "month"


def _primary_from_model(model: Any, outputs: Any) -> str | None:
    """The decision a reader most wants the outcome mix of: the last one in evaluation order (the
    final decision, or closest to it) whose logged values are words, not numbers (a credit
    limit computed from the decision is final too, but its mix says little)."""
    if model is None or not isinstance(outputs, pd.DataFrame) or outputs.empty \
            or not {"decision", "value"} <= set(outputs.columns):
        return None
    logged = outputs["decision"].astype(str)
    for name in reversed(list(getattr(model, "decisions", {}))):
        values = outputs.loc[(logged == name) | logged.str.startswith(f"{name}."), "value"].dropna()
        if len(values) and pd.to_numeric(values, errors="coerce").isna().any():
            return str(name)
    return None


def _names(values: pd.Series) -> str:
    names = sorted({str(v) for v in values if charts.present(v)})
    return ", ".join(names) if names else DASH


def _text(value: Any) -> str:
    if not charts.present(value):
        return DASH
    if isinstance(value, dict):
        return ", ".join(f"{k}: {v}" for k, v in value.items())
    return str(value)


def _number(value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return math.nan
    return number


def _int(value: Any) -> str:
    number = _number(value)
    return DASH if math.isnan(number) else f"{number:,.0f}"


def _num(value: Any, digits: int) -> str:
    number = _number(value)
    return DASH if math.isnan(number) else f"{number:.{digits}f}"


def _pct(value: Any) -> str:
    number = _number(value)
    return DASH if math.isnan(number) else f"{number * 100:.1f}%"


def _ratio(part: Any, whole: Any) -> str:
    top, bottom = _number(part), _number(whole)
    return _pct(top / bottom) if bottom and not math.isnan(bottom) else DASH


def _pvalue(value: Any) -> str:
    number = _number(value)
    if math.isnan(number):
        return DASH
    return "< 0.001" if number < 0.001 else f"{number:.3f}"


def _seconds(value: float) -> str:
    return DASH if math.isnan(value) else f"{value:,.2f} s"
