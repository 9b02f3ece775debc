"""Charts for a reviewer: each function takes one of the audit DataFrames and returns a matplotlib
Figure with a title, a one-line "what this shows" caption, labelled axes with units, rates as %,
and a legend below the plot.

    outcome_mix(outputs, decision)        stacked shares of each output value per window
    rule_hits(rules, never_fired, decision)  how often each rule fired; never-fired rules marked
    bad_rate_by_band(bad_rate_by_band)    bad rate per score band (bars) and how many are known (line)
    calibration(calibration)              predicted against observed bad rate per band
    psi(drift)                            population stability per input/output, with thresholds
    volume(volume)                        decisions per window, stacked by version
    review_rates(reviews)                 share reviewed and share overridden, per version
    workflow_success(workflows)           share of workflow runs that finished, per workflow

Colours mean the same thing in every chart: a version always has the colour `version_colour`
gives it (the arm a version served as is named beside it in the legend), a drift status always its colour (stable green, watch amber, drift red), and an output value
its colour in `value_colours`. An empty frame gives a figure that says there is no data for
the period; a frame that lacks a column the chart needs raises ValueError naming it.

`to_svg(figure)` renders a Figure as inline SVG text for an HTML page: text drawn as paths (no
fonts needed), no XML prolog, metadata, comments or URLs, and element ids prefixed so that many
charts can share one document.

Figures are made with `matplotlib.figure.Figure` on the Agg canvas, never through pyplot, so
importing this module changes no global backend (notebooks keep theirs).
"""

from __future__ import annotations

import hashlib
import io
import math
import re
from collections.abc import Iterable, Sequence
from typing import Any

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, MaxNLocator, PercentFormatter

NO_DATA = "No data for this period"
WIDTH_IN = 9.0
# Versions avoid green, amber and red, which always mean good, caution and bad (outcomes, drift status).
VERSION_PALETTE = ("#0072B2", "#CC79A7", "#56B4E9", "#6A3D9A", "#7F7F7F", "#000000", "#8C564B", "#1F3A93")
CATEGORY_PALETTE = ("#76B7B2", "#EDC948", "#9C755F", "#FF9DA7", "#B07AA1", "#59A14F", "#E15759", "#F28E2B",
                    "#4E79A7", "#BAB0AC")
STATUS_COLOURS = {"stable": "#009E73", "watch": "#E69F00", "drift": "#D55E00"}
NEVER_FIRED_COLOUR = "#D55E00"
GOOD, CAUTION, BAD = "#009E73", "#E69F00", "#D55E00"
# Output values whose meaning is plain keep that meaning's colour in every chart.
VALUE_MEANINGS = {
    "approve": GOOD, "approved": GOOD, "accept": GOOD, "accepted": GOOD, "eligible": GOOD, "yes": GOOD,
    "true": GOOD, "pass": GOOD, "low": GOOD,
    "refer": CAUTION, "referred": CAUTION, "review": CAUTION, "manual review": CAUTION, "medium": CAUTION,
    "reject": BAD, "rejected": BAD, "decline": BAD, "declined": BAD, "ineligible": BAD, "no": BAD,
    "false": BAD, "fail": BAD, "high": BAD,
}
NULL_LABEL = "(no value)"


# --- colours, shared by every chart ---------------------------------------------------------

def version_colour(version: Any) -> str:
    """The colour of a version (by its number, so it is the same in every chart and report)."""
    try:
        index = int(version) - 1
    except (TypeError, ValueError):
        index = sum(str(version).encode("utf-8"))
    return VERSION_PALETTE[index % len(VERSION_PALETTE)]


def value_colours(values: Iterable[Any]) -> dict[str, str]:
    """A colour per output value: plain meanings (approve, refer, reject...) keep theirs, the rest
    take the category palette in sorted order."""
    colours: dict[str, str] = {}
    taken: set[str] = set()
    names = sorted({str(v) for v in values})
    for name in names:
        meaning = VALUE_MEANINGS.get(name.strip().lower())
        if meaning and meaning not in taken:
            colours[name] = meaning
            taken.add(meaning)
    rest = [c for c in CATEGORY_PALETTE if c not in taken]
    for i, name in enumerate(n for n in names if n not in colours):
        colours[name] = rest[i % len(rest)] if name != NULL_LABEL else "#BAB0AC"
    return colours


