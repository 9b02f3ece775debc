"""DataFrames that know how to draw themselves for a reviewer.

`audit.connect(...)` (audit/reviewer.py) answers with `AuditFrame`s: ordinary pandas DataFrames (every pandas
operation works, and keeps the type) that remember what they hold, so `.plot()` draws the
reviewer's chart for it (audit/charts.py: titles, captions, percentages, version colours)
rather than pandas' generic one. pandas' own plotting stays at `frame.plot_pandas`.

    kinds: volume, outputs (outcome mix over time), rules (rule hits), reviews, workflows,
           bad_rate_by_band, calibration, drift (PSI); other frames have no reviewer chart
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from audit import charts

_CHARTS: dict[str, Callable[..., Figure]] = {
    "volume": charts.volume,
    "outputs": charts.outcome_mix,
    "rules": charts.rule_hits,
    "reviews": charts.review_rates,
    "workflows": charts.workflow_success,
    "bad_rate_by_band": charts.bad_rate_by_band,
    "calibration": charts.calibration,
    "drift": charts.psi,
}


class AuditFrame(pd.DataFrame):
    """A DataFrame with a `kind` (see the module docstring) and a reviewer's `plot()`."""

    _metadata = ["kind", "companion"]  # kept by pandas through slicing, filtering and copies

    kind: str | None
    companion: pd.DataFrame | None  # for rule hits: the rules that never fired

    @property
    def _constructor(self) -> Callable[..., AuditFrame]:
        return AuditFrame

    def plot(self, *args: Any, **kwargs: Any) -> Figure:  # type: ignore[override]
        """The reviewer's chart for what this frame holds (a matplotlib Figure, shown inline in
        Jupyter). Keyword arguments go to the chart: e.g. `decision="Decision"`."""
        kind = getattr(self, "kind", None)
        chart = _CHARTS.get(kind or "")
        if chart is None:
            raise TypeError(f"there is no reviewer chart for a {kind or 'plain'} frame; "
                            f"frames of these kinds have one: {', '.join(_CHARTS)}")
        if kind == "rules":
            kwargs.setdefault("never_fired", getattr(self, "companion", None))
        return chart(pd.DataFrame(self), *args, **kwargs)

    @property
    def plot_pandas(self) -> Any:
        return pd.DataFrame(self).plot


def audit_frame(frame: pd.DataFrame, kind: str | None, companion: pd.DataFrame | None = None) -> AuditFrame:
    result = AuditFrame(frame)
    result.kind = kind
    result.companion = companion
    return result
