"""Decision metrics over time: volume, outcome mix, rule hits, reviews, overrides and workflows.

    metrics = compute_metrics(engine, "loan-approval", start=..., end=..., window="week",
                              rule_ids={3: model.rule_ids})

`Metrics` holds one pandas DataFrame per subject, with these columns (window_start is an aware
UTC timestamp: the day, the ISO week's Monday or the month's first day; version an int; alias
and arm text or None):

    volume       window_start, version, alias, arm, decisions
    outputs      window_start, version, alias, decision, value, count, rate
    rules        version, decision, rule_id, position, hits, hit_rate
    never_fired  version, decision, rule_id, position
    reviews      window_start, version, alias, decisions, reviewed, review_rate, overridden, override_rate
    overrides    version, decision, original, override, count
    workflows    window_start, version, workflow, runs, done, dead, waiting, success_rate,
                 latency_p50_s, latency_p95_s

What is counted:
- Live records only: a shadow version's records (shadow_of set) never count. [start, end) by the
  record's creation time; `versions` and `alias` narrow it further.
- outputs: categorical values only: strings and booleans, and numbers when the decision has at
  most 20 distinct values in the period; a multi-output decision counts each output as
  "Decision.Output". `value` is None where the decision returned null (or nothing). `rate` is the
  share of the (window, version, alias)'s decisions.
- rules: `hits` is the number of decisions in which the rule fired, `hit_rate` that over the
  version's decisions in the period. `rule_id` is the stable id the record holds; records
  written before ids were recorded give "#<position>", unless another record of the same
  version names that position's id. never_fired needs the rule lists (`rule_ids`: version ->
  decision -> ids in rule order, `model.rule_ids`): the rules of each version that had
  decisions in the period (or was asked for) that no record fired.
- reviews: `reviewed` is the number of decisions a person answered (a decided review task)
  by `as_of`, `overridden` those answered with an override; `review_rate` is reviewed over
  decisions, `override_rate` overridden over reviewed. Windows are the decisions' windows.
- overrides: the direction of each override, per overridden decision name: what the model
  said (`original`) and what the reviewer chose (`override`), by `as_of`.
- workflows: the runs started in the window (by the run's creation), by state now: `waiting`
  counts ready and waiting runs; `success_rate` is done over done + dead; latencies are the
  50th and 95th percentiles (linear interpolation) of done runs' creation-to-finish seconds.
  A run belongs to its record's version; `alias` limits runs to the alias's records.
"""

from __future__ import annotations

import dataclasses
import json
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from audit import rollups, windows
from audit.log import QueryError
from audit.store import (
    OVERRIDES,
    RECORDS,
    RUNS,
    TASKS,
    Extraction,
    Field,
    Scope,
    check_as_of,
    extract,
    frame,
    json_column_text,
    make_scope,
    sample_fields,
    seconds_between,
    time_bounds,
)
from registry.tables import UTCDateTime

MAX_NUMERIC_VALUES = 20
MAX_COMBINATIONS = 5_000  # sampled value combinations of the outputs counted in one query

VOLUME = ["window_start", "version", "alias", "arm", "decisions"]
OUTPUTS = ["window_start", "version", "alias", "decision", "value", "count", "rate"]
RULES = ["version", "decision", "rule_id", "position", "hits", "hit_rate"]
NEVER_FIRED = ["version", "decision", "rule_id", "position"]
REVIEWS = ["window_start", "version", "alias", "decisions", "reviewed", "review_rate", "overridden", "override_rate"]
OVERRIDE_DIRECTIONS = ["version", "decision", "original", "override", "count"]
WORKFLOWS = ["window_start", "version", "workflow", "runs", "done", "dead", "waiting", "success_rate",
             "latency_p50_s", "latency_p95_s"]

RuleIds = Mapping[int, Mapping[str, Sequence[str]]]


@dataclass(frozen=True)
class Metrics:
    volume: pd.DataFrame
    outputs: pd.DataFrame
    rules: pd.DataFrame
    never_fired: pd.DataFrame
    reviews: pd.DataFrame
    overrides: pd.DataFrame
    workflows: pd.DataFrame