def version_label(version: Any, arm: Any = None) -> str:
    label = f"v{version}" if present(version) else "no version"
    return f"{label} ({arm})" if present(arm) else label


# --- the charts -------------------------------------------------------------------------------

def outcome_mix(outputs: pd.DataFrame, decision: str | None = None) -> Figure:
    """Share of each output value of one decision, per window (all versions and aliases pooled)."""
    chosen = decision if decision is not None else _first(outputs, "decision")
    title = f"Outcome mix over time: {chosen}" if chosen is not None else "Outcome mix over time"
    caption = "What share of decisions ended in each outcome, window by window."
    fig, ax = _figure(title, caption)
    if outputs.empty or chosen is None:
        return _no_data(fig, ax)
    _require(outputs, "outcome_mix", "window_start", "decision", "value", "count")
    rows = outputs[outputs["decision"].astype(str) == str(chosen)]
    if rows.empty:
        return _no_data(fig, ax)
    rows = rows.assign(window=_utc(rows["window_start"]), value=_value_labels(rows["value"]),
                       count=pd.to_numeric(rows["count"], errors="coerce").fillna(0))
    counts = rows.pivot_table(index="window", columns="value", values="count", aggfunc="sum", fill_value=0)
    counts = counts[counts.sum(axis=1) > 0]
    if counts.empty:
        return _no_data(fig, ax)
    shares = counts.div(counts.sum(axis=1), axis=0)
    order = list(counts.sum().sort_values(ascending=False).index)
    shares = shares[order]
    colours = value_colours(order)
    x = np.arange(len(shares))
    if len(shares) <= 60:
        bottom = np.zeros(len(shares))
        for value in order:
            heights = shares[value].to_numpy(dtype=float)
            ax.bar(x, heights, bottom=bottom, width=0.85, color=colours[value], label=_text(value))
            bottom += heights
    else:
        ax.stackplot(x, *[shares[v].to_numpy(dtype=float) for v in order],
                     colors=[colours[v] for v in order], labels=[_text(v) for v in order])
        ax.set_xlim(x[0], x[-1])
    ax.set_ylim(0, 1)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.set_ylabel("Share of decisions (%)")
    _window_axis(ax, shares.index)
    _legend(fig, ax, title=str(chosen))
    return fig


