"""Outcomes: what became known about a decision later (the loan defaulted, the loss was 1,200).

An outcome holds labels (booleans; a bare name means true: `defaulted` is `defaulted: true`),
values (numbers, e.g. `loss: 1200`) and the time it became known (`known_at`, default now; not
before the decision was made, and not more than CLOCK_SKEW in the future).

- **Keyed** by decision id, or by business key: (model key, business key) means the latest live
  decision (not a shadow version's) with that business key made at or before `known_at`.
- **Never rewritten.** The `outcomes` table is append-only. The same outcome sent again (same
  decision, labels, values and known_at) is recognised by its content hash and adds nothing
  ("repeated"). A different, later outcome for the same decision is added beside the first.
  Figures computed as of a time T use, for each decision, the outcome with the latest
  known_at <= T (audit/store.py), so an outcome that arrives late never changes figures that
  were computed as of an earlier time, and no outcome is ever counted twice.
- **Files** (`import_outcomes`): CSV or Parquet, one outcome per row, with a `decision_id`
  column or a business-key column, an optional `known_at` column, and `label:<name>` /
  `value:<name>` columns. The whole file is checked before anything is written: a file with any
  bad row is refused with every problem located (`outcomes.csv row 17, column known_at: ...`; at
  most MAX_LISTED listed), and a good one is written in one transaction. At most MAX_ROWS rows.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from audit.tables import OutcomeRow
from registry import Invalid, NotFound, unit_of_work
from registry.bulk import insert_rows
from registry.ids import new_ulid
from registry.tables import DecisionRecordRow

OUTCOMES = OutcomeRow.__table__  # type: ignore[attr-defined]
RECORDS = DecisionRecordRow.__table__  # type: ignore[attr-defined]
CLOCK_SKEW = timedelta(minutes=5)
MAX_ROWS = 1_000_000
MAX_LISTED = 100
MAX_NAMES = 50  # labels and values per outcome
NAME_LENGTH = 100
_TRUE = {"true", "1", "yes", "y", "t"}
_FALSE = {"false", "0", "no", "n", "f"}


class OutcomesInvalid(Invalid):
    """A file of outcomes was refused: every problem found, each with its row and column."""

    def __init__(self, message: str, problems: Sequence[str], total: int) -> None:
        super().__init__(message)
        self.problems = list(problems)
        self.total = total


@dataclass(frozen=True)
class OutcomeResult:
    outcome_id: str
    decision_id: str
    repeated: bool


@dataclass
class ImportSummary:
    rows: int = 0
    added: int = 0
    repeated: int = 0
    decisions: set[str] = field(default_factory=set)

    def to_dict(self) -> dict[str, int]:
        return {"rows": self.rows, "added": self.added, "repeated": self.repeated, "decisions": len(self.decisions)}


def outcome_hash(labels: Mapping[str, bool], values: Mapping[str, float], known_at: datetime) -> str:
    """What makes two outcomes of one decision the same outcome."""
    text = json.dumps({"labels": dict(labels), "values": dict(values), "known_at": known_at.astimezone(UTC).isoformat()},
                      sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


# --- one outcome ---------------------------------------------------------------------------------

def record_outcome(engine: Engine, *, decision_id: str | None = None, key: str | None = None,
                   business_key: str | None = None, labels: Any = None, values: Any = None,
                   known_at: datetime | None = None, source: str = "api", by: str | None = None,
                   now: datetime | None = None) -> OutcomeResult:
    """Record one outcome (see the module docstring); NotFound when no decision matches, Invalid
    for a bad label, value or time."""
    now = now or datetime.now(UTC)
    known = _known_at(known_at, now)
    parsed_labels, parsed_values = parse_labels(labels), parse_values(values)
    if not parsed_labels and not parsed_values:
        raise Invalid("an outcome needs at least one label or value")
    with unit_of_work(engine) as session:
        connection = session.connection()
        record = _find_decision(connection, decision_id=decision_id, key=key, business_key=business_key,
                                known_at=known)
        if known < record["created_at"]:
            raise Invalid(f"known_at {known.isoformat()} is before decision {record['id']} was made "
                          f"({record['created_at'].isoformat()})")
        digest = outcome_hash(parsed_labels, parsed_values, known)
        existing = connection.execute(sa.select(OUTCOMES.c.id).where(
            OUTCOMES.c.decision_id == record["id"], OUTCOMES.c.content_hash == digest)).scalar()
        if existing is not None:
            return OutcomeResult(str(existing), record["id"], True)
        outcome_id = new_ulid()
        connection.execute(OUTCOMES.insert().values(
            id=outcome_id, model_key=record["model_key"], decision_id=record["id"],
            business_key=record["business_key"], labels=parsed_labels, values=parsed_values, known_at=known,
            received_at=now, source=source[:200], by=by, content_hash=digest))
    return OutcomeResult(outcome_id, record["id"], False)


def _find_decision(connection: Connection, *, decision_id: str | None, key: str | None, business_key: str | None,
                   known_at: datetime) -> Mapping[str, Any]:
    columns = (RECORDS.c.id, RECORDS.c.model_key, RECORDS.c.business_key, RECORDS.c.created_at, RECORDS.c.shadow_of)
    if decision_id is not None:
        row = connection.execute(sa.select(*columns).where(RECORDS.c.id == decision_id)).mappings().first()
        if row is None:
            raise NotFound(f"no decision {decision_id!r}: an outcome needs the id of a recorded decision")
        if row["shadow_of"] is not None:
            raise Invalid(f"decision {decision_id} is a shadow version's record; report the outcome of "
                          f"decision {row['shadow_of']}, which was answered")
        if key is not None and row["model_key"] != key:
            raise NotFound(f"decision {decision_id} is not a decision of {key!r}")
        return dict(row)
    if key is None or business_key is None:
        raise Invalid("name the decision: its id, or the model's key and the business key")
    row = connection.execute(
        sa.select(*columns).where(RECORDS.c.model_key == key, RECORDS.c.business_key == str(business_key),
                                  RECORDS.c.shadow_of.is_(None), RECORDS.c.created_at <= known_at)
        .order_by(RECORDS.c.created_at.desc(), RECORDS.c.id.desc()).limit(1)).mappings().first()
    if row is None:
        raise NotFound(f"no decision of {key!r} with business key {_short(business_key)} made by "
                       f"{known_at.isoformat()}")
    return dict(row)


# --- parsing -------------------------------------------------------------------------------------

def parse_labels(raw: Any) -> dict[str, bool]:
    """{name: bool}, or a list of names (each true)."""
    if raw is None:
        return {}
    if isinstance(raw, (list, tuple)):
        raw = {name: True for name in raw}
    if not isinstance(raw, Mapping):
        raise Invalid("labels are an object of names to true/false, or a list of names that are true")
    out: dict[str, bool] = {}
    for name, value in raw.items():
        _check_name(name, "label")
        if not isinstance(value, bool):
            raise Invalid(f"label {_short(name)}: expected true or false, got {_short(value)}")
        out[name] = value
    if len(out) > MAX_NAMES:
        raise Invalid(f"at most {MAX_NAMES} labels per outcome")
    return out


def parse_values(raw: Any) -> dict[str, float | int]:
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise Invalid("values are an object of names to numbers")
    out: dict[str, float | int] = {}
    for name, value in raw.items():
        _check_name(name, "value")
        out[name] = _number(value, f"value {_short(name)}")
    if len(out) > MAX_NAMES:
        raise Invalid(f"at most {MAX_NAMES} values per outcome")
    return out


def _number(value: Any, what: str) -> float | int:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise Invalid(f"{what}: expected a number, got {_short(value)}")
    if isinstance(value, int):
        if abs(value) >= 10**18:
            raise Invalid(f"{what}: {_short(value)} is out of range")
        return value
    if not math.isfinite(value) or abs(value) > 1e300:
        raise Invalid(f"{what}: expected a finite number, got {_short(value)}")
    return value


def _check_name(name: Any, what: str) -> None:
    if not isinstance(name, str) or not name.strip() or len(name) > NAME_LENGTH:
        raise Invalid(f"a {what} name is 1-{NAME_LENGTH} characters, got {_short(name)}")


def _known_at(value: Any, now: datetime) -> datetime:
    if value is None:
        return now
    if isinstance(value, str):
        value = parse_time(value)
    if not isinstance(value, datetime):
        raise Invalid(f"known_at: expected an ISO 8601 date-time, got {_short(value)}")
    value = value if value.tzinfo else value.replace(tzinfo=UTC)
    if value > now + CLOCK_SKEW:
        raise Invalid(f"known_at {value.isoformat()} is in the future")
    when: datetime = value.astimezone(UTC)
    return when


def parse_time(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise Invalid(f"{_short(text)} is not an ISO 8601 date-time") from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


# --- files ---------------------------------------------------------------------------------------

def read_table(data: bytes, *, filename: str, format: str | None = None) -> pd.DataFrame:
    """A CSV or Parquet file as a frame of strings and numbers; Invalid naming the file when it
    cannot be read."""
    kind = (format or ("parquet" if filename.lower().endswith((".parquet", ".pq")) else "csv")).lower()
    try:
        if kind == "parquet":
            table = pq.read_table(pa.BufferReader(data))
            if table.num_rows > MAX_ROWS:
                raise Invalid(f"{filename}: {table.num_rows:,} rows; at most {MAX_ROWS:,} per upload")
            frame: pd.DataFrame = table.to_pandas()
            return frame
        if kind == "csv":
            text = data.decode("utf-8-sig")
            frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, nrows=MAX_ROWS + 1)
            if len(frame) > MAX_ROWS:
                raise Invalid(f"{filename}: more than {MAX_ROWS:,} rows; at most {MAX_ROWS:,} per upload")
            return frame
    except Invalid:
        raise
    except UnicodeDecodeError as exc:
        raise Invalid(f"{filename}: not UTF-8 text (byte {exc.start})") from None
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise Invalid(f"{filename}: not a readable {kind} file: {_short(str(exc))}") from None
    raise Invalid(f"{filename}: unknown format {kind!r}: outcomes come as csv or parquet")


def import_outcomes(engine: Engine, key: str, data: bytes, *, filename: str, format: str | None = None,
                    id_column: str | None = None, business_key_column: str | None = None,
                    by: str | None = None, now: datetime | None = None) -> ImportSummary:
    """Check a whole file of outcomes of `key`, then write it in one transaction (see the module
    docstring); OutcomesInvalid lists what is wrong, and nothing is written."""
    now = now or datetime.now(UTC)
    frame = read_table(data, filename=filename, format=format)
    columns = [str(c) for c in frame.columns]
    id_column = id_column or ("decision_id" if "decision_id" in columns else None)
    if id_column is None and business_key_column is None:
        raise Invalid(f"{filename}: name the decisions with a decision_id column, or give the business key "
                      f"column; the columns are {', '.join(columns[:20])}")
    keyed_by = id_column or business_key_column
    assert keyed_by is not None
    if keyed_by not in columns:
        raise Invalid(f"{filename}: no column {keyed_by!r}; the columns are {', '.join(columns[:20])}")
    label_columns = [c for c in columns if c.startswith("label:")]
    value_columns = [c for c in columns if c.startswith("value:")]
    if not label_columns and not value_columns:
        raise Invalid(f"{filename}: no label:<name> or value:<name> column")
    unknown = [c for c in columns if c not in (keyed_by, "known_at", *label_columns, *value_columns)]
    if unknown:
        raise Invalid(f"{filename}: unknown column(s) {', '.join(_short(c) for c in unknown[:10])}: expected "
                      f"{keyed_by}, known_at, label:<name> and value:<name>")

    problems: list[str] = []
    total = 0
    parsed: list[tuple[int, str, dict[str, bool], dict[str, float | int], datetime]] = []
    for index, row in enumerate(frame.to_dict("records")):
        line = index + 2 if not filename.lower().endswith((".parquet", ".pq")) else index + 1
        where = f"{filename} row {line}"
        try:
            ident = _cell_text(row[keyed_by], f"{where}, column {keyed_by}")
            known = _known_at(_cell_time(row.get("known_at"), f"{where}, column known_at"), now)
            labels = {c[6:]: _cell_bool(row[c], f"{where}, column {c}") for c in label_columns
                      if not _blank(row[c])}
            values = {c[6:]: _cell_number(row[c], f"{where}, column {c}") for c in value_columns
                      if not _blank(row[c])}
            if not labels and not values:
                raise Invalid(f"{where}: no label or value")
            parsed.append((line, ident, parse_labels(labels), parse_values(values), known))
        except Invalid as exc:
            total += 1
            if len(problems) < MAX_LISTED:
                problems.append(str(exc))

    summary = ImportSummary(rows=len(frame))
    with unit_of_work(engine) as session:
        connection = session.connection()
        decisions = _decisions(connection, key, [p[1] for p in parsed], by_id=id_column is not None)
        rows: list[dict[str, Any]] = []
        seen: set[tuple[str, str]] = set()
        for line, ident, labels, values, known in parsed:
            record = _pick(decisions.get(ident, []), known)
            where = f"{filename} row {line}"
            if record is None:
                total += 1
                if len(problems) < MAX_LISTED:
                    problems.append(f"{where}: no decision of {key!r} with {keyed_by} {_short(ident)}"
                                    + ("" if id_column else f" made by {known.isoformat()}"))
                continue
            if known < record["created_at"]:
                total += 1
                if len(problems) < MAX_LISTED:
                    problems.append(f"{where}, column known_at: {known.isoformat()} is before the decision was made")
                continue
            digest = outcome_hash(labels, values, known)
            if (record["id"], digest) in seen:
                summary.repeated += 1
                continue
            seen.add((record["id"], digest))
            rows.append({"id": new_ulid(), "model_key": key, "decision_id": record["id"],
                         "business_key": record["business_key"], "labels": labels, "values": values,
                         "known_at": known, "received_at": now, "source": f"file:{filename}"[:200], "by": by,
                         "content_hash": digest})
        if problems:
            raise OutcomesInvalid(f"{filename}: {total:,} row(s) refused; nothing was written", problems, total)
        stored = _stored_hashes(connection, [(r["decision_id"], r["content_hash"]) for r in rows])
        fresh = [r for r in rows if (r["decision_id"], r["content_hash"]) not in stored]
        summary.repeated += len(rows) - len(fresh)
        insert_rows(session, OUTCOMES, fresh)
        summary.added = len(fresh)
        summary.decisions = {r["decision_id"] for r in fresh}
    return summary


def _decisions(connection: Connection, key: str, idents: Iterable[str], *, by_id: bool
               ) -> dict[str, list[Mapping[str, Any]]]:
    column = RECORDS.c.id if by_id else RECORDS.c.business_key
    wanted = sorted(set(idents))
    found: dict[str, list[Mapping[str, Any]]] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start:start + 500]
        query = (sa.select(RECORDS.c.id, RECORDS.c.business_key, RECORDS.c.created_at)
                 .where(RECORDS.c.model_key == key, column.in_(chunk), RECORDS.c.shadow_of.is_(None)))
        for row in connection.execute(query).mappings():
            found.setdefault(str(row["id"] if by_id else row["business_key"]), []).append(dict(row))
    return found


def _pick(candidates: Sequence[Mapping[str, Any]], known: datetime) -> Mapping[str, Any] | None:
    """The latest decision made at or before `known` (by id: the one decision)."""
    if len(candidates) == 1:
        return candidates[0]
    made = [c for c in candidates if c["created_at"] <= known]
    return max(made, key=lambda c: (c["created_at"], c["id"])) if made else None


def _stored_hashes(connection: Connection, pairs: Sequence[tuple[str, str]]) -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    ids = sorted({decision for decision, _ in pairs})
    for start in range(0, len(ids), 500):
        query = sa.select(OUTCOMES.c.decision_id, OUTCOMES.c.content_hash).where(
            OUTCOMES.c.decision_id.in_(ids[start:start + 500]))
        found.update((str(a), str(b)) for a, b in connection.execute(query))
    return found


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or (isinstance(value, str)
                                                                                 and not value.strip())


def _cell_text(value: Any, where: str) -> str:
    if _blank(value):
        raise Invalid(f"{where}: empty")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    if len(text) > 200:
        raise Invalid(f"{where}: longer than 200 characters")
    return text


def _cell_time(value: Any, where: str) -> datetime | None:
    if _blank(value):
        return None
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, datetime):
        return value
    try:
        return parse_time(str(value))
    except Invalid:
        raise Invalid(f"{where}: {_short(value)} is not an ISO 8601 date-time") from None


def _cell_bool(value: Any, where: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise Invalid(f"{where}: {_short(value)} is not true or false")


def _cell_number(value: Any, where: str) -> float | int:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        number: Any = value
    else:
        text = str(value).strip()
        if len(text) > 40:
            raise Invalid(f"{where}: not a number")
        try:
            number = int(text) if text.lstrip("+-").isdigit() else float(text)
        except ValueError:
            raise Invalid(f"{where}: {_short(value)} is not a number") from None
    try:
        return _number(number, where)
    except Invalid as exc:
        raise Invalid(str(exc)) from None


def outcomes_for(engine: Engine, key: str, *, as_of: datetime | None = None) -> pd.DataFrame:
    """Each decision's outcome as of `as_of` (default now): [decision_id, known_at, label:<name>...,
    value:<name>...]."""
    as_of = as_of or datetime.now(UTC)
    query = (sa.select(OUTCOMES.c.decision_id, OUTCOMES.c.known_at, OUTCOMES.c.received_at, OUTCOMES.c.id,
                       OUTCOMES.c.labels, OUTCOMES.c["values"])
             .where(OUTCOMES.c.model_key == key, OUTCOMES.c.known_at <= as_of))
    latest: dict[str, tuple[Any, ...]] = {}
    with engine.execution_options(decisionary_read_only=True).connect() as connection:
        for row in connection.execute(query):
            order = (row.known_at, row.received_at, row.id)
            if row.decision_id not in latest or order > latest[row.decision_id][0]:
                latest[row.decision_id] = (order, row[4], row[5])
    records = []
    for decision, (order, labels, values) in latest.items():
        item: dict[str, Any] = {"decision_id": decision, "known_at": order[0]}
        item.update({f"label:{k}": v for k, v in (labels or {}).items()})
        item.update({f"value:{k}": v for k, v in (values or {}).items()})
        records.append(item)
    return pd.DataFrame(records)
