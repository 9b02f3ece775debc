"""Replay (what-if): a candidate version evaluated on what was decided, and what would change.

The input is a frame of decisions: the model's inputs as columns, what was decided as
`decided.<decision>` columns, optionally `decision_id` and outcome labels as `label.<name>`
(`logged_frame` reads one from the decision log, with outcomes as known now; a file has the
same shape). The candidate is evaluated on every row with `evaluate_batch` (vectorised,
identical to evaluating row by row), then for each decision both have:

- how many rows change, and their share;
- the swap set: every (from, to) pair that occurs, with its count and up to `examples` example
  rows (the smallest decision ids, or row numbers, so the choice never depends on the order of
  work); decisions with more than SWAP_VALUES distinct values (amounts, scores) report only
  how many changed;
- with `bad_label`: for each value, the bad rate of the rows that were decided so, and of the
  rows the candidate decides so, each among rows whose label is known; rows whose label is
  unknown are counted apart. A candidate that approves applicants who were rejected has no
  outcomes for them (they were never booked): `unknown` says how many such rows there are.

Values are compared as JSON values with numbers by value (1 and 1.0 are the same).
`replay_dask` does the same on Dask partitions and sums the partial counts, so its summary is
identical to the pandas one, for data larger than memory.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

import pandas as pd

import decisions
from decisions.feel.values import to_json

SWAP_VALUES = 20
DECIDED = "decided."
LABEL = "label."


@dataclass
class DecisionReplay:
    """The counts of one compared decision; they add up across partitions."""

    rows: int = 0
    changed: int = 0
    swaps: Counter[tuple[str, str]] = field(default_factory=Counter)
    examples: dict[tuple[str, str], list[Any]] = field(default_factory=dict)
    values: set[str] = field(default_factory=set)
    # value -> [rows decided so with a known label, of them bad, rows with no label]
    decided_outcomes: dict[str, list[int]] = field(default_factory=dict)
    candidate_outcomes: dict[str, list[int]] = field(default_factory=dict)

    def add(self, other: DecisionReplay, examples: int) -> None:
        self.rows += other.rows
        self.changed += other.changed
        self.swaps.update(other.swaps)
        for pair, ids in other.examples.items():
            self.examples[pair] = sorted([*self.examples.get(pair, []), *ids], key=_order)[:examples]
        self.values |= other.values
        for mine, theirs in ((self.decided_outcomes, other.decided_outcomes),
                             (self.candidate_outcomes, other.candidate_outcomes)):
            for value, counts in theirs.items():
                total = mine.setdefault(value, [0, 0, 0])
                for i in range(3):
                    total[i] += counts[i]


@dataclass
class ReplaySummary:
    rows: int
    decisions: dict[str, DecisionReplay]
    bad_label: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"rows": self.rows, "bad_label": self.bad_label, "decisions": {}}
        for name, replay in self.decisions.items():
            item: dict[str, Any] = {"rows": replay.rows, "changed": replay.changed,
                                    "changed_share": replay.changed / replay.rows if replay.rows else 0.0}
            if len(replay.values) <= SWAP_VALUES:
                item["swaps"] = [{"from": json.loads(a), "to": json.loads(b), "count": n,
                                  "examples": replay.examples.get((a, b), [])}
                                 for (a, b), n in sorted(replay.swaps.items(), key=lambda kv: (-kv[1], kv[0]))]
            if self.bad_label:
                item["bad_rate"] = [
                    {"value": json.loads(value), **_rates("decided", replay.decided_outcomes.get(value)),
                     **_rates("candidate", replay.candidate_outcomes.get(value))}
                    for value in sorted(replay.values)]
            out["decisions"][name] = item
        return out


def _rates(prefix: str, counts: list[int] | None) -> dict[str, Any]:
    known, bad, unknown = counts or (0, 0, 0)
    return {f"{prefix}_known": known, f"{prefix}_bad": bad, f"{prefix}_unknown": unknown,
            f"{prefix}_bad_rate": bad / known if known else None}


def replay(candidate: Any, frame: pd.DataFrame, *, compare: Sequence[str] | None = None,
           bad_label: str | None = None, examples: int = 5, row_offset: int = 0) -> ReplaySummary:
    """Replay `candidate` (a compiled model) on `frame` (see the module docstring)."""
    names = _compared(candidate, frame, compare)
    if bad_label is not None and f"{LABEL}{bad_label}" not in frame.columns:
        raise ValueError(f"no column {LABEL}{bad_label} for the bad label")
    inputs = frame[[c for c in frame.columns if c in set(candidate.input_names)]]
    evaluated = candidate.evaluate_batch(inputs.reset_index(drop=True), decisions=names)
    ids = (list(frame["decision_id"]) if "decision_id" in frame.columns
           else list(range(row_offset, row_offset + len(frame))))
    labels = list(frame[f"{LABEL}{bad_label}"]) if bad_label else None
    known = bad = None
    if labels is not None:
        parsed = pd.Series([_label(v) for v in labels], dtype=object)
        known = parsed.notna().to_numpy()
        bad = (parsed == True).to_numpy()  # noqa: E712 - element-wise
    result: dict[str, DecisionReplay] = {}
    for name in names:
        # Distinct values are few: each is turned into its key once, and rows are counted in bulk.
        before = _keys(frame[f"{DECIDED}{name}"].tolist())
        after = _keys(_column(evaluated, name))
        replayed = DecisionReplay(rows=len(frame), values=set(before.unique()) | set(after.unique()))
        changed = (before != after).to_numpy()
        replayed.changed = int(changed.sum())
        if replayed.changed:
            moved = pd.DataFrame({"a": before[changed].to_numpy(), "b": after[changed].to_numpy(),
                                  "id": pd.Series(ids, dtype=object)[changed].to_numpy()})
            for (a, b), group in moved.groupby(["a", "b"], sort=False):
                replayed.swaps[(str(a), str(b))] = len(group)
                replayed.examples[(str(a), str(b))] = sorted(group["id"].tolist(), key=_order)[:examples]
        if known is not None and bad is not None:
            for table, keys in ((replayed.decided_outcomes, before), (replayed.candidate_outcomes, after)):
                counts = pd.DataFrame({"v": keys.to_numpy(), "known": known, "bad": bad & known,
                                       "unknown": ~known}).groupby("v", sort=False)[["known", "bad", "unknown"]].sum()
                for value, row in counts.iterrows():
                    table[str(value)] = [int(row["known"]), int(row["bad"]), int(row["unknown"])]
        result[name] = replayed
    return ReplaySummary(len(frame), result, bad_label)


def _keys(values: list[Any]) -> pd.Series:
    """Each value's comparison key (`_value_key`), computed once per distinct value."""
    cache: dict[Any, str] = {}
    keys = []
    for value in values:
        try:
            key = cache.get((type(value), value))
            if key is None:
                key = cache[(type(value), value)] = _value_key(value)
        except TypeError:  # unhashable (a context): no cache
            key = _value_key(value)
        keys.append(key)
    return pd.Series(keys, dtype=object)