def compute_metrics(engine: Engine, key: str, *, start: datetime | None = None, end: datetime | None = None,
                    window: str = "day", versions: Sequence[int] | None = None, alias: str | None = None,
                    as_of: datetime | None = None, rule_ids: RuleIds | None = None) -> Metrics:
    """The metrics of `key`'s decisions in [start, end) (see the module docstring). Bad arguments
    raise audit.log.QueryError naming the argument."""
    window = windows.check_window(window)
    scope = make_scope(key, start=start, end=end, versions=versions, alias=alias)
    as_of = check_as_of(as_of)
    rules_by_version = _check_rule_ids(rule_ids)
    dialect = engine.dialect.name
    bounds = time_bounds(engine, scope)
    if bounds is None:
        empty = _empty_metrics()
        return dataclasses.replace(empty, never_fired=_never_fired(pd.DataFrame(columns=RULES), rules_by_version,
                                                                   set(scope.versions or ())))
    fields = [f for f in sample_fields(engine, scope) if f.kind == "output"]
    together, alone = _plan(fields)
    # SQLite runs in this process: its scans are cut at window starts and run on several
    # threads, in one more part than threads so that they finish together. PostgreSQL
    # parallelises each scan itself.
    parts = windows.split(scope.start, scope.end, *bounds, window,
                          windows.workers() + 1 if dialect == "sqlite" else 1)
    scopes = [dataclasses.replace(scope, start=low, end=high) for low, high in parts]
    tasks: list[Callable[[], pd.DataFrame]] = []
    extractions = [_extraction(dialect, together, fields), *[_extraction(dialect, [f], fields) for f in alone]]
    tasks += [_task(_records_query, engine, part, extractions[0], True, bounds) for part in scopes]
    for i in range(len(alone)):
        tasks += [_task(_records_query, engine, part, extractions[i + 1], False, bounds) for part in scopes]
    tasks += [_task(_reviews_query, engine, part, as_of) for part in scopes]
    tasks += [_task(_runs_query, engine, part, window) for part in scopes]
    tasks += [_task(_overrides_query, engine, scope, as_of)]
    results = windows.parallel(tasks)
    n = len(scopes)
    main = pd.concat(results[:n], ignore_index=True)
    outputs = [_outputs(main, together, extractions[0], window)]
    for i, field in enumerate(alone):
        outputs.append(_outputs(pd.concat(results[n * (i + 1):n * (i + 2)], ignore_index=True), [field],
                                extractions[i + 1], window))
    offset = n * (len(alone) + 1)
    reviewed = pd.concat(results[offset:offset + n], ignore_index=True)
    runs = pd.concat(results[offset + n:offset + 2 * n], ignore_index=True)
    overridden = results[offset + 2 * n]

    volume = _volume(main, window)
    totals = volume.groupby(["window_start", "version", "alias"], dropna=False)["decisions"].sum()
    output_frame = _with_rates(pd.concat(outputs, ignore_index=True), totals)
    version_totals = volume.groupby("version")["decisions"].sum()
    rules = _rules(main, version_totals)
    decided_versions = set(version_totals.index.astype(int)) | set(scope.versions or ())
    return Metrics(
        volume=volume,
        outputs=output_frame,
        rules=rules,
        never_fired=_never_fired(rules, rules_by_version, decided_versions),
        reviews=_reviews(reviewed, totals, window),
        overrides=_override_directions(overridden),
        workflows=_workflows(runs, window),
    )


def _task(function: Callable[..., pd.DataFrame], *args: Any) -> Callable[[], pd.DataFrame]:
    return lambda: function(*args)


def _empty_metrics() -> Metrics:
    return Metrics(*(pd.DataFrame(columns=c) for c in (VOLUME, OUTPUTS, RULES, NEVER_FIRED, REVIEWS,
                                                       OVERRIDE_DIRECTIONS, WORKFLOWS)))


def _check_rule_ids(rule_ids: Any) -> dict[int, dict[str, list[str]]]:
    if rule_ids is None:
        return {}
    if not isinstance(rule_ids, Mapping):
        raise QueryError("rule_ids", "must map version numbers to {decision: [rule ids in order]}")
    checked: dict[int, dict[str, list[str]]] = {}
    for version, decisions in rule_ids.items():
        if isinstance(version, bool) or not isinstance(version, int) or version < 1:
            raise QueryError("rule_ids", f"keys must be version numbers, got {version!r}")
        if not isinstance(decisions, Mapping):
            raise QueryError(f"rule_ids[{version}]", "must map decision names to lists of rule ids")
        checked[version] = {}
        for name, ids in decisions.items():
            if not isinstance(name, str) or isinstance(ids, (str, bytes)) or not isinstance(ids, Sequence) \
                    or not all(isinstance(i, str) for i in ids):
                raise QueryError(f"rule_ids[{version}][{name!r}]", "must be a list of rule ids (text)")
            checked[version][name] = list(ids)
    return checked