def rule_hits(rules: pd.DataFrame, never_fired: pd.DataFrame | None = None, decision: str | None = None) -> Figure:
    """For one decision table: the share of decisions in which each rule fired, per version;
    rules that never fired in the period are marked."""
    chosen = decision if decision is not None else _first(rules, "decision")
    if chosen is None and never_fired is not None:
        chosen = _first(never_fired, "decision")
    title = f"Rule hits: {chosen}" if chosen is not None else "Rule hits"
    caption = "How often each rule fired; rules marked in red never fired in this period."
    frames = [f for f in (rules, never_fired) if f is not None and not f.empty]
    if chosen is None or not frames:
        fig, ax = _figure(title, caption)
        return _no_data(fig, ax)
    if not rules.empty:
        _require(rules, "rule_hits", "version", "decision", "rule_id", "position", "hits", "hit_rate")
    if never_fired is not None and not never_fired.empty:
        _require(never_fired, "rule_hits (never_fired)", "version", "decision", "rule_id", "position")
    hit = rules[rules["decision"].astype(str) == str(chosen)] if not rules.empty else rules
    silent = (never_fired[never_fired["decision"].astype(str) == str(chosen)]
              if never_fired is not None and not never_fired.empty else pd.DataFrame())
    versions = sorted({*_column(hit, "version"), *_column(silent, "version")}, key=sort_key)
    keys: dict[tuple[Any, str], str] = {}
    for frame in (hit, silent):
        for row in frame.itertuples(index=False):
            keys.setdefault((row.position, str(row.rule_id)), _rule_label(row.position, row.rule_id))
    ordered = sorted(keys, key=lambda k: (sort_key(k[0]), k[1]))
    if not ordered:
        fig, ax = _figure(title, caption)
        return _no_data(fig, ax)
    fig, ax = _figure(title, caption, height=max(2.6, 1.4 + 0.32 * len(ordered) * max(1, min(len(versions), 3))))
    slot = {k: i for i, k in enumerate(ordered)}
    band = 0.8 / max(1, len(versions))
    never: list[tuple[float, str]] = []
    top = 0.0
    silent_keys = {(r.version, r.position, str(r.rule_id)) for r in silent.itertuples(index=False)}
    for j, version in enumerate(versions):
        offset = -0.4 + band * (j + 0.5)
        mine = hit[hit["version"] == version] if not hit.empty else hit
        rates = {(r.position, str(r.rule_id)): (_number(r.hit_rate), _number(r.hits))
                 for r in mine.itertuples(index=False)}
        ys, widths, counts = [], [], []
        for key in ordered:
            rate, count = rates.get(key, (math.nan, 0.0))
            y = slot[key] + offset
            if (version, key[0], key[1]) in silent_keys or (key in rates and count == 0):
                never.append((y, version_label(version) if len(versions) > 1 else ""))
            elif key in rates and not math.isnan(rate):
                ys.append(y)
                widths.append(rate)
                counts.append(count)
        ax.barh(ys, widths, height=band * 0.9, color=version_colour(version), label=version_label(version))
        for y, width, count in zip(ys, widths, counts, strict=True):
            ax.annotate("" if math.isnan(count) else f"{count:,.0f}", (width, y), xytext=(3, 0), textcoords="offset points", va="center",
                        fontsize=7.5, color="#333333")
            top = max(top, width)
    ax.set_yticks(range(len(ordered)), [_text(keys[k]) for k in ordered], fontsize=8.5)
    ax.invert_yaxis()
    ax.set_xlim(0, max(0.05, top * 1.18))
    ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.set_xlabel("Decisions in which the rule fired (% of the version's decisions; labels: count)")
    for y, who in never:
        ax.plot([0], [y], marker="x", markersize=7, color=NEVER_FIRED_COLOUR, clip_on=False)
        ax.annotate(f"never fired in {who}" if who else "never fired", (0, y), xytext=(7, 0), textcoords="offset points", va="center",
                    fontsize=7.5, color=NEVER_FIRED_COLOUR)
    extra = [Line2D([], [], marker="x", linestyle="", color=NEVER_FIRED_COLOUR, label="never fired")] if never else []
    _legend(fig, ax, title="Version", extra=extra)
    return fig


def bad_rate_by_band(frame: pd.DataFrame) -> Figure:
    """Bad rate per score band, per version (bars), and how many outcomes are known (line)."""
    fig, ax = _figure("Bad rate by score band",
                      "Share of decisions with a known outcome that went bad, per score band; "
                      "the line is how many outcomes are known.")
    if frame.empty:
        return _no_data(fig, ax)
    _require(frame, "bad_rate_by_band", "version", "band", "known", "bad_rate")
    bands = sorted(frame["band"].dropna().unique(), key=sort_key)
    labels = {b: _band_label(frame[frame["band"] == b].iloc[0]) for b in bands}
    versions = sorted(frame["version"].dropna().unique(), key=sort_key)
    x = np.arange(len(bands))
    width = 0.8 / max(1, len(versions))
    counts_axis = ax.twinx()
    counts_axis.spines["top"].set_visible(False)
    for j, version in enumerate(versions):
        mine = frame[frame["version"] == version].set_index("band")
        rates = [float(mine.loc[b, "bad_rate"]) if b in mine.index else math.nan for b in bands]
        known = [float(mine.loc[b, "known"]) if b in mine.index else math.nan for b in bands]
        ax.bar(x - 0.4 + width * (j + 0.5), np.nan_to_num(rates), width=width * 0.92,
               color=version_colour(version), label=f"{version_label(version)} bad rate")
        counts_axis.plot(x, known, color=version_colour(version), linestyle="--", marker="o", markersize=4,
                         label=f"{version_label(version)} known outcomes")
    ax.set_xticks(x, [labels[b] for b in bands], rotation=30 if len(bands) > 6 else 0, ha="right"
                  if len(bands) > 6 else "center", fontsize=8.5)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.set_ylim(0, max(0.05, float(pd.to_numeric(frame["bad_rate"], errors="coerce").max(skipna=True) or 0) * 1.15))
    ax.set_ylabel("Bad rate (% of known outcomes)")
    ax.set_xlabel("Score band (score range)")
    counts_axis.set_ylim(bottom=0)
    counts_axis.set_ylabel("Known outcomes (decisions)")
    counts_axis.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
    _legend(fig, ax, title="Version", axes=(ax, counts_axis))
    return fig


