"""CSV batches: rows of inputs in, rows of decisions out.

The header names the model's inputs (or decisions, whose given values stand in for their
logic). Cells are text, read by the type of their column: numbers exactly as decimals,
`true`/`false` for booleans, ISO 8601 for dates, times and durations, JSON for structures and
lists; an empty cell is a missing input (null). A row whose cells cannot be read is refused on
its own (api/batches.py). The answer repeats the input columns and adds `decision_id`, one column
per decision, and `problems` (a refused row: no decision id, and its problem there). Text cells that a spreadsheet would
run as a formula are escaped (`text_cell`).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from api.jsonio import parse_json
from api.problems import ProblemError
from decisions.compiled import Model
from decisions.errors import excerpt
from decisions.feel.values import number_beyond_range
from decisions.itemtypes import builtin_type
from decisions.model import ItemDefinition

STRUCTURED = "structured"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")  # what a spreadsheet may read as a formula
_TEXT_KINDS = {"string", "date", "time", "date and time", "days and time duration",
               "years and months duration", "duration"}


def base_kind(items: dict[str, ItemDefinition], type_ref: str | None, depth: int = 0) -> str:
    """The FEEL kind a column's cells are read as: a builtin type name, `structured`, or `Any`."""
    if not type_ref or depth > 20:
        return "Any"
    kind = builtin_type(type_ref)
    if kind is not None:
        return kind
    item = items.get(type_ref) or items.get(type_ref.split(":", 1)[-1])
    if item is None:
        return "Any"
    if item.components or item.is_collection:
        return STRUCTURED
    return base_kind(items, item.type_ref, depth + 1)


def column_kinds(model: Model) -> dict[str, str]:
    items = {item.name: item for item in model.definitions.item_definitions}
    kinds = {name: base_kind(items, decision.type_ref) for name, decision in model.decisions.items()}
    kinds.update({name: base_kind(items, spec.type_ref) for name, spec in model.inputs.items()})
    return kinds


def read_rows(data: bytes, model: Model, *, max_rows: int) -> tuple[list[str], list[dict[str, Any]],
                                                                   dict[int, ProblemError]]:
    """(header, one dict of inputs per row, the rows that cannot be read by their index: a problem
    naming the line and column of each fault). A fault of the file itself (not UTF-8, no header,
    an unknown column, no rows) is a ProblemError raised for the whole file."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _bad(400, f"the CSV file is not UTF-8 text (byte {exc.start})", "/file") from None
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
        if header is None or not any(cell.strip() for cell in header):
            raise _bad(422, "the CSV file has no header row naming the inputs", "/file")
        header = [cell.strip() for cell in header]
        kinds = column_kinds(model)
        unknown = [name for name in header if name not in kinds]
        if unknown:
            raise ProblemError(422, "the CSV header names columns that are not inputs of the model", errors=[
                {"pointer": "/file/header", "message": f"no input or decision named {name!r}; "
                 f"the inputs are: {', '.join(model.inputs)}"} for name in unknown])
        if len(set(header)) != len(header):
            raise _bad(422, "the CSV header names a column twice", "/file/header")
        rows: list[dict[str, Any]] = []
        refused: dict[int, ProblemError] = {}
        for cells in reader:
            if not any(cell.strip() for cell in cells):
                continue  # blank line
            if len(rows) >= max_rows:
                raise _bad(422, f"the CSV file has more than {max_rows} rows; split it", "/file")
            line = reader.line_num
            if len(cells) != len(header):
                refused[len(rows)] = _bad(422, f"line {line} has {len(cells)} cells for {len(header)} columns",
                                          f"/rows/{len(rows)}")
                rows.append({})
                continue
            row: dict[str, Any] = {}
            errors: list[dict[str, str]] = []
            for name, cell in zip(header, cells, strict=True):
                if cell == "":
                    continue
                try:
                    row[name] = read_cell(cell, kinds[name])
                except ValueError as exc:
                    errors.append({"pointer": f"/rows/{len(rows)}/{_escape(name)}",
                                   "message": f"line {line}, column {name!r}: {exc}"})
            if errors:
                refused[len(rows)] = ProblemError(422, f"line {line} has cells that cannot be read as their "
                                                       "input's type", errors=errors)
            rows.append(row)
    except csv.Error as exc:
        raise _bad(400, f"the CSV file cannot be read at line {reader.line_num}: {exc}", "/file") from None
    if not rows:
        raise _bad(422, "the CSV file has a header but no rows", "/file")
    return header, rows, refused


def read_cell(cell: str, kind: str) -> Any:
    text = cell.strip()
    if kind == "number":
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise ValueError(f"{excerpt(cell)!r} is not a number") from None
        beyond = number_beyond_range(number)
        if beyond:
            raise ValueError(f"{excerpt(cell)!r} {beyond}")
        return number
    if kind == "boolean":
        if text.lower() in ("true", "false"):
            return text.lower() == "true"
        raise ValueError(f"{excerpt(cell)!r} is not true or false")
    if kind in _TEXT_KINDS:
        return cell
    try:
        return parse_json(text)
    except json.JSONDecodeError as exc:
        if kind == "Any":
            return cell  # plain text
        raise ValueError(f"{excerpt(cell)!r} is not JSON ({exc.msg})") from None


def write_rows(header: Sequence[str], rows: Sequence[dict[str, Any]], results: Sequence[dict[str, Any]],
               decision_names: Sequence[str]) -> str:
    """The answer as CSV: the input columns, decision_id, one column per decision, problems."""
    output_columns = [name if name not in header else f"{name} (output)" for name in decision_names]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")  # RFC 4180; and a cell holding \r is then quoted
    writer.writerow([text_cell(name) for name in (*header, "decision_id", *output_columns, "problems")])
    for row, result in zip(rows, results, strict=True):
        error = result.get("error")
        if error is not None:  # a refused row: no decision, its problem in the problems column
            messages = [str(e.get("message", "")) for e in error.get("errors") or []]
            writer.writerow([*(_cell(row.get(name)) for name in header), "", *("" for _ in decision_names),
                             text_cell("; ".join([str(error.get("detail", "")), *messages]))])
            continue
        outputs = result["outputs"]
        problems = "; ".join(str(p.get("message", p)) if isinstance(p, dict) else str(p) for p in result["problems"])
        writer.writerow([*(_cell(row.get(name)) for name in header), result["decision_id"],
                         *(_cell(outputs.get(name)) for name in decision_names), text_cell(problems)])
    return buffer.getvalue()


def text_cell(text: str) -> str:
    """Text as a CSV cell a spreadsheet shows instead of running (OWASP, CSV injection): a cell
    beginning with =, +, -, @, a tab or a carriage return gets a single quote in front."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return text_cell(value)
    if isinstance(value, Decimal):
        return str(value)  # a number, never a formula: -5 stays -5
    if isinstance(value, (int, float)):
        return str(value)
    return text_cell(json.dumps(value, ensure_ascii=False, default=str))


def _escape(name: str) -> str:
    return name.replace("~", "~0").replace("/", "~1")


def _bad(status: int, detail: str, pointer: str) -> ProblemError:
    return ProblemError(status, detail, errors=[{"pointer": pointer, "message": detail}])