# --- which outputs, counted how ------------------------------------------------------------------

def _plan(fields: Sequence[Field]) -> tuple[list[Field], list[Field]]:
    """(fields counted together in the records' main scan, fields with a scan of their own).
    Numbers with many values are not categorical and are left out. Fields with few values share
    the main scan while the combinations of their sampled values stay few; the others (strings
    with many values) are counted alone, so no scan returns a row per record."""
    together: list[Field] = []
    alone: list[Field] = []
    combinations = 1
    for field in fields:
        distinct = max(1, field.distinct())
        if field.numeric and distinct > MAX_NUMERIC_VALUES:
            continue
        if distinct <= MAX_NUMERIC_VALUES and combinations * distinct <= MAX_COMBINATIONS:
            together.append(field)
            combinations *= distinct
        elif not field.numeric:
            alone.append(field)
    return together, alone


def _extraction(dialect: str, fields: Sequence[Field], every: Sequence[Field]) -> Extraction | None:
    """How to read `fields`: a multi-output decision whose every output is among them is read
    whole (one JSON value, not one per output)."""
    if not fields:
        return None
    chosen = {f.path for f in fields}
    objects = [top for top in dict.fromkeys(f.path[0] for f in fields if len(f.path) > 1)
               if all(f.path in chosen for f in every if f.path[0] == top)]
    return extract(dialect, RECORDS.c.outputs, [f.path for f in fields], "v", objects)


def _records_query(engine: Engine, scope: Scope, extraction: Extraction | None, with_rules: bool,
                   bounds: tuple[datetime, datetime] | None = None) -> pd.DataFrame:
    """Per day, version, alias, arm (and fired rules), the count of each combination of the
    extracted fields' values; the days that are over come from their kept rows (audit.rollups)."""
    dialect = engine.dialect.name
    statement, names = _records_statement(dialect, rollups.any_day(scope), extraction, with_rules)
    query = rollups.digest("metrics.records", dialect, str(statement),
                           extraction.sources if extraction is not None else None, rollups.scope_parts(scope))
    return rollups.by_day(engine, scope, query,
                          lambda part: frame(engine, _records_statement(dialect, part, extraction, with_rules)[0],
                                             names),
                          columns=names, bounds=bounds)


def _records_statement(dialect: str, scope: Scope, extraction: Extraction | None, with_rules: bool) \
        -> tuple[Any, list[str]]:
    day = windows.window_sql(dialect, RECORDS.c.created_at, "day").label("day")
    columns: list[Any] = [day, RECORDS.c.version, RECORDS.c.alias, RECORDS.c.arm]
    source: Any = RECORDS
    if extraction is not None:
        columns += extraction.columns
        source = extraction.select_from(RECORDS)
    if with_rules:
        columns += [json_column_text(dialect, RECORDS.c.fired).label("fired"),
                    json_column_text(dialect, RECORDS.c.fired_ids).label("fired_ids")]
    inner = sa.select(*columns).select_from(source).where(*scope.conditions(dialect)).subquery("r")
    names = [c.key for c in columns]
    statement = sa.select(*[inner.c[name] for name in names], sa.func.count().label("n")) \
        .group_by(*[inner.c[name] for name in names])
    return statement, [*names, "n"]


def _volume(main: pd.DataFrame, window: str) -> pd.DataFrame:
    if main.empty:
        return pd.DataFrame(columns=VOLUME)
    data = main.assign(window_start=windows.rolled_up(main["day"], window))
    volume = data.groupby(["window_start", "version", "alias", "arm"], dropna=False)["n"].sum().reset_index()
    volume = volume.rename(columns={"n": "decisions"}).astype({"version": int, "decisions": int})
    return _none_for_nan(volume, ["alias", "arm"]).sort_values(["window_start", "version"], kind="stable") \
        .reset_index(drop=True)[VOLUME]


