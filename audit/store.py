"""Reading the decision log for analytics: compact columns and aggregates, never whole rows.

Metrics over a million records must not load a million JSON documents into Python. So the
queries here pull single scalar fields out of the JSON in the database, as JSON text
(SQLite's `outputs -> '$."Decision"'`, PostgreSQL's `CAST(outputs -> 'Decision' AS TEXT)`:
`"Approve"`, `true`, `12.5`, `null`, or SQL NULL when the field is missing) and group by them
there; Python then parses each DISTINCT text once (`parse_texts`). JSON text rather than the
extracted value keeps types apart on both databases: SQLite's json_extract gives 1 for true.

A `Scope` selects the records of one model key: [start, end) by creation time (either may be
open), some versions, one alias; shadow versions' records (shadow_of set) are left out unless
asked for. Every query uses the (model_key, created_at) or (model_key, version, created_at)
index for it.

The outcome of a decision as of a time T is its outcomes row with the latest known_at <= T
(ties: the latest received_at, then the highest id): `latest_outcomes` ranks them in the
database. Outcomes known after T are never seen as of T, and a repeated outcome is one row of
the ranking, so it is never counted twice.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from audit.log import QueryError
from audit.tables import AuditAlertRow, OutcomeRow
from execution.tables import OverrideRow, ReviewTaskRow, RunRow
from registry.tables import DecisionRecordRow, UTCDateTime

RECORDS = DecisionRecordRow.__table__  # type: ignore[attr-defined]
OUTCOMES = OutcomeRow.__table__  # type: ignore[attr-defined]
TASKS = ReviewTaskRow.__table__  # type: ignore[attr-defined]
OVERRIDES = OverrideRow.__table__  # type: ignore[attr-defined]
RUNS = RunRow.__table__  # type: ignore[attr-defined]
ALERTS = AuditAlertRow.__table__  # type: ignore[attr-defined]

SAMPLE_PER_VERSION = 200  # records read whole per version to learn the inputs' and outputs' names


@dataclass(frozen=True)
class Scope:
    key: str
    start: datetime | None = None
    end: datetime | None = None
    versions: tuple[int, ...] | None = None
    alias: str | None = None
    include_shadow: bool = False

    def conditions(self, dialect: str, table: sa.Table = RECORDS, *, indexed: bool = True) -> list[Any]:
        """WHERE conditions on decision_records (or a table with the same column names).
        `indexed=False`: SQLite must not use the records' indexes for them, because a join should
        start from a small table (overrides) and look records up by id; it has no statistics
        to see that by itself."""
        c = table.c
        key: Any = c.model_key
        created: Any = c.created_at
        if not indexed and dialect == "sqlite":
            key = key.op("||")(sa.literal_column("''"))
            created = sa.type_coerce(sa.type_coerce(created, sa.Text).op("||")(sa.literal_column("''")),
                                     UTCDateTime)
        found: list[Any] = [key == self.key]
        if self.start is not None:
            found.append(created >= sa.bindparam(None, self.start, type_=UTCDateTime, unique=True))
        if self.end is not None:
            found.append(created < sa.bindparam(None, self.end, type_=UTCDateTime, unique=True))
        if self.versions is not None:
            found.append(c.version.in_(self.versions))
        if self.alias is not None:
            found.append(c.alias == self.alias)
        if not self.include_shadow:
            # As in audit.log: written so that SQLite, without statistics, does not pick the
            # shadow_of index (meant for finding one record's shadows) for this filter.
            found.append(sa.func.coalesce(c.shadow_of, "") == "" if dialect == "sqlite" else c.shadow_of.is_(None))
        return found


def make_scope(key: Any, *, start: Any = None, end: Any = None, versions: Any = None, alias: Any = None,
               include_shadow: bool = False) -> Scope:
    """A checked Scope; a bad argument raises audit.log.QueryError naming it."""
    if not isinstance(key, str) or not key or len(key) > 100:
        raise QueryError("key", f"must be a model key (text of 1 to 100 characters), got {key!r}")
    start = check_time(start, "start")
    end = check_time(end, "end")
    if start is not None and end is not None and start >= end:
        raise QueryError("end", f"must be after start ({start.isoformat()}), got {end.isoformat()}")
    if versions is not None:
        if isinstance(versions, (str, bytes)) or not isinstance(versions, Iterable):
            raise QueryError("versions", f"must be a list of version numbers, got {versions!r}")
        versions = tuple(versions)
        for number in versions:
            if isinstance(number, bool) or not isinstance(number, int) or number < 1:
                raise QueryError("versions", f"must hold version numbers (1, 2, ...), got {number!r}")
        if not versions:
            raise QueryError("versions", "must name at least one version (or be left out for all)")
    if alias is not None and (not isinstance(alias, str) or not alias or len(alias) > 100):
        raise QueryError("alias", f"must be an alias name (text of 1 to 100 characters), got {alias!r}")
    return Scope(key, start, end, versions, alias, include_shadow)


def check_time(value: Any, parameter: str) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise QueryError(parameter, f"must be a date-time with a time zone, got {value!r}")
    return value.astimezone(UTC)


def check_as_of(value: Any) -> datetime:
    """`as_of` as an aware UTC datetime; None is now."""
    return check_time(value, "as_of") or datetime.now(UTC)


# --- SQL pieces, per database -------------------------------------------------------------------

def json_text(dialect: str, column: Any, path: Sequence[str]) -> Any:
    """The JSON text of the field at `path` (object keys) of a JSON column; SQL NULL when missing."""
    if dialect == "postgresql":
        value: Any = column
        for name in path:
            value = value.op("->", return_type=sa.JSON)(sa.cast(sa.literal(name, sa.String), sa.Text))
        return sa.cast(value, sa.Text)
    if dialect != "sqlite":
        raise QueryError("engine", f"the audit analytics run on SQLite and PostgreSQL, not {dialect}")
    if not any('"' in name for name in path):
        return sa.type_coerce(column, sa.Text).op("->", return_type=sa.Text)(sa.literal(_sqlite_path(path), sa.String))
    # SQLite's JSON paths cannot quote a double quote: walk the keys with json_each instead.
    value = sa.type_coerce(column, sa.Text)
    for name in path:
        entry = sa.func.json_each(value).table_valued("key", "value", "type").alias()
        as_json = sa.case((entry.c.type.in_(("object", "array")), entry.c.value),
                          (entry.c.type == "text", sa.func.json_quote(entry.c.value)),
                          (entry.c.type.in_(("true", "false", "null")), entry.c.type),
                          else_=sa.cast(entry.c.value, sa.Text))
        value = sa.select(as_json).select_from(entry).where(entry.c.key == name).limit(1).scalar_subquery()
    return sa.type_coerce(value, sa.Text)


def _sqlite_path(path: Sequence[str]) -> str:
    return "$" + "".join(f'."{name}"' for name in path)


def json_column_text(dialect: str, column: Any) -> Any:
    """A whole JSON column as text (PostgreSQL's json type has no equality, so no GROUP BY)."""
    return sa.cast(column, sa.Text) if dialect == "postgresql" else sa.type_coerce(column, sa.Text)


def seconds_between(dialect: str, earlier: Any, later: Any) -> Any:
    if dialect == "postgresql":
        return sa.func.extract("epoch", later - earlier)
    return (sa.func.julianday(sa.type_coerce(later, sa.Text)) - sa.func.julianday(sa.type_coerce(earlier, sa.Text))) \
        * 86400.0


def extract(dialect: str, column: Any, paths: Sequence[tuple[str, ...]], label: str,
            objects: Sequence[str] = (), *, separate: bool = False) -> Extraction:
    """Select the fields at `paths` of a JSON column with one JSON parse per row: a JSON array of
    their values (SQLite: json_extract of every path; PostgreSQL: json_to_record of the
    top-level names, then json_build_array). One field alone is its JSON text. The top-level
    names in `objects` are read whole (one value instead of one per component) and their
    components picked out in Python. On SQLite a name with a double quote is read on its own.

    `separate=True` gives one text column per field instead of the array: for reads of every
    record (drift), where the combinations are as many as the records, each column's few
    distinct texts are then parsed once each; SQLite's JSON parse cache keeps that to one parse
    per row, and PostgreSQL still parses once, in json_to_record."""
    if dialect not in ("sqlite", "postgresql"):
        raise QueryError("engine", f"the audit analytics run on SQLite and PostgreSQL, not {dialect}")
    read = list(dict.fromkeys(path[:1] if path[0] in objects else tuple(path) for path in paths))
    alone = [p for p in read if dialect == "sqlite" and any('"' in name for name in p)]
    packed = [p for p in read if p not in alone]
    if (len(packed) == 1 and not objects) or (separate and dialect == "sqlite"):
        alone, packed = [*alone, *packed], []
    columns: list[Any] = []
    joins: list[Any] = []
    where: dict[tuple[str, ...], tuple[str, int | None]] = {}
    for i, path in enumerate(alone):
        columns.append(json_text(dialect, column, path).label(f"{label}{i}"))
        where[path] = (f"{label}{i}", None)
    if packed:
        name = f"{label}{len(alone)}"
        array: Any
        if dialect == "sqlite":
            array = sa.func.json_extract(sa.type_coerce(column, sa.Text),
                                         *[sa.literal(_sqlite_path(p), sa.String) for p in packed], type_=sa.Text)
        else:
            tops = list(dict.fromkeys(path[0] for path in packed))
            record = sa.func.json_to_record(column).table_valued(*[sa.column(top, sa.JSON) for top in tops]) \
                .render_derived(name=f"{label}_fields", with_types=True)
            joins.append(record)
            items = []
            for path in packed:
                item: Any = record.c[path[0]]
                for part in path[1:]:
                    item = item.op("->", return_type=sa.JSON)(sa.cast(sa.literal(part, sa.String), sa.Text))
                items.append(item)
            array = sa.cast(sa.func.json_build_array(*items), sa.Text)
            if separate:  # one text column per field, from the one parse of json_to_record
                for i, (path, item) in enumerate(zip(packed, items, strict=True)):
                    columns.append(sa.cast(item, sa.Text).label(f"{name}_{i}"))
                    where[path] = (f"{name}_{i}", None)
                return _extraction(paths, where, columns, joins)
        columns.append(array.label(name))
        where.update({path: (name, i) for i, path in enumerate(packed)})
    return _extraction(paths, where, columns, joins)


def _extraction(paths: Sequence[tuple[str, ...]], where: Mapping[tuple[str, ...], tuple[str, int | None]],
                columns: list[Any], joins: list[Any]) -> Extraction:
    sources = []
    for path in paths:
        path = tuple(path)
        held = path if path in where else path[:1]
        sources.append((*where[held], path[len(held):]))
    return Extraction(columns, joins, tuple(sources))


@dataclass(frozen=True)
class Extraction:
    """Labelled columns to select and how to read them back: `decode` gives, per path, the
    values and their canonical keys (see `parse_texts`)."""

    columns: list[Any]
    joins: list[Any]  # table-valued functions to join (ON true) to the records
    sources: tuple[tuple[str, int | None, tuple[str, ...]], ...]  # per path: column, array index, rest

    def select_from(self, table: Any) -> Any:
        for joined in self.joins:
            table = table.join(joined, sa.true())
        return table

    @property
    def names(self) -> list[str]:
        return [c.key for c in self.columns]

    def decode(self, data: pd.DataFrame) -> list[tuple[pd.Series, pd.Series]]:
        parsed_columns: dict[str, tuple[np.ndarray, list[Any]]] = {}
        found = []
        for name, index, rest in self.sources:
            if name not in parsed_columns:
                codes, uniques = pd.factorize(data[name], use_na_sentinel=True)
                parsed_columns[name] = (codes, [json.loads(text) for text in uniques])
            codes, documents = parsed_columns[name]
            if index is None:
                parsed = [_plain(_dig(document, rest)) for document in documents]
            else:
                parsed = [_plain(_dig(document[index], rest)) if isinstance(document, list)
                          and index < len(document) else None for document in documents]
            value_array = np.empty(len(parsed) + 1, dtype=object)
            value_array[:len(parsed)] = parsed
            value_array[len(parsed)] = None
            key_array = np.array([value_key(v) for v in parsed] + ["null"], dtype=object)
            found.append((pd.Series(value_array[codes], index=data.index, dtype=object),
                          pd.Series(key_array[codes], index=data.index, dtype=object)))
        return found


def _dig(value: Any, path: Sequence[str]) -> Any:
    for name in path:
        value = value.get(name) if isinstance(value, dict) else None
    return value


def time_bounds(engine: Engine, scope: Scope) -> tuple[datetime, datetime] | None:
    """The earliest and latest creation time of the scope's records (None: there are none)."""
    dialect = engine.dialect.name
    # Shadow records count here: the answer comes from the (model_key, created_at) index alone.
    plain = Scope(scope.key, scope.start, scope.end, include_shadow=True)
    found = []
    with reader(engine) as connection:
        for order in (RECORDS.c.created_at.asc(), RECORDS.c.created_at.desc()):
            found.append(connection.execute(sa.select(RECORDS.c.created_at).where(*plain.conditions(dialect))
                                            .order_by(order).limit(1)).scalar())
    if found[0] is None or found[1] is None:
        return None
    return cast(datetime, found[0]), cast(datetime, found[1])


def latest_outcomes(key: str, as_of: datetime) -> Any:
    """Subquery (decision_id, labels, values): each decision's outcome as of `as_of`."""
    rank = sa.func.row_number().over(
        partition_by=OUTCOMES.c.decision_id,
        order_by=(OUTCOMES.c.known_at.desc(), OUTCOMES.c.received_at.desc(), OUTCOMES.c.id.desc()))
    ranked = (sa.select(OUTCOMES.c.decision_id, OUTCOMES.c.labels, OUTCOMES.c["values"], rank.label("rank"))
              .where(OUTCOMES.c.model_key == key,
                     OUTCOMES.c.known_at <= sa.bindparam(None, as_of, type_=UTCDateTime, unique=True))
              .subquery("ranked"))
    return (sa.select(ranked.c.decision_id, ranked.c.labels, ranked.c["values"])
            .where(ranked.c.rank == 1).subquery("latest"))


def reader(engine: Engine) -> sa.Connection:
    """A connection for reading: on SQLite its transaction takes no write lock (registry.db
    begins IMMEDIATE otherwise), so a long scan never holds up the service's writes."""
    return engine.execution_options(decisionary_read_only=True).connect()


def frame(engine: Engine, statement: Any, columns: Sequence[str]) -> pd.DataFrame:
    with reader(engine) as connection:
        if engine.dialect.name == "postgresql":
            # Compiling these one-off scans' expressions costs more than it saves.
            connection.exec_driver_sql("SET LOCAL jit = off")
        rows = [tuple(row) for row in connection.execute(statement)]
    return pd.DataFrame.from_records(rows, columns=list(columns))


# --- JSON texts to values -----------------------------------------------------------------------

def _plain(value: Any) -> Any:
    """Numbers by value (15000 and 15000.0 are one value), recursively."""
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def value_key(value: Any) -> str:
    """A canonical text of a (plain) JSON value, to group by: numbers by value, True apart from 1."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else json.dumps(value)
    return json.dumps(value, sort_keys=True)


def parse_texts(texts: pd.Series) -> tuple[pd.Series, pd.Series]:
    """(values, keys) for a column of JSON texts: each distinct text is parsed once. `values`
    holds Python values (None for JSON null and for a missing field), `keys` a canonical text per
    value to group by (numbers by value; True and 1 stay apart)."""
    codes, uniques = pd.factorize(texts, use_na_sentinel=True)
    parsed = [_plain(json.loads(text)) for text in uniques]
    keys = [value_key(value) for value in parsed]
    value_array = np.empty(len(parsed) + 1, dtype=object)
    value_array[:len(parsed)] = parsed
    value_array[len(parsed)] = None
    key_array = np.array([*keys, "null"], dtype=object)
    return (pd.Series(value_array[codes], index=texts.index, dtype=object),
            pd.Series(key_array[codes], index=texts.index, dtype=object))


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


# --- what the records hold ----------------------------------------------------------------------

@dataclass(frozen=True)
class Field:
    """One input or output as the log holds it: a decision's value, or one output of a multi-
    output decision ("Eligibility.Status", path ("Eligibility", "Status"))."""

    kind: str  # "input" or "output"
    name: str
    path: tuple[str, ...]
    sample: tuple[Any, ...]  # values seen in the sample (None included)

    @property
    def column(self) -> str:
        return "inputs" if self.kind == "input" else "outputs"

    @property
    def categorical(self) -> bool:
        """Strings or booleans (or anything but numbers) were seen."""
        return any(v is not None and not is_number(v) for v in self.sample)

    @property
    def numeric(self) -> bool:
        return not self.categorical and any(is_number(v) for v in self.sample)

    def distinct(self) -> int:
        return len({value_key(_plain(v)) for v in self.sample})


def sample_fields(engine: Engine, scope: Scope, per_version: int = SAMPLE_PER_VERSION) -> list[Field]:
    """The inputs and outputs the scope's records hold, in the order the records write them, from
    the newest `per_version` records of each version in scope (a version's records all have its
    model's names)."""
    dialect = engine.dialect.name
    with reader(engine) as connection:
        # From the (model_key, version, created_at) index alone: shadow versions are listed too,
        # and their samples below come back empty.
        every = dataclasses.replace(scope, include_shadow=True, alias=None)
        numbers: list[int] = []
        while True:  # a skip scan: one index seek per version
            after = [RECORDS.c.version > numbers[-1]] if numbers else []
            number = connection.execute(sa.select(sa.func.min(RECORDS.c.version))
                                        .where(*every.conditions(dialect), *after)).scalar()
            if number is None:
                break
            numbers.append(int(number))
        rows: list[Any] = []
        for number in sorted(numbers):
            rows += connection.execute(
                sa.select(RECORDS.c.inputs, RECORDS.c.outputs)
                .where(*scope.conditions(dialect), RECORDS.c.version == number)
                .order_by(RECORDS.c.created_at.desc()).limit(per_version)).all()
    seen: dict[tuple[str, tuple[str, ...]], list[Any]] = {}
    for row in rows:
        for kind, document in (("input", row.inputs), ("output", row.outputs)):
            if not isinstance(document, dict):
                continue
            for name, value in document.items():
                if isinstance(value, dict) and value:
                    for part, inner in value.items():
                        seen.setdefault((kind, (name, part)), []).append(inner)
                else:
                    seen.setdefault((kind, (name,)), []).append(value)
    inputs = [Field(kind, ".".join(path), path, tuple(values)) for (kind, path), values in seen.items()
              if kind == "input"]
    outputs = [Field(kind, ".".join(path), path, tuple(values)) for (kind, path), values in seen.items()
               if kind == "output"]
    return inputs + outputs


def find_field(fields: Sequence[Field], name: str, parameter: str, kinds: Sequence[str] = ("output", "input")) \
        -> Field:
    """The field called `name` (an output first: names are unique in a model), else QueryError."""
    for kind in kinds:
        for field in fields:
            if field.kind == kind and field.name == name:
                return field
    known = ", ".join(sorted({f.name for f in fields if f.kind in kinds})) or "none: no records in scope"
    raise QueryError(parameter, f"no {' or '.join(kinds)} called {name!r} in the records (known: {known})")


# --- the models behind the records ---------------------------------------------------------------

def version_models(engine: Engine, key: str, versions: Sequence[int] | None = None) -> dict[int, Any]:
    """The compiled model of each version of `key` (or of `versions`), by number; a version that
    does not load is left out (it has no rule list or decision order to show). registry.NotFound
    when the registry has no such key."""
    import decisions
    from registry import get_model, list_versions, unit_of_work

    with unit_of_work(engine, read_only=True) as session:
        get_model(session, key)
        found = [(v.number, v.text) for v in list_versions(session, key)
                 if versions is None or v.number in versions]
    models: dict[int, Any] = {}
    for number, text in found:
        try:
            models[number] = decisions.load(text)
        except Exception:  # noqa: BLE001 - see the docstring
            continue
    return models


def rule_ids_of(models: Mapping[int, Any]) -> dict[int, dict[str, list[str]]]:
    """Each version's rule ids in rule order (metrics' `rule_ids`), from `version_models`."""
    return {number: ids for number, model in models.items() if (ids := getattr(model, "rule_ids", None))}