def _column(evaluated: pd.DataFrame, name: str) -> list[Any]:
    """A decision's values; a table with several outputs comes as `<name>.<output>` columns."""
    if name in evaluated.columns:
        return list(evaluated[name])
    parts = [c for c in evaluated.columns if str(c).startswith(name + ".")]
    return [{c[len(name) + 1:]: row[c] for c in parts} for row in evaluated[parts].to_dict("records")]


def _compared(candidate: Any, frame: pd.DataFrame, compare: Sequence[str] | None) -> list[str]:
    logged = [c[len(DECIDED):] for c in frame.columns if str(c).startswith(DECIDED)]
    known = set(candidate.decision_names)
    names = list(compare) if compare else [n for n in logged if n in known]
    missing = [n for n in names if n not in known or n not in logged]
    if missing:
        raise ValueError(f"cannot compare {', '.join(missing)}: a decision needs a {DECIDED}<name> column and "
                         "must be in the candidate")
    if not names:
        raise ValueError(f"nothing to compare: no {DECIDED}<decision> column names a decision of the candidate")
    return names


def _value_key(value: Any) -> str:
    """A value as comparable JSON text: numbers by value, everything else as JSON."""
    value = to_json(value) if not isinstance(value, (str, bool, int, float, type(None))) else value
    if isinstance(value, float) and value != value:
        value = None
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        try:
            number = Decimal(str(value)).normalize()
        except InvalidOperation:
            return json.dumps(str(value))
        return format(number, "f") if number == number.to_integral() else str(number)
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def _label(value: Any) -> bool | None:
    if value is None or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, str):
        return {"true": True, "false": False}.get(value.strip().lower())
    return bool(value)