def calibration(frame: pd.DataFrame) -> Figure:
    """Predicted against observed bad rate per band; points on the diagonal are well calibrated."""
    fig, ax = _figure("Calibration: predicted against observed bad rate",
                      "Each point is a score band; on the grey diagonal the predicted rate came true.")
    if frame.empty:
        return _no_data(fig, ax)
    _require(frame, "calibration", "version", "predicted_rate", "observed_rate")
    usable = frame.assign(predicted_rate=pd.to_numeric(frame["predicted_rate"], errors="coerce"),
                          observed_rate=pd.to_numeric(frame["observed_rate"], errors="coerce"))
    usable = usable.dropna(subset=["predicted_rate", "observed_rate"])
    if usable.empty:
        return _no_data(fig, ax, "The score is not a probability: no predicted rate to compare")
    top = max(0.05, float(max(usable["predicted_rate"].max(), usable["observed_rate"].max())) * 1.1)
    ax.plot([0, top], [0, top], color="#999999", linewidth=1, label="perfect calibration")
    for version in sorted(usable["version"].unique(), key=sort_key):
        mine = usable[usable["version"] == version].sort_values("predicted_rate")
        ax.plot(mine["predicted_rate"], mine["observed_rate"], marker="o", color=version_colour(version),
                label=version_label(version))
    ax.set_xlim(0, top)
    ax.set_ylim(0, top)
    for axis in (ax.xaxis, ax.yaxis):
        axis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.set_xlabel("Predicted bad rate (%)")
    ax.set_ylabel("Observed bad rate (%)")
    _legend(fig, ax, title="Version")
    return fig


def psi(drift: pd.DataFrame, thresholds: tuple[float, float] = (0.1, 0.25)) -> Figure:
    """Population stability index of each input and output, coloured by status, with the
    watch and drift thresholds drawn."""
    watch, alert = thresholds
    fig, ax = _figure("Population stability (drift) per input and output",
                      f"How far each field's distribution moved from the reference period; "
                      f"above {watch:g} watch it, above {alert:g} it has drifted.",
                      height=max(2.6, 1.5 + 0.3 * len(drift)))
    if drift.empty:
        return _no_data(fig, ax)
    _require(drift, "psi", "kind", "name", "psi", "status")
    rows = drift.assign(psi=pd.to_numeric(drift["psi"], errors="coerce"))
    rows = rows.sort_values("psi", ascending=False, na_position="last").reset_index(drop=True)
    values = rows["psi"].to_numpy(dtype=float)
    colours = [STATUS_COLOURS.get(str(s), "#7F7F7F") for s in rows["status"]]
    y = np.arange(len(rows))
    ax.barh(y, np.nan_to_num(values), color=colours, height=0.7)
    for i, value in enumerate(values):
        ax.annotate("n/a" if math.isnan(value) else f"{value:.3f}", (0 if math.isnan(value) else value, i),
                    xytext=(3, 0), textcoords="offset points", va="center", fontsize=7.5, color="#333333")
    ax.set_yticks(y, [_text(f"{n} ({k})") for n, k in zip(rows["name"], rows["kind"], strict=True)], fontsize=8.5)
    ax.invert_yaxis()
    top = max(alert * 1.3, float(np.nanmax(values)) * 1.15 if not np.all(np.isnan(values)) else 0.0)
    ax.set_xlim(0, top)
    ax.axvline(watch, color=STATUS_COLOURS["watch"], linestyle="--", linewidth=1.2)
    ax.axvline(alert, color=STATUS_COLOURS["drift"], linestyle="--", linewidth=1.2)
    ax.set_xlabel("Population stability index (PSI, no unit)")
    extra = [Patch(color=STATUS_COLOURS["stable"], label=f"stable (< {watch:g})"),
             Patch(color=STATUS_COLOURS["watch"], label=f"watch ({watch:g} to {alert:g})"),
             Patch(color=STATUS_COLOURS["drift"], label=f"drift (≥ {alert:g})"),
             Line2D([], [], color="#555555", linestyle="--", label="thresholds")]
    _legend(fig, ax, title="Status", extra=extra, own=False)
    return fig


