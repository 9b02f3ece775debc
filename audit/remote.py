"""`audit.connect("https://...", api_key=...)`: the reviewer's questions answered by a running service.

The service's audit routes run the same functions as a local `audit.connect` (audit/metrics.py,
performance.py, drift.py, replay.py, report.py) next to its database, and answer with their
frames as JSON rows; this source turns the rows back into the same DataFrames (the same columns
even when there are no rows, times as UTC timestamps), so every reviewer method and chart works
unchanged. It needs a reviewer's API key (or DECISIONARY_API_KEY). A refused request raises
api.client.ServiceError with the service's problem (status, detail, the parameter at fault).

A question without a start covers all records locally; a service answers at most MAX_DAYS (800)
days at a time, so there it covers the 800 days up to its end.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

import pandas as pd

from api.client import ServiceClient
from api.routes.audit import MAX_DAYS
from audit.drift import BINS, SUMMARY
from audit.metrics import (
    NEVER_FIRED,
    OUTPUTS,
    OVERRIDE_DIRECTIONS,
    REVIEWS,
    RULES,
    VOLUME,
    WORKFLOWS,
    Metrics,
)
from audit.performance import BY_BAND, BY_OUTCOME, CALIBRATION, CONFUSION, DISCRIMINATION, Performance

PAGE = 1000  # records per request of the log (the route's largest page)
_TIMES = ("window_start", "created_at")
_METRICS = {"volume": VOLUME, "outputs": OUTPUTS, "rules": RULES, "never_fired": NEVER_FIRED, "reviews": REVIEWS,
            "overrides": OVERRIDE_DIRECTIONS, "workflows": WORKFLOWS}
_PERFORMANCE = {"bad_rate_by_outcome": BY_OUTCOME, "bad_rate_by_band": BY_BAND, "confusion": CONFUSION,
                "discrimination": DISCRIMINATION, "calibration": CALIBRATION}


class ServiceSource:
    def __init__(self, url: str, api_key: str | None, *, timeout: float = 300.0) -> None:
        key = api_key or os.environ.get("DECISIONARY_API_KEY")
        if not key:
            raise ValueError("a service answers a reviewer's API key: pass api_key=... or set DECISIONARY_API_KEY")
        self.client = ServiceClient(url, key, timeout=timeout)

    def close(self) -> None:
        self.client.__exit__()

    def records(self, key: str, *, limit: int, filters: dict[str, Any]) -> list[dict[str, Any]]:
        params = _params({"key": key, **filters})
        rows: list[dict[str, Any]] = []
        cursor = None
        while len(rows) < limit:
            page = self.client.json("GET", "/v1/records",
                                    params={**params, "limit": min(PAGE, limit - len(rows)),
                                            **({"cursor": cursor} if cursor else {})})
            for record in page["records"]:
                record["created_at"] = pd.Timestamp(record["created_at"]).to_pydatetime()
                rows.append(record)
            cursor = page.get("next_cursor")
            if not cursor:
                break
        return rows

    def metrics(self, key: str, *, start: datetime | None, end: datetime | None, window: str,
                versions: Sequence[int] | None, alias: str | None, as_of: datetime | None) -> Metrics:
        found = self.client.json("GET", f"/v1/audit/{key}/metrics", params=_params(
            {"from": _start(start, end), "to": end, "window": window, "version": versions, "alias": alias, "as_of": as_of}))
        return Metrics(**{name: _frame(found.get(name), columns) for name, columns in _METRICS.items()})

    def performance(self, key: str, *, label: str, decision_output: str | None, positive: Sequence[str] | None,
                    score: str | None, bands: int, start: datetime | None, end: datetime | None,
                    as_of: datetime | None, versions: Sequence[int] | None) -> Performance:
        found = self.client.json("GET", f"/v1/audit/{key}/performance", params=_params(
            {"label": label, "decision_output": decision_output, "positive": positive, "score": score,
             "bands": bands, "from": _start(start, end), "to": end, "as_of": as_of, "version": versions}))
        return Performance(**{name: _frame(found.get(name), columns) for name, columns in _PERFORMANCE.items()})

    def drift(self, key: str, *, reference: tuple[datetime, datetime], current: tuple[datetime, datetime],
              bins: int, thresholds: tuple[float, float], versions: Sequence[int] | None) -> pd.DataFrame:
        found = self.client.json("GET", f"/v1/audit/{key}/drift", params=_params(
            {"reference_from": reference[0], "reference_to": reference[1], "from": current[0], "to": current[1],
             "bins": bins, "watch": thresholds[0], "alert": thresholds[1], "version": versions}))
        summary = _frame(found.get("drift"), SUMMARY)
        summary["psi"] = summary["psi"].astype(float)  # null (no data) back to NaN
        summary.attrs["bins"] = _frame(found.get("bins"), BINS).to_dict("records")
        return summary

    def replay(self, key: str, version: int, *, start: datetime | None, end: datetime | None, alias: str | None,
               bad_label: str | None) -> dict[str, Any]:
        body = {"from": start.isoformat() if start else None, "to": end.isoformat() if end else None,
                "alias": alias, "bad_label": bad_label, "attach": False}
        found: dict[str, Any] = self.client.json("POST", f"/v1/models/{key}/versions/{version}/replay", json=body)
        return found

    def report(self, key: str, *, start: datetime, end: datetime, **options: Any) -> str:
        known = {"label", "score", "window", "decision_output", "positive", "versions", "alias"}
        unknown = sorted(set(options) - known)
        if unknown:
            raise TypeError(f"a service's report takes {', '.join(sorted(known))}; not {', '.join(unknown)}")
        if "versions" in options:
            options["version"] = options.pop("versions")
        return self.client.request("GET", f"/v1/audit/{key}/report",
                                   params=_params({"from": start, "to": end, **options})).text


def _start(start: datetime | None, end: datetime | None) -> datetime | None:
    """An open start as the earliest the service answers (see the module docstring)."""
    return start if start is not None or end is None else end - timedelta(days=MAX_DAYS)


def _params(values: Mapping[str, Any]) -> dict[str, Any]:
    """Query parameters: None left out, times as ISO 8601, lists repeated."""
    params: dict[str, Any] = {}
    for name, value in values.items():
        if value is None:
            continue
        if isinstance(value, datetime):
            value = value.isoformat()
        elif isinstance(value, (list, tuple)):
            value = [v.isoformat() if isinstance(v, datetime) else v for v in value]
        params[name] = value
    return params


def _frame(rows: Any, columns: Sequence[str]) -> pd.DataFrame:
    """JSON rows back into the audit module's frame: its columns in order, times as UTC timestamps."""
    data = pd.DataFrame(rows or [], columns=list(columns), dtype=object)  # text stays text, null stays None
    for name in data.columns:
        if name in _TIMES:
            data[name] = pd.to_datetime(data[name], utc=True)
            continue
        present = data[name].dropna()
        if len(present) and all(isinstance(v, int | float) and not isinstance(v, bool) for v in present):
            data[name] = pd.to_numeric(data[name])
    return data