def _outputs(data: pd.DataFrame, fields: Sequence[Field], extraction: Extraction | None, window: str) \
        -> pd.DataFrame:
    if not fields or data.empty or extraction is None:
        return pd.DataFrame(columns=OUTPUTS[:-1])
    base = pd.DataFrame({"window_start": windows.rolled_up(data["day"], window), "version": data["version"],
                         "alias": data["alias"], "n": data["n"]})
    found = []
    for field, (values, keys) in zip(fields, extraction.decode(data), strict=True):
        present = keys[keys != "null"]
        if field.numeric and present.nunique() > MAX_NUMERIC_VALUES:
            continue  # the sample looked categorical; the whole period is not
        lookup = dict(zip(keys, values, strict=True))
        counted = base.assign(key=keys).groupby(["window_start", "version", "alias", "key"], dropna=False)["n"] \
            .sum().reset_index()
        counted["decision"] = field.name
        counted["value"] = counted["key"].map(lookup)
        found.append(counted.rename(columns={"n": "count"}))
    if not found:
        return pd.DataFrame(columns=OUTPUTS[:-1])
    return pd.concat(found, ignore_index=True)[["window_start", "version", "alias", "decision", "value", "count"]]


def _with_rates(outputs: pd.DataFrame, totals: pd.Series) -> pd.DataFrame:
    if outputs.empty:
        return pd.DataFrame(columns=OUTPUTS)
    outputs = _none_for_nan(outputs.astype({"version": int, "count": int}), ["alias"])
    index = pd.MultiIndex.from_frame(outputs[["window_start", "version", "alias"]])
    outputs["rate"] = outputs["count"].to_numpy() / totals.reindex(index).to_numpy(dtype=float)
    order = {name: i for i, name in enumerate(dict.fromkeys(outputs["decision"]))}
    outputs = outputs.assign(_order=outputs["decision"].map(order)).sort_values(
        ["window_start", "version", "_order", "count"], ascending=[True, True, True, False], kind="stable")
    return outputs.drop(columns="_order").reset_index(drop=True)[OUTPUTS]


# --- rules -----------------------------------------------------------------------------------------

def _rules(main: pd.DataFrame, version_totals: pd.Series) -> pd.DataFrame:
    if main.empty or "fired" not in main.columns:
        return pd.DataFrame(columns=RULES)
    grouped = main.groupby(["version", "fired", "fired_ids"], dropna=False)["n"].sum()
    hits: dict[tuple[int, str, int, str], int] = defaultdict(int)
    order: dict[str, int] = {}
    for group, count in grouped.items():
        version, fired_text, ids_text = cast(tuple[Any, Any, Any], group)
        fired = json.loads(fired_text) if isinstance(fired_text, str) else None
        if not isinstance(fired, dict):
            continue
        ids = json.loads(ids_text) if isinstance(ids_text, str) else None
        ids = ids if isinstance(ids, dict) else {}
        for decision, positions in fired.items():
            if not isinstance(positions, list):
                continue
            order.setdefault(decision, len(order))
            named = ids.get(decision)
            aligned = isinstance(named, list) and len(named) == len(positions)
            for i, position in enumerate(positions):
                if isinstance(position, bool) or not isinstance(position, int):
                    continue
                rule_id = str(named[i]) if aligned and named is not None else f"#{position}"
                hits[(int(version), decision, position, rule_id)] += int(count)
    # A position fired on records without rule ids takes the id that records with ids give it.
    known = {(v, d, p): r for (v, d, p, r) in hits if not r.startswith("#")}
    merged: dict[tuple[int, str, int, str], int] = defaultdict(int)
    for (version, decision, position, rule_id), count in hits.items():
        merged[(version, decision, position, known.get((version, decision, position), rule_id))] += count
    rows = [(v, d, r, p, c, c / float(version_totals.get(v, np.nan))) for (v, d, p, r), c in merged.items()]
    rules = pd.DataFrame(rows, columns=RULES)
    if rules.empty:
        return rules
    rules = rules.assign(_order=rules["decision"].map(order)).sort_values(["version", "_order", "position"])
    return rules.drop(columns="_order").astype({"version": int, "position": int, "hits": int}) \
        .reset_index(drop=True)


def _never_fired(rules: pd.DataFrame, rule_ids: dict[int, dict[str, list[str]]], versions: set[int]) \
        -> pd.DataFrame:
    rows = []
    fired_ids = set(zip(rules["version"], rules["decision"], rules["rule_id"], strict=True))
    fired_positions = set(zip(rules["version"], rules["decision"], rules["position"], strict=True))
    for version in sorted(versions):
        for decision, ids in rule_ids.get(version, {}).items():
            for position, rule_id in enumerate(ids, start=1):
                if (version, decision, rule_id) not in fired_ids and (version, decision, position) not in fired_positions:
                    rows.append((version, decision, rule_id, position))
    return pd.DataFrame(rows, columns=NEVER_FIRED)


