"""Audit: the decision log, outcomes, metrics, performance and drift over time, reports.

Decision records are written by the registry (`registry.records`) in the same transaction as
their workflow runs; this package reads and analyses them:

    log.py          the decision log: filters and cursor pages
    export.py       records to Parquet, partitioned by day
    store.py        reading records, outcomes, reviews and runs compactly (SQL extracts JSON fields)
    metrics.py      volume, outcome mix, rule hits, reviews, overrides, workflows by window
    performance.py  against outcomes as of a time: bad rates, confusion, KS/AUC/Gini, calibration
    drift.py        population stability per input and output; alerts that start workflows
    charts.py       reviewer charts (matplotlib), report.py the self-contained HTML report
    frames.py       DataFrames that plot themselves; reviewer.py: audit.connect, for notebooks
    synthetic.py    a synthetic history for demos, notebooks and tests

`audit.connect(path_or_url)` is imported lazily, so that reading `audit.tables` stays light.
"""

from typing import Any


def __getattr__(name: str) -> Any:
    if name == "connect":
        from audit.reviewer import connect

        return connect
    raise AttributeError(f"module 'audit' has no attribute {name!r}")
