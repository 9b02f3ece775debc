"""Reading `Model.evaluate_batch` results back into columns the baselines can be compared with."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from benchmarks.engines import DECISION


def batch_outcomes(frame: pd.DataFrame, rows: int) -> tuple[list[str | None], np.ndarray]:
    """(decision per row, rate per row as float, NaN where null) from an evaluate_batch frame.

    The decision's value is a context with `Decision` and `Rate`: accepted either as one column
    of mappings named after the decision, or flattened into `Credit Decision.Decision` /
    `Credit Decision.Rate` columns.
    """
    if len(frame) != rows:
        raise ValueError(f"evaluate_batch returned {len(frame)} rows for {rows}")
    flat = (f"{DECISION}.Decision", f"{DECISION}.Rate")
    if all(c in frame.columns for c in flat):
        decisions = [None if _is_null(v) else v for v in frame[flat[0]].tolist()]
        rates = np.array([np.nan if _is_null(v) else float(v) for v in frame[flat[1]].tolist()])
        return decisions, rates
    if DECISION in frame.columns:
        values = frame[DECISION].tolist()
        decisions = [v.get("Decision") if isinstance(v, Mapping) else None for v in values]
        rates = np.array([_rate(v) for v in values])
        return decisions, rates
    raise ValueError(f"evaluate_batch result has no '{DECISION}' output; columns: {list(frame.columns)}")


def _rate(value: Any) -> float:
    if not isinstance(value, Mapping) or _is_null(value.get("Rate")):
        return float("nan")
    return float(value["Rate"])


def _is_null(value: Any) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value))
