"""The decision log: find decision records by what they decided, how, for whom and what followed.

    page = query_records(engine, key="loan-approval", start=monday, output=("Decision", "Reject"),
                         fired=("Risk Category", "rule-7"), review_outcome="override")
    page.records          # newest first
    page.next_cursor      # None on the last page; else pass it back as `cursor=` with the same filters

Order and paging: newest first by `created_at`, ties broken by id (ULIDs, which sort by time
too). That is the order the indexes (model_key, created_at) and (model_key, version, created_at)
serve, so a page of a key's records within a time range is read straight from an index however
many records the key has. Pages are keyset pages: a cursor holds the last record's place and a
hash of the filters, so it cannot be reused with other filters (a QueryError says so): the
service's one paging mechanism, registry/pages.py.

Filters on JSON (an output's value, a fired rule) run in the database on both backends with
bound parameters only: SQLite's json_each, PostgreSQL's ->, ->> and json_array_elements_text.
`parse_output`, `parse_fired` and `parse_time` read the text forms the API and the CLI take.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from execution.tables import RUN_STATES, TASK_OUTCOMES, ReviewTaskRow, RunRow
from registry.pages import QueryError as QueryError  # the audit modules import it from here
from registry.pages import check_limit, filters_digest, from_micros, make_cursor, micros, read_cursor
from registry.tables import DecisionRecordRow, UTCDateTime
from registry.views import DecisionRecord

RECORDS = DecisionRecordRow.__table__  # type: ignore[attr-defined]
RUNS = RunRow.__table__  # type: ignore[attr-defined]
TASKS = ReviewTaskRow.__table__  # type: ignore[attr-defined]

Scalar = str | int | float | bool | Decimal | None
_RECORD_ID = re.compile(r"^[0-9A-Za-z]{1,64}$")


@dataclass(frozen=True)
class Page:
    records: list[DecisionRecord]
    next_cursor: str | None


# --- text forms -----------------------------------------------------------------------------------

def parse_output(text: str, parameter: str = "output") -> tuple[str, Scalar]:
    """`Decision:Approve` -> ("Decision", "Approve"). The value is read as a JSON scalar when it is
    one (`15000`, `true`, `null`, `"15000"` for the string), else taken as text. The decision name
    ends at the first colon."""
    name, value = _split(text, parameter, "DECISION:VALUE")
    try:
        parsed = json.loads(value, parse_float=Decimal, parse_int=Decimal)
    except ValueError:
        return name, value
    if isinstance(parsed, (list, dict)):
        raise QueryError(parameter, f"the value {value!r} is not a single value (a string, number, "
                                    "true, false or null)")
    return name, parsed


def parse_fired(text: str, parameter: str = "fired") -> tuple[str, str | int]:
    """`Risk Category:rule-7` -> ("Risk Category", "rule-7"), a stable rule id; `Risk Category:7`
    -> ("Risk Category", 7), a rule's position as `fired` holds it."""
    name, rule = _split(text, parameter, "DECISION:RULE")
    return name, int(rule) if rule.isdigit() else rule


def parse_time(text: str, parameter: str) -> datetime:
    """An ISO 8601 date or date-time; without a zone it is UTC, a date alone is its midnight."""
    value = text.strip()
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            return datetime(day.year, day.month, day.day, tzinfo=UTC)
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise QueryError(parameter, f"{text!r} is not an ISO 8601 date or date-time "
                                    "(e.g. 2026-03-01 or 2026-03-01T12:00:00Z)") from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _split(text: str, parameter: str, form: str) -> tuple[str, str]:
    name, colon, rest = text.partition(":")
    if not colon or not name.strip() or not rest.strip():
        raise QueryError(parameter, f"expected {form}, got {text!r}")
    return name.strip(), rest.strip()


# --- the query ------------------------------------------------------------------------------------