# --- reviews and overrides -----------------------------------------------------------------------

def _reviews_query(engine: Engine, scope: Scope, as_of: datetime) -> pd.DataFrame:
    dialect = engine.dialect.name
    day = windows.window_sql(dialect, RECORDS.c.created_at, "day").label("day")
    inner = (sa.select(day, RECORDS.c.version, RECORDS.c.alias, TASKS.c.decision_id,
                       sa.case((TASKS.c.outcome == "override", TASKS.c.decision_id)).label("overridden_id"))
             .select_from(TASKS.join(RECORDS, RECORDS.c.id == TASKS.c.decision_id))
             .where(TASKS.c.model_key == scope.key, TASKS.c.state == "decided",
                    TASKS.c.decided_at <= sa.bindparam(None, as_of, type_=UTCDateTime, unique=True),
                    *scope.conditions(dialect))
             .subquery("t"))
    statement = sa.select(inner.c.day, inner.c.version, inner.c.alias,
                          sa.func.count(sa.distinct(inner.c.decision_id)),
                          sa.func.count(sa.distinct(inner.c.overridden_id))) \
        .group_by(inner.c.day, inner.c.version, inner.c.alias)
    return frame(engine, statement, ["day", "version", "alias", "reviewed", "overridden"])


def _reviews(reviewed: pd.DataFrame, totals: pd.Series, window: str) -> pd.DataFrame:
    if totals.empty:
        return pd.DataFrame(columns=REVIEWS)
    decided = totals.rename("decisions").reset_index()
    if not reviewed.empty:
        counted = reviewed.assign(window_start=windows.rolled_up(reviewed["day"], window)) \
            .groupby(["window_start", "version", "alias"], dropna=False)[["reviewed", "overridden"]].sum() \
            .reset_index()
        merged = decided.merge(counted.astype({"version": int}), on=["window_start", "version", "alias"],
                               how="left")
    else:
        merged = decided.assign(reviewed=0, overridden=0)
    merged = merged.fillna({"reviewed": 0, "overridden": 0}).astype({"reviewed": int, "overridden": int,
                                                                      "decisions": int, "version": int})
    merged["review_rate"] = merged["reviewed"] / merged["decisions"].where(merged["decisions"] > 0)
    merged["override_rate"] = merged["overridden"] / merged["reviewed"].where(merged["reviewed"] > 0)
    return _none_for_nan(merged, ["alias"]).sort_values(["window_start", "version"], kind="stable") \
        .reset_index(drop=True)[REVIEWS]


def _overrides_query(engine: Engine, scope: Scope, as_of: datetime) -> pd.DataFrame:
    dialect = engine.dialect.name
    original = json_column_text(dialect, OVERRIDES.c.original).label("original")
    override = json_column_text(dialect, OVERRIDES.c.override).label("override")
    inner = (sa.select(RECORDS.c.version, original, override)
             .select_from(OVERRIDES.join(RECORDS, RECORDS.c.id == OVERRIDES.c.decision_id))
             .where(OVERRIDES.c.at <= sa.bindparam(None, as_of, type_=UTCDateTime, unique=True),
                    *scope.conditions(dialect, indexed=False))
             .subquery("o"))
    statement = sa.select(inner.c.version, inner.c.original, inner.c.override, sa.func.count()) \
        .group_by(inner.c.version, inner.c.original, inner.c.override)
    return frame(engine, statement, ["version", "original", "override", "count"])


def _override_directions(data: pd.DataFrame) -> pd.DataFrame:
    counts: dict[tuple[int, str, str, str], int] = defaultdict(int)
    for version, original_text, override_text, count in data.itertuples(index=False):
        original = json.loads(original_text) if isinstance(original_text, str) else None
        override = json.loads(override_text) if isinstance(override_text, str) else None
        if not isinstance(override, dict):
            continue
        original = original if isinstance(original, dict) else {}
        for decision, chosen in override.items():
            counts[(int(version), decision, json.dumps(original.get(decision)), json.dumps(chosen))] += int(count)
    rows = [(v, d, json.loads(o), json.loads(c), n) for (v, d, o, c), n in counts.items()]
    result = pd.DataFrame(rows, columns=OVERRIDE_DIRECTIONS)
    return result.sort_values(["version", "count"], ascending=[True, False], kind="stable").reset_index(drop=True)


# --- workflow runs -------------------------------------------------------------------------------