def volume(frame: pd.DataFrame) -> Figure:
    """Decisions per window, stacked by version (aliases pooled), so the top is the total."""
    fig, ax = _figure("Decision volume over time",
                      "How many decisions each version made per window; the stack's top is the total.")
    if frame.empty:
        return _no_data(fig, ax)
    _require(frame, "volume", "window_start", "version", "arm", "decisions")
    rows = frame.assign(window=_utc(frame["window_start"]),
                        decisions=pd.to_numeric(frame["decisions"], errors="coerce").fillna(0))
    rows = rows[rows["version"].notna()]
    if rows.empty:
        return _no_data(fig, ax)
    counts = rows.pivot_table(index="window", columns="version", values="decisions", aggfunc="sum", fill_value=0)
    versions = sorted(counts.columns, key=sort_key)
    arms = {v: sorted({str(a) for a in rows.loc[rows["version"] == v, "arm"] if present(a)}) for v in versions}
    x = np.arange(len(counts))
    layers = [counts[v].to_numpy(dtype=float) for v in versions]
    labels = [_text(version_label(v, "/".join(arms[v]) or None)) for v in versions]
    colours = [version_colour(v) for v in versions]
    if len(counts) <= 60:
        bottom = np.zeros(len(counts))
        for layer, label, colour in zip(layers, labels, colours, strict=True):
            ax.bar(x, layer, bottom=bottom, width=0.85, color=colour, label=label)
            bottom += layer
    else:
        ax.stackplot(x, *layers, colors=colours, labels=labels)
    ax.set_ylim(0, max(1.0, float(counts.sum(axis=1).max()) * 1.08))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
    ax.set_ylabel("Decisions per window")
    _window_axis(ax, counts.index)
    _legend(fig, ax, title="Version (arm)")
    return fig


def review_rates(reviews: pd.DataFrame) -> Figure:
    """Share of decisions sent to a person for review, and share of reviews that overrode the
    decision, per version and window."""
    fig, ax = _figure("Human review and overrides",
                      "Solid: share of decisions reviewed by a person. Dashed: share of reviews that "
                      "overrode the decision.")
    if reviews.empty:
        return _no_data(fig, ax)
    _require(reviews, "review_rates", "window_start", "version", "decisions", "reviewed", "overridden")
    rows = reviews.assign(window=_utc(reviews["window_start"]))
    for name in ("decisions", "reviewed", "overridden"):
        rows[name] = pd.to_numeric(rows[name], errors="coerce").fillna(0)
    windows = sorted(rows["window"].dropna().unique())
    position = {w: i for i, w in enumerate(windows)}
    marker = "o" if len(windows) <= 40 else None
    highest = 0.0
    for version in sorted(rows["version"].dropna().unique(), key=sort_key):
        sums = rows[rows["version"] == version].groupby("window")[["decisions", "reviewed", "overridden"]].sum()
        sums = sums.reindex(windows)
        x = [position[w] for w in sums.index]
        reviewed = (sums["reviewed"] / sums["decisions"].where(sums["decisions"] > 0)).to_numpy(dtype=float)
        overridden = (sums["overridden"] / sums["reviewed"].where(sums["reviewed"] > 0)).to_numpy(dtype=float)
        colour = version_colour(version)
        highest = max(highest, float(np.nan_to_num(np.append(reviewed, overridden)).max(initial=0.0)))
        ax.plot(x, reviewed, color=colour, marker=marker, markersize=4, label=f"{version_label(version)} reviewed")
        ax.plot(x, overridden, color=colour, linestyle="--", marker=marker, markersize=4,
                label=f"{version_label(version)} overridden")
    ax.set_ylim(0, min(1.02, max(0.1, highest * 1.15)))
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.set_ylabel("Rate (%)")
    _window_axis(ax, pd.DatetimeIndex(windows))
    _legend(fig, ax, title="Version")
    return fig