def query_records(
    engine: Engine,
    *,
    key: str | None = None,
    version: int | None = None,
    alias: str | None = None,
    arm: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    output: tuple[str, Scalar] | None = None,
    fired: tuple[str, str | int] | None = None,
    caller: str | None = None,
    business_key: str | None = None,
    workflow_state: str | None = None,
    review_outcome: str | None = None,
    include_shadow: bool = False,
    limit: int = 100,
    cursor: str | None = None,
) -> Page:
    """Decision records matching every filter given, newest first, one page of at most `limit`.

    `start` is inclusive and `end` exclusive (aware datetimes). `output` matches records whose
    output of that decision equals the value as JSON scalars (numbers by value: 15000 matches
    15000.0). `fired` matches records where that rule fired: a str is a stable rule id (in
    `fired_ids`), an int a position (in `fired`). `workflow_state`: records with a workflow run in
    that state; `review_outcome`: records with a decided review task with that outcome. Shadow
    versions' records are left out unless `include_shadow`."""
    filters = _check(key=key, version=version, alias=alias, arm=arm, start=start, end=end, output=output,
                     fired=fired, caller=caller, business_key=business_key, workflow_state=workflow_state,
                     review_outcome=review_outcome, include_shadow=include_shadow)
    check_limit(limit)
    digest = filters_digest(filters)
    after = _read_cursor(cursor, digest) if cursor is not None else None
    dialect = engine.dialect.name

    conditions: list[Any] = []
    for column in ("key", "version", "alias", "arm", "caller", "business_key"):
        if filters[column] is not None:
            conditions.append(RECORDS.c["model_key" if column == "key" else column] == filters[column])
    if start is not None:
        conditions.append(RECORDS.c.created_at >= start)
    if end is not None:
        conditions.append(RECORDS.c.created_at < end)
    if not include_shadow:
        # Nearly every record is live. SQLite, without statistics, would take the shadow_of index
        # (meant for finding a record's shadows) for this filter: there it is written so it cannot.
        conditions.append(sa.func.coalesce(RECORDS.c.shadow_of, "") == "" if dialect == "sqlite"
                          else RECORDS.c.shadow_of.is_(None))
    if output is not None:
        conditions.append(_output_condition(dialect, output[0], output[1]))
    if fired is not None:
        conditions.append(_fired_condition(dialect, fired[0], fired[1]))
    if workflow_state is not None:
        conditions.append(sa.exists().where(RUNS.c.decision_id == RECORDS.c.id, RUNS.c.state == workflow_state))
    if review_outcome is not None:
        conditions.append(sa.exists().where(TASKS.c.decision_id == RECORDS.c.id, TASKS.c.state == "decided",
                                            TASKS.c.outcome == review_outcome))
    if after is not None:
        at, last_id = after
        conditions.append(sa.tuple_(RECORDS.c.created_at, RECORDS.c.id)
                          < sa.tuple_(sa.bindparam("after_at", at, type_=UTCDateTime),
                                      sa.bindparam("after_id", last_id, type_=sa.String)))

    newest_first: Any = RECORDS.c.created_at
    if business_key is not None and dialect == "sqlite":
        # The few records of one business key come from (model_key, business_key) and are sorted;
        # SQLite, having no statistics, would rather walk every record of the key in time order.
        newest_first = sa.literal_column("+decision_records.created_at")
    query = (sa.select(RECORDS).where(*conditions)
             .order_by(newest_first.desc(), RECORDS.c.id.desc()).limit(limit + 1))
    with engine.execution_options(decisionary_read_only=True).connect() as connection:
        rows = connection.execute(query).all()
    records = [_record(row) for row in rows[:limit]]
    more = len(rows) > limit
    return Page(records, _make_cursor(records[-1], digest) if more and records else None)


def _check(**filters: Any) -> dict[str, Any]:
    for name in ("key", "alias", "arm", "caller", "business_key"):
        value = filters[name]
        if value is not None and (not isinstance(value, str) or not value or len(value) > 200):
            raise QueryError(name, f"must be text of 1 to 200 characters, got {value!r}")
    version = filters["version"]
    if version is not None and (isinstance(version, bool) or not isinstance(version, int) or version < 1):
        raise QueryError("version", f"must be a version number (1, 2, ...), got {version!r}")
    for name in ("start", "end"):
        value = filters[name]
        if value is not None and (not isinstance(value, datetime) or value.tzinfo is None):
            raise QueryError(name, "must be a date-time with a time zone")
    if filters["start"] is not None and filters["end"] is not None and filters["start"] >= filters["end"]:
        raise QueryError("end", f"must be after start ({filters['start'].isoformat()}), "
                                f"got {filters['end'].isoformat()}")
    output = filters["output"]
    if output is not None:
        if not isinstance(output, tuple) or len(output) != 2 or not isinstance(output[0], str) or not output[0]:
            raise QueryError("output", "expected (decision name, value)")
        if not isinstance(output[1], (str, int, float, Decimal, bool, type(None))):
            raise QueryError("output", f"the value must be a string, number, boolean or null, got {output[1]!r}")
        if isinstance(output[1], (int, float, Decimal)) and not isinstance(output[1], bool):
            number = Decimal(str(output[1]))
            if not number.is_finite() or abs(number.adjusted()) > 300:
                raise QueryError("output", f"the value must be a finite number of at most 300 digits, "
                                           f"got {output[1]!r}")
    fired = filters["fired"]
    if fired is not None:
        if (not isinstance(fired, tuple) or len(fired) != 2 or not isinstance(fired[0], str) or not fired[0]
                or isinstance(fired[1], bool) or not isinstance(fired[1], (str, int)) or fired[1] == ""):
            raise QueryError("fired", "expected (decision name, rule id or position)")
        if isinstance(fired[1], int) and fired[1] < 1:
            raise QueryError("fired", f"a rule position counts from 1, got {fired[1]}")
    if filters["workflow_state"] is not None and filters["workflow_state"] not in RUN_STATES:
        raise QueryError("workflow_state", f"must be one of {', '.join(RUN_STATES)}, "
                                           f"got {filters['workflow_state']!r}")
    if filters["review_outcome"] is not None and filters["review_outcome"] not in TASK_OUTCOMES:
        raise QueryError("review_outcome", f"must be one of {', '.join(TASK_OUTCOMES)}, "
                                           f"got {filters['review_outcome']!r}")
    return filters