def _runs_query(engine: Engine, scope: Scope, window: str) -> pd.DataFrame:
    dialect = engine.dialect.name
    conditions: list[Any] = [RUNS.c.model_key == scope.key]
    if scope.start is not None:
        conditions.append(RUNS.c.created_at >= sa.bindparam(None, scope.start, type_=UTCDateTime, unique=True))
    if scope.end is not None:
        conditions.append(RUNS.c.created_at < sa.bindparam(None, scope.end, type_=UTCDateTime, unique=True))
    if scope.versions is not None:
        conditions.append(RUNS.c.version.in_(scope.versions))
    if scope.alias is not None:
        conditions.append(RUNS.c.decision_id.in_(sa.select(RECORDS.c.id).where(
            RECORDS.c.model_key == scope.key, RECORDS.c.alias == scope.alias)))
    done = RUNS.c.state == "done"
    latency = seconds_between(dialect, RUNS.c.created_at, RUNS.c.finished_at)
    # SQLite groups by day (a substring of the stored text, cheaper than its date functions) and
    # the days' latencies are joined into windows in Python: percentiles stay exact.
    grouped_by = window if dialect == "postgresql" else "day"
    inner = sa.select(windows.window_sql(dialect, RUNS.c.created_at, grouped_by).label("window"), RUNS.c.version,
                      RUNS.c.workflow, RUNS.c.state, sa.case((done, latency)).label("latency")) \
        .where(*conditions).subquery("w")
    keys = [inner.c.window, inner.c.version, inner.c.workflow]
    counts = [sa.func.count().label("runs"),
              sa.func.sum(sa.case((inner.c.state == "done", 1), else_=0)).label("done"),
              sa.func.sum(sa.case((inner.c.state == "dead", 1), else_=0)).label("dead"),
              sa.func.sum(sa.case((inner.c.state.in_(("ready", "waiting")), 1), else_=0)).label("waiting")]
    if dialect == "postgresql":
        latencies = [sa.func.percentile_cont(q).within_group(inner.c.latency).label(f"p{i}")
                     for i, q in ((50, 0.5), (95, 0.95))]
    else:
        # SQLite has no percentile aggregate: the done runs' latencies travel as one text per
        # group (no row per run through Python) and numpy takes the same linear percentiles.
        latencies = [sa.func.group_concat(inner.c.latency, type_=sa.Text).label("latencies")]
    statement = sa.select(*keys, *counts, *latencies).group_by(*keys)
    return frame(engine, statement, ["window", "version", "workflow", "runs", "done", "dead", "waiting",
                                     *[c.key for c in latencies]])


def _workflows(runs: pd.DataFrame, window: str) -> pd.DataFrame:
    if runs.empty:
        return pd.DataFrame(columns=WORKFLOWS)
    if "latencies" in runs.columns:
        runs = runs.assign(window=windows.rolled_up(runs["window"], window).dt.strftime("%Y-%m-%d"))
        runs = runs.groupby(["window", "version", "workflow"], as_index=False).agg(
            runs=("runs", "sum"), done=("done", "sum"), dead=("dead", "sum"), waiting=("waiting", "sum"),
            latencies=("latencies", lambda texts: ",".join(t for t in texts if isinstance(t, str) and t)))

        def percentiles(text: Any) -> tuple[float, float]:
            if not isinstance(text, str) or not text:
                return np.nan, np.nan
            values = np.array(text.split(","), dtype=float)
            p50, p95 = np.quantile(values, [0.5, 0.95])
            return float(p50), float(p95)

        pairs = [percentiles(text) for text in runs["latencies"]]
        runs = runs.assign(p50=[p[0] for p in pairs], p95=[p[1] for p in pairs])
    result = runs.assign(window_start=windows.timestamps(runs["window"]))
    result = result.astype({"version": int, "runs": int, "done": int, "dead": int, "waiting": int})
    finished = result["done"] + result["dead"]
    result["success_rate"] = result["done"] / finished.where(finished > 0)
    result["latency_p50_s"] = pd.to_numeric(result["p50"], errors="coerce").astype(float)
    result["latency_p95_s"] = pd.to_numeric(result["p95"], errors="coerce").astype(float)
    return result.sort_values(["window_start", "version", "workflow"], kind="stable").reset_index(drop=True)[WORKFLOWS]


def _none_for_nan(data: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    for column in columns:
        data[column] = data[column].astype(object).where(data[column].notna(), None)
    return data