def workflow_success(workflows: pd.DataFrame) -> Figure:
    """Share of finished workflow runs that succeeded, per workflow and window (versions pooled)."""
    fig, ax = _figure("Workflow success",
                      "Of the workflow runs that finished in each window, the share that completed "
                      "rather than failed for good.")
    if workflows.empty:
        return _no_data(fig, ax)
    _require(workflows, "workflow_success", "window_start", "workflow", "done", "dead")
    rows = workflows.assign(window=_utc(workflows["window_start"]))
    for name in ("done", "dead"):
        rows[name] = pd.to_numeric(rows[name], errors="coerce").fillna(0)
    windows = sorted(rows["window"].dropna().unique())
    position = {w: i for i, w in enumerate(windows)}
    names = sorted(rows["workflow"].astype(str).unique())
    colours = value_colours(names)
    marker = "o" if len(windows) <= 40 else None
    lowest = 1.0
    for name in names:
        sums = rows[rows["workflow"].astype(str) == name].groupby("window")[["done", "dead"]].sum().reindex(windows)
        finished = sums["done"] + sums["dead"]
        rate = (sums["done"] / finished.where(finished > 0)).to_numpy(dtype=float)
        if not np.all(np.isnan(rate)):
            lowest = min(lowest, float(np.nanmin(rate)))
        ax.plot([position[w] for w in sums.index], rate, color=colours[name], marker=marker, markersize=4,
                label=_text(name))
    ax.set_ylim(max(0.0, math.floor((lowest - 0.02) * 100) / 100), 1.005)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.set_ylabel("Runs completed (% of finished runs)")
    _window_axis(ax, pd.DatetimeIndex(windows))
    _legend(fig, ax, title="Workflow")
    return fig


# --- SVG ----------------------------------------------------------------------------------------

_ID = re.compile(r'\bid="([^"]+)"')
_HREF = re.compile(r'(xlink:href|href)="#([^"]+)"')
_URL = re.compile(r"url\(#([^)]+)\)")
_EXTERNAL = re.compile(
    r"""\b(?:https?|ftp|file|data|javascript):[^\s"'()<>]*"""  # an absolute URL
    r"""|url\(\s*(?:"(?!#)|'(?!#)|(?![#"']))[^)]*\)"""  # a CSS url() that is not a fragment
    r"""|\b(?:href|src|srcset|action)\s*=\s*(?:"(?!#)[^"]*"|'(?!#)[^']*'|(?![#"'])[^\s>]+)""",  # a link out
    re.IGNORECASE)


def to_svg(figure: Figure, *, id_prefix: str | None = None) -> str:
    """The figure as an <svg> element to put inline in HTML: text as paths, no prolog, metadata,
    comments, namespaces or URLs, and every element id prefixed with `id_prefix` (default: a hash
    of the drawing) so several charts can share a page. Raises ValueError if anything external
    would remain."""
    buffer = io.StringIO()
    FigureCanvasAgg(figure)
    with matplotlib.rc_context({"svg.fonttype": "path", "svg.hashsalt": "decisionary", "svg.image_inline": True}):
        figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None, "Format": None,
                                                        "Type": None})
    text = buffer.getvalue()
    text = text[text.index("<svg"):]
    text = re.sub(r"<metadata>.*?</metadata>", "", text, flags=re.DOTALL)
    text = re.sub(r"<!--.*?-->", "", text, flags=re.DOTALL)
    text = re.sub(r'\s+xmlns(:\w+)?="[^"]*"', "", text)
    text = re.sub(r"\n\s*\n", "\n", text)
    prefix = id_prefix or "c" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:8]
    text = _ID.sub(lambda m: f'id="{prefix}-{m.group(1)}"', text)
    text = _HREF.sub(lambda m: f'{m.group(1)}="#{prefix}-{m.group(2)}"', text)
    text = _URL.sub(lambda m: f"url(#{prefix}-{m.group(1)})", text)
    found = external_references(text)
    if found:
        raise ValueError(f"chart SVG refers outside itself: {', '.join(found[:5])}")
    return text.strip()


def external_references(text: str) -> list[str]:
    """URLs, url(...) and href targets in `text` that point outside the document itself."""
    return _EXTERNAL.findall(text)


# --- helpers --------------------------------------------------------------------------------------

