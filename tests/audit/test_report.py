"""The reviewer's report and its charts: built from hand-made audit frames (the columns of
audit/metrics.py, audit/performance.py and audit/drift.py), checked as figures, and opened in
headless Chromium with the network off (tests/audit/browser.py): every chart drawn, no console
error, no request outside the file, and a full-page screenshot (copied to
$DECISIONARY_SCREENSHOTS when set).

The frames: four weeks of daily windows, version 1 the champion and version 2 a challenger
taking a fifth of the traffic in the last two weeks, drawn from a seeded generator.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.colors import to_hex
from matplotlib.figure import Figure
from PIL import Image
from sqlalchemy.engine import Engine

from api.devserver import publish_examples
from audit import charts
from audit import report as report_module
from audit.report import render_report
from audit.store import rule_ids_of, version_models
from registry import NotFound
from tests.audit.browser import SCREENSHOTS_ENV, open_offline

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
START = datetime(2026, 3, 2, tzinfo=UTC)
DAYS = 28
GENERATED = datetime(2026, 3, 30, 8, 0, tzinfo=UTC)
OUTCOMES = {"Approve": 0.58, "Refer": 0.24, "Reject": 0.18}
RULES = {
    "Risk Category": [("low-score", 1), ("mid-score", 2), ("high-dti", 3), ("young-thin-file", 4),
                      ("default-medium", 5), ("legacy-manual", 6)],
    "Decision": [("approve-low", 1), ("refer-medium", 2), ("reject-high", 3), ("reject-ineligible", 4)],
}


@dataclass
class Metrics:
    volume: pd.DataFrame
    outputs: pd.DataFrame
    rules: pd.DataFrame
    never_fired: pd.DataFrame
    reviews: pd.DataFrame
    overrides: pd.DataFrame
    workflows: pd.DataFrame


@dataclass
class Performance:
    bad_rate_by_outcome: pd.DataFrame
    bad_rate_by_band: pd.DataFrame
    confusion: pd.DataFrame
    discrimination: pd.DataFrame
    calibration: pd.DataFrame


@dataclass
class Frames:
    metrics: Metrics
    performance: Performance
    drift: pd.DataFrame
    start: datetime = START
    end: datetime = field(default=START + timedelta(days=DAYS))


def build(seed: int = 7) -> Frames:
    rng = np.random.default_rng(seed)
    volume, outputs, reviews, workflows = [], [], [], []
    totals = {1: 0, 2: 0}
    for day in range(DAYS):
        window = pd.Timestamp(START + timedelta(days=day))
        total = int(300 + 60 * np.sin(day / 7 * 2 * np.pi) + rng.integers(-20, 20))
        split = {1: total} if day < DAYS // 2 else {1: int(total * 0.8), 2: total - int(total * 0.8)}
        for version, decisions in split.items():
            arm = None if day < DAYS // 2 else ("champion" if version == 1 else "challenger")
            volume.append({"window_start": window, "version": version, "alias": "production", "arm": arm,
                           "decisions": decisions})
            totals[version] += decisions
            shares = np.array(list(OUTCOMES.values())) + (0.04 if version == 2 else 0) * np.array([1, -0.5, -0.5])
            counts = rng.multinomial(decisions, shares / shares.sum())
            for (value, _), count in zip(OUTCOMES.items(), counts, strict=True):
                outputs.append({"window_start": window, "version": version, "alias": "production",
                                "decision": "Decision", "value": value, "count": int(count),
                                "rate": count / decisions})
            reviewed = int(counts[1] * 0.9)
            overridden = int(rng.binomial(reviewed, 0.1))
            reviews.append({"window_start": window, "version": version, "alias": "production",
                            "decisions": decisions, "reviewed": reviewed, "review_rate": reviewed / decisions,
                            "overridden": overridden, "override_rate": overridden / max(reviewed, 1)})
            for workflow, runs in zip(("approved", "referred", "rejected"), counts, strict=True):
                dead = int(rng.binomial(runs, 0.01))
                waiting = int(rng.binomial(runs - dead, 0.02)) if day >= DAYS - 2 else 0
                done = int(runs) - dead - waiting
                workflows.append({"window_start": window, "version": version, "workflow": workflow,
                                  "runs": int(runs), "done": done, "dead": dead, "waiting": waiting,
                                  "success_rate": done / max(done + dead, 1), "latency_p50_s": 1.3,
                                  "latency_p95_s": 4.2})
    rules, never = [], []
    for version, total in totals.items():
        for decision, ids in RULES.items():
            weights = rng.dirichlet(np.ones(len(ids)))
            for (rule_id, position), weight in zip(ids, weights, strict=True):
                silent = rule_id in ("legacy-manual", "reject-ineligible") or (version == 2 and position == 4)
                hits = 0 if silent else int(total * weight)
                if silent:
                    never.append({"version": version, "decision": decision, "rule_id": rule_id,
                                  "position": position})
                else:
                    rules.append({"version": version, "decision": decision, "rule_id": rule_id,
                                  "position": position, "hits": hits, "hit_rate": hits / total})
    overrides = pd.DataFrame([
        {"version": 1, "decision": "Decision", "original": "Refer", "override": "Approve", "count": 81},
        {"version": 1, "decision": "Decision", "original": "Refer", "override": "Reject", "count": 40},
        {"version": 2, "decision": "Decision", "original": "Refer", "override": "Approve", "count": 9},
    ])
    metrics = Metrics(pd.DataFrame(volume), pd.DataFrame(outputs), pd.DataFrame(rules), pd.DataFrame(never),
                      pd.DataFrame(reviews), overrides, pd.DataFrame(workflows))
    return Frames(metrics, _performance(rng), _drift())


def _performance(rng: np.random.Generator) -> Performance:
    bands, calibration = [], []
    edges = np.linspace(500, 850, 11)
    for version in (1, 2):
        for band in range(10):
            known = int(rng.integers(80, 240)) // version
            rate = 0.22 * np.exp(-band / 3.2) + 0.005
            bad = int(rng.binomial(known, rate))
            bands.append({"version": version, "band": band + 1, "lower": edges[band], "upper": edges[band + 1],
                          "known": known, "bad": bad, "bad_rate": bad / known,
                          "mean_score": (edges[band] + edges[band + 1]) / 2})
            calibration.append({"version": version, "band": band + 1, "mean_score": rate,
                                "predicted_rate": rate, "observed_rate": bad / known, "known": known})
    by_outcome = pd.DataFrame([
        {"version": 1, "value": "Approve", "decisions": 4700, "known": 1310, "bad": 61, "bad_rate": 61 / 1310},
        {"version": 1, "value": "Refer", "decisions": 1900, "known": 480, "bad": 52, "bad_rate": 52 / 480},
        {"version": 2, "value": "Approve", "decisions": 560, "known": 150, "bad": 6, "bad_rate": 6 / 150},
    ])
    confusion = pd.DataFrame([
        {"version": 1, "predicted": "bad", "actual": "bad", "count": 40},
        {"version": 1, "predicted": "bad", "actual": "good", "count": 140},
        {"version": 1, "predicted": "good", "actual": "bad", "count": 73},
        {"version": 1, "predicted": "good", "actual": "good", "count": 1537},
    ])
    discrimination = pd.DataFrame([
        {"version": 1, "known": 1790, "bad": 113, "ks": 0.412, "ks_pvalue": 1.2e-16, "auc": 0.771, "gini": 0.542},
        {"version": 2, "known": 150, "bad": 6, "ks": 0.38, "ks_pvalue": 0.04, "auc": 0.74, "gini": 0.48},
    ])
    return Performance(by_outcome, pd.DataFrame(bands), confusion, discrimination, pd.DataFrame(calibration))


def _drift() -> pd.DataFrame:
    rows = [("input", "Credit Score", 0.31, "drift"), ("input", "Monthly Income", 0.12, "watch"),
            ("input", "Applicant Age", 0.02, "stable"), ("input", "Monthly Debt", 0.04, "stable"),
            ("input", "Employment Status", 0.01, "stable"), ("input", "Requested Amount", 0.05, "stable"),
            ("output", "Decision", 0.09, "stable"), ("output", "Risk Category", 0.14, "watch")]
    return pd.DataFrame([{"kind": k, "name": n, "psi": p, "status": s, "reference_n": 8400, "current_n": 8650}
                         for k, n, p, s in rows])


def _report(frames: Frames, **options: object) -> str:
    arguments: dict[str, object] = {
        "key": "loan-approval", "start": frames.start, "end": frames.end, "metrics": frames.metrics,
        "performance": frames.performance, "drift": frames.drift, "generated_at": GENERATED,
        "primary_decision": "Decision", "label": "defaulted", "score": "Credit Score", "window": "day"}
    arguments.update(options)
    return render_report(**arguments)  # type: ignore[arg-type]


def _texts(figure: Figure) -> list[str]:
    found = [t.get_text() for t in figure.findobj(lambda a: hasattr(a, "get_text"))]  # type: ignore[attr-defined]
    return [t for t in found if t]


def _all_charts(frames: Frames) -> dict[str, Figure]:
    m, p = frames.metrics, frames.performance
    return {
        "outcome_mix": charts.outcome_mix(m.outputs, "Decision"),
        "rule_hits": charts.rule_hits(m.rules, m.never_fired, "Risk Category"),
        "bad_rate_by_band": charts.bad_rate_by_band(p.bad_rate_by_band),
        "calibration": charts.calibration(p.calibration),
        "psi": charts.psi(frames.drift),
        "volume": charts.volume(m.volume),
        "review_rates": charts.review_rates(m.reviews),
        "workflow_success": charts.workflow_success(m.workflows),
    }


# --- in the browser --------------------------------------------------------------------------------

# volume, outcome mix, rule hits x2 (two tables), reviews, workflows, bad rate by band, calibration, PSI
EXPECTED_CHARTS = 9


def test_the_report_draws_every_chart_offline_in_chromium(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    copies = Path(os.environ.get(SCREENSHOTS_ENV) or tmp_path / "copies")
    monkeypatch.setenv(SCREENSHOTS_ENV, str(copies))
    frames = build()
    html = _report(frames)
    path = tmp_path / "report.html"
    path.write_text(html, encoding="utf-8")
    total = int(frames.metrics.volume["decisions"].sum())

    with open_offline(path, profile_dir=tmp_path / "profile") as visit:
        figures = visit.page.locator("figure svg")
        assert figures.count() == EXPECTED_CHARTS
        for i in range(EXPECTED_CHARTS):
            svg = figures.nth(i)
            box = svg.bounding_box()
            assert box is not None and box["width"] > 300 and box["height"] > 100, (i, box)
            drawn = svg.evaluate("""s => [...s.querySelectorAll('path')].filter(p => !p.closest('defs'))
                .filter(p => { const b = p.getBoundingClientRect(); return b.width > 0 || b.height > 0; }).length""")
            assert drawn >= 5, (i, drawn)
        labels = [visit.page.locator("figure").nth(i).get_attribute("aria-label") for i in range(EXPECTED_CHARTS)]
        assert "Outcome mix over time: Decision" in labels and "Rule hits: Risk Category" in labels
        cards = visit.page.locator(".card")
        assert cards.first.locator(".value").inner_text() == f"{total:,}"
        drift_card = cards.filter(has_text="Drift alerts")
        assert drift_card.locator(".value").inner_text() == "1" and "Credit Score" in drift_card.inner_text()
        shots = visit.screenshot(tmp_path / "screenshots" / "report.png")
        assert visit.console_errors == [] and visit.page_errors == []
        assert visit.outside_requests == []

    assert shots == [tmp_path / "screenshots" / "report.png", copies / "report.png"]
    assert shots[1].read_bytes() == shots[0].read_bytes()
    with Image.open(shots[0]) as image:
        assert image.format == "PNG" and image.size[0] >= 1280 and image.size[1] > 3000


def test_the_browser_helper_catches_requests_and_console_errors(tmp_path: Path) -> None:
    page = tmp_path / "leaky.html"
    page.write_text('<!DOCTYPE html><p>x</p><img src="https://example.org/pixel.png">'
                    '<script>console.error("broken")</script>', encoding="utf-8")
    with open_offline(page, profile_dir=tmp_path / "profile") as visit:
        visit.page.wait_for_load_state("load")
    assert visit.outside_requests == ["https://example.org/pixel.png"]
    assert "broken" in visit.console_errors


# --- the HTML --------------------------------------------------------------------------------------

def test_the_report_is_one_self_contained_file() -> None:
    html = _report(build())
    assert html.startswith("<!DOCTYPE html>")
    assert "<script" not in html.lower() and "<link" not in html.lower() and "@import" not in html
    assert charts.external_references(html) == []
    assert "default-src 'none'" in html
    ids = re.findall(r'\bid="([^"]+)"', html)
    assert len(ids) == len(set(ids)), "element ids repeat across charts"
    for section in ("summary", "volume", "outcomes", "rules", "reviews", "workflows", "performance", "drift"):
        assert f'id="{section}"' in html and f'href="#{section}"' in html


def test_the_summary_states_the_key_figures() -> None:
    frames = build()
    html = _report(frames)
    volume, outputs = frames.metrics.volume, frames.metrics.outputs
    total = volume["decisions"].sum()
    approve = outputs.loc[outputs["value"] == "Approve", "count"].sum() / outputs["count"].sum()
    known = frames.performance.discrimination["known"].sum()
    bad = frames.performance.discrimination["bad"].sum()
    challenger = volume.loc[volume["version"] == 2, "decisions"].sum() / total
    assert f"{total:,}" in html
    assert f"Approve {approve * 100:.1f}%" in html
    assert f"{bad * 100 / known:.1f}%" in html and f"{bad:,} bad of {known:,} known outcomes" in html
    assert f"v2 challenger: {challenger * 100:.1f}%" in html
    assert "drifted (PSI ≥ 0.25): Credit Score; to watch: Risk Category, Monthly Income" in html


def test_without_performance_or_drift_those_parts_are_left_out() -> None:
    html = _report(build(), performance=None, drift=None)
    assert 'id="performance"' not in html and 'id="drift"' not in html
    assert "Bad rate" not in html and "Drift alerts" not in html
    assert html.count("<figure") == EXPECTED_CHARTS - 3


def test_names_and_values_from_the_data_are_escaped_not_markup() -> None:
    frames = build()
    outputs = frames.metrics.outputs.copy()
    outputs["value"] = outputs["value"].replace("Refer", "<script>alert('x')</script> $5 & up")
    rules = frames.metrics.rules.copy()
    rules["rule_id"] = rules["rule_id"].replace("mid-score", '"><img src=x onerror=alert(1)>')
    metrics = replace(frames.metrics, outputs=outputs, rules=rules)
    html = _report(frames, metrics=metrics, key="loan<b>approval</b>")
    assert "<script" not in html and "<img" not in html and "<b>approval" not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; $5 &amp; up" in html
    assert "loan&lt;b&gt;approval&lt;/b&gt;" in html
    assert charts.external_references(html) == []


def test_bad_arguments_are_clear_errors() -> None:
    frames = build()
    with pytest.raises(ValueError, match="start .* must be before end"):
        _report(frames, start=frames.end, end=frames.start)
    with pytest.raises(ValueError, match="generated_at must be a datetime"):
        _report(frames, generated_at="yesterday")
    broken = replace(frames.metrics, volume=frames.metrics.volume.drop(columns=["decisions"]))
    with pytest.raises(ValueError, match="'decisions'"):
        _report(frames, metrics=broken)
    with pytest.raises(ValueError, match=r"metrics.rules must be a pandas DataFrame"):
        _report(frames, metrics=replace(frames.metrics, rules=[1, 2]))


def test_naive_datetimes_are_read_as_utc() -> None:
    frames = build()
    html = _report(frames, start=frames.start.replace(tzinfo=None), end=frames.end.replace(tzinfo=None))
    assert "2026-03-02 00:00 to 2026-03-30 00:00 UTC" in html


def test_the_template_ships_in_the_package() -> None:
    templates = Path(charts.__file__).resolve().parent / "templates"
    assert (templates / "report.html.j2").is_file()
    pyproject = (Path(__file__).resolve().parents[2] / "pyproject.toml").read_text(encoding="utf-8")
    assert re.search(r'audit\s*=\s*\[[^\]]*"templates/\*\.j2"', pyproject)


# --- the charts ------------------------------------------------------------------------------------

def test_every_chart_has_a_title_a_caption_labelled_axes_and_a_legend() -> None:
    for name, figure in _all_charts(build()).items():
        ax = figure.axes[0]
        assert figure.get_label(), name
        assert figure.get_suptitle() == figure.get_label(), name
        assert ax.get_title(loc="left"), name  # the "what this shows" line
        assert ax.get_xlabel(), name
        assert ax.get_ylabel() or name in ("rule_hits", "psi"), name
        assert figure.legends and figure.legends[0].get_texts(), name


def test_rates_are_shown_as_percentages() -> None:
    figures = _all_charts(build())
    for name, axis in [("outcome_mix", "y"), ("rule_hits", "x"), ("bad_rate_by_band", "y"),
                       ("calibration", "x"), ("calibration", "y"), ("review_rates", "y"),
                       ("workflow_success", "y")]:
        figure = figures[name]
        figure.canvas.draw()
        ticks = getattr(figure.axes[0], f"get_{axis}ticklabels")()
        shown = [t.get_text() for t in ticks if t.get_text()]
        assert shown and all(t.endswith("%") for t in shown), (name, axis, shown)


def test_a_version_has_the_same_colour_in_every_chart() -> None:
    figures = _all_charts(build())
    wanted = {1: to_hex(charts.version_colour(1)), 2: to_hex(charts.version_colour(2))}
    assert wanted[1] != wanted[2]

    def bar_colours(figure: Figure) -> dict[str, str]:
        return {c.get_label(): to_hex(c.patches[0].get_facecolor()) for c in figure.axes[0].containers
                if c.patches}

    volume = bar_colours(figures["volume"])
    assert volume == {"v1 (champion)": wanted[1], "v2 (challenger)": wanted[2]}
    bands = bar_colours(figures["bad_rate_by_band"])
    assert bands == {"v1 bad rate": wanted[1], "v2 bad rate": wanted[2]}
    rules = bar_colours(figures["rule_hits"])
    assert rules == {"v1": wanted[1], "v2": wanted[2]}


def test_rule_hits_mark_the_rules_that_never_fired() -> None:
    frames = build()
    figure = charts.rule_hits(frames.metrics.rules, frames.metrics.never_fired, "Risk Category")
    marks = [t.get_text() for t in figure.axes[0].texts]
    assert marks.count("never fired in v1") == 1  # legacy-manual
    assert marks.count("never fired in v2") == 2  # legacy-manual and young-thin-file
    assert "#6  legacy-manual" in _texts(figure) and "#4  young-thin-file" in _texts(figure)
    one_version = frames.metrics.rules[frames.metrics.rules["version"] == 1]
    silent = frames.metrics.never_fired[frames.metrics.never_fired["version"] == 1]
    alone = charts.rule_hits(one_version, silent, "Risk Category")
    assert [t.get_text() for t in alone.axes[0].texts].count("never fired") == 1
    assert "never fired" in [t.get_text() for t in alone.legends[0].get_texts()]


def test_psi_draws_both_thresholds_and_colours_bars_by_status() -> None:
    drift = build().drift
    figure = charts.psi(drift, thresholds=(0.1, 0.25))
    ax = figure.axes[0]
    verticals = sorted(float(line.get_xdata()[0]) for line in ax.get_lines()
                       if len(set(line.get_xdata())) == 1 and len(line.get_xdata()) == 2)
    assert verticals == [0.1, 0.25]
    colours = [to_hex(p.get_facecolor()) for p in ax.patches]
    expected = [charts.STATUS_COLOURS[s].lower() for s in drift.sort_values("psi", ascending=False)["status"]]
    assert colours == expected


def test_outcome_mix_stacks_shares_that_add_up_to_one_per_window() -> None:
    outputs = build().metrics.outputs
    figure = charts.outcome_mix(outputs, "Decision")
    ax = figure.axes[0]
    tops = np.zeros(DAYS)
    for container in ax.containers:
        tops = np.maximum(tops, [p.get_y() + p.get_height() for p in container.patches])
    assert np.allclose(tops, 1.0)
    first_day = outputs[outputs["window_start"] == outputs["window_start"].min()]
    approve = first_day.loc[first_day["value"] == "Approve", "count"].sum() / first_day["count"].sum()
    approve_bars = next(c for c in ax.containers if c.get_label() == "Approve")
    assert approve_bars.patches[0].get_height() == pytest.approx(approve)


@pytest.mark.parametrize("name", ["outcome_mix", "rule_hits", "bad_rate_by_band", "calibration", "psi", "volume",
                                  "review_rates", "workflow_success"])
def test_an_empty_frame_says_there_is_no_data(name: str) -> None:
    function = getattr(charts, name)
    figure = function(pd.DataFrame())
    assert charts.NO_DATA in _texts(figure)
    assert charts.to_svg(figure).startswith("<svg")


def test_a_frame_without_a_needed_column_is_named_in_the_error() -> None:
    volume = build().metrics.volume.drop(columns=["arm"])
    with pytest.raises(ValueError, match=r"volume: the frame has no column 'arm'"):
        charts.volume(volume)


def test_the_svg_is_inline_ready_and_refers_to_nothing_outside() -> None:
    figures = _all_charts(build())
    first = charts.to_svg(figures["volume"], id_prefix="a")
    second = charts.to_svg(figures["psi"], id_prefix="b")
    for svg, prefix in ((first, "a"), (second, "b")):
        assert svg.startswith("<svg") and svg.endswith("</svg>")
        assert "http" not in svg and "<!--" not in svg and "<metadata" not in svg and "<text" not in svg
        ids = re.findall(r'\bid="([^"]+)"', svg)
        assert ids and all(i.startswith(f"{prefix}-") for i in ids)
        targets = re.findall(r'href="#([^"]+)"|url\(#([^)]+)\)', svg)
        assert all((a or b) in ids for a, b in targets)
    again = charts.to_svg(charts.volume(build().metrics.volume), id_prefix="a")
    assert again == first  # the same frame, the same text
    assert charts.external_references('<image href="https://example.org/x.png"/>') != []


def test_dollar_signs_in_data_are_text_not_mathtext() -> None:
    outputs = build().metrics.outputs.replace({"value": {"Approve": "$100 limit", "Reject": "$0 limit"}})
    figure = charts.outcome_mix(outputs, "Decision")
    svg = charts.to_svg(figure)
    assert svg.startswith("<svg")
    assert r"\$100 limit" in _texts(figure)


# --- from the database ---------------------------------------------------------------------------------

def test_the_models_behind_a_report_come_from_the_registry(engine: Engine, tmp_path: Path) -> None:
    folder = tmp_path / "examples"
    folder.mkdir()
    (folder / "loan-approval.yaml").write_bytes((EXAMPLES / "loan-approval.yaml").read_bytes())
    publish_examples(engine, folder, receiver_url=None, say=lambda _: None)

    models = version_models(engine, "loan-approval")
    assert list(models) == [1] and "Credit Limit" in models[1].decisions
    assert version_models(engine, "loan-approval", [2]) == {}
    assert rule_ids_of(models)[1]["Decision"] == models[1].rule_ids["Decision"]
    outputs = pd.DataFrame([
        {"window_start": START, "version": 1, "alias": "production", "decision": d, "value": v, "count": 3,
         "rate": 0.5} for d, v in [("Credit Limit", 15000), ("Credit Limit", 0), ("Decision", "Approve"),
                                   ("Eligibility.Status", "Eligible"), ("Risk Category", "Low")]])
    # Credit Limit is computed last but is a number: the outcome mix shown is the decision's.
    assert report_module._primary_from_model(models[1], outputs) == "Decision"
    assert report_module._primary_from_model(models[1], outputs[outputs["decision"] != "Decision"]) \
        == "Eligibility"
    with pytest.raises(NotFound):
        report_module.report_from_database(engine, "no-such-model", start=START, end=START + timedelta(days=7))