# --- JSON filters, per database -------------------------------------------------------------------

def _kind(value: Scalar) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, Decimal)):
        return "number"
    return "string"


def _output_condition(dialect: str, name: str, value: Scalar) -> Any:
    kind = _kind(value)
    params: dict[str, Any] = {"out_name": name}
    if dialect == "postgresql":
        field = "decision_records.outputs -> CAST(:out_name AS TEXT)"
        text = "decision_records.outputs ->> CAST(:out_name AS TEXT)"
        if kind == "string":
            sql = f"json_typeof({field}) = 'string' AND {text} = CAST(:out_value AS TEXT)"
            params["out_value"] = value
        elif kind == "number":
            sql = (f"CASE WHEN json_typeof({field}) = 'number' THEN CAST({text} AS NUMERIC) END "
                   "= CAST(:out_value AS NUMERIC)")
            params["out_value"] = str(Decimal(str(value)))
        elif kind == "null":
            sql = f"json_typeof({field}) = 'null'"
        else:
            sql = f"json_typeof({field}) = 'boolean' AND {text} = '{kind}'"
        return sa.text(f"({sql})").bindparams(**params)
    # SQLite: json_each walks the outputs object, so any decision name works without a JSON path.
    if kind == "string":
        match = "o.type = 'text' AND o.value = :out_value"
        params["out_value"] = value
    elif kind == "number":
        match = "o.type IN ('integer', 'real') AND o.value = :out_value"
        number = Decimal(str(value))
        params["out_value"] = int(number) if number == number.to_integral_value() else float(number)
    else:
        match = f"o.type = '{kind}'"
    return sa.text("EXISTS (SELECT 1 FROM json_each(decision_records.outputs) AS o "
                   f"WHERE o.key = :out_name AND {match})").bindparams(**params)


def _fired_condition(dialect: str, name: str, rule: str | int) -> Any:
    column = "fired" if isinstance(rule, int) else "fired_ids"
    params: dict[str, Any] = {"fired_name": name, "fired_rule": str(rule) if dialect == "postgresql" else rule}
    if dialect == "postgresql":
        field = f"decision_records.{column} -> CAST(:fired_name AS TEXT)"
        return sa.text(
            "EXISTS (SELECT 1 FROM json_array_elements_text("
            f"CASE WHEN json_typeof({field}) = 'array' THEN {field} END) AS r(v) "
            "WHERE r.v = CAST(:fired_rule AS TEXT))").bindparams(**params)
    rule_type = "r.type = 'integer'" if isinstance(rule, int) else "r.type = 'text'"
    return sa.text(
        f"EXISTS (SELECT 1 FROM json_each(decision_records.{column}) AS d, "
        "json_each(CASE WHEN d.type = 'array' THEN d.value ELSE '[]' END) AS r "
        f"WHERE d.key = :fired_name AND {rule_type} AND r.value = :fired_rule)").bindparams(**params)


# --- cursors (registry/pages.py) -------------------------------------------------------------------

def _make_cursor(last: DecisionRecord, digest: str) -> str:
    return make_cursor((micros(last.created_at), last.id), digest)


def _read_cursor(cursor: str, digest: str) -> tuple[datetime, str]:
    at, last_id = read_cursor(cursor, digest, (int, str))
    if not _RECORD_ID.match(last_id):
        raise QueryError("cursor", "not a cursor given by this query")
    try:
        return from_micros(at), last_id
    except (ValueError, OverflowError, OSError):
        raise QueryError("cursor", "not a cursor given by this query") from None


def _record(row: Any) -> DecisionRecord:
    return DecisionRecord(row.id, row.model_key, row.version, row.content_hash, row.alias, row.inputs, row.outputs,
                          row.fired, row.problems, row.latency_us, row.caller, row.idempotency_key,
                          row.request_hash, row.created_at, row.fired_ids, row.business_key, row.arm,
                          row.shadow_of, row.reasons, row.chain_id, row.chain_seq, row.record_hash)