def _figure(title: str, caption: str, *, height: float = 4.3) -> tuple[Figure, Axes]:
    fig = Figure(figsize=(WIDTH_IN, min(height, 14.0)), layout="constrained")
    FigureCanvasAgg(fig)
    fig.set_label(title)
    fig.suptitle(_text(title), x=0.01, ha="left", fontsize=13, fontweight="bold")
    ax = fig.add_subplot()
    ax.set_title(_text(caption), loc="left", fontsize=9, color="#555555")
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.grid(True, axis="both", color="#E5E5E5", linewidth=0.7)
    ax.set_axisbelow(True)
    return fig, ax


def _no_data(fig: Figure, ax: Axes, message: str = NO_DATA) -> Figure:
    ax.set_axis_off()
    ax.text(0.5, 0.5, _text(message), ha="center", va="center", fontsize=12, color="#555555",
            transform=ax.transAxes)
    return fig


def _legend(fig: Figure, ax: Axes, *, title: str, extra: Sequence[Any] = (), own: bool = True,
            axes: Sequence[Axes] | None = None) -> None:
    handles: list[Any] = []
    labels: list[str] = []
    if own:
        for source in axes or (ax,):
            h, lab = source.get_legend_handles_labels()
            handles += h
            labels += lab
    handles += list(extra)
    labels += [str(h.get_label()) for h in extra]
    if handles:
        fig.legend(handles, labels, loc="outside lower center", frameon=False, title=_text(title), fontsize=8.5,
                   title_fontsize=9, ncols=min(len(handles), 4))


def _window_axis(ax: Axes, windows: pd.Index) -> None:
    stamps = pd.DatetimeIndex(windows)
    midnight = bool(len(stamps)) and bool(((stamps.hour == 0) & (stamps.minute == 0)).all())
    fmt = "%Y-%m-%d" if midnight else "%Y-%m-%d %H:%M"
    labels = [s.strftime(fmt) for s in stamps]
    ax.xaxis.set_major_locator(MaxNLocator(nbins=8, integer=True))
    ax.xaxis.set_major_formatter(FuncFormatter(
        lambda v, _: labels[int(round(v))] if 0 <= int(round(v)) < len(labels) and abs(v - round(v)) < 1e-6 else ""))
    ax.set_xlim(-0.6, len(labels) - 0.4)
    ax.set_xlabel("Window start (UTC)")
    for tick in ax.get_xticklabels():
        tick.set_fontsize(8.5)


def _utc(values: pd.Series) -> pd.Series:
    return pd.to_datetime(values, utc=True, errors="coerce").dt.tz_convert(None)


def _value_labels(values: pd.Series) -> pd.Series:
    return values.map(lambda v: NULL_LABEL if not present(v) else str(v))


def _band_label(row: pd.Series) -> str:
    lower, upper = _number(row.get("lower")), _number(row.get("upper"))
    if not (math.isnan(lower) or math.isnan(upper)):
        return f"{lower:,.4g} to {upper:,.4g}"
    return _text(str(row["band"]))


def _number(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def _rule_label(position: Any, rule_id: Any) -> str:
    ident = str(rule_id)
    where = f"#{position}" if present(position) else "#?"
    if ident in ("", where, "None", "nan"):
        return where
    return f"{where}  {ident if len(ident) <= 28 else ident[:27] + '…'}"


def _require(frame: pd.DataFrame, chart: str, *columns: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{chart}: the frame has no column {', '.join(repr(c) for c in missing)} "
                         f"(it has {', '.join(map(str, frame.columns))})")


def _first(frame: pd.DataFrame | None, column: str) -> Any:
    if frame is None or frame.empty or column not in frame.columns:
        return None
    values = frame[column].dropna()
    return values.iloc[0] if len(values) else None


def _column(frame: pd.DataFrame, column: str) -> list[Any]:
    return list(frame[column].dropna().unique()) if not frame.empty and column in frame.columns else []


def sort_key(value: Any) -> tuple[int, float, str]:
    """Numbers in numeric order (version 10 after version 9), then anything else by its text."""
    try:
        return (0, float(value), "")
    except (TypeError, ValueError):
        return (1, 0.0, str(value))


def present(value: Any) -> bool:
    """False for None, NaN and NaT (a missing arm, alias or value), True for anything else."""
    if value is None:
        return False
    try:
        return not bool(pd.isna(value))
    except (TypeError, ValueError):
        return True


def _text(value: Any) -> str:
    """Text as matplotlib shows it literally: a `$` would otherwise start mathtext."""
    return str(value).replace("$", r"\$")