def _order(value: Any) -> tuple[int, Any]:
    return (0, value) if isinstance(value, int) else (1, str(value))


# --- on Dask -------------------------------------------------------------------------------------

@lru_cache(maxsize=4)
def _compiled(text: str) -> Any:
    return decisions.load(text)


def _partition(frame: pd.DataFrame, text: str, names: tuple[str, ...], bad_label: str | None, examples: int,
               offset: int) -> ReplaySummary:
    return replay(_compiled(text), frame, compare=names, bad_label=bad_label, examples=examples, row_offset=offset)


def merge(parts: Iterable[ReplaySummary], examples: int) -> ReplaySummary:
    total: ReplaySummary | None = None
    for part in parts:
        if total is None:
            total = ReplaySummary(0, {name: DecisionReplay() for name in part.decisions}, part.bad_label)
        total.rows += part.rows
        for name, replayed in part.decisions.items():
            total.decisions[name].add(replayed, examples)
    if total is None:
        raise ValueError("nothing to replay: the data has no rows")
    return total


def replay_dask(candidate_text: str, source: Any, *, compare: Sequence[str] | None = None,
                bad_label: str | None = None, examples: int = 5, scheduler: str | None = None,
                workers: int = 2) -> ReplaySummary:
    """`replay` on Dask: `source` is a dask DataFrame, or a path (glob) of Parquet or CSV files.
    Each partition is replayed where it lies, with the model compiled there from its text; the
    counts are summed. `scheduler`: an address, or None for a local cluster of `workers`
    processes, closed afterwards."""
    import dask.dataframe as dd
    from dask.delayed import delayed
    from distributed import Client, LocalCluster

    frame = source
    if isinstance(source, str):
        frame = dd.read_parquet(source) if source.endswith((".parquet", "/")) else dd.read_csv(source)
    names = tuple(_compared(_compiled(candidate_text), frame._meta, compare))
    cluster = None if scheduler else LocalCluster(  # type: ignore[no-untyped-call]
        n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0")
    try:
        with Client(scheduler or cluster) as client:  # type: ignore[no-untyped-call]
            lengths = client.compute(frame.map_partitions(len)).result()
            offsets = [sum(lengths[:i]) for i in range(len(lengths))]
            partitions = frame.to_delayed()
            tasks = [delayed(_partition)(part, candidate_text, names, bad_label, examples, offset)
                     for part, offset in zip(partitions, offsets, strict=True)]
            parts = client.compute(tasks, sync=True)
    finally:
        if cluster is not None:
            cluster.close()
    return merge(parts, examples)


# --- from the decision log -----------------------------------------------------------------------

def logged_frame(engine: Any, key: str, *, start: Any = None, end: Any = None, version: int | None = None,
                 alias: str | None = None, limit: int = 1_000_000) -> pd.DataFrame:
    """Live decisions of `key` (no shadow version's), oldest first, as a replay frame, with each
    decision's outcome labels as known now."""
    import sqlalchemy as sa

    from audit.outcomes import outcomes_for
    from registry.tables import DecisionRecordRow

    records = DecisionRecordRow.__table__  # type: ignore[attr-defined]
    query = sa.select(records.c.id, records.c.inputs, records.c.outputs).where(
        records.c.model_key == key, records.c.shadow_of.is_(None))
    if start is not None:
        query = query.where(records.c.created_at >= start)
    if end is not None:
        query = query.where(records.c.created_at < end)
    if version is not None:
        query = query.where(records.c.version == version)
    if alias is not None:
        query = query.where(records.c.alias == alias)
    rows: list[dict[str, Any]] = []
    with engine.execution_options(decisionary_read_only=True).connect() as connection:
        for record_id, inputs, outputs in connection.execute(query.order_by(records.c.id).limit(limit)):
            inputs = json.loads(inputs) if isinstance(inputs, str) else inputs
            outputs = json.loads(outputs) if isinstance(outputs, str) else outputs
            row = {"decision_id": record_id, **(inputs or {})}
            row.update({f"{DECIDED}{name}": value for name, value in (outputs or {}).items()})
            rows.append(row)
    frame = pd.DataFrame(rows)
    outcomes = outcomes_for(engine, key)
    if not frame.empty and not outcomes.empty:
        labels = outcomes[["decision_id", *[c for c in outcomes.columns if c.startswith("label:")]]]
        labels = labels.rename(columns={c: LABEL + c[len("label:"):] for c in labels.columns if c != "decision_id"})
        frame = frame.merge(labels, on="decision_id", how="left")
    return frame



# --- attached to a version -----------------------------------------------------------------------

MAX_LOGGED = 1_000_000  # logged decisions one replay reads


def replay_version(engine: Any, key: str, number: int, *, by: str, start: Any = None, end: Any = None,
                   alias: str | None = "production", frame: pd.DataFrame | None = None, source: str | None = None,
                   bad_label: str | None = None, examples: int = 5, attach: bool = True) -> dict[str, Any]:
    """Replay version `number` of `key` (in any state: the point is to see it before approving)
    on the decisions logged through `alias` in [start, end), or on `frame`, and (with `attach`)
    attach the summary to the version. registry.NotFound when the version does not exist."""
    from audit.tables import ReplayRow
    from registry import Invalid, unit_of_work
    from registry.ids import new_ulid
    from registry.rows import version_row
    from registry.tables import utcnow

    with unit_of_work(engine, read_only=True) as session:
        row = version_row(session, key, number)  # NotFound names the version
        content, version_id = row.content, row.id
    try:
        candidate = _compiled(content.decode("utf-8"))
    except Exception as exc:  # noqa: BLE001 - a version that does not load cannot be replayed
        raise Invalid(f"{key} version {number} does not load, so it cannot be replayed: "
                      f"{str(exc).splitlines()[0][:200]}") from None
    if frame is None:
        frame = logged_frame(engine, key, start=start, end=end, alias=alias, limit=MAX_LOGGED)
        source = source or (f"decisions logged through {alias or 'any alias'}"
                            f" from {start.isoformat() if start else 'the first'}"
                            f" to {end.isoformat() if end else 'now'}")
    if frame.empty:
        raise Invalid(f"no logged decisions of {key} to replay in that period")
    if bad_label is None and f"{LABEL}defaulted" in frame.columns:
        bad_label = "defaulted"
    try:
        summary = replay(candidate, frame, bad_label=bad_label, examples=examples).to_dict()
    except ValueError as exc:
        raise Invalid(str(exc)) from None
    stored = {"id": new_ulid(), "model_key": key, "candidate_version": number, "version_id": version_id,
              "source": source or "a file", "summary": summary, "created_by": by, "created_at": utcnow()}
    if attach:
        with unit_of_work(engine) as session:
            session.execute(ReplayRow.__table__.insert().values(**stored))  # type: ignore[attr-defined]
    return _replay_out(stored)


def list_replays(engine: Any, key: str, number: int) -> list[dict[str, Any]]:
    """The replays attached to a version, newest first."""
    import sqlalchemy as sa

    from audit.tables import ReplayRow
    from registry import unit_of_work
    from registry.rows import version_row

    table = ReplayRow.__table__  # type: ignore[attr-defined]
    with unit_of_work(engine, read_only=True) as session:
        version_row(session, key, number)
        rows = session.connection().execute(sa.select(table).where(
            table.c.model_key == key, table.c.candidate_version == number).order_by(table.c.id.desc())).mappings()
        return [_replay_out(dict(r)) for r in rows]


def _replay_out(row: Mapping[str, Any]) -> dict[str, Any]:
    return {"id": row["id"], "key": row["model_key"], "version": row["candidate_version"], "source": row["source"],
            "summary": row["summary"], "created_by": row["created_by"],
            "created_at": row["created_at"].isoformat()}
